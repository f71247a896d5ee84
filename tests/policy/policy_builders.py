"""Scan reports and agreements built directly, so that decision tests need no scanning."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from shareguard.model import FileReport, ScanReport
from shareguard.policy import Agreement, AgreementVersion

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def file_report(
    path: str = "staff.csv",
    *,
    entities: dict[str, int] | None = None,
    people: int = 0,
    special: tuple[str, ...] = (),
    uninspectable: str | None = None,
    parts: tuple[FileReport, ...] = (),
) -> FileReport:
    return FileReport(
        path=path,
        media_type="text/csv",
        data_subjects=people,
        own_data_subjects=people,
        entities=dict(entities or {}),
        special_category=special,
        uninspectable=uninspectable,
        findings=(),
        parts=parts,
    )


def scan_report(*files: FileReport) -> ScanReport:
    every = [p for f in files for p in f.walk()]
    entities: dict[str, int] = {}
    for p in every:
        for t, n in p.entities.items():
            entities[t] = entities.get(t, 0) + n
    return ScanReport(
        files=tuple(files),
        data_subjects=sum(f.data_subjects for f in files),
        entities=entities,
        special_category=tuple(sorted({s for p in every for s in p.special_category})),
        uninspectable=sum(1 for p in every if p.uninspectable),
    )


EMPTY = scan_report(file_report("profile.csv"))
STAFF = scan_report(
    file_report(
        "Beds_establishment_list.csv",
        entities={"UK_NINO": 318, "DATE_OF_BIRTH": 318, "PERSON": 318},
        people=318,
    )
)


def agreement(**changes: Any) -> Agreement:
    fields: dict[str, Any] = {
        "id": "DSA-17",
        "title": "Workforce profile for bidders",
        "parties": {"us": "Council", "them": "Bidder Ltd"},
        "recipients": ["@bidder.example"],
        "purpose": "Price the staff transfer",
        "lawful_basis": "public_task",
        "data_items": ["grade", "department", "salary", "headcount"],
        "valid_from": date(2026, 1, 1),
        "valid_until": date(2026, 12, 31),
        "retention": {"period": "6 months", "deletion_duty": "Delete after award"},
        "approvers": ["DPO"],
    }
    fields.update(changes)
    return Agreement.model_validate(fields)


def version(n: int = 1, **changes: Any) -> AgreementVersion:
    return AgreementVersion(agreement(**changes), n)
