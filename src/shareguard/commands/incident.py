"""``shareguard incident``: breach response — the incident register, the
72-hour clock, affected people, severity, the regulator's report, letters
and the recipient's deletion.  Every step is an audit record."""

from __future__ import annotations

import csv
import getpass
import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shareguard.breach.clock import DEFAULT_ZONE, parse_when
from shareguard.breach.incidents import Incidents
from shareguard.breach.model import Incident
from shareguard.commands.common import Format, fail, open_engine
from shareguard.config import get_settings
from shareguard.errors import ShareGuardError

app = typer.Typer(help="Respond to a personal data breach.", no_args_is_help=True)
deletion = typer.Typer(help="Ask the recipient to delete the data and track their attestation.")
app.add_typer(deletion, name="deletion")
out = Console(soft_wrap=True)

ByOption = Annotated[
    str | None, typer.Option("--by", help="Who does this (default: $USER@localhost)")
]
ZoneOption = Annotated[str, typer.Option("--tz", help="Zone for times given without an offset")]
FormatOption = Annotated[Format, typer.Option("--format", "-f")]


class ListFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _by(by: str | None) -> str:
    return by or f"{getpass.getuser()}@localhost"


def _service(*, migrate: bool = False) -> Incidents:
    settings = get_settings()
    return Incidents(open_engine(settings, migrate=migrate), settings)


def _json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _run(step: Any) -> Any:
    try:
        return step()
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{exc.filename or ''}: {exc.strerror}") from None


def _show(incident: Incident) -> None:
    d = incident.as_dict()
    clock = d["clock"]
    out.print(f"[bold]Incident {d['id']}[/] {d['title']} — {d['status']}")
    out.print(f"  owner: {d['owner']}   route: {d['route']}   records: {d['records']}")
    out.print(f"  occurred {d['occurred_at']}, discovered {d['discovered_at']}")
    out.print(
        f"  72-hour clock: {clock['state']}, deadline {clock['deadline']} ({clock['time_left']})"
    )
    if d["reported_at"]:
        out.print(f"  reported {d['reported_at']} (reference {d['regulator_reference']})")
    if d["not_reported_reason"]:
        out.print(f"  not reported: {d['not_reported_reason']}")
    deletion_state = d["deletion"]
    if deletion_state["status"]:
        out.print(
            f"  deletion: {deletion_state['status']} (due {deletion_state['due_at']}"
            + (
                f", attested by {deletion_state['attested_by']}"
                if deletion_state["attested_by"]
                else ""
            )
            + ")"
        )
    out.print(f"  next step: {d['next_step']}")


@app.command("open")
def open_(
    title: Annotated[str, typer.Option("--title", help="A short title (no personal data)")],
    occurred: Annotated[str, typer.Option("--occurred", help="When it happened (ISO 8601)")],
    discovered: Annotated[
        str, typer.Option("--discovered", help="When you became aware: starts the 72-hour clock")
    ],
    record: Annotated[
        list[int] | None,
        typer.Option("--record", help="Audit record of the disclosure (repeatable)"),
    ] = None,
    files: Annotated[
        list[Path] | None,
        typer.Option("--files", help="A file that left by another route (repeatable)"),
    ] = None,
    recipient: Annotated[
        str | None, typer.Option("--recipient", help="Whom the files went to")
    ] = None,
    sender: Annotated[str | None, typer.Option("--from", help="Who sent the files")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Who leads the response")] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", help="Contact point for the regulator and letters")
    ] = None,
    description: Annotated[str | None, typer.Option("--description", help="What happened")] = None,
    tz: ZoneOption = DEFAULT_ZONE,
    by: ByOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Open an incident from recorded disclosures (--record) or from files
    that left by another route (--files --recipient); prints its id."""
    from shareguard.disclosure import Outgoing

    def step() -> Incident:
        outgoing = [Outgoing(str(p), p.read_bytes()) for p in files or []]
        return _service(migrate=True).open(
            title,
            occurred=parse_when(occurred, tz),
            discovered=parse_when(discovered, tz),
            by=_by(by),
            records=record or [],
            files=outgoing,
            recipient=recipient,
            sender=sender,
            owner=owner,
            contact=contact,
            description=description,
            time_zone=tz,
        )

    incident = _run(step)
    if fmt is Format.json:
        _json(incident.as_dict())
    else:
        out.print(f"opened incident {incident.id}")
        _show(incident)


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help="open, reported, not_reported or closed")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The breach register: every incident, reported or not (Art 33(5))."""
    items = _run(lambda: _service().list(status))
    now = datetime.now(UTC)
    if fmt is Format.json:
        _json([i.as_dict(now) for i in items])
        return
    table = Table(title=f"{len(items)} incident(s)")
    for col in ("id", "status", "title", "owner", "72-hour clock", "deletion", "next step"):
        table.add_column(col, overflow="fold")
    for i in items:
        d = i.as_dict(now)
        clock = d["clock"]
        note = d["not_reported_reason"]
        table.add_row(
            str(i.id),
            i.status + (f" ({note})" if note else ""),
            i.title,
            i.owner or "-",
            f"{clock['state']}: {clock['time_left']}"
            if clock["state"] in ("running", "overdue")
            else clock["state"],
            d["deletion"]["status"] or "-",
            d["next_step"],
        )
    out.print(table)


@app.command()
def show(incident_id: Annotated[str, typer.Argument()], fmt: FormatOption = Format.table) -> None:
    """One incident: status, the 72-hour clock, owner, next step."""
    incident = _run(lambda: _service().get(incident_id))
    if fmt is Format.json:
        _json(incident.as_dict())
    else:
        _show(incident)


@app.command()
def timeline(
    incident_id: Annotated[str, typer.Argument()], fmt: FormatOption = Format.table
) -> None:
    """How it happened: sends, checks, approvals (or their absence), the response."""
    service = _service()
    incident = _run(lambda: service.get(incident_id))
    events = _run(lambda: service.timeline(incident.id))
    if fmt is Format.json:
        _json([e.as_dict(incident.time_zone) for e in events])
        return
    table = Table(title=f"incident {incident.id}: timeline")
    for col in ("when", "what", "by", "record"):
        table.add_column(col, overflow="fold")
    for e in events:
        d = e.as_dict(incident.time_zone)
        table.add_row(d["at"], f"[bold]{e.kind}[/] {e.what}", e.actor, str(e.record_id or ""))
    out.print(table)


@app.command()
def affected(
    incident_id: Annotated[str, typer.Argument()],
    fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.table,
    by: ByOption = None,
) -> None:
    """The exact list of affected people (keys shown on your terminal only)."""
    result = _run(lambda: _service().affected(incident_id, by=_by(by)))
    if fmt is ListFormat.json:
        _json(result.as_dict())
        return
    if fmt is ListFormat.csv:
        w = csv.writer(sys.stdout)
        w.writerow(["dataset", "group", "key", "categories", "special_category", "special"])
        for p in result.people:
            w.writerow(
                [
                    p.dataset,
                    p.group or "",
                    p.key or "",
                    ";".join(p.categories),
                    "yes" if p.special else "no",
                    ";".join(p.special),
                ]
            )
        return
    table = Table(title=f"{result.registered} registered people affected")
    for col in ("dataset", "group", "key", "their data", "special category"):
        table.add_column(col, overflow="fold")
    for p in result.people:
        table.add_row(
            p.dataset,
            p.group or "-",
            p.key or f"(unresolved {p.ref})",
            ", ".join(p.categories),
            ", ".join(p.special) or "no",
        )
    out.print(table)
    counts = result.counts()
    out.print(f"by category: {counts['by_category']}")
    out.print(f"by group: {counts['by_group']}")
    for p in result.pattern_only:
        out.print(f"found by pattern only: {p.people} people in {p.where} (record {p.record_id})")
    out.print(
        f"total: {result.total} people ({result.registered} registered, "
        f"{result.pattern_only_total} by pattern only)"
    )


@app.command()
def severity(
    incident_id: Annotated[str, typer.Argument()],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override FACTOR=VALUE (repeatable)")
    ] = None,
    why: Annotated[str | None, typer.Option("--why", help="Justification of the override")] = None,
    by: ByOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """ENISA severity (SE = DPC × EI + CB), each factor explained, and whether
    to tell the regulator and the people."""
    service = _service()
    if set_:
        if not why:
            raise fail("an override needs a justification (--why)")
        for item in set_:
            factor, sep, value = item.partition("=")
            if not sep:
                raise fail(f"--set {item!r}: write FACTOR=VALUE, e.g. ei=significant")
            result = _run(
                lambda f=factor, v=value: service.set_factor(
                    incident_id, f.strip(), v, why=why, by=_by(by)
                )
            )
    else:
        result = _run(lambda: service.severity(incident_id))
    if fmt is Format.json:
        _json(result.as_dict())
        return
    table = Table(title=f"severity {result.score:g}: {result.band}")
    for col in ("factor", "value", "score", "why", "overridden by"):
        table.add_column(col, overflow="fold")
    for f in result.factors:
        table.add_row(f.name, f.value, f"{f.score:g}", f.why, f.overridden_by or "-")
    out.print(table)
    out.print(f"DPC {result.dpc:g} × EI {result.ei:g} + CB {result.cb:g} = {result.score:g}")
    out.print(
        f"tell the regulator: {'yes' if result.notify_regulator else 'no'}; "
        f"tell the people: {'yes' if result.notify_people else 'no'}"
    )
    for line in result.reasoning:
        out.print(f"  - {line}")


@app.command()
def report(
    incident_id: Annotated[str, typer.Argument()],
    output: Annotated[Path, typer.Option("-o", "--output", help="FILE.docx, FILE.md or FILE.pdf")],
    follow_up: Annotated[
        bool, typer.Option("--follow-up", help="A follow-up, not the initial report")
    ] = False,
    law_enforcement: Annotated[
        bool, typer.Option("--law-enforcement", help="DPA 2018 Part 3 (ss.67-68) variant")
    ] = False,
    by: ByOption = None,
) -> None:
    """Draft the report to the Information Commissioner from the facts."""
    path = _run(
        lambda: _service().report(
            incident_id, output, by=_by(by), follow_up=follow_up, law_enforcement=law_enforcement
        )
    )
    out.print(f"wrote {path}")


@app.command()
def letters(
    incident_id: Annotated[str, typer.Argument()],
    people: Annotated[Path, typer.Option("--people", help="CSV of names and addresses (not kept)")],
    key: Annotated[str, typer.Option("--key", help="The column holding the registered key")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the letters")],
    template: Annotated[
        Path | None, typer.Option("--template", help="A Jinja2 letter template")
    ] = None,
    formats: Annotated[str, typer.Option("--format", help="docx, pdf or docx,pdf")] = "docx",
    organisation: Annotated[str, typer.Option("--organisation", help="Who signs")] = (
        "The Data Protection Officer"
    ),
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Processes")] = 1,
    by: ByOption = None,
) -> None:
    """One letter per affected person plus a CSV for the mailing house."""
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    result = _run(
        lambda: _service().letters(
            incident_id,
            people,
            key,
            output,
            by=_by(by),
            formats=chosen,
            template=template,
            organisation=organisation,
            jobs=jobs,
        )
    )
    out.print(
        f"wrote {result.letters} letter(s) to {result.out_dir}; mailing list {result.mailing_csv}"
    )
    if result.missing_addresses:
        out.print(
            f"[yellow]{result.missing_addresses} affected people are not in {people}[/] "
            "(listed in missing-addresses.csv)"
        )


@deletion.callback(invoke_without_command=False)
def deletion_group(ctx: typer.Context, incident_id: Annotated[str, typer.Argument()]) -> None:
    ctx.obj = incident_id


@deletion.command("request")
def deletion_request(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="FILE.docx, FILE.md or FILE.pdf")],
    due_days: Annotated[int, typer.Option("--due-days", min=1, help="Days to reply")] = 14,
    by: ByOption = None,
) -> None:
    """Write the deletion request with the attestation form; the incident
    shows the deletion as requested (overdue after the due date)."""
    incident = _run(
        lambda: _service().deletion_request(ctx.obj, output, by=_by(by), due_days=due_days)
    )
    out.print(
        f"wrote {output}; deletion {incident.deletion.status(datetime.now(UTC))}, "
        f"due {incident.as_dict()['deletion']['due_at']}"
    )


@deletion.command("attest")
def deletion_attest(
    ctx: typer.Context,
    attested_by: Annotated[str, typer.Option("--by", help="Who attested the deletion")],
    date: Annotated[str, typer.Option("--date", help="When the deletion was attested")],
    evidence: Annotated[
        Path | None, typer.Option("--evidence", help="The signed attestation")
    ] = None,
    tz: ZoneOption = DEFAULT_ZONE,
    recorded_by: Annotated[str | None, typer.Option("--recorded-by", help="Who records it")] = None,
) -> None:
    """Record the recipient's attestation that they deleted the data."""
    incident = _run(
        lambda: _service().attest(
            ctx.obj,
            attested_by=attested_by,
            date=parse_when(date, tz),
            by=_by(recorded_by),
            evidence=evidence,
        )
    )
    out.print(f"incident {incident.id}: deletion attested by {attested_by}")


@app.command()
def reported(
    incident_id: Annotated[str, typer.Argument()],
    at: Annotated[str, typer.Option("--at", help="When the report was made")],
    reference: Annotated[
        str | None, typer.Option("--reference", help="The regulator's reference")
    ] = None,
    late_reason: Annotated[
        str | None, typer.Option("--late-reason", help="Why after 72 hours")
    ] = None,
    tz: ZoneOption = DEFAULT_ZONE,
    by: ByOption = None,
) -> None:
    """Record that the breach was reported to the regulator."""
    incident = _run(
        lambda: _service().mark_reported(
            incident_id,
            at=parse_when(at, tz),
            by=_by(by),
            reference=reference,
            late_reason=late_reason,
        )
    )
    _show(incident)


@app.command("not-reported")
def not_reported(
    incident_id: Annotated[str, typer.Argument()],
    why: Annotated[
        str, typer.Option("--why", help="Why it is not reported (kept in the register)")
    ],
    by: ByOption = None,
) -> None:
    """Record that the breach is not reported, and why (Art 33(5))."""
    _show(_run(lambda: _service().mark_not_reported(incident_id, why=why, by=_by(by))))


@app.command()
def people(
    incident_id: Annotated[str, typer.Argument()],
    told: Annotated[str | None, typer.Option("--told", help="When the people were told")] = None,
    restrict: Annotated[
        str | None,
        typer.Option("--restrict", help="Reason for delaying or restricting telling them"),
    ] = None,
    ground: Annotated[
        str | None, typer.Option("--ground", help="DPA 2018 s.68(7) ground: a, b, c, d or e")
    ] = None,
    tz: ZoneOption = DEFAULT_ZONE,
    by: ByOption = None,
) -> None:
    """Record that the people were told, or why telling them is delayed or restricted."""
    service = _service()
    if (told is None) == (restrict is None):
        raise fail("give --told WHEN or --restrict REASON")
    if told is not None:
        incident = _run(
            lambda: service.people_told(incident_id, at=parse_when(told, tz), by=_by(by))
        )
    else:
        incident = _run(
            lambda: service.restrict_people(
                incident_id, why=restrict or "", ground=ground, by=_by(by)
            )
        )
    _show(incident)


@app.command("others-told")
def others_told(
    incident_id: Annotated[str, typer.Argument()],
    who: Annotated[str, typer.Option("--who", help="Who else has been told (police, insurers...)")],
    by: ByOption = None,
) -> None:
    """Record who else has been told."""
    _show(_run(lambda: _service().others_told(incident_id, who=who, by=_by(by))))


@app.command()
def close(incident_id: Annotated[str, typer.Argument()], by: ByOption = None) -> None:
    """Close an incident (after recording whether it was reported)."""
    _show(_run(lambda: _service().close(incident_id, by=_by(by))))
