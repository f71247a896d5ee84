"""Aggregate: a workforce profile from a staff-level table.

Counts (and sums or means of numeric columns such as salary or FTE) are
grouped by the chosen columns; the last grouping column becomes the columns of
a two-way table, the others its rows, and every table is published with its
row, column and grand totals.  Small cells are hidden with their protection
(``suppress``): one pattern per table, applied to every measure of it, since a
sum or mean of one person's salary discloses it as surely as a count of one.
Dates of birth, start dates, salaries and postcodes used for grouping are
banded first, so no exact value is ever a label.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from shareguard.errors import InputError
from shareguard.transform import generalise as gen
from shareguard.transform.io import SheetRows
from shareguard.transform.options import MinimiseOptions
from shareguard.transform.roles import find_column, is_direct, kinds
from shareguard.transform.suppress import extend, suppress

T = TypeVar("T")

NO_VALUE = float("nan")  # a mean over nobody: shown empty, not 0
HIDDEN = "[c]"  # the usual mark for a confidential (suppressed) figure
BLANK = "(blank)"
TOTAL = "Total"

# Dimensions that may be asked for by a banded name and are derived from the
# column they band.
_DERIVED: dict[str, tuple[str, str]] = {
    "age_band": ("dob", "Age band"),
    "service_band": ("start_date", "Length of service (years)"),
    "length_of_service": ("start_date", "Length of service (years)"),
    "pay_band": ("salary", "Pay band"),
    "salary_band": ("salary", "Pay band"),
}


@dataclass(frozen=True, slots=True)
class Dimension:
    title: str
    values: list[str]


@dataclass(frozen=True, slots=True)
class Measure:
    title: str
    kind: str  # "count" | "sum" | "mean"
    values: list[float | None]  # per row; None where not a number


@dataclass(frozen=True, slots=True)
class ProfileTable:
    """One published table: ``blocks`` maps each measure to its extended grid
    (rows, then the total row; columns, then the total column), None where
    hidden.  ``one_way`` tables show one column of figures and a total row."""

    title: str
    row_names: tuple[str, ...]
    col_name: str | None
    row_keys: list[tuple[str, ...]]
    col_keys: list[str]
    blocks: list[tuple[str, list[list[float | None]]]]
    hidden: int
    primary: int


def dimension(sheet: SheetRows, wanted: str, options: MinimiseOptions) -> Dimension:
    """A grouping column, banded where its values would identify someone."""
    col_kinds = kinds(sheet)
    key = wanted.strip().casefold()
    try:
        index = find_column(sheet, wanted)
    except InputError:
        if key not in _DERIVED:
            raise
        source, title = _DERIVED[key]
        index = find_column(sheet, source)
        return Dimension(title, [_band(source, r[index], options) for r in sheet.rows])
    kind = col_kinds[index]
    title = sheet.header[index] if index < len(sheet.header) and sheet.header[index] else wanted
    if is_direct(kind):
        raise InputError(f"{title!r} identifies people ({kind}); a profile cannot be grouped by it")
    if kind in ("dob", "salary", "start_date", "postcode", "date"):
        title = _DERIVED.get(key, (kind, title))[1] if key in _DERIVED else f"{title} (banded)"
        return Dimension(title, [_band(kind or "", r[index], options) for r in sheet.rows])
    return Dimension(title, [r[index].strip() or BLANK for r in sheet.rows])


def _band(kind: str, value: str, options: MinimiseOptions) -> str:
    banders: dict[str, Callable[[str], str]] = {
        "dob": lambda v: gen.age_band(v, options),
        "start_date": lambda v: gen.service_band(v, options),
        "salary": lambda v: gen.salary_band(v, options.salary_band),
        "postcode": lambda v: gen.postcode(v, options.postcode),
        "date": lambda v: gen.month_or_year(v, "year"),
    }
    return banders[kind](value) or BLANK


def measure(sheet: SheetRows, wanted: str, how: str) -> Measure:
    index = find_column(sheet, wanted)
    kind = kinds(sheet)[index]
    if is_direct(kind) or kind == "dob":
        raise InputError(f"{wanted!r} identifies people ({kind}); it cannot be summed")
    title = sheet.header[index] if index < len(sheet.header) and sheet.header[index] else wanted
    values = [gen.to_number(r[index]) for r in sheet.rows]
    if not any(v is not None for v in values):
        raise InputError(f"column {title!r} holds no numbers to {how}")
    return Measure(f"{title} ({how})", how, values)


def _order(values: Sequence[str]) -> list[str]:
    """Labels in a reading order: bands by their first number, then by text."""

    def key(v: str) -> tuple[int, float, str]:
        digits = gen.to_number(v.lstrip("£").split("-")[0].split("+")[0].split(" ")[-1])
        if v.startswith("under"):
            return (0, float("-inf"), v)
        return (1, digits if digits is not None else float("inf"), v)

    return sorted(set(values), key=key)


def build_table(
    title: str,
    dims: Sequence[Dimension],
    measures: Sequence[Measure],
    threshold: int,
    round_to: int | None,
) -> ProfileTable:
    if not dims:
        raise InputError("a profile needs at least one column to group by (--by)")
    rows_dims, col_dim = (dims[:-1], dims[-1]) if len(dims) > 1 else (dims, None)
    n = len(dims[0].values)
    row_of = [tuple(d.values[i] for d in rows_dims) for i in range(n)]
    ranks = [{v: i for i, v in enumerate(_order(d.values))} for d in rows_dims]
    row_keys = sorted(set(row_of), key=lambda k: [ranks[j][x] for j, x in enumerate(k)])
    col_keys = _order(col_dim.values) if col_dim else ["Headcount"]
    r_index = {k: i for i, k in enumerate(row_keys)}
    c_index = {k: j for j, k in enumerate(col_keys)}
    counts = [[0.0] * len(col_keys) for _ in row_keys]
    cell_of = [(r_index[row_of[i]], c_index[col_dim.values[i]] if col_dim else 0) for i in range(n)]
    for r, c in cell_of:
        counts[r][c] += 1
    grid = extend(counts)
    hidden = suppress(grid, threshold)
    first = len([c for c in _primary(grid, threshold) if col_dim is not None or c[1] == 0])
    if col_dim is None:  # the total column repeats the only column: hide both
        hidden |= {(i, 1 - j) for i, j in hidden}
    blocks = [("Headcount", _publish(grid, hidden, round_to))]
    for m in measures:
        sums = [[0.0] * len(col_keys) for _ in row_keys]
        nums = [[0.0] * len(col_keys) for _ in row_keys]
        for (r, c), v in zip(cell_of, m.values, strict=True):
            if v is not None:
                sums[r][c] += v
                nums[r][c] += 1
        s, k = extend(sums), extend(nums)
        if m.kind == "mean":
            values = [
                [s[i][j] / k[i][j] if k[i][j] else NO_VALUE for j in range(len(s[0]))]
                for i in range(len(s))
            ]
        else:
            values = s
        blocks.append((m.title, _publish(values, hidden, None, digits=2)))
    shown_hidden = {(i, j) for i, j in hidden if col_dim is not None or j == 0}
    return ProfileTable(
        title,
        tuple(d.title for d in rows_dims),
        col_dim.title if col_dim else None,
        row_keys,
        col_keys,
        blocks,
        len(shown_hidden),
        first,
    )


def _primary(grid: Sequence[Sequence[float]], threshold: int) -> list[tuple[int, int]]:
    return [(i, j) for i, row in enumerate(grid) for j, v in enumerate(row) if 0 < v < threshold]


def _publish(
    grid: Sequence[Sequence[float]],
    hidden: set[tuple[int, int]],
    round_to: int | None,
    digits: int = 0,
) -> list[list[float | None]]:
    out: list[list[float | None]] = []
    for i, row in enumerate(grid):
        shown: list[float | None] = []
        for j, v in enumerate(row):
            if (i, j) in hidden:
                shown.append(None)
            elif round_to:
                shown.append(float(round(v / round_to) * round_to))
            else:
                shown.append(round(v, digits))
        out.append(shown)
    return out


def _figure(v: float | None) -> object:
    if v is None:
        return HIDDEN
    if math.isnan(v):
        return ""
    return int(v) if float(v).is_integer() else v


def table_grid(t: ProfileTable, block: int) -> list[list[object]]:
    """One measure of ``t`` as a crosstab with a header row and a total row."""
    name, values = t.blocks[block]
    one_way = t.col_name is None
    head: list[object] = [*t.row_names, name] if one_way else [*t.row_names, *t.col_keys, TOTAL]
    rows: list[list[object]] = [head]
    pad = [""] * (len(t.row_names) - 1)
    for i, key in enumerate([*t.row_keys, (TOTAL, *pad)]):
        figures = values[i][:1] if one_way else values[i]
        rows.append([*key, *(_figure(v) for v in figures)])
    return rows


def table_long(t: ProfileTable) -> list[list[object]]:
    """Every figure of ``t`` as one line: table, measure, row, column, value."""
    out: list[list[object]] = []
    cols = [*t.col_keys, TOTAL] if t.col_name else t.col_keys
    for name, values in t.blocks:
        for i, key in enumerate([*t.row_keys, (TOTAL,)]):
            for j, col in enumerate(cols):
                label = " / ".join(k for k in key if k)
                out.append([t.title, name, label, col if t.col_name else "", _figure(values[i][j])])
    return out


def _has(sheet: SheetRows, kind: str) -> bool:
    return kind in kinds(sheet)


def tupe_tables(sheet: SheetRows, options: MinimiseOptions, threshold: int) -> list[ProfileTable]:
    """The pre-transfer (TUPE) workforce profile: headcount, FTE and mean
    salary by function and grade, then headcount by pay, age and service band,
    each from whichever columns the staff list has."""
    by = [k for k in ("department", "grade") if _has(sheet, k)]
    if not by:
        by = ["pay_band"] if _has(sheet, "salary") else []
    if not by:
        raise InputError("the TUPE profile needs a department/function or grade column")
    measures = []
    if _has(sheet, "fte"):
        measures.append(measure(sheet, "fte", "sum"))
    if _has(sheet, "salary"):
        measures.append(measure(sheet, "salary", "mean"))
    dims = [dimension(sheet, b, options) for b in by]
    tables = [build_table("Function x grade", dims, measures, threshold, options.round_to)]
    for source, derived, title in (
        ("salary", "pay_band", "Pay bands"),
        ("dob", "age_band", "Age bands"),
        ("start_date", "service_band", "Service bands"),
    ):
        if _has(sheet, source):
            d = dimension(sheet, derived, options)
            tables.append(build_table(title, [d], [], threshold, options.round_to))
    return tables


def profile_tables(
    sheet: SheetRows, options: MinimiseOptions, threshold: int
) -> tuple[list[ProfileTable], list[str]]:
    """The tables of the profile, and notes on columns skipped (lenient only)."""
    if options.preset == "tupe":
        return tupe_tables(sheet, options, threshold), []
    if options.preset is not None:
        raise InputError(f"unknown profile preset {options.preset!r}; the one preset is 'tupe'")
    skipped: list[str] = []

    def each(names: Sequence[str], make: Callable[[str], T]) -> list[T]:
        out: list[T] = []
        for name in names:
            try:
                out.append(make(name))
            except InputError:
                if not options.lenient:
                    raise
                skipped.append(f"no {name} column in the table: not in the profile")
        return out

    dims = each(options.by, lambda b: dimension(sheet, b, options))
    measures = each(options.sum, lambda m: measure(sheet, m, "sum"))
    measures += each(options.mean, lambda m: measure(sheet, m, "mean"))
    title = "By " + ", ".join(d.title for d in dims) if dims else "Profile"
    return [build_table(title, dims, measures, threshold, options.round_to)], skipped


def notes_rows(tables: Sequence[ProfileTable], threshold: int, round_to: int | None) -> list[str]:
    lines = [
        f"Figures for fewer than {threshold} people are shown as {HIDDEN}, and so are "
        "further figures that would let them be worked out from the totals.",
    ]
    if round_to:
        lines.append(f"Shown counts are rounded to the nearest {round_to}; totals separately.")
    for t in tables:
        lines.append(f"{t.title}: {t.hidden} figures hidden ({t.primary} under {threshold}).")
    return lines
