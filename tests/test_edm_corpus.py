"""Exact data match end to end on the synthetic development corpus
(../shared/eval): both registered datasets registered through the CLI, every
file scanned, and each file's registered people equal to the truth exactly.
Then ``scan --subjects`` and the audit record of ``check``."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shareguard.cli import app
from shareguard.config import get_settings
from shareguard.model import FileReport
from shareguard.pipeline import make_scanner, scan_file
from shareguard.store.audit import AuditLog
from shareguard.store.datasets import DatasetStore
from shareguard.store.db import make_engine

GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "eval" / "make_dev_corpus.py"
runner = CliRunner()
SHAREGUARD = str(Path(sys.executable).with_name("shareguard"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("devcorpus")
    subprocess.run([sys.executable, str(GENERATOR), str(out)], check=True, capture_output=True)
    return out, json.loads((out / "truth.json").read_text())["files"]


def _register(out: Path) -> None:
    for name, file, key in (
        ("patients", "patients_master.csv", "mrn"),
        ("tenants", "council_tenants.csv", "tenancy_ref"),
    ):
        got = runner.invoke(
            app,
            [
                "datasets",
                "register",
                name,
                str(out / "registered" / file),
                "--key",
                key,
                "--yes",
                "--format",
                "json",
            ],
        )
        assert got.exit_code == 0, got.output


def _scan_parts(out: Path) -> dict[str, FileReport]:
    settings = get_settings()
    scanner = make_scanner(settings)
    parts: dict[str, FileReport] = {}
    for top in sorted((out / "files").iterdir()):
        report = scan_file(str(top), settings, scanner)
        for part in report.walk():
            parts["files/" + top.name + part.path[len(str(top)) :]] = part
    return parts


def test_registered_people_match_the_truth_exactly(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    _register(out)
    info = json.loads(runner.invoke(app, ["datasets", "show", "tenants", "-f", "json"]).stdout)
    assert info["columns"] == {
        "tenancy_ref": "KEY",
        "name": "PERSON",
        "dob": "DATE_OF_BIRTH",
        "ni_number": "UK_NINO",
        "postcode": "UK_POSTCODE",
    }
    parts = _scan_parts(out)
    settings = get_settings()
    store = DatasetStore(make_engine(settings), settings.secret_key_bytes())
    checked = 0
    for key, gold in truth.items():
        if not key.startswith("files/"):
            continue
        report = parts[key]
        refs = [m.ref for m in report.registered_matches() if m.present and m.ref]
        found = {r.key for r in store.resolve(refs).values()}
        assert found == set(gold["data_subjects"]["registered_keys"]), key
        assert len(found) == len(refs), key  # every ref resolves, none twice
        checked += len(found)
    assert checked > 1000
    # the variants the corpus holds were all needed: "SURNAME, Forename", dd/mm/yyyy and
    # dd-Mon-yyyy dates, NI numbers with spaces, name + postcode in an e-mail body
    fields = {
        f for p in parts.values() for m in p.registered_matches() if m.present for f in m.fields
    }
    assert {"PERSON", "DATE_OF_BIRTH", "UK_POSTCODE", "UK_NINO", "UK_NHS"} <= fields
    body = parts["files/discharge_planning.eml"]
    assert {m.fields for m in body.registered_matches()} == {("PERSON", "UK_POSTCODE")}


def test_scan_subjects_writes_the_people_and_json_counts_them(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, truth = corpus
    _register(out)
    target = tmp_path / "people.csv"
    got = runner.invoke(
        app,
        [
            "scan",
            str(out / "files" / "tenants_arrears.xlsx"),
            "--format",
            "json",
            "--subjects",
            str(target),
        ],
    )
    assert got.exit_code == 1, got.output
    doc = json.loads(got.stdout)
    assert doc["summary"]["registered_subjects"] == {"tenants": 120}
    assert len(doc["files"][0]["subject_refs"]) == 120
    assert all(r.startswith("hk1:") and len(r) == 36 for r in doc["summary"]["subject_refs"])
    with target.open() as f:
        rows = list(csv.DictReader(f))
    assert {r["key"] for r in rows} == set(
        truth["files/tenants_arrears.xlsx"]["data_subjects"]["registered_keys"]
    )
    assert {r["dataset"] for r in rows} == {"tenants"}
    assert "NI number" in rows[0]["matched"]
    assert target.stat().st_mode & 0o077 == 0  # personal data: owner only


def test_workers_match_as_one_process(corpus: tuple[Path, dict[str, Any]]) -> None:
    """--jobs 2 forks workers from a process that already loaded the match
    index (and so holds pooled connections to the store): they read the
    subject refs through their own and find the same people.  Run as the
    command itself: workers are forked, and this test process has polars
    threads of its own that a forked child would wait on for ever."""
    out, _ = corpus
    _register(out)
    docs = []
    for jobs in ("1", "2"):
        got = subprocess.run(
            [SHAREGUARD, "scan", str(out / "files"), "--format", "json", "--jobs", jobs],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert got.returncode == 1, got.stderr
        docs.append(json.loads(got.stdout))
    one, two = docs
    assert one["summary"]["registered_subjects"]["tenants"] > 0
    assert two["summary"] == one["summary"]
    assert [f["subject_refs"] for f in two["files"]] == [f["subject_refs"] for f in one["files"]]


def test_check_records_the_registered_people(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    _register(out)
    got = runner.invoke(
        app,
        [
            "check",
            str(out / "files" / "discharge_planning.eml"),
            "--to",
            "housing@partner.example",
            "--from",
            "discharge@trust.example",
            "--format",
            "json",
        ],
    )
    assert got.exit_code in (0, 1), got.output
    record_id = json.loads(got.stdout)["record_id"]
    record = AuditLog(make_engine(get_settings())).get(record_id)
    assert record is not None
    payload = record.payload
    assert payload["registered"] == {
        "patients": {"present": 150, "possible": 0},
        "tenants": {"present": 5, "possible": 0},
    }
    subjects = payload["subjects"]
    assert len(subjects) == 155
    assert set(subjects) <= set(record.subject_hashes)
    tenant = next(s for s in subjects.values() if s["dataset"] == "tenants")
    assert tenant["fields"] == ["PERSON", "UK_POSTCODE"]
    assert set(tenant["categories"]) >= {"PERSON", "UK_POSTCODE"}
    patient = next(s for s in subjects.values() if s["dataset"] == "patients")
    assert "health" in patient["special"]
    text = json.dumps(payload)
    for key in truth["files/discharge_planning.eml"]["data_subjects"]["registered_keys"]:
        assert key not in text  # refs only


def test_register_a_workbook_with_typed_cells(tmp_path: Path) -> None:
    """Spreadsheet cells come typed (dates, numbers): they register as text
    a scan of the same people in a CSV matches."""
    from datetime import date

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Payroll No", "Surname", "Forename", "Date of Birth", "NI Number"])
    sheet.append([40017, "Vexworth", "Ottoline", date(1984, 9, 23), "CE 65 43 21 A"])
    sheet.append([40018, "Quillfeather", "Barnaby", date(1977, 11, 2), "JG111222B"])
    path = tmp_path / "payroll.xlsx"
    book.save(path)
    got = runner.invoke(
        app, ["datasets", "register", "payroll", str(path), "--key", "Payroll No", "--yes"]
    )
    assert got.exit_code == 0, got.output
    info = json.loads(runner.invoke(app, ["datasets", "show", "payroll", "-f", "json"]).stdout)
    assert info["rows"] == 2
    assert info["columns"]["Date of Birth"] == "DATE_OF_BIRTH"
    leak = tmp_path / "leak.csv"
    leak.write_text("Name,DOB,Ref\nOttoline VEXWORTH,23/09/1984,\nAnn Lee,01/01/1990,\n")
    target = tmp_path / "people.csv"
    got = runner.invoke(app, ["scan", str(leak), "--subjects", str(target)])
    assert got.exit_code == 1, got.output
    with target.open() as f:
        assert [(r["key"], r["matched"]) for r in csv.DictReader(f)] == [
            ("40017", "name + date of birth")
        ]


def test_subjects_file_without_any_dataset_is_empty(tmp_path: Path) -> None:
    data = tmp_path / "staff.csv"
    data.write_text("Name,NI number\nAnn Jones,AB 12 34 56 C\n")
    target = tmp_path / "people.csv"
    got = runner.invoke(app, ["scan", str(data), "--subjects", str(target)])
    assert got.exit_code == 1, got.output
    assert target.read_text().splitlines() == ["dataset,key,group,matched,ref,files"]
