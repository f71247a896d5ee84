"""A profile made to an agreement's terms passes the check for that agreement's
recipient (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from staff_fixtures import staff_list
from typer.testing import CliRunner

from shareguard.cli import app
from shareguard.config import get_settings
from shareguard.policy.agreements import load_agreement_files
from shareguard.transform import profile_options_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agreements"
runner = CliRunner()


@pytest.fixture
def store(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("SHAREGUARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    loaded = runner.invoke(app, ["agreements", "load", *map(str, EXAMPLES.glob("*.yaml"))])
    assert loaded.exit_code == 0, loaded.output
    return engine


def test_profile_options_follow_the_agreement() -> None:
    bidder = next(
        a.agreement
        for a in load_agreement_files(sorted(EXAMPLES.glob("*.yaml")))
        if a.agreement.id == "DSA-17"
    )
    options = profile_options_for(bidder)
    assert options is not None
    assert options.by == ("department", "grade")
    assert options.mean == ("salary",)
    assert options.sum == ("fte",)
    assert options.threshold == 10
    individual = bidder.model_copy(update={"aggregates_only": False, "min_cell_size": None})
    assert profile_options_for(individual) is None


def test_staff_list_held_profile_allowed(store: Engine, tmp_path: Path) -> None:
    source, profile = tmp_path / "staff.csv", tmp_path / "profile.xlsx"
    source.write_bytes(staff_list(300, seed=51).csv_bytes())
    to = ["--to", "bids@bidder.example", "--from", "hr@example.org", "-f", "json"]
    held = runner.invoke(app, ["check", str(source), *to])
    assert held.exit_code == 1
    made = runner.invoke(
        app,
        [
            "minimise",
            str(source),
            "--to-profile",
            "--agreement",
            "DSA-17",
            "--threshold",
            "3",
            "-o",
            str(profile),
            "-f",
            "json",
        ],
    )
    assert made.exit_code == 0, made.output
    report = json.loads(made.stdout)
    assert any("sets the smallest cell at 10" in n for n in report["notes"])
    assert any("under 10" in n for n in report["notes"])
    allowed = runner.invoke(app, ["check", str(profile), *to])
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["decision"] == "allow"


def test_unknown_agreement_is_an_error(store: Engine, tmp_path: Path) -> None:
    source = tmp_path / "staff.csv"
    source.write_bytes(staff_list(20).csv_bytes())
    made = runner.invoke(
        app,
        [
            "minimise",
            str(source),
            "--to-profile",
            "--agreement",
            "NOPE",
            "-o",
            str(tmp_path / "p.csv"),
        ],
    )
    assert made.exit_code == 2
    assert "no agreement 'NOPE'" in made.output
