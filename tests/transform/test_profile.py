"""Workforce profiles from a staff list, through the command line: the
"done means" of the minimisation issue."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import python_calamine as pc
from staff_fixtures import staff_list
from typer.testing import CliRunner

from shareguard.cli import app
from shareguard.config import get_settings
from shareguard.transform import MinimiseOptions, minimise_bytes
from shareguard.transform.aggregate import HIDDEN

runner = CliRunner()


def _sheets(data: bytes) -> dict[str, list[list[object]]]:
    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names}


def test_done_means_a_profile_that_scans_clean_with_no_small_cell(tmp_path: Path) -> None:
    staff = staff_list(300)
    source = tmp_path / "staff.csv"
    source.write_bytes(staff.csv_bytes())
    before = runner.invoke(app, ["scan", str(source), "--format", "json"])
    assert before.exit_code == 1
    summary = json.loads(before.stdout)["summary"]
    assert 290 <= summary["data_subjects"] <= 300  # a few may share a name and e-mail
    assert summary["entities"]["UK_NINO"] == 300

    out = tmp_path / "profile.xlsx"
    made = runner.invoke(
        app,
        [
            "minimise",
            str(source),
            "--to-profile",
            "--by",
            "grade,department",
            "--mean",
            "salary",
            "-o",
            str(out),
            "--format",
            "json",
        ],
    )
    assert made.exit_code == 0, made.output
    report = json.loads(made.stdout)
    assert report["after"]["clean"] is True
    assert report["before"]["data_subjects"] == summary["data_subjects"]
    assert report["suppressed_cells"] > 0
    # ethnicity is special-category data: the threshold is 10
    assert any("cells under 10" in n for n in report["notes"])

    after = runner.invoke(app, ["scan", str(out)])
    assert after.exit_code == 0, after.output

    sheets = _sheets(out.read_bytes())
    headcount = next(rows for name, rows in sheets.items() if name.startswith("By "))
    figures = [v for r in headcount[1:] for v in r[1:]]
    assert HIDDEN in figures
    for v in figures:
        assert v == HIDDEN or (isinstance(v, float) and (v == 0 or v >= 10)), v
    assert headcount[-1][-1] == 300.0  # the grand total is shown
    # the grade totals are the true ones
    grades = staff.column("Grade")
    for row in headcount[1:-1]:
        if row[-1] != HIDDEN:
            assert row[-1] == grades.count(str(row[0]))


def test_threshold_option_and_rounding(tmp_path: Path) -> None:
    staff = staff_list(200, seed=3)
    data = staff.csv_bytes()
    options = MinimiseOptions(by=("department",), threshold=20, round_to=5, output_format="csv")
    result = minimise_bytes(data, "staff.csv", "profile", options, get_settings())
    rows = list(csv.reader(io.StringIO(result.content.decode())))
    assert rows[0] == ["table", "measure", "row", "column", "value"]
    values = [r[4] for r in rows[1:]]
    depts = staff.column("Department")
    for r in rows[1:]:
        if r[4] != HIDDEN and r[2] != "Total":
            true = depts.count(r[2])
            assert true >= 20
            assert int(r[4]) % 5 == 0
            assert abs(int(r[4]) - true) <= 2
    small = [d for d in set(depts) if depts.count(d) < 20]
    assert small
    assert values.count(HIDDEN) >= max(len(small), 2)
    assert result.remaining["clean"]


def test_tupe_preset_builds_every_band_table(tmp_path: Path) -> None:
    staff = staff_list(250, seed=5)
    options = MinimiseOptions(preset="tupe", threshold=5, output_format="xlsx")
    result = minimise_bytes(staff.xlsx_bytes(), "staff.xlsx", "profile", options, get_settings())
    sheets = _sheets(result.content)
    names = list(sheets)
    assert names[0] == "Function x grade"
    assert any("FTE (sum)" in n for n in names)
    assert any("Salary (mean)" in n for n in names)
    assert {"Pay bands", "Age bands", "Service bands", "Notes"} <= set(names)
    ages = sheets["Age bands"]
    assert ages[0] == ["Age band", "Headcount"]
    assert ages[-1] == ["Total", 250.0]
    shown = [r[1] for r in ages[1:-1]]
    assert all(v == HIDDEN or v >= 5 for v in shown)
    assert result.remaining["clean"], result.remaining


def test_a_profile_cannot_be_grouped_by_an_identifier(tmp_path: Path) -> None:
    source = tmp_path / "staff.csv"
    source.write_bytes(staff_list(30).csv_bytes())
    made = runner.invoke(
        app,
        [
            "minimise",
            str(source),
            "--to-profile",
            "--by",
            "NI number",
            "-o",
            str(tmp_path / "p.csv"),
        ],
    )
    assert made.exit_code == 2
    assert "identifies people" in made.output
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("missing", [["--by", "grade"], []])
def test_profile_usage_errors_exit_2(tmp_path: Path, missing: list[str]) -> None:
    source = tmp_path / "staff.csv"
    source.write_bytes(staff_list(20).csv_bytes())
    target = "p.pdf" if missing else "p.csv"
    made = runner.invoke(
        app, ["minimise", str(source), "--to-profile", *missing, "-o", str(tmp_path / target)]
    )
    assert made.exit_code == 2
