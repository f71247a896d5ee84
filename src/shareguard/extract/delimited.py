"""CSV / TSV: told from prose by consistent field counts, streamed from disk."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shareguard.model import Document, Row, Table

DELIMITERS = (",", ";", "\t", "|")
MAX_SAMPLE_LINES = 200
MAX_BAD_RECORDS = 1000
# Prose lines are long; a field averaging more than this is not a table column
# unless the line is split into many fields.
MAX_MEAN_FIELD = 60

# A single huge quoted field must not stop the stream; memory stays bounded by
# the file's line lengths, which the caller already limits.
csv.field_size_limit(64 * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class Dialect:
    delimiter: str
    media_type: str


def sniff_dialect(sample: str, *, complete: bool) -> Dialect | None:
    """The delimiter if ``sample`` reads as a table, else None (prose)."""
    if not complete:
        cut = sample.rfind("\n")
        sample = sample[:cut] if cut > 0 else sample
    lines = [ln for ln in sample.splitlines()[:MAX_SAMPLE_LINES] if ln.strip()]
    if len(lines) < 2:
        return None
    text = "\n".join(lines)
    best: tuple[float, int, str] | None = None
    for delim in DELIMITERS:
        if delim not in text:
            continue
        try:
            rows = list(csv.reader(io.StringIO(text), delimiter=delim))
        except csv.Error:
            continue
        if len(rows) < 2:
            continue
        counts = Counter(len(r) for r in rows)
        width, hits = counts.most_common(1)[0]
        if width < 2:
            continue
        consistency = hits / len(rows)
        cells = [c for r in rows if len(r) == width for c in r]
        mean = sum(len(c) for c in cells) / max(len(cells), 1)
        if consistency < 0.9 or (mean > MAX_MEAN_FIELD and width < 4):
            continue
        key = (consistency, width, delim)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return None
    delim = best[2]
    return Dialect(delim, "text/tab-separated-values" if delim == "\t" else "text/csv")


def _rows(lines: Iterator[str], delimiter: str) -> Iterator[Row]:
    reader = csv.reader(lines, delimiter=delimiter)
    bad = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            # Skip a malformed record rather than end the stream early.
            bad += 1
            if bad > MAX_BAD_RECORDS:
                raise
            continue
        yield row


def table_from_path(path: Path, encoding: str, dialect: Dialect, name: str) -> Table:
    def rows() -> Iterator[Row]:
        with open(path, encoding=encoding, errors="replace", newline="") as fh:
            yield from _rows(fh, dialect.delimiter)

    return Table(name, rows)


def table_from_text(text: str, dialect: Dialect, name: str) -> Table:
    def rows() -> Iterator[Row]:
        yield from _rows(iter(io.StringIO(text, newline="")), dialect.delimiter)

    return Table(name, rows)


def csv_document(path: str, table: Table, dialect: Dialect, size: int) -> Document:
    return Document(path=path, media_type=dialect.media_type, tables=(table,), size=size)
