"""``shareguard approvals``: the queue of held disclosures."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shareguard.approvals import Approvals
from shareguard.commands.common import Format, fail, open_engine
from shareguard.config import get_settings
from shareguard.errors import ShareGuardError
from shareguard.store.approvals import Approval, ApprovalStore

app = typer.Typer(help="Review held disclosures: approve, reject, release.", no_args_is_help=True)
out = Console(soft_wrap=True)


def _as_json(a: Approval) -> dict[str, Any]:
    return {
        "id": a.id,
        "status": a.status,
        "sender": a.sender,
        "recipients": list(a.recipients),
        "agreement": a.agreement_id,
        "agreement_version": a.agreement_version,
        "check_record": a.record_id,
        "created_at": a.created_at.isoformat(),
        "decided_by": a.decided_by,
        "decided_at": a.decided_at.isoformat() if a.decided_at else None,
        "reason": a.reason,
        "summary": a.summary,
    }


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help="held, approved, rejected or released (default: held)")
    ] = "held",
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Held items, oldest first."""
    items = ApprovalStore(open_engine(get_settings())).list(status=status or None)
    if fmt is Format.json:
        sys.stdout.write(json.dumps([_as_json(a) for a in items], indent=2) + "\n")
        return
    table = Table(title=f"{len(items)} item(s)")
    for col in ("id", "age", "sender", "to", "people", "reason held"):
        table.add_column(col, overflow="fold")
    now = datetime.now(UTC)
    for a in items:
        held = a.summary.get("held_for", {})
        reasons = held.get("reasons") or ["-"]
        age = now - a.created_at
        table.add_row(
            a.id,
            f"{age.days}d {age.seconds // 3600}h",
            a.sender,
            ", ".join(a.recipients),
            str(a.summary.get("data_subjects", "-")),
            reasons[0],
        )
    out.print(table)


@app.command()
def show(
    approval_id: Annotated[str, typer.Argument(help="The approval reference")],
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """One held item: what was found, why it was held, who decided."""
    item = ApprovalStore(open_engine(get_settings())).get(approval_id)
    if item is None:
        raise fail(f"no held item {approval_id}")
    data = _as_json(item)
    if fmt is Format.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    out.print(
        f"[bold]{item.id}[/] {item.status} — from {item.sender} to {', '.join(item.recipients)}"
    )
    if item.agreement_id:
        out.print(f"agreement {item.agreement_id} version {item.agreement_version}")
    for f in item.summary.get("files", []):
        out.print(f"  {f['name']}: {f['data_subjects']} people, {f['entities']}")
    for reason in item.summary.get("held_for", {}).get("reasons", []):
        out.print(f"  - {reason}")
    if item.decided_by:
        out.print(f"decided by {item.decided_by}: {item.reason}")


def _decide(approval_id: str, *, approve: bool, by: str, reason: str) -> None:
    settings = get_settings()
    try:
        done = Approvals(open_engine(settings), settings.secret_key_bytes()).decide(
            approval_id, approve=approve, by=by, reason=reason
        )
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    out.print(f"{done.id}: {done.status} by {done.decided_by}")


@app.command()
def approve(
    approval_id: Annotated[str, typer.Argument()],
    by: Annotated[str, typer.Option("--by", help="Who approves (not the sender)")],
    reason: Annotated[str, typer.Option("--reason", help="Why; goes into the audit record")],
) -> None:
    """Approve a held item (four-eyes: not by its sender)."""
    _decide(approval_id, approve=True, by=by, reason=reason)


@app.command()
def reject(
    approval_id: Annotated[str, typer.Argument()],
    by: Annotated[str, typer.Option("--by", help="Who rejects (not the sender)")],
    reason: Annotated[str, typer.Option("--reason", help="Why; the sender is told")],
) -> None:
    """Reject a held item."""
    _decide(approval_id, approve=False, by=by, reason=reason)


@app.command()
def release(
    approval_id: Annotated[str, typer.Argument()],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the original files to")],
    by: Annotated[str, typer.Option("--by", help="Who releases")],
) -> None:
    """Write an approved item's original files out of the quarantine (recorded)."""
    settings = get_settings()
    try:
        files = Approvals(open_engine(settings), settings.secret_key_bytes()).release(
            approval_id, by=by
        )
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        target = out_dir / Path(name).name
        target.write_bytes(content)
        out.print(f"released {target}")
