from __future__ import annotations

import pytest
from sqlalchemy import Engine

from shareguard.store.approvals import ApprovalStore
from shareguard.store.audit import AuditLog
from shareguard.store.db import StoreError
from shareguard.store.quarantine import Quarantine


def test_create_decide_list(engine: Engine) -> None:
    log = AuditLog(engine)
    hold = log.append("check", "alice", {"decision": "hold"})
    qid = Quarantine(engine, bytes(32)).put(b"content")
    store = ApprovalStore(engine)
    a_id = store.create(
        record_id=hold.id,
        sender="Alice@Corp.example",
        recipients=["Bids@Bidder.example", "x@bidder.example"],
        quarantine_id=qid,
        agreement_id="DSA-17",
        agreement_version=2,
        summary={"decision": "hold", "data_subjects": 318},
    )
    b_id = store.create(record_id=hold.id, sender="alice@corp.example", recipients=["y@z.example"])
    a, b = store.get(a_id), store.get(b_id)
    assert a is not None
    assert b is not None
    assert a.record_id == hold.seq
    assert a.summary == {"decision": "hold", "data_subjects": 318}
    assert b.summary == {}
    assert a.status == "held"
    assert a.sender == "alice@corp.example"
    assert a.recipients == ("bids@bidder.example", "x@bidder.example")
    assert (a.agreement_id, a.agreement_version, a.quarantine_id) == ("DSA-17", 2, qid)
    assert a.created_at.tzinfo is not None
    assert a.decided_at is None
    assert store.get(a.id) == a
    assert store.get("nope") is None
    assert [x.id for x in store.list()] == [a.id, b.id]

    done = store.set_decision(a.id, "approved", "bob@corp.example", "aggregated only")
    assert (done.status, done.decided_by, done.reason) == (
        "approved",
        "bob@corp.example",
        "aggregated only",
    )
    assert done.decided_at is not None
    assert done.decided_at.tzinfo is not None
    assert [x.id for x in store.list(status="held")] == [b.id]
    assert [x.id for x in store.list(status="approved")] == [a.id]

    # A second reviewer cannot decide an already-decided item.
    with pytest.raises(StoreError, match="is approved, not held"):
        store.set_decision(a.id, "rejected", "carol", "no")
    released = store.set_decision(a.id, "released", "system", "sent", expect_status="approved")
    assert released.status == "released"
    with pytest.raises(StoreError, match="decision must be"):
        store.set_decision(b.id, "held", "carol", "x")
    with pytest.raises(StoreError, match="no held item"):
        store.set_decision("0" * 32, "rejected", "carol", "x")


def test_list_by_sender(engine: Engine) -> None:
    record = AuditLog(engine).append("check", "alice", {"decision": "hold"})
    store = ApprovalStore(engine)
    mine = store.create(
        record_id=record.id, sender="Alice@Corp.example", recipients=["a@b.example"]
    )
    store.create(record_id=record.id, sender="carol@corp.example", recipients=["a@b.example"])
    assert [x.id for x in store.list(sender="alice@corp.example")] == [mine]
    assert store.list(sender="dave@corp.example") == []
    assert len(store.list()) == 2
