"""Engines, sessions and migrations.

SQLite (the default, ``HOME/shareguard.db``) runs in WAL mode with foreign
keys on and a busy timeout; a connection given the execution option
``sqlite_immediate=True`` starts its transactions with ``BEGIN IMMEDIATE``,
which is how writers that must not interleave (audit appends, migrations)
take SQLite's single write lock up front instead of failing half-way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shareguard.config import Settings, get_settings
from shareguard.errors import ShareGuardError

if TYPE_CHECKING:
    from alembic.config import Config

SQLITE_BUSY_MS = 60_000
# Arbitrary constant identifying ShareGuard's migration lock among advisory locks.
PG_MIGRATION_LOCK = 0x5347_0001


class StoreError(ShareGuardError):
    """The database cannot be reached, is not migrated, or refused a write."""


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    home = settings.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'shareguard.db'}"


def make_engine(settings: Settings | None = None, *, url: str | None = None) -> Engine:
    """An engine for ``url``, else for the settings' database."""
    url = url or database_url(settings or get_settings())
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Driver autocommit, so that the BEGIN below is the only one issued.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        # FULL, not WAL's usual NORMAL: a committed audit record must
        # survive a power cut, not only stay consistent.
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the database's write lock from its first
    statement on SQLite; on PostgreSQL an ordinary transaction (callers lock
    rows or advisory locks as they need)."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session committed on success and rolled back on error.  ``write``
    takes the write lock up front (see :func:`write_transaction`)."""
    if write:
        with write_transaction(engine) as conn, Session(bind=conn) as session:
            yield session
            session.flush()
        return
    with Session(engine) as session, session.begin():
        yield session


def _alembic_config(conn: Connection) -> Config:
    # Alembic is imported where it is used: a scan that only reads the
    # store (the match index) need not load it.
    from alembic.config import Config

    # Alembic needs a real directory; the package is always installed
    # unzipped (src layout, wheel), so the module's own path is one.
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def _as_engine(target: Settings | Engine | None) -> tuple[Engine, bool]:
    if isinstance(target, Engine):
        return target, False
    return make_engine(target), True


def upgrade(target: Settings | Engine | None = None, revision: str = "heads") -> None:
    """Migrate the database to ``revision``.  Safe to run from several
    processes at once: they queue on a lock and the later ones find nothing
    to do."""
    from alembic import command

    engine, owned = _as_engine(target)
    try:
        with write_transaction(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
            command.upgrade(_alembic_config(conn), revision)
    finally:
        if owned:
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The schema revision(s) of the database, comma-separated when the
    migration graph has several heads."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def open_store(settings: Settings | None = None, *, migrate: bool = False) -> Engine:
    """An engine on the settings' database, migrated first if ``migrate``,
    else checked to be at the current schema (a clear error if not)."""
    engine = make_engine(settings)
    try:
        if migrate:
            upgrade(engine)
            return engine
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open the database {describe(engine)}: {brief_error(exc)}"
        ) from None
    if current != head_revision():
        engine.dispose()
        raise StoreError(
            f"the database {describe(engine)} is at schema {current or 'none'}, "
            f"not {head_revision()}: run `shareguard db upgrade`"
        )
    return engine


def describe(engine: Engine) -> str:
    """The engine's URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def brief_error(exc: Exception) -> str:
    # The driver's message, first line only: it names the server or file,
    # never row data (statements and parameters are left out).
    orig = getattr(exc, "orig", None)
    text_ = str(orig) if orig is not None else exc.__class__.__name__
    return text_.strip().splitlines()[0] if text_.strip() else exc.__class__.__name__


def head_revision() -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    return ",".join(sorted(heads)) or None
