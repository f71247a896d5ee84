"""Incidents for the DPO: the breach register with the 72-hour countdown,
one incident's affected-people counts by category, severity with
overrides, timeline, status steps, and its documents to download.

Everything goes through :class:`shareguard.breach.incidents.Incidents` (the
service the ``shareguard incident`` commands use), imported when first
needed so that the rest of the portal never depends on it.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from shareguard.errors import ShareGuardError
from shareguard.web.portal import Portal, page, portal_of, session_of
from shareguard.web.security import wants_json

if TYPE_CHECKING:
    from shareguard.breach.incidents import Incidents

router = APIRouter()

DOC_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
_RECORD_IDS = re.compile(r"\d+")


def _service(portal: Portal) -> Incidents:
    from shareguard.breach.incidents import Incidents

    return Incidents(portal.engine, portal.settings)


def _when(text: str, zone_name: str, field: str) -> datetime:
    """A time typed into a form (``YYYY-MM-DDTHH:MM``, local to the zone)."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ShareGuardError(f"unknown time zone {zone_name!r}") from None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ShareGuardError(f"{field}: write the time as YYYY-MM-DD HH:MM") from None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


@router.get("/incidents")
@router.get("/incidents.json")
async def register(request: Request) -> Response:
    portal = portal_of(request)
    incidents = await run_in_threadpool(lambda: _service(portal).list())
    now = datetime.now(UTC)
    return page(
        request,
        "incidents.html",
        {"incidents": [i.as_dict(now) for i in incidents], "error": None},
    )


@router.post("/incidents")
@router.post("/incidents.json")
async def open_incident(
    request: Request,
    title: Annotated[str, Form(max_length=200)],
    records: Annotated[str, Form(max_length=2000)],
    occurred: Annotated[str, Form(max_length=40)],
    discovered: Annotated[str, Form(max_length=40)],
    time_zone: Annotated[str, Form(max_length=64)] = "Europe/London",
    description: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    portal = portal_of(request)
    by = session_of(request).user.email

    def run() -> Any:
        ids = [int(n) for n in _RECORD_IDS.findall(records)]
        return _service(portal).open(
            title,
            occurred=_when(occurred, time_zone, "occurred"),
            discovered=_when(discovered, time_zone, "discovered"),
            by=by,
            records=ids,
            description=description.strip() or None,
            time_zone=time_zone,
        )

    try:
        incident = await run_in_threadpool(run)
    except ShareGuardError as exc:
        listed = await run_in_threadpool(lambda: _service(portal).list())
        now = datetime.now(UTC)
        return page(
            request,
            "incidents.html",
            {"incidents": [i.as_dict(now) for i in listed], "error": str(exc)},
            status=400,
        )
    if wants_json(request):
        return page(request, "incidents.html", {"incident": incident.as_dict()})
    return RedirectResponse(f"/incidents/{incident.id}", status_code=303)


def _detail(portal: Portal, incident_id: str, by: str) -> dict[str, Any]:
    service = _service(portal)
    incident = service.get(incident_id)
    affected = service.affected(incident.id, by=by)
    severity = service.severity(incident.id)
    counts = affected.counts()
    return {
        "incident": incident.as_dict(),
        "affected": {
            "counts": {
                k: counts[k]
                for k in ("registered", "pattern_only", "total", "special_category_people")
            },
            "by_category": affected.by_category(),
        },
        "severity": severity.as_dict(),
        "timeline": [e.as_dict(incident.time_zone) for e in service.timeline(incident.id)],
    }


async def _detail_page(
    request: Request,
    incident_id: str,
    *,
    error: str | None = None,
    message: str | None = None,
) -> Response:
    portal = portal_of(request)
    by = session_of(request).user.email
    try:
        data = await run_in_threadpool(_detail, portal, incident_id, by)
    except ShareGuardError as exc:
        return page(request, "error.html", {"status": 404, "detail": str(exc)}, status=404)
    from shareguard.breach.severity import FACTORS

    return page(
        request,
        "incident.html",
        {**data, "error": error, "message": message},
        status=400 if error else 200,
        html_only={"factors": FACTORS, "doc_types": list(DOC_TYPES)},
    )


@router.get("/incidents/{incident_id}")
@router.get("/incidents/{incident_id}.json")
async def incident(request: Request, incident_id: str) -> Response:
    return await _detail_page(request, incident_id)


@router.post("/incidents/{incident_id}/factor")
async def set_factor(
    request: Request,
    incident_id: str,
    factor: Annotated[str, Form(max_length=32)],
    value: Annotated[str, Form(max_length=32)],
    why: Annotated[str, Form(max_length=4000)],
) -> Response:
    portal = portal_of(request)
    by = session_of(request).user.email
    try:
        await run_in_threadpool(
            lambda: _service(portal).set_factor(incident_id, factor, value, why=why, by=by)
        )
    except ShareGuardError as exc:
        return await _detail_page(request, incident_id, error=str(exc))
    return await _detail_page(request, incident_id, message=f"{factor} set to {value}.")


@router.post("/incidents/{incident_id}/status")
async def set_status(
    request: Request,
    incident_id: str,
    step: Annotated[Literal["reported", "not_reported", "close"], Form()],
    at: Annotated[str, Form(max_length=40)] = "",
    reference: Annotated[str, Form(max_length=128)] = "",
    late_reason: Annotated[str, Form(max_length=4000)] = "",
    why: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    portal = portal_of(request)
    by = session_of(request).user.email

    def run() -> None:
        service = _service(portal)
        current = service.get(incident_id)
        if step == "reported":
            when = _when(at, current.time_zone, "reported at") if at.strip() else datetime.now(UTC)
            service.mark_reported(
                current.id,
                at=when,
                by=by,
                reference=reference.strip() or None,
                late_reason=late_reason.strip() or None,
            )
        elif step == "not_reported":
            service.mark_not_reported(current.id, why=why, by=by)
        else:
            service.close(current.id, by=by)

    try:
        await run_in_threadpool(run)
    except ShareGuardError as exc:
        return await _detail_page(request, incident_id, error=str(exc))
    return await _detail_page(request, incident_id, message="Recorded.")


@router.post("/incidents/{incident_id}/documents")
async def document(
    request: Request,
    incident_id: str,
    kind: Annotated[Literal["report", "follow_up", "deletion"], Form()],
    fmt: Annotated[Literal["md", "docx", "pdf"], Form(alias="format")] = "docx",
) -> Response:
    """Draft the regulator's report (or follow-up) or the deletion request;
    the deletion request also starts the recipient's deletion clock."""
    portal = portal_of(request)
    by = session_of(request).user.email

    def run() -> tuple[bytes, str]:
        service = _service(portal)
        current = service.get(incident_id)
        with tempfile.TemporaryDirectory(prefix="sg-incident-") as tmp:
            name = f"INC-{current.id}-{kind.replace('_', '-')}.{fmt}"
            path = Path(tmp) / name
            if kind == "deletion":
                service.deletion_request(current.id, path, by=by)
            else:
                path = service.report(current.id, path, by=by, follow_up=kind == "follow_up")
            return path.read_bytes(), name

    try:
        content, name = await run_in_threadpool(run)
    except ShareGuardError as exc:
        return await _detail_page(request, incident_id, error=str(exc))
    return Response(
        content,
        media_type=DOC_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
