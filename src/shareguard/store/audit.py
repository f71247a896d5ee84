"""The append-only, hash-chained audit log.

A record is identified by its sequence number ``seq`` (1, 2, ...).  Its
hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of
``{seq, ts, kind, actor, payload, subject_hashes, prev_hash}``, where
``ts`` is the ISO-8601 UTC time with microseconds and ``prev_hash`` is
the previous record's hash (``"0" * 64`` for seq 1).  A one-row head table
holds the newest seq and hash; appends lock it, so all writers, in any
number of processes or hosts, extend one chain.

Payload conventions (used for the search filters): ``sender`` (address),
``recipients`` (addresses, or objects with an ``address``), ``decision``,
``data_subjects`` (how many people), and each recipient's agreement and
decision: ``per_recipient`` (objects with an ``address``, a ``decision`` and
an ``agreement`` ``{"id": ...}``), else the record's ``agreement`` id and
``decision``.  These are copied into indexed columns on append (records,
recipient links) and checked against the payload by :meth:`AuditLog.verify`.
Payloads must hold no raw personal data: counts, entity types, file names,
content SHA-256s and keyed hashes only.  :func:`_guard_payload` refuses the
obvious mistakes; it cannot catch every one.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Select, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from shareguard.keys import HASH_PREFIX
from shareguard.store.db import StoreError, session_scope, write_transaction
from shareguard.store.models import (
    GENESIS_HASH,
    AuditHead,
    AuditRecipient,
    AuditRow,
    AuditSubject,
)

_KIND = re.compile(r"[a-z][a-z0-9_.-]{0,31}")
_SUBJECT = re.compile(re.escape(HASH_PREFIX) + r"[0-9a-f]{32,60}")
# Raw identifiers that must never reach the log (UK NI number shape).
_RAW_NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
_VERIFY_BATCH = 1000


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    ts: datetime
    kind: str
    actor: str
    payload: dict[str, Any]
    subject_hashes: tuple[str, ...]
    prev_hash: str
    hash: str

    @property
    def id(self) -> int:
        """The record's id: its sequence number."""
        return self.seq

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": _iso(self.ts),
            "kind": self.kind,
            "actor": self.actor,
            "payload": self.payload,
            "subject_count": len(self.subject_hashes),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class ChainCheck:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: str | None = None


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def record_hash(
    *,
    seq: int,
    ts: datetime,
    kind: str,
    actor: str,
    payload: Mapping[str, Any],
    subject_hashes: Sequence[str],
    prev_hash: str,
) -> str:
    content = {
        "seq": seq,
        "ts": _iso(ts),
        "kind": kind,
        "actor": actor,
        "payload": payload,
        "subject_hashes": sorted(subject_hashes),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _hash_with_payload_text(
    seq: int,
    ts: datetime,
    kind: str,
    actor: str,
    payload_text: str,
    subject_hashes: Sequence[str],
    prev_hash: str,
) -> str:
    """:func:`record_hash`, given the payload's canonical JSON already made
    (appends have it): the same text, spliced in key order, so the payload
    is not encoded twice.  verify recomputes with record_hash itself."""
    text = (
        f'{{"actor":{canonical_json(actor)},"kind":{canonical_json(kind)},'
        f'"payload":{payload_text},"prev_hash":{canonical_json(prev_hash)},"seq":{seq},'
        f'"subject_hashes":{canonical_json(sorted(subject_hashes))},'
        f'"ts":{canonical_json(_iso(ts))}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# A JSON escape in canonical text stands for a quote, a backslash or a
# control character: none is a word character or a space, and neither is
# \x01, so replacing each escape with it keeps the NI pattern's boundaries
# exactly as they were in the strings themselves.
_JSON_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)")


def _guard_payload(text: str) -> None:
    """Refuse a payload (as canonical JSON text) holding an NI number.  One
    pass over the whole text instead of one per string: numbers, null and
    the JSON punctuation between strings can neither form nor hide a match."""
    if "\\" in text:
        text = _JSON_ESCAPE.sub("\x01", text)
    if _RAW_NINO.search(text.upper()):
        raise StoreError("audit payload looks like it holds a raw NI number; store hashes")


class RecipientLink(NamedTuple):
    """What the index keeps about one recipient of a record: the agreement
    it fell under and the decision for it."""

    agreement_id: str | None
    decision: str | None


@dataclass(frozen=True, slots=True)
class IndexFields:
    """What a payload contributes to the indexed columns: sender, decision
    and number of people on the record, and each recipient's link."""

    sender: str | None
    decision: str | None
    people: int | None
    recipients: dict[str, RecipientLink]


def _address(value: Any) -> str | None:
    # As the 0001 columns were derived: a blank string is kept, as "".
    return value.strip().lower()[:320] if isinstance(value, str) and value else None


def _agreement_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value[:128] if isinstance(value, str) and value else None


def _decision(value: Any) -> str | None:
    return value[:16] if isinstance(value, str) and value else None


def domain_of(address: str) -> str:
    """The part after the last ``@`` (the whole string if there is none)."""
    return address.rpartition("@")[2]


def payload_recipients(payload: Mapping[str, Any]) -> builtins.list[str]:
    """The recipient addresses a payload names, as written (``recipients``
    holds addresses, or objects with an ``address``)."""
    raw = payload.get("recipients") or []
    if not isinstance(raw, list | tuple):
        return []
    found = (r.get("address") if isinstance(r, Mapping) else r for r in raw)
    return [a for a in found if isinstance(a, str)]


def index_fields(payload: Mapping[str, Any]) -> IndexFields:
    """The indexed columns derived from a payload (see the module docstring):
    a recipient's agreement and decision come from its ``per_recipient``
    entry, else from the record's ``agreement`` and ``decision``."""
    addresses = {a for a in map(_address, payload_recipients(payload)) if a is not None}
    per_address: dict[str, Mapping[str, Any]] = {}
    per = payload.get("per_recipient") or []
    if isinstance(per, list | tuple):
        for r in per:
            if isinstance(r, Mapping) and (addr := _address(r.get("address"))) is not None:
                per_address[addr] = r
    common_agreement = _agreement_id(payload.get("agreement"))
    decision = _decision(payload.get("decision"))
    links = {}
    for a in addresses:
        own = per_address.get(a, {})
        links[a] = RecipientLink(
            _agreement_id(own.get("agreement")) or common_agreement,
            _decision(own.get("decision")) or decision,
        )
    people = payload.get("data_subjects")
    return IndexFields(
        _address(payload.get("sender")),
        decision,
        people if isinstance(people, int) and not isinstance(people, bool) else None,
        links,
    )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A record to append with :meth:`AuditLog.append_many`.  ``ts`` is for
    importing or seeding history only; left out, the time of the append."""

    kind: str
    actor: str
    payload: Mapping[str, Any]
    subject_hashes: Sequence[str] = ()
    ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Prepared:
    kind: str
    actor: str
    body: dict[str, Any]
    text: str
    subjects: tuple[str, ...]
    index: IndexFields
    ts: datetime | None


def _prepare(
    kind: str,
    actor: str,
    payload: Mapping[str, Any],
    subject_hashes: Iterable[str],
    ts: datetime | None = None,
) -> _Prepared:
    if not _KIND.fullmatch(kind):
        raise StoreError(f"audit kind {kind!r} is not a short lower-case name")
    subjects = tuple(sorted(set(subject_hashes)))
    if any(not _SUBJECT.fullmatch(h) for h in subjects):
        raise StoreError(f"subject hashes must be keyed hashes ({HASH_PREFIX}...)")
    if ts is not None and ts.tzinfo is None:
        raise StoreError("audit timestamps must be timezone-aware")
    # Round-trip so the stored text, the hash and the returned dict agree.
    try:
        text = canonical_json(payload)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"audit payload is not plain JSON: {exc}") from None
    _guard_payload(text)
    body: dict[str, Any] = json.loads(text)
    return _Prepared(kind, actor, body, text, subjects, index_fields(body), ts)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Search criteria, all optional and combined with AND.  ``recipient``
    is an exact address, or a whole domain given as ``@domain``; ``since`` is
    inclusive, ``until`` exclusive; ``agreement`` is an agreement id."""

    recipient: str | None = None
    sender: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    decision: str | None = None
    kind: str | None = None
    agreement: str | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of a search, newest first.  ``next_before`` is the cursor of
    the next (older) page, None when this is the last one."""

    records: list[AuditRecord]
    next_before: int | None

    @property
    def has_more(self) -> bool:
        return self.next_before is not None


@dataclass(frozen=True, slots=True)
class AuditCount:
    """How many records match; with a cap, ``exact`` is False when there
    are more than ``total`` (then show "more than total")."""

    total: int
    exact: bool


def _filtered(q: Select[Any], f: AuditFilter) -> Select[Any]:
    # Recipient and agreement filters are semi-joins on the link table; its
    # (value, record_id) indexes let both backends walk newest first and
    # stop at the page size.
    if f.recipient and f.recipient.strip():
        r = f.recipient.strip().lower()
        cond = AuditRecipient.domain == r[1:] if r.startswith("@") else AuditRecipient.address == r
        q = q.where(AuditRow.seq.in_(select(AuditRecipient.record_id).where(cond)))
    if f.agreement:
        q = q.where(
            AuditRow.seq.in_(
                select(AuditRecipient.record_id).where(AuditRecipient.agreement_id == f.agreement)
            )
        )
    if f.sender and f.sender.strip():
        q = q.where(AuditRow.sender == f.sender.strip().lower())
    if f.since:
        q = q.where(AuditRow.ts >= f.since)
    if f.until:
        q = q.where(AuditRow.ts < f.until)
    if f.decision:
        q = q.where(AuditRow.decision == f.decision)
    if f.kind:
        q = q.where(AuditRow.kind == f.kind)
    return q


_RECORD_COLUMNS = (
    "seq",
    "ts",
    "kind",
    "actor",
    "sender",
    "decision",
    "people",
    "payload",
    "prev_hash",
    "hash",
)
_RECIPIENT_COLUMNS = ("record_id", "address", "domain", "agreement_id", "decision")
_SUBJECT_COLUMNS = ("record_id", "subject_hash")


def _write(conn: Connection, batch: Sequence[_Prepared]) -> builtins.list[AuditRecord]:
    """Chain ``batch`` onto the head inside the caller's write transaction."""
    # The head row lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) makes this
    # read-then-write atomic across processes and hosts.
    head = conn.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
    ).one_or_none()
    if head is None:
        raise StoreError("audit head missing: run `shareguard db upgrade`")
    seq, prev = head.seq, head.hash
    last_ts = None
    if any(p.ts is not None for p in batch) and seq:
        last_ts = conn.execute(select(AuditRow.ts).where(AuditRow.seq == seq)).scalar_one()
    records: builtins.list[AuditRecord] = []
    rows: builtins.list[tuple[Any, ...]] = []
    links: builtins.list[tuple[Any, ...]] = []
    subjects: builtins.list[tuple[Any, ...]] = []
    for p in batch:
        seq += 1
        # Taken under the lock, so timestamps follow seq order as long as
        # the writers' clocks agree.
        ts = p.ts or datetime.now(UTC)
        if last_ts is not None and ts < last_ts:
            raise StoreError(f"audit record {seq} would be older than the record before it")
        last_ts = ts
        digest = _hash_with_payload_text(seq, ts, p.kind, p.actor, p.text, p.subjects, prev)
        ix = p.index
        rows.append(
            (seq, ts, p.kind, p.actor, ix.sender, ix.decision, ix.people, p.text, prev, digest)
        )
        links.extend(
            (seq, a, domain_of(a), link.agreement_id, link.decision)
            for a, link in sorted(ix.recipients.items())
        )
        subjects.extend((seq, h) for h in p.subjects)
        records.append(AuditRecord(seq, ts, p.kind, p.actor, p.body, p.subjects, prev, digest))
        prev = digest
    if conn.dialect.name == "postgresql" and len(batch) > 1:
        _copy_rows(conn, "audit_records", _RECORD_COLUMNS, rows)
        _copy_rows(conn, "audit_recipients", _RECIPIENT_COLUMNS, links)
        _copy_rows(conn, "audit_subjects", _SUBJECT_COLUMNS, subjects)
    else:
        for table, columns, values in (
            (AuditRow, _RECORD_COLUMNS, rows),
            (AuditRecipient, _RECIPIENT_COLUMNS, links),
            (AuditSubject, _SUBJECT_COLUMNS, subjects),
        ):
            if values:
                conn.execute(insert(table), [dict(zip(columns, v, strict=True)) for v in values])
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))
    return records


def _copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """PostgreSQL COPY on the transaction's own connection: several times
    faster than INSERT for large batches."""
    if not rows:
        return
    raw = conn.connection.driver_connection  # a psycopg 3 connection
    assert raw is not None
    cursor = raw.cursor()
    with cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _newest_first(q: Select[Any], f: AuditFilter, before: int | None) -> Select[Any]:
    """Order newest first, after the record ``before`` if given.  With a date
    range the order is (ts, seq), walked on the (ts, seq) index from the
    range's end: ordered by seq alone, PostgreSQL walks the primary key from
    the newest record and filters its way back to the range (0.2 s at
    400,000 records for a month a year ago).  Both orders are the same
    unless writers' clocks disagree (ts is taken under the append lock)."""
    if f.since is None and f.until is None:
        if before is not None:
            q = q.where(AuditRow.seq < before)
        return q.order_by(AuditRow.seq.desc())
    if before is not None:
        before_ts = select(AuditRow.ts).where(AuditRow.seq == before).scalar_subquery()
        q = q.where(tuple_(AuditRow.ts, AuditRow.seq) < tuple_(before_ts, before))
    return q.order_by(AuditRow.ts.desc(), AuditRow.seq.desc())


def _window(kind: str, since: datetime) -> Select[Any]:
    """The seqs of ``kind`` records from ``since`` on."""
    return select(AuditRow.seq).where(AuditRow.kind == kind, AuditRow.ts >= since)


def _first_in_window(s: Session, kind: str, since: datetime) -> int | None:
    """The smallest seq of the window: ``record_id >= it`` is implied by
    ``record_id IN window``, but given as a value it lets PostgreSQL
    range-scan the links' primary key (and estimate it) instead of reading
    every link ever written; as a subquery the estimate was a guess."""
    # min(seq + 0), not min(seq): both databases answer min(seq) by walking
    # the primary key from the oldest record until one is in the window.
    first = s.execute(
        select(func.min(AuditRow.seq + 0)).where(AuditRow.kind == kind, AuditRow.ts >= since)
    ).scalar()
    return None if first is None else int(first)


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self,
        kind: str,
        actor: str,
        payload: Mapping[str, Any],
        subject_hashes: Iterable[str] = (),
    ) -> AuditRecord:
        """Add one record at the end of the chain and return it."""
        prepared = _prepare(kind, actor, payload, subject_hashes)
        # Everything prepared beforehand: the lock is held for a few short
        # statements and the commit.
        with write_transaction(self.engine) as conn:
            return _write(conn, [prepared])[0]

    def append_many(self, entries: Iterable[AuditEntry], *, batch_size: int = 5000) -> int:
        """Append many records, ``batch_size`` per transaction (PostgreSQL
        loads them with COPY); returns how many.  For imports and seeding:
        entries with a ``ts`` must not go back in time, so that time order
        still follows the chain."""
        count = 0
        batch: builtins.list[_Prepared] = []
        for entry in entries:
            batch.append(
                _prepare(entry.kind, entry.actor, entry.payload, entry.subject_hashes, entry.ts)
            )
            if len(batch) >= batch_size:
                count += self._append_batch(batch)
                batch = []
        if batch:
            count += self._append_batch(batch)
        return count

    def _append_batch(self, batch: Sequence[_Prepared]) -> int:
        with write_transaction(self.engine) as conn:
            return len(_write(conn, batch))

    # -- reading ---------------------------------------------------------

    def _load(self, s: Session, rows: Sequence[AuditRow]) -> builtins.list[AuditRecord]:
        ids = [r.seq for r in rows]
        subjects: dict[int, builtins.list[str]] = {i: [] for i in ids}
        if ids:
            for rid, h in s.execute(
                select(AuditSubject.record_id, AuditSubject.subject_hash).where(
                    AuditSubject.record_id.in_(ids)
                )
            ):
                subjects[rid].append(h)
        return [
            AuditRecord(
                r.seq,
                r.ts,
                r.kind,
                r.actor,
                json.loads(r.payload),
                tuple(sorted(subjects[r.seq])),
                r.prev_hash,
                r.hash,
            )
            for r in rows
        ]

    def get(self, seq: int | str) -> AuditRecord | None:
        """A record by its id (seq), given as an int or a string of digits."""
        if isinstance(seq, str):
            if not seq.strip().isdigit():
                return None
            seq = int(seq)
        with session_scope(self.engine) as s:
            row = s.get(AuditRow, seq)
            return self._load(s, [row])[0] if row else None

    def list(
        self,
        recipient: str | None = None,
        sender: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        decision: str | None = None,
        kind: str | None = None,
        limit: int | None = 100,
        agreement: str | None = None,
    ) -> builtins.list[AuditRecord]:
        """Newest first, at most ``limit`` (None: all).  The filters are those
        of :class:`AuditFilter`; :meth:`search` pages through large results."""
        f = AuditFilter(recipient, sender, since, until, decision, kind, agreement)
        q = _newest_first(_filtered(select(AuditRow), f), f, None)
        if limit:
            q = q.limit(limit)
        with session_scope(self.engine) as s:
            return self._load(s, s.execute(q).scalars().all())

    def search(
        self, where: AuditFilter | None = None, *, before: int | None = None, limit: int = 50
    ) -> AuditPage:
        """One page of matching records, newest first, older than the record
        ``before`` (keyset pagination: pass the previous page's
        ``next_before``; each page costs the same however deep it is)."""
        if limit < 1:
            raise StoreError("the page size must be at least 1")
        f = where or AuditFilter()
        q = _newest_first(_filtered(select(AuditRow), f), f, before).limit(limit + 1)
        with session_scope(self.engine) as s:
            rows = s.execute(q).scalars().all()
            records = self._load(s, rows[:limit])
        more = len(rows) > limit
        return AuditPage(records, records[-1].seq if more else None)

    def count(self, where: AuditFilter | None = None, *, cap: int | None = 10_000) -> AuditCount:
        """How many records match, counting at most ``cap`` + 1 so that a
        broad filter over millions of records stays quick (None: exact)."""
        inner = _filtered(select(AuditRow.seq), where or AuditFilter())
        if cap is not None:
            inner = inner.limit(cap + 1)
        q = select(func.count()).select_from(inner.subquery())
        with session_scope(self.engine) as s:
            total = int(s.execute(q).scalar_one())
        if cap is not None and total > cap:
            return AuditCount(cap, False)
        return AuditCount(total, True)

    # -- aggregates for the dashboard --------------------------------------
    # GROUP BY over the indexed columns: no payload is read or parsed, so the
    # cost grows with the records in the window, not with their size.  The
    # window is an IN (subquery) on the ts index: as a plain join, SQLite
    # chose to scan every recipient link instead (15x slower at 100,000).

    def decisions_per_day(
        self, since: datetime, *, kind: str = "check"
    ) -> builtins.list[tuple[date, str | None, int]]:
        """(UTC day, decision, records) for ``kind`` records from ``since`` on."""
        if self.engine.dialect.name == "postgresql":
            day: Any = func.date(func.timezone("UTC", AuditRow.ts))
        else:  # SQLite stores naive UTC text: date() reads its day
            day = func.date(AuditRow.ts)
        q = (
            select(day, AuditRow.decision, func.count())
            .where(AuditRow.kind == kind, AuditRow.ts >= since)
            .group_by(day, AuditRow.decision)
        )
        with session_scope(self.engine) as s:
            rows = s.execute(q).all()
        return sorted(
            (d if isinstance(d, date) else date.fromisoformat(str(d)), decision, int(n))
            for d, decision, n in rows
        )

    def recipient_counts(
        self, since: datetime, *, kind: str = "check", limit: int = 100
    ) -> builtins.list[tuple[str, int]]:
        """The ``limit`` addresses in most ``kind`` records from ``since`` on,
        with their counts, most first."""
        n = func.count()
        with session_scope(self.engine) as s:
            first = _first_in_window(s, kind, since)
            if first is None:
                return []
            q = (
                select(AuditRecipient.address, n)
                .where(
                    AuditRecipient.record_id >= first,
                    AuditRecipient.record_id.in_(_window(kind, since)),
                )
                .group_by(AuditRecipient.address)
                .order_by(n.desc(), AuditRecipient.address)
                .limit(limit)
            )
            return [(a, int(c)) for a, c in s.execute(q)]

    def people_per_agreement(
        self,
        since: datetime,
        *,
        kind: str = "check",
        decisions: Sequence[str] = ("allow", "minimise"),
    ) -> builtins.list[tuple[str, int]]:
        """People in ``kind`` records from ``since`` on, summed per agreement
        over the recipients whose decision was one of ``decisions`` (a record
        sent to two recipients under one agreement counts twice), most first."""
        total = func.coalesce(func.sum(AuditRow.people), 0)
        with session_scope(self.engine) as s:
            first = _first_in_window(s, kind, since)
            if first is None:
                return []
            q = (
                select(AuditRecipient.agreement_id, total)
                .join(AuditRow, AuditRow.seq == AuditRecipient.record_id)
                .where(
                    AuditRecipient.record_id >= first,
                    AuditRow.seq.in_(_window(kind, since)),
                    AuditRecipient.decision.in_(decisions),
                    AuditRecipient.agreement_id.is_not(None),
                )
                .group_by(AuditRecipient.agreement_id)
                .order_by(total.desc(), AuditRecipient.agreement_id)
            )
            return [(str(a), int(n or 0)) for a, n in s.execute(q)]

    def records_for_subject(self, subject_hash: str) -> builtins.list[AuditRecord]:
        """Every record concerning the person with this keyed hash, oldest first."""
        q = (
            select(AuditRow)
            .join(AuditSubject, AuditSubject.record_id == AuditRow.seq)
            .where(AuditSubject.subject_hash == subject_hash)
            .order_by(AuditRow.seq)
        )
        with session_scope(self.engine) as s:
            return self._load(s, s.execute(q).scalars().all())

    # -- verification ----------------------------------------------------

    def verify(self) -> ChainCheck:
        """Walk the chain from seq 1 and name the first record that does not
        fit: edited (content and hash disagree), inserted, deleted or moved
        (seq gap or broken link), or the newest records deleted (chain ends
        before the head)."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # One snapshot for the head and every row, so appends made
                # while we read are not mistaken for tampering.  (SQLite's
                # read transactions are snapshots already.)
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin(), Session(bind=conn) as s:
                return self._verify(s)

    def _verify(self, s: Session) -> ChainCheck:
        head = s.get(AuditHead, 1)
        if head is None:
            return ChainCheck(False, 0, None, "audit head row missing")
        expected_seq, prev, checked = 1, GENESIS_HASH, 0
        while True:
            rows = (
                s.execute(
                    select(AuditRow)
                    .where(AuditRow.seq >= expected_seq)
                    .order_by(AuditRow.seq)
                    .limit(_VERIFY_BATCH)
                )
                .scalars()
                .all()
            )
            if not rows:
                break
            recipients = _recipients_of(s, [r.seq for r in rows])
            for rec, row in zip(self._load(s, rows), rows, strict=True):
                problem = _check_one(rec, row, expected_seq, prev, recipients[rec.seq])
                if problem:
                    return ChainCheck(False, checked, problem[0], problem[1])
                checked += 1
                expected_seq, prev = rec.seq + 1, rec.hash
            s.expunge_all()
        last = expected_seq - 1
        if head.seq > last:
            return ChainCheck(
                False,
                checked,
                last + 1,
                f"record {last + 1} is missing: the chain ends at {last} but the head "
                f"says {head.seq} (records deleted)",
            )
        if head.seq < last:
            return ChainCheck(
                False,
                checked,
                head.seq + 1,
                f"record {head.seq + 1} was added behind the log's back (the head ends "
                f"at {head.seq})",
            )
        if head.hash != prev:
            return ChainCheck(False, checked, last, f"the head does not match record {last}")
        return ChainCheck(True, checked, None, None, prev)


# A recipient link as stored: address, domain, agreement id, decision.
_Link = tuple[str, str | None, str | None, str | None]


def _recipients_of(s: Session, seqs: Sequence[int]) -> dict[int, set[_Link]]:
    out: dict[int, set[_Link]] = {i: set() for i in seqs}
    for rid, *link in s.execute(
        select(
            AuditRecipient.record_id,
            AuditRecipient.address,
            AuditRecipient.domain,
            AuditRecipient.agreement_id,
            AuditRecipient.decision,
        ).where(AuditRecipient.record_id.in_(seqs))
    ):
        out[rid].add(tuple(link))  # type: ignore[arg-type]
    return out


def _check_one(
    rec: AuditRecord,
    row: AuditRow,
    seq: int,
    prev: str,
    recipients: set[_Link],
) -> tuple[int, str] | None:
    if rec.seq != seq:
        if rec.seq > seq:
            return seq, f"record {seq} is missing (the next is {rec.seq}): deleted"
        return rec.seq, f"record {rec.seq} is out of order"
    if rec.prev_hash != prev:
        return seq, (
            f"record {seq} does not follow record {seq - 1}: its previous-hash "
            "link is broken (a record was inserted, deleted or moved before it)"
        )
    recomputed = record_hash(
        seq=rec.seq,
        ts=rec.ts,
        kind=rec.kind,
        actor=rec.actor,
        payload=rec.payload,
        subject_hashes=rec.subject_hashes,
        prev_hash=rec.prev_hash,
    )
    if recomputed != rec.hash:
        return seq, f"record {seq} was altered: its content does not match its hash"
    fields = index_fields(rec.payload)
    links = {(a, domain_of(a), *link) for a, link in fields.recipients.items()}
    stored = (row.sender, row.decision, row.people, recipients)
    if stored != (fields.sender, fields.decision, fields.people, links):
        return seq, (
            f"record {seq}: its search index (sender/decision/people/recipients/agreements) "
            "was altered"
        )
    return None
