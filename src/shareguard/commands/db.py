"""``shareguard db``: database schema management."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from shareguard.config import get_settings
from shareguard.store.db import (
    StoreError,
    brief_error,
    current_revision,
    describe,
    head_revision,
    make_engine,
    upgrade,
)

app = typer.Typer(help="Manage the ShareGuard database.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@app.command("upgrade")
def upgrade_cmd() -> None:
    """Create or migrate the database to the current schema (safe to repeat)."""
    engine = make_engine(get_settings())
    try:
        upgrade(engine)
        out.print(f"{describe(engine)} is at schema {current_revision(engine)}")
    except (SQLAlchemyError, StoreError) as exc:
        err.print(f"[bold red]error:[/] cannot migrate {describe(engine)}: {brief_error(exc)}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


@app.command("current")
def current_cmd() -> None:
    """Show the database's schema revision; exit 1 if it needs an upgrade."""
    engine = make_engine(get_settings())
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        err.print(f"[bold red]error:[/] cannot open {describe(engine)}: {brief_error(exc)}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    head = head_revision()
    out.print(f"{describe(engine)}: schema {current or 'none'} (current is {head})")
    if current != head:
        raise typer.Exit(1)
