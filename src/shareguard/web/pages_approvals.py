"""The approvers' queue: held items with their reasons, agreement, people
count and a masked preview; approve or reject with a reason (four-eyes is
enforced by :class:`shareguard.approvals.Approvals`)."""

from __future__ import annotations

import io
import zipfile
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from shareguard.errors import ShareGuardError
from shareguard.pipeline import scan_bytes
from shareguard.store.approvals import Approval, ApprovalStore
from shareguard.store.audit import AuditFilter, AuditLog
from shareguard.store.quarantine import Quarantine
from shareguard.web import submissions
from shareguard.web.portal import Portal, page, portal_of, session_of

router = APIRouter()
log = structlog.get_logger("shareguard.web")

PREVIEW_FINDINGS = 25
PREVIEW_MAX_BYTES = 20 * 1024 * 1024
RECENT_DECIDED = 20


def masked_preview(portal: Portal, item: Approval) -> list[dict[str, Any]]:
    """The first findings of the held files, masked (``AB ** ** ** C``), from
    a fresh scan of the quarantined original."""
    if item.quarantine_id is None:
        return []
    quarantine = Quarantine(portal.engine, portal.settings.secret_key_bytes())
    try:
        if int(quarantine.meta(item.quarantine_id)["size"]) > PREVIEW_MAX_BYTES:
            return []  # too big to scan again on every view: counts and reasons only
        bundle = quarantine.get(item.quarantine_id)
    except ShareGuardError:
        return []
    out: list[dict[str, Any]] = []
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        for name in z.namelist():
            report = scan_bytes(z.read(name), name, portal.settings, portal.scanner)
            for part in report.walk():
                for f in part.findings:
                    out.append(
                        {"type": f.type, "preview": f.preview, "where": f.location.as_dict()}
                    )
                    if len(out) >= PREVIEW_FINDINGS:
                        return out
    return out


def _recently_decided(portal: Portal) -> list[dict[str, Any]]:
    """The newest decisions, from their audit records (indexed by kind),
    so the page does not read every item ever held."""
    log = AuditLog(portal.engine)
    records = [
        rec
        for kind in ("approval", "rejection")
        for rec in log.search(AuditFilter(kind=kind), limit=RECENT_DECIDED).records
    ]
    records.sort(key=lambda rec: rec.seq, reverse=True)
    return [
        {
            "id": rec.payload.get("approval_id"),
            "sender": rec.payload.get("sender"),
            "recipients": rec.payload.get("recipients") or [],
            "status": rec.payload.get("decision"),
            "decided_by": rec.actor,
            "decided_at": rec.ts,
            "decision_reason": rec.payload.get("reason"),
        }
        for rec in records[:RECENT_DECIDED]
    ]


def _queue(portal: Portal) -> dict[str, Any]:
    asked = submissions.requests(portal)
    held = ApprovalStore(portal.engine).list(status="held")
    return {
        "held": [submissions.item_json(a, asked.get(a.id)) for a in held],
        "decided": _recently_decided(portal),
    }


@router.get("/approvals")
@router.get("/approvals.json")
def queue(request: Request) -> Response:
    return page(request, "approvals.html", _queue(portal_of(request)))


def _detail(portal: Portal, approval_id: str) -> dict[str, Any]:
    item = ApprovalStore(portal.engine).get(approval_id)
    if item is None:
        raise HTTPException(404, "no held item with that reference")
    asked = submissions.requests(portal, item.sender).get(item.id)
    return {
        "item": submissions.item_json(item, asked),
        "preview": masked_preview(portal, item) if item.status == "held" else [],
    }


@router.get("/approvals/{approval_id}")
@router.get("/approvals/{approval_id}.json")
async def detail(request: Request, approval_id: str) -> Response:
    data = await run_in_threadpool(_detail, portal_of(request), approval_id.removesuffix(".json"))
    return page(request, "approval.html", {**data, "error": None})


@router.post("/approvals/{approval_id}/decide")
async def decide(
    request: Request,
    approval_id: str,
    decision: Annotated[Literal["approve", "reject"], Form()],
    reason: Annotated[str, Form(max_length=4000)],
) -> Response:
    portal = portal_of(request)
    user = session_of(request).user
    try:
        done = await run_in_threadpool(
            portal.approvals.decide,
            approval_id,
            approve=decision == "approve",
            by=user.email,
            reason=reason,
        )
    except ShareGuardError as exc:
        # The refusal (four-eyes, already decided, agreement changed) says why.
        data = await run_in_threadpool(_detail, portal, approval_id)
        return page(request, "approval.html", {**data, "error": str(exc)}, status=409)
    log.info("web.approval_decided", approval_id=approval_id, status=done.status)
    data = await run_in_threadpool(_detail, portal, approval_id)
    return page(
        request,
        "approval.html",
        {**data, "error": None, "message": f"Item {done.status}."},
    )
