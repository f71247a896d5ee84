"""Exact data match: which registered people (HR master, patient list ...) a
part holds.

A registered row is indexed as *match keys*: a keyed 64-bit hash of each
unique identifier (the row's key, NINO, NHS number, e-mail, phone, bank
account), of the name alone, and of the name paired with the date of birth
and with the postcode.  A scan normalises its candidate values the same way
and looks their hashes up in sorted numpy arrays; a person is

* **present** when a unique identifier of theirs matches, or their name
  together with their date of birth or postcode (one table row, or a short
  window of prose) — a pair is one lookup, so nothing is joined in memory,
  and it decides only if no other registered person has the same pair;
* **possible** when only their name matches (names that more than
  :data:`MAX_NAMESAKES` registered people share point at nobody).

Match keys are keyed BLAKE2b (the key derived from the root secret, purpose
``PURPOSE_DATASET_MATCH``), 64 bits, with the field code in the low 4 bits.
BLAKE2b's keyed mode is a PRF by design (no HMAC wrapper needed), so without
the secret nobody can test a guessed value against the index; it costs
≈ 0.5 µs a value in ``hashlib``, a third of HMAC-SHA256.  What users see and
what the audit stores are the subject refs (``hk1:`` HMAC-SHA256, 128 bits),
never match keys.

False matches: a key has 60 free bits.  A value that is not registered
matches one of the ``n`` registered keys of its field by chance with
probability ``n / 2**60``: at 10 M rows, 8.7e-12 per looked-up value, so a
scan of 10 M identifier cells against a 10 M-row dataset expects 9e-5 false
"present" results.  A false *pair* needs the same luck.
"""

from __future__ import annotations

import hashlib
import re
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property, lru_cache

import numpy as np
import polars as pl

from shareguard.detect.names import TITLES
from shareguard.detect.types import Candidate
from shareguard.keys import derive_key
from shareguard.model import EntityType as E
from shareguard.model import RegisteredMatch

PURPOSE_DATASET_MATCH = b"shareguard/dataset-match/v1"


class Field(IntEnum):
    """Match-key field codes (stored in the low 4 bits of each key: never renumber)."""

    KEY = 1
    UK_NINO = 2
    UK_NHS = 3
    EMAIL_ADDRESS = 4
    PHONE_NUMBER = 5
    UK_BANK_ACCOUNT = 6
    PERSON = 7
    PERSON_DOB = 8
    PERSON_POSTCODE = 9


# Field types a dataset column can have (``--columns COL=TYPE``).  Dates of
# birth and postcodes are indexed only paired with the name.
COLUMN_TYPES = (
    "KEY",
    E.PERSON.value,
    "GIVEN_NAME",
    "FAMILY_NAME",
    E.DATE_OF_BIRTH.value,
    E.UK_POSTCODE.value,
    E.UK_NINO.value,
    E.UK_NHS.value,
    E.EMAIL_ADDRESS.value,
    E.PHONE_NUMBER.value,
    E.UK_BANK_ACCOUNT.value,
)
UNIQUE_FIELDS = frozenset(
    {
        Field.KEY,
        Field.UK_NINO,
        Field.UK_NHS,
        Field.EMAIL_ADDRESS,
        Field.PHONE_NUMBER,
        Field.UK_BANK_ACCOUNT,
    }
)
PAIR_FIELDS = frozenset({Field.PERSON_DOB, Field.PERSON_POSTCODE})
# What a matched key says about the person, as entity types (explanations).
FIELD_TYPES: dict[Field, tuple[str, ...]] = {
    Field.KEY: ("KEY",),
    Field.UK_NINO: (E.UK_NINO.value,),
    Field.UK_NHS: (E.UK_NHS.value,),
    Field.EMAIL_ADDRESS: (E.EMAIL_ADDRESS.value,),
    Field.PHONE_NUMBER: (E.PHONE_NUMBER.value,),
    Field.UK_BANK_ACCOUNT: (E.UK_BANK_ACCOUNT.value,),
    Field.PERSON: (E.PERSON.value,),
    Field.PERSON_DOB: (E.PERSON.value, E.DATE_OF_BIRTH.value),
    Field.PERSON_POSTCODE: (E.PERSON.value, E.UK_POSTCODE.value),
}
_ENTITY_FIELD: dict[str, Field] = {
    E.UK_NINO.value: Field.UK_NINO,
    E.UK_NHS.value: Field.UK_NHS,
    E.EMAIL_ADDRESS.value: Field.EMAIL_ADDRESS,
    E.PHONE_NUMBER.value: Field.PHONE_NUMBER,
    E.UK_BANK_ACCOUNT.value: Field.UK_BANK_ACCOUNT,
}
_PAIRED: dict[str, Field] = {
    E.DATE_OF_BIRTH.value: Field.PERSON_DOB,
    E.UK_POSTCODE.value: Field.PERSON_POSTCODE,
}
_LOW4 = np.uint64(0xF)
_EMPTY_U64 = np.zeros(0, dtype=np.uint64)


# --------------------------------------------------------------------------- normalising

_TITLE_RE = "|".join(sorted(TITLES))


def fold_names(names: pl.Series) -> pl.Series:
    """The name as matched: accents and case folded, "SURNAME, Given" turned
    round, titles and punctuation dropped, then first and last word only
    (middle names come and go between systems).  Null for one word."""
    low = names.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase()
    turned = low.str.replace(r"^\s*([^,]*?)\s*,\s*(.+)$", "${2} ${1}")
    words = turned.str.replace_all(r"['’]", "").str.replace_all(r"[^\p{L}]+", " ")
    words = words.str.strip_chars(" ").str.replace(rf"^(?:(?:{_TITLE_RE}) )+", "")
    first = words.str.extract(r"^(\S+)", 1)
    last = words.str.extract(r"(\S+)$", 1)
    return pl.select(pl.when(first != last).then(first + " " + last)).to_series().rename("n")


def fold_name(name: str) -> str | None:
    return fold_names(pl.Series([name], dtype=pl.String))[0]  # type: ignore[no-any-return]


def fold_key(values: pl.Series) -> pl.Series:
    """A key column's value: upper-case, no spaces."""
    return values.str.replace_all(r"\s+", "").str.to_uppercase()


# --------------------------------------------------------------------------- hashing


@dataclass(frozen=True, slots=True)
class MatchHasher:
    """Keyed BLAKE2b-64 match keys, the field code in the low 4 bits."""

    key: bytes

    @classmethod
    def from_root(cls, root: bytes) -> MatchHasher:
        return cls(derive_key(root, PURPOSE_DATASET_MATCH))

    def keys(self, code: Field, values: Iterable[str]) -> np.ndarray:
        base = hashlib.blake2b(key=self.key, digest_size=8)
        copy = base.copy
        prefix = f"{int(code)}\x1f"
        out: list[bytes] = []
        append = out.append
        for v in values:
            h = copy()
            h.update((prefix + v).encode())
            append(h.digest())
        if not out:
            return _EMPTY_U64
        raw = np.frombuffer(b"".join(out), dtype="<u8").astype(np.uint64)
        return (raw & ~_LOW4) | np.uint64(int(code))

    def pair_keys(self, code: Field, names: Iterable[str], others: Iterable[str]) -> np.ndarray:
        return self.keys(code, (f"{n}\x1e{o}" for n, o in zip(names, others, strict=True)))


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True)
class DatasetIndex:
    """One registered dataset version: match keys sorted, with the row each
    came from.  ``refs`` turns rows into subject refs (read from the store
    only for the rows a scan matched, so they cost no memory here)."""

    name: str
    version_id: int
    keys: np.ndarray  # uint64, sorted
    rows: np.ndarray  # uint32, the row of each key
    fields: frozenset[Field]
    key_pattern: str | None  # the shape of the key column's values, for prose
    refs: Callable[[Sequence[int]], dict[int, str]]

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.rows.nbytes)

    def lookup(
        self, queries: np.ndarray, limits: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(query position, registered row) for every key found; a query
        whose key more than ``limits[i]`` rows share finds nothing."""
        order = np.argsort(queries)  # sorted queries walk the keys in order: fewer cache misses
        ordered = queries[order]
        lo = np.empty_like(order)
        hi = np.empty_like(order)
        lo[order] = np.searchsorted(self.keys, ordered, "left")
        hi[order] = np.searchsorted(self.keys, ordered, "right")
        counts = hi - lo
        if limits is not None:
            counts[counts > limits] = 0
        hit = np.nonzero(counts)[0]
        if not hit.size:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        counts = counts[hit]
        qi = np.repeat(hit, counts)
        first = np.repeat(lo[hit] - (np.cumsum(counts) - counts), counts)
        pos = first + np.arange(int(counts.sum()))
        return qi, self.rows[pos]


@dataclass(frozen=True)
class EdmIndex:
    """Every registered dataset's current version."""

    hasher: MatchHasher
    datasets: tuple[DatasetIndex, ...]
    signature: tuple[tuple[int, int], ...] = ()  # (dataset id, version id), to notice changes

    @property
    def nbytes(self) -> int:
        return sum(d.nbytes for d in self.datasets)

    @cached_property
    def key_shape(self) -> str | None:
        """One regex for the key values of every dataset (folded as :func:`fold_key`)."""
        shapes = [f"(?:{d.key_pattern})" for d in self.datasets if d.key_pattern]
        return f"^(?:{'|'.join(shapes)})$" if shapes else None

    def wants(self, entity: str) -> bool:
        f = _ENTITY_FIELD.get(entity)
        if f is not None:
            return any(f in d.fields for d in self.datasets)
        if entity in _PAIRED:
            return any(_PAIRED[entity] in d.fields for d in self.datasets)
        return entity == E.PERSON.value and any(Field.PERSON in d.fields for d in self.datasets)


@dataclass
class EdmSource:
    """The index a scanner matches against, reloaded when a dataset is
    registered, refreshed or dropped.  ``signature`` is a cheap query (one
    row per dataset) run at most every ``check_every`` seconds; ``load``
    runs only when it changed and names some dataset, so a store without
    datasets costs a scan one small query."""

    load: Callable[[], EdmIndex]
    signature: Callable[[], tuple[tuple[int, int], ...]]
    check_every: float = 2.0
    _index: EdmIndex | None = None
    _checked: float = 0.0

    def current(self) -> EdmIndex:
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.check_every:
            return self._index
        self._checked = now
        sig = self.signature()
        if self._index is None or sig != self._index.signature:
            self._index = self.load() if sig else EdmIndex(MatchHasher(b""), (), ())
        return self._index


# --------------------------------------------------------------------------- matching


def explain(fields: Iterable[str]) -> str:
    """ "name + date of birth": matched field types in words, never values."""
    return " + ".join(_PLAIN.get(f, f.lower()) for f in fields)


_PLAIN = {
    "KEY": "record key",
    E.PERSON.value: "name",
    E.DATE_OF_BIRTH.value: "date of birth",
    E.UK_POSTCODE.value: "postcode",
    E.UK_NINO.value: "NI number",
    E.UK_NHS.value: "NHS number",
    E.EMAIL_ADDRESS.value: "e-mail",
    E.PHONE_NUMBER.value: "phone",
    E.UK_BANK_ACCOUNT.value: "bank account",
}


@dataclass(frozen=True)
class Probe:
    """Match keys to look up: ``groups`` says which table row or prose
    window each came from, ``categories(groups)`` the entity types found in
    each of those groups (bit ``i`` for ``ENTITY_ORDER[i]``)."""

    groups: np.ndarray  # int64
    codes: np.ndarray  # int64 Field values
    keys: np.ndarray  # uint64
    categories: Callable[[np.ndarray], np.ndarray]


ENTITY_ORDER: tuple[str, ...] = tuple(str(t) for t in E)
_ENTITY_BIT = {t: 1 << i for i, t in enumerate(ENTITY_ORDER)}
# A name alone shared by more registered people than this points at none of
# them: it is not reported as a possible match of each (and is not expanded).
MAX_NAMESAKES = 5
_NO_LIMIT = np.iinfo(np.int64).max
_DECISIVE = UNIQUE_FIELDS | PAIR_FIELDS
_DECISIVE_CODES = [int(f) for f in _DECISIVE]
_PAIR_CODES = [int(f) for f in PAIR_FIELDS]
_HITS = {"g": pl.Int64, "c": pl.Int64, "r": pl.Int64, "b": pl.Int64}
_PRESENT = {"r": pl.Int64, "f": pl.Int64, "k": pl.Int64}


@dataclass
class PartMatches:
    """The registered people of one part, gathered over its tables and text:
    per dataset, the rows present (matched fields and categories as bit
    sets) and the rows possibly there (name only).  Kept as polars frames:
    a table of a million registered people is a million hits."""

    present: dict[int, list[pl.DataFrame]] = field(default_factory=dict)
    possible: dict[int, list[pl.Series]] = field(default_factory=dict)

    def add(self, index: EdmIndex, probe: Probe) -> np.ndarray:
        """Look the probe up; the groups decided (someone present) in every
        dataset that matches names."""
        none = np.zeros(0, dtype=np.int64)
        if not probe.keys.size:
            return none
        decided_all: np.ndarray | None = None
        limits = np.full(len(probe.codes), _NO_LIMIT, dtype=np.int64)
        limits[probe.codes == int(Field.PERSON)] = MAX_NAMESAKES
        # a name with a birth date or postcode that several registered people
        # share singles out none of them: only a unique pair decides
        limits[np.isin(probe.codes, _PAIR_CODES)] = 1
        for d, ds in enumerate(index.datasets):
            qi, rows = ds.lookup(probe.keys, limits)
            if not qi.size:
                if Field.PERSON in ds.fields:
                    decided_all = none
                continue
            codes = probe.codes[qi]
            hits = pl.DataFrame(
                {"g": probe.groups[qi], "c": codes, "r": rows.astype(np.int64), "b": 1 << codes},
                schema=_HITS,
            )
            decisive = hits.filter(pl.col("c").is_in(_DECISIVE_CODES)).select("g", "r").unique()
            if decisive.height:
                # every field of the person matched in the groups that decide it
                fields = (
                    hits.join(decisive, on=["g", "r"], how="semi")
                    .group_by("g", "r")
                    .agg(f=pl.col("b").bitwise_or())
                )
                cats = probe.categories(fields["g"].to_numpy())
                self.present.setdefault(d, []).append(
                    fields.select("r", "f", k=pl.Series(cats, dtype=pl.Int64))
                )
            names = hits.filter(pl.col("c") == int(Field.PERSON)).join(
                decisive.select("g"), on="g", how="anti"
            )
            if names.height:
                self.possible.setdefault(d, []).append(names["r"].unique())
            if Field.PERSON in ds.fields:
                groups = decisive["g"].unique().to_numpy()
                decided_all = groups if decided_all is None else np.intersect1d(decided_all, groups)
        return none if decided_all is None else decided_all

    def results(self, index: EdmIndex) -> tuple[RegisteredMatch, ...]:
        out: list[RegisteredMatch] = []
        for d in sorted(set(self.present) | set(self.possible)):
            ds = index.datasets[d]
            frames = self.present.get(d, [])
            found = (
                pl.concat(frames)
                .group_by("r")
                .agg(pl.col("f").bitwise_or(), pl.col("k").bitwise_or())
                .sort("r")
                if frames
                else pl.DataFrame(schema=_PRESENT)
            )
            refs = ds.refs(found["r"].to_list()) if found.height else {}
            for r, f, k in found.iter_rows():
                types, cats = _explained(f, k)
                out.append(
                    RegisteredMatch(ds.name, ds.version_id, r, True, types, cats, refs.get(r))
                )
            maybe = self.possible.get(d, [])
            if maybe:
                rows = pl.concat(maybe).unique().sort()
                rows = rows.filter(~rows.is_in(found["r"].implode()))
                person = (E.PERSON.value,)
                out.extend(
                    RegisteredMatch(ds.name, ds.version_id, r, False, person, person)
                    for r in rows.to_list()
                )
        return tuple(out)


@lru_cache(maxsize=4096)
def _explained(fields: int, categories: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(matched field types, categories) of bit sets, names in a fixed order."""
    types = {t for f in Field if fields >> int(f) & 1 for t in FIELD_TYPES[f]}
    cats = {t for t, bit in _ENTITY_BIT.items() if categories & bit} | types
    return tuple(sorted(types, key=_type_order)), tuple(sorted(cats - {"KEY"}))


def _type_order(t: str) -> tuple[int, str]:
    order = list(_PLAIN)
    return (order.index(t) if t in order else len(order), t)


_LONG = {"row": pl.UInt32, "e": pl.String, "v": pl.String}


def match_table(
    matches: PartMatches,
    index: EdmIndex,
    found: Sequence[tuple[str, pl.Series]],
    extra: Sequence[tuple[int, Candidate]],
    key_cells: Sequence[pl.Series],
) -> None:
    """Match a table chunk's rows into ``matches``.  ``found`` holds each
    classified column's entity type and normalised values (null where none),
    ``extra`` the candidates found in free-text cells, ``key_cells`` the raw
    cells of the columns that may hold a dataset's key."""
    parts = [_long(entity, norm) for entity, norm in found]
    if extra:
        parts.append(
            pl.DataFrame(
                {
                    "row": [r for r, _ in extra],
                    "e": [c.type for _, c in extra],
                    "v": [c.key for _, c in extra],
                },
                schema=_LONG,
            )
        )
    long = pl.concat(parts) if parts else pl.DataFrame(schema=_LONG)
    width = max((len(norm) for _, norm in found), default=0)
    width = max(width, max((r + 1 for r, _ in extra), default=0))
    width = max(width, max((len(c) for c in key_cells), default=0))
    bits = np.zeros(width, dtype=np.int64)
    for entity, norm in found:
        if entity in _ENTITY_BIT:
            bits[: len(norm)] |= norm.is_not_null().to_numpy() * _ENTITY_BIT[entity]
    for r, c in extra:
        bits[r] |= _ENTITY_BIT.get(c.type, 0)

    def categories(groups: np.ndarray) -> np.ndarray:
        return np.asarray(bits[groups], dtype=np.int64)

    _match(matches, index, long, key_cells, 0, categories)


def _long(entity: str, norm: pl.Series) -> pl.DataFrame:
    rows = pl.int_range(len(norm), dtype=pl.UInt32, eager=True)
    frame = pl.DataFrame({"row": rows, "v": norm.cast(pl.String)}).drop_nulls()
    return frame.select("row", e=pl.lit(entity, pl.String), v="v")


def _match(
    matches: PartMatches,
    index: EdmIndex,
    long: pl.DataFrame,
    key_cells: Sequence[pl.Series],
    key_group: int,
    categories: Callable[[np.ndarray], np.ndarray],
) -> None:
    """Hash what the index can match and look it up, in two rounds: unique
    identifiers and key-shaped cells (group = ``key_group`` + position)
    first, then names and name pairs of the groups the first round left
    undecided in some dataset, so that a staff table whose NI numbers
    already name everyone costs no name folding and half the hashing."""
    h = index.hasher
    first = _Keys()
    long = long.filter(pl.col("e").is_in(_wanted(index)))
    for entity, code in _ENTITY_FIELD.items():
        sub = long.filter(pl.col("e") == entity).unique(["row", "v"])
        if sub.height:
            first.put(code, sub["row"], h.keys(code, sub["v"].to_list()))
    shape = index.key_shape
    if shape is not None:
        for cells in key_cells:
            rows = pl.int_range(len(cells), dtype=pl.Int64, eager=True) + key_group
            frame = pl.DataFrame({"row": rows, "v": fold_key(cells)})
            frame = frame.filter(
                pl.col("v").str.contains(shape) & pl.col("v").str.contains("[0-9]")
            )
            if frame.height:
                first.put(Field.KEY, frame["row"], h.keys(Field.KEY, frame["v"].to_list()))
    decided = matches.add(index, first.probe(categories))
    people = long.filter(pl.col("e") == E.PERSON.value)
    if decided.size:
        people = people.filter(~pl.col("row").cast(pl.Int64).is_in(pl.Series(decided).implode()))
    if not people.height:
        return
    second = _Keys()
    people = people.with_columns(v=fold_names(people["v"])).drop_nulls().unique(["row", "v"])
    second.put(Field.PERSON, people["row"], h.keys(Field.PERSON, people["v"].to_list()))
    for entity, code in _PAIRED.items():
        other = long.filter(pl.col("e") == entity).unique(["row", "v"])
        pairs = people.join(other, on="row")
        if pairs.height:
            hashed = h.pair_keys(code, pairs["v"].to_list(), pairs["v_right"].to_list())
            second.put(code, pairs["row"], hashed)
    matches.add(index, second.probe(categories))


@dataclass
class _Keys:
    """Match keys being gathered for one lookup."""

    groups: list[np.ndarray] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)
    keys: list[np.ndarray] = field(default_factory=list)

    def put(self, code: Field, rows: pl.Series, hashed: np.ndarray) -> None:
        self.groups.append(rows.cast(pl.Int64).to_numpy())
        self.codes.append(np.full(len(hashed), int(code), dtype=np.int64))
        self.keys.append(hashed)

    def probe(self, categories: Callable[[np.ndarray], np.ndarray]) -> Probe:
        if not self.keys:
            empty = np.zeros(0, dtype=np.int64)
            return Probe(empty, empty, _EMPTY_U64, categories)
        return Probe(
            np.concatenate(self.groups),
            np.concatenate(self.codes),
            np.concatenate(self.keys),
            categories,
        )


def _wanted(index: EdmIndex) -> list[str]:
    return [e for e in (*_ENTITY_FIELD, *_PAIRED, E.PERSON.value) if index.wants(e)]


# --------------------------------------------------------------------------- prose

# How far apart (characters) a name and a date of birth or postcode may be
# and still be read as one person's ("Jane Smith, 12 Oak Road, LS1 4AB").
PROSE_WINDOW = 120
# "SMITH, Jane" and "Smith, Jane": the detectors read these as two words.
_SURNAME_FIRST = re.compile(
    r"\b([^\W\d_][^\W\d_'’\-]*(?:['’\-][^\W\d_]+)*),[ \t]+"
    r"([^\W\d_][^\W\d_'’\-]*(?:[ \t]+[^\W\d_][^\W\d_'’\-]*)?)\b"
)
_DATE = re.compile(
    r"\b(\d{1,2})[/.\- ](\d{1,2}|[A-Za-z]{3,9})[/.\- ](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b"
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}


def _iso(m: re.Match[str]) -> str | None:
    if m.group(4):
        y, mo, d = int(m.group(4)), int(m.group(5)), int(m.group(6))
    else:
        d, y = int(m.group(1)), int(m.group(3))
        month = m.group(2)
        mo = int(month) if month.isdigit() else _MONTHS.get(month[:3].lower(), 0)
    if not (1 <= mo <= 12 and 1 <= d <= 31 and 1850 <= y <= 2100):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def match_text(
    matches: PartMatches, index: EdmIndex, candidates: Sequence[Candidate], text: str
) -> None:
    """Match one text into ``matches``.  Each person mention is a group: its
    name, and the name paired with every date and postcode within
    :data:`PROSE_WINDOW` characters; each identifier and key-shaped token is
    a group of its own.  A group's categories are the entity types found
    within the window around it."""
    mentions: list[tuple[int, int, str]] = [
        (c.start, c.end, c.key) for c in candidates if c.type == E.PERSON.value
    ]
    for m in _SURNAME_FIRST.finditer(text):
        if not (m.group(1)[0].isupper() and m.group(2)[0].isupper()):
            continue
        inside = [t for t in mentions if m.start() < t[1] and t[0] < m.end()]
        if m.group(1).isupper():  # "SMITH, Jane": replaces the parts the detectors read
            mentions = [t for t in mentions if t not in inside]
        elif inside:  # "Ann Jones, Peter Brown" is a list, not "Peter Brown Jones"
            continue
        mentions.append((m.start(), m.end(), f"{m.group(2)} {m.group(1)}"))
    paired: list[tuple[int, str, str]] = [
        (c.start, c.type, c.key) for c in candidates if c.type in _PAIRED
    ]
    for m in _DATE.finditer(text):  # dates of birth without a context word
        iso = _iso(m)
        if iso is not None:
            paired.append((m.start(), E.DATE_OF_BIRTH.value, iso))
    rows: list[int] = []
    ents: list[str] = []
    vals: list[str] = []
    spans: list[tuple[int, int]] = []
    for start, end, name in mentions:
        group = len(spans)
        spans.append((start, end))
        rows.append(group)
        ents.append(E.PERSON.value)
        vals.append(name)
        for pos, entity, value in paired:
            if start - PROSE_WINDOW <= pos <= end + PROSE_WINDOW:
                rows.append(group)
                ents.append(entity)
                vals.append(value)
    for c in candidates:
        if c.type in _ENTITY_FIELD:
            rows.append(len(spans))
            spans.append((c.start, c.end))
            ents.append(c.type)
            vals.append(c.key)
    tokens: list[str] = []
    if index.key_shape is not None:
        for m in _TOKEN.finditer(text):
            if any(ch.isdigit() for ch in m.group()):
                tokens.append(m.group())
                spans.append((m.start(), m.end()))
    key_group = len(spans) - len(tokens)
    entities = sorted((c.start, c.type) for c in candidates if c.type in _ENTITY_TYPES)
    positions = [p for p, _ in entities]

    def categories(groups: np.ndarray) -> np.ndarray:
        out = np.zeros(len(groups), dtype=np.int64)
        for i, g in enumerate(groups.tolist()):
            start, end = spans[g]
            lo = bisect_left(positions, start - PROSE_WINDOW)
            hi = bisect_right(positions, end + PROSE_WINDOW)
            for _, t in entities[lo:hi]:
                out[i] |= _ENTITY_BIT[t]
        return out

    long = pl.DataFrame({"row": rows, "e": ents, "v": vals}, schema=_LONG)
    cells = [pl.Series("k", tokens, dtype=pl.String)] if tokens else []
    _match(matches, index, long, cells, key_group, categories)


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._\-]*[A-Za-z0-9]")
_ENTITY_TYPES = frozenset(str(t) for t in E)


# --------------------------------------------------------------------------- registering

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%Y/%m/%d",
)


def normalise_dates(values: pl.Series) -> pl.Series:
    """ISO dates from the layouts registers use (time of day dropped)."""
    v = values.str.strip_chars().str.replace(r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", "")
    parsed = [v.str.to_date(fmt, strict=False) for fmt in _DATE_FORMATS]
    return pl.select(pl.coalesce(parsed)).to_series().dt.to_string("%Y-%m-%d")


_BANK_PLAIN = r"^(\d{2})[- ]?(\d{2})[- ]?(\d{2})\s*(?:[/,;|:]\s*)?(\d{7,8})$"


def _per_value(values: pl.Series, fn: Callable[[str], str | None]) -> pl.Series:
    uniq = values.drop_nulls().unique()
    table = pl.DataFrame({"v": uniq, "n": [fn(v) for v in uniq.to_list()]}, schema=_VN)
    frame = pl.DataFrame({"v": values}).join(table, on="v", how="left", maintain_order="left")
    return frame["n"]


_VN = {"v": pl.String, "n": pl.String}


def _by_column_check(kind: str, values: pl.Series) -> pl.Series:
    """Identifiers normalised by the scanner's own column check (vectorised
    rule, per-cell validator for the rest): registering and scanning cannot
    disagree, and a value the scanner would never report is not indexed."""
    from shareguard.detect.columnar import FIXED_RULES, ColumnCheck
    from shareguard.detect.identifiers import CELL_VALIDATORS, validate_phone
    from shareguard.detect.tables import column_phone

    def phone(value: str) -> str | None:
        return column_phone(value) or validate_phone(value, strict=False)

    fallback = phone if kind == E.PHONE_NUMBER.value else CELL_VALIDATORS[kind]
    check = ColumnCheck(FIXED_RULES.get(kind), fallback, {})
    return check(values.fill_null("")).rename(values.name)


def _bank_accounts(values: pl.Series) -> pl.Series:
    """Sort code and account as the validator gives them ("123456-01234567"),
    the plain layouts vectorised and the rest by the validator."""
    from shareguard.detect.identifiers import validate_bank_account

    v = values.str.strip_chars()
    parts = v.str.extract_groups(_BANK_PLAIN)
    account = parts.struct.field("4")
    digits = parts.struct.field("1") + parts.struct.field("2") + parts.struct.field("3")
    frame = pl.DataFrame({"a": account, "s": digits})
    same = pl.col("a").str.count_matches(pl.col("a").str.slice(0, 1), literal=True)
    plain = frame.select(  # "11111111" is no account (as the validator says)
        pl.when(pl.col("a").is_not_null() & (same != pl.col("a").str.len_chars())).then(
            pl.col("s") + "-" + pl.col("a").str.zfill(8)
        )
    ).to_series()
    rest = v.is_not_null() & plain.is_null()
    if not rest.any():
        return plain
    return plain.scatter(rest.arg_true(), _per_value(v.filter(rest), validate_bank_account))


def normalise_column(kind: str, values: pl.Series) -> pl.Series:
    """A registered column's values in the form scans produce (null if empty
    or, for identifiers, if the scanner would not report the value)."""
    v = values.cast(pl.String)
    v = pl.select(pl.when(v.str.strip_chars() != "").then(v)).to_series()
    if kind == E.PERSON.value:
        return fold_names(v)
    if kind == E.DATE_OF_BIRTH.value:
        return normalise_dates(v)
    if kind == "KEY":
        return fold_key(v)
    if kind in (E.UK_POSTCODE.value, E.UK_NINO.value, E.UK_NHS.value):
        v = v.str.replace_all(r"\s+", " ").str.strip_chars()
        if kind == E.UK_NINO.value:  # "AB 12 34 56 C": the column check wants it whole
            v = v.str.replace_all(" ", "")
        return _by_column_check(kind, v)
    if kind in (E.EMAIL_ADDRESS.value, E.PHONE_NUMBER.value):
        return _by_column_check(kind, v.str.strip_chars())
    if kind == E.UK_BANK_ACCOUNT.value:
        return _bank_accounts(v)
    raise ValueError(f"no normalisation for column type {kind}")


def build_match_keys(
    hasher: MatchHasher, fields: dict[str, pl.Series]
) -> tuple[np.ndarray, np.ndarray, frozenset[Field]]:
    """The sorted match keys of registered rows and the row of each.
    ``fields`` maps KEY and entity types (PERSON already put together from
    given and family names) to normalised values, one per row."""
    keys: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    present: set[Field] = set()

    def put(code: Field, values: pl.Series) -> None:
        idx = values.is_not_null().arg_true()
        if idx.len():
            keys.append(hasher.keys(code, values.gather(idx).to_list()))
            rows.append(idx.cast(pl.UInt32).to_numpy())
            present.add(code)

    if "KEY" in fields:
        put(Field.KEY, fields["KEY"])
    for entity, code in _ENTITY_FIELD.items():
        if entity in fields:
            put(code, fields[entity])
    name = fields.get(E.PERSON.value)
    if name is not None:
        put(Field.PERSON, name)
        for entity, code in _PAIRED.items():
            if entity in fields:
                pair = pl.select(
                    pl.when(name.is_not_null() & fields[entity].is_not_null()).then(
                        name + "\x1e" + fields[entity]
                    )
                ).to_series()
                idx = pair.is_not_null().arg_true()
                if idx.len():
                    keys.append(hasher.keys(code, pair.gather(idx).to_list()))
                    rows.append(idx.cast(pl.UInt32).to_numpy())
                    present.add(code)
    if not keys:
        return _EMPTY_U64, np.zeros(0, dtype=np.uint32), frozenset()
    all_keys = np.concatenate(keys)
    all_rows = np.concatenate(rows)
    order = np.argsort(all_keys, kind="stable")
    return all_keys[order], all_rows[order], frozenset(present)


def key_pattern(keys: pl.Series) -> str | None:
    """A regex for the shape of a dataset's (folded) key values, so that
    scans hash only cells that could be one: their characters and lengths.
    None when keys are too short or too plain to look for outside their own
    column ("1234" is everywhere): under 5 characters, without a digit, or
    with characters other than letters, digits and ``-/._``."""
    k = keys.drop_nulls()
    if k.is_empty() or not k.str.contains(r"[0-9]").all():
        return None
    lengths = k.str.len_chars()
    lo, hi = int(lengths.min()), int(lengths.max())  # type: ignore[arg-type]
    marks = set("".join(k.str.replace_all(r"[A-Z0-9]", "").unique().to_list()))
    if lo < 5 or not marks <= set("-/._"):
        return None
    chars = ("A-Z0-9" if k.str.contains(r"[A-Z]").any() else "0-9") + "".join(
        "\\" + m if m in "-." else m for m in sorted(marks)
    )
    return f"[{chars}]{{{lo},{hi}}}"


def infer_column_types(header: Sequence[str], rows: Sequence[Sequence[str]]) -> dict[str, str]:
    """Column types for a dataset file, as the scanner's column classifier
    reads its header and first rows; columns of no matchable type left out."""
    from shareguard.detect.columns import SAMPLE_ROWS, classify_columns

    plan = classify_columns([list(header), *[list(r) for r in rows[: SAMPLE_ROWS - 1]]])
    out: dict[str, str] = {}
    for c in plan.columns:
        if c.index >= len(header):
            continue
        if c.name_part == "given":
            kind: str | None = "GIVEN_NAME"
        elif c.name_part == "family":
            kind = "FAMILY_NAME"
        elif c.name_part == "title":
            kind = None
        else:
            kind = c.entity
        if kind in COLUMN_TYPES:
            out[header[c.index]] = kind
    return out
