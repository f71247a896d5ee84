"""``shareguard datasets``: register the organisation's own people (HR
master, patient list ...) for exact data match."""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from shareguard.commands.common import Format, fail, open_engine
from shareguard.config import get_settings
from shareguard.detect.edm import COLUMN_TYPES, explain, infer_column_types
from shareguard.errors import ShareGuardError
from shareguard.model import FileReport
from shareguard.store.datasets import DatasetInfo, DatasetStore

app = typer.Typer(
    help="Register datasets of your own people, so that scans name exactly who is in a file.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)

_XLSX = (".xlsx", ".xlsm", ".xls", ".ods")


def read_table(path: Path, sheet: str | None = None) -> pl.DataFrame:
    """A CSV or spreadsheet as string columns, the first row the header."""
    if not path.is_file():
        raise ShareGuardError(f"{path}: no such file")
    if path.suffix.lower() in _XLSX:
        return _read_sheet(path, sheet)
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ShareGuardError(f"{path}: cannot read as CSV ({first[:200]})") from None
    return frame.with_columns(pl.all().fill_null(""))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 1234.0 from a spreadsheet is the number 1234
    if isinstance(value, datetime | date):
        return (
            value.isoformat()[:10]
            if not isinstance(value, datetime) or not (value.hour or value.minute or value.second)
            else value.isoformat()
        )
    return str(value)


def _read_sheet(path: Path, sheet: str | None) -> pl.DataFrame:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        data = (book.get_sheet_by_name(sheet) if sheet else book.get_sheet_by_index(0)).to_python()
    except Exception as exc:  # calamine raises its own types for every kind of damage
        raise ShareGuardError(
            f"{path}: cannot read as a spreadsheet ({type(exc).__name__})"
        ) from None
    if not data:
        raise ShareGuardError(f"{path}: the sheet is empty")
    header = [_cell(h).strip() or f"column {i + 1}" for i, h in enumerate(data[0])]
    width = len(header)
    rows = [[_cell(v) for v in r[:width]] + [""] * (width - len(r)) for r in data[1:]]
    return pl.DataFrame(rows, schema=dict.fromkeys(header, pl.String), orient="row")


def _parse_columns(items: list[str], frame: pl.DataFrame) -> dict[str, str]:
    out_: dict[str, str] = {}
    for item in items:
        col, eq, kind = item.rpartition("=")
        if not eq or not col:
            raise ShareGuardError(f"--columns {item!r}: expected COLUMN=TYPE")
        kind = kind.strip().upper()
        if kind not in (*COLUMN_TYPES, "IGNORE"):
            known = ", ".join((*COLUMN_TYPES, "IGNORE"))
            raise ShareGuardError(f"--columns {item!r}: unknown type {kind!r} (one of {known})")
        if col not in frame.columns:
            raise ShareGuardError(f"--columns {item!r}: no column {col!r} in the file")
        out_[col] = kind
    return out_


def _mapping(frame: pl.DataFrame, key: str, given: list[str], group: str | None) -> dict[str, str]:
    if key not in frame.columns:
        raise ShareGuardError(
            f"--key {key!r}: no such column (columns: {', '.join(frame.columns)})"
        )
    if group is not None and group not in frame.columns:
        raise ShareGuardError(f"--group {group!r}: no such column")
    explicit = _parse_columns(given, frame)
    inferred = infer_column_types(frame.columns, frame.head(200).rows())
    merged = {**inferred, **explicit}
    return {c: t for c, t in merged.items() if t != "IGNORE" and c not in (key, group)}


def _show_mapping(
    frame: pl.DataFrame, key: str, columns: dict[str, str], group: str | None
) -> None:
    table = Table(title=f"{frame.height} rows: what each column will be matched as")
    table.add_column("column")
    table.add_column("type")
    for col in frame.columns:
        if col == key:
            kind = "KEY (unique, shown to people entitled to see matches)"
        elif col == group:
            kind = "group (encrypted, shown with matches)"
        else:
            kind = columns.get(col, "- (not used)")
        table.add_row(col, kind)
    out.print(table)


def _confirm(yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise fail("confirm the column types with --yes (no terminal to ask on)")
    if not typer.confirm("Register with these column types?"):
        raise typer.Exit(1)


def _store() -> DatasetStore:
    settings = get_settings()
    return DatasetStore(open_engine(settings, migrate=True), settings.secret_key_bytes())


def _print_info(info: DatasetInfo, fmt: Format, seconds: float | None = None) -> None:
    if fmt is Format.json:
        sys.stdout.write(json.dumps(info.as_dict(), indent=2) + "\n")
        return
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    out.print(
        f"[bold]{info.name}[/] version {info.version}: {info.rows} people{took}; "
        f"key {info.key!r}" + (f", group {info.group!r}" if info.group else "")
    )
    out.print("  matched on: " + ", ".join(info.fields))


@app.command()
def register(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. hr-master")],
    file: Annotated[Path, typer.Argument(help="CSV or spreadsheet, first row the header")],
    key: Annotated[str, typer.Option(help="The column that identifies a person uniquely")],
    columns: Annotated[
        list[str] | None,
        typer.Option("--columns", help="COLUMN=TYPE, to set or correct an inferred type"),
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="A column shown with matches, e.g. department")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="Spreadsheet sheet (default: first)")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm")] = False,
    by: Annotated[str, typer.Option(help="Who registers it (recorded)")] = "cli",
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Register a dataset: column types are inferred from headers and values."""
    try:
        frame = read_table(file, sheet)
        mapping = _mapping(frame, key, columns or [], group)
        if fmt is Format.table:
            _show_mapping(frame, key, mapping, group)
        _confirm(yes)
        start = time.perf_counter()
        info = _store().register(name, frame, key=key, columns=mapping, group=group, by=by)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    _print_info(info, fmt, time.perf_counter() - start)


@app.command()
def refresh(
    name: Annotated[str, typer.Argument(help="A registered dataset")],
    file: Annotated[Path, typer.Argument(help="The new CSV or spreadsheet")],
    sheet: Annotated[str | None, typer.Option(help="Spreadsheet sheet (default: first)")] = None,
    by: Annotated[str, typer.Option(help="Who refreshes it (recorded)")] = "cli",
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Replace a dataset's people with a new extract (same columns), atomically."""
    try:
        frame = read_table(file, sheet)
        start = time.perf_counter()
        info = _store().refresh(name, frame, by=by)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    _print_info(info, fmt, time.perf_counter() - start)


@app.command("list")
def list_(fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table) -> None:
    """Registered datasets."""
    items = _store().list()
    if fmt is Format.json:
        sys.stdout.write(json.dumps([i.as_dict() for i in items], indent=2) + "\n")
        return
    table = Table(title=f"{len(items)} dataset(s)")
    for col in ("name", "version", "people", "key", "matched on", "updated"):
        table.add_column(col, overflow="fold")
    for i in items:
        table.add_row(
            i.name,
            str(i.version),
            str(i.rows),
            i.key,
            ", ".join(i.fields),
            i.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="A registered dataset")],
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """One dataset: its columns and what they are matched as."""
    try:
        info = _store().show(name)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    if fmt is Format.json:
        sys.stdout.write(json.dumps(info.as_dict(), indent=2) + "\n")
        return
    _print_info(info, fmt)
    table = Table()
    table.add_column("column")
    table.add_column("type")
    for col, kind in info.columns.items():
        table.add_row(col, kind)
    out.print(table)


@app.command()
def drop(
    name: Annotated[str, typer.Argument(help="A registered dataset")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm")] = False,
) -> None:
    """Forget a dataset: its people are no longer matched or resolvable."""
    if not yes:
        if not sys.stdin.isatty():
            raise fail("confirm with --yes (no terminal to ask on)")
        if not typer.confirm(f"Drop dataset {name!r}?"):
            raise typer.Exit(1)
    try:
        _store().drop(name)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    out.print(f"dropped {name}")


def write_subjects(path: Path, reports: Iterable[FileReport]) -> int:
    """The registered people present in ``reports``, as CSV (dataset, key,
    group, matched field types, files), for someone entitled to see them.
    The file holds personal data: it is written readable by its owner only."""
    found: dict[str, tuple[str, set[str], set[str]]] = {}
    for top in reports:
        for part in top.walk():
            for m in part.registered_matches():
                if m.present and m.ref is not None:
                    slot = found.setdefault(m.ref, (m.dataset, set(), set()))
                    slot[1].update(m.fields)
                    slot[2].add(part.path)
    people = {}
    if found:  # nobody found: no need for the store (there may be none)
        settings = get_settings()
        store = DatasetStore(open_engine(settings), settings.secret_key_bytes())
        people = store.resolve(found)
    order = sorted(people.values(), key=lambda p: (p.dataset, p.key))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["dataset", "key", "group", "matched", "ref", "files"])
        for p in order:
            _, fields, paths = found[p.ref]
            w.writerow(
                [
                    p.dataset,
                    p.key,
                    p.group or "",
                    explain(_ordered(fields)),
                    p.ref,
                    " | ".join(sorted(paths)),
                ]
            )
    return len(order)


def _ordered(fields: set[str]) -> list[str]:
    return sorted(fields, key=lambda f: (COLUMN_TYPES.index(f) if f in COLUMN_TYPES else 99, f))
