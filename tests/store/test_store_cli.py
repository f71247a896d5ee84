from __future__ import annotations

import json

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from shareguard.commands.audit import app as audit_app
from shareguard.commands.db import app as db_app
from shareguard.config import get_settings
from shareguard.store.audit import AuditLog
from shareguard.store.db import head_revision, make_engine
from shareguard.store.models import AuditRow

runner = CliRunner()


@pytest.fixture
def use_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the settings at a fresh, unmigrated database on each backend."""
    monkeypatch.setenv("SHAREGUARD_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return db_url


def _fill(url: str) -> None:
    engine = make_engine(url=url)
    log = AuditLog(engine)
    for i, (to, decision) in enumerate(
        [
            ("bids@bidder.example", "hold"),
            ("hr@council.example", "allow"),
            ("bids@bidder.example", "block"),
        ]
    ):
        log.append(
            "check",
            "alice@corp.example",
            {"sender": "alice@corp.example", "recipients": [to], "decision": decision, "n": i},
        )
    log.append("approval", "bob@corp.example", {"decision": "allow", "of": 1})
    engine.dispose()


def test_db_upgrade_and_current(use_db: str) -> None:
    before = runner.invoke(db_app, ["current"])
    assert before.exit_code == 1
    assert "schema none" in before.stdout
    done = runner.invoke(db_app, ["upgrade"])
    assert done.exit_code == 0, done.output
    assert f"schema {head_revision()}" in done.stdout
    assert runner.invoke(db_app, ["upgrade"]).exit_code == 0
    assert runner.invoke(db_app, ["current"]).exit_code == 0


def test_audit_needs_a_migrated_database(use_db: str) -> None:
    result = runner.invoke(audit_app, ["verify"])
    assert result.exit_code == 2
    assert "shareguard db upgrade" in result.stderr


def test_unreachable_database_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "SHAREGUARD_DATABASE_URL", "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/none"
    )
    get_settings.cache_clear()
    for app, args in ((db_app, ["upgrade"]), (audit_app, ["list"])):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert "127.0.0.1:1" in result.stderr
        assert "s3cret" not in result.stderr
        assert "Traceback" not in result.output


def test_verify_list_show(use_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    assert runner.invoke(db_app, ["upgrade"]).exit_code == 0
    _fill(use_db)

    ok = runner.invoke(audit_app, ["verify"])
    assert ok.exit_code == 0
    assert "intact" in ok.stdout
    assert "4 record(s)" in ok.stdout
    as_json = json.loads(runner.invoke(audit_app, ["verify", "--format", "json"]).stdout)
    assert as_json["ok"] is True
    assert as_json["checked"] == 4

    def seqs(*args: str) -> list[int]:
        result = runner.invoke(audit_app, ["list", "--format", "json", *args])
        assert result.exit_code == 0, result.output
        return [r["seq"] for r in json.loads(result.stdout)]

    assert seqs() == [4, 3, 2, 1]
    assert seqs("--recipient", "bids@bidder.example") == [3, 1]
    assert seqs("--recipient", "@council.example") == [2]
    assert seqs("--decision", "allow") == [4, 2]
    assert seqs("--sender", "ALICE@corp.example", "--decision", "block") == [3]
    assert seqs("--kind", "approval") == [4]
    assert seqs("--limit", "1") == [4]
    today = get_today()
    assert seqs("--since", today, "--until", today) == [4, 3, 2, 1]
    assert seqs("--until", "2000-01-01") == []
    bad = runner.invoke(audit_app, ["list", "--since", "yesterday"])
    assert bad.exit_code == 2

    table = runner.invoke(audit_app, ["list"])
    assert table.exit_code == 0
    assert "bids@bidder.example" in table.stdout
    assert "4 record(s)" in table.stdout

    shown = runner.invoke(audit_app, ["show", "3", "--format", "json"])
    assert shown.exit_code == 0
    rec = json.loads(shown.stdout)
    assert (rec["seq"], rec["payload"]["decision"]) == (3, "block")
    by_id = runner.invoke(audit_app, ["show", str(rec["seq"])])
    assert by_id.exit_code == 0
    assert rec["hash"] in by_id.stdout
    assert runner.invoke(audit_app, ["show", "99"]).exit_code == 2


def test_list_by_agreement(use_db: str) -> None:
    assert runner.invoke(db_app, ["upgrade"]).exit_code == 0
    engine = make_engine(url=use_db)
    log = AuditLog(engine)
    for to, agreement in [("bids@bidder.example", "DSA-17"), ("p@pensions.example", "DSA-22")]:
        log.append(
            "check",
            "alice@corp.example",
            {
                "sender": "alice@corp.example",
                "recipients": [to],
                "decision": "hold",
                "per_recipient": [
                    {"address": to, "decision": "hold", "agreement": {"id": agreement}}
                ],
            },
        )
    engine.dispose()
    result = runner.invoke(audit_app, ["list", "--agreement", "DSA-22", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [r["seq"] for r in json.loads(result.stdout)] == [2]


def test_verify_names_the_broken_record(use_db: str) -> None:
    assert runner.invoke(db_app, ["upgrade"]).exit_code == 0
    _fill(use_db)
    engine = make_engine(url=use_db)
    with engine.begin() as conn:
        conn.execute(update(AuditRow).where(AuditRow.seq == 2).values(actor="mallory"))
    engine.dispose()
    result = runner.invoke(audit_app, ["verify"])
    assert result.exit_code == 1
    assert "broken at record 2" in result.stdout
    assert "altered" in result.stdout
    as_json = json.loads(runner.invoke(audit_app, ["verify", "-f", "json"]).stdout)
    assert (as_json["ok"], as_json["first_bad_seq"]) == (False, 2)


def get_today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).date().isoformat()
