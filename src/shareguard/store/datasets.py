"""Registered datasets: the organisation's own people, kept as keyed hashes.

Per registered row the store holds the subject ref (``hk1:`` keyed hash of
the dataset name and the normalised key), the key value and the optional
group value encrypted with AES-256-GCM (key derived from the root secret,
purpose ``PURPOSE_DATASET_KEYS``; the dataset name and ref as associated
data), and the row's match keys in the version's index slices.  The plain
file is never copied: a grep of the store for a registered value finds
nothing.

A refresh writes the new version, points the dataset at it and deletes the
old one in one transaction: scans see either version whole.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import numpy as np
import polars as pl
import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, delete, insert, select, update

from shareguard.detect.edm import (
    COLUMN_TYPES,
    INDEX_FORMAT,
    DatasetIndex,
    EdmIndex,
    Field,
    KeyHasher,
    build_match_keys,
    key_pattern,
    match_hasher,
    normalise_column,
)
from shareguard.errors import ShareGuardError
from shareguard.keys import HASH_PREFIX, PURPOSE_VALUE_HASH, derive_key
from shareguard.model import EntityType as E
from shareguard.model import sorted_distinct
from shareguard.store.db import session_scope, write_transaction
from shareguard.store.models import (
    DatasetIndexPart,
    DatasetRow,
    DatasetSubjectRow,
    DatasetVersionRow,
)

log = structlog.get_logger(__name__)

PURPOSE_DATASET_KEYS = b"shareguard/dataset-keys/v1"
SUBJECT_KIND = "subject"
_PART_ENTRIES = 4_000_000  # match keys per index slice (48 MB)
_INSERT_BATCH = 20_000
_IN_BATCH = 900  # parameters per IN (...) query, under SQLite's limit


class DatasetError(ShareGuardError):
    """A dataset cannot be registered, found or read as asked."""


@dataclass(frozen=True, slots=True)
class ResolvedSubject:
    ref: str
    dataset: str
    key: str
    group: str | None


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    name: str
    version: int
    rows: int
    key: str
    group: str | None
    columns: dict[str, str]  # column -> type; "KEY" for the key column
    fields: tuple[str, ...]  # what the index matches on
    registered_by: str
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "rows": self.rows,
            "key": self.key,
            "group": self.group,
            "columns": self.columns,
            "fields": list(self.fields),
            "registered_by": self.registered_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def subject_ref(hash_key: bytes, dataset: str, key: str) -> str:
    """``ValueHasher(...)("subject", f"{dataset}\\x1f{key}")``, one value."""
    msg = f"{SUBJECT_KIND}\x1f{dataset}\x1f{key}".encode()
    return HASH_PREFIX + hmac.digest(hash_key, msg, "sha256").hex()[:32]


def _prepare(
    frame: pl.DataFrame, key: str, columns: Mapping[str, str], group: str | None
) -> tuple[pl.Series, dict[str, pl.Series]]:
    """The normalised key column and the fields to index, checked."""
    for col in [key, *columns, *([group] if group else [])]:
        if col not in frame.columns:
            raise DatasetError(
                f"no column {col!r} in the file (columns: {', '.join(frame.columns)})"
            )
    for col, kind in columns.items():
        if kind not in COLUMN_TYPES:
            raise DatasetError(
                f"column {col!r}: unknown type {kind!r} (one of {', '.join(COLUMN_TYPES)})"
            )
    keys = normalise_column("KEY", frame[key])
    empty = keys.is_null().arg_true()
    if empty.len():
        raise DatasetError(f"row {int(empty[0]) + 2}: the key column {key!r} is empty")
    dup = (~keys.is_first_distinct()).arg_true()
    if dup.len():
        raise DatasetError(
            f"row {int(dup[0]) + 2}: the key column {key!r} repeats a value: keys must be unique"
        )
    fields: dict[str, pl.Series] = {"KEY": keys}
    given = [c for c, t in columns.items() if t == "GIVEN_NAME"]
    family = [c for c, t in columns.items() if t == "FAMILY_NAME"]
    if given or family:
        parts = [frame[c].fill_null("") for c in given + family]
        whole = pl.select(pl.concat_str(parts, separator=" ")).to_series()
        fields[E.PERSON.value] = normalise_column(E.PERSON.value, whole)
    for col, kind in columns.items():
        if kind in ("KEY", "GIVEN_NAME", "FAMILY_NAME") or col == key:
            continue
        norm = normalise_column(kind, frame[col])
        if kind in fields:  # two columns of one type: the first filled one
            norm = fields[kind].fill_null(norm)
        fields[kind] = norm
    return keys, fields


class DatasetStore:
    """Registered datasets in the store (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, root_key: bytes) -> None:
        self.engine = engine
        self._root = root_key
        self._hasher = match_hasher(root_key, INDEX_FORMAT)
        self._ref_key = derive_key(root_key, PURPOSE_VALUE_HASH)
        self._aead = AESGCM(derive_key(root_key, PURPOSE_DATASET_KEYS))

    # -- writing ------------------------------------------------------------------------

    def register(
        self,
        name: str,
        frame: pl.DataFrame,
        *,
        key: str,
        columns: Mapping[str, str],
        group: str | None = None,
        by: str = "cli",
    ) -> DatasetInfo:
        """A new dataset from ``frame`` (string columns, one row a person)."""
        if not name or len(name) > 128 or "\x1f" in name:
            raise DatasetError("a dataset name is 1-128 characters")
        with write_transaction(self.engine) as conn:
            if conn.scalar(select(DatasetRow.id).where(DatasetRow.name == name)) is not None:
                raise DatasetError(
                    f"dataset {name!r} is already registered: use `datasets refresh`"
                )
            now = datetime.now(UTC)
            ds_id = conn.execute(
                insert(DatasetRow)
                .values(name=name, version_id=None, created_at=now, updated_at=now)
                .returning(DatasetRow.id)
            ).scalar_one()
            self._write_version(conn, ds_id, name, 1, frame, key, columns, group, by, now)
        return self.show(name)

    def refresh(
        self,
        name: str,
        frame: pl.DataFrame,
        *,
        key: str | None = None,
        columns: Mapping[str, str] | None = None,
        group: str | None = None,
        by: str = "cli",
    ) -> DatasetInfo:
        """Replace the dataset's rows with ``frame``'s, atomically.  The
        column types, key and group are the previous version's unless given."""
        old = self.show(name)
        key = key or old.key
        cols = (
            dict(columns)
            if columns is not None
            else {c: t for c, t in old.columns.items() if c != old.key}
        )
        group = group if group is not None else old.group
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(DatasetRow.id, DatasetRow.version_id).where(DatasetRow.name == name)
            ).one_or_none()
            if row is None:
                raise DatasetError(f"no dataset {name!r}")
            now = datetime.now(UTC)
            self._write_version(
                conn, row.id, name, old.version + 1, frame, key, cols, group, by, now
            )
            conn.execute(delete(DatasetVersionRow).where(DatasetVersionRow.id == row.version_id))
        return self.show(name)

    def drop(self, name: str) -> None:
        with write_transaction(self.engine) as conn:
            if conn.execute(delete(DatasetRow).where(DatasetRow.name == name)).rowcount == 0:
                raise DatasetError(f"no dataset {name!r}")

    def _write_version(
        self,
        conn: Connection,
        dataset_id: int,
        name: str,
        version: int,
        frame: pl.DataFrame,
        key: str,
        columns: Mapping[str, str],
        group: str | None,
        by: str,
        now: datetime,
    ) -> None:
        keys, fields = _prepare(frame, key, {c: t for c, t in columns.items() if c != key}, group)
        match_keys, match_rows, present = build_match_keys(self._hasher, fields)
        spec = {
            "key": key,
            "group": group,
            "columns": {key: "KEY", **{c: t for c, t in columns.items() if c != key}},
            "fields": sorted(f.name for f in present),
            "key_pattern": key_pattern(keys),
            "index_format": INDEX_FORMAT,
        }
        version_id = conn.execute(
            insert(DatasetVersionRow)
            .values(
                dataset_id=dataset_id,
                version=version,
                rows=frame.height,
                spec=json.dumps(spec, sort_keys=True),
                registered_by=by,
                created_at=now,
            )
            .returning(DatasetVersionRow.id)
        ).scalar_one()
        groups = frame[group].cast(pl.String).to_list() if group else None
        self._write_subjects(conn, version_id, name, keys.to_list(), groups)
        for part, start in enumerate(range(0, len(match_keys), _PART_ENTRIES)):
            conn.execute(
                insert(DatasetIndexPart).values(
                    version_id=version_id,
                    part=part,
                    keys=match_keys[start : start + _PART_ENTRIES].astype("<u8").tobytes(),
                    rows=match_rows[start : start + _PART_ENTRIES].astype("<u4").tobytes(),
                )
            )
        conn.execute(
            update(DatasetRow)
            .where(DatasetRow.id == dataset_id)
            .values(version_id=version_id, updated_at=now)
        )

    def _write_subjects(
        self,
        conn: Connection,
        version_id: int,
        name: str,
        keys: list[str],
        groups: list[str | None] | None,
    ) -> None:
        def rows() -> Iterable[tuple[int, int, str, bytes, bytes | None]]:
            seal = self._seal
            for i, k in enumerate(keys):
                ref = subject_ref(self._ref_key, name, k)
                g = groups[i] if groups is not None else None
                aad = f"{name}\x1f{ref}".encode()
                yield version_id, i, ref, seal(k, aad), seal(g, aad) if g else None

        if conn.dialect.name == "postgresql":  # COPY: ten times the speed of INSERTs
            raw: Any = conn.connection.driver_connection
            with (
                raw.cursor() as cur,
                cur.copy(
                    "COPY dataset_subjects (version_id, row_no, ref, key_ct, group_ct) FROM STDIN"
                ) as copy,
            ):
                for r in rows():
                    copy.write_row(r)
            return
        # the driver's own executemany over tuples: a third of the time of
        # SQLAlchemy's per-row dictionaries, for a million rows
        insert_sql = (
            "INSERT INTO dataset_subjects (version_id, row_no, ref, key_ct, group_ct) "
            "VALUES (?, ?, ?, ?, ?)"
        )
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            it = iter(rows())
            while batch := list(islice(it, _INSERT_BATCH)):
                cursor.executemany(insert_sql, batch)
        finally:
            cursor.close()

    def _seal(self, value: str, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, value.encode(), aad)

    def _open(self, blob: bytes, aad: bytes) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], aad).decode()

    # -- reading ------------------------------------------------------------------------

    def list(self) -> list[DatasetInfo]:
        with session_scope(self.engine) as s:
            rows = s.execute(
                select(DatasetRow, DatasetVersionRow)
                .join(DatasetVersionRow, DatasetVersionRow.id == DatasetRow.version_id)
                .order_by(DatasetRow.name)
            ).all()
            return [_info(d, v) for d, v in rows]

    def show(self, name: str) -> DatasetInfo:
        with session_scope(self.engine) as s:
            row = s.execute(
                select(DatasetRow, DatasetVersionRow)
                .join(DatasetVersionRow, DatasetVersionRow.id == DatasetRow.version_id)
                .where(DatasetRow.name == name)
            ).one_or_none()
            if row is None:
                raise DatasetError(f"no dataset {name!r} (see `shareguard datasets list`)")
            return _info(row[0], row[1])

    def resolve(self, refs: Iterable[str]) -> dict[str, ResolvedSubject]:
        """The registered people behind subject refs (current versions),
        keys and groups decrypted.  Refs of nobody registered are left out."""
        wanted = sorted(set(refs))
        out: dict[str, ResolvedSubject] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _IN_BATCH):
                chunk = wanted[start : start + _IN_BATCH]
                rows = conn.execute(
                    select(
                        DatasetSubjectRow.ref,
                        DatasetRow.name,
                        DatasetSubjectRow.key_ct,
                        DatasetSubjectRow.group_ct,
                    )
                    .join(DatasetRow, DatasetRow.version_id == DatasetSubjectRow.version_id)
                    .where(DatasetSubjectRow.ref.in_(chunk))
                )
                for ref, name, key_ct, group_ct in rows:
                    aad = f"{name}\x1f{ref}".encode()
                    group = self._open(group_ct, aad) if group_ct is not None else None
                    out[ref] = ResolvedSubject(ref, name, self._open(key_ct, aad), group)
        return out

    def signature(self) -> tuple[tuple[int, int], ...]:
        """(dataset id, version id) of every dataset: changes with every
        register, refresh and drop, and costs one small query."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(DatasetRow.id, DatasetRow.version_id)
                .where(DatasetRow.version_id.is_not(None))
                .order_by(DatasetRow.id)
            ).all()
        return tuple((int(a), int(b)) for a, b in rows if b is not None)

    def load_index(self) -> EdmIndex:
        """Every dataset's current match index, read as blobs."""
        datasets: list[DatasetIndex] = []
        with self.engine.connect() as conn, conn.begin():  # one snapshot
            versions = conn.execute(
                select(DatasetRow.id, DatasetRow.name, DatasetVersionRow.id, DatasetVersionRow.spec)
                .join(DatasetVersionRow, DatasetVersionRow.id == DatasetRow.version_id)
                .order_by(DatasetRow.id)
            ).all()
            for _, name, version_id, spec_text in versions:
                spec = json.loads(spec_text)
                parts = conn.execute(
                    select(DatasetIndexPart.keys, DatasetIndexPart.rows)
                    .where(DatasetIndexPart.version_id == version_id)
                    .order_by(DatasetIndexPart.part)
                ).all()
                keys = [np.frombuffer(k, dtype="<u8") for k, _ in parts]
                rows = [np.frombuffer(r, dtype="<u4") for _, r in parts]
                datasets.append(
                    DatasetIndex(
                        name=name,
                        version_id=version_id,
                        keys=np.concatenate(keys).astype(np.uint64, copy=False)
                        if keys
                        else np.zeros(0, np.uint64),
                        rows=np.concatenate(rows).astype(np.uint32, copy=False)
                        if rows
                        else np.zeros(0, np.uint32),
                        fields=frozenset(Field[f] for f in spec["fields"]),
                        key_pattern=spec.get("key_pattern"),
                        refs=_RefReader(self.engine, version_id),
                        hasher=self._hasher_for(name, spec),
                    )
                )
        signature = tuple((int(d), int(v)) for d, _, v, _ in versions)
        return EdmIndex(self._hasher, tuple(datasets), signature)

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
        return match_hasher(self._root, fmt)


@dataclass(frozen=True)
class _RefReader:
    """Subject refs of a version's rows, read when a scan matched them: runs
    of nearby rows (a leaked extract) as range scans, scattered rows in
    batches, through the driver's own cursor (a scan of 100 k registered
    people reads 100 k refs).  The first :data:`_REF_CACHE` refs read are
    kept (a version's refs never change): the next file of the same people
    reads none, and its matches share the strings."""

    engine: Engine
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
        out: dict[int, str] = {}
        with self.engine.connect() as conn:
            pg = conn.dialect.name == "postgresql"
            p = "%s" if pg else "?"
            cursor: Any = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                ranged = (
                    "SELECT row_no, ref FROM dataset_subjects "
                    f"WHERE version_id = {p} AND row_no BETWEEN {p} AND {p}"
                )
                for a, b in zip(starts[runs].tolist(), ends[runs].tolist(), strict=True):
                    lo, hi = int(wanted[a]), int(wanted[b - 1])
                    cursor.execute(ranged, (self.version_id, lo, hi))
                    got = dict(cursor.fetchall())
                    if len(got) == b - a:  # every row of the range wanted
                        out.update(got)
                    else:
                        out.update((r, got[r]) for r in wanted[a:b].tolist() if r in got)
                for start in range(0, len(loose), _IN_BATCH):
                    chunk = loose[start : start + _IN_BATCH]
                    if pg:
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
            finally:
                cursor.close()
        return out


# Wanted rows at most _RUN_GAP apart, at least _RUN_MIN of them, are read as
# one range (a row read and dropped costs less than a row looked up).
_RUN_GAP = 4
_RUN_MIN = 32
# Refs kept per dataset version (about 150 bytes each: 40 MB at most).
_REF_CACHE = 250_000


def _info(d: DatasetRow, v: DatasetVersionRow) -> DatasetInfo:
    spec = json.loads(v.spec)
    return DatasetInfo(
        name=d.name,
        version=v.version,
        rows=v.rows,
        key=spec["key"],
        group=spec.get("group"),
        columns=dict(spec["columns"]),
        fields=tuple(spec["fields"]),
        registered_by=v.registered_by,
        created_at=d.created_at,
        updated_at=d.updated_at,
    )
