"""The vectorised column rules give exactly the per-cell validators' answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.detect.columnar import FIXED_RULES, ColumnCheck, Rule, dob_rule, person_rule
from shareguard.detect.identifiers import CELL_VALIDATORS
from shareguard.detect.names import TITLES
from shareguard.detect.tables import _NOT_PERSON, column_person, column_phone, dob_validator
from shareguard.keys import ValueHasher

TODAY = dt.date(2024, 2, 29)

CASES: dict[str, tuple[Rule, Callable[[str], str | None]]] = {
    "UK_NINO": (FIXED_RULES["UK_NINO"], CELL_VALIDATORS["UK_NINO"]),
    "UK_NHS": (FIXED_RULES["UK_NHS"], CELL_VALIDATORS["UK_NHS"]),
    "UK_POSTCODE": (FIXED_RULES["UK_POSTCODE"], CELL_VALIDATORS["UK_POSTCODE"]),
    "EMAIL_ADDRESS": (FIXED_RULES["EMAIL_ADDRESS"], CELL_VALIDATORS["EMAIL_ADDRESS"]),
    "PHONE_NUMBER": (FIXED_RULES["PHONE_NUMBER"], column_phone),
    "DATE_OF_BIRTH": (dob_rule(TODAY), dob_validator(TODAY)),
    "PERSON": (person_rule(TITLES, _NOT_PERSON), column_person),
}

_digits = st.text("0123456789", min_size=1, max_size=12)
_cells = st.one_of(
    st.text(max_size=20),
    st.text("0123456789 -/.+()", max_size=16),
    st.text("ABCDEFGHJKLNPRSTWZabcd0123456789 ", max_size=11),
    st.builds(lambda a, b: f"{a}@{b}.uk", st.text("abc.x-_", max_size=8), _digits),
    st.builds(
        lambda d, m, y, s: f"{d:02d}{s}{m:02d}{s}{y}" if y % 2 else f"{y:04d}-{m:02d}-{d:02d}",
        st.integers(0, 32),
        st.integers(0, 13),
        st.integers(0, 2100),
        st.sampled_from("/.-"),
    ),
    st.lists(
        st.sampled_from(["Mrs", "Dr.", "Jane", "SMITH,", "o'brien", "Ltd", "Smith-Jones", "A."]),
        max_size=7,
    ).map(" ".join),
)


def _check(entity: str, values: list[str]) -> None:
    rule, fn = CASES[entity]
    got = ColumnCheck(rule, fn, {})(pl.Series(values, dtype=pl.String)).to_list()
    assert got == [fn(v) if v else None for v in values]


@settings(max_examples=150, deadline=None)
@given(st.lists(_cells, min_size=1, max_size=40), st.sampled_from(sorted(CASES)))
def test_vectorised_rules_agree_with_the_cell_validators(values: list[str], entity: str) -> None:
    _check(entity, values)


def test_common_shapes_agree() -> None:
    _check("UK_NHS", ["943 476 5919", "9434765919", "943-476-5919", "943 476-5919", "1111111111"])
    _check("UK_NINO", ["AB123456C", "ab123456c", "BG123456A", "AB 12 34 56 C", "QQ123456C"])
    _check("UK_POSTCODE", ["LS1 4AB", "ls14ab", "GIR 0AA", "QS1 4AB", "  LS1 4AB"])
    _check("PHONE_NUMBER", ["07700 900123", "+44 113 496 0000", "0700 900123", "(0113) 4960000"])
    _check("DATE_OF_BIRTH", ["29/02/2000", "2000-02-30", "1903-03-01", "1903-02-28", "01.01.2024"])
    _check(
        "PERSON",
        ["Mrs Jane Smith", "SMITH, Jane", "Mr Smith", "Acme Ltd", "Zoë Brown", "A B C D E F"],
    )


def test_batch_ids_equal_single_ids() -> None:
    hasher = ValueHasher(b"k" * 32)
    keys = ["UK_NINO:AB123456C", "PERSON:jane smith|1980-01-02"]
    assert hasher.ids64(pl.Series(keys)).to_list() == [hasher.id64(k) for k in keys]
    assert ValueHasher(b"j" * 32).id64(keys[0]) != hasher.id64(keys[0])
