from __future__ import annotations

import pytest
from breach_builders import clear_incidents
from sqlalchemy import Engine

from shareguard.breach.incidents import Incidents
from shareguard.config import get_settings


@pytest.fixture
def store(engine: Engine) -> Engine:
    clear_incidents(engine)
    return engine


@pytest.fixture
def service(store: Engine) -> Incidents:
    return Incidents(store, get_settings())
