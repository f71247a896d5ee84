"""A delimited file scanned through polars' frames finds exactly what the
csv-module row path finds: same rows, columns, types, normalised values."""

from __future__ import annotations

import csv
import dataclasses
import io
import random
from collections import Counter
from pathlib import Path

import pytest
from test_columns import dob, nhs, postcode

from shareguard.detect import tables
from shareguard.detect.scanner import detect_text
from shareguard.detect.tables import scan_table
from shareguard.extract import delimited
from shareguard.extract.delimited import Dialect, table_from_path
from shareguard.model import Table

GIVEN = "James Zoë Olivia Łukasz Amelia Siobhán Isla Ólafur Emily Harry".split()
FAMILY = "Smith Núñez Taylor Brown O'Neill Wilson Müller Davies Wright".split()
NOTES = [
    "Left message",
    "Called back, no answer",
    'Said "call after 5pm", then hung up',
    "Moved house\nnew address to follow",
    "Diagnosed with asthma; on inhaler",
    "",
    "  ",
]
HEADER = ["Forename", "Surname", "Email", "Phone", "DoB", "NHS", "Postcode", "Notes", "Grade"]


def staff_rows(n: int, seed: int, *, header: bool, ragged: bool) -> list[list[str]]:
    rnd = random.Random(seed)
    rows = [list(HEADER)] if header else []
    for i in range(n):
        g, f = rnd.choice(GIVEN), rnd.choice(FAMILY)
        email = f"staff.{i}@example.org" if i % 5 else ""
        phone = f"07{rnd.randrange(700, 999)} {rnd.randrange(10**6):06d}" if i % 6 else ""
        row = [g, f, email, phone, dob(rnd), nhs(rnd), postcode(rnd), rnd.choice(NOTES), "B2"]
        if i % 9 == 0:
            row[0] = ""  # one part of the name only
        if ragged and i % 11 == 3:
            row = row[: rnd.randrange(1, len(row))]
        elif ragged and i % 13 == 4:
            row += ["extra, cell", "zoë@example.org"]
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[list[str]], delimiter: str, newline: str = "\n") -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def path_table(path: Path, delimiter: str = ",") -> Table:
    return table_from_path(path, "utf-8", Dialect(delimiter, "text/csv"), path.name)


def scanned(table: Table) -> tuple[list[tuple[object, ...]], Counter[str], int, set[str], int]:
    scan = scan_table(table, detect_text)
    counts: Counter[str] = Counter()
    found = 0
    got: list[tuple[object, ...]] = []
    for chunk in scan.chunks:
        counts.update(chunk.counts)
        found += chunk.found
        for row_no, cands in chunk.rows():
            got.extend((row_no, *c) for c in cands)
    return got, counts, found, scan.special, scan.rows_scanned


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # chunk and batch edges fall inside the tables, and not at the same rows
    monkeypatch.setattr(tables, "CHUNK_ROWS", 17)
    monkeypatch.setattr(delimited, "BATCH_ROWS", 10)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("ragged", [True, False])
def test_native_frames_find_what_rows_find(
    tmp_path: Path, delimiter: str, header: bool, ragged: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "staff.csv"
    write_csv(path, staff_rows(120, 7, header=header, ragged=ragged), delimiter)
    table = path_table(path, delimiter)
    assert table.batches_factory is not None
    with monkeypatch.context() as m:
        m.setattr(delimited, "_frame", None)  # polars reads it all: no fallback
        native = scanned(table)
    by_rows = scanned(dataclasses.replace(table, batches_factory=None))
    assert native == by_rows
    got, counts, _, _, rows_scanned = native
    assert rows_scanned == 120
    assert counts["PERSON"] == 120
    assert counts["UK_NHS"] > 100
    assert counts["EMAIL_ADDRESS"] == 96 if not ragged else counts["EMAIL_ADDRESS"] > 80
    assert {row for row, *_ in got} <= set(range(1, 122))


@pytest.mark.parametrize(
    "damage",
    [
        b'Sam,"Smith"son,sam@example.org\n',  # a stray quote polars refuses
        b"Sam,Smith,sam@example.org\r",  # a bare CR ends a line for the csv module
        b"\n\n",  # blank lines still count as rows
    ],
)
def test_files_polars_reads_differently_keep_their_rows(tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / "staff.csv"
    write_csv(path, staff_rows(60, 3, header=True, ragged=False), ",", "\r\n")
    body = path.read_bytes()
    cut = body.index(b"\r\n", len(body) // 2) + 2
    path.write_bytes(body[:cut] + damage + body[cut:])
    table = path_table(path)
    assert scanned(table) == scanned(dataclasses.replace(table, batches_factory=None))


def test_header_longer_than_rows_and_rows_longer_than_header(tmp_path: Path) -> None:
    rows = staff_rows(40, 5, header=True, ragged=True)
    rows[0] = rows[0][:3]
    path = tmp_path / "t.tsv"
    write_csv(path, rows, "\t")
    table = path_table(path, "\t")
    assert scanned(table) == scanned(dataclasses.replace(table, batches_factory=None))


def test_only_utf8_files_get_native_frames(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("Name,Email\nZoë Núñez,z@example.org\n".encode("latin-1"))
    table = table_from_path(path, "cp1252", Dialect(",", "text/csv"), "latin.csv")
    assert table.batches_factory is None


@pytest.mark.parametrize(
    "data",
    [
        b'a,"x\r\ny",c\r\n1,2,3\r\n',
        b"a,b\n1,2",
        b'ab"c,d\ne,f\n',
        b"",
        b"\n\n",
        b'a,b\n"",""\n',
        b"# c,d\n1,2\n",
        b"a,b\n1,2\n\xff\xfe,3\n",
        b'a,b\n"x"\n',
    ],
)
def test_frames_hold_the_rows_cell_for_cell(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(data)
    table = path_table(path)
    assert table.batches_factory is not None
    rows = [list(r) for r in table.iter_rows()]
    width = max((len(r) for r in rows), default=0)
    frames = list(table.batches_factory())
    assert sum(f.height for f in frames) == len(rows)
    cells = [list(r)[:width] for f in frames for r in f.rows()]
    assert cells == [r + [""] * (width - len(r)) for r in rows]
