"""Spreadsheets (xlsx, xlsm, xls, ods) through python-calamine."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

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
    pad = ("",) * start_col
    rows: list[tuple[str, ...]] = []
    for i, raw in enumerate(sheet.to_python(skip_empty_area=True)):
        if i >= keep:
            break
        if i % 4096 == 0:
            deadline.check()
        rows.append(pad + tuple(cell_text(v) for v in raw))
    if not rows:
        return None, problem
    frozen = tuple(rows)
    return Table(name, lambda: iter(frozen), first_row=start_row + 1, hidden=hidden), problem
