"""A disclosure about to happen: scan it, decide per recipient, record it.

This is the one flow behind ``shareguard check``, ``POST /v1/check`` and (later)
the mail gateway.  Held content goes into the encrypted quarantine with an
approval item; every step is an audit record holding counts, decisions and
keyed hashes, never a raw value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from shareguard.config import Settings
from shareguard.model import UNIQUE_IDENTIFIERS, FileReport, ScanReport
from shareguard.policy.agreements import Policy, load_policy
from shareguard.policy.engine import AgreementVersion, Decision, RecipientDecision, decide
from shareguard.policy.loading import agreement_versions
from shareguard.render import summary_json
from shareguard.store.approvals import ApprovalStore
from shareguard.store.audit import AuditLog
from shareguard.store.quarantine import Quarantine

_UNIQUE = frozenset(str(t) for t in UNIQUE_IDENTIFIERS)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One file about to leave: its name and content."""

    name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True, slots=True)
class CheckResult:
    decision: Decision
    report: ScanReport
    record_id: int
    approval_ids: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.decision.as_dict(),
            "scan": summary_json(self.report),
            "record_id": self.record_id,
            "approval_ids": list(self.approval_ids),
        }


def subject_hashes(report: ScanReport) -> list[str]:
    """Keyed hashes of the identifiers of the people in a disclosure (the
    subject index), from the listed findings, and the subject refs of the
    registered people present (exact data match)."""
    return sorted(
        {
            f.value_hash
            for top in report.files
            for part in top.walk()
            for f in part.findings
            if f.type in _UNIQUE
        }
        | set(report.subject_refs)
    )


def registered_payload(report: ScanReport) -> dict[str, Any]:
    """What the audit record says about registered people: counts per
    dataset, and per person present the matched field types, the entity
    types found with them and the special categories of the parts they were
    found in.  Types and keyed refs only, never a value."""
    subjects: dict[str, dict[str, Any]] = {}
    for top in report.files:
        for part in top.walk():
            for m in part.registered_matches():
                if not m.present or m.ref is None:
                    continue
                entry = subjects.setdefault(
                    m.ref,
                    {"dataset": m.dataset, "fields": set(), "categories": set(), "special": set()},
                )
                entry["fields"].update(m.fields)
                entry["categories"].update(m.categories)
                entry["special"].update(part.special_category)
    datasets = sorted(set(report.registered_subjects) | set(report.possible_subjects))
    return {
        "registered": {
            d: {
                "present": report.registered_subjects.get(d, 0),
                "possible": report.possible_subjects.get(d, 0),
            }
            for d in datasets
        },
        "subjects": {
            ref: {
                "dataset": e["dataset"],
                "fields": sorted(e["fields"]),
                "categories": sorted(e["categories"]),
                "special": sorted(e["special"]),
            }
            for ref, e in sorted(subjects.items())
        },
    }


def _file_summary(report: FileReport, outgoing: Outgoing | None) -> dict[str, Any]:
    return {
        "name": report.path,
        "sha256": outgoing.sha256 if outgoing else None,
        "entities": report.entities,
        "data_subjects": report.data_subjects,
        "special_category": list(report.special_category),
        "uninspectable": [p.path for p in report.walk() if p.uninspectable],
    }


def audit_payload(
    decision: Decision,
    report: ScanReport,
    files: Sequence[Outgoing],
    sender: str,
    recipients: Sequence[str],
) -> dict[str, Any]:
    by_name = {f.name: f for f in files}
    return {
        "sender": sender,
        "recipients": list(recipients),
        "files": [_file_summary(f, by_name.get(f.path)) for f in report.files],
        "entities": report.entities,
        "data_subjects": report.data_subjects,
        "special_category": list(report.special_category),
        "decision": str(decision.decision),
        "per_recipient": [r.as_dict() for r in decision.recipients],
        **registered_payload(report),
    }


@dataclass
class Disclosures:
    """The check flow over one store."""

    settings: Settings
    engine: Engine

    def policy(self) -> Policy:
        return load_policy(self.settings.policy_file)

    def agreements(self) -> list[AgreementVersion]:
        return agreement_versions(self.engine)

    def check(
        self,
        report: ScanReport,
        files: Sequence[Outgoing],
        sender: str,
        recipients: Sequence[str],
        *,
        actor: str | None = None,
        now: datetime | None = None,
        agreements: Sequence[AgreementVersion] | None = None,
    ) -> CheckResult:
        """``agreements``: the versions to decide under, when the caller has
        already read them (default: read them now)."""
        now = now or datetime.now(UTC)
        versions = self.agreements() if agreements is None else agreements
        decision = decide(report, sender, recipients, versions, self.policy(), now)
        payload = audit_payload(decision, report, files, sender, recipients)
        audit = AuditLog(self.engine)
        record = audit.append("check", actor or sender, payload, subject_hashes(report))
        held = [r for r in decision.recipients if r.decision == "hold"]
        approvals = self._hold(record.id, files, sender, held, payload) if held else ()
        return CheckResult(decision, report, record.id, approvals)

    def _hold(
        self,
        record_id: int,
        files: Sequence[Outgoing],
        sender: str,
        held: Sequence[RecipientDecision],
        payload: dict[str, Any],
    ) -> tuple[str, ...]:
        """Quarantine the content once, and open one approval per held
        recipient (each may fall under a different agreement)."""
        quarantine = Quarantine(self.engine, self.settings.secret_key_bytes())
        qid = quarantine.put(
            _bundle(files), {"files": [f.name for f in files], "record_id": record_id}
        )
        store = ApprovalStore(self.engine)
        return tuple(
            store.create(
                record_id=record_id,
                quarantine_id=qid,
                sender=sender,
                recipients=[r.address],
                agreement_id=r.agreement_id,
                agreement_version=r.agreement_version,
                summary={**payload, "held_for": r.as_dict()},
            )
            for r in held
        )


def _bundle(files: Sequence[Outgoing]) -> bytes:
    """Several held files as one zip (stored, not compressed: they are
    encrypted next, and the originals must come back byte for byte)."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for f in files:
            z.writestr(f.name.lstrip("/"), f.content)
    return out.getvalue()
