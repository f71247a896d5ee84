"""``shareguard audit``: verify, list and show the audit record."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from shareguard.commands.common import Format, fail, open_engine
from shareguard.config import get_settings
from shareguard.store.audit import AuditLog, payload_recipients
from shareguard.store.db import brief_error

app = typer.Typer(help="Verify and search the tamper-evident audit record.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _open() -> Engine:
    return open_engine(get_settings())


def _fail(exc: Exception) -> typer.Exit:
    return fail(brief_error(exc))


def _when(value: str | None, *, end: bool) -> datetime | None:
    """A date (whole day: from its start, or up to its end) or an ISO time;
    without a zone, UTC."""
    if not value:
        return None
    try:
        if len(value) == 10:
            start = datetime.combine(date.fromisoformat(value), time(), UTC)
            return start + timedelta(days=1) if end else start
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or ISO time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command()
def verify(
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Check the whole hash chain.

    Exit status: 0 intact; 1 broken (the first broken record is named); 2 error.
    """
    engine = _open()
    try:
        check = AuditLog(engine).verify()
    except SQLAlchemyError as exc:
        raise _fail(exc) from None
    finally:
        engine.dispose()
    if fmt is Format.json:
        sys.stdout.write(
            json.dumps(
                {
                    "ok": check.ok,
                    "checked": check.checked,
                    "first_bad_seq": check.first_bad_seq,
                    "reason": check.reason,
                    "head_hash": check.head_hash,
                }
            )
            + "\n"
        )
    elif check.ok:
        out.print(
            f"[bold green]audit chain intact:[/] {check.checked} record(s), head {check.head_hash}"
        )
    else:
        out.print(
            f"[bold red]audit chain broken at record {check.first_bad_seq}:[/] {check.reason} "
            f"({check.checked} record(s) before it are intact)"
        )
    if not check.ok:
        raise typer.Exit(1)


@app.command("list")
def list_cmd(
    recipient: Annotated[
        str | None, typer.Option(help="exact address, or @domain for a whole domain")
    ] = None,
    sender: Annotated[str | None, typer.Option()] = None,
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD or ISO time (inclusive)")] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD (inclusive) or ISO time")] = None,
    decision: Annotated[str | None, typer.Option(help="allow, minimise, hold or block")] = None,
    kind: Annotated[str | None, typer.Option(help="check, approval, release, ...")] = None,
    agreement: Annotated[
        str | None, typer.Option(help="agreement id a recipient was decided under")
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """List audit records, newest first."""
    start, end = _when(since, end=False), _when(until, end=True)
    engine = _open()
    try:
        records = AuditLog(engine).list(
            recipient=recipient,
            sender=sender,
            since=start,
            until=end,
            decision=decision,
            kind=kind,
            limit=limit,
            agreement=agreement,
        )
    except SQLAlchemyError as exc:
        raise _fail(exc) from None
    finally:
        engine.dispose()
    if fmt is Format.json:
        sys.stdout.write(json.dumps([r.to_json() for r in records]) + "\n")
        return
    table = Table(title="ShareGuard audit record", title_justify="left")
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("time (UTC)", no_wrap=True)
    for col in ("kind", "actor", "sender", "recipients", "decision"):
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(
            str(r.seq),
            r.ts.strftime("%Y-%m-%d %H:%M:%S"),
            r.kind,
            r.actor,
            str(r.payload.get("sender") or ""),
            ", ".join(payload_recipients(r.payload)),
            str(r.payload.get("decision") or ""),
        )
    out.print(table)
    out.print(f"{len(records)} record(s); `shareguard audit show SEQ` for one in full")


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="record id (its sequence number)")],
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Show one audit record in full."""
    engine = _open()
    try:
        rec = AuditLog(engine).get(ref)
    except SQLAlchemyError as exc:
        raise _fail(exc) from None
    finally:
        engine.dispose()
    if rec is None:
        err.print(f"[bold red]error:[/] no audit record {ref}")
        raise typer.Exit(2)
    data: dict[str, Any] = rec.to_json()
    if fmt is Format.json:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    for key in ("seq", "ts", "kind", "actor", "subject_count", "prev_hash", "hash"):
        out.print(f"[bold]{key}:[/] {data[key]}")
    out.print("[bold]payload:[/]")
    out.print_json(json.dumps(rec.payload))
