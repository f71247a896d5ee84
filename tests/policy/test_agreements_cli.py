"""`shareguard agreements validate | load | list | show` against a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

from test_policy_agreements import GOOD
from typer.testing import CliRunner

from shareguard.commands.agreements import app

runner = CliRunner()


def test_validate_reports_every_problem(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD)
    bad.write_text(GOOD.replace("valid_until:", "valid_untill:").replace("contract", "contrac"))
    assert runner.invoke(app, ["validate", str(good)]).exit_code == 0
    result = runner.invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    lines = [x for x in result.stdout.splitlines() if x.startswith(str(bad))]
    assert [x.split(":")[1:3] for x in lines] == [["2", "1"], ["7", "15"], ["10", "1"]]


def test_validate_policy_option(tmp_path: Path) -> None:
    good, policy = tmp_path / "good.yaml", tmp_path / "policy.yaml"
    good.write_text(GOOD)
    policy.write_text("uninspectable: allow\n")
    result = runner.invoke(app, ["validate", str(good), "--policy", str(policy)])
    assert result.exit_code == 1
    assert f"{policy}:1:16: uninspectable" in result.stdout


def test_load_list_show_versions(tmp_path: Path, shareguard_home: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(GOOD)
    first = runner.invoke(app, ["load", str(path), "--by", "alice"])
    assert first.exit_code == 0, first.output
    assert "DSA-1: version 1 loaded" in first.stdout
    assert "DSA-1: version 1 unchanged" in runner.invoke(app, ["load", str(path)]).stdout
    path.write_text(GOOD.replace("title: Test agreement", "title: Test agreement, revised"))
    second = runner.invoke(app, ["load", str(path), "--by", "bob"])
    assert "DSA-1: version 2 loaded" in second.stdout
    assert (shareguard_home / "shareguard.db").exists()

    listed = json.loads(runner.invoke(app, ["list", "--format", "json"]).stdout)
    assert [(x["id"], x["version"], x["title"]) for x in listed] == [
        ("DSA-1", 2, "Test agreement, revised")
    ]
    assert "DSA-1" in runner.invoke(app, ["list"]).stdout

    shown = json.loads(runner.invoke(app, ["show", "DSA-1", "--version", "1", "-f", "json"]).stdout)
    assert (shown["version"], shown["versions"], shown["loaded_by"]) == (1, [1, 2], "alice")
    assert shown["source_text"] == GOOD
    assert shown["agreement"]["valid_until"] == "2026-12-31"
    table = runner.invoke(app, ["show", "DSA-1"])
    assert table.exit_code == 0
    assert "Test agreement, revised" in table.stdout
    missing = runner.invoke(app, ["show", "DSA-9"])
    assert missing.exit_code == 2


def test_load_refuses_invalid_files(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(GOOD.replace("valid_until:", "valid_untill:"))
    result = runner.invoke(app, ["load", str(path)])
    assert result.exit_code == 1
    assert "unknown field 'valid_untill'" in result.stdout
    assert json.loads(runner.invoke(app, ["list", "-f", "json"]).stdout) == []


def test_stored_agreements_come_back_for_decisions(tmp_path: Path) -> None:
    from shareguard.config import get_settings
    from shareguard.policy.loading import agreement_versions
    from shareguard.store.db import make_engine

    path = tmp_path / "a.yaml"
    path.write_text(GOOD)
    assert runner.invoke(app, ["load", str(path)]).exit_code == 0
    [av] = agreement_versions(make_engine(get_settings()))
    assert (av.agreement.id, av.version) == ("DSA-1", 1)
    assert av.agreement.valid_until.isoformat() == "2026-12-31"
