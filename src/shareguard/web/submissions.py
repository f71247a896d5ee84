"""A sender's held items and recent checks, and their requests for approval.

A request for approval is an audit record (kind ``approval_request``) holding
the sender's justification: the request is part of the account of the
disclosure, and approvers read it from there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shareguard.errors import ShareGuardError
from shareguard.store.approvals import Approval, ApprovalStore
from shareguard.store.audit import AuditLog
from shareguard.store.db import StoreError
from shareguard.web.portal import Portal

REQUEST_KIND = "approval_request"
RECENT_CHECKS = 20
# Requests read back for the queue; older ones belong to long-decided items.
REQUESTS_SCANNED = 2000


class RequestRefused(ShareGuardError):
    """The approval request is not possible; the message says why."""


def requests(portal: Portal, sender: str | None = None) -> dict[str, dict[str, Any]]:
    """approval id -> {justification, at} of requests (newest wins)."""
    found: dict[str, dict[str, Any]] = {}
    for rec in AuditLog(portal.engine).list(
        kind=REQUEST_KIND, sender=sender, limit=REQUESTS_SCANNED
    ):
        aid = rec.payload.get("approval_id")
        if isinstance(aid, str) and aid not in found:
            found[aid] = {"justification": rec.payload.get("justification"), "at": rec.ts}
    return found


def age_text(since: datetime, now: datetime | None = None) -> str:
    delta = (now or datetime.now(UTC)) - since
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    if hours >= 1:
        return f"{hours} h"
    return f"{max(int(delta.total_seconds() // 60), 0)} min"


def item_json(a: Approval, requested: dict[str, Any] | None) -> dict[str, Any]:
    held = a.summary.get("held_for") or {}
    return {
        "id": a.id,
        "status": a.status,
        "sender": a.sender,
        "recipients": list(a.recipients),
        "agreement": a.agreement_id,
        "agreement_version": a.agreement_version,
        "check_record": a.record_id,
        "data_subjects": a.summary.get("data_subjects"),
        "entities": a.summary.get("entities") or {},
        "special_category": a.summary.get("special_category") or [],
        "files": [f.get("name") for f in a.summary.get("files") or []],
        "reasons": held.get("reasons") or [],
        "created_at": a.created_at,
        "age": age_text(a.created_at),
        "decided_by": a.decided_by,
        "decided_at": a.decided_at,
        "decision_reason": a.reason,
        "requested": requested is not None,
        "justification": (requested or {}).get("justification"),
    }


def of_sender(portal: Portal, sender: str) -> dict[str, Any]:
    sender = sender.strip().lower()
    asked = requests(portal, sender)
    items = ApprovalStore(portal.engine).list(sender=sender)
    items.reverse()  # newest first
    checks = AuditLog(portal.engine).list(sender=sender, kind="check", limit=RECENT_CHECKS)
    return {
        "items": [item_json(a, asked.get(a.id)) for a in items],
        "checks": [
            {
                "record_id": c.seq,
                "ts": c.ts,
                "decision": c.payload.get("decision"),
                "recipients": c.payload.get("recipients") or [],
                "files": [f.get("name") for f in c.payload.get("files") or []],
                "data_subjects": c.payload.get("data_subjects"),
            }
            for c in checks
        ],
    }


def request_approval(portal: Portal, approval_id: str, sender: str, justification: str) -> None:
    item = ApprovalStore(portal.engine).get(approval_id)
    if item is None or item.sender != sender.strip().lower():
        raise RequestRefused("there is no held item of yours with that reference")
    if item.status != "held":
        raise RequestRefused(f"this item is already {item.status}")
    if not justification.strip():
        raise RequestRefused("say why this should be sent: the approver reads it")
    if approval_id in requests(portal, sender):
        raise RequestRefused("approval was already requested for this item")
    try:
        AuditLog(portal.engine).append(
            REQUEST_KIND,
            sender,
            {
                "approval_id": approval_id,
                "check_record": item.record_id,
                "sender": item.sender,
                "recipients": list(item.recipients),
                "decision": "requested",
                "justification": justification.strip(),
            },
        )
    except StoreError:
        raise RequestRefused(
            "the reason looks like it holds personal data (an identifier): describe the "
            "need without it"
        ) from None
