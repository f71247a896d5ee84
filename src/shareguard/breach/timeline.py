"""How it was allowed to happen: the incident's disclosures and everything
the audit trail says around them — the checks, the holds, who approved or
released what, and what was skipped — then the response itself."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from shareguard.breach.model import TimelineEvent
from shareguard.store.approvals import ApprovalStore
from shareguard.store.audit import AuditLog, AuditRecord, payload_recipients

# The kinds of record the response writes (see incidents.py).
INCIDENT_KINDS = (
    "incident.open",
    "incident.files",
    "incident.affected",
    "incident.severity",
    "incident.report",
    "incident.letters",
    "incident.deletion",
    "incident.attest",
    "incident.status",
)
_FOLLOW_UPS = ("approval", "rejection", "release")
_RECENT = 1000  # earlier records to the same recipient searched for the same files


def _names(payload: dict[str, Any]) -> str:
    return ", ".join(str(f.get("name")) for f in payload.get("files") or []) or "no files"


def _agreements(payload: dict[str, Any]) -> str:
    parts = []
    for r in payload.get("per_recipient") or []:
        agreement = r.get("agreement")
        under = (
            f"agreement {agreement['id']} v{agreement['version']}" if agreement else "no agreement"
        )
        parts.append(f"{r.get('address')}: {r.get('decision')} ({under})")
    return "; ".join(parts)


def disclosure_event(rec: AuditRecord) -> TimelineEvent:
    p = rec.payload
    to = ", ".join(payload_recipients(p))
    if rec.kind == "incident.files":
        what = (
            f"{_names(p)} left for {to} by a route ShareGuard did not see; scanned afterwards: "
            f"{p.get('data_subjects', 0)} people. The policy would have decided "
            f"{p.get('policy_decision')}: {_agreements(p)}"
        )
    else:
        what = (
            f"{p.get('sender')} sent {_names(p)} to {to}: {p.get('data_subjects', 0)} people; "
            f"decision {p.get('decision')} — {_agreements(p)}"
        )
    return TimelineEvent(rec.ts, rec.kind, rec.actor, what, rec.id)


def build_timeline(
    audit: AuditLog,
    approvals: ApprovalStore,
    incident_id: int,
    records: Sequence[AuditRecord],
) -> list[TimelineEvent]:
    events = [disclosure_event(r) for r in records]
    ids = {r.id for r in records}
    events += _approvals(audit, approvals, records, ids)
    for rec in records:
        if rec.kind == "incident.files":
            events += _earlier_checks(audit, rec)
    for kind in INCIDENT_KINDS:
        if kind == "incident.files":
            continue  # those are disclosures, among ``records`` when linked
        for rec in audit.list(kind=kind, limit=None):
            if rec.payload.get("incident_id") == incident_id and rec.id not in ids:
                events.append(TimelineEvent(rec.ts, rec.kind, rec.actor, _response(rec), rec.id))
    events.sort(key=lambda e: (e.ts, e.record_id or 0))
    return events


def _approvals(
    audit: AuditLog, approvals: ApprovalStore, records: Sequence[AuditRecord], ids: set[int]
) -> list[TimelineEvent]:
    out: list[TimelineEvent] = []
    followed: set[int] = set()
    for kind in _FOLLOW_UPS:
        for rec in audit.list(kind=kind, limit=None):
            check = rec.payload.get("check_record")
            if check in ids:
                followed.add(int(check))
                reason = f": {rec.payload['reason']}" if rec.payload.get("reason") else ""
                out.append(
                    TimelineEvent(
                        rec.ts,
                        rec.kind,
                        rec.actor,
                        f"{rec.kind} of held item {rec.payload.get('approval_id')} (check "
                        f"record {check}){reason}",
                        rec.id,
                    )
                )
    held = {a.record_id: a for a in approvals.list() if a.record_id in ids}
    for rec in records:
        if rec.kind == "incident.files":
            continue
        decision = rec.payload.get("decision")
        if decision == "allow":
            out.append(_note(rec, "no approval was asked for: the check allowed the disclosure"))
        elif rec.id not in followed:
            item = held.get(rec.id)
            state = f" (held item {item.id} is {item.status})" if item else ""
            out.append(
                _note(
                    rec,
                    f"the check decided {decision}, yet no approval or release is recorded"
                    f"{state}: if the files reached the recipient, they went around the control",
                )
            )
    return out


def _note(rec: AuditRecord, what: str) -> TimelineEvent:
    return TimelineEvent(rec.ts, "note", "shareguard", what, rec.id)


def _earlier_checks(audit: AuditLog, rec: AuditRecord) -> list[TimelineEvent]:
    """Was any of these files checked before it left by the other route?"""
    shas = {f.get("sha256") for f in rec.payload.get("files") or [] if f.get("sha256")}
    found: list[TimelineEvent] = []
    for addr in payload_recipients(rec.payload):
        for earlier in _checks_to(audit, addr):
            if earlier.id >= rec.id:
                continue
            same = shas & {f.get("sha256") for f in earlier.payload.get("files") or []}
            if same:
                found.append(
                    TimelineEvent(
                        earlier.ts,
                        "note",
                        "shareguard",
                        f"the same file was checked before for {addr} (record {earlier.id}): "
                        f"decision {earlier.payload.get('decision')}",
                        earlier.id,
                    )
                )
    if not found:
        found.append(
            _note(rec, "no ShareGuard check of these files to this recipient was recorded")
        )
    return found


def _checks_to(audit: AuditLog, address: str) -> Iterable[AuditRecord]:
    return [r for r in audit.list(recipient=address, limit=_RECENT) if r.kind == "check"]


def _response(rec: AuditRecord) -> str:
    p = rec.payload
    step = rec.kind.removeprefix("incident.")
    details = {k: v for k, v in p.items() if k not in ("incident_id",)}
    return f"{step}: " + ", ".join(f"{k}={v}" for k, v in sorted(details.items()))
