"""Documents -> findings.

The :class:`Scanner` runs the prose detectors over each part's text and the
table scanner over each table, resolves overlapping detections, counts data
subjects, and turns raw candidates into :class:`~shareguard.model.Finding`
values (masked preview + keyed hash) so that no raw value leaves this package.

Adding a prose detector: write ``detect_x(text) -> list[Candidate]`` in its
own module and add it to :data:`TEXT_DETECTORS`.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from shareguard.detect.mask import mask
from shareguard.detect.names import detect_names
from shareguard.detect.patterns import detect_patterns
from shareguard.detect.special import detect_special_text
from shareguard.detect.subjects import Subject, prose_subjects, row_subject
from shareguard.detect.tables import DETECTOR as TABLE_DETECTOR
from shareguard.detect.tables import scan_table
from shareguard.detect.types import Candidate
from shareguard.keys import ValueHasher
from shareguard.model import (
    Document,
    EntityType,
    FileReport,
    Finding,
    Location,
    SpecialCategory,
    merge_subjects,
)

TextDetector = Callable[[str], list[Candidate]]

TEXT_DETECTORS: tuple[TextDetector, ...] = (detect_patterns, detect_names, detect_special_text)

_SPECIAL = frozenset(str(c) for c in SpecialCategory)

# When two detections overlap, the one with the stronger evidence wins: a
# check-digit identifier beats a phone-shaped number, an address beats a
# surname-like street name.
_PRIORITY: dict[str, int] = {
    EntityType.UK_NINO: 100,
    EntityType.UK_NHS: 100,
    EntityType.IBAN_CODE: 100,
    EntityType.CREDIT_CARD: 100,
    EntityType.UK_BANK_ACCOUNT: 100,
    EntityType.UK_DRIVING_LICENCE: 95,
    EntityType.UK_PASSPORT: 95,
    EntityType.EMAIL_ADDRESS: 90,
    EntityType.IP_ADDRESS: 85,
    EntityType.PHONE_NUMBER: 80,
    EntityType.UK_POSTCODE: 75,
    EntityType.DATE_OF_BIRTH: 70,
    EntityType.STREET_ADDRESS: 60,
    EntityType.UK_VEHICLE_REG: 50,
    EntityType.PERSON: 40,
}


def resolve_overlaps(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Keep, among overlapping entity candidates, the highest-priority (then
    highest-score, then longest) one.  Special-category evidence is a separate
    layer and never competes with entities."""
    entities: list[Candidate] = []
    special: list[Candidate] = []
    for c in candidates:
        (special if c.type in _SPECIAL else entities).append(c)
    ranked = sorted(
        entities, key=lambda c: (-_PRIORITY.get(c.type, 0), -c.score, c.start - c.end, c.start)
    )
    kept: list[Candidate] = []
    starts: list[int] = []  # kept spans, disjoint, sorted by start
    ends: list[int] = []
    for c in ranked:
        i = bisect.bisect_right(starts, c.start)
        if (i > 0 and ends[i - 1] > c.start) or (i < len(starts) and starts[i] < c.end):
            continue  # overlaps a stronger detection already kept
        starts.insert(i, c.start)
        ends.insert(i, c.end)
        kept.append(c)
    kept.extend(special)
    kept.sort(key=lambda c: (c.start, c.end))
    return kept


def detect_text(text: str) -> list[Candidate]:
    """Every prose detector over one text, overlaps resolved."""
    if not text.strip():
        return []
    found: list[Candidate] = []
    for detector in TEXT_DETECTORS:
        found.extend(detector(text))
    return resolve_overlaps(found)


@dataclass
class _PartResult:
    """What scanning one part's own content (not its sub-parts) produced."""

    findings: list[Finding] = field(default_factory=list)
    entities: Counter[str] = field(default_factory=Counter)
    special: set[str] = field(default_factory=set)
    # people by their first (most stable) id; each value holds all their ids
    subjects: dict[int, tuple[int, ...]] = field(default_factory=dict)
    subjects_overflow: int = 0
    findings_dropped: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Scanner:
    """Scans documents.  ``max_findings`` bounds the findings kept per part
    (counts stay exact); ``max_subject_keys`` bounds the memory used to
    deduplicate people in one part (beyond it, people are counted without
    deduplication and the report says so)."""

    hasher: ValueHasher
    reveal: bool = False
    max_findings: int = 10_000
    max_subject_keys: int = 1_000_000

    def scan(self, doc: Document) -> FileReport:
        parts = tuple(self.scan(p) for p in doc.parts)
        own = self._scan_own(doc)
        own_subjects = list(own.subjects.values())
        if len(own_subjects) < self.max_subject_keys:  # merge rows that share an alias
            own_subjects = merge_subjects([own_subjects])
        subjects = own_subjects
        if any(p.subjects for p in parts):
            subjects = merge_subjects([own_subjects, *(p.subjects for p in parts)])
        overflow = own.subjects_overflow + sum(p.subjects_overflow for p in parts)
        return FileReport(
            path=doc.path,
            media_type=doc.media_type,
            data_subjects=len(subjects) + overflow,
            own_data_subjects=len(own_subjects) + own.subjects_overflow,
            entities=dict(sorted(own.entities.items())),
            special_category=tuple(sorted(own.special)),
            uninspectable=doc.uninspectable,
            findings=tuple(own.findings),
            parts=parts,
            notes=(*doc.notes, *own.notes),
            subjects=tuple(subjects),
            subjects_overflow=overflow,
        )

    # -- one part ---------------------------------------------------------------------

    def _scan_own(self, doc: Document) -> _PartResult:
        result = _PartResult()
        if doc.text:
            cands = detect_text(doc.text)
            for c in cands:
                self._add(result, c, Location(doc.path, c.start, c.end, doc.page_at(c.start)))
            for subject in prose_subjects(cands, doc.text):
                self._add_subject(result, subject)
        for table in doc.tables:
            scan = scan_table(table, detect_text)
            for row, cands in scan.rows:
                for c in cands:
                    if c.detector == TABLE_DETECTOR:  # a whole cell
                        loc = Location(doc.path, sheet=table.name, row=row, column=c.column)
                    else:  # a span found in a free-text cell
                        loc = Location(
                            doc.path, c.start, c.end, sheet=table.name, row=row, column=c.column
                        )
                    self._add(result, c, loc)
                person = row_subject(cands)
                if person is not None:
                    self._add_subject(result, person)
            result.special |= scan.special
        if result.findings_dropped:
            result.notes.append(
                f"{result.findings_dropped} further findings counted but not listed "
                f"(list limited to {self.max_findings})"
            )
        if result.subjects_overflow:
            result.notes.append(
                f"over {self.max_subject_keys} people: the data-subject count beyond that is "
                "not deduplicated and may be an overestimate"
            )
        return result

    def _add(self, result: _PartResult, c: Candidate, loc: Location) -> None:
        if c.type in _SPECIAL:
            result.special.add(c.type)
        else:
            result.entities[c.type] += 1
        if len(result.findings) >= self.max_findings:
            result.findings_dropped += 1
            return
        result.findings.append(
            Finding(
                type=c.type,
                detector=c.detector,
                score=c.score,
                location=loc,
                preview=mask(c.value, c.type),
                value_hash=self.hasher(c.type, c.key),
                revealed=c.value if self.reveal else None,
            )
        )

    def _add_subject(self, result: _PartResult, subject: Subject) -> None:
        ids = tuple(self.hasher.id64(k) for k in subject)
        known = result.subjects.get(ids[0])
        if known is not None:
            if len(known) < len(ids):  # keep the fuller set of ids
                result.subjects[ids[0]] = ids
        elif len(result.subjects) >= self.max_subject_keys:
            result.subjects_overflow += 1
        else:
            result.subjects[ids[0]] = ids
