"""Classify table columns from header words and values together.

Headers in real extracts are terse ("PtNm", "NINo"), misleading ("Ref" over NI
numbers) or missing, so a header only proposes a role and the values confirm
it.  Identifiers that a check digit alone cannot tell from random numbers (NHS,
card, bank account, passport, licence, VRM) and birth dates are accepted from
values only when the header says so or the table otherwise identifies people.
The header vocabulary lives in ``data/columns_headers.txt``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files

from shareguard.detect.headerwords import NON_ALNUM, compact, match_header
from shareguard.detect.identifiers import CELL_VALIDATORS, parse_date, plausible_birth_date
from shareguard.detect.names import family_name_score, given_name_score, person_cell
from shareguard.detect.special import special_from_header, special_from_values
from shareguard.model import EntityType as E

SAMPLE_ROWS = 200

# Shapes distinctive enough to classify a column from its values alone.
SELF_EVIDENT = (
    E.EMAIL_ADDRESS,
    E.UK_NINO,
    E.UK_POSTCODE,
    E.IBAN_CODE,
    E.PHONE_NUMBER,
    E.IP_ADDRESS,
    E.STREET_ADDRESS,
)
# Check digits that random numbers pass often: need a header or a people table.
_NEED_CONTEXT = (
    E.UK_NHS,
    E.CREDIT_CARD,
    E.UK_BANK_ACCOUNT,
    E.UK_PASSPORT,
    E.UK_DRIVING_LICENCE,
    E.UK_VEHICLE_REG,
)
# Columns that say the table is about people.
_PEOPLE = frozenset(
    {
        E.PERSON,
        E.UK_NINO,
        E.EMAIL_ADDRESS,
        E.PHONE_NUMBER,
        E.STREET_ADDRESS,
        E.DATE_OF_BIRTH,
        E.UK_NHS,
    }
)
# Categories whose values are never read as special (a staff list's
# "Department: Cardiology" is not health data).
_NOT_SPECIAL = frozenset({"department", "organisation", "job_title", "grade", "code", "date"})

STRONG_SHARE, _WEAK_SHARE, _HEADER_SHARE, _NAMES_SHARE = 0.8, 0.95, 0.3, 0.2
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NUMBER = re.compile(r"[<>≤≥~]?[-+(]?[£$€]?\d[\d,]*(?:\.\d+)?\)?%?")


@dataclass(frozen=True, slots=True)
class ColumnRole:
    index: int
    header: str | None
    entity: str | None
    name_part: str | None  # "full" | "given" | "family" | "title"
    category: str | None
    special: str | None
    confidence: float


@dataclass(frozen=True, slots=True)
class TablePlan:
    has_header: bool
    columns: tuple[ColumnRole, ...]


# --------------------------------------------------------------------------- headers


def _words(text: str) -> tuple[str, ...]:
    return tuple(w for w in NON_ALNUM.split(_CAMEL.sub(" ", text).casefold()) if w)


@cache
def _vocab() -> tuple[dict[str, str], list[tuple[tuple[str, ...], str]]]:
    """(role by compact whole header, [(words, role)] longest first, then in
    file order)."""
    text = (files("shareguard.detect") / "data" / "columns_headers.txt").read_text("utf-8")
    whole: dict[str, str] = {}
    phrases: list[tuple[tuple[str, ...], str]] = []
    role = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            role = line.strip("[]").strip()
            continue
        alias = line.removeprefix("=")
        whole.setdefault(compact(alias), role)
        if not line.startswith("="):
            phrases.append((_words(alias), role))
    phrases.sort(key=lambda p: len(p[0]), reverse=True)  # stable: file order kept
    return whole, phrases


def header_role(header: str) -> str | None:
    """The role a header names ("UK_NHS", "name:given", "category:date"), or None."""
    whole, phrases = _vocab()
    return match_header(header, whole, phrases, _words(header))


# --------------------------------------------------------------------------- values


@dataclass(slots=True)
class _Evidence:
    values: list[str]
    rates: dict[str, float]
    dates: list[date]
    numeric: float
    person: float
    given: float
    family: float
    prose: float


def _share(check: Callable[[str], object], values: Sequence[str], probe: int = 12) -> float:
    """Share of values passing; gives up after a probe that mostly fails."""
    if not values:
        return 0.0
    head = values[:probe]
    hits = sum(1 for v in head if check(v))
    if hits * 2 < len(head) or len(values) <= probe:
        return hits / len(head)
    return (hits + sum(1 for v in values[probe:] if check(v))) / len(values)


def _evidence(values: list[str]) -> _Evidence:
    rates = {
        name: _share(fn, values) for name, fn in CELL_VALIDATORS.items() if name != E.DATE_OF_BIRTH
    }
    dates = [d for v in values if (d := _parse_date(v)) is not None]
    n = len(values) or 1
    singles = [v for v in values if " " not in v]
    return _Evidence(
        values=values,
        rates=rates,
        dates=dates,
        numeric=sum(1 for v in values if _NUMBER.fullmatch(v)) / n,
        person=_share(person_cell, values),
        given=sum(given_name_score(v) for v in singles) / n,
        family=sum(family_name_score(v) for v in singles) / n,
        prose=sum(1 for v in values if len(v) > 30 or v.count(" ") >= 3) / n,
    )


def _parse_date(value: str) -> date | None:
    """Spreadsheet extracts often carry a midnight time on a date."""
    head, sep, tail = value.partition(" ")
    if sep and tail.strip("0:") == "":
        return parse_date(head)
    return parse_date(value)


def _best(ev: _Evidence, kinds: Sequence[str], share: float) -> str | None:
    rate, kind = max(((ev.rates.get(k, 0.0), k) for k in kinds), default=(0.0, ""))
    return kind if rate >= share else None


def _birth_dates(ev: _Evidence) -> bool:
    """Plausible birth dates spread over decades (appointments are not)."""
    if len(ev.dates) < 3 or len(ev.dates) < 0.8 * len(ev.values):
        return False
    if not all(plausible_birth_date(d) for d in ev.dates):
        return False
    years = [d.year for d in ev.dates]
    return max(years) - min(years) >= 15


# --------------------------------------------------------------------------- decision


def _role(index: int, header: str | None, ev: _Evidence) -> ColumnRole:
    """First pass: header plus self-evident values.  Context-dependent types
    are settled by :func:`_with_context`."""
    role = header_role(header) if header else None
    special = special_from_header(header) if header else None

    def make(
        entity: str | None = None,
        part: str | None = None,
        category: str | None = None,
        conf: float = 0.9,
    ) -> ColumnRole:
        return ColumnRole(
            index, header, str(entity) if entity else None, part, category, special, conf
        )

    strong = _best(ev, SELF_EVIDENT, STRONG_SHARE)
    # A "Name" header over ward or product names is not a person: the
    # lexicons must recognise some of the values.
    few = len(ev.values) < 3
    if role == "name:title":
        return make(None, "title")
    if role == "name:given" and (few or ev.given >= _NAMES_SHARE):
        return make(E.PERSON, "given")
    if role == "name:family" and (few or ev.family >= _NAMES_SHARE):
        return make(E.PERSON, "family")
    if role == E.PERSON and strong:
        return make(strong, conf=0.85)
    if role == E.PERSON and (few or ev.person >= _NAMES_SHARE):
        return make(E.PERSON, "full")
    if role is not None and (role.startswith("name:") or role == E.PERSON):
        role = None
    if role == E.DATE_OF_BIRTH:
        if not ev.values or len(ev.dates) >= 0.5 * len(ev.values):
            return make(E.DATE_OF_BIRTH)
    elif (
        role is not None
        and not role.startswith("category:")
        and (not ev.values or ev.rates.get(role, 0.0) >= _HEADER_SHARE)
    ):
        return make(role)
    category = role[9:] if role and role.startswith("category:") else None
    if category == "free_text":
        return make(category=category)
    if strong:
        return make(strong, conf=0.8)
    if category is not None:
        return make(category=category)
    if ev.person >= 0.6:
        return make(E.PERSON, "full", conf=0.75)
    if ev.dates and len(ev.dates) >= STRONG_SHARE * len(ev.values):
        return make(category="date", conf=0.6)
    if ev.numeric >= STRONG_SHARE:
        return make(category="amount", conf=0.5)
    if ev.prose >= 0.5:
        return make(category="free_text", conf=0.6)
    return make(conf=0.0)


def _with_context(cols: list[ColumnRole], evs: list[_Evidence]) -> list[ColumnRole]:
    """Second pass: split names, birth dates and weak check-digit identifiers
    from values, once the rest of the table says it is about people."""
    out = list(cols)
    unknown = [
        i
        for i, c in enumerate(out)
        if c.entity is None and c.category is None and c.name_part is None
    ]
    # header-less "Jane | Smith": a given-name column followed by a family-name one
    for i in unknown:
        j = i + 1
        if j in unknown and evs[i].given >= 0.5 and evs[j].family >= 0.5:
            out[i] = _replace(out[i], E.PERSON, "given", 0.7)
            out[j] = _replace(out[j], E.PERSON, "family", 0.7)
    people = any(c.entity in _PEOPLE for c in out)
    if not people:
        return out
    for i, c in enumerate(out):
        header_says_date = c.header is not None and header_role(c.header) == "category:date"
        if c.entity is None and c.name_part is None and not header_says_date:
            if (c.category in (None, "date")) and _birth_dates(evs[i]):
                out[i] = _replace(c, E.DATE_OF_BIRTH, None, 0.7)
            elif c.category in (None, "code", "amount"):
                weak = _best(evs[i], _NEED_CONTEXT, _WEAK_SHARE)
                if weak is not None and len(evs[i].values) >= 3:
                    out[i] = _replace(c, weak, None, 0.7)
    return out


def _replace(c: ColumnRole, entity: str, part: str | None, conf: float) -> ColumnRole:
    return ColumnRole(c.index, c.header, str(entity), part, None, c.special, conf)


def _with_special(c: ColumnRole, ev: _Evidence) -> ColumnRole:
    if c.special or c.entity or c.category in _NOT_SPECIAL or not ev.values:
        return c
    found = special_from_values(ev.values)
    if found is None:
        return c
    return ColumnRole(c.index, c.header, c.entity, c.name_part, c.category, found, c.confidence)


# --------------------------------------------------------------------------- header row


def _kind(value: str) -> str:
    if not value:
        return "empty"
    if _NUMBER.fullmatch(value):
        return "number"
    if _parse_date(value) is not None:
        return "date"
    if any(ch.isdigit() for ch in value):
        return "code"
    return "text"


def _header_votes(first: Sequence[str], evs: list[_Evidence]) -> int:
    """> 0 when row 0 reads as labels over the values below it."""
    votes = 0
    for i, ev in enumerate(evs):
        cell = first[i].strip() if i < len(first) else ""
        if not cell:
            continue
        if cell in ev.values:
            votes -= 2  # labels do not repeat in the data
            continue
        if header_role(cell) is not None or special_from_header(cell) is not None:
            votes += 2
        kinds = [_kind(v) for v in ev.values]
        major = max(set(kinds), key=kinds.count) if kinds else "empty"
        mine = _kind(cell)
        if major != "empty" and kinds.count(major) >= 0.6 * len(kinds):
            if mine == "text" and major != "text":
                votes += 1
            elif mine == major and major != "text":
                votes -= 2
        best = _best(ev, list(ev.rates), 0.6)
        if best is not None and CELL_VALIDATORS[best](cell):
            votes -= 2
    return votes


# --------------------------------------------------------------------------- entry


def _column_values(rows: Sequence[Sequence[str]], width: int) -> list[list[str]]:
    cols: list[list[str]] = [[] for _ in range(width)]
    for row in rows:
        for i, cell in enumerate(row[:width]):
            v = cell.strip() if isinstance(cell, str) else str(cell)
            if v:
                cols[i].append(v)
    return cols


def classify_columns(rows: Sequence[Sequence[str]]) -> TablePlan:
    """A plan for the table whose first (at most 200) raw rows are ``rows``."""
    rows = rows[:SAMPLE_ROWS]
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        return TablePlan(False, ())
    below = [_evidence(vs) for vs in _column_values(rows[1:], width)]
    has_header = _header_votes(rows[0], below) > 0
    if has_header:
        headers: list[str | None] = [
            (rows[0][i].strip() or None) if i < len(rows[0]) else None for i in range(width)
        ]
        evs = below
    else:
        headers = [None] * width
        evs = [_evidence(vs) for vs in _column_values(rows, width)]
    cols = [_role(i, headers[i], evs[i]) for i in range(width)]
    cols = _with_context(cols, evs)
    cols = [_with_special(c, ev) for c, ev in zip(cols, evs, strict=True)]
    return TablePlan(has_header, tuple(cols))
