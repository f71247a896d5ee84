"""Generalise: coarsen the columns that identify people in combination.

Date of birth becomes an age band, a postcode its district (outward code),
sector or area, a salary a band, an exact date its month or year.  Direct
identifiers (names, NI numbers ...) are left to ``--pseudonymise`` or
``--redact``; the re-scan says if any remain.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence

from shareguard.detect.identifiers import parse_date
from shareguard.transform.io import SheetRows
from shareguard.transform.options import MinimiseOptions
from shareguard.transform.roles import kinds

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_POSTCODE = re.compile(r"^([A-Z]{1,2})(\d[A-Z\d]?)\s*(\d)([A-Z]{2})$")


def to_date(value: str) -> dt.date | None:
    """A cell as a date; spreadsheets often add a midnight time."""
    head, sep, tail = value.strip().partition(" ")
    if sep and tail.strip("0:") == "":
        return parse_date(head)
    return parse_date(value)


def to_number(value: str) -> float | None:
    """``£24,500.00``, ``24500``, ``(1,200)`` as numbers; anything else None."""
    text = value.strip().replace(",", "").replace("£", "").replace("$", "").replace("€", "")
    negative = text.startswith("(") and text.endswith(")")
    m = _NUMBER.fullmatch(text.strip("()"))
    if m is None:
        return None
    n = float(m.group())
    return -n if negative else n


def years_between(start: dt.date, end: dt.date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def band(value: int, edges: Sequence[int], unit: str = "") -> str:
    """``value`` placed among lower ``edges``: "under 16", "25-34", "65+"."""
    if not edges or value < edges[0]:
        return f"under {edges[0]}{unit}" if edges else str(value)
    for low, high in itertools.pairwise(edges):
        if low <= value < high:
            return f"{low}{unit}" if high - 1 == low else f"{low}-{high - 1}{unit}"
    return f"{edges[-1]}+{unit}"


def age_band(value: str, options: MinimiseOptions) -> str:
    d = to_date(value)
    if d is None:
        return "" if not value.strip() else "unknown"
    return band(years_between(d, options.today()), options.age_bands)


def service_band(value: str, options: MinimiseOptions) -> str:
    d = to_date(value)
    if d is None:
        return "" if not value.strip() else "unknown"
    return band(max(years_between(d, options.today()), 0), options.service_bands)


def salary_band(value: str, width: int) -> str:
    n = to_number(value)
    if n is None:
        return "" if not value.strip() else "unknown"
    low = int(n // width * width)
    return f"£{low:,}-£{low + width - 1:,}"


def postcode(value: str, level: str) -> str:
    m = _POSTCODE.match(value.strip().upper())
    if m is None:
        return "" if not value.strip() else "unknown"
    area, district, sector = m.group(1), m.group(1) + m.group(2), m.group(3)
    if level == "area":
        return area
    if level == "sector":
        return f"{district} {sector}"
    return district


def month_or_year(value: str, level: str) -> str:
    d = to_date(value)
    if d is None:
        return value
    return str(d.year) if level == "year" else f"{d.year}-{d.month:02d}"


_RENAMED = {"dob": "Age band", "salary": "Salary band", "postcode": "Postcode {level}"}


def generalise_value(kind: str | None, value: str, options: MinimiseOptions) -> str:
    if kind == "dob":
        return age_band(value, options)
    if kind == "postcode":
        return postcode(value, options.postcode)
    if kind == "salary":
        return salary_band(value, options.salary_band)
    if kind in ("date", "start_date"):
        return month_or_year(value, options.dates)
    return value


def generalise_sheet(sheet: SheetRows, options: MinimiseOptions) -> tuple[SheetRows, list[str]]:
    """The sheet with every quasi-identifying column coarsened, and notes
    saying what was done (column names only, never values)."""
    col_kinds = kinds(sheet)
    header = list(sheet.header)
    notes: list[str] = []
    for i, kind in enumerate(col_kinds):
        if kind in _RENAMED or kind in ("date", "start_date"):
            name = header[i] if i < len(header) and header[i] else f"column {i + 1}"
            what = {
                "dob": f"age bands {list(options.age_bands)}",
                "postcode": f"postcode {options.postcode}",
                "salary": f"salary bands of £{options.salary_band:,}",
            }.get(kind or "", f"dates to the {options.dates}")
            notes.append(f"{name}: generalised to {what}")
            if i < len(header) and kind in _RENAMED:
                header[i] = _RENAMED[kind].format(level=options.postcode)
    rows = [
        [
            generalise_value(col_kinds[i] if i < len(col_kinds) else None, v, options)
            for i, v in enumerate(row)
        ]
        for row in sheet.rows
    ]
    return SheetRows(sheet.name, header, rows, sheet.plan, sheet.first_row), notes
