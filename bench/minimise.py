"""Minimisation figures: before/after scans and time per transform.

    .venv/bin/python bench/minimise.py [--staff 300] [--large 5000]

Generates a staff list (name, date of birth, NI number, grade, department,
salary, ethnicity, FTE, start date, e-mail) with the test generator, prints the
scan summary of the source and of each minimised copy (the "before/after" of
the minimisation issue), then times every transform, re-scan included, on a
larger list.  Writes ``bench/results/minimise.json``.  Bounded: well under a
minute on two cores at the defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "transform"))

from staff_fixtures import staff_list  # noqa: E402

from shareguard.config import Settings  # noqa: E402
from shareguard.pipeline import make_scanner, scan_bytes  # noqa: E402
from shareguard.transform import MinimiseOptions, minimise_bytes, scan_summary  # noqa: E402

MODES = {
    "profile (grade x department, mean salary)": (
        "profile",
        MinimiseOptions(by=("grade", "department"), mean=("salary",), output_format="xlsx"),
    ),
    "profile (TUPE preset)": ("profile", MinimiseOptions(preset="tupe", output_format="xlsx")),
    "redact": ("redact", MinimiseOptions()),
    "pseudonymise": ("pseudonymise", MinimiseOptions()),
    "generalise": ("generalise", MinimiseOptions()),
    "pseudonymise+generalise": ("pseudonymise+generalise", MinimiseOptions()),
}


def _line(s: dict[str, object]) -> str:
    entities = s["entities"] or {}
    assert isinstance(entities, dict)
    found = ", ".join(f"{k} {n}" for k, n in entities.items()) or "none"
    special = ", ".join(s["special_category"]) or "none"  # type: ignore[arg-type]
    return f"people {s['data_subjects']:>5}  entities: {found}; special: {special}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--staff", type=int, default=300)
    ap.add_argument("--large", type=int, default=5000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        scanner = make_scanner(settings)
        data = staff_list(args.staff).csv_bytes()
        before = scan_summary(scan_bytes(data, "staff.csv", settings, scanner))
        results: dict[str, object] = {"staff": args.staff, "before": before, "after": {}}
        print(f"source: {args.staff} staff, CSV {len(data):,} bytes")
        print(f"  before                                     {_line(before)}")
        for label, (mode, options) in MODES.items():
            r = minimise_bytes(data, "staff.csv", mode, options, settings)
            results["after"][label] = {  # type: ignore[index]
                **r.remaining,
                "suppressed_cells": r.suppressed_cells,
            }
            hidden = f" ({r.suppressed_cells} hidden)" if mode == "profile" else ""
            print(f"  after {label + hidden:<37} {_line(r.remaining)}")

        large = staff_list(args.large, seed=2).csv_bytes()
        print(f"\ntiming on {args.large} staff (CSV {len(large) / 1e6:.1f} MB), re-scan included")
        timings = {}
        for label, (mode, options) in MODES.items():
            start = time.perf_counter()
            minimise_bytes(large, "staff.csv", mode, options, settings)
            took = time.perf_counter() - start
            timings[label] = took
            print(f"  {label:<42} {took:6.2f} s  {args.large / took:8.0f} rows/s")
        results["timings_s"] = timings
        results["large_staff"] = args.large
    out = ROOT / "bench" / "results" / "minimise.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out.relative_to(ROOT)} (figures from a shared, loaded 2-core machine)")


if __name__ == "__main__":
    main()
