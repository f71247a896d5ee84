"""Pseudonyms: stable per person under one key, unrelated under another,
identifiers gone, the re-identification table only on request."""

from __future__ import annotations

import csv
import io
import secrets
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from staff_fixtures import HEADER, Staff, staff_list
from typer.testing import CliRunner

from shareguard.cli import app
from shareguard.config import get_settings
from shareguard.transform import MinimiseOptions, minimise_bytes
from shareguard.transform.pseudonymise import normalise, pseudonym_key, token

runner = CliRunner()


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def _tokens(staff: Staff, key: bytes | None = None) -> dict[str, str]:
    """NI number -> pseudonym in the pseudonymised copy of ``staff``."""
    result = minimise_bytes(
        staff.csv_bytes(), "staff.csv", "pseudonymise", MinimiseOptions(key=key), get_settings()
    )
    rows = _rows(result.content)
    assert rows[0][0] == "Pseudonym"
    return {src[2]: out[0] for src, out in zip(staff.rows, rows[1:], strict=True)}


ninos = st.from_regex(
    r"[ABCEGHJKLMPRSTWXYZ][ABCEGHJKLMNPRSTWXYZ] \d\d \d\d \d\d [ABCD]", fullmatch=True
)


@settings(max_examples=200, deadline=None)
@given(ninos, st.binary(min_size=32, max_size=64), st.binary(min_size=32, max_size=64))
def test_same_person_same_token_under_one_key_only(ni: str, root: bytes, other: bytes) -> None:
    key = pseudonym_key(root)
    value = normalise("UK_NINO", ni)
    assert token(key, "UK_NINO", value) == token(
        pseudonym_key(root), "UK_NINO", normalise("UK_NINO", ni.replace(" ", "").lower())
    )
    if other != root:
        assert token(key, "UK_NINO", value) != token(pseudonym_key(other), "UK_NINO", value)


def test_tokens_agree_across_files_and_runs_and_differ_by_key() -> None:
    staff = staff_list(80, seed=21)
    # another extract of the same people: other order, fewer columns kept
    reordered = Staff(HEADER, list(reversed(staff.rows[:50])))
    first, second = _tokens(staff), _tokens(reordered)
    for ni, tok in second.items():
        assert first[ni] == tok
    assert _tokens(staff) == first  # a second run
    other = _tokens(staff, key=secrets.token_bytes(32))
    assert all(other[ni] != first[ni] for ni in first)
    assert len(set(first.values())) == len(first)  # one token per person


def test_identifiers_removed_and_the_rest_kept() -> None:
    staff = staff_list(50, seed=22)
    result = minimise_bytes(
        staff.csv_bytes(), "staff.csv", "pseudonymise", MinimiseOptions(), get_settings()
    )
    rows = _rows(result.content)
    assert rows[0] == [
        "Pseudonym",
        "Date of birth",
        "Grade",
        "Department",
        "Salary",
        "Ethnicity",
        "FTE",
        "Start date",
    ]
    text = result.content.decode()
    for r in staff.rows:
        for value in (r[0], r[2], r[9]):
            assert value not in text
    assert rows[1][2:5] == staff.rows[0][3:6]
    assert not result.remaining["direct_identifiers"]
    assert result.reidentification is None
    # exact dates of birth remain until generalised
    assert result.remaining["entities"].get("DATE_OF_BIRTH")


def test_pseudonymise_and_generalise_together_leave_a_clean_file() -> None:
    staff = staff_list(120, seed=23)
    result = minimise_bytes(
        staff.csv_bytes(), "staff.csv", "pseudonymise+generalise", MinimiseOptions(), get_settings()
    )
    rows = _rows(result.content)
    assert rows[0][:2] == ["Pseudonym", "Age band"]
    assert result.remaining["entities"] == {}
    assert result.filename == "staff-pseudonymised-generalised.csv"
    # the token is keyed on the exact values, not the bands
    assert rows[1][0] == _tokens(staff)[staff.rows[0][2]]


def test_key_table_written_only_with_keep_key(tmp_path: Path) -> None:
    staff = staff_list(30, seed=24)
    source, out, key = tmp_path / "staff.csv", tmp_path / "out.csv", tmp_path / "key.csv"
    source.write_bytes(staff.csv_bytes())
    plain = runner.invoke(app, ["minimise", str(source), "--pseudonymise", "-o", str(out)])
    assert plain.exit_code == 0, plain.output
    assert not key.exists()
    kept = runner.invoke(
        app, ["minimise", str(source), "--pseudonymise", "-o", str(out), "--keep-key", str(key)]
    )
    assert kept.exit_code == 0, kept.output
    assert key.stat().st_mode & 0o777 == 0o600
    table = _rows(key.read_bytes())
    assert table[0] == ["Pseudonym", "keyed on", "Name", "NI number", "Email"]
    by_token = {r[0]: r for r in table[1:]}
    for src, row in zip(staff.rows, _rows(out.read_bytes())[1:], strict=True):
        assert by_token[row[0]][3] == src[2]


def test_key_file_gives_the_same_tokens_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = staff_list(20, seed=25)
    source, keyfile = tmp_path / "staff.csv", tmp_path / "pseudonym.key"
    source.write_bytes(staff.csv_bytes())
    keyfile.write_text(secrets.token_hex(32) + "\n")
    outputs = []
    for home in ("a", "b"):  # two installations with different secrets
        monkeypatch.setenv("SHAREGUARD_HOME", str(tmp_path / home))
        get_settings.cache_clear()
        out = tmp_path / f"{home}.csv"
        made = runner.invoke(
            app,
            ["minimise", str(source), "--pseudonymise", "--key-file", str(keyfile), "-o", str(out)],
        )
        assert made.exit_code == 0, made.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    short = tmp_path / "short.key"
    short.write_text("abcd")
    refused = runner.invoke(
        app,
        [
            "minimise",
            str(source),
            "--pseudonymise",
            "--key-file",
            str(short),
            "-o",
            str(tmp_path / "x.csv"),
        ],
    )
    assert refused.exit_code == 2
    assert "at least 32 bytes" in refused.output


def test_require_clean_fails_and_writes_nothing_when_identifiers_remain(tmp_path: Path) -> None:
    staff = staff_list(30, seed=26)
    source, out = tmp_path / "staff.csv", tmp_path / "out.csv"
    source.write_bytes(staff.csv_bytes())
    made = runner.invoke(
        app, ["minimise", str(source), "--generalise", "--require-clean", "-o", str(out)]
    )
    assert made.exit_code == 1
    assert "direct identifiers remain" in made.output
    assert not out.exists()
    clean = runner.invoke(
        app,
        [
            "minimise",
            str(source),
            "--pseudonymise",
            "--generalise",
            "--require-clean",
            "-o",
            str(out),
        ],
    )
    assert clean.exit_code == 0, clean.output
    assert out.exists()
