"""Personal data must not leak through ShareGuard: not in logs, not in error
output, not in findings unless the user asked to reveal them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from structlog.testing import capture_logs

from shareguard.config import get_settings
from shareguard.pipeline import make_scanner, scan_file

SECRETS = ("943 476 5919", "AB 12 34 56 C", "grace.okafor@example.com", "07700 900123")
TEXT = (
    "Patient Grace Okafor, NHS number 943 476 5919, NI number AB 12 34 56 C, "
    "e-mail grace.okafor@example.com, mobile 07700 900123.\n"
)


def test_scan_logs_carry_counts_not_values(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text(TEXT)
    settings = get_settings()
    with capture_logs() as events:
        report = scan_file(str(path), settings, make_scanner(settings))
    assert events, "the scan should log what it did"
    dumped = json.dumps(events, default=str)
    for raw in SECRETS:
        assert raw not in dumped
    assert report.entities["UK_NHS"] == 1


def test_findings_hold_masked_previews_and_keyed_hashes(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text(TEXT)
    settings = get_settings()
    report = scan_file(str(path), settings, make_scanner(settings))
    for f in report.findings:
        assert f.revealed is None
        assert f.value_hash.startswith("hk1:")
        for raw in SECRETS:
            assert raw not in f.preview


def test_value_hashes_depend_on_the_secret_key(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text(TEXT)
    a = get_settings().model_copy(update={"secret_key": "11" * 32})
    b = get_settings().model_copy(update={"secret_key": "22" * 32})
    ha = {f.value_hash for f in scan_file(str(path), a, make_scanner(a)).findings}
    hb = {f.value_hash for f in scan_file(str(path), b, make_scanner(b)).findings}
    assert ha
    assert hb
    assert not (ha & hb)


def test_cli_output_and_stderr_hold_no_raw_values(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text(TEXT)
    for fmt in ("table", "json", "sarif"):
        proc = subprocess.run(
            [sys.executable, "-m", "shareguard.cli", "scan", str(path), "--format", fmt],
            capture_output=True,
            text=True,
            env={"SHAREGUARD_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
        )
        assert proc.returncode == 1, proc.stderr
        for raw in SECRETS:
            assert raw not in proc.stdout
            assert raw not in proc.stderr


def test_secret_key_file_is_private(tmp_path: Path) -> None:
    settings = get_settings().model_copy(update={"home": tmp_path / "fresh"})
    settings.secret_key_bytes()
    mode = (tmp_path / "fresh" / "secret.key").stat().st_mode & 0o777
    assert mode == 0o600
