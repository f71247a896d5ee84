"""The sender-to-approver flow through the portal, on SQLite and PostgreSQL:
check a staff list to a bidder, see it held with the people count, request
approval, another user approves, the sender's view shows it."""

from __future__ import annotations

import re

from fastapi import FastAPI
from portal_helpers import STAFF, STAFF_VALUES, address, load_examples, sign_in
from sqlalchemy import Engine

from shareguard.store.audit import AuditLog

BIDDER = "bids@bidder.example"


def _check(app: FastAPI, recipients: str, *, accept: str = "application/json") -> dict:  # type: ignore[type-arg]
    sender = sign_in(app, "sender")
    r = sender.post(
        "/check.json" if accept == "application/json" else "/check",
        data={"recipients": recipients},
        files=[("file", ("Beds_establishment_list.csv", STAFF, "text/csv"))],
    )
    assert r.status_code == 200, r.text
    return r.json() if accept == "application/json" else {"html": r.text}


def test_held_request_approve_and_the_sender_sees_it(app: FastAPI, web_engine: Engine) -> None:
    load_examples(web_engine)
    result = _check(app, BIDDER)
    assert result["decision"] == "hold"
    (r,) = result["recipients"]
    assert r["address"] == BIDDER
    assert r["agreement"] == {"id": "DSA-17", "version": 1}
    assert result["found"]["data_subjects"] == 3
    assert result["found"]["entities"]["UK_NINO"] == 3
    assert r["way_forward"]["kind"] == "send_profile"
    approval_id = r["approval_id"]
    assert approval_id

    sender = sign_in(app, "sender")
    rows = sender.get("/submissions/rows").text
    assert f'id="submission-{approval_id}"' in rows
    assert 'data-status="held"' in rows
    asked = sender.post(
        f"/submissions/{approval_id}/request",
        data={"justification": "The bidder needs to price the transfer."},
    )
    assert asked.status_code == 200
    assert "Approval requested" in asked.text
    again = sender.post(f"/submissions/{approval_id}/request", data={"justification": "again"})
    assert again.status_code == 400

    approver = sign_in(app, "approver")
    queue = approver.get("/approvals.json").json()
    (item,) = queue["held"]
    assert item["id"] == approval_id
    assert item["requested"] is True
    assert item["justification"] == "The bidder needs to price the transfer."
    assert item["data_subjects"] == 3
    assert item["agreement"] == "DSA-17"
    assert item["reasons"]
    detail = approver.get(f"/approvals/{approval_id}.json").json()
    previews = [p["preview"] for p in detail["preview"]]
    assert previews
    assert "*" in "".join(previews)
    page = approver.get(f"/approvals/{approval_id}").text
    assert 'id="decide-form"' in page
    for value in STAFF_VALUES:
        assert value not in page
        assert value not in str(detail)

    done = approver.post(
        f"/approvals/{approval_id}/decide",
        data={"decision": "approve", "reason": "Checked with HR: figures agreed."},
    )
    assert done.status_code == 200
    assert 'id="approval-status">approved<' in done.text
    after = approver.get("/approvals.json").json()
    assert after["held"] == []
    (decided,) = after["decided"]
    assert (decided["id"], decided["status"]) == (approval_id, "approved")
    assert decided["decided_by"] == address("approver")
    rows = sender.get("/submissions/rows").text
    assert 'data-status="approved"' in rows
    assert "approver@council.example" in rows
    kinds = [rec.kind for rec in AuditLog(web_engine).list(limit=10)]
    assert kinds[:3] == ["approval", "approval_request", "check"]


def test_four_eyes_refusal_is_shown(app: FastAPI, web_engine: Engine) -> None:
    load_examples(web_engine)
    approval_id = _check(app, BIDDER)["recipients"][0]["approval_id"]
    # An approver account that sends as the same address as the sender.
    app.state.portal.users.add("sender-too", "approver", None, email=address("sender"))
    me = sign_in(app, "sender-too")
    r = me.post(f"/approvals/{approval_id}/decide", data={"decision": "approve", "reason": "mine"})
    assert r.status_code == 409
    assert "four-eyes" in r.text
    assert 'id="approval-status">held<' in r.text


def test_no_agreement_says_contact_the_dpo(app: FastAPI, web_engine: Engine) -> None:
    result = _check(app, "someone@elsewhere.example")
    (r,) = result["recipients"]
    assert r["decision"] == "hold"
    assert r["way_forward"]["kind"] == "no_agreement"
    assert "Data Protection Officer" in r["way_forward"]["text"]


def test_html_result_names_counts_and_types_never_values(app: FastAPI, web_engine: Engine) -> None:
    load_examples(web_engine)
    sender = sign_in(app, "sender")
    upload = [("file", ("Beds_establishment_list.csv", STAFF, "text/csv"))]
    refused = sender.post("/check", data={"recipients": f"{BIDDER}, not-an-address"}, files=upload)
    assert refused.status_code == 400  # refused before any scan or record
    assert "is not an e-mail address" in refused.text
    assert AuditLog(web_engine).list() == []
    r = sender.post(
        "/check",
        data={"recipients": BIDDER},
        files=[("file", ("Beds_establishment_list.csv", STAFF, "text/csv"))],
    )
    assert r.status_code == 200
    assert re.search(r'id="found-people">3<', r.text)
    assert "National Insurance number: 3" in r.text
    assert 'id="request-form-1"' in r.text
    assert 'id="recipient-1-decision" class="badge hold">hold<' in r.text
    for value in STAFF_VALUES:
        assert value not in r.text


def test_the_workforce_profile_instead_for_its_sender_only(
    app: FastAPI, web_engine: Engine
) -> None:
    load_examples(web_engine)
    (r,) = _check(app, BIDDER)["recipients"]
    url = r["minimised_url"]
    assert url == f"/submissions/{r['approval_id']}/minimised"
    got = sign_in(app, "sender").get(url)
    assert got.status_code == 200
    assert got.headers["content-disposition"].startswith("attachment;")
    assert b"Headcount" in got.content
    for value in STAFF_VALUES:
        assert value.encode() not in got.content
    # the cells under the agreement's minimum (10) are hidden, not shown as 1s
    assert b"Band 5,,1" not in got.content
    assert sign_in(app, "approver").get(url).status_code == 404
