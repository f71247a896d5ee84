"""Value types shared by every stage of the pipeline.

Everything here is a frozen, slotted dataclass: stages pass values, they do not
call back into each other.  The one exception to "plain value" is
:class:`Table`, whose rows may be a re-iterable stream so that a multi-gigabyte
CSV never has to sit in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

import numpy as np
import polars as pl


class EntityType(StrEnum):
    """Personal-data entity types, named as in common PII tooling."""

    PERSON = "PERSON"
    EMAIL_ADDRESS = "EMAIL_ADDRESS"
    PHONE_NUMBER = "PHONE_NUMBER"
    STREET_ADDRESS = "STREET_ADDRESS"
    UK_POSTCODE = "UK_POSTCODE"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    UK_NINO = "UK_NINO"
    UK_NHS = "UK_NHS"
    UK_BANK_ACCOUNT = "UK_BANK_ACCOUNT"
    IBAN_CODE = "IBAN_CODE"
    CREDIT_CARD = "CREDIT_CARD"
    UK_PASSPORT = "UK_PASSPORT"
    UK_DRIVING_LICENCE = "UK_DRIVING_LICENCE"
    UK_VEHICLE_REG = "UK_VEHICLE_REG"
    IP_ADDRESS = "IP_ADDRESS"


class SpecialCategory(StrEnum):
    """UK GDPR Article 9 special categories, plus Article 10 criminal-offence data."""

    HEALTH = "health"
    ETHNICITY = "ethnicity"
    RELIGION = "religion"
    TRADE_UNION = "trade_union"
    POLITICAL = "political"
    SEX_LIFE = "sex_life"
    BIOMETRIC = "biometric"
    GENETIC = "genetic"
    CRIMINAL_OFFENCE = "criminal_offence"


# Identifiers that on their own single out one person.  Used to decide whether a
# table row or a stretch of prose is "about somebody".
UNIQUE_IDENTIFIERS: frozenset[EntityType] = frozenset(
    {
        EntityType.EMAIL_ADDRESS,
        EntityType.PHONE_NUMBER,
        EntityType.UK_NINO,
        EntityType.UK_NHS,
        EntityType.UK_BANK_ACCOUNT,
        EntityType.IBAN_CODE,
        EntityType.CREDIT_CARD,
        EntityType.UK_PASSPORT,
        EntityType.UK_DRIVING_LICENCE,
    }
)


# --------------------------------------------------------------------------- extraction


@dataclass(frozen=True, slots=True)
class Segment:
    """A labelled stretch of a document's extracted text.

    ``start``/``end`` are character offsets into :attr:`Document.text`.  ``label``
    says where the text came from ("body", "header", "comment", "slide 3 notes",
    "Subject" ...); ``page`` is 1-based for paged formats.
    """

    start: int
    end: int
    label: str = "body"
    page: int | None = None


Row = Sequence[str]


@dataclass(frozen=True, slots=True)
class Table:
    """A grid of cells, as strings, exactly as they appear in the source.

    Extractors do not decide whether the first row is a header: the column
    classifier in ``detect`` does, from header words and values together.
    ``iter_rows()`` starts again from the top each time it is called, so a
    detector can take a sample first and then stream the rest (a multi-gigabyte
    CSV is re-read from disk, never held in memory).  ``first_row`` is the
    1-based row number, in the source sheet, of the first row yielded, so that
    findings point at the row a person would see in a spreadsheet.

    ``batches_factory``, when set, streams the same rows again as polars
    frames of string columns (missing cells ""), a few tens of thousands of
    rows each, numbered as ``iter_rows()`` numbers them: a native CSV reader
    fills it so that a large table is scanned without a Python object per cell.
    """

    name: str
    rows_factory: Callable[[], Iterator[Row]]
    first_row: int = 1
    hidden: bool = False
    batches_factory: Callable[[], Iterator[pl.DataFrame]] | None = None

    def iter_rows(self) -> Iterator[Row]:
        return self.rows_factory()

    @staticmethod
    def from_rows(
        name: str, rows: Sequence[Row], *, first_row: int = 1, hidden: bool = False
    ) -> Table:
        frozen = tuple(tuple(r) for r in rows)
        return Table(name, lambda: iter(frozen), first_row=first_row, hidden=hidden)


@dataclass(frozen=True, slots=True)
class Document:
    """One inspectable part: a file, an e-mail body, an archive member.

    ``path`` is the full container path, members joined with ``!``:
    ``outbound.eml!Cambs.zip!HR/extract.xlsx``.

    A part that could not be read is still a Document, with ``uninspectable``
    set to a reason a person understands.  It is never "clean".
    """

    path: str
    media_type: str
    text: str = ""
    segments: tuple[Segment, ...] = ()
    tables: tuple[Table, ...] = ()
    parts: tuple[Document, ...] = ()
    uninspectable: str | None = None
    notes: tuple[str, ...] = ()
    size: int = 0

    def walk(self) -> Iterator[Document]:
        """This document, then every nested part, depth first."""
        yield self
        for part in self.parts:
            yield from part.walk()

    def page_at(self, offset: int) -> int | None:
        for seg in self.segments:
            if seg.start <= offset < seg.end:
                return seg.page
        return None


# --------------------------------------------------------------------------- detection


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is.  Text findings use start/end (+page); table findings
    use sheet/row/column.  ``path`` is the container path of the part."""

    path: str
    start: int | None = None
    end: int | None = None
    page: int | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k in self.__slots__ if (v := getattr(self, k)) is not None}


@dataclass(frozen=True, slots=True)
class Finding:
    """One occurrence of personal data.  Never carries the raw value: only a
    masked ``preview`` and a keyed hash of the normalised value.  ``revealed``
    is filled only when a user asked for values on their own terminal."""

    type: str
    detector: str
    score: float
    location: Location
    preview: str
    value_hash: str
    subject: int | None = None
    revealed: str | None = None

    def as_dict(self, *, reveal: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "score": round(self.score, 3),
            "detector": self.detector,
            "location": self.location.as_dict(),
            "preview": self.revealed if reveal and self.revealed is not None else self.preview,
        }
        return out


class RegisteredMatch(NamedTuple):
    """A person of a registered dataset (exact data match) found in one
    part.  ``present``: a unique identifier of theirs, or their name with
    their date of birth or postcode, is there; otherwise only their name is
    (a possible match).  ``ref`` (``hk1:`` keyed hash of the dataset and
    key) is set for people present; ``version_id``/``row`` identify a
    possible match within its dataset version.  ``fields`` are the matched
    field types, ``categories`` the entity types found with the person:
    types, never values.

    Scans keep matches column by column (:class:`Registered`); these are
    made only for code that reads people one by one."""

    dataset: str
    version_id: int
    row: int
    present: bool
    fields: tuple[str, ...]
    categories: tuple[str, ...]
    ref: str | None = None


# (matched field types, categories found with the person) of a kind of match
Explained = tuple[tuple[str, ...], tuple[str, ...]]
_REGISTERED_SCHEMA = {"row": pl.Int64, "present": pl.Boolean, "kind": pl.UInt32, "ref": pl.String}


@dataclass(frozen=True, eq=False)
class Registered:
    """The people of one registered dataset version found in one part,
    column by column: a table of registered people is a million matches,
    which as a million Python objects would cost more to build, count,
    pickle between processes and merge than finding them did.

    ``people`` has a line per person: ``row`` in the version, ``present``,
    ``kind`` (index into ``explained``: which field types matched and which
    entity types were found with them; a few kinds serve every person) and
    ``ref`` (null for a possible match).  Iterating gives
    :class:`RegisteredMatch` values, for the few who want them one by one."""

    dataset: str
    version_id: int
    people: pl.DataFrame
    explained: tuple[Explained, ...]

    def __len__(self) -> int:
        return self.people.height

    def __iter__(self) -> Iterator[RegisteredMatch]:
        said = self.explained
        for row, present, kind, ref in self.people.iter_rows():
            fields, cats = said[kind]
            yield RegisteredMatch(self.dataset, self.version_id, row, present, fields, cats, ref)

    @classmethod
    def build(
        cls,
        dataset: str,
        version_id: int,
        rows: Sequence[int] | np.ndarray[Any, Any],
        present: Sequence[bool] | np.ndarray[Any, Any],
        kinds: Sequence[int] | np.ndarray[Any, Any],
        refs: Sequence[str | None],
        explained: Sequence[Explained],
    ) -> Registered:
        people = pl.DataFrame(
            {"row": rows, "present": present, "kind": kinds, "ref": refs},
            schema=_REGISTERED_SCHEMA,
        )
        return cls(dataset, version_id, people, tuple(explained))

    @classmethod
    def from_matches(cls, matches: Iterable[RegisteredMatch]) -> tuple[Registered, ...]:
        """Matches one by one gathered into blocks, one per dataset version."""
        by: dict[tuple[str, int], list[RegisteredMatch]] = {}
        for m in matches:
            by.setdefault((m.dataset, m.version_id), []).append(m)
        out = []
        for (dataset, version), ms in by.items():
            kinds: dict[Explained, int] = {}
            kind = [kinds.setdefault((m.fields, m.categories), len(kinds)) for m in ms]
            out.append(
                cls.build(
                    dataset,
                    version,
                    [m.row for m in ms],
                    [m.present for m in ms],
                    kind,
                    [m.ref for m in ms],
                    list(kinds),
                )
            )
        return tuple(out)


def registered_counts(
    blocks: Iterable[Registered],
) -> tuple[dict[str, int], dict[str, int], tuple[str, ...]]:
    """(people present by dataset, people possibly there by dataset,
    sorted refs of the people present) over the blocks of any parts.  A
    person present in one part is not also possibly there in another.
    Column by column, but a few people (a letter's) one by one: polars'
    fixed cost per query is the larger there."""
    blocks = [b for b in blocks if b.people.height]
    if not blocks:
        return {}, {}, ()
    if sum(b.people.height for b in blocks) <= _COUNT_ONE_BY_ONE:
        return _registered_counts_few(blocks)
    frames = [
        b.people.select(
            "ref",
            "present",
            dataset=pl.lit(b.dataset, pl.String),
            # (version, row) as one id: version ids are unique across datasets
            key=pl.lit(b.version_id, pl.Int64) * (1 << 40) + pl.col("row"),
        )
        for b in blocks
    ]
    every = pl.concat(frames, rechunk=False)
    known = pl.col("present") & pl.col("ref").is_not_null()
    here = every.filter(known)
    present = here.group_by("dataset").agg(pl.col("ref").n_unique())
    maybe = (
        every.filter(~known & ~pl.col("key").is_in(here["key"].implode()))
        .group_by("dataset")
        .agg(pl.col("key").n_unique())
    )
    refs = here["ref"].unique().sort()
    return _by_dataset(present), _by_dataset(maybe), tuple(refs.to_list())


_COUNT_ONE_BY_ONE = 512


def _registered_counts_few(
    blocks: Sequence[Registered],
) -> tuple[dict[str, int], dict[str, int], tuple[str, ...]]:
    """:func:`registered_counts` of a few people, in plain Python."""
    present: dict[str, set[str]] = {}
    here: set[tuple[int, int]] = set()
    doubtful: dict[str, set[tuple[int, int]]] = {}
    for b in blocks:
        for row, is_present, _, ref in b.people.iter_rows():
            if is_present and ref is not None:
                present.setdefault(b.dataset, set()).add(ref)
                here.add((b.version_id, row))
            else:
                doubtful.setdefault(b.dataset, set()).add((b.version_id, row))
    maybe = {d: len(rows - here) for d, rows in doubtful.items()}
    refs = sorted({r for got in present.values() for r in got})
    return (
        {d: len(got) for d, got in sorted(present.items())},
        {d: n for d, n in sorted(maybe.items()) if n},
        tuple(refs),
    )


def _by_dataset(counts: pl.DataFrame) -> dict[str, int]:
    return {d: int(n) for d, n in sorted(counts.iter_rows()) if n}


@dataclass(frozen=True, slots=True)
class FileReport:
    """The result of scanning one part (and, recursively, its parts)."""

    path: str
    media_type: str
    data_subjects: int  # distinct people in this part and everything nested in it
    own_data_subjects: int  # distinct people in this part's own content
    entities: dict[str, int]
    special_category: tuple[str, ...]
    uninspectable: str | None
    findings: tuple[Finding, ...]
    parts: tuple[FileReport, ...] = ()
    notes: tuple[str, ...] = ()
    # The people in this part and its sub-parts: one line per keyed 64-bit id
    # of their keys ("s": the person, "id": one of their ids), so that
    # containers and multi-file scans can merge the same person found in
    # several parts (see merge_subjects).  Not output.
    subjects: pl.DataFrame | None = None
    subjects_overflow: int = 0  # people counted beyond the deduplication bound
    # Registered people (exact data match) in this part's own content, a
    # block per dataset version.
    registered: tuple[Registered, ...] = ()

    def walk(self) -> Iterator[FileReport]:
        yield self
        for p in self.parts:
            yield from p.walk()

    def registered_matches(self) -> Iterator[RegisteredMatch]:
        """This part's own registered people, one by one."""
        for block in self.registered:
            yield from block

    @property
    def has_personal_data(self) -> bool:
        # counts, not the findings list: that one may be capped or dropped
        return any(r.entities or r.special_category for r in self.walk())

    @property
    def has_uninspectable(self) -> bool:
        return any(r.uninspectable for r in self.walk())


@dataclass(frozen=True, slots=True)
class ScanReport:
    files: tuple[FileReport, ...]
    data_subjects: int
    entities: dict[str, int]
    special_category: tuple[str, ...]
    uninspectable: int
    # Registered people over every file: present by dataset, possibly there
    # (name only) by dataset, and the refs of those present.
    registered_subjects: dict[str, int] = field(default_factory=dict)
    possible_subjects: dict[str, int] = field(default_factory=dict)
    subject_refs: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return any(f.has_personal_data or f.has_uninspectable for f in self.files)


SUBJECTS_SCHEMA = {"s": pl.UInt64, "id": pl.UInt64}


def merge_subjects(groups: Iterable[pl.DataFrame | None]) -> pl.DataFrame:
    """Distinct people over several subject frames (``s``, ``id``): two
    people are the same when they share any id.  Each person comes back once,
    as ``s`` = the smallest of their ids, with every id seen for them.

    Only the people with an id that appears on more than one line (someone
    else's, or their own seen twice) can merge; everyone else is already
    distinct and passes through untouched.  The few linked ones are joined
    into connected components by :func:`_components`."""
    frames = [g for g in groups if g is not None and g.height]
    if not frames:
        return pl.DataFrame(schema=SUBJECTS_SCHEMA)
    everyone = pl.concat(frames, rechunk=True)
    # numpy's sort finds the repeated ids several times quicker than a
    # polars hash over millions of lines; polars' is_in against that short
    # list is then quick.
    ordered = np.sort(everyone["id"].to_numpy())
    repeated = sorted_distinct(ordered[1:][ordered[1:] == ordered[:-1]])
    if not repeated.size:  # nobody shares an id: nothing to merge
        return everyone
    shared = everyone.filter(pl.col("id").is_in(pl.Series(repeated).implode()))
    is_linked = pl.col("s").is_in(shared["s"].unique().implode())
    edges = everyone.filter(is_linked).unique()
    settled = everyone.filter(~is_linked)
    person, ident = edges["s"].to_numpy(), edges["id"].to_numpy()
    nodes, label = _components(person, ident)
    merged = pl.DataFrame(
        {"s": nodes[label[np.searchsorted(nodes, ident)]], "id": ident}, schema=SUBJECTS_SCHEMA
    ).unique()
    return pl.concat([settled, merged])


def _components(
    a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Connected components of the graph with edges ``a[i]``--``b[i]``: the
    sorted distinct node values, and for each node the index of the smallest
    node in its component.  Minimum-label propagation with pointer jumping;
    a label only ever falls and always names a node of the same component,
    so when no edge joins two labels each component carries its minimum."""
    nodes, at = np.unique(np.concatenate([a, b]), return_inverse=True)
    ea, eb = at[: len(a)], at[len(a) :]
    label = np.arange(len(nodes))
    while True:
        low = np.minimum(label[ea], label[eb])
        new = label.copy()
        np.minimum.at(new, ea, low)
        np.minimum.at(new, eb, low)
        new = new[new]  # jump: the label of the label
        if np.array_equal(new, label):
            return nodes, label
        label = new


def sorted_distinct(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The distinct values, sorted: ``np.unique`` by sorting (numpy's own
    ``unique`` hashes, several times slower on millions of 64-bit ids)."""
    ordered: np.ndarray[Any, Any] = np.sort(values)
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


def count_subjects(subjects: pl.DataFrame) -> int:
    """The number of distinct people in a subject frame."""
    return int(sorted_distinct(subjects["s"].to_numpy()).size)


def merge_counts(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return dict(sorted(total.items()))
