from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from shareguard.config import get_settings

# SQLite and PostgreSQL databases for every test that needs the store.
pytest_plugins = ["db_fixtures"]


@pytest.fixture(autouse=True)
def shareguard_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets its own data directory (and so its own secret key)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SHAREGUARD_HOME", str(home))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
    structlog.reset_defaults()  # the CLI configures logging; don't leak it into other tests
