"""End to end on a generated staff scenario, through the command line:
register the staff master file, send part of it to a bidder through
`shareguard check`, open an incident from that record, and check the
affected list against the truth exactly, the letters (one per person,
each naming only its addressee), the report and the deletion."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import zipfile
from pathlib import Path

import pytest
from faker import Faker
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from shareguard.breach import letters as letters_module
from shareguard.cli import app
from shareguard.config import get_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agreements"
NINO_LETTERS = "ABCEGHJKLMNPRSTWXYZ"
FORCES = ("Bedfordshire", "Hertfordshire", "Cambridgeshire")
DEPARTMENTS = ("Estates", "Finance", "Custody", "Control Room", "HR")
runner = CliRunner()


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def staff_master(n: int) -> list[dict[str, str]]:
    """``n`` made-up staff with distinct surnames and valid-shaped NI numbers."""
    fake = Faker("en_GB")
    fake.seed_instance(2026)
    rng = random.Random(2026)
    forenames = [fake.first_name() for _ in range(n)]
    # Surnames that are nowhere else in a letter: not a forename, a place, a
    # department or a word of the letter template.
    template = (Path(letters_module.__file__).parent / "templates" / "letter.txt.j2").read_text()
    other_words = " ".join((*FORCES, *DEPARTMENTS, "Mill Lane Bedford", template))
    taken = {f.lower() for f in forenames} | {
        w.lower() for w in re.findall(r"[A-Za-z]+", other_words)
    }
    rows: list[dict[str, str]] = []
    while len(rows) < n:
        surname = fake.last_name()
        if not re.fullmatch(r"[A-Z][a-z]{3,}", surname) or surname.lower() in taken:
            continue
        taken.add(surname.lower())
        prefix = rng.choice(NINO_LETTERS) + rng.choice(NINO_LETTERS.replace("O", ""))
        if prefix in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
            continue
        i = len(rows)
        dob = fake.date_of_birth(minimum_age=20, maximum_age=64)
        rows.append(
            {
                "staff_number": f"P{700000 + i}",
                "forename": forenames[i],
                "surname": surname,
                "date_of_birth": dob.strftime("%d/%m/%Y"),
                "ni_number": f"{prefix} {rng.randrange(10**6):06d} {rng.choice('ABCD')}",
                "department": rng.choice(DEPARTMENTS),
                "force": rng.choice(FORCES),
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture
def store(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    with engine.begin() as conn:  # the shared PostgreSQL database keeps these
        for table in ("incident_factors", "incident_records", "incidents", "datasets"):
            conn.execute(text(f"DELETE FROM {table}"))
    monkeypatch.setenv("SHAREGUARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    cli("agreements", "load", *map(str, EXAMPLES.glob("*.yaml")))
    return engine


def test_staff_list_sent_to_a_bidder(store: Engine, tmp_path: Path) -> None:
    master = staff_master(300)
    columns = list(master[0])
    cli(
        "datasets",
        "register",
        "STAFF",
        str(write_csv(tmp_path / "master.csv", master, columns)),
        "--key",
        "staff_number",
        "--group",
        "force",
        "--yes",
    )
    rng = random.Random(7)
    sent = rng.sample(master, 45)
    leaked = write_csv(
        tmp_path / "Beds_establishment_list.csv",
        sent,
        ["staff_number", "forename", "surname", "date_of_birth", "ni_number", "department"],
    )
    checked = runner.invoke(
        app,
        [
            "check",
            str(leaked),
            "--to",
            "bids@bidder.example",
            "--from",
            "hr@force.example",
            "--format",
            "json",
        ],
    )
    assert checked.exit_code == 1, checked.output
    record = json.loads(checked.stdout)["record_id"]

    opened = json.loads(
        cli(
            "incident",
            "open",
            "--title",
            "Establishment list sent to bidder",
            "--record",
            str(record),
            "--occurred",
            "2026-10-23T16:40",
            "--discovered",
            "2026-10-24T09:15",
            "--contact",
            "DPO, dpo@force.example",
            "--format",
            "json",
        )
    )
    iid = str(opened["id"])
    assert opened["clock"]["deadline"] == "2026-10-27T08:15+00:00"  # 72 h over the autumn change

    # The affected list is exactly the people sent, with their groups and data.
    affected = json.loads(cli("incident", "affected", iid, "--format", "json"))
    truth = {r["staff_number"]: r for r in sent}
    got = {p["key"]: p for p in affected["people"]}
    assert set(got) == set(truth)
    assert all(got[k]["group"] == truth[k]["force"] for k in truth)
    assert all({"UK_NINO", "DATE_OF_BIRTH"} <= set(p["categories"]) for p in got.values())
    assert affected["counts"]["registered"] == 45
    assert sum(affected["counts"]["by_group"].values()) == 45
    table_csv = cli("incident", "affected", iid, "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(table_csv)))) == 45

    # Letters: one per affected person in the people file, naming only them.
    people = write_csv(
        tmp_path / "addresses.csv",
        [
            {**r, "address_1": f"{i + 1} Mill Lane", "town": "Bedford", "postcode": "MK40 1AA"}
            for i, r in enumerate(master)
        ],
        ["staff_number", "forename", "surname", "address_1", "town", "postcode"],
    )
    out = tmp_path / "letters"
    cli(
        "incident", "letters", iid, "--people", str(people), "--key", "staff_number", "-o", str(out)
    )
    letters = sorted(out.glob("letter-*.docx"))
    assert len(letters) == 45
    surnames = {r["surname"] for r in master}
    named = set()
    for path in letters:
        with zipfile.ZipFile(path) as z:
            words = set(
                re.findall(
                    r"[A-Za-z]+", re.sub(r"<[^>]+>", " ", z.read("word/document.xml").decode())
                )
            )
        (own,) = surnames & words
        named.add(own)
        body = path.read_bytes()
        assert not any(r["staff_number"].encode() in body for r in master)
    assert named == {r["surname"] for r in sent}

    # The report, the severity, the deletion tracked to attested, the trail.
    severity = json.loads(cli("incident", "severity", iid, "--format", "json"))
    assert severity["band"] in ("medium", "high", "very high")
    assert severity["notify_regulator"]
    report = tmp_path / "report.md"
    cli("incident", "report", iid, "-o", str(report))
    body = report.read_text()
    assert "Beds_establishment_list.csv" in body
    assert "bids@bidder.example" in body
    assert re.search(r"registered records \| 45 \|", body)
    assert "[to complete]: ask the recipient to delete" in body
    cli("incident", "deletion", iid, "request", "-o", str(tmp_path / "delete.docx"))
    assert (
        json.loads(cli("incident", "show", iid, "-f", "json"))["deletion"]["status"] == "requested"
    )
    cli("incident", "deletion", iid, "attest", "--by", "Bidder DPO", "--date", "2026-10-26T11:00")
    shown = json.loads(cli("incident", "show", iid, "-f", "json"))
    assert shown["deletion"]["status"] == "attested"
    cli("incident", "report", iid, "-o", str(report), "--follow-up")
    assert "recipient confirmed deletion" in report.read_text()
    timeline = json.loads(cli("incident", "timeline", iid, "-f", "json"))
    assert timeline[0]["kind"] == "check"
    assert "bids@bidder.example" in timeline[0]["what"]
    cli("audit", "verify")
    trail = cli("audit", "list", "--format", "json")
    assert not any(r["staff_number"] in trail or r["ni_number"] in trail for r in master)

    # The same file found at another recipient, sent by another route.
    other = json.loads(
        cli(
            "incident",
            "open",
            "--title",
            "Found at a second bidder",
            "--files",
            str(leaked),
            "--recipient",
            "ops@other.example",
            "--occurred",
            "2026-10-22T12:00",
            "--discovered",
            "2026-10-25T01:30+01:00",
            "--format",
            "json",
        )
    )
    again = json.loads(cli("incident", "affected", str(other["id"]), "--format", "json"))
    assert {p["key"] for p in again["people"]} == set(truth)
    notes = json.loads(cli("incident", "timeline", str(other["id"]), "-f", "json"))
    assert any("no ShareGuard check of these files" in e["what"] for e in notes)
    listed = json.loads(cli("incident", "list", "-f", "json"))
    assert {i["id"] for i in listed} == {opened["id"], other["id"]}
