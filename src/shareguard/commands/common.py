"""What the sub-commands share: output formats, errors, opening the store."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich.console import Console
from sqlalchemy import Engine

from shareguard.config import Settings
from shareguard.store.db import StoreError, open_store

err = Console(stderr=True, soft_wrap=True)

EXIT_ERROR = 2


class Format(StrEnum):
    table = "table"
    json = "json"


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(EXIT_ERROR)


def open_engine(settings: Settings, *, migrate: bool = False) -> Engine:
    """The store.  Commands that write a disclosure migrate an embedded
    database on first use; the rest say to run `shareguard db upgrade`."""
    try:
        return open_store(settings, migrate=migrate)
    except StoreError as exc:
        raise fail(str(exc)) from None
