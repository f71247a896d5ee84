"""The re-injection ledger on SQLite and PostgreSQL, and the message key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, delete

from shareguard.gateway.ledger import (
    HELD,
    PASSED,
    REJECTED,
    RELEASING,
    Ledger,
    Outcome,
    message_id,
    message_key,
)
from shareguard.store.approvals import ApprovalStore
from shareguard.store.audit import AuditLog
from shareguard.store.db import session_scope
from shareguard.store.models import GatewayDelivery

RAW = (
    b"Received: from x by y id ABC\r\nMessage-ID: <m1@council.example>\r\nSubject: s\r\n\r\nhi\r\n"
)


@pytest.fixture
def ledger(engine: Engine) -> Ledger:
    with session_scope(engine) as s:  # the shared PostgreSQL database is reused
        s.execute(delete(GatewayDelivery))
    return Ledger(engine)


def test_message_id_is_read_from_the_header_block_even_folded() -> None:
    assert message_id(RAW) == b"<m1@council.example>"
    folded = b"Subject: s\r\nMessage-Id:\r\n <m2@x.example>\r\n\r\nbody\r\nMessage-ID: <no>\r\n"
    assert message_id(folded) == b"<m2@x.example>"
    assert message_id(b"Subject: s\r\n\r\nMessage-ID: <in-body>\r\n") == b""


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_message_key_changes_with_any_byte(a: bytes, b: bytes) -> None:
    assert (message_key(RAW + a) == message_key(RAW + b)) == (a == b)


def test_recorded_outcomes_answer_a_retry(ledger: Ledger) -> None:
    key = message_key(RAW)
    assert ledger.entries(key, ["a@x.example"]) == {}
    ledger.record(key, "hr@council.example", [Outcome("a@x.example", PASSED, 7)])
    ledger.record(key, "hr@council.example", [Outcome("b@x.example", HELD, 7, "ap1")])
    got = ledger.entries(key, ["a@x.example", "b@x.example", "c@x.example"])
    assert {r: e.state for r, e in got.items()} == {"a@x.example": PASSED, "b@x.example": HELD}
    assert got["b@x.example"].approval_id == "ap1"
    assert got["a@x.example"].record_id == 7


def test_move_is_compare_and_set(ledger: Ledger) -> None:
    key = message_key(RAW)
    ledger.record(key, "", [Outcome("b@x.example", HELD, 7, "ap1")])
    assert ledger.move(key, "b@x.example", HELD, RELEASING) is True
    assert ledger.move(key, "b@x.example", HELD, RELEASING) is False  # someone else was first
    assert [e.recipient for e in ledger.in_state(RELEASING)] == ["b@x.example"]


def test_untold_and_notice_marks(ledger: Ledger) -> None:
    key = message_key(RAW)
    ledger.record(key, "hr@council.example", [Outcome("b@x.example", HELD, 7, "ap1")])
    assert [e.recipient for e in ledger.untold(HELD)] == ["b@x.example"]
    ledger.mark_notice(key, ["b@x.example"], HELD)
    assert ledger.untold(HELD) == []
    ledger.move(key, "b@x.example", HELD, REJECTED)
    assert [e.recipient for e in ledger.untold(REJECTED)] == ["b@x.example"]


def test_decided_holds_joins_the_approval_status(ledger: Ledger, engine: Engine) -> None:
    record = AuditLog(engine).append("check", "gateway", {"decision": "hold"})
    store = ApprovalStore(engine)
    ids = [
        store.create(record_id=record.id, sender="hr@council.example", recipients=[r])
        for r in ("a@x.example", "b@x.example")
    ]
    key = message_key(RAW)
    ledger.record(
        key,
        "hr@council.example",
        [
            Outcome("a@x.example", HELD, record.id, ids[0]),
            Outcome("b@x.example", HELD, record.id, ids[1]),
        ],
    )
    assert ledger.decided_holds() == []
    store.set_decision(ids[0], "approved", "dpo@council.example", "fine")
    ((entry, status),) = ledger.decided_holds()
    assert (entry.recipient, status) == ("a@x.example", "approved")
