"""Spreadsheets (xlsx, xlsm, xls, ods) through python-calamine."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator, Sequence
from itertools import zip_longest
from typing import Any

import polars as pl
import python_calamine as pc

from shareguard.extract._base import Context, Deadline, verify_zip
from shareguard.extract.ooxml import core_properties
from shareguard.model import Document, Segment, Table

VISIBLE = pc.SheetVisibleEnum.Visible


def cell_text(value: Any) -> str:
    """A cell as a person sees it in the spreadsheet."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if value is None:
        return ""
    return str(value)


# Floats polars writes as Python's repr does: fixed notation for these
# magnitudes.  Outside them Python switches to exponent form ("1e-05",
# "1e+16") and polars does not always, so those few go through repr.
_FIXED_LOW, _FIXED_HIGH = 1e-4, 1e16
_ROWS_PER_SLICE = 4096


def column_text(values: Sequence[Any]) -> pl.Series:
    """One sheet column as text, cell for cell what :func:`cell_text` gives,
    with the numbers formatted by polars a column at a time (a workbook is
    mostly numbers, and a Python call per cell was most of its scan)."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        return pl.Series(values, dtype=pl.String)
    if float not in kinds:
        return pl.Series([cell_text(v) for v in values], dtype=pl.String)
    numbers = pl.Series([v if type(v) is float else None for v in values], dtype=pl.Float64)
    size = numbers.abs()
    whole = (numbers == numbers.floor()) & (size < _FIXED_HIGH)
    fixed = (size >= _FIXED_LOW) & (size < _FIXED_HIGH)
    text = pl.select(
        pl.when(whole)
        .then(numbers.cast(pl.Int64, strict=False).cast(pl.String))
        .when(fixed)
        .then(numbers.cast(pl.String))
        .otherwise(None)
    ).to_series()
    others = [
        None if type(v) is float and w else v if type(v) is str else cell_text(v)
        for v, w in zip(values, (whole | fixed).fill_null(False).to_list(), strict=True)
    ]
    return pl.Series(others, dtype=pl.String).fill_null(text)


def extract_sheets(data: bytes, path: str, media_type: str, ctx: Context) -> Document:
    props = ""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            verify_zip(zf, ctx)
            props = core_properties(zf, ctx)
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError:
        return Document(path, media_type, uninspectable="password-protected spreadsheet")
    deadline = ctx.deadline()
    tables: list[Table] = []
    problems: list[str] = []
    limit = ctx.limits.max_cells_per_sheet
    for meta in wb.sheets_metadata:
        deadline.check()
        if meta.typ != pc.SheetTypeEnum.WorkSheet:
            continue
        sheet = wb.get_sheet_by_name(meta.name)
        table, problem = _sheet_table(sheet, meta.name, meta.visible != VISIBLE, limit, deadline)
        if table is not None:
            tables.append(table)
        if problem:
            problems.append(problem)
    text = props
    segments = (Segment(0, len(props), "properties"),) if props else ()
    return Document(
        path,
        media_type,
        text=text,
        segments=segments,
        tables=tuple(tables),
        uninspectable="; ".join(problems) or None,
        size=len(data),
    )


def _sheet_table(
    sheet: Any, name: str, hidden: bool, limit: int, deadline: Deadline
) -> tuple[Table | None, str | None]:
    height, width = sheet.height, sheet.width
    if not height or not width:
        return None, None
    problem = None
    keep = height
    if height * width > limit:
        keep = max(limit // width, 0)
        problem = (
            f"sheet '{name}' has {height * width} cells, over the limit of {limit}; "
            f"only the first {keep} rows were inspected"
        )
    start_row, start_col = sheet.start
    rows: list[list[Any]] = sheet.to_python(skip_empty_area=True, nrows=keep)
    if not rows:
        return None, problem
    deadline.check()
    columns = [pl.Series([""] * len(rows), dtype=pl.String)] * start_col
    columns += [column_text(c) for c in zip_longest(*rows, fillvalue="")]
    frame = pl.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    return (
        Table(
            name,
            lambda: _frame_rows(frame),
            first_row=start_row + 1,
            hidden=hidden,
            batches_factory=lambda: iter((frame,)),
        ),
        problem,
    )


def _frame_rows(frame: pl.DataFrame) -> Iterator[tuple[str, ...]]:
    """The sheet row by row, a slice of columns at a time (the classifier
    reads the first few hundred rows only)."""
    for part in frame.iter_slices(_ROWS_PER_SLICE):
        yield from zip(*(c.to_list() for c in part.get_columns()), strict=True)
