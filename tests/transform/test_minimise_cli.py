"""What `shareguard minimise` prints: counts, column names and notes, never a
value from the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from staff_fixtures import staff_list
from typer.testing import CliRunner

from shareguard.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "mode",
    [
        ["--to-profile", "--preset", "tupe"],
        ["--redact"],
        ["--pseudonymise", "--keep-key", "KEY"],
        ["--generalise"],
        ["--k-anonymity", "--quasi", "grade,department,ethnicity"],
    ],
)
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_output_holds_no_raw_values(tmp_path: Path, mode: list[str], fmt: str) -> None:
    staff = staff_list(60, seed=61)
    source = tmp_path / "staff.csv"
    source.write_bytes(staff.csv_bytes())
    out = tmp_path / ("out.xlsx" if "--to-profile" in mode else "out.csv")
    args = [a.replace("KEY", str(tmp_path / "key.csv")) for a in mode]
    result = runner.invoke(app, ["minimise", str(source), *args, "-o", str(out), "-f", fmt])
    assert result.exit_code in (0, 1), result.output
    printed = result.output
    for row in staff.rows:
        for value in (row[0], row[1], row[2], row[9]):
            assert value not in printed


def test_only_one_transform_at_a_time(tmp_path: Path) -> None:
    source = tmp_path / "staff.csv"
    source.write_bytes(staff_list(10).csv_bytes())
    both = runner.invoke(app, ["minimise", str(source), "--redact", "--to-profile", "-o", "x.csv"])
    assert both.exit_code == 2
    none = runner.invoke(app, ["minimise", str(source), "-o", "x.csv"])
    assert none.exit_code == 2
    same = runner.invoke(app, ["minimise", str(source), "--redact", "-o", str(source)])
    assert same.exit_code == 2
    assert "overwrite the input" in same.output


def test_a_document_is_not_a_table(tmp_path: Path) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text("Dear Sir,\n\nPlease find the figures attached.\n\nRegards\n")
    result = runner.invoke(
        app, ["minimise", str(letter), "--pseudonymise", "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "not a table" in result.output
