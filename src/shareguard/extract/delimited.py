"""CSV / TSV: told from prose by consistent field counts, streamed from disk."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice, zip_longest
from pathlib import Path

import polars as pl

from shareguard.model import Document, Row, Table

DELIMITERS = (",", ";", "\t", "|")
MAX_SAMPLE_LINES = 200
MAX_BAD_RECORDS = 1000
# Prose lines are long; a field averaging more than this is not a table column
# unless the line is split into many fields.
MAX_MEAN_FIELD = 60
# Rows per frame of the native reader; as many rows are read first by the csv
# module to learn the table's width (at least the classifier's sample).
BATCH_ROWS = 50_000
_WIDTH_PROBE_ROWS = 1000
_NATIVE_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "ascii"})

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

    def batches() -> Iterator[pl.DataFrame]:
        return _native_batches(path, dialect.delimiter, rows)

    native = encoding.lower().replace("_", "-") in _NATIVE_ENCODINGS
    return Table(name, rows, batches_factory=batches if native else None)


def _frame(rows: list[Row]) -> pl.DataFrame:
    # at least one column: a frame of blank lines still has their number of rows
    columns = list(zip_longest(*rows, fillvalue="")) or [("",) * len(rows)]
    return pl.DataFrame([pl.Series(f"c{i}", c, dtype=pl.String) for i, c in enumerate(columns)])


def _native_batches(
    path: Path, delimiter: str, rows: Callable[[], Iterator[Row]]
) -> Iterator[pl.DataFrame]:
    """The rows of ``rows()`` as frames, parsed by polars.  Where polars would
    read the file otherwise than the csv module (a bare CR line end) or gives
    up (stray quotes), the csv module takes over at the first row not yet
    given, so the rows and their numbering are the same either way."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    # the width of the widest early row: later longer rows are cut to it,
    # which drops only cells the classifier's sample never saw a column for
    width = max((len(r) for r in islice(rows(), _WIDTH_PROBE_ROWS)), default=0)
    done = 0
    if width and head.count(b"\r") == head.count(b"\r\n"):
        try:
            frames = pl.scan_csv(
                path,
                has_header=False,
                separator=delimiter,
                quote_char='"',
                schema={f"c{i}": pl.String for i in range(width)},
                infer_schema=False,
                empty_string_is_null=False,
                truncate_ragged_lines=True,
                missing_columns="insert",  # the first line may be narrower
                encoding="utf8-lossy",
                raise_if_empty=False,
            ).collect_batches(chunk_size=BATCH_ROWS)
            for frame in frames:
                frame = frame.fill_null("")
                for start in range(0, frame.height, BATCH_ROWS):
                    part = frame.slice(start, BATCH_ROWS)
                    done += part.height
                    yield part
            return
        except pl.exceptions.PolarsError:
            pass
    rest = islice(rows(), done, None)
    while batch := list(islice(rest, BATCH_ROWS)):
        yield _frame(batch)


def table_from_text(text: str, dialect: Dialect, name: str) -> Table:
    def rows() -> Iterator[Row]:
        yield from _rows(iter(io.StringIO(text, newline="")), dialect.delimiter)

    return Table(name, rows)


def csv_document(path: str, table: Table, dialect: Dialect, size: int) -> Document:
    return Document(path=path, media_type=dialect.media_type, tables=(table,), size=size)
