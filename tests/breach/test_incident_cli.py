"""`shareguard incident` sub-commands: output, exit codes and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from breach_builders import make_staff, record_check
from sqlalchemy import Engine
from typer.testing import CliRunner

from shareguard.cli import app
from shareguard.config import get_settings

runner = CliRunner()


@pytest.fixture
def cli_store(store: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("SHAREGUARD_DATABASE_URL", store.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    return store


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["incident", *args])
    assert result.exit_code == code, result.output
    return result.output


def opened(store: Engine) -> str:
    rec = record_check(store, make_staff(6))
    out = run(
        "open",
        "--title",
        "List to bidder",
        "--record",
        str(rec.id),
        "--occurred",
        "2026-03-27T16:40",
        "--discovered",
        "2026-03-28T10:00",
        "--owner",
        "dpo@force.example",
        "--format",
        "json",
    )
    return str(json.loads(out)["id"])


def test_register_show_and_decisions(cli_store: Engine, tmp_path: Path) -> None:
    iid = opened(cli_store)
    assert run("list").startswith("1 incident(s)")  # the table (folded to the terminal)
    (listed,) = json.loads(run("list", "-f", "json"))
    assert (listed["title"], listed["owner"]) == ("List to bidder", "dpo@force.example")
    assert "2026-03-31T11:00+01:00" in run("show", iid)
    severity = run("severity", iid)
    assert "dpc_type" in severity
    assert "tell the regulator: yes" in severity
    assert "needs a justification" in run("severity", iid, "--set", "ei=limited", code=2)
    assert "unknown severity factor" in run(
        "severity", iid, "--set", "colour=red", "--why", "x", code=2
    )
    changed = json.loads(
        run("severity", iid, "--set", "malicious=yes", "--why", "published online", "-f", "json")
    )
    assert changed["cb"] == 0.75
    assert "late-reason" in run("reported", iid, "--at", "2026-04-02T09:00", code=2)
    assert "ICO-1" in run("reported", iid, "--at", "2026-03-30T09:00", "--reference", "ICO-1")
    run("people", iid, "--restrict", "would alert a suspect", "--ground", "b")
    assert "give --told WHEN or --restrict REASON" in run("people", iid, code=2)
    run("others-told", iid, "--who", "Bedfordshire Police professional standards")
    run("deletion", iid, "request", "-o", str(tmp_path / "req.pdf"))
    assert (tmp_path / "req.pdf").read_bytes().startswith(b"%PDF")
    run("deletion", iid, "attest", "--by", "Bidder DPO", "--date", "2026-03-30T12:00")
    run("report", iid, "-o", str(tmp_path / "r.docx"), "--law-enforcement")
    assert (tmp_path / "r.docx").stat().st_size > 0
    timeline = run("timeline", iid)
    assert "incident.status" in timeline
    assert "incident.attest" in timeline
    run("close", iid)
    shown = json.loads(run("show", iid, "-f", "json"))
    assert shown["status"] == "closed"
    assert shown["deletion"]["status"] == "attested"
    assert shown["people_restriction_ground"] == "b"


def test_not_reported_is_kept_in_the_register_with_the_reason(cli_store: Engine) -> None:
    iid = opened(cli_store)
    run("not-reported", iid, "--why", "recipient is our processor under contract")
    (listed,) = json.loads(run("list", "-f", "json"))
    assert listed["status"] == "not_reported"
    assert listed["not_reported_reason"] == "recipient is our processor under contract"


def test_errors_name_what_is_wrong(cli_store: Engine, tmp_path: Path) -> None:
    assert "no incident 99" in run("show", "99", code=2)
    assert "happens twice" in run(
        "open",
        "--title",
        "t",
        "--record",
        "1",
        "--occurred",
        "2026-10-25T01:30",
        "--discovered",
        "2026-10-25T09:00",
        code=2,
    )
    assert "either the audit records" in run(
        "open",
        "--title",
        "t",
        "--occurred",
        "2026-10-20T01:30",
        "--discovered",
        "2026-10-25T09:00",
        code=2,
    )
    iid = opened(cli_store)
    assert "write .md, .docx or .pdf" in run("report", iid, "-o", str(tmp_path / "r.txt"), code=2)
