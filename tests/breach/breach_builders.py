"""Generated staff and disclosure records for the breach tests (never real
people): a fake exact-data-match resolver and audit payloads in the shape
the check flow records."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faker import Faker
from sqlalchemy import Engine, text

from shareguard.breach import letters
from shareguard.store.audit import AuditLog, AuditRecord

STREETS = ("Station Road", "High Street", "Mill Lane", "Church Walk", "Park Avenue")
TOWNS = ("Bedford", "Luton", "Letchworth", "Dunstable", "Biggleswade")
FORCES = ("Bedfordshire", "Hertfordshire", "Cambridgeshire")
CATEGORIES = ("PERSON", "DATE_OF_BIRTH", "UK_NINO")


@dataclass(frozen=True, slots=True)
class Resolved:
    ref: str
    dataset: str
    key: str
    group: str | None


@dataclass(frozen=True, slots=True)
class Staff:
    number: str
    title: str
    forename: str
    surname: str
    street: str
    town: str
    postcode: str
    force: str

    @property
    def ref(self) -> str:
        return "hk1:" + hashlib.sha256(self.number.encode()).hexdigest()[:32]


class FakeResolver:
    def __init__(self, staff: Iterable[Staff], dataset: str = "STAFF") -> None:
        self.subjects = {s.ref: Resolved(s.ref, dataset, s.number, s.force) for s in staff}
        self.calls = 0

    def resolve(self, refs: Iterable[str]) -> dict[str, Resolved]:
        self.calls += 1
        return {r: self.subjects[r] for r in refs if r in self.subjects}


def make_staff(n: int, seed: int = 7) -> list[Staff]:
    """``n`` people with distinct surnames that appear nowhere else in a
    letter (streets, towns, template words), so that a surname search is a
    fair test of "names only its addressee"."""
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    template = (Path(letters.__file__).parent / "templates" / "letter.txt.j2").read_text()
    words = " ".join((*STREETS, *TOWNS, *FORCES, template))
    reserved = {w.lower() for w in re.findall(r"[A-Za-z]+", words)}
    forenames = [fake.first_name() for _ in range(n * 2)]
    reserved |= {f.lower() for f in forenames}
    seen: set[str] = set()
    out: list[Staff] = []
    while len(out) < n:
        surname = fake.last_name()
        if not re.fullmatch(r"[A-Z][a-z]{3,}", surname) or surname.lower() in seen | reserved:
            continue
        seen.add(surname.lower())
        i = len(out)
        out.append(
            Staff(
                number=f"S{100000 + i}",
                title=("Mr", "Ms", "Dr", "Mx")[i % 4],
                forename=forenames[i],
                surname=surname,
                street=f"{i % 90 + 1} {STREETS[i % len(STREETS)]}",
                town=TOWNS[i % len(TOWNS)],
                postcode=f"MK{i % 40 + 1} {i % 9}AB",
                force=FORCES[i % len(FORCES)],
            )
        )
    return out


def check_payload(
    staff: Sequence[Staff],
    *,
    sender: str = "hr@force.example",
    recipient: str = "bids@bidder.example",
    name: str = "establishment.csv",
    decision: str = "hold",
    pattern_only: int = 0,
    special: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    special = special or {}
    people = len(staff) + pattern_only
    return {
        "sender": sender,
        "recipients": [recipient],
        "files": [
            {
                "name": name,
                "sha256": hashlib.sha256(name.encode()).hexdigest(),
                "entities": {c: len(staff) for c in CATEGORIES},
                "data_subjects": people,
                "special_category": sorted({s for v in special.values() for s in v}),
                "uninspectable": [],
            }
        ],
        "entities": {c: len(staff) for c in CATEGORIES},
        "data_subjects": people,
        "special_category": sorted({s for v in special.values() for s in v}),
        "decision": decision,
        "per_recipient": [
            {
                "address": recipient,
                "decision": decision,
                "agreement": {"id": "DSA-17", "version": 1},
                "reasons": ["personal data of individuals"],
            }
        ],
        "registered": {"STAFF": {"present": len(staff), "possible": 0}},
        "subjects": {
            s.ref: {
                "dataset": "STAFF",
                "fields": ["name", "dob", "nino"],
                "categories": list(CATEGORIES),
                "special": special.get(s.number, []),
            }
            for s in staff
        },
    }


def record_check(engine: Engine, staff: Sequence[Staff], **kw: Any) -> AuditRecord:
    payload = check_payload(staff, **kw)
    return AuditLog(engine).append("check", payload["sender"], payload, [s.ref for s in staff])


def write_people_csv(path: Path, staff: Sequence[Staff]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Staff No", "Title", "Forename", "Surname", "Address 1", "Town", "Postcode"])
        for s in staff:
            w.writerow([s.number, s.title, s.forename, s.surname, s.street, s.town, s.postcode])
    return path


def clear_incidents(engine: Engine) -> None:
    """The shared PostgreSQL test database keeps rows the fixtures do not
    truncate: empty the incident tables before each test."""
    with engine.begin() as conn:
        for table in ("incident_factors", "incident_records", "incidents"):
            conn.execute(text(f"DELETE FROM {table}"))
