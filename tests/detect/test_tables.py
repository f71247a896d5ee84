"""Streaming table scan: one validator per column, names once per row, notes as prose."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st
from test_columns import appt, clinic_rows, dob, nhs, nino, person, postcode

from shareguard.detect.identifiers import validate_dob_cell
from shareguard.detect.special import detect_special_text
from shareguard.detect.tables import column_person, column_phone, dob_validator, scan_table
from shareguard.detect.types import Candidate
from shareguard.model import Row, Table


def no_text(text: str) -> list[Candidate]:
    return []


def counts(cands: list[Candidate]) -> Counter[str]:
    return Counter(c.type for c in cands)


def test_clinic_export_counts_and_locations() -> None:
    rows = clinic_rows(60)
    scan = scan_table(Table.from_rows("clinic", rows, first_row=1), no_text)
    cands = [c for _, row in scan.rows for c in row]
    got = counts(cands)
    empty_tel = sum(1 for r in rows[1:] if not r[4])
    assert got == {
        "PERSON": 60,
        "DATE_OF_BIRTH": 60,
        "UK_NHS": 60,
        "UK_POSTCODE": 60,
        "PHONE_NUMBER": 60 - empty_tel,
    }
    assert scan.special == {"health"}
    assert scan.rows_scanned == 60
    first = [c for c in cands if c.row == 2]
    assert {c.column for c in first} >= {"PtNm", "DoB", "NHSNo", "PC"}
    name = next(c for c in first if c.type == "PERSON")
    surname, forename = rows[1][0].split(", ")
    assert name.normalised == f"{forename} {surname}".casefold()
    assert (name.start, name.end) == (0, len(rows[1][0]))
    nhs_cell = next(c for c in cands if c.type == "UK_NHS" and " " in c.value)
    assert nhs_cell.normalised is not None
    assert nhs_cell.normalised.isdigit()
    assert [c.row for c in cands] == sorted(c.row or 0 for c in cands)


def test_failed_cells_are_not_findings() -> None:
    rnd = random.Random(11)
    rows = [["Name", "NHS Number"]] + [[" ".join(person(rnd)), nhs(rnd)] for _ in range(20)]
    rows[5][1] = nhs(rnd, valid=False)
    rows[6][1] = "not known"
    scan = scan_table(Table.from_rows("t", rows), no_text)
    cands = [c for _, row in scan.rows for c in row]
    nhs_rows = {c.row for c in cands if c.type == "UK_NHS"}
    assert len(nhs_rows) == 18
    assert 6 not in nhs_rows
    assert 7 not in nhs_rows


def test_split_name_counts_once_per_row() -> None:
    rnd = random.Random(12)
    rows = [["Fn", "Sn", "DoB", "NINo"]] + [[*person(rnd), dob(rnd), nino(rnd)] for _ in range(25)]
    scan = scan_table(Table.from_rows("staff", rows, first_row=4), no_text)
    cands = [c for _, row in scan.rows for c in row]
    people = [c for c in cands if c.type == "PERSON"]
    assert len(people) == 25
    assert people[0].column == "Fn+Sn"
    assert people[0].row == 5  # header on source row 4
    assert people[0].normalised == f"{rows[1][0]} {rows[1][1]}".casefold()
    assert counts(cands)["UK_NINO"] == 25


def test_notes_column_goes_through_the_text_detector() -> None:
    rnd = random.Random(13)
    rows = [["Tenant", "NI Number", "Notes"]]
    for i in range(30):
        note = "Served 18 months for burglary (released 2021), on licence" if i == 17 else ""
        rows.append([" ".join(person(rnd)), nino(rnd), note])
    seen: list[str] = []

    def detect(text: str) -> list[Candidate]:
        seen.append(text)
        return detect_special_text(text)

    scan = scan_table(Table.from_rows("arrears", rows), detect)

    cands = [c for _, row in scan.rows for c in row]
    assert seen == [rows[18][2]]
    assert scan.special == {"criminal_offence"}
    crime = [c for c in cands if c.type == "criminal_offence"]
    assert crime
    assert all(c.row == 19 and c.column == "Notes" for c in crime)
    assert all(rows[18][2][c.start : c.end] == c.value for c in crime)


def test_headerless_columns_are_numbered() -> None:
    rnd = random.Random(14)
    rows = [[" ".join(person(rnd)), dob(rnd), postcode(rnd)] for _ in range(30)]
    scan = scan_table(Table.from_rows("x", rows), no_text)
    cands = [c for _, row in scan.rows for c in row]
    assert {c.column for c in cands} == {"column 1", "column 2", "column 3"}
    assert min(c.row or 0 for c in cands) == 1
    assert counts(cands) == {"PERSON": 30, "DATE_OF_BIRTH": 30, "UK_POSTCODE": 30}


def test_appointment_dates_and_invoice_numbers_produce_nothing() -> None:
    rnd = random.Random(15)
    rows = [["invoice_no", "invoice_date", "supplier", "description", "net_gbp"]]
    rows += [
        [nhs(rnd), appt(rnd), "Robinson Catering Ltd", "Agency nursing cover", "12.50"]
        for _ in range(50)
    ]
    scan = scan_table(Table.from_rows("inv", rows), detect_special_text)
    cands = [c for _, row in scan.rows for c in row]
    assert cands == []
    assert scan.special == frozenset()


def test_clean_aggregate_table_produces_nothing() -> None:
    rows = [
        ["Specialty", "Referrals"],
        ["Cardiology", "33"],
        ["Diabetes", "38"],
        ["Mental Health", "36"],
    ]
    scan = scan_table(Table.from_rows("summary", rows), detect_special_text)
    cands = [c for _, row in scan.rows for c in row]
    assert cands == []
    assert scan.special == frozenset()


class CountingTable:
    """Rows generated on demand; records how often the table is re-read."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.reads = n, seed, 0

    def rows(self) -> Iterator[Row]:
        self.reads += 1
        rnd = random.Random(self.seed)
        yield ["Name", "Email", "Postcode"]
        for i in range(self.n):
            email = f"user{i}@example.org" if i >= 250 else ""
            yield [" ".join(person(rnd)), email, postcode(rnd)]


def test_streams_twice_and_classifies_late_columns() -> None:
    source = CountingTable(600, seed=16)
    scan = scan_table(Table("big", source.rows), no_text)
    cands = [c for _, row in scan.rows for c in row]
    assert source.reads == 2
    assert scan.rows_scanned == 600
    got = counts(cands)
    assert got["PERSON"] == 600
    assert got["UK_POSTCODE"] == 600
    assert got["EMAIL_ADDRESS"] == 350  # empty in the 200-row sample, found later
    assert [c.row for c in cands] == sorted(c.row or 0 for c in cands)


def test_column_validators() -> None:
    assert column_person("ADEYEMI, Folasade") == "folasade adeyemi"
    assert column_person("Mrs Jane Smith") == "jane smith"
    assert column_person("Unknown") is None
    assert column_person("07700 900123") is None
    assert column_phone("0113 947 9514") == "+441139479514"
    assert column_phone("+44 7700 900123") == "+447700900123"
    assert column_phone("12345") is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(max_size=20), max_size=6), max_size=15))
def test_any_table_of_strings_never_raises(rows: list[list[str]]) -> None:
    scan = scan_table(Table.from_rows("h", rows), detect_special_text)
    cands = [c for _, row in scan.rows for c in row]
    header = 1 if scan.plan.has_header and rows else 0
    assert scan.rows_scanned == max(len(rows) - header, 0)
    for c in cands:
        assert c.row is not None
        assert 1 <= c.row <= len(rows)


TODAY = dt.date(2025, 6, 30)


@given(
    st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2030, 12, 31)), st.sampled_from("/.-")
)
def test_fast_birth_date_path_agrees_with_the_validator(born: dt.date, sep: str) -> None:
    fast = dob_validator(TODAY)
    dmy = f"{born.day:02d}{sep}{born.month:02d}{sep}{born.year}"
    assert fast(dmy) == validate_dob_cell(dmy, today=TODAY)
    assert fast(born.isoformat()) == validate_dob_cell(born.isoformat(), today=TODAY)
    expected = born.isoformat() if validate_dob_cell(born.isoformat(), today=TODAY) else None
    assert fast(born.isoformat() + " 00:00:00") == expected


@given(st.text(max_size=24))
def test_fast_birth_date_path_on_any_text(value: str) -> None:
    assert dob_validator(TODAY)(value) in (None, validate_dob_cell(value.strip()[:10], today=TODAY))


def test_column_path_equals_row_path_on_a_staff_table() -> None:
    from shareguard.detect.columns import classify_columns
    from shareguard.detect.tables import _memo_text, _prepare, _scan_rows

    rng = random.Random(7)
    rows: list[Row] = [("Forename", "Surname", "DoB", "NINo", "NHS No", "Postcode", "Notes")]
    for _ in range(300):
        rows.append(
            (
                rng.choice(["Jane", "Omar", "", "Zoë", " Amy "]),
                rng.choice(["Smith", "O'Neil", "", "Brown-Lee"]),
                dob(rng),
                rng.choice([nino(rng), "", "n/a"]),
                nhs(rng),
                postcode(rng),
                rng.choice(["", "Left message", "Has diabetes"]),
            )
        )
    table = Table.from_rows("staff", rows)
    fast = [(r, c) for r, c in scan_table(table, detect_special_text).rows]
    sample = list(table.iter_rows())[:200]
    plan = classify_columns(sample)
    slow_scan = scan_table(table, detect_special_text)
    slow = list(
        _scan_rows(table, plan, _prepare(plan, sample), _memo_text(detect_special_text), slow_scan)
    )
    assert fast == slow
