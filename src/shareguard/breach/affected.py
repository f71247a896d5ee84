"""Who was affected: registered people from the keyed refs in the audit
records, resolved to their keys (staff numbers ...) only in memory, plus the
people found by pattern only, counted where they appear.

The resolver is a seam: anything with ``resolve(refs) -> {ref: subject}``
where a subject has ``ref, dataset, key, group`` (the exact-data-match store,
``shareguard.store.datasets.DatasetStore``, or a stand-in in tests).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shareguard.store.audit import AuditRecord


class Subject(Protocol):
    @property
    def ref(self) -> str: ...
    @property
    def dataset(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def group(self) -> str | None: ...


class Resolver(Protocol):
    def resolve(self, refs: Iterable[str]) -> Mapping[str, Subject]: ...


@dataclass(frozen=True, slots=True)
class AffectedPerson:
    ref: str
    dataset: str
    key: str | None  # None when the dataset no longer knows the ref
    group: str | None
    categories: tuple[str, ...]
    special: tuple[str, ...]
    records: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "dataset": self.dataset,
            "key": self.key,
            "group": self.group,
            "categories": list(self.categories),
            "special_category": bool(self.special),
            "special": list(self.special),
            "records": list(self.records),
        }


@dataclass(frozen=True, slots=True)
class PatternOnly:
    """People found by pattern who are not in a registered dataset."""

    record_id: int
    where: str  # file name(s)
    people: int

    def as_dict(self) -> dict[str, Any]:
        return {"record": self.record_id, "where": self.where, "people": self.people}


@dataclass(frozen=True, slots=True)
class Affected:
    people: tuple[AffectedPerson, ...]
    pattern_only: tuple[PatternOnly, ...]
    possible: dict[str, int]  # per dataset: partial matches not counted as present

    @property
    def registered(self) -> int:
        return len(self.people)

    @property
    def pattern_only_total(self) -> int:
        return sum(p.people for p in self.pattern_only)

    @property
    def total(self) -> int:
        return self.registered + self.pattern_only_total

    def by_category(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for p in self.people:
            counts.update(p.categories)
            counts.update(f"special:{s}" for s in p.special)
        return dict(sorted(counts.items()))

    def by_group(self) -> dict[str, int]:
        counts = Counter(f"{p.dataset}/{p.group}" if p.group else p.dataset for p in self.people)
        return dict(sorted(counts.items()))

    def special_count(self) -> int:
        return sum(1 for p in self.people if p.special)

    def categories(self) -> set[str]:
        return {c for p in self.people for c in p.categories}

    def special(self) -> set[str]:
        return {s for p in self.people for s in p.special}

    def counts(self) -> dict[str, Any]:
        return {
            "registered": self.registered,
            "pattern_only": self.pattern_only_total,
            "total": self.total,
            "special_category_people": self.special_count(),
            "by_category": self.by_category(),
            "by_group": self.by_group(),
            "possible_matches": dict(self.possible),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "people": [p.as_dict() for p in self.people],
            "pattern_only": [p.as_dict() for p in self.pattern_only],
        }


def affected_people(records: Sequence[AuditRecord], resolver: Resolver | None) -> Affected:
    """The people the given disclosures were about.  A person named in
    several records is listed once, with the union of their categories."""
    merged: dict[str, dict[str, Any]] = {}
    possible: Counter[str] = Counter()
    pattern: list[PatternOnly] = []
    for rec in records:
        payload = rec.payload
        subjects: Mapping[str, Any] = payload.get("subjects") or {}
        for ref, info in subjects.items():
            entry = merged.setdefault(
                ref,
                {
                    "dataset": info.get("dataset", "?"),
                    "cats": set(),
                    "special": set(),
                    "recs": set(),
                },
            )
            entry["cats"].update(info.get("categories") or ())
            entry["special"].update(info.get("special") or ())
            entry["recs"].add(rec.id)
        present = 0
        for dataset, n in (payload.get("registered") or {}).items():
            present += int(n.get("present", 0))
            possible[dataset] += int(n.get("possible", 0))
        pattern.extend(_pattern_only(rec.id, payload, present))
    resolved = resolver.resolve(list(merged)) if resolver is not None and merged else {}
    people = []
    for ref, e in merged.items():
        s = resolved.get(ref)
        people.append(
            AffectedPerson(
                ref,
                s.dataset if s else e["dataset"],
                s.key if s else None,
                s.group if s else None,
                tuple(sorted(e["cats"])),
                tuple(sorted(e["special"])),
                tuple(sorted(e["recs"])),
            )
        )
    people.sort(key=lambda p: (p.dataset, p.group or "", p.key or "", p.ref))
    return Affected(tuple(people), tuple(pattern), dict(possible))


def _pattern_only(record_id: int, payload: Mapping[str, Any], present: int) -> list[PatternOnly]:
    """People found by pattern less those matched to a registered dataset,
    per file when the file says how many of its people were registered."""
    files: list[Mapping[str, Any]] = payload.get("files") or []
    if files and all(isinstance(f.get("registered_subjects"), int) for f in files):
        out = [
            PatternOnly(
                record_id,
                str(f.get("name")),
                int(f.get("data_subjects") or 0) - int(f["registered_subjects"]),
            )
            for f in files
        ]
        return [p for p in out if p.people > 0]
    people = int(payload.get("data_subjects") or 0) - present
    if people <= 0:
        return []
    where = ", ".join(str(f.get("name")) for f in files) or f"record {record_id}"
    return [PatternOnly(record_id, where, people)]
