"""The append-only, hash-chained audit log.

A record is identified by its sequence number ``seq`` (1, 2, ...).  Its
hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of
``{seq, ts, kind, actor, payload, subject_hashes, prev_hash}``, where
``ts`` is the ISO-8601 UTC time with microseconds and ``prev_hash`` is
the previous record's hash (``"0" * 64`` for seq 1).  A one-row head table
holds the newest seq and hash; appends lock it, so all writers, in any
number of processes or hosts, extend one chain.

Payload conventions (used for the list filters): ``sender`` (address),
``recipients`` (addresses, or objects with an ``address``), ``decision``.
Payloads must hold no raw personal data: counts, entity types, file names,
content SHA-256s and keyed hashes only.  :func:`_guard_payload` refuses the
obvious mistakes; it cannot catch every one.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
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


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _guard_payload(payload: Mapping[str, Any]) -> None:
    for s in _strings(payload):
        if _RAW_NINO.search(s.upper()):
            raise StoreError("audit payload looks like it holds a raw NI number; store hashes")


def _index_fields(payload: Mapping[str, Any]) -> tuple[str | None, str | None, set[str]]:
    """(sender, decision, recipient addresses) as indexed for the filters."""
    sender = payload.get("sender")
    decision = payload.get("decision")
    recipients: set[str] = set()
    raw = payload.get("recipients") or []
    if isinstance(raw, list | tuple):
        for r in raw:
            addr = r.get("address") if isinstance(r, Mapping) else r
            if isinstance(addr, str) and addr:
                recipients.add(addr.strip().lower()[:320])
    return (
        sender.strip().lower()[:320] if isinstance(sender, str) and sender else None,
        decision[:16] if isinstance(decision, str) and decision else None,
        recipients,
    )


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
        if not _KIND.fullmatch(kind):
            raise StoreError(f"audit kind {kind!r} is not a short lower-case name")
        subjects = tuple(sorted(set(subject_hashes)))
        if any(not _SUBJECT.fullmatch(h) for h in subjects):
            raise StoreError(f"subject hashes must be keyed hashes ({HASH_PREFIX}...)")
        _guard_payload(payload)
        # Round-trip so the stored text, the hash and the returned dict agree.
        try:
            payload_text = canonical_json(payload)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"audit payload is not plain JSON: {exc}") from None
        body: dict[str, Any] = json.loads(payload_text)
        sender, decision, recipients = _index_fields(body)
        # Core statements and everything prepared beforehand: the lock is
        # held for four short statements and the commit.
        with write_transaction(self.engine) as conn:
            # The head row lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite)
            # makes this read-then-write atomic across processes and hosts.
            head = conn.execute(
                select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
            ).one_or_none()
            if head is None:
                raise StoreError("audit head missing: run `shareguard db upgrade`")
            seq, prev = head.seq + 1, head.hash
            # Taken under the lock, so timestamps follow seq order as long
            # as the writers' clocks agree.
            ts = datetime.now(UTC)
            digest = record_hash(
                seq=seq,
                ts=ts,
                kind=kind,
                actor=actor,
                payload=body,
                subject_hashes=subjects,
                prev_hash=prev,
            )
            conn.execute(
                insert(AuditRow).values(
                    seq=seq,
                    ts=ts,
                    kind=kind,
                    actor=actor,
                    sender=sender,
                    decision=decision,
                    payload=payload_text,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            if recipients:
                links = [{"record_id": seq, "address": a} for a in sorted(recipients)]
                conn.execute(insert(AuditRecipient), links)
            if subjects:
                rows = [{"record_id": seq, "subject_hash": h} for h in subjects]
                conn.execute(insert(AuditSubject), rows)
            conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=digest))
        return AuditRecord(seq, ts, kind, actor, body, subjects, prev, digest)

    # -- reading ---------------------------------------------------------

    def _load(self, s: Session, rows: Sequence[AuditRow]) -> list[AuditRecord]:
        ids = [r.seq for r in rows]
        subjects: dict[int, list[str]] = {i: [] for i in ids}
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
    ) -> list[AuditRecord]:
        """Newest first.  ``recipient`` matches an exact address, or a whole
        domain when given as ``@domain``; ``since`` is inclusive, ``until``
        exclusive."""
        q = select(AuditRow)
        if recipient:
            r = recipient.strip().lower()
            cond = (
                AuditRecipient.address.endswith(r, autoescape=True)
                if r.startswith("@")
                else AuditRecipient.address == r
            )
            q = q.where(AuditRow.seq.in_(select(AuditRecipient.record_id).where(cond)))
        if sender:
            q = q.where(AuditRow.sender == sender.strip().lower())
        if since:
            q = q.where(AuditRow.ts >= since)
        if until:
            q = q.where(AuditRow.ts < until)
        if decision:
            q = q.where(AuditRow.decision == decision)
        if kind:
            q = q.where(AuditRow.kind == kind)
        q = q.order_by(AuditRow.seq.desc())
        if limit:
            q = q.limit(limit)
        with session_scope(self.engine) as s:
            return self._load(s, s.execute(q).scalars().all())

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


def _recipients_of(s: Session, seqs: Sequence[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {i: set() for i in seqs}
    for rid, addr in s.execute(
        select(AuditRecipient.record_id, AuditRecipient.address).where(
            AuditRecipient.record_id.in_(seqs)
        )
    ):
        out[rid].add(addr)
    return out


def _check_one(
    rec: AuditRecord, row: AuditRow, seq: int, prev: str, recipients: set[str]
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
    sender, decision, addrs = _index_fields(rec.payload)
    if (row.sender, row.decision, recipients) != (sender, decision, addrs):
        return seq, f"record {seq}: its search index (sender/decision/recipients) was altered"
    return None
