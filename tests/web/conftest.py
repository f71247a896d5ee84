"""Portal fixtures: an app on the test database, users of every role, and a
client that signs in and sends the CSRF token like a browser would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import PASSWORD, WEB_TABLES, address, sign_in
from sqlalchemy import Engine, text

from shareguard.config import get_settings
from shareguard.web import auth
from shareguard.web.app import create_app
from shareguard.web.auth import ROLES, UserStore


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes ~0.5 s a hash here: tests use the
    cheapest parameters (the same code paths, a different cost)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("dummy"))


@pytest.fixture
def web_engine(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The test database (SQLite or PostgreSQL) as the service's, emptied of
    the portal's own tables (the shared PostgreSQL database keeps them)."""
    monkeypatch.setenv("SHAREGUARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    with engine.begin() as conn:
        for table in WEB_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
    return engine


@pytest.fixture
def app(web_engine: Engine) -> FastAPI:
    application = create_app(get_settings())
    users = UserStore(web_engine)
    for role in ROLES:
        users.add(role, role, PASSWORD, email=address(role))
    return application


@pytest.fixture
def clients(app: FastAPI) -> Iterator[dict[str | None, TestClient]]:
    """One signed-in client per role, and None: anonymous."""
    made: dict[str | None, TestClient] = {role: sign_in(app, role) for role in ROLES}
    made[None] = sign_in(app, None)
    yield made
    for c in made.values():
        c.close()
