from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from shareguard.cli import app

runner = CliRunner()

LETTER = (
    "Dear Mrs Okafor,\n\n"
    "Re: Grace Okafor, date of birth 14/02/1961, NHS number 943 476 5919\n"
    "12 Station Road, Leeds LS1 4AB. Her National Insurance number is AB 12 34 56 C (not "
    "QQ 12 34 56 C). She can be reached on 07700 900123 or grace.okafor@example.com.\n\n"
    "Yours sincerely,\nTom Hughes\n"
)
CLEAN = "The procurement board met on Tuesday and agreed the estates timetable.\n"


def scan(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", *args], input=input)
    return result.exit_code, result.stdout


@pytest.fixture
def letter(tmp_path: Path) -> Path:
    p = tmp_path / "letter.txt"
    p.write_text(LETTER)
    return p


def test_personal_data_exits_1_with_counts(letter: Path) -> None:
    code, out = scan(str(letter), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    (f,) = doc["files"]
    assert f["path"] == str(letter)
    assert f["type"].startswith("text/")
    assert f["entities"]["UK_NHS"] == 1
    assert f["entities"]["UK_NINO"] == 1
    assert f["entities"]["EMAIL_ADDRESS"] == 1
    assert f["entities"]["PERSON"] >= 2
    assert f["data_subjects"] == 2  # Grace Okafor (Mrs Okafor) and Tom Hughes
    assert f["uninspectable"] is None
    assert doc["summary"]["files"] == 1
    assert doc["summary"]["data_subjects"] == 2


def test_text_locations_point_into_the_text(letter: Path) -> None:
    _, out = scan(str(letter), "--format", "json", "--reveal")
    text = letter.read_text()
    for finding in json.loads(out)["files"][0]["findings"]:
        loc = finding["location"]
        assert text[loc["start"] : loc["end"]] == finding["preview"]


def test_values_are_masked_unless_revealed(letter: Path) -> None:
    _, out = scan(str(letter), "--format", "json")
    for raw in ("943 476 5919", "AB 12 34 56 C", "grace.okafor@example.com", "07700 900123"):
        assert raw not in out
    _, revealed = scan(str(letter), "--format", "json", "--reveal")
    assert "943 476 5919" in revealed


def test_clean_file_exits_0(tmp_path: Path) -> None:
    p = tmp_path / "minutes.txt"
    p.write_text(CLEAN)
    code, out = scan(str(p), "--format", "json")
    assert code == 0, out
    assert json.loads(out)["files"][0]["findings"] == []


def test_uninspectable_part_exits_1(tmp_path: Path) -> None:
    p = tmp_path / "broken.zip"
    p.write_bytes(b"PK\x03\x04" + os.urandom(200))
    code, out = scan(str(p), "--format", "json")
    assert code == 1
    assert json.loads(out)["summary"]["uninspectable"] >= 1


def test_folder_is_scanned_recursively_and_people_deduplicated(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text(LETTER)
    (tmp_path / "two.txt").write_text(LETTER)
    code, out = scan(str(tmp_path), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["summary"]["files"] == 2
    assert doc["summary"]["data_subjects"] == 2


def test_archive_parts_are_named_by_container_path(tmp_path: Path) -> None:
    p = tmp_path / "bundle.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("HR/letter.txt", LETTER)
    _, out = scan(str(p), "--format", "json")
    (f,) = json.loads(out)["files"]
    paths = [part["path"] for part in f["parts"]]
    assert f"{p}!HR/letter.txt" in paths
    assert f["data_subjects"] == 2


def test_stdin(letter: Path) -> None:
    code, out = scan("-", "--format", "json", input=letter.read_text())
    assert code == 1
    assert json.loads(out)["files"][0]["entities"]["UK_NHS"] == 1


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    code, _ = scan(str(tmp_path / "nope.csv"))
    assert code == 2


def test_table_output_is_readable(letter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(letter.parent)
    code, out = scan("letter.txt")
    assert code == 1
    assert "letter.txt" in out
    assert "NHS" in out
    assert "2 people" in out


def _sarif_schema() -> dict[str, Any]:
    path = os.environ.get("SHAREGUARD_SARIF_SCHEMA")
    assert path, "run the tests with `make test`, which fetches the SARIF schema"
    schema: dict[str, Any] = json.loads(Path(path).read_text())
    return schema


def test_sarif_is_valid_against_the_2_1_0_schema(letter: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    code, out = scan(str(letter), str(bad), "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.validate(log, _sarif_schema())
    rules = {r["ruleId"] for r in log["runs"][0]["results"]}
    assert {"UK_NHS", "UK_NINO", "UNINSPECTABLE"} <= rules
