"""Store fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL is expected at 127.0.0.1:5432 (user postgres, trust auth), as on
the development and CI machines; if it is down the PostgreSQL tests fail
with a clear message rather than being skipped.  Databases are named
``sg_test_<random>`` and dropped afterwards: ``pg_url`` is a fresh empty one
per test (for migration tests); ``engine`` shares one migrated database per
run and empties it before each test, which is much faster.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from shareguard.store.db import make_engine, upgrade
from shareguard.store.models import GENESIS_HASH

PG_ADMIN_URL = os.environ.get(
    "SHAREGUARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]
DATA_TABLES = (
    "approvals",
    "quarantine_items",
    "audit_subjects",
    "audit_recipients",
    "audit_records",
    "agreement_versions",
)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} (the store tests need it; "
            f"start it or set SHAREGUARD_TEST_PG_URL): {exc.__class__.__name__}",
            pytrace=False,
        )
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin: Engine) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    name = _create_db(pg_admin)
    try:
        yield _url_of(name)
    finally:
        _drop_db(pg_admin, name)


def _create_db(admin: Engine) -> str:
    name = f"sg_test_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return name


def _drop_db(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _url_of(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_shared_url(pg_admin: Engine) -> Iterator[str]:
    """One migrated PostgreSQL database for the whole run."""
    name = _create_db(pg_admin)
    try:
        url = _url_of(name)
        eng = make_engine(url=url)
        upgrade(eng)
        eng.dispose()
        yield url
    finally:
        _drop_db(pg_admin, name)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend, not yet migrated."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shareguard.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        eng = make_engine(url=f"sqlite:///{tmp_path / 'shareguard.db'}")
        upgrade(eng)
    else:
        eng = make_engine(url=request.getfixturevalue("pg_shared_url"))
        with eng.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(DATA_TABLES)}"))
            conn.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": GENESIS_HASH})
    yield eng
    eng.dispose()
