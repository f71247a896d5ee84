from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table, inspect

from shareguard.config import get_settings
from shareguard.store.db import current_revision, head_revision, make_engine, upgrade
from shareguard.store.models import Base


def _diff(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))


def test_migrations_match_the_model(db_url: str) -> None:
    engine = make_engine(url=db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert head_revision() is not None
    assert _diff(engine, Base.metadata) == []
    # The comparison does see differences (so the empty diff means something).
    extra = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(extra)
    Table("not_migrated", extra, Column("id", Integer, primary_key=True))
    assert _diff(engine, extra) != []
    engine.dispose()


def test_upgrade_is_idempotent_and_seeds_the_head(db_url: str) -> None:
    engine = make_engine(url=db_url)
    upgrade(engine)
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"audit_records", "audit_head", "audit_subjects", "approvals"} <= tables
    from shareguard.store.audit import AuditLog

    assert AuditLog(engine).verify().ok
    engine.dispose()


def test_default_database_is_sqlite_in_home_with_wal(shareguard_home: object) -> None:
    settings = get_settings()
    upgrade(settings)
    engine = make_engine(settings)
    assert engine.url.database == str(settings.home.resolve() / "shareguard.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_database_url_setting_selects_postgresql(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHAREGUARD_DATABASE_URL", pg_url)
    get_settings.cache_clear()
    upgrade(get_settings())
    engine = make_engine(get_settings())
    assert engine.dialect.name == "postgresql"
    assert current_revision(engine) == head_revision()
    engine.dispose()
