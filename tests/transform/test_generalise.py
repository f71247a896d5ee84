"""Generalisation of single values and of a staff list, in CSV and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import python_calamine as pc
from hypothesis import given
from hypothesis import strategies as st
from staff_fixtures import staff_list

from shareguard.config import get_settings
from shareguard.transform import MinimiseOptions, minimise_bytes
from shareguard.transform.generalise import age_band, band, month_or_year, postcode, salary_band

TODAY = MinimiseOptions(as_of=dt.date(2026, 11, 25))


@pytest.mark.parametrize(
    ("dob", "expected"),
    [
        ("26/11/2001", "16-24"),  # 24 the day before the birthday
        ("25/11/2001", "25-34"),
        ("1961-02-14", "65+"),
        ("14 February 2012", "under 16"),
        ("", ""),
        ("not a date", "unknown"),
    ],
)
def test_age_bands(dob: str, expected: str) -> None:
    assert age_band(dob, TODAY) == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [("district", "SW1A"), ("sector", "SW1A 1"), ("area", "SW")],
)
def test_postcode_levels(level: str, expected: str) -> None:
    assert postcode("sw1a 1aa", level) == expected
    assert postcode("SW1A1AA", level) == expected


def test_salary_and_dates() -> None:
    assert salary_band("£24,500.00", 5000) == "£20,000-£24,999"
    assert salary_band("25000", 10000) == "£20,000-£29,999"
    assert month_or_year("03/04/2019", "month") == "2019-04"
    assert month_or_year("03/04/2019", "year") == "2019"
    assert month_or_year("n/a", "year") == "n/a"


@given(st.integers(0, 130), st.lists(st.integers(1, 120), min_size=1, max_size=8, unique=True))
def test_every_value_falls_in_exactly_one_band(value: int, edges: list[int]) -> None:
    edges.sort()
    label = band(value, edges)
    if value < edges[0]:
        assert label == f"under {edges[0]}"
    elif value >= edges[-1]:
        assert label == f"{edges[-1]}+"
    else:
        low, _, high = label.partition("-")
        assert int(low) <= value <= int(high or low)


def test_staff_list_generalised_in_its_own_format() -> None:
    staff = staff_list(40, seed=31)
    options = MinimiseOptions(as_of=dt.date(2026, 11, 25), dates="year", salary_band=10000)
    csv_out = minimise_bytes(staff.csv_bytes(), "s.csv", "generalise", options, get_settings())
    rows = list(csv.reader(io.StringIO(csv_out.content.decode())))
    assert rows[0][1] == "Age band"
    assert rows[0][5] == "Salary band"
    assert rows[1][0] == staff.rows[0][0]  # names stay: generalise is not pseudonymise
    assert rows[1][8] == staff.rows[0][8][-4:]  # start date to the year
    assert rows[1][5].startswith("£")
    assert rows[1][5].endswith(",999")
    assert csv_out.remaining["direct_identifiers"]["PERSON"] >= 30

    xlsx_out = minimise_bytes(staff.xlsx_bytes(), "s.xlsx", "generalise", options, get_settings())
    assert xlsx_out.filename == "s-generalised.xlsx"
    sheet = pc.CalamineWorkbook.from_filelike(io.BytesIO(xlsx_out.content)).get_sheet_by_name(
        "Staff"
    )
    cells = sheet.to_python()
    assert cells[0][1] == "Age band"
    assert [str(c) for c in cells[1][:2]] == rows[1][:2]
