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

import polars as pl

from shareguard.detect.edm import EdmIndex, EdmSource, PartMatches, match_table, match_text
from shareguard.detect.mask import mask
from shareguard.detect.names import detect_names, load_lexicons
from shareguard.detect.patterns import detect_patterns
from shareguard.detect.special import detect_special_text
from shareguard.detect.subjects import Subject, prose_subjects
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
    Registered,
    SpecialCategory,
    count_subjects,
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


class _People:
    """The data subjects of one part, as (``s``: first id, ``id``) pairs.

    People are deduplicated by their first (most stable) id up to ``limit``
    distinct people; beyond it each new one is counted without
    deduplication, and only the ids of admitted people are kept.  All ids of
    the first ``ALIAS_LIMIT`` people are kept (for matching the same person in
    other parts by any identifier); after that only first ids, so that a
    table of millions of people stays within memory."""

    ALIAS_LIMIT = 200_000

    def __init__(self, hasher: ValueHasher, limit: int) -> None:
        self.hasher = hasher
        self.limit = limit
        self.known = pl.Series("id", [], dtype=pl.UInt64)  # first ids admitted so far
        self.edges: list[pl.DataFrame] = []
        self.pending = 0
        self.overflow = 0

    def add(self, keys: pl.DataFrame) -> None:
        """``keys`` as ``subjects.subject_keys`` gives: row, key, first."""
        if keys.is_empty():
            return
        frame = pl.DataFrame({"id": self.hasher.ids64(keys["key"]), "first": keys["first"]})
        frame = frame.select(s=pl.when("first").then("id").forward_fill(), id="id")
        known = self.known
        firsts = frame.filter(keys["first"])["id"]
        # probe the (large) known ids against the chunk's, not the other way
        # round: polars hashes the argument of is_in
        seen = known.filter(known.is_in(firsts.implode()))
        new = firsts.filter(~firsts.is_in(seen.implode()))
        fresh = new.unique(maintain_order=True)
        room = max(self.limit - known.len(), 0)
        admitted = fresh.head(room)
        self.known = known.append(admitted)  # in place: cheap, chunks kept
        if admitted.len() < fresh.len():  # over the bound: each further sighting counts
            late = new.filter(~new.is_in(admitted.implode()))
            self.overflow += late.len()
            frame = frame.filter(~pl.col("s").is_in(late.unique().implode()))
        if self.known.len() >= self.ALIAS_LIMIT:
            frame = frame.filter(pl.col("id") == pl.col("s"))
        self.edges.append(frame)
        self.pending += frame.height
        if self.pending > 4 * _COMPACT_ROWS:  # keep the pairs compact as they come
            self.edges = [pl.concat(self.edges).unique()]
            self.pending = 0

    def add_subjects(self, subjects: list[Subject]) -> None:
        """People found in prose: one frame for them all (polars' cost is per call)."""
        if not subjects:
            return
        rows = [r for r, subject in enumerate(subjects) for _ in subject]
        keys = [k for subject in subjects for k in subject]
        first = [i == 0 for subject in subjects for i in range(len(subject))]
        self.add(pl.DataFrame({"row": rows, "key": keys, "first": first}))

    def merged(self) -> pl.DataFrame:
        return merge_subjects(self.edges)


_COMPACT_ROWS = 250_000


@dataclass
class _PartResult:
    """What scanning one part's own content (not its sub-parts) produced."""

    people: _People
    findings: list[Finding] = field(default_factory=list)
    entities: Counter[str] = field(default_factory=Counter)
    special: set[str] = field(default_factory=set)
    findings_dropped: int = 0
    notes: list[str] = field(default_factory=list)
    registered: tuple[Registered, ...] = ()


def _some(index: EdmIndex | None) -> EdmIndex:
    assert index is not None
    return index


@dataclass(frozen=True)
class Scanner:
    """Scans documents.  ``max_findings`` bounds the findings kept per part
    (counts stay exact); ``max_subject_keys`` bounds the memory used to
    deduplicate people in one part (beyond it, people are counted without
    deduplication and the report says so).  ``edm`` gives the registered
    datasets to match (exact data match); without it, or with none
    registered, nothing of that runs."""

    hasher: ValueHasher
    reveal: bool = False
    max_findings: int = 10_000
    max_subject_keys: int = 1_000_000
    edm: EdmSource | None = field(default=None, compare=False)

    def warm(self) -> None:
        """Load now what every table scan needs (name lexicons, the match
        index), so that workers forked after this share one copy."""
        load_lexicons()
        if self.edm is not None:
            self.edm.current()

    def forked(self) -> None:
        """Called in a worker forked from the process that built this."""
        if self.edm is not None and self.edm.forked is not None:
            self.edm.forked()

    def scan(self, doc: Document) -> FileReport:
        parts = tuple(self.scan(p) for p in doc.parts)
        own = self._scan_own(doc)
        own_subjects = own.people.merged()
        subjects = own_subjects
        if any(p.subjects is not None and p.subjects.height for p in parts):
            subjects = merge_subjects([own_subjects, *(p.subjects for p in parts)])
        overflow = own.people.overflow + sum(p.subjects_overflow for p in parts)
        return FileReport(
            path=doc.path,
            media_type=doc.media_type,
            data_subjects=count_subjects(subjects) + overflow,
            own_data_subjects=count_subjects(own_subjects) + own.people.overflow,
            entities=dict(sorted(own.entities.items())),
            special_category=tuple(sorted(own.special)),
            uninspectable=doc.uninspectable,
            findings=tuple(own.findings),
            parts=parts,
            notes=(*doc.notes, *own.notes),
            subjects=subjects,
            subjects_overflow=overflow,
            registered=own.registered,
        )

    # -- one part ---------------------------------------------------------------------

    def _scan_own(self, doc: Document) -> _PartResult:
        result = _PartResult(_People(self.hasher, self.max_subject_keys))
        index = self.edm.current() if self.edm is not None else None
        matches = PartMatches() if index is not None and index.datasets else None
        if doc.text:
            cands = detect_text(doc.text)
            for c in cands:
                self._count(result, c)
                self._list(result, c, Location(doc.path, c.start, c.end, doc.page_at(c.start)))
            result.people.add_subjects(prose_subjects(cands, doc.text))
            if matches is not None:
                match_text(matches, _some(index), cands, doc.text)
        for table in doc.tables:
            scan = scan_table(table, detect_text)
            for chunk in scan.chunks:
                result.entities.update(chunk.counts)
                listed = 0
                if len(result.findings) < self.max_findings:
                    listed = self._list_rows(result, doc.path, table.name, chunk.rows())
                result.findings_dropped += chunk.found - listed
                result.people.add(chunk.keys)
                if matches is not None:
                    match_table(
                        matches, _some(index), chunk.columns, chunk.extra, chunk.other_cells
                    )
            result.special |= scan.special
        if matches is not None:
            result.registered = matches.results(_some(index))
        if result.findings_dropped:
            result.notes.append(
                f"{result.findings_dropped} further findings counted but not listed "
                f"(list limited to {self.max_findings})"
            )
        if result.people.overflow:
            result.notes.append(
                f"over {self.max_subject_keys} people: the data-subject count beyond that is "
                "not deduplicated and may be an overestimate"
            )
        return result

    def _list_rows(
        self,
        result: _PartResult,
        path: str,
        sheet: str,
        rows: Iterable[tuple[int, list[Candidate]]],
    ) -> int:
        listed = 0
        for row, cands in rows:
            for c in cands:
                if c.detector == TABLE_DETECTOR:  # a whole cell
                    loc = Location(path, sheet=sheet, row=row, column=c.column)
                else:  # a span found in a free-text cell
                    loc = Location(path, c.start, c.end, sheet=sheet, row=row, column=c.column)
                listed += self._list(result, c, loc)
            if len(result.findings) >= self.max_findings:
                break
        return listed

    def _count(self, result: _PartResult, c: Candidate) -> None:
        if c.type in _SPECIAL:
            result.special.add(c.type)
        else:
            result.entities[c.type] += 1

    def _list(self, result: _PartResult, c: Candidate, loc: Location) -> bool:
        if c.type in _SPECIAL:
            result.special.add(c.type)
        if len(result.findings) >= self.max_findings:
            if loc.row is None:
                result.findings_dropped += 1
            return False
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
        return True
