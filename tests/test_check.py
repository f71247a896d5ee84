"""`shareguard check`, approvals and the audit record, end to end, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from shareguard.approvals import ApprovalRefused, Approvals
from shareguard.cli import app
from shareguard.config import get_settings
from shareguard.store.approvals import ApprovalStore
from shareguard.web.app import create_app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "agreements"
runner = CliRunner()

STAFF = (
    "Staff No,Forename,Surname,DoB,NI number,Grade\n"
    "E1001,Grace,Okafor,14/02/1961,AB 12 34 56 C,Band 5\n"
    "E1002,Tomasz,Nowak,03/07/1975,CE 98 76 54 A,Band 6\n"
    "E1003,Priya,Shah,21/11/1988,JG 10 32 54 D,Band 4\n"
)
PROFILE = (
    "Grade,Department,Headcount,Mean salary\nBand 5,Estates,42,27100\nBand 6,Estates,18,33400\n"
)


@pytest.fixture
def store(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The CLI and service on the test database (SQLite or PostgreSQL), with
    the example agreements loaded."""
    monkeypatch.setenv("SHAREGUARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    loaded = runner.invoke(app, ["agreements", "load", *map(str, EXAMPLES.glob("*.yaml"))])
    assert loaded.exit_code == 0, loaded.output
    return engine


def _check(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["check", *args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    staff, profile = tmp_path / "Beds_establishment_list.csv", tmp_path / "profile.csv"
    staff.write_text(STAFF)
    profile.write_text(PROFILE)
    return staff, profile


def test_staff_list_to_bidder_is_held_with_reasons(store: Engine, files: tuple[Path, Path]) -> None:
    staff, _ = files
    code, out = _check(str(staff), "--to", "bids@bidder.example", "--from", "hr@council.example")
    assert code == 1
    assert out["decision"] == "hold"
    (r,) = out["recipients"]
    assert r["agreement"] == {"id": "DSA-17", "version": 1}
    text = " ".join(r["reasons"])
    assert "Beds_establishment_list.csv" in text
    assert "3 people" in text
    assert "aggregated" in text
    assert out["scan"]["data_subjects"] == 3
    assert out["record_id"] >= 1
    assert len(out["approval_ids"]) == 1
    assert "AB 12 34 56 C" not in json.dumps(out)
    assert out["way_forward"] == [
        f"shareguard minimise {staff} --to-profile --agreement DSA-17 -o profile-DSA-17.xlsx"
    ]


def test_the_way_forward_makes_a_profile_the_bidder_may_have(
    store: Engine, files: tuple[Path, Path], tmp_path: Path
) -> None:
    staff, _ = files
    shown = runner.invoke(
        app, ["check", str(staff), "--to", "bids@bidder.example", "--from", "hr@council.example"]
    )
    assert shown.exit_code == 1
    (hint,) = [line for line in shown.stdout.splitlines() if "way forward:" in line]
    command = shlex.split(hint.split("way forward:", 1)[1])
    assert command[:2] == ["shareguard", "minimise"]
    out = tmp_path / "profile.xlsx"
    made = runner.invoke(app, [*command[1:-1], str(out)])
    assert made.exit_code == 0, made.output
    code, result = _check(str(out), "--to", "bids@bidder.example", "--from", "hr@council.example")
    assert (code, result["decision"], result["way_forward"]) == (0, "allow", [])


def test_workforce_profile_to_bidder_is_allowed(store: Engine, files: tuple[Path, Path]) -> None:
    _, profile = files
    code, out = _check(str(profile), "--to", "bids@bidder.example", "--from", "hr@council.example")
    assert code == 0
    assert out["decision"] == "allow"
    assert out["approval_ids"] == []


def test_several_recipients_each_get_their_own_decision(
    store: Engine, files: tuple[Path, Path]
) -> None:
    staff, _ = files
    code, out = _check(
        str(staff), "--to", "bids@bidder.example", "--to", "someone@elsewhere.example"
    )
    assert code == 1
    by = {r["address"]: r for r in out["recipients"]}
    assert by["bids@bidder.example"]["agreement"]["id"] == "DSA-17"
    assert by["someone@elsewhere.example"]["agreement"] is None
    assert out["decision"] in {"hold", "block"}


def test_four_eyes_then_approve_release_and_verify(store: Engine, files: tuple[Path, Path]) -> None:
    staff, _ = files
    _, out = _check(str(staff), "--to", "bids@bidder.example", "--from", "hr@council.example")
    (approval,) = out["approval_ids"]

    listed = runner.invoke(app, ["approvals", "list", "-f", "json"])
    assert [a["id"] for a in json.loads(listed.stdout)] == [approval]

    own = runner.invoke(
        app, ["approvals", "approve", approval, "--by", "HR@council.example", "--reason", "ok"]
    )
    assert own.exit_code == 2
    assert "four-eyes" in own.output

    ok = runner.invoke(
        app, ["approvals", "approve", approval, "--by", "dpo@council.example", "--reason", "ok"]
    )
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(
        app, ["approvals", "reject", approval, "--by", "dpo@council.example", "--reason", "no"]
    )
    assert again.exit_code == 2  # already decided

    out_dir = staff.parent / "released"
    released = runner.invoke(
        app, ["approvals", "release", approval, "--out", str(out_dir), "--by", "hr@council.example"]
    )
    assert released.exit_code == 0, released.output
    assert (out_dir / staff.name).read_text() == STAFF

    verify = runner.invoke(app, ["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    kinds = json.loads(runner.invoke(app, ["audit", "list", "-f", "json"]).stdout)
    assert [r["kind"] for r in kinds][:3] == ["release", "approval", "check"]


def test_approval_under_superseded_or_expired_agreement_is_refused(
    store: Engine, files: tuple[Path, Path], tmp_path: Path
) -> None:
    staff, _ = files
    _, out = _check(str(staff), "--to", "bids@bidder.example", "--from", "hr@council.example")
    (approval,) = out["approval_ids"]
    settings = get_settings()
    approvals = Approvals(store, settings.secret_key_bytes())

    with pytest.raises(ApprovalRefused, match="not in force"):
        approvals.decide(
            approval, approve=True, by="dpo@x", reason="r", now=datetime(2031, 1, 1, tzinfo=UTC)
        )

    changed = tmp_path / "bidder-v2.yaml"
    source = (EXAMPLES / "outsourcing-bidder.yaml").read_text()
    changed.write_text(source.replace("min_cell_size: 10", "min_cell_size: 20"))
    assert runner.invoke(app, ["agreements", "load", str(changed)]).exit_code == 0
    with pytest.raises(ApprovalRefused, match="superseded"):
        approvals.decide(approval, approve=True, by="dpo@x", reason="r")
    # rejecting is always possible
    assert approvals.decide(approval, approve=False, by="dpo@x", reason="r").status == "rejected"
    assert ApprovalStore(store).get(approval).status == "rejected"  # type: ignore[union-attr]


def test_http_check_returns_the_cli_json(store: Engine, files: tuple[Path, Path]) -> None:
    staff, _ = files
    app = create_app(get_settings())
    app.state.portal.users.add("hr@council.example", "sender", None)
    token = app.state.portal.users.issue_token("hr@council.example", "hr-system")
    client = TestClient(app, headers={"authorization": f"Bearer {token}"})
    r = client.post(
        "/v1/check",
        files=[("file", (staff.name, staff.read_bytes(), "text/csv"))],
        data={"to": ["bids@bidder.example"], "from": "hr@council.example"},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["decision"] == "hold"
    assert out["recipients"][0]["agreement"]["id"] == "DSA-17"
    assert "AB 12 34 56 C" not in r.text


def test_held_content_is_not_readable_in_the_data_directory(
    shareguard_home: Path, files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedded default (SQLite in SHAREGUARD_HOME): grep every file for the
    seeded values after a hold."""
    monkeypatch.delenv("SHAREGUARD_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    staff, _ = files
    code, out = _check(str(staff), "--to", "bids@elsewhere.example", "--from", "hr@council.example")
    assert code == 1
    assert out["approval_ids"]
    seeded = [b"AB 12 34 56 C", b"AB123456C", b"Okafor", b"OKAFOR", b"14/02/1961"]
    checked = 0
    for path in shareguard_home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            checked += 1
            for value in seeded:
                assert value not in data, (path.name, value)
    assert checked >= 2  # the database and the secret key at least
