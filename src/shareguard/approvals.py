"""Deciding held disclosures: four-eyes approval, rejection and release.

The rules live here, the storage in :mod:`shareguard.store.approvals`; every
step is an audit record.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from shareguard.errors import ShareGuardError
from shareguard.policy.agreements import Agreement
from shareguard.store.agreements import AgreementStore
from shareguard.store.approvals import Approval, ApprovalStore
from shareguard.store.audit import AuditLog
from shareguard.store.quarantine import Quarantine


class ApprovalRefused(ShareGuardError):
    """The approval or rejection is not allowed; the message says why."""


@dataclass
class Approvals:
    engine: Engine
    root_key: bytes

    def _get(self, approval_id: str) -> Approval:
        item = ApprovalStore(self.engine).get(approval_id)
        if item is None:
            raise ApprovalRefused(f"no held item {approval_id}")
        return item

    def _check_agreement(self, item: Approval, now: datetime) -> None:
        """An approval under an agreement that has since changed or lapsed
        would approve against terms nobody agreed: refuse it."""
        if item.agreement_id is None:
            return
        latest = AgreementStore(self.engine).latest(item.agreement_id)
        if latest is None:
            raise ApprovalRefused(f"agreement {item.agreement_id} is no longer loaded")
        if latest.version != item.agreement_version:
            raise ApprovalRefused(
                f"agreement {item.agreement_id} was superseded (held under version "
                f"{item.agreement_version}, now version {latest.version}): check the item again"
            )
        agreement = Agreement.model_validate(latest.parsed)
        today = now.date()
        if today < agreement.valid_from or (
            agreement.valid_until is not None and today > agreement.valid_until
        ):
            raise ApprovalRefused(
                f"agreement {item.agreement_id} is not in force on {today.isoformat()}"
            )

    def decide(
        self, approval_id: str, *, approve: bool, by: str, reason: str, now: datetime | None = None
    ) -> Approval:
        now = now or datetime.now(UTC)
        item = self._get(approval_id)
        if item.status != "held":
            raise ApprovalRefused(f"item {approval_id} is already {item.status}")
        if not reason.strip():
            raise ApprovalRefused("give a reason: it goes into the audit record")
        if by.strip().lower() == item.sender.strip().lower():
            raise ApprovalRefused("four-eyes rule: the sender cannot decide their own item")
        if approve:
            self._check_agreement(item, now)
        status = "approved" if approve else "rejected"
        decided = ApprovalStore(self.engine).set_decision(approval_id, status, by, reason)
        if item.quarantine_id and not approve:
            Quarantine(self.engine, self.root_key).set_status(item.quarantine_id, "rejected")
        AuditLog(self.engine).append(
            "approval" if approve else "rejection",
            by,
            {
                "approval_id": approval_id,
                "check_record": item.record_id,
                "sender": item.sender,
                "recipients": list(item.recipients),
                "decision": status,
                "agreement": item.agreement_id,
                "agreement_version": item.agreement_version,
                "reason": reason,
            },
        )
        return decided

    def release(self, approval_id: str, *, by: str) -> dict[str, bytes]:
        """The original files of an approved item, byte for byte; recorded."""
        item = self._get(approval_id)
        if item.status != "approved":
            raise ApprovalRefused(f"item {approval_id} is {item.status}, not approved")
        if item.quarantine_id is None:
            raise ApprovalRefused(f"item {approval_id} has no quarantined content")
        bundle = Quarantine(self.engine, self.root_key).get(item.quarantine_id)
        with zipfile.ZipFile(io.BytesIO(bundle)) as z:
            files = {name: z.read(name) for name in z.namelist()}
        ApprovalStore(self.engine).set_decision(
            approval_id, "released", by, "released after approval", expect_status="approved"
        )
        AuditLog(self.engine).append(
            "release",
            by,
            {
                "approval_id": approval_id,
                "check_record": item.record_id,
                "sender": item.sender,
                "recipients": list(item.recipients),
                "decision": "released",
                "files": sorted(files),
            },
        )
        return files
