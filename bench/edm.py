"""Exact data match: register time, index size and lookup speed.

Generates people with 8 matched fields (staff number, name, date of birth,
postcode, NI number, e-mail, phone, bank account) and

* registers ``--rows`` of them in a fresh store (SQLite in a temporary
  folder, or ``--database-url``), then loads the index back: seconds for
  each, and the index's bytes per registered row;
* builds the in-memory index of ``--index-rows`` (no store: the store's
  insert is the part that grows linearly and is measured above) for the
  bytes per row at scale;
* looks up ``--lookups`` match keys against it, half of them registered:
  lookups per second, hashing included.

    uv run python bench/edm.py [--rows 1000000] [--index-rows 10000000]

The issue's targets: register 1 M rows in < 60 s; <= 100 bytes per row at
10 M rows x 8 fields; loading in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shareguard.detect.edm import Field, MatchHasher, build_match_keys, normalise_column
from shareguard.store.datasets import DatasetStore
from shareguard.store.db import make_engine, upgrade

HERE = Path(__file__).resolve().parent
GIVEN = "Olivia Amelia Isla Ava Grace Priya Aisha Zofia Chidi Wei Oliver George Noah Arjun".split()
FAMILY = "Smith Jones Taylor Brown Patel Khan Nowak Okafor Chen Murphy Hughes Evans Singh".split()
COLUMNS = {
    "name": "PERSON",
    "dob": "DATE_OF_BIRTH",
    "postcode": "UK_POSTCODE",
    "nino": "UK_NINO",
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "bank": "UK_BANK_ACCOUNT",
}


def people(n: int, seed: int = 5) -> pl.DataFrame:
    """``n`` made-up people, every identifier unique, built column-wise."""
    rng = np.random.default_rng(seed)
    i = pl.int_range(n, eager=True)
    digits = i.cast(pl.String).str.zfill(8)
    given = pl.Series(GIVEN).gather(rng.integers(0, len(GIVEN), n))
    family = pl.Series(FAMILY).gather(rng.integers(0, len(FAMILY), n))
    born = pl.Series(rng.integers(-10_000, 12_000, n)).cast(pl.Date)
    frame = pl.DataFrame(
        {
            "staff_no": "E" + digits,
            "name": given + " " + family + pl.Series(rng.integers(0, 5000, n)).cast(pl.String),
            "dob": born.dt.to_string("%d/%m/%Y"),
            "postcode": pl.Series(["LS1 4AB", "BD3 8DQ", "YO31 1HS", "HG2 8BG"]).gather(
                rng.integers(0, 4, n)
            ),
            "nino": "AB" + digits.str.slice(2) + "C",
            "email": given.str.to_lowercase() + "." + digits + "@example.org",
            "phone": "0771" + digits.str.slice(1),
            "bank": "20-00-00 " + digits,
        }
    )
    # names are "Grace Smith417": letters only after folding ("grace smith")
    return frame.with_columns(pl.col("name").str.replace_all(r"\d", ""))


def register(rows: int, url: str | None) -> dict[str, Any]:
    frame = people(rows)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(url=url or f"sqlite:///{tmp}/edm.db")
        upgrade(engine)
        store = DatasetStore(engine, os.urandom(32))
        if "bench" in {d.name for d in store.list()}:
            store.drop("bench")
        t0 = time.perf_counter()
        store.register("bench", frame, key="staff_no", columns=COLUMNS)
        registered = time.perf_counter() - t0
        t0 = time.perf_counter()
        index = store.load_index()
        loaded = time.perf_counter() - t0
        store.drop("bench")
        engine.dispose()
    return {
        "rows": rows,
        "register_s": round(registered, 1),
        "load_s": round(loaded, 2),
        "index_bytes_per_row": round(index.nbytes / rows, 1),
        "backend": (url or "sqlite").split(":", 1)[0],
    }


def index_only(rows: int, lookups: int) -> dict[str, Any]:
    frame = people(rows)
    hasher = MatchHasher(os.urandom(16))
    t0 = time.perf_counter()
    fields = {"KEY": normalise_column("KEY", frame["staff_no"])}
    fields.update({t: normalise_column(t, frame[c]) for c, t in COLUMNS.items()})
    given = fields["PERSON"]
    del frame
    keys, row_of, _ = build_match_keys(hasher, fields)
    built = time.perf_counter() - t0
    # half the queries registered NI numbers, half not
    n = lookups // 2
    wanted = fields["UK_NINO"].head(n).to_list()
    absent = [f"ZZ{i:06d}A" for i in range(n)]
    del fields, given
    from shareguard.detect.edm import DatasetIndex

    index = DatasetIndex("bench", 1, keys, row_of, frozenset(), None, lambda r: {})
    t0 = time.perf_counter()
    probe = hasher.keys(Field.UK_NINO, wanted + absent)
    hashed = time.perf_counter() - t0
    t0 = time.perf_counter()
    qi, _ = index.lookup(probe)
    looked = time.perf_counter() - t0
    assert len(np.unique(qi)) == n, "every registered value found, no other"
    return {
        "rows": rows,
        "build_s": round(built, 1),
        "match_keys": len(keys),
        "index_bytes_per_row": round(index.nbytes / rows, 1),
        "lookups": 2 * n,
        "lookups_per_s": round(2 * n / (hashed + looked)),
        "hash_per_s": round(2 * n / hashed),
        "search_per_s": round(2 * n / looked),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows registered in a store")
    ap.add_argument("--index-rows", type=int, default=10_000_000, help="0 to skip")
    ap.add_argument("--lookups", type=int, default=1_000_000)
    ap.add_argument("--database-url", help="register into this database (default: SQLite)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "edm.json")
    args = ap.parse_args()
    results: dict[str, Any] = {}
    results["register"] = r = register(args.rows, args.database_url)
    print(
        f"register {r['rows']:,} rows ({r['backend']}): {r['register_s']} s; "
        f"index loaded in {r['load_s']} s, {r['index_bytes_per_row']} bytes/row"
    )
    for rows in sorted({args.rows, args.index_rows} - {0}):
        results[f"index_{rows}"] = r = index_only(rows, args.lookups)
        print(
            f"index {rows:,} rows x 8 fields: built in {r['build_s']} s, {r['match_keys']:,} keys, "
            f"{r['index_bytes_per_row']} bytes/row; {r['lookups_per_s']:,} lookups/s "
            f"(hash {r['hash_per_s']:,}/s, search {r['search_per_s']:,}/s)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"written {args.out} (figures from a shared 2-core machine: indicative)")


if __name__ == "__main__":
    main()
