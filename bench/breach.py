"""Breach response at scale: affected list, severity, report and letters for
1,000 and 50,000 affected people.

For each size, in a fresh SQLite store in a temporary folder: registers a
generated staff master file of that many people (exact data match), records
one disclosure naming all of them (the audit payload a check writes: one
keyed ref per person, their data categories), opens an incident and times

* the affected list (refs resolved to staff numbers, decrypted);
* the ENISA severity;
* the regulator's report as DOCX, PDF and Markdown;
* all letters (DOCX; PDF as well up to ``--pdf-up-to`` people) from a people
  file of names and addresses, plus the mailing CSV.

    .venv/bin/python bench/breach.py [--sizes 1000 50000] [--jobs 2] [--pdf-up-to 1000]

The issue's target: for 1,000 people, affected list + severity + report +
all letters in < 60 s together.  Scanning the disclosed file is not timed
here (see bench/throughput.py and bench/edm.py).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
FORCES = ("Bedfordshire", "Hertfordshire", "Cambridgeshire")
CATEGORIES = ["PERSON", "DATE_OF_BIRTH", "UK_NINO"]


def staff(n: int) -> pl.DataFrame:
    i = pl.int_range(n, eager=True)
    return pl.DataFrame(
        {
            "staff_number": "P" + i.cast(pl.String).str.zfill(7),
            "name": "Alex Person" + i.cast(pl.String),
            "force": pl.Series([FORCES[k % 3] for k in range(n)]),
        }
    )


def payload(refs: list[str], n_special: int) -> dict[str, Any]:
    return {
        "sender": "hr@force.example",
        "recipients": ["bids@bidder.example"],
        "files": [
            {
                "name": "establishment.csv",
                "sha256": "ab" * 32,
                "entities": dict.fromkeys(CATEGORIES, len(refs)),
                "data_subjects": len(refs),
                "special_category": ["health"],
                "uninspectable": [],
            }
        ],
        "entities": dict.fromkeys(CATEGORIES, len(refs)),
        "data_subjects": len(refs),
        "special_category": ["health"],
        "decision": "hold",
        "per_recipient": [
            {"address": "bids@bidder.example", "decision": "hold", "agreement": None, "reasons": []}
        ],
        "registered": {"STAFF": {"present": len(refs), "possible": 0}},
        "subjects": {
            ref: {
                "dataset": "STAFF",
                "fields": ["KEY", "PERSON"],
                "categories": CATEGORIES,
                "special": ["health"] if i < n_special else [],
            }
            for i, ref in enumerate(refs)
        },
    }


def run(n: int, jobs: int, pdf_up_to: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SHAREGUARD_HOME"] = tmp
        from shareguard.breach.clock import parse_when
        from shareguard.breach.incidents import Incidents
        from shareguard.config import get_settings
        from shareguard.keys import PURPOSE_VALUE_HASH, derive_key
        from shareguard.store.audit import AuditLog
        from shareguard.store.datasets import DatasetStore, subject_ref
        from shareguard.store.db import make_engine, upgrade

        get_settings.cache_clear()
        settings = get_settings()
        engine = make_engine(settings)
        upgrade(engine)
        root = settings.secret_key_bytes()
        frame = staff(n)
        t = time.perf_counter()
        DatasetStore(engine, root).register(
            "STAFF", frame, key="staff_number", columns={"name": "PERSON"}, group="force"
        )
        figures: dict[str, Any] = {"people": n, "register_s": time.perf_counter() - t}
        ref_key = derive_key(root, PURPOSE_VALUE_HASH)
        refs = [subject_ref(ref_key, "STAFF", k) for k in frame["staff_number"]]
        t = time.perf_counter()
        rec = AuditLog(engine).append("check", "hr@force.example", payload(refs, n // 50), refs)
        figures["record_s"] = time.perf_counter() - t
        service = Incidents(engine, settings)
        incident = service.open(
            "bench",
            occurred=parse_when("2026-10-23T16:40"),
            discovered=parse_when("2026-10-24T09:15"),
            by="dpo@x",
            records=[rec.id],
        )
        t = time.perf_counter()
        affected = service.affected(incident.id, by="dpo@x")
        figures["affected_s"] = time.perf_counter() - t
        if affected.registered != n or not all(p.key for p in affected.people):
            raise SystemExit(f"{n} people: the affected list is incomplete")
        t = time.perf_counter()
        severity = service.severity(incident.id)
        figures["severity_s"] = time.perf_counter() - t
        figures["band"] = severity.band
        for fmt in ("docx", "pdf", "md"):
            t = time.perf_counter()
            service.report(incident.id, Path(tmp) / f"report.{fmt}", by="dpo@x")
            figures[f"report_{fmt}_s"] = time.perf_counter() - t
        people = Path(tmp) / "people.csv"
        with people.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["staff_number", "forename", "surname", "address_1", "town", "postcode"])
            for k in range(n):
                w.writerow(
                    [
                        f"P{k:07d}",
                        "Alex",
                        f"Person{k}",
                        f"{k % 90 + 1} Mill Lane",
                        "Bedford",
                        "MK40 1AA",
                    ]
                )
        formats = ["docx", "pdf"] if n <= pdf_up_to else ["docx"]
        t = time.perf_counter()
        result = service.letters(
            incident.id,
            people,
            "staff_number",
            Path(tmp) / "letters",
            by="dpo@x",
            formats=formats,
            jobs=jobs,
        )
        figures["letters_s"] = time.perf_counter() - t
        figures["letters"] = result.letters
        figures["letter_formats"] = "+".join(formats)
        if result.letters != n:
            raise SystemExit(f"{n} people: {result.letters} letters")
        figures["target_total_s"] = (
            figures["affected_s"]
            + figures["severity_s"]
            + figures["report_docx_s"]
            + figures["letters_s"]
        )
        engine.dispose()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000])
    parser.add_argument("--jobs", type=int, default=2, help="processes for the letters")
    parser.add_argument(
        "--pdf-up-to", type=int, default=1000, help="write PDF letters too for sizes up to this"
    )
    args = parser.parse_args()
    rows = [run(n, args.jobs, args.pdf_up_to) for n in args.sizes]
    print(
        f"{'people':>8} {'affected':>9} {'severity':>9} {'rpt docx':>9} {'rpt pdf':>8} "
        f"{'rpt md':>7} {'letters':>9} {'formats':>9} {'total':>8}   (seconds)"
    )
    for f in rows:
        print(
            f"{f['people']:>8} {f['affected_s']:>9.2f} {f['severity_s']:>9.2f} "
            f"{f['report_docx_s']:>9.2f} {f['report_pdf_s']:>8.2f} {f['report_md_s']:>7.2f} "
            f"{f['letters_s']:>9.2f} {f['letter_formats']:>9} {f['target_total_s']:>8.2f}"
        )
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "breach.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
