"""Detection accuracy on the synthetic development corpus.

Generates the corpus with ``../shared/eval/make_dev_corpus.py`` (into
``bench/.corpus`` unless ``--corpus`` points at one already made), scans every
outbound file with the real pipeline, and compares with ``truth.json``:

* per entity type: precision, recall and F1 from occurrence counts per file
  (the truth gives counts, not spans: per file and type, TP = min(found, gold),
  FP = found - TP, FN = gold - TP), split into structured parts (CSV, XLSX and
  the tables inside archives) and prose parts (DOCX, PDF, e-mail bodies);
* data subjects: the count per file against the truth, as a relative error;
* clean files: the exit status a user would get (must be 0) and anything found.

Prints a table and writes ``bench/results/accuracy.json``.

    uv run python bench/accuracy.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from shareguard import logs
from shareguard.config import Settings
from shareguard.model import FileReport
from shareguard.pipeline import make_scanner, scan_file

HERE = Path(__file__).resolve().parent
GENERATOR = HERE.parent.parent / "shared" / "eval" / "make_dev_corpus.py"
STRUCTURED_SUFFIXES = (".csv", ".xlsx")


def ensure_corpus(corpus: Path | None) -> Path:
    if corpus is not None:
        return corpus
    out = HERE / ".corpus"
    if not (out / "truth.json").exists():
        subprocess.run([sys.executable, str(GENERATOR), str(out)], check=True)
    return out


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def evaluate(corpus: Path) -> dict[str, Any]:
    truth = json.loads((corpus / "truth.json").read_text())["files"]
    settings = Settings(home=corpus / ".home")
    scanner = make_scanner(settings)
    reports: dict[str, FileReport] = {}
    exit_codes: dict[str, int] = {}
    for top in sorted((corpus / "files").iterdir()):
        key = f"files/{top.name}"
        report = scan_file(str(top), settings, scanner)
        exit_codes[key] = 1 if (report.has_personal_data or report.has_uninspectable) else 0
        for part in report.walk():
            reports[key + part.path[len(str(top)) :]] = part

    counts: dict[str, dict[str, list[int]]] = {
        "structured": defaultdict(lambda: [0, 0, 0]),
        "prose": defaultdict(lambda: [0, 0, 0]),
    }
    per_file: dict[str, Any] = {}
    for key, gold in sorted(truth.items()):
        if not key.startswith("files/"):
            continue
        rep = reports.get(key)
        if rep is None:
            per_file[key] = {"error": "part not found in scan"}
            continue
        kind = "structured" if key.endswith(STRUCTURED_SUFFIXES) else "prose"
        gold_entities: dict[str, int] = gold["entities"]
        for t in set(gold_entities) | set(rep.entities):
            g, f = gold_entities.get(t, 0), rep.entities.get(t, 0)
            tp = min(g, f)
            c = counts[kind][t]
            c[0] += tp
            c[1] += f - tp
            c[2] += g - tp
        gold_subjects = (gold.get("container_data_subjects") or gold["data_subjects"])["count"]
        found_subjects = rep.data_subjects if "contains" in gold else rep.own_data_subjects
        err = (
            abs(found_subjects - gold_subjects) / gold_subjects
            if gold_subjects
            else float(found_subjects > 0)
        )
        per_file[key] = {
            "kind": kind,
            "data_subjects": {"gold": gold_subjects, "found": found_subjects, "rel_error": err},
            "entities": {"gold": gold_entities, "found": rep.entities},
            "special": {
                "gold": sorted(gold["special_category"]),
                "found": list(rep.special_category),
            },
            "uninspectable": rep.uninspectable,
        }
        if "must_not" in gold:
            per_file[key]["clean_exit_code"] = exit_codes.get(key)

    by_type = {
        kind: {t: prf(*c) | {"tp": c[0], "fp": c[1], "fn": c[2]} for t, c in sorted(cs.items())}
        for kind, cs in counts.items()
    }
    overall = {
        kind: prf(*(sum(c[i] for c in cs.values()) for i in range(3)))
        for kind, cs in counts.items()
    }
    return {"by_type": by_type, "overall": overall, "files": per_file}


def print_summary(result: dict[str, Any]) -> None:
    for kind in ("structured", "prose"):
        print(f"\n{kind} parts: overall {result['overall'][kind]}")
        print(f"  {'type':<16}{'P':>8}{'R':>8}{'F1':>8}{'TP':>6}{'FP':>6}{'FN':>6}")
        for t, m in result["by_type"][kind].items():
            print(
                f"  {t:<16}{m['precision']:>8.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}"
                f"{m['tp']:>6}{m['fp']:>6}{m['fn']:>6}"
            )
    print(f"\n  {'file':<62}{'people':>8}{'gold':>6}{'err':>7}  special found / gold")
    for key, f in result["files"].items():
        if "error" in f:
            print(f"  {key:<62} {f['error']}")
            continue
        ds = f["data_subjects"]
        extra = f"  exit={f['clean_exit_code']}" if "clean_exit_code" in f else ""
        print(
            f"  {key[-62:]:<62}{ds['found']:>8}{ds['gold']:>6}{ds['rel_error']:>7.1%}  "
            f"{','.join(f['special']['found']) or '-'} / {','.join(f['special']['gold']) or '-'}"
            f"{extra}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, help="an already generated corpus folder")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "accuracy.json")
    args = ap.parse_args()
    logs.configure("console", logging.WARNING)
    result = evaluate(ensure_corpus(args.corpus))
    print_summary(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"\nwritten {args.out}")


if __name__ == "__main__":
    main()
