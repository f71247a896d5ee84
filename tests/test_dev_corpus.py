"""End to end on the synthetic development corpus (../shared/eval): the issue's
quality targets, checked on every run.  bench/accuracy.py prints the full
figures; this test guards them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shareguard.config import Settings
from shareguard.model import FileReport
from shareguard.pipeline import make_scanner, scan_file

GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "eval" / "make_dev_corpus.py"


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], dict[str, FileReport]]:
    out = tmp_path_factory.mktemp("devcorpus")
    subprocess.run([sys.executable, str(GENERATOR), str(out)], check=True, capture_output=True)
    truth = json.loads((out / "truth.json").read_text())["files"]
    settings = Settings(home=out / "home")
    scanner = make_scanner(settings)
    parts: dict[str, FileReport] = {}
    for top in sorted((out / "files").iterdir()):
        report = scan_file(str(top), settings, scanner)
        for part in report.walk():
            parts["files/" + top.name + part.path[len(str(top)) :]] = part
    return truth, parts


def _outbound(truth: dict[str, Any]) -> list[str]:
    return [k for k in truth if k.startswith("files/")]


def test_every_truth_part_is_found(corpus: tuple[dict[str, Any], dict[str, FileReport]]) -> None:
    truth, parts = corpus
    assert set(_outbound(truth)) <= set(parts)
    assert not [k for k, p in parts.items() if p.uninspectable]


def test_clean_files_have_no_findings(corpus: tuple[dict[str, Any], dict[str, FileReport]]) -> None:
    truth, parts = corpus
    for key in _outbound(truth):
        if "must_not" in truth[key]:
            report = parts[key]
            assert not report.has_personal_data, (key, report.entities, report.special_category)


def test_data_subject_counts_within_2_percent(
    corpus: tuple[dict[str, Any], dict[str, FileReport]],
) -> None:
    truth, parts = corpus
    for key in _outbound(truth):
        gold = truth[key]
        report = parts[key]
        if "contains" in gold:
            expected, found = gold["container_data_subjects"]["count"], report.data_subjects
        else:
            expected, found = gold["data_subjects"]["count"], report.own_data_subjects
        assert abs(found - expected) <= 0.02 * expected, (key, found, expected)


def test_structured_files_entity_f1_at_least_0_95(
    corpus: tuple[dict[str, Any], dict[str, FileReport]],
) -> None:
    truth, parts = corpus
    totals: dict[str, list[int]] = {}
    for key in _outbound(truth):
        if not key.endswith((".csv", ".xlsx")):
            continue
        gold, found = truth[key]["entities"], parts[key].entities
        for t in set(gold) | set(found):
            tp = min(gold.get(t, 0), found.get(t, 0))
            c = totals.setdefault(t, [0, 0, 0])
            c[0] += tp
            c[1] += found.get(t, 0) - tp
            c[2] += gold.get(t, 0) - tp
    for t, (tp, fp, fn) in totals.items():
        f1 = 2 * tp / (2 * tp + fp + fn)
        assert f1 >= 0.95, (t, tp, fp, fn)


def test_special_categories_match(corpus: tuple[dict[str, Any], dict[str, FileReport]]) -> None:
    truth, parts = corpus
    for key in _outbound(truth):
        assert sorted(parts[key].special_category) == sorted(truth[key]["special_category"]), key
