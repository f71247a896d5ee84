"""k-anonymity reports, and the agreement field that can require k."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from staff_fixtures import staff_list
from typer.testing import CliRunner

from shareguard.cli import app
from shareguard.detect.columns import classify_columns
from shareguard.policy.agreements import Agreement, parse_agreements
from shareguard.transform.io import SheetRows
from shareguard.transform.kanon import class_sizes, k_anonymity

runner = CliRunner()


def _sheet(rows: list[list[str]]) -> SheetRows:
    return SheetRows("t", rows[0], rows[1:], classify_columns(rows), 2)


def test_smallest_class_and_rows_under_k() -> None:
    rows = [["Grade", "Department", "Sex"]]
    rows += [["Band 5", "Estates", "F"]] * 6
    rows += [["Band 5", "Estates", "M"]] * 5
    rows += [["Band 8", "Estates", "F"]] * 1  # the lone senior manager
    rows += [["Band 8", "Finance", "M"]] * 2
    report = k_anonymity(_sheet(rows), 5, ("Grade", "Department", "Sex"))
    assert report.quasi_identifiers == ("Grade", "Department", "Sex")
    assert report.overall.smallest == 1
    assert report.overall.classes == 4
    assert report.overall.classes_under_k == 2
    assert report.overall.rows_under_k == 3
    assert not report.satisfied
    # without Grade the Band 8 people join the larger classes; without Sex they stay apart
    assert report.drivers[0] == "Grade"
    assert report.without["Sex"].rows_under_k == 3
    assert report.to_reach_k[0] == "Grade"
    assert class_sizes([("a",)] * 5, 5).rows_under_k == 0


def test_quasi_identifiers_found_without_being_named() -> None:
    staff = staff_list(100, seed=41)
    sheet = _sheet([list(staff.header), *staff.rows])
    report = k_anonymity(sheet, 5)
    assert {"Date of birth", "Grade", "Department", "Ethnicity", "Start date"} <= set(
        report.quasi_identifiers
    )
    assert "Name" not in report.quasi_identifiers
    assert report.overall.smallest == 1  # exact dates of birth single everyone out


def test_cli_reports_and_exits_1_when_under_k(tmp_path: Path) -> None:
    source = tmp_path / "staff.csv"
    source.write_bytes(staff_list(200, seed=42).csv_bytes())
    wide = runner.invoke(
        app,
        [
            "minimise",
            str(source),
            "--k-anonymity",
            "--quasi",
            "grade,department",
            "--k",
            "3",
            "-f",
            "json",
        ],
    )
    assert wide.exit_code == 1, wide.output
    report = json.loads(wide.stdout)[0]
    assert report["k"] == 3
    assert report["smallest_class"] < 3
    coarse = runner.invoke(
        app, ["minimise", str(source), "--k-anonymity", "--quasi", "department", "--k", "3"]
    )
    assert coarse.exit_code == 0, coarse.output
    assert "k-anonymous" in coarse.output


AGREEMENT = """
id: DSA-9
title: Pseudonymised extract for the pensions actuary
parties: {{us: Example Council, them: Actuary Ltd}}
recipients: ["@actuary.example"]
purpose: Valuation of the pension fund.
lawful_basis: public_task
data_items: [grade, age_band, salary]
min_k: {k}
valid_from: 2026-01-01
valid_until: 2027-01-01
retention: {{period: 1 year, deletion_duty: Delete after the valuation.}}
approvers: [Data Protection Officer]
"""


def test_agreement_may_require_k() -> None:
    [loaded] = parse_agreements(AGREEMENT.format(k=10))
    assert loaded.agreement.min_k == 10
    base = loaded.agreement.model_dump()
    assert Agreement.model_validate({**base, "min_k": None}).min_k is None
    with pytest.raises(ValidationError):
        Agreement.model_validate({**base, "min_k": 1})
    with pytest.raises(ValidationError):
        Agreement.model_validate({**base, "min_k": "many"})
