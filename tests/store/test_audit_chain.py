from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, insert, select, text, update

from shareguard.store.audit import AuditLog, record_hash
from shareguard.store.db import StoreError
from shareguard.store.models import AuditHead, AuditRecipient, AuditRow, AuditSubject

SUBJECT_A = "hk1:" + "a" * 32
SUBJECT_B = "hk1:" + "b" * 32


def _fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append(
            "check",
            "alice@corp.example",
            {
                "sender": "alice@corp.example",
                "recipients": [{"address": f"r{i % 2}@bidder.example"}],
                "decision": "hold" if i % 2 else "allow",
                "files": [{"name": f"f{i}.csv", "sha256": "0" * 64}],
                "data_subjects": i,
            },
            [SUBJECT_A] if i % 3 == 0 else [SUBJECT_B],
        )


def test_append_links_records_and_verifies(engine: Engine) -> None:
    log = AuditLog(engine)
    first = log.append("check", "alice", {"n": 1})
    second = log.append("approval", "bob", {"n": 2}, [SUBJECT_A])
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash
    assert first.ts.tzinfo is not None
    assert first.ts.utcoffset() == timedelta(0)
    check = log.verify()
    assert check.ok
    assert check.checked == 2
    assert check.head_hash == second.hash


def test_stored_record_round_trips_to_the_same_hash(engine: Engine) -> None:
    log = AuditLog(engine)
    rec = log.append("check", "alice", {"x": [1, 2.5, "é"], "b": None}, [SUBJECT_B, SUBJECT_A])
    got = log.get(rec.id)
    assert got == rec
    assert got is not None
    assert got.ts.tzinfo is not None
    assert rec.id == rec.seq == 1
    assert log.get(str(rec.seq)) == rec
    assert got.subject_hashes == (SUBJECT_A, SUBJECT_B)
    # The hash covers the ISO-8601 UTC string of the timestamp.
    assert rec.hash == record_hash(
        seq=1,
        ts=rec.ts,
        kind="check",
        actor="alice",
        payload={"b": None, "x": [1, 2.5, "é"]},
        subject_hashes=[SUBJECT_A, SUBJECT_B],
        prev_hash="0" * 64,
    )
    assert log.get("nope") is None
    assert log.get(2) is None


def test_empty_chain_verifies(engine: Engine) -> None:
    check = AuditLog(engine).verify()
    assert check.ok
    assert check.checked == 0


@pytest.mark.parametrize(
    ("kind", "payload", "subjects"),
    [
        ("Check Now", {}, ()),
        ("check", {"note": "AB 12 34 56 C"}, ()),
        ("check", {"nested": [{"v": "ab123456c"}]}, ()),
        ("check", {}, ("JohnSmith",)),
        ("check", {"x": float("nan")}, ()),
        ("check", {"x": object()}, ()),
    ],
)
def test_append_refuses_bad_input(
    engine: Engine, kind: str, payload: dict[str, object], subjects: tuple[str, ...]
) -> None:
    with pytest.raises(StoreError) as info:
        AuditLog(engine).append(kind, "alice", payload, subjects)
    assert "12 34 56" not in str(info.value)
    assert "JohnSmith" not in str(info.value)
    assert AuditLog(engine).verify().checked == 0


def test_list_filters(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 6)
    log.append("approval", "carol", {"decision": "allow", "sender": "Dave@Corp.example"})
    assert [r.seq for r in log.list()] == [7, 6, 5, 4, 3, 2, 1]
    assert [r.seq for r in log.list(recipient="R1@bidder.example")] == [6, 4, 2]
    assert len(log.list(recipient="@bidder.example")) == 6
    assert log.list(recipient="@other.example") == []
    assert [r.seq for r in log.list(decision="hold")] == [6, 4, 2]
    assert [r.seq for r in log.list(sender="dave@corp.example")] == [7]
    assert [r.seq for r in log.list(kind="approval")] == [7]
    assert [r.seq for r in log.list(limit=2)] == [7, 6]
    now = datetime.now(UTC)
    assert len(log.list(since=now - timedelta(minutes=5), until=now + timedelta(seconds=5))) == 7
    assert log.list(since=now + timedelta(seconds=5)) == []
    assert log.list(until=now - timedelta(minutes=5)) == []


def test_subject_index(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 7)
    assert [r.seq for r in log.records_for_subject(SUBJECT_A)] == [1, 4, 7]
    assert [r.seq for r in log.records_for_subject(SUBJECT_B)] == [2, 3, 5, 6]
    assert log.records_for_subject("hk1:" + "c" * 32) == []


# -- tampering: each must be found, naming the first broken record --------


def _tamper(engine: Engine, *stmts: object) -> None:
    with engine.begin() as conn:
        for stmt in stmts:
            conn.execute(stmt)  # type: ignore[call-overload]


def test_edited_payload_is_found(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 10)
    edit = update(AuditRow).where(AuditRow.seq == 4).values(payload='{"decision":"allow"}')
    _tamper(engine, edit)
    check = log.verify()
    assert not check.ok
    assert check.first_bad_seq == 4
    assert check.checked == 3
    assert check.reason is not None
    assert "altered" in check.reason
    assert "record 4" in check.reason


def test_edited_subject_index_is_found(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 10)
    rec = log.get(7)
    assert rec is not None
    _tamper(engine, delete(AuditSubject).where(AuditSubject.record_id == rec.id))
    check = log.verify()
    assert (check.ok, check.first_bad_seq) == (False, 7)


def test_edited_recipient_index_is_found(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 10)
    rec = log.get(5)
    assert rec is not None
    _tamper(
        engine,
        update(AuditRecipient)
        .where(AuditRecipient.record_id == rec.id)
        .values(address="someone@else.example"),
    )
    check = log.verify()
    assert (check.ok, check.first_bad_seq) == (False, 5)
    assert check.reason is not None
    assert "index" in check.reason


def test_inserted_record_is_found(engine: Engine) -> None:
    """A forger who renumbers the later records and gives the inserted one a
    correct link and hash still breaks the link of the record after it."""
    log = AuditLog(engine)
    _fill(log, 10)
    r5 = log.get(5)
    assert r5 is not None
    ts = r5.ts + timedelta(microseconds=1)
    forged = {"decision": "allow"}
    digest = record_hash(
        seq=6,
        ts=ts,
        kind="check",
        actor="mallory",
        payload=forged,
        subject_hashes=[],
        prev_hash=r5.hash,
    )
    with engine.begin() as conn:
        # Two steps so the unique seq constraint holds in between.
        conn.execute(update(AuditRow).where(AuditRow.seq > 5).values(seq=AuditRow.seq + 1000))
        conn.execute(update(AuditRow).where(AuditRow.seq > 1000).values(seq=AuditRow.seq - 999))
        conn.execute(
            insert(AuditRow).values(
                seq=6,
                ts=ts,
                kind="check",
                actor="mallory",
                sender=None,
                decision="allow",
                payload='{"decision":"allow"}',
                prev_hash=r5.hash,
                hash=digest,
            )
        )
    check = log.verify()
    assert not check.ok
    assert check.first_bad_seq == 7
    assert check.reason is not None
    assert "link is broken" in check.reason


def test_appended_forgery_with_a_wrong_link_is_found(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 3)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_records (seq, ts, kind, actor, payload, prev_hash, hash) "
                "VALUES (4, :ts, 'check', 'm', '{}', :h, :h)"
            ),
            {"ts": datetime.now(UTC), "h": "1" * 64},
        )
    check = log.verify()
    assert (check.ok, check.first_bad_seq) == (False, 4)


def test_well_forged_append_is_found_by_the_head(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 3)
    r3 = log.get(3)
    assert r3 is not None
    ts = datetime.now(UTC)
    digest = record_hash(
        seq=4,
        ts=ts,
        kind="check",
        actor="m",
        payload={},
        subject_hashes=[],
        prev_hash=r3.hash,
    )
    _tamper(
        engine,
        insert(AuditRow).values(
            seq=4,
            ts=ts,
            kind="check",
            actor="m",
            payload="{}",
            prev_hash=r3.hash,
            hash=digest,
        ),
    )
    check = log.verify()
    assert (check.ok, check.first_bad_seq) == (False, 4)
    assert check.reason is not None
    assert "head" in check.reason


@pytest.mark.parametrize("victim", [1, 5, 9])
def test_deleted_record_is_found(engine: Engine, victim: int) -> None:
    log = AuditLog(engine)
    _fill(log, 9)
    _tamper(engine, delete(AuditRow).where(AuditRow.seq == victim))
    check = log.verify()
    assert not check.ok
    assert check.first_bad_seq == victim
    assert check.reason is not None
    assert "missing" in check.reason


def test_deleted_and_relinked_tail_is_found_by_the_head(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 5)
    r4 = log.get(4)
    assert r4 is not None
    # Deleting the newest record and rewinding the head to match is the one
    # edit the chain alone cannot see; only an external copy of the head can.
    _tamper(engine, delete(AuditRow).where(AuditRow.seq == 5))
    assert log.verify().first_bad_seq == 5
    _tamper(engine, update(AuditHead).values(seq=4, hash=r4.hash))
    assert log.verify().ok


def test_swapped_records_are_found(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 8)
    with engine.begin() as conn:
        conn.execute(update(AuditRow).where(AuditRow.seq == 3).values(seq=-3))
        conn.execute(update(AuditRow).where(AuditRow.seq == 6).values(seq=3))
        conn.execute(update(AuditRow).where(AuditRow.seq == -3).values(seq=6))
    check = log.verify()
    assert not check.ok
    assert check.first_bad_seq == 3
    assert check.reason is not None
    assert "record 3" in check.reason


def test_swapped_payloads_are_found(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 8)
    with engine.begin() as conn:
        p2, p7 = (
            conn.execute(select(AuditRow.payload).where(AuditRow.seq == n)).scalar_one()
            for n in (2, 7)
        )
        conn.execute(update(AuditRow).where(AuditRow.seq == 2).values(payload=p7))
        conn.execute(update(AuditRow).where(AuditRow.seq == 7).values(payload=p2))
    check = log.verify()
    assert (check.ok, check.first_bad_seq) == (False, 2)


def test_appends_continue_after_verify(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 3)
    assert log.verify().ok
    _fill(log, 3)
    check = log.verify()
    assert check.ok
    assert check.checked == 6
