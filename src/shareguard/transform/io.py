"""Reading a staff list into rows, and writing tables back out as CSV or XLSX.

Tables are read through the same extractors the scanner uses (python-calamine
for spreadsheets, the csv reader for delimited text), so a transform sees
exactly the cells a scan sees.  Transforms work on whole tables in memory:
they are for the extracts people send, not for multi-gigabyte streams.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from shareguard.config import Settings
from shareguard.detect.columns import TablePlan, classify_columns
from shareguard.errors import InputError
from shareguard.extract import extract_bytes, sniff
from shareguard.extract.delimited import sniff_dialect
from shareguard.extract.text import decode, detect_encoding
from shareguard.model import Document

CSV = "text/csv"
TSV = "text/tab-separated-values"
XLSX = sniff.OOXML_TYPES["xlsx"]
XLSM = sniff.OOXML_TYPES["xlsm"]
DOCX = sniff.OOXML_TYPES["word"]
PDF = sniff.PDF
TEXT = "text/plain"
DELIMITED = (CSV, TSV)
SPREADSHEETS = (XLSX, XLSM)


@dataclass(frozen=True, slots=True)
class SheetRows:
    """One table as strings: ``header`` (empty when the table has none) and the
    rows below it, each padded to the header's width.  ``first_row`` is the
    1-based source row of ``rows[0]``."""

    name: str
    header: list[str]
    rows: list[list[str]]
    plan: TablePlan
    first_row: int


def read_document(data: bytes, filename: str, settings: Settings) -> Document:
    doc = extract_bytes(data, filename, settings.limits)
    if doc.uninspectable:
        raise InputError(f"{filename}: cannot be read ({doc.uninspectable})")
    return doc


def read_tables(data: bytes, filename: str, settings: Settings) -> tuple[str, list[SheetRows]]:
    """The media type of ``data`` and its tables (CSV/TSV or XLSX only)."""
    doc = read_document(data, filename, settings)
    if doc.media_type not in (*DELIMITED, *SPREADSHEETS):
        raise InputError(
            f"{filename}: a {doc.media_type} file is not a table; give a CSV, TSV or XLSX file"
        )
    sheets: list[SheetRows] = []
    for table in doc.tables:
        raw = [list(r) for r in table.iter_rows()]
        if not raw:
            continue
        plan = classify_columns(raw)
        width = max(len(r) for r in raw)
        padded = [r + [""] * (width - len(r)) for r in raw]
        header = [h.strip() for h in padded[0]] if plan.has_header else []
        body = padded[1:] if plan.has_header else padded
        first = table.first_row + int(plan.has_header)
        sheets.append(SheetRows(table.name, header, body, plan, first))
    if not sheets:
        raise InputError(f"{filename}: holds no table rows")
    return doc.media_type, sheets


def column_label(sheet: SheetRows, index: int) -> str:
    """How the scanner names a column: its header, else "column N"."""
    if index < len(sheet.header) and sheet.header[index]:
        return sheet.header[index]
    return f"column {index + 1}"


def delimiter_of(data: bytes) -> str:
    encoding = detect_encoding(data[:65536], complete=len(data) <= 65536) or "utf-8"
    dialect = sniff_dialect(decode(data[:65536], encoding), complete=len(data) <= 65536)
    return dialect.delimiter if dialect else ","


def write_csv(rows: Sequence[Sequence[object]], delimiter: str = ",") -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode("utf-8")


def write_xlsx(sheets: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> bytes:
    """A new workbook, one sheet per (title, rows); header rows in bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for title, rows in sheets:
        name = _sheet_title(title, used)
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append([_cell(v) for v in row])
        for cell in ws[1] if rows else ():
            cell.font = Font(bold=True)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# Numbers read back from a workbook are strings here; written back as numbers
# so sums and sorting work.  Leading zeros ("0123") stay text: they are codes.
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d+)?")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value):
        return float(value) if "." in value else int(value)
    return value


def _sheet_title(title: str, used: set[str]) -> str:
    base = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "Sheet"
    name, n = base, 2
    while name.casefold() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.casefold())
    return name


def table_bytes(
    media_type: str, sheets: Sequence[tuple[str, Sequence[Sequence[object]]]], delimiter: str
) -> bytes:
    """Tables written in the format they came in (CSV keeps its delimiter;
    a CSV holds one table, so only the first is written)."""
    if media_type in DELIMITED:
        return write_csv(sheets[0][1], delimiter)
    return write_xlsx(sheets)
