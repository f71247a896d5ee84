"""The incident as the service hands it out: plain values with ``as_dict``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shareguard.breach.clock import Clock, local

STATUSES = ("open", "reported", "not_reported", "closed")
DELETION_STATES = ("requested", "attested", "overdue")

# DPA 2018 s.68(7): the reasons a law-enforcement controller may delay or
# restrict telling the people.
RESTRICTION_GROUNDS = {
    "a": "to avoid obstructing an official or legal inquiry, investigation or procedure",
    "b": "to avoid prejudicing the prevention, detection, investigation or prosecution of "
    "criminal offences or the execution of criminal penalties",
    "c": "to protect public security",
    "d": "to protect national security",
    "e": "to protect the rights and freedoms of others",
}


@dataclass(frozen=True, slots=True)
class Deletion:
    requested_at: datetime | None
    due_at: datetime | None
    attested_by: str | None
    attested_at: datetime | None
    evidence_sha256: str | None

    def status(self, now: datetime) -> str | None:
        if self.attested_at is not None:
            return "attested"
        if self.requested_at is None:
            return None
        if self.due_at is not None and now > self.due_at:
            return "overdue"
        return "requested"


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    title: str
    description: str | None
    status: str
    owner: str | None
    contact: str | None
    route: str  # "disclosure" (recorded checks) or "outside" (files scanned afterwards)
    occurred_at: datetime
    discovered_at: datetime
    time_zone: str
    created_at: datetime
    created_by: str
    reported_at: datetime | None
    regulator_reference: str | None
    not_reported_reason: str | None
    late_reason: str | None
    people_told_at: datetime | None
    people_restriction: str | None
    people_restriction_ground: str | None
    others_told: str | None
    closed_at: datetime | None
    deletion: Deletion
    record_ids: tuple[int, ...]

    @property
    def clock(self) -> Clock:
        return Clock(self.discovered_at, self.reported_at, self.time_zone)

    def next_step(self, now: datetime) -> str:
        if self.status == "closed":
            return "none: closed"
        if self.status == "open":
            return (
                "assess the severity and report to the regulator or record why not "
                f"(deadline {local(self.clock.deadline, self.time_zone)})"
            )
        deletion = self.deletion.status(now)
        if deletion is None:
            return "ask the recipient to delete the data (incident deletion ID request)"
        if deletion == "overdue":
            return "chase the recipient: the deletion attestation is overdue"
        if deletion == "requested":
            return "wait for the recipient's deletion attestation"
        if self.people_told_at is None and self.people_restriction is None:
            return "decide whether to tell the people (incident severity ID) and write the letters"
        return "close the incident"

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(UTC)

        def t(v: datetime | None) -> str | None:
            return local(v, self.time_zone) if v else None

        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "owner": self.owner,
            "contact": self.contact,
            "route": self.route,
            "occurred_at": t(self.occurred_at),
            "discovered_at": t(self.discovered_at),
            "time_zone": self.time_zone,
            "created_at": t(self.created_at),
            "created_by": self.created_by,
            "clock": self.clock.as_dict(now),
            "reported_at": t(self.reported_at),
            "regulator_reference": self.regulator_reference,
            "not_reported_reason": self.not_reported_reason,
            "late_reason": self.late_reason,
            "people_told_at": t(self.people_told_at),
            "people_restriction": self.people_restriction,
            "people_restriction_ground": self.people_restriction_ground,
            "others_told": self.others_told,
            "closed_at": t(self.closed_at),
            "deletion": {
                "status": self.deletion.status(now),
                "requested_at": t(self.deletion.requested_at),
                "due_at": t(self.deletion.due_at),
                "attested_by": self.deletion.attested_by,
                "attested_at": t(self.deletion.attested_at),
                "evidence_sha256": self.deletion.evidence_sha256,
            },
            "records": list(self.record_ids),
            "next_step": self.next_step(now),
        }


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    ts: datetime
    kind: str
    actor: str
    what: str
    record_id: int | None = None

    def as_dict(self, zone_name: str) -> dict[str, Any]:
        return {
            "at": local(self.ts, zone_name),
            "kind": self.kind,
            "actor": self.actor,
            "what": self.what,
            "record": self.record_id,
        }


@dataclass(frozen=True, slots=True)
class LettersResult:
    letters: int
    out_dir: str
    mailing_csv: str
    missing_addresses: int  # affected people not in the people file
    not_affected_rows: int  # rows of the people file for people not affected
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "letters": self.letters,
            "out_dir": self.out_dir,
            "mailing_csv": self.mailing_csv,
            "missing_addresses": self.missing_addresses,
            "not_affected_rows": self.not_affected_rows,
            "seconds": round(self.seconds, 3),
        }


def hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)
