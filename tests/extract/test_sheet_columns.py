"""Sheet columns formatted a column at a time read exactly as cell_text
reads each cell, and a workbook scanned through its frame finds what its
rows find."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import random
from typing import Any

import openpyxl  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from shareguard.detect.scanner import detect_text
from shareguard.detect.tables import scan_table
from shareguard.extract import Limits, extract_bytes
from shareguard.extract.sheets import cell_text, column_text
from shareguard.model import Table

CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e17, max_value=1e17).map(float.__round__).map(float),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.text(max_size=8),
    st.just(""),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.none(),
)


@given(st.lists(CELLS, max_size=40))
def test_a_column_reads_as_its_cells(values: list[Any]) -> None:
    assert column_text(values).to_list() == [cell_text(v) for v in values]


@given(st.lists(st.floats(), min_size=1, max_size=40))
def test_a_column_of_numbers_reads_as_its_cells(values: list[float]) -> None:
    assert column_text(values).to_list() == [cell_text(v) for v in values]


def _workbook(rows: int) -> bytes:
    rnd = random.Random(3)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Staff No", "Name", "DoB", "NI number", "Salary", "FTE", "Notes"])
    for i in range(rows):
        ws.append(
            [
                1000 + i,
                f"{rnd.choice(['Amy', 'Ben', 'Cal'])} {rnd.choice(['Hart', 'Ode', 'Pym'])}",
                dt.datetime(1960 + i % 40, 1 + i % 12, 1 + i % 28),
                f"AB{i % 100:02d}{i % 97:02d}{i % 89:02d}C" if i % 4 else "",
                round(rnd.uniform(18_000, 60_000), 2),
                rnd.choice([1.0, 0.5, 0.6]),
                rnd.choice(["", "n/a", 42, "on leave"]),
            ]
        )
    hidden = wb.create_sheet("Hidden")
    hidden.sheet_state = "hidden"
    hidden.append(["Email"])
    hidden.append(["someone@example.org"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _scanned(table: Table) -> tuple[object, ...]:
    scan = scan_table(table, detect_text)
    rows = [(r, *c) for chunk in scan.chunks for r, cands in chunk.rows() for c in cands]
    return rows, sorted(scan.special), scan.rows_scanned


def test_a_workbook_scans_the_same_through_its_frame() -> None:
    doc = extract_bytes(_workbook(300), "staff.xlsx", Limits())
    assert [t.name for t in doc.tables] == ["Sheet", "Hidden"]
    assert doc.tables[1].hidden
    for table in doc.tables:
        assert table.batches_factory is not None
        frame = next(iter(table.batches_factory()))
        assert [tuple(r) for r in frame.rows()] == list(table.iter_rows())
        assert _scanned(table) == _scanned(dataclasses.replace(table, batches_factory=None))
    rows = list(doc.tables[0].iter_rows())
    assert rows[1][0] == "1000"
    assert rows[1][2] == "1960-01-01"
    assert len(rows) == 301
