"""Held disclosures awaiting a decision.  This stores; the rules (four
eyes, agreement still valid) belong to the approvals command."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update

from shareguard.store.db import StoreError, session_scope
from shareguard.store.models import ApprovalRow

STATUSES = ("held", "approved", "rejected", "released")


@dataclass(frozen=True, slots=True)
class Approval:
    id: str
    record_id: int
    quarantine_id: str | None
    sender: str
    recipients: tuple[str, ...]
    agreement_id: str | None
    agreement_version: int | None
    status: str
    decided_by: str | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None
    summary: dict[str, Any]


def _approval(row: ApprovalRow) -> Approval:
    return Approval(
        row.id,
        row.record_id,
        row.quarantine_id,
        row.sender,
        tuple(json.loads(row.recipients)),
        row.agreement_id,
        row.agreement_version,
        row.status,
        row.decided_by,
        row.reason,
        row.created_at,
        row.decided_at,
        json.loads(row.summary),
    )


class ApprovalStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self,
        *,
        record_id: int,
        sender: str,
        recipients: Sequence[str],
        quarantine_id: str | None = None,
        agreement_id: str | None = None,
        agreement_version: int | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> str:
        """A new held item; returns its id.  ``record_id`` is the audit
        record of the hold; ``summary`` is what the reviewer is shown (the
        audit payload: counts, reasons; no raw personal data)."""
        approval_id = uuid.uuid4().hex
        row = ApprovalRow(
            id=approval_id,
            record_id=record_id,
            quarantine_id=quarantine_id,
            sender=sender.strip().lower(),
            recipients=json.dumps([r.strip().lower() for r in recipients]),
            agreement_id=agreement_id,
            agreement_version=agreement_version,
            status="held",
            created_at=datetime.now(UTC),
            summary=json.dumps(dict(summary or {}), sort_keys=True, default=str),
        )
        with session_scope(self.engine) as s:
            s.add(row)
        return approval_id

    def get(self, approval_id: str) -> Approval | None:
        with session_scope(self.engine) as s:
            row = s.get(ApprovalRow, approval_id)
            return _approval(row) if row else None

    def list(
        self, status: str | None = None, limit: int | None = None, *, sender: str | None = None
    ) -> list[Approval]:
        """Oldest first (the queue order); ``sender`` keeps one sender's items."""
        q = select(ApprovalRow).order_by(ApprovalRow.created_at, ApprovalRow.id)
        if status:
            q = q.where(ApprovalRow.status == status)
        if sender is not None:
            q = q.where(ApprovalRow.sender == sender)
        if limit:
            q = q.limit(limit)
        with session_scope(self.engine) as s:
            return [_approval(r) for r in s.execute(q).scalars()]

    def set_decision(
        self,
        approval_id: str,
        status: str,
        decided_by: str,
        reason: str,
        *,
        expect_status: str | None = "held",
    ) -> Approval:
        """Record a decision.  Atomic compare-and-set on ``expect_status``,
        so two reviewers cannot both decide the same item."""
        if status not in STATUSES or status == "held":
            raise StoreError(f"decision must be one of {list(STATUSES[1:])}")
        q = update(ApprovalRow).where(ApprovalRow.id == approval_id)
        if expect_status is not None:
            q = q.where(ApprovalRow.status == expect_status)
        with session_scope(self.engine) as s:
            done = s.execute(
                q.values(
                    status=status,
                    decided_by=decided_by,
                    reason=reason,
                    decided_at=datetime.now(UTC),
                )
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                row = s.get(ApprovalRow, approval_id)
                if row is None:
                    raise StoreError(f"no held item {approval_id}")
                raise StoreError(f"item {approval_id} is {row.status}, not {expect_status}")
            row = s.get(ApprovalRow, approval_id)
            assert row is not None
            return _approval(row)
