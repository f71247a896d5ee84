"""Column classification from headers and values together (generated tables)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.detect.columns import TablePlan, classify_columns, header_role
from shareguard.detect.identifiers import nhs_check_digit

GIVEN = "James Mary Olivia Noah Amelia Jack Isla George Emily Harry Sophie Thomas".split()
FAMILY = "Smith Jones Taylor Brown Williams Wilson Johnson Davies Wright Walker Evans".split()


def nhs(rnd: random.Random, *, valid: bool = True) -> str:
    while True:
        nine = "".join(rnd.choice("0123456789") for _ in range(9))
        check = nhs_check_digit(nine)
        if check is None:
            continue
        if valid:
            return nine + str(check)
        return nine + str((check + 1) % 10)


def nino(rnd: random.Random) -> str:
    return (
        rnd.choice(["AB", "CE", "JK", "PR", "WY"])
        + f"{rnd.randrange(10**6):06d}"
        + rnd.choice("ABCD")
    )


def postcode(rnd: random.Random) -> str:
    tail = "".join(rnd.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2))
    return f"{rnd.choice(['LS', 'BD', 'YO', 'HX'])}{rnd.randrange(1, 20)} {rnd.randrange(10)}{tail}"


def person(rnd: random.Random) -> tuple[str, str]:
    return rnd.choice(GIVEN), rnd.choice(FAMILY)


def dob(rnd: random.Random) -> str:
    return f"{rnd.randrange(1, 29):02d}/{rnd.randrange(1, 13):02d}/{rnd.randrange(1935, 2015)}"


def appt(rnd: random.Random) -> str:
    return f"{rnd.randrange(1, 29):02d}/{rnd.randrange(9, 12):02d}/2024"


def roles(plan: TablePlan) -> list[tuple[str | None, str | None, str | None]]:
    return [(c.entity, c.name_part, c.category) for c in plan.columns]


def clinic_rows(n: int = 60, seed: int = 1) -> list[list[str]]:
    rnd = random.Random(seed)
    rows = [["PtNm", "DoB", "NHSNo", "PC", "Tel", "Clin", "ApptDt"]]
    for i in range(n):
        g, f = person(rnd)
        number = nhs(rnd)
        if i % 2:
            number = f"{number[:3]} {number[3:6]} {number[6:]}"
        tel = "" if i % 7 == 0 else f"07{rnd.randrange(700, 999)} {rnd.randrange(10**6):06d}"
        clinic = rnd.choice(["GUM", "RESP", "CARDIO", "DIAB"])
        rows.append([f"{f.upper()}, {g}", dob(rnd), number, postcode(rnd), tel, clinic, appt(rnd)])
    return rows


def test_terse_headers_with_values() -> None:
    plan = classify_columns(clinic_rows())
    assert plan.has_header
    assert roles(plan) == [
        ("PERSON", "full", None),
        ("DATE_OF_BIRTH", None, None),
        ("UK_NHS", None, None),
        ("UK_POSTCODE", None, None),
        ("PHONE_NUMBER", None, None),
        (None, None, None),
        (None, None, "date"),
    ]
    assert plan.columns[5].special == "health"
    assert [c.header for c in plan.columns][:2] == ["PtNm", "DoB"]


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("Fn", "name:given"),
        ("Sn", "name:family"),
        ("DoB", "DATE_OF_BIRTH"),
        ("NINo", "UK_NINO"),
        ("PC", "UK_POSTCODE"),
        ("Tel", "PHONE_NUMBER"),
        ("Grd", "category:grade"),
        ("PtNm", "PERSON"),
        ("NHSNo", "UK_NHS"),
        ("ApptDt", "category:date"),
        ("Date of Birth", "DATE_OF_BIRTH"),
        ("Email Address", "EMAIL_ADDRESS"),
        ("Supplier Name", "category:organisation"),
        ("Vulnerability / risk notes", "category:free_text"),
        ("Arrears (GBP)", "category:amount"),
        ("Patient ID", "category:code"),
        ("PatientName", "PERSON"),
        ("Xyzzy", None),
    ],
)
def test_header_vocabulary(header: str, role: str | None) -> None:
    assert header_role(header) == role


def test_headerless_extract() -> None:
    rnd = random.Random(2)
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    rows = []
    for _ in range(40):
        g, f = person(rnd)
        born = f"{rnd.randrange(1, 29):02d}-{rnd.choice(months)}-{rnd.randrange(1930, 2015)}"
        rows.append(
            [
                f"{g} {f}",
                born,
                postcode(rnd).replace(" ", "") if rnd.random() < 0.3 else postcode(rnd),
            ]
        )
    plan = classify_columns(rows)
    assert not plan.has_header
    assert roles(plan) == [
        ("PERSON", "full", None),
        ("DATE_OF_BIRTH", None, None),
        ("UK_POSTCODE", None, None),
    ]
    assert all(c.header is None for c in plan.columns)


def test_misleading_header_is_overruled_by_values() -> None:
    rnd = random.Random(3)
    rows = [["Ref", "Name"]] + [[nino(rnd), " ".join(person(rnd))] for _ in range(30)]
    plan = classify_columns(rows)
    assert plan.columns[0].entity == "UK_NINO"


def test_header_without_matching_values_is_not_trusted() -> None:
    rnd = random.Random(4)
    rows = [["NHS Number", "Name"]] + [[f"ORD-{i:05d}", " ".join(person(rnd))] for i in range(30)]
    assert classify_columns(rows).columns[0].entity is None


def test_split_name_columns() -> None:
    rnd = random.Random(5)
    rows = [["Title", "Forename", "Surname", "Grade"]]
    rows += [["Mr", *person(rnd), f"Band {rnd.randrange(2, 9)}"] for _ in range(20)]
    plan = classify_columns(rows)
    assert roles(plan) == [
        (None, "title", None),
        ("PERSON", "given", None),
        ("PERSON", "family", None),
        (None, None, "grade"),
    ]


def test_appointment_dates_are_not_birth_dates() -> None:
    rnd = random.Random(6)
    rows = [[" ".join(person(rnd)), appt(rnd)] for _ in range(30)]
    plan = classify_columns(rows)
    assert plan.columns[1].entity is None
    assert plan.columns[1].category == "date"


def test_birth_dates_need_people_in_the_table() -> None:
    rnd = random.Random(7)
    rows = [[f"ITEM-{i}", dob(rnd)] for i in range(30)]
    assert classify_columns(rows).columns[1].entity is None


def test_mod11_invoice_numbers_are_not_nhs_numbers() -> None:
    rnd = random.Random(8)
    # every invoice number passes mod 11, the worst case for a check digit
    rows = [["invoice_no", "invoice_date", "supplier", "net_gbp"]]
    rows += [
        [nhs(rnd), appt(rnd), "Carter Logistics plc", f"{rnd.randrange(100, 9999)}.00"]
        for _ in range(40)
    ]
    plan = classify_columns(rows)
    assert all(c.entity is None for c in plan.columns)
    headerless = classify_columns([r[:1] for r in rows[1:]])
    assert headerless.columns[0].entity is None


def test_nhs_numbers_without_header_in_a_people_table() -> None:
    rnd = random.Random(9)
    rows = [[" ".join(person(rnd)), nhs(rnd)] for _ in range(30)]
    assert classify_columns(rows).columns[1].entity == "UK_NHS"
    # a tenth of random numbers pass mod 11: not enough to call it NHS
    rows = [[" ".join(person(rnd)), f"{rnd.randrange(10**9, 10**10)}"] for _ in range(30)]
    assert classify_columns(rows).columns[1].entity != "UK_NHS"


def test_special_columns() -> None:
    rnd = random.Random(10)
    rows = [["Name", "Ethnic Origin", "Religion/Belief", "Notes", "Department"]]
    for _ in range(20):
        rows.append(
            [
                " ".join(person(rnd)),
                rnd.choice(
                    ["White British", "Asian or Asian British - Pakistani", "Black African"]
                ),
                rnd.choice(["Christian", "Muslim", "None"]),
                rnd.choice(["", "Called back", "Off sick with stress"]),
                rnd.choice(["Cardiology", "Oncology"]),
            ]
        )
    plan = classify_columns(rows)
    # a third of the notes mention sickness: the notes column is health data too
    assert [c.special for c in plan.columns] == [None, "ethnicity", "religion", "health", None]
    assert plan.columns[3].category == "free_text"
    assert plan.columns[4].category == "department"


def test_clean_aggregate_table() -> None:
    rows = [["Ward", "0-15", "16-24", "25-44", "Total (rounded)"]]
    for ward in ["Northmoor Central", "Riverside", "Castle Hill", "Moorside"]:
        rows.append([ward, "<5", "120", "<5", "395"])
    plan = classify_columns(rows)
    assert plan.has_header
    assert all(c.entity is None and c.special is None for c in plan.columns)


def test_empty_and_ragged_tables() -> None:
    assert classify_columns([]) == TablePlan(False, ())
    plan = classify_columns([["a"], ["b", "c", "d"], []])
    assert len(plan.columns) == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(max_size=20), max_size=6), max_size=12))
def test_any_table_of_strings_never_raises(rows: list[list[str]]) -> None:
    plan = classify_columns(rows)
    assert len(plan.columns) == max((len(r) for r in rows), default=0)
    assert [c.index for c in plan.columns] == list(range(len(plan.columns)))


def test_name_header_over_things_that_are_not_people() -> None:
    rows = [["Name", "Count"]] + [
        [w, str(n)]
        for n, w in enumerate(
            [
                "Northmoor Central",
                "Riverside",
                "Castle Hill",
                "Moorside",
                "Hollin Park",
                "Laptop Refresh",
            ]
        )
    ]
    assert classify_columns(rows).columns[0].entity is None
