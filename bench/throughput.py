"""Scan throughput and memory, measured on the real command.

Generates (once, into ``bench/.data``) synthetic inputs:

* prose: letters, case notes and minutes as .txt files, ``--prose-mb`` in all;
* tables: staff/patient CSVs and one XLSX workbook, ``--table-mb`` in all;
* one large CSV of ``--huge-gb`` for the memory check (streamed; the target is
  that an 8 GB CSV scans in under 1 GB of RSS — pass ``--huge-gb 8`` for it).

Each measurement runs ``shareguard scan --format json`` in a child process,
single process and with ``--jobs 2``, and reports MB/s, chars/s and the
child's peak RSS.  Model loading and start-up are included: that is what a
user waits for.  Results go to ``bench/results/throughput.json``.

    uv run python bench/throughput.py [--prose-mb 20] [--table-mb 100] [--huge-gb 1]
        [--edm-rows 1000000]

``--edm-rows`` registers a dataset of that many people (those of the first
staff CSV, then made-up others) in a data directory of its own and scans the
tables again against it: throughput with and without exact data match.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
SHAREGUARD = Path(sys.executable).with_name("shareguard")

GIVEN = (
    "Olivia Amelia Isla Ava Mia Grace Priya Aisha Fatima Zofia Chidi Ngozi Wei Mei Oliver "
    "George Harry Noah Jack Mohammed Arjun Ravi Tomasz Piotr Kwame Emeka Hamza Yusuf Sean Liam"
).split()
FAMILY = (
    "Smith Jones Taylor Brown Williams Wilson Patel Khan Begum Ahmed Nowak Kowalski Okafor "
    "Adeyemi Chen Wang Li Murphy Kelly Hughes Roberts Walker Wright Thompson Evans Singh Shah"
).split()
STREETS = "High Street|Station Road|Church Lane|Park Avenue|Mill Lane|Victoria Road|Chapel Way"
TOWNS = "Leeds|Bradford|York|Harrogate|Wakefield|Huddersfield|Halifax".split("|")
POSTCODES = ["LS1 4AB", "BD3 8DQ", "YO31 1HS", "HG2 8BG", "WF2 5QE", "HD2 4DS", "LS19 6TE"]
GRADES = ["Band 3", "Band 4", "Band 5", "Band 6", "Band 7", "Band 8a"]
DEPTS = ["Finance", "Estates", "Nursing", "Pharmacy", "Radiology", "HR", "IT"]


def nhs_number(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check == 11:
            check = 0
        if check != 10:
            s = "".join(map(str, digits)) + str(check)
            return f"{s[:3]} {s[3:6]} {s[6:]}"


def nino(rng: random.Random) -> str:
    first, second = rng.choice("ABCEGHJKLMNPRSTWXYZ"), rng.choice("ABCEGHJKLMNPRSTWXYZ")
    return f"{first}{second}{rng.randrange(10**6):06d}{rng.choice('ABCD')}"


def person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(GIVEN), rng.choice(FAMILY)


def birth_date(rng: random.Random) -> date:
    return date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))


def letter(rng: random.Random) -> str:
    g, f = person(rng)
    g2, f2 = person(rng)
    street = rng.choice(STREETS.split("|"))
    return (
        f"Dear {rng.choice(['Mr', 'Mrs', 'Ms', 'Dr'])} {f},\n\n"
        f"Re: {g} {f}, date of birth {birth_date(rng):%d/%m/%Y}, NHS number {nhs_number(rng)}\n"
        f"{rng.randrange(1, 200)} {street}, {rng.choice(TOWNS)} {rng.choice(POSTCODES)}\n\n"
        "Thank you for referring this patient to the outpatient clinic. We reviewed the "
        "referral at the weekly multidisciplinary meeting and agreed that an appointment "
        "in the next six weeks is appropriate. The team will write again with a date and "
        "time; in the meantime please contact the booking office if anything changes. "
        f"{g} has been told about the plan and is content with it.\n\n"
        "The procurement board also noted that the contract for facilities management "
        "runs until March and that the estates team will bring options to the next "
        "meeting, with costs, risks and a timetable for the transition.\n\n"
        f"Yours sincerely,\n\n{g2} {f2}\nConsultant, Outpatients Department\n"
        f"Tel: 0113 {rng.randrange(200, 999)} {rng.randrange(1000, 9999)}\n\n"
    )


def make_prose(mb: int) -> Path:
    out = DATA / f"prose-{mb}mb"
    if out.exists():
        return out
    rng = random.Random(7)
    tmp = out.with_suffix(".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    target, written, n = mb * 1_000_000, 0, 0
    while written < target:
        text = "".join(letter(rng) for _ in range(8))  # ~8 KB, a typical document
        (tmp / f"doc{n:05d}.txt").write_text(text)
        written += len(text.encode())
        n += 1
    tmp.rename(out)
    return out


def staff_rows(rng: random.Random) -> Any:
    i = 0
    while True:
        g, f = person(rng)
        i += 1
        yield [
            f"E{100000 + i}",
            g,
            f,
            birth_date(rng).isoformat(),
            nino(rng),
            nhs_number(rng).replace(" ", ""),
            rng.choice(POSTCODES),
            f"07{rng.randrange(700, 999)} {rng.randrange(100000, 999999)}",
            rng.choice(GRADES),
            rng.choice(DEPTS),
            f"{rng.randrange(22000, 90000)}.00",
        ]


HEADER = [
    "Staff No",
    "Forename",
    "Surname",
    "DoB",
    "NINo",
    "NHS No",
    "Postcode",
    "Mobile",
    "Grade",
    "Department",
    "Salary",
]


def write_csv(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    rows = staff_rows(rng)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        while fh.tell() < size:
            for _ in range(1000):
                w.writerow(next(rows))
    tmp.rename(path)


def make_tables(mb: int) -> Path:
    out = DATA / f"tables-{mb}mb"
    if out.exists():
        return out
    from openpyxl import Workbook

    tmp = out.with_suffix(".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    xlsx_rows = 20_000
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Staff")
    ws.append(HEADER)
    rows = staff_rows(random.Random(99))
    for _ in range(xlsx_rows):
        ws.append(next(rows))
    wb.save(tmp / "staff.xlsx")
    remaining = mb * 1_000_000 - (tmp / "staff.xlsx").stat().st_size
    n_csv = 5
    for i in range(n_csv):
        write_csv(tmp / f"staff{i}.csv", remaining // n_csv, seed=i)
    tmp.rename(out)
    return out


def tiny_tables() -> Path:
    """Two staff CSVs of ten rows: a scan of them is all start-up."""
    out = DATA / "tables-tiny"
    if not out.exists():
        out.mkdir(parents=True)
        rows = staff_rows(random.Random(3))
        for i in range(2):
            with (out / f"staff{i}.csv").open("w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(HEADER)
                w.writerows(next(rows) for _ in range(10))
    return out


def make_huge(gb: float) -> Path:
    path = DATA / f"huge-{gb:g}gb.csv"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        write_csv(path, int(gb * 1_000_000_000), seed=1234)
    return path


def registered_home(tables: Path, rows: int, *, staff: bool) -> Path:
    """A data directory with one dataset of ``rows`` people registered:
    with ``staff``, the people of the first staff CSV (so scans find them)
    and made-up others; without, made-up people only, whom the scanned
    files do not hold (what matching costs on every file that leaves).
    One per match index format: a directory registered by an older release
    would measure the old format's hashing."""
    from shareguard.detect.edm import INDEX_FORMAT

    which = "staff" if staff else "others"
    home = DATA / f".home-edm-{rows}-{which}-v{INDEX_FORMAT}"
    marker = home / "registered"
    if marker.exists():
        return home
    import polars as pl

    sys.path.insert(0, str(HERE))
    from edm import people
    from shareguard.config import Settings
    from shareguard.store.datasets import DatasetStore
    from shareguard.store.db import make_engine, upgrade

    extract = pl.read_csv(tables / "staff0.csv", infer_schema=False).head(rows if staff else 0)
    filler = people(max(rows - extract.height, 0)).select(
        **{
            "Staff No": "staff_no",
            "Forename": pl.col("name").str.extract(r"^(\S+)"),
            "Surname": pl.col("name").str.extract(r"(\S+)$"),
            "DoB": "dob",
            "NINo": "nino",
            "Postcode": "postcode",
            "Mobile": "phone",
        }
    )
    if not staff:
        # nobody the staff tables could hold by chance: surnames spelt
        # backwards, NI numbers with a prefix letter (O) and mobiles in a
        # range (0740) that the tables never use
        filler = filler.with_columns(
            pl.col("Surname").str.reverse().str.to_titlecase(),
            pl.col("NINo").str.replace(r"^..", "OA"),
            pl.col("Mobile").str.replace(r"^0771", "0740"),
        )
    frame = pl.concat([extract.select(filler.columns), filler])
    home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url=f"sqlite:///{home / 'shareguard.db'}")
    upgrade(engine)
    key = Settings(home=home).secret_key_bytes()  # the scans below read the same
    columns = {
        "Forename": "GIVEN_NAME",
        "Surname": "FAMILY_NAME",
        "DoB": "DATE_OF_BIRTH",
        "NINo": "UK_NINO",
        "Postcode": "UK_POSTCODE",
        "Mobile": "PHONE_NUMBER",
    }
    t0 = time.perf_counter()
    DatasetStore(engine, key).register("staff", frame, key="Staff No", columns=columns)
    print(f"registered {frame.height:,} people in {time.perf_counter() - t0:.1f} s")
    engine.dispose()
    marker.touch()
    return home


def measure(
    paths: list[Path], jobs: int, chars: int | None = None, home: Path | None = None
) -> dict[str, Any]:
    files = [str(f) for p in paths for f in (sorted(p.rglob("*")) if p.is_dir() else [p])]
    size = sum(os.path.getsize(f) for f in files if os.path.isfile(f))
    cmd = [str(SHAREGUARD), "scan", "--format", "json", "--jobs", str(jobs), *map(str, paths)]
    env = dict(os.environ, SHAREGUARD_HOME=str(home or DATA / ".home"))
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, env=env)
        # wait4 gives this child's own peak RSS (its workers' included, as the
        # largest single process), not the maximum over every child so far.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            stderr.seek(0)
            raise SystemExit(f"scan failed ({proc.returncode}): {stderr.read().decode()[-2000:]}")
        stdout.seek(0)
        summary = json.load(stdout)["summary"]
    out: dict[str, Any] = {
        "jobs": jobs,
        "files": len(files),
        "bytes": size,
        "seconds": round(seconds, 2),
        "mb_per_s": round(size / 1e6 / seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        # CPU seconds of the child and its workers: steadier than wall time on a shared machine
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "findings": sum(summary["entities"].values()),
        "data_subjects": summary["data_subjects"],
        "registered_subjects": summary.get("registered_subjects", {}),
    }
    if chars is not None:
        out["chars_per_s"] = round(chars / seconds)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--prose-mb", type=int, default=20)
    ap.add_argument("--table-mb", type=int, default=100)
    ap.add_argument("--huge-gb", type=float, default=1.0, help="0 to skip the memory check")
    ap.add_argument(
        "--edm-rows",
        type=int,
        default=1_000_000,
        help="dataset registered for the EDM run (0: skip)",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "throughput.json")
    args = ap.parse_args()

    prose = make_prose(args.prose_mb)
    tables = make_tables(args.table_mb)
    chars = sum(len(p.read_text()) for p in prose.iterdir())
    results: dict[str, Any] = {"cores": os.cpu_count()}
    for jobs in (1, 2):
        results[f"prose_jobs{jobs}"] = r = measure([prose], jobs, chars)
        print(
            f"prose  jobs={jobs}: {r['mb_per_s']:7.2f} MB/s {r['chars_per_s']:>10,} chars/s "
            f"peak RSS {r['peak_rss_mb']} MB ({r['files']} files, {r['seconds']} s)"
        )
    for jobs in (1, 2):
        results[f"tables_jobs{jobs}"] = r = measure([tables], jobs)
        # the same command on two tiny files: start-up (imports, lexicons,
        # forking workers), which a long scan pays once
        start = measure([tiny_tables()], jobs)["seconds"]
        r["startup_s"] = start
        r["mb_per_s_after_startup"] = round(r["bytes"] / 1e6 / (r["seconds"] - start), 2)
        print(
            f"tables jobs={jobs}: {r['mb_per_s']:7.2f} MB/s peak RSS {r['peak_rss_mb']} MB "
            f"({r['files']} files, {r['bytes'] / 1e6:.0f} MB, {r['seconds']} s); "
            f"{r['mb_per_s_after_startup']} MB/s after {start} s of start-up"
        )
    if args.edm_rows:
        for staff, label, said in (
            (False, "edm_others", "none of them in the files"),
            (True, "edm", "those of staff0.csv among them"),
        ):
            home = registered_home(tables, args.edm_rows, staff=staff)
            for kind, paths, extra in (("tables", [tables], None), ("prose", [prose], chars)):
                plain = results[f"{kind}_jobs1"]
                results[f"{kind}_jobs1_{label}"] = r = measure(paths, 1, extra, home=home)
                print(
                    f"{kind} jobs=1 with {args.edm_rows:,} people registered, {said}: "
                    f"{r['mb_per_s']:7.2f} MB/s, {r['cpu_s']} CPU s (without: "
                    f"{plain['mb_per_s']} MB/s, {plain['cpu_s']} CPU s), peak RSS "
                    f"{r['peak_rss_mb']} MB (without: {plain['peak_rss_mb']}); registered "
                    f"people found: {r['registered_subjects']}"
                )
    if args.huge_gb:
        huge = make_huge(args.huge_gb)
        results["huge_csv"] = r = measure([huge], 1)
        print(
            f"huge CSV {r['bytes'] / 1e9:.1f} GB: {r['mb_per_s']:7.2f} MB/s "
            f"peak RSS {r['peak_rss_mb']} MB ({r['seconds']} s)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
