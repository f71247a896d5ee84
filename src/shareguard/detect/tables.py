"""Scan a table: classify its columns from a sample, then stream every row.

The plan is made once; each cell of a classified column then costs one
validator call (answers are remembered in columns whose values repeat), and
each free-text cell one call of the prose detectors (once per distinct text).
Rows are never held beyond the 200-row sample, so a multi-gigabyte CSV streams
in constant memory.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import groupby, islice, zip_longest

import numpy as np
import polars as pl

from shareguard.detect.columnar import FIXED_RULES, ColumnCheck, Rule, dob_rule, person_rule
from shareguard.detect.columns import (
    SAMPLE_ROWS,
    SELF_EVIDENT,
    STRONG_SHARE,
    ColumnRole,
    TablePlan,
    classify_columns,
)
from shareguard.detect.identifiers import CELL_VALIDATORS, validate_dob_cell, validate_phone
from shareguard.detect.names import ORG_WORDS, TITLES, split_title
from shareguard.detect.subjects import subject_keys
from shareguard.detect.types import Candidate
from shareguard.model import EntityType, Row, SpecialCategory, Table

DETECTOR = "table"
_SPECIAL = frozenset(str(c) for c in SpecialCategory)
_PERSON = EntityType.PERSON.value
_MEMO_LIMIT = 100_000
_MEMO_TEXT_CHARS = 300
# Columns still unknown after the sample (empty at the top) are re-judged on
# this many later values.
_LATE_SAMPLE = 20
# Rows checked together: big enough that polars' per-call cost vanishes,
# small enough that a chunk's cells stay a few MB.
CHUNK_ROWS = 50_000

Validator = Callable[[str], "str | None"]
TextDetector = Callable[[str], list[Candidate]]


RowCandidates = tuple[int, list[Candidate]]


@dataclass(slots=True)
class TableChunk:
    """Up to :data:`CHUNK_ROWS` consecutive rows, scanned.  ``counts`` and
    ``found`` are exact; the candidates themselves are made only when
    ``rows()`` is called (the Scanner lists the first findings, then counts)."""

    counts: Counter[str]  # entity candidates by type (special-category evidence apart)
    found: int  # every candidate, special-category evidence included
    keys: pl.DataFrame  # the rows' data subjects, as ``subjects.subject_keys`` gives
    rows: Callable[[], Iterator[RowCandidates]]
    # For exact data match: each classified column's (entity, normalised
    # values), the (row in chunk, candidate) pairs of free-text cells, and
    # the raw cells of the other columns (where a dataset's key may be).
    columns: Sequence[tuple[str, pl.Series]] = ()
    extra: Sequence[tuple[int, Candidate]] = ()
    other_cells: Sequence[pl.Series] = ()


@dataclass(slots=True)
class TableScan:
    """A table being scanned.  ``chunks`` streams the table; ``special`` and
    ``rows_scanned`` are complete once it is exhausted.  ``rows`` yields
    ``(row number, candidates)`` for each row with findings (candidates of a
    column recognised only after its first values come after the other rows)."""

    plan: TablePlan
    chunks: Iterator[TableChunk]
    special: set[str] = field(default_factory=set)
    rows_scanned: int = 0

    @property
    def rows(self) -> Iterator[RowCandidates]:
        for chunk in self.chunks:
            yield from chunk.rows()


def _memo_text(detect_text: TextDetector) -> Callable[[str], tuple[Candidate, ...]]:
    """Notes and descriptions repeat ("Left message", "Laptop refresh") and the
    prose detectors cost tens of microseconds a cell: run them once per text."""
    seen: dict[str, tuple[Candidate, ...]] = {}

    def run(text: str) -> tuple[Candidate, ...]:
        hit = seen.get(text)
        if hit is None:
            hit = tuple(detect_text(text))
            if len(text) <= _MEMO_TEXT_CHARS:
                if len(seen) >= _MEMO_LIMIT:
                    seen.clear()
                seen[text] = hit
        return hit

    return run


def _label(c: ColumnRole) -> str:
    return c.header if c.header else f"column {c.index + 1}"


def _memo(fn: Validator) -> Validator:
    """Grades, dates and postcodes repeat: remember recent answers."""
    seen: dict[str, str | None] = {}
    miss = object()

    def check(value: str) -> str | None:
        hit = seen.get(value, miss)
        if hit is miss:
            if len(seen) >= _MEMO_LIMIT:
                seen.clear()
            hit = seen[value] = fn(value)
        return hit  # type: ignore[return-value]

    return check


_NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’.-])*")
_PLACEHOLDERS = frozenset(
    "unknown n/a na none nil tbc tba test anonymous withheld redacted various other null".split()
)
# UK national numbers by leading digits (Ofcom plan): geographic 01/02,
# non-geographic 03/05/08, mobiles 07 except 070 (personal) and 076 (pagers).
_NOT_PERSON = _PLACEHOLDERS | ORG_WORDS
_UK_PHONE = re.compile(r"(?:\+44|0044|0)((?:1|2|3|5|7[1-57-9]|8)\d{8,9})")
_PHONE_JUNK = str.maketrans("", "", " -().")


def column_person(value: str) -> str | None:
    """A cell of a column known to hold names.  The column is already known
    to hold names, so the shape decides and names missing from the lexicons
    still count; the normalised form is the one :func:`person_cell` gives."""
    if len(value) > 80:
        return None
    title, rest = split_title(value.strip())
    family, comma, given = rest.partition(",")
    words = (given.split() + family.split()) if comma else rest.split()
    if not (2 if not title else 1) <= len(words) <= 5:
        return None
    if not all(_NAME_WORD.fullmatch(w) for w in words):
        return None
    low = [w.rstrip(".").casefold() for w in words]
    if any(w in _NOT_PERSON for w in low) or rest.casefold() in _PLACEHOLDERS:
        return None
    return " ".join(low)


def column_phone(value: str) -> str | None:
    """A cell of a phone column.  UK numbers are settled by their shape (the
    header already says "phone"; the full metadata check costs ~40 µs a cell
    and rejects numbers in ranges it does not list); others by phonenumbers."""
    m = _UK_PHONE.fullmatch(value.translate(_PHONE_JUNK))
    if m is not None:
        national = m.group(1)
        if len(national) == 10 or national.startswith(("1", "8")):
            return "+44" + national
        return None
    return validate_phone(value)


def dob_validator(today: date) -> Validator:
    """Birth-date cells; the two commonest layouts (dd/mm/yyyy, and ISO from
    spreadsheets) are read by slicing, everything else by ``validate_dob_cell``."""
    slow = partial(validate_dob_cell, today=today)
    limit = (today.year, today.month, today.day)

    def check(value: str) -> str | None:
        v = value.strip()
        if len(v) == 10 and v[2] == v[5] and v[2] in "/.-" and v[:2].isdigit():
            y, m, d = v[6:], v[3:5], v[:2]
        elif (
            len(v) >= 10 and v[4] == v[7] == "-" and v[:4].isdigit() and v[10:].strip(" T0:") == ""
        ):
            y, m, d = v[:4], v[5:7], v[8:10]
        else:
            return slow(value)
        if not (y.isdigit() and m.isdigit() and d.isdigit()):
            return None
        try:
            born = date(int(y), int(m), int(d))
        except ValueError:
            return None
        key = (born.year, born.month, born.day)
        age = today.year - born.year - (limit[1:] < key[1:])
        return born.isoformat() if key <= limit and age <= 120 else None

    return check


def _rule(entity: str, today: date) -> Rule | None:
    if entity == EntityType.DATE_OF_BIRTH:
        return dob_rule(today)
    if entity == EntityType.PERSON:
        return person_rule(TITLES, _NOT_PERSON)
    return FIXED_RULES.get(entity)


def _validator(entity: str, today: date) -> Validator | None:
    if entity == EntityType.DATE_OF_BIRTH:
        return dob_validator(today)
    if entity == EntityType.PERSON:
        return column_person
    if entity == EntityType.PHONE_NUMBER:
        return column_phone
    return CELL_VALIDATORS.get(entity)


@dataclass(slots=True)
class _Late:
    """An unknown column whose sample was (nearly) empty."""

    index: int
    label: str
    seen: list[tuple[int, str]]


def _late_entity(values: list[str]) -> str | None:
    for entity in SELF_EVIDENT:
        fn = CELL_VALIDATORS.get(entity)
        if fn is not None and sum(1 for v in values if fn(v)) >= STRONG_SHARE * len(values):
            return entity
    return None


@dataclass(slots=True)
class _Work:
    """What the row loop does, decided once from the plan."""

    checks: list[tuple[int, str, Validator, str, float]]
    split: tuple[int, int]  # given, family column (-1 when absent)
    split_label: str
    split_score: float
    text_cols: list[tuple[int, str]]
    special_cols: dict[int, str]  # reported once a non-empty cell is seen
    late: list[_Late]


def _prepare(plan: TablePlan, sample: list[Row]) -> _Work:
    filled = [0] * len(plan.columns)
    distinct: list[set[str]] = [set() for _ in plan.columns]
    for r in sample[1 if plan.has_header else 0 :]:
        for i, cell in enumerate(r[: len(filled)]):
            if cell.strip():
                filled[i] += 1
                distinct[i].add(cell)
    # remembering answers pays only where values repeat (dates, grades, names)
    repeats = [len(d) < 0.9 * n for d, n in zip(distinct, filled, strict=True)]
    today = date.today()
    # a "Diagnosis" header says something about people only if there are people
    people = any(c.entity is not None for c in plan.columns)
    work = _Work([], (-1, -1), "", 0.0, [], {}, [])
    given = family = None
    for c in plan.columns:
        if c.special and people:
            work.special_cols[c.index] = c.special
        if c.name_part == "given":
            given = c
        elif c.name_part == "family":
            family = c
        elif c.entity is not None and (fn := _validator(c.entity, today)) is not None:
            fn = _memo(fn) if repeats[c.index] else fn
            work.checks.append((c.index, c.entity, fn, _label(c), c.confidence))
        elif c.category == "free_text":
            work.text_cols.append((c.index, _label(c)))
        elif c.category is None and not c.special and filled[c.index] < 3:
            work.late.append(_Late(c.index, _label(c), []))
    parts = [c for c in (given, family) if c is not None]
    if parts:
        work.split = (given.index if given else -1, family.index if family else -1)
        work.split_label = "+".join(_label(c) for c in parts)
        # one part alone ("Surname" only) is weaker evidence of a person
        work.split_score = 0.9 if len(parts) == 2 else 0.6 * parts[0].confidence
    return work


def scan_table(table: Table, detect_text: TextDetector) -> TableScan:
    """Classify the first rows; the returned scan streams the table from the top.

    Classified columns are checked a chunk of rows at a time by the
    vectorised rules of :mod:`~shareguard.detect.columnar`.  A table with
    columns still unknown after the sample (empty at the top) takes the
    row-by-row path, which can recognise them later."""
    sample = list(islice(table.iter_rows(), SAMPLE_ROWS))
    plan = classify_columns(sample)
    work = _prepare(plan, sample)
    scan = TableScan(plan, iter(()))
    if work.late:
        scan.chunks = _row_chunks(_scan_rows(table, plan, work, _memo_text(detect_text), scan))
    else:
        scan.chunks = _column_chunks(table, plan, work, _memo_text(detect_text), scan)
    return scan


def _row_chunks(rows: Iterator[RowCandidates]) -> Iterator[TableChunk]:
    while batch := list(islice(rows, CHUNK_ROWS)):
        counts: Counter[str] = Counter()
        found = 0
        extra: list[tuple[int, Candidate]] = []
        for r, (_, cands) in enumerate(batch):
            found += len(cands)
            counts.update(c.type for c in cands if c.type not in _SPECIAL)
            extra.extend((r, c) for c in cands)
        yield TableChunk(counts, found, subject_keys([], extra), partial(iter, batch), extra=extra)


def _column_chunks(
    table: Table,
    plan: TablePlan,
    work: _Work,
    prose: Callable[[str], tuple[Candidate, ...]],
    scan: TableScan,
) -> Iterator[TableChunk]:
    today = date.today()
    checks = [
        (i, entity, ColumnCheck(_rule(entity, today), fn, {}), label, score)
        for i, entity, fn, label, score in work.checks
    ]
    names = ColumnCheck(_rule(_PERSON, today), column_person, {})
    row_no = table.first_row + int(plan.has_header)
    # columns that hold no recognised personal data: a dataset's key may be there
    checked = {i for i, *_ in work.checks} | {i for i, _ in work.text_cols} | set(work.split)
    others = [c.index for c in plan.columns if c.index not in checked and c.entity is None]
    for chunk in _chunks(table, plan.has_header):
        n = chunk.n
        cells, series = chunk.values, chunk.series

        counts: Counter[str] = Counter()
        found: list[tuple[str, pl.Series]] = []
        listed: list[tuple[str, pl.Series, pl.Series, str, float]] = []
        for i, entity, check, label, score in checks:
            norm = check(series(i))
            counts[entity] += n - norm.null_count()
            found.append((entity, norm))
            listed.append((entity, series(i), norm, label, score))
        if work.split_score > 0:
            values, norm = _split_names(series(work.split[0]), series(work.split[1]), names)
            counts[_PERSON] += n - norm.null_count()
            found.append((_PERSON, norm))
            listed.append((_PERSON, values, norm, work.split_label, work.split_score))
        extra: list[tuple[int, Candidate]] = []
        for i, label in work.text_cols:
            for r, cell in enumerate(cells(i)):
                if cell and not cell.isspace():
                    for t in prose(cell):
                        if t.type in _SPECIAL:
                            scan.special.add(t.type)
                        else:
                            counts[t.type] += 1
                        extra.append((r, t._replace(row=row_no + r, column=label)))
        for i in [i for i in work.special_cols if any(c.strip() for c in cells(i))]:
            scan.special.add(work.special_cols.pop(i))
        found_n = sum(counts.values()) + sum(1 for _, t in extra if t.type in _SPECIAL)
        yield TableChunk(
            counts,
            found_n,
            subject_keys(found, extra),
            partial(_chunk_rows, row_no, int(work.split_score > 0), listed, extra),
            found,
            extra,
            [series(i) for i in others],
        )
        row_no += n
        scan.rows_scanned += n


class _Chunk:
    """Up to :data:`CHUNK_ROWS` rows, column by column: a column is a polars
    Series for the vectorised checks and a list of strings for the rest."""

    def __init__(self, n: int, columns: list[pl.Series]) -> None:
        self.n = n
        self._columns = columns
        self._values: dict[int, Sequence[str]] = {}

    def series(self, i: int) -> pl.Series:
        if 0 <= i < len(self._columns):
            return self._columns[i]
        return pl.Series("", [""] * self.n, dtype=pl.String)

    def values(self, i: int) -> Sequence[str]:
        got = self._values.get(i)
        if got is None:
            inside = 0 <= i < len(self._columns)
            got = self._values[i] = self._columns[i].to_list() if inside else ("",) * self.n
        return got


def _chunks(table: Table, has_header: bool) -> Iterator[_Chunk]:
    """The rows below the header, a chunk at a time: from the table's native
    frames when it has them, else transposed from its rows."""
    if table.batches_factory is not None:
        skip = int(has_header)
        for frame in table.batches_factory():
            frame, skip = frame.slice(skip), max(skip - frame.height, 0)
            for start in range(0, frame.height, CHUNK_ROWS):
                part = frame.slice(start, CHUNK_ROWS)
                yield _Chunk(part.height, part.get_columns())
        return
    rows: Iterator[Row] = table.iter_rows()
    if has_header:
        next(rows, None)
    while batch := list(islice(rows, CHUNK_ROWS)):
        columns = [pl.Series(c, dtype=pl.String) for c in zip_longest(*batch, fillvalue="")]
        yield _Chunk(len(batch), columns)


def _chunk_rows(
    row_no: int,
    split: int,
    listed: list[tuple[str, pl.Series, pl.Series, str, float]],
    extra: list[tuple[int, Candidate]],
) -> Iterator[RowCandidates]:
    """The candidates of a chunk's rows, in row order, made on demand."""
    # a name put together from two cells has no span of one cell (end 0)
    whole_cell = len(listed) - split
    found = [
        (i, entity, values, norm, label, score)
        for i, (entity, values, norm, label, score) in enumerate(listed)
        if norm.null_count() < norm.len()
    ]
    by_row: dict[int, list[Candidate]] = defaultdict(list)
    for r, t in extra:
        by_row[r].append(t)
    # only the rows where something was found, in order, a block at a time:
    # the Scanner lists the first findings and stops, so most of a large
    # chunk is never turned into Python values
    if found:
        any_hit = found[0][3].is_not_null().to_numpy().copy()
        for *_, norm, _, _ in found[1:]:
            any_hit |= norm.is_not_null().to_numpy()
        any_hit[list(by_row)] = True
        hit = np.flatnonzero(any_hit)
    else:
        hit = np.array(sorted(by_row), dtype=np.int64)
    for start in range(0, len(hit), _LIST_BLOCK):
        rows = hit[start : start + _LIST_BLOCK]
        at = pl.Series(rows)
        cols = [
            (e, vals.gather(at).to_list(), norm.gather(at).to_list(), lab, sc, int(i < whole_cell))
            for i, e, vals, norm, lab, sc in found
        ]
        for j, r in enumerate(rows.tolist()):
            out = [
                Candidate(
                    entity,
                    0,
                    whole * len(values[j]),
                    values[j],
                    score,
                    DETECTOR,
                    norms[j],
                    row_no + r,
                    label,
                )
                for entity, values, norms, label, score, whole in cols
                if norms[j] is not None
            ]
            out.extend(by_row.get(r, ()))
            if out:
                yield row_no + r, out


_LIST_BLOCK = 512


def _split_names(g: pl.Series, f: pl.Series, names: ColumnCheck) -> tuple[pl.Series, pl.Series]:
    """Names over given/family columns, as ``_split_name``: the usual case
    (both parts, plain ASCII) vectorised, every other row by ``_split_name``."""
    plain = g.str.contains(r"^[ -~]*$") & f.str.contains(r"^[ -~]*$")
    gs, fs = g.str.strip_chars(" "), f.str.strip_chars(" ")
    both = plain & (gs != "") & (fs != "")
    value = pl.select(pl.when(both).then(gs + " " + fs).otherwise(pl.lit(""))).to_series()
    norm = names(value)
    others = (~both).arg_true().to_list()
    given, family = (g.to_list(), f.to_list()) if others else ([], [])
    where: list[int] = []
    shown: list[str] = []
    slow: list[str | None] = []
    for r in others:
        got = _split_person(given[r], family[r])
        if got is not None:
            where.append(r)
            shown.append(got[0])
            slow.append(got[1])
    if where:
        value = value.scatter(where, pl.Series(shown, dtype=pl.String))
        norm = norm.scatter(where, pl.Series(slow, dtype=pl.String))
    return value, norm


def _scan_rows(
    table: Table,
    plan: TablePlan,
    work: _Work,
    prose: Callable[[str], tuple[Candidate, ...]],
    scan: TableScan,
) -> Iterator[RowCandidates]:
    checks, text_cols, special_cols, late = (
        work.checks,
        work.text_cols,
        work.special_cols,
        work.late,
    )
    split = work.split_score > 0
    special = scan.special
    rows: Iterator[Row] = table.iter_rows()
    row_no = table.first_row
    if plan.has_header:
        next(rows, None)
        row_no += 1
    for scanned, row in enumerate(rows, 1):
        width = len(row)
        out: list[Candidate] = []
        for i, entity, fn, label, score in checks:
            if i < width and (cell := row[i]):
                norm = fn(cell)
                if norm is not None:
                    out.append(
                        Candidate(entity, 0, len(cell), cell, score, DETECTOR, norm, row_no, label)
                    )
        if split:
            _split_name(row, work, row_no, out)
        for i, label in text_cols:
            if i < width and (cell := row[i]) and not cell.isspace():
                for t in prose(cell):
                    if t.type in _SPECIAL:
                        special.add(t.type)
                    out.append(t._replace(row=row_no, column=label))
        if special_cols:
            for i in [i for i in special_cols if i < width and row[i].strip()]:
                special.add(special_cols.pop(i))
        settled: list[Candidate] = []
        if late:
            _watch_late(row, row_no, late, checks, settled)
            out.extend(c for c in settled if c.row == row_no)
        if out:
            yield row_no, out
        if settled:  # a column recognised just now: its earlier rows' values
            yield from _by_row(c for c in settled if c.row != row_no)
        row_no += 1
        scan.rows_scanned = scanned
    late_found: list[Candidate] = []
    for pending in late:
        _settle_late(pending, checks, late_found, force=True)
    yield from _by_row(late_found)


def _by_row(candidates: Iterable[Candidate]) -> Iterator[RowCandidates]:
    ordered = sorted(candidates, key=lambda c: c.row or 0)
    for r, cands in groupby(ordered, key=lambda c: c.row or 0):
        yield r, list(cands)


def _split_name(row: Row, work: _Work, row_no: int, out: list[Candidate]) -> None:
    """A name over given/family columns counts once per row."""
    gi, fi = work.split
    got = _split_person(
        row[gi] if 0 <= gi < len(row) else "", row[fi] if 0 <= fi < len(row) else ""
    )
    if got is None or got[1] is None:
        return
    value, norm = got
    out.append(
        Candidate(_PERSON, 0, 0, value, work.split_score, DETECTOR, norm, row_no, work.split_label)
    )


def _split_person(given: str, family: str) -> tuple[str, str | None] | None:
    """(shown value, normalised name or None); None for two empty cells."""
    g, f = given.strip(), family.strip()
    if not (g or f):
        return None
    value = f"{g} {f}".strip()
    if g and f:
        return value, column_person(value)
    words = value.split()  # one part only: still a name, if it is shaped like one
    ok = 1 <= len(words) <= 3 and all(_NAME_WORD.fullmatch(w) for w in words)
    return value, value.casefold() if ok and value.casefold() not in _PLACEHOLDERS else None


def _watch_late(
    row: Row,
    row_no: int,
    late: list[_Late],
    checks: list[tuple[int, str, Validator, str, float]],
    out: list[Candidate],
) -> None:
    for pending in list(late):
        if pending.index < len(row) and (cell := row[pending.index].strip()):
            pending.seen.append((row_no, cell))
            if len(pending.seen) >= _LATE_SAMPLE:
                late.remove(pending)
                _settle_late(pending, checks, out, force=False)


def _settle_late(
    pending: _Late,
    checks: list[tuple[int, str, Validator, str, float]],
    out: list[Candidate],
    *,
    force: bool,
) -> None:
    if len(pending.seen) < 3:
        return
    entity = _late_entity([v for _, v in pending.seen])
    if entity is None:
        return
    fn = _memo(CELL_VALIDATORS[entity])
    for row_no, cell in pending.seen:
        if (norm := fn(cell)) is not None:
            out.append(
                Candidate(entity, 0, len(cell), cell, 0.7, DETECTOR, norm, row_no, pending.label)
            )
    if not force:
        checks.append((pending.index, entity, fn, pending.label, 0.7))
