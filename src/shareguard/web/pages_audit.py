"""The audit trail for the DPO: search and filter, page by page (keyset on
``seq``), chain status, CSV export.

Searches are POSTed: senders' and recipients' addresses are personal data
and stay out of URLs (and so out of proxy logs and browser history).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from shareguard.store.audit import AuditFilter, AuditLog, AuditRecord, payload_recipients
from shareguard.web.portal import page, portal_of

router = APIRouter()

PAGE_SIZE = 50
CSV_MAX_ROWS = 1_000_000
CSV_BATCH = 1000
DECISIONS = ("allow", "minimise", "hold", "block", "approved", "rejected", "released", "requested")
CSV_COLUMNS = (
    "seq",
    "ts",
    "kind",
    "actor",
    "sender",
    "recipients",
    "decision",
    "agreements",
    "files",
    "data_subjects",
    "hash",
)


def _day(value: str, field: str, errors: list[str]) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"{field}: write the date as YYYY-MM-DD")
        return None


def _filter(
    sender: str, recipient: str, since: str, until: str, decision: str, agreement: str, kind: str
) -> tuple[AuditFilter, dict[str, str], list[str]]:
    errors: list[str] = []
    start, end = _day(since, "from", errors), _day(until, "to", errors)
    where = AuditFilter(
        recipient=recipient.strip() or None,
        sender=sender.strip() or None,
        since=datetime.combine(start, time(), UTC) if start else None,
        # "to" is the last day shown, so the filter ends at the next midnight
        until=datetime.combine(end + timedelta(days=1), time(), UTC) if end else None,
        decision=decision.strip() or None,
        kind=kind.strip() or None,
        agreement=agreement.strip() or None,
    )
    form = {
        "sender": sender,
        "recipient": recipient,
        "since": since,
        "until": until,
        "decision": decision,
        "agreement": agreement,
        "kind": kind,
    }
    return where, form, errors


def _agreements(payload: dict[str, Any]) -> list[str]:
    found = {
        (r.get("agreement") or {}).get("id")
        for r in payload.get("per_recipient") or []
        if isinstance(r, dict) and isinstance(r.get("agreement"), dict)
    }
    if isinstance(payload.get("agreement"), str):
        found.add(payload["agreement"])
    return sorted(a for a in found if a)


def record_row(rec: AuditRecord) -> dict[str, Any]:
    p = rec.payload
    return {
        "seq": rec.seq,
        "ts": rec.ts,
        "kind": rec.kind,
        "actor": rec.actor,
        "sender": p.get("sender"),
        "recipients": payload_recipients(p),
        "decision": p.get("decision"),
        "agreements": _agreements(p),
        "files": [f.get("name") for f in p.get("files") or [] if isinstance(f, dict)],
        "data_subjects": p.get("data_subjects"),
        "hash": rec.hash,
    }


def _search(request: Request, where: AuditFilter, before: int | None) -> dict[str, Any]:
    log = AuditLog(portal_of(request).engine)
    found = log.search(where, before=before, limit=PAGE_SIZE)
    count = log.count(where)
    return {
        "records": [record_row(r) for r in found.records],
        "next_before": found.next_before,
        "total": count.total,
        "total_exact": count.exact,
    }


def _audit_page(
    request: Request,
    where: AuditFilter,
    form: dict[str, str],
    errors: list[str],
    before: int | None,
) -> Response:
    data: dict[str, Any] = {"records": [], "next_before": None, "total": 0, "total_exact": True}
    if not errors:
        data = _search(request, where, before)
    return page(
        request,
        "audit.html",
        {**data, "errors": errors, "filters": form},
        status=400 if errors else 200,
        html_only={"decisions": DECISIONS},
    )


@router.get("/audit")
@router.get("/audit.json")
async def audit(request: Request, before: int | None = None) -> Response:
    where, form, errors = _filter("", "", "", "", "", "", "")
    return await run_in_threadpool(_audit_page, request, where, form, errors, before)


Text = Annotated[str, Form(max_length=320)]


@router.post("/audit")
@router.post("/audit.json")
async def audit_search(
    request: Request,
    sender: Text = "",
    recipient: Text = "",
    since: Text = "",
    until: Text = "",
    decision: Text = "",
    agreement: Text = "",
    kind: Text = "",
    before: Annotated[int | None, Form()] = None,
) -> Response:
    where, form, errors = _filter(sender, recipient, since, until, decision, agreement, kind)
    return await run_in_threadpool(_audit_page, request, where, form, errors, before)


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_rows(log: AuditLog, where: AuditFilter) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    before: int | None = None
    written = 0
    while written < CSV_MAX_ROWS:
        found = log.search(where, before=before, limit=CSV_BATCH)
        for rec in found.records:
            row = record_row(rec)
            cells = [
                row["seq"],
                row["ts"].isoformat(),
                row["kind"],
                row["actor"],
                row["sender"],
                " ".join(row["recipients"]),
                row["decision"],
                " ".join(row["agreements"]),
                " ".join(str(f) for f in row["files"]),
                row["data_subjects"],
                row["hash"],
            ]
            writer.writerow([_cell(c) for c in cells])
        written += len(found.records)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if found.next_before is None:
            return
        before = found.next_before


@router.post("/audit.csv")
def audit_csv(
    request: Request,
    sender: Text = "",
    recipient: Text = "",
    since: Text = "",
    until: Text = "",
    decision: Text = "",
    agreement: Text = "",
    kind: Text = "",
) -> Response:
    where, _, errors = _filter(sender, recipient, since, until, decision, agreement, kind)
    if errors:
        return Response("\n".join(errors) + "\n", status_code=400, media_type="text/plain")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        _csv_rows(AuditLog(portal_of(request).engine), where),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


@router.get("/audit/verify")
@router.get("/audit/verify.json")
async def verify(request: Request) -> Response:
    check = await run_in_threadpool(AuditLog(portal_of(request).engine).verify)
    return page(
        request,
        "audit_verify.html",
        {
            "ok": check.ok,
            "checked": check.checked,
            "first_bad_seq": check.first_bad_seq,
            "reason": check.reason,
            "head_hash": check.head_hash,
        },
    )
