"""What a scan reads of the registered datasets: which versions are current,
their match indexes and the subject refs of the rows it matched.

Read through a plain DB-API connection, with the SQL here: the embedded
SQLite store through the standard library's ``sqlite3`` (read-only), so
that a scan against registered datasets loads no ORM and no migration tool
(a fifth of a second at every start); PostgreSQL through the engine's own
driver connection.  Registering, refreshing and resolving stay in
:mod:`shareguard.store.datasets`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog

from shareguard.detect.edm import (
    INDEX_FORMAT,
    DatasetIndex,
    EdmIndex,
    Field,
    KeyHasher,
    MatchHasher,
    match_hasher,
)
from shareguard.errors import ShareGuardError
from shareguard.model import sorted_distinct

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = structlog.get_logger(__name__)

# Wanted rows at most _RUN_GAP apart, at least _RUN_MIN of them, are read as
# one range (a row read and dropped costs less than a row looked up).
_RUN_GAP = 4
_RUN_MIN = 32
# Refs kept per dataset version (about 150 bytes each: 40 MB at most).
_REF_CACHE = 250_000
IN_BATCH = 900  # parameters per IN (...) query, under SQLite's limit
SQLITE_TIMEOUT_S = 10.0

Signature = tuple[tuple[int, int], ...]


class DatasetError(ShareGuardError):
    """A dataset cannot be registered, found or read as asked."""


@dataclass(frozen=True)
class IndexReader:
    """Reads the store's match indexes.  ``connect`` opens a DB-API
    connection (closed, or handed back to its pool, on exit); ``postgres``
    picks the SQL dialect; ``root`` is the secret the match keys derive from."""

    connect: Callable[[], Any]
    postgres: bool
    root: bytes

    @classmethod
    def for_sqlite(cls, path: Path, root: bytes) -> IndexReader:
        return cls(_SqliteConnections(path), False, root)

    @classmethod
    def for_engine(cls, engine: Engine, root: bytes) -> IndexReader:
        @contextmanager
        def connect() -> Iterator[Any]:
            raw = engine.raw_connection()
            try:
                yield raw.driver_connection
            finally:
                raw.close()  # back to the pool, rolled back

        return cls(connect, engine.dialect.name == "postgresql", root)

    def signature(self) -> Signature:
        """(dataset id, version id) of every dataset: changes with every
        register, refresh and drop, and costs one small query.  Empty when
        the store does not exist yet or predates datasets."""
        try:
            with self.connect() as conn, closing(conn.cursor()) as cur:
                cur.execute(
                    "SELECT id, version_id FROM datasets WHERE version_id IS NOT NULL ORDER BY id"
                )
                rows = cur.fetchall()
        except _Missing:
            return ()
        except sqlite3.Error as exc:
            if "no such table" in str(exc):  # a store from before datasets
                return ()
            raise _unreadable(exc) from None
        return tuple((int(a), int(b)) for a, b in rows)

    def load(self) -> EdmIndex:
        """Every dataset's current match index, read as blobs in one snapshot."""
        datasets: list[DatasetIndex] = []
        try:
            with self.connect() as conn, closing(conn.cursor()) as cur:
                if self.postgres:  # a pooled connection may be in a transaction already
                    conn.rollback()
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                else:
                    cur.execute("BEGIN")
                cur.execute(
                    "SELECT d.id, d.name, v.id, v.spec FROM datasets d "
                    "JOIN dataset_versions v ON v.id = d.version_id ORDER BY d.id"
                )
                versions = cur.fetchall()
                for _, name, version_id, spec_text in versions:
                    spec = json.loads(spec_text)
                    if self.postgres:
                        cur.execute(
                            "SELECT keys, rows FROM dataset_index_parts "
                            "WHERE version_id = %s ORDER BY part",
                            (version_id,),
                        )
                        parts = cur.fetchall()
                        keys = _array([k for k, _ in parts], "<u8", np.uint64)
                        rows = _array([r for _, r in parts], "<u4", np.uint32)
                    else:
                        keys, rows = _sqlite_index(conn, version_id)
                    datasets.append(
                        DatasetIndex(
                            name=name,
                            version_id=version_id,
                            keys=keys,
                            rows=rows,
                            fields=frozenset(Field[f] for f in spec["fields"]),
                            key_pattern=spec.get("key_pattern"),
                            refs=RefReader(self, version_id),
                            hasher=self._hasher_for(name, spec),
                        )
                    )
                conn.rollback()  # read only: end the snapshot
        except _Missing:
            versions = []
        except sqlite3.Error as exc:
            raise _unreadable(exc) from None
        signature = tuple((int(d), int(v)) for d, _, v, _ in versions)
        return EdmIndex(MatchHasher.from_root(self.root), tuple(datasets), signature)

    @property
    def mark(self) -> str:
        """The driver's parameter marker."""
        return "%s" if self.postgres else "?"

    def _hasher_for(self, name: str, spec: dict[str, Any]) -> KeyHasher | None:
        """None for the current index format; the old hasher for a version
        registered in an older one (it still matches, hashed the slow way,
        until it is refreshed); a clear error for a newer one."""
        fmt = int(spec.get("index_format", 1))  # format 1 wrote no format
        if fmt == INDEX_FORMAT:
            return None
        if fmt > INDEX_FORMAT:
            raise DatasetError(
                f"dataset {name!r} was registered by a newer ShareGuard (match index format "
                f"{fmt}; this one reads up to {INDEX_FORMAT}): upgrade ShareGuard to scan "
                "against it"
            )
        log.warning(
            "dataset in an older match index format: scans hash for it the slow way; "
            "`shareguard datasets refresh` it from its file to upgrade",
            dataset=name,
            index_format=fmt,
        )
        return match_hasher(self.root, fmt)


def _unreadable(exc: sqlite3.Error) -> DatasetError:
    """A clear error (a scan exits 2 with it, not 1 as if it had found
    something): the store's own message names no value."""
    return DatasetError(f"the registered datasets cannot be read from the store: {exc}")


class _Missing(Exception):
    """The SQLite store file does not exist (nothing registered)."""


class _SqliteConnections:
    """The store's read-only connection, one per thread and process, kept
    open: a new connection's first statement reads the whole schema (about
    0.7 ms), and a scan reads refs for file after file.  A forked worker
    opens its own (and leaves its parent's alone: SQLite connections must
    not be used, closing included, across a fork); so does a thread whose
    store file was replaced (restored from a backup) since; a connection
    that failed in use is closed, not kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._inherited: list[sqlite3.Connection] = []

    @contextmanager
    def __call__(self) -> Iterator[sqlite3.Connection]:
        held: _Held | None = getattr(self._local, "held", None)
        try:
            file = self.path.stat()
        except FileNotFoundError:
            raise _Missing from None
        now = (os.getpid(), file.st_dev, file.st_ino)
        if held is None or held[0] != now:
            if held is not None and held[0][0] != now[0]:
                self._inherited.append(held[1])  # the parent's: never closed here
            elif held is not None:
                held[1].close()
            held = (now, _sqlite_connection(self.path))
            self._local.held = held
        try:
            yield held[1]
        except BaseException:
            self._local.held = None
            held[1].close()
            raise


# (process, device, inode) of a kept connection, and the connection
_Held = tuple[tuple[int, int, int], sqlite3.Connection]


def _sqlite_connection(path: Path) -> sqlite3.Connection:
    """A new read-only connection (the caller has seen the file there)."""
    # read-only: a scan never creates or changes the store; autocommit, so
    # that a BEGIN is ours to issue
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro",
        uri=True,
        timeout=SQLITE_TIMEOUT_S,
        isolation_level=None,
    )


def _sqlite_index(conn: sqlite3.Connection, version_id: int) -> tuple[np.ndarray, np.ndarray]:
    """A version's match keys and rows from the embedded store, each blob
    read in slices straight into one array.  Fetching the blobs whole and
    then joining them wrote (and page-faulted) every byte twice: 0.14 s of
    a scan's start at 1 M registered rows, against 0.08 s this way."""
    parts = conn.execute(
        "SELECT rowid, length(keys), length(rows) FROM dataset_index_parts "
        "WHERE version_id = ? ORDER BY part",
        (version_id,),
    ).fetchall()
    keys = np.empty(sum(n for _, n, _ in parts) // 8, dtype="<u8")
    rows = np.empty(sum(n for _, _, n in parts) // 4, dtype="<u4")
    for column, out, width, sized in (("keys", keys, 8, 1), ("rows", rows, 4, 2)):
        into = out.view(np.uint8)
        at = 0
        for part in parts:
            rowid, size = part[0], part[sized]
            if size % width:
                raise sqlite3.DatabaseError(f"index part of version {version_id} is cut short")
            with conn.blobopen("dataset_index_parts", column, rowid, readonly=True) as blob:
                end = at + size
                while at < end:
                    piece = blob.read(min(_BLOB_SLICE, end - at))
                    if not piece:
                        raise sqlite3.DatabaseError(f"index part of version {version_id} is short")
                    into[at : at + len(piece)] = np.frombuffer(piece, np.uint8)
                    at += len(piece)
    return keys.astype(np.uint64, copy=False), rows.astype(np.uint32, copy=False)


_BLOB_SLICE = 1 << 20  # bytes a read: the same small buffer, reused, not a fresh 48 MB


def _array(blobs: list[bytes], wire: str, dtype: type[np.generic]) -> np.ndarray:
    if not blobs:
        return np.zeros(0, dtype)
    return np.concatenate([np.frombuffer(b, dtype=wire) for b in blobs]).astype(dtype, copy=False)


@dataclass(frozen=True)
class RefReader:
    """Subject refs of a version's rows, read when a scan matched them: runs
    of nearby rows (a leaked extract) as range scans, scattered rows in
    batches, through the driver's own cursor (a scan of 100 k registered
    people reads 100 k refs).  The first :data:`_REF_CACHE` refs read are
    kept (a version's refs never change): the next file of the same people
    reads none, and its matches share the strings."""

    reader: IndexReader
    version_id: int
    _cache: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, rows: Sequence[int]) -> dict[int, str]:
        cache = self._cache
        wanted = sorted_distinct(np.asarray(rows, dtype=np.int64))
        out: dict[int, str] = {}
        if cache:
            known = np.fromiter((r in cache for r in wanted.tolist()), bool, len(wanted))
            out = {r: cache[r] for r in wanted[known].tolist()}
            wanted = wanted[~known]
        got = self._read(wanted)
        room = _REF_CACHE - len(cache)
        if got and room > 0:
            cache.update(got if len(got) <= room else dict(islice(got.items(), room)))
        out.update(got)
        return out

    def _read(self, wanted: np.ndarray) -> dict[int, str]:
        """The refs of ``wanted`` (sorted, distinct rows) from the store."""
        if not wanted.size:
            return {}
        # split where the next wanted row is more than _RUN_GAP rows on
        cut = np.flatnonzero(np.diff(wanted) > _RUN_GAP) + 1
        starts = np.concatenate([[0], cut])
        ends = np.concatenate([cut, [len(wanted)]])
        runs = ends - starts >= _RUN_MIN
        scattered = [wanted[a:b] for a, b in zip(starts[~runs], ends[~runs], strict=True)]
        loose = np.concatenate(scattered).tolist() if scattered else []
        ranges = [
            (wanted[a:b], int(wanted[a]), int(wanted[b - 1]))
            for a, b in zip(starts[runs].tolist(), ends[runs].tolist(), strict=True)
        ]
        try:
            with self.reader.connect() as conn, closing(conn.cursor()) as cursor:
                return self._fetch(cursor, ranges, loose)
        except sqlite3.Error as exc:
            raise _unreadable(exc) from None

    def _fetch(
        self, cursor: Any, ranges: list[tuple[np.ndarray, int, int]], loose: list[int]
    ) -> dict[int, str]:
        """Runs of rows (the rows, the first, the last) by range, loose rows
        in batches."""
        out: dict[int, str] = {}
        p = self.reader.mark
        ranged = (
            "SELECT row_no, ref FROM dataset_subjects "
            f"WHERE version_id = {p} AND row_no BETWEEN {p} AND {p}"
        )
        for rows, lo, hi in ranges:
            cursor.execute(ranged, (self.version_id, lo, hi))
            got = dict(cursor.fetchall())
            if len(got) == len(rows):  # every row of the range wanted
                out.update(got)
            else:
                out.update((r, got[r]) for r in rows.tolist() if r in got)
        for start in range(0, len(loose), IN_BATCH):
            chunk = loose[start : start + IN_BATCH]
            if self.reader.postgres:
                sql = (
                    "SELECT row_no, ref FROM dataset_subjects "
                    "WHERE version_id = %s AND row_no = ANY(%s)"
                )
                cursor.execute(sql, (self.version_id, chunk))
            else:
                marks = ",".join("?" * len(chunk))
                sql = (
                    "SELECT row_no, ref FROM dataset_subjects "
                    f"WHERE version_id = ? AND row_no IN ({marks})"
                )
                cursor.execute(sql, (self.version_id, *chunk))
            out.update(cursor.fetchall())
        return out
