"""The scan pipeline from paths or bytes to a :class:`ScanReport`.

Extraction and detection run per top-level file; with ``jobs > 1`` files are
spread over worker processes forked from this one once it has loaded the
detectors and the match index, which they share.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import structlog

from shareguard.config import Settings
from shareguard.detect.edm import EdmSource
from shareguard.detect.scanner import Scanner
from shareguard.errors import InputError
from shareguard.extract import extract_bytes, extract_path
from shareguard.keys import ValueHasher
from shareguard.model import FileReport, ScanReport
from shareguard.render import summarise, without_findings
from shareguard.store.index_reader import IndexReader

log = structlog.get_logger(__name__)

STDIN = "-"


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Files named, and every file below folders named, in a stable order."""
    out: list[str] = []
    for p in paths:
        if p == STDIN:
            out.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            out.extend(
                str(f) for f in sorted(path.rglob("*")) if f.is_file() and not f.is_symlink()
            )
        elif path.is_file():
            out.append(p)
        elif not path.exists():
            raise InputError(f"{p}: no such file or folder")
        else:
            raise InputError(f"{p}: not a regular file")
    return out


def make_scanner(settings: Settings, *, reveal: bool = False) -> Scanner:
    root = settings.secret_key_bytes()
    return Scanner(ValueHasher.from_root(root), reveal=reveal, edm=edm_source(settings, root))


def edm_source(settings: Settings, root: bytes) -> EdmSource:
    """The registered datasets of the settings' store, for exact data
    match.  The embedded SQLite store is read with the standard library (see
    :mod:`shareguard.store.index_reader`): a scan opens no engine."""
    if not settings.database_url:
        reader = IndexReader.for_sqlite(settings.home.resolve() / "shareguard.db", root)
        return EdmSource(load=reader.load, signature=reader.signature)
    engine: list[Any] = []

    def connected() -> IndexReader:
        from shareguard.store.db import make_engine

        if not engine:
            engine.append(make_engine(settings))
        return IndexReader.for_engine(engine[0], root)

    def forked() -> None:
        if engine:  # the parent's pooled connections are not the child's to use
            engine[0].dispose(close=False)

    return EdmSource(
        load=lambda: connected().load(),
        signature=lambda: connected().signature(),
        forked=forked,
    )


def scan_bytes(data: bytes, name: str, settings: Settings, scanner: Scanner) -> FileReport:
    doc = extract_bytes(data, name, settings.limits)
    return scanner.scan(doc)


def scan_file(path: str, settings: Settings, scanner: Scanner) -> FileReport:
    if path == STDIN:
        import sys

        return scan_bytes(sys.stdin.buffer.read(), "stdin", settings, scanner)
    report = scanner.scan(extract_path(Path(path), settings.limits, name=path))
    log.info(
        "scanned",
        path=path,
        findings=sum(report.entities.values()),
        data_subjects=report.data_subjects,
        uninspectable=report.has_uninspectable,
    )
    return report


# What a scan hands back for each file: its report, and with a renderer, the
# report without its findings and the findings rendered (where the file was
# scanned: a worker renders its own files, and ships text rather than tens of
# thousands of findings to be pickled and rendered one by one by the parent).
Render = Callable[[FileReport], str]
Scanned = tuple[FileReport, str | None]

# Worker-process state: the scanner the parent built and warmed before it
# forked the workers, shared copy-on-write (lexicons, match index).
_worker: tuple[Settings, Scanner, Render | None] | None = None


def _init_worker() -> None:
    assert _worker is not None
    _worker[1].forked()


def _scan_in_worker(path: str) -> Scanned:
    assert _worker is not None
    settings, scanner, render = _worker
    return _scanned(scan_file(path, settings, scanner), render)


def _scanned(report: FileReport, render: Render | None) -> Scanned:
    if render is None:
        return report, None
    return without_findings(report), render(report)


def iter_reports(
    paths: Sequence[str], settings: Settings, *, reveal: bool = False, jobs: int = 1
) -> Iterator[FileReport]:
    """Scan each path, yielding reports in the order of ``paths``."""
    for report, _ in iter_scanned(paths, settings, reveal=reveal, jobs=jobs):
        yield report


def iter_scanned(
    paths: Sequence[str],
    settings: Settings,
    *,
    reveal: bool = False,
    jobs: int = 1,
    render: Render | None = None,
) -> Iterator[Scanned]:
    """Scan each path, yielding in the order of ``paths`` its report and,
    given ``render``, the report without findings and ``render(report)``."""
    global _worker
    scanner = make_scanner(settings, reveal=reveal)
    if jobs <= 1 or len(paths) <= 1 or STDIN in paths:
        for p in paths:
            yield _scanned(scan_file(p, settings, scanner), render)
        return
    # Loaded once here rather than in every worker: the key (make_scanner
    # created it, before workers could race to), the lexicons and the match
    # index.  Workers are forked, so they start with these and with every
    # module imported.  They are forked (all of them, as map submits every
    # path) before this process runs any polars query: a child forked after
    # that would wait for ever on polars threads that only the parent has.
    scanner.warm()
    _worker = (settings, scanner, render)
    workers = min(jobs, len(paths))
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_init_worker
    )
    try:
        with pool as ex:
            yield from ex.map(_scan_in_worker, paths, chunksize=1)
    finally:
        _worker = None


def scan_paths(
    paths: Sequence[str],
    settings: Settings,
    *,
    reveal: bool = False,
    jobs: int = 1,
    on_file: Callable[[FileReport], None] | None = None,
) -> ScanReport:
    files: list[FileReport] = []
    for report in iter_reports(expand_paths(paths), settings, reveal=reveal, jobs=jobs):
        files.append(report)
        if on_file is not None:
            on_file(report)
    return summarise(tuple(files))
