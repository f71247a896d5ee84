"""Every page and its JSON twin: agreements, audit, dashboard, users."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi import FastAPI
from portal_helpers import STAFF, STAFF_VALUES, load_examples, sign_in
from sqlalchemy import Engine

from shareguard.policy.lifecycle import status_and_reminders
from shareguard.store.audit import AuditLog

sqlite_only = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

GOOD = """\
id: DSA-90
title: Test agreement
parties: {us: Example Council, them: Example Partner}
recipients: ["@partner.example"]
purpose: Testing the portal.
lawful_basis: public_task
data_items: [headcount, grade]
valid_from: 2026-01-01
valid_until: 2027-12-31
review_date: 2026-12-01
retention: {period: 6 months, deletion_duty: Delete it.}
approvers: [Data Protection Officer]
"""


def _checks(app: FastAPI) -> None:
    sender = sign_in(app, "sender")
    for to in ("bids@bidder.example", "someone@elsewhere.example"):
        r = sender.post(
            "/check.json",
            data={"recipients": to},
            files=[("file", ("staff.csv", STAFF, "text/csv"))],
        )
        assert r.status_code == 200


@sqlite_only
def test_agreement_pages_and_twins(app: FastAPI, web_engine: Engine) -> None:
    load_examples(web_engine)
    dpo = sign_in(app, "dpo")
    listed = dpo.get("/agreements.json").json()["agreements"]
    assert {a["id"] for a in listed} >= {"DSA-17"}
    assert 'id="agreement-DSA-17"' in dpo.get("/agreements").text
    one = dpo.get("/agreements/DSA-17.json").json()
    assert one["version"] == 1
    assert one["aggregates_only"] is True
    assert "DSA-17" in dpo.get("/agreements/DSA-17").text
    assert 'id="agreement-text"' in dpo.get("/agreements/DSA-17/edit").text
    assert dpo.get("/agreements/NOPE.json").status_code == 404

    saved = dpo.post("/agreements", data={"source": GOOD})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/agreements/DSA-90"
    changed = GOOD.replace("Testing the portal.", "Testing the portal again.")
    again = dpo.post("/agreements.json", data={"source": changed})
    assert again.json()["saved"] == [{"id": "DSA-90", "version": 2}]
    diff = dpo.get("/agreements/DSA-90/diff.json").json()
    kinds = {line["kind"] for line in diff["lines"]}
    assert {"add", "del"} <= kinds
    assert any("again" in line["text"] for line in diff["lines"] if line["kind"] == "add")
    assert 'class="add"' in dpo.get("/agreements/DSA-90/diff?old=1&new=2").text


@sqlite_only
def test_agreement_errors_are_shown_at_their_line(app: FastAPI) -> None:
    dpo = sign_in(app, "dpo")
    bad = GOOD.replace("lawful_basis: public_task", "lawful_basis: because")
    r = dpo.post("/agreements", data={"source": bad})
    assert r.status_code == 400
    assert 'id="agreement-problems"' in r.text
    assert '<li id="line-6" class="bad">' in r.text
    twin = dpo.post("/agreements.json", data={"source": bad})
    (problem,) = twin.json()["problems"]
    assert problem["line"] == 6
    upload = dpo.post(
        "/agreements", files=[("file", ("a.yaml", bad.encode(), "text/yaml"))], data={}
    )
    assert upload.status_code == 400


def test_reminders_for_expiry_and_review() -> None:
    from datetime import date

    parsed = {"valid_from": "2026-01-01", "valid_until": "2026-12-31", "review_date": "2026-11-01"}
    status, reminders = status_and_reminders(parsed, date(2026, 11, 25))
    assert status == "in force"
    assert any("expires on 2026-12-31" in r for r in reminders)
    assert any("review was due" in r for r in reminders)
    assert status_and_reminders(parsed, date(2027, 1, 2))[0] == "expired"


@sqlite_only
def test_audit_search_pages_export_and_verify(app: FastAPI, web_engine: Engine) -> None:
    load_examples(web_engine)
    _checks(app)
    dpo = sign_in(app, "dpo")
    everything = dpo.get("/audit.json").json()
    assert everything["total"] == 2
    assert [r["seq"] for r in everything["records"]] == [2, 1]
    assert 'id="audit-table"' in dpo.get("/audit").text
    found = dpo.post("/audit.json", data={"recipient": "@bidder.example"}).json()
    assert [r["recipients"] for r in found["records"]] == [["bids@bidder.example"]]
    by_agreement = dpo.post("/audit.json", data={"agreement": "DSA-17"}).json()
    assert [r["seq"] for r in by_agreement["records"]] == [1]
    none = dpo.post("/audit.json", data={"sender": "nobody@council.example"}).json()
    assert none["records"] == []
    bad = dpo.post("/audit", data={"since": "yesterday"})
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.text

    exported = dpo.post("/audit.csv", data={"decision": "hold"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][0] == "seq"
    assert len(rows) == 3
    for value in STAFF_VALUES:
        assert value not in exported.text

    chain = dpo.get("/audit/verify.json").json()
    assert chain["ok"] is True
    assert chain["checked"] == 2
    assert 'data-ok="true"' in dpo.get("/audit/verify").text


@sqlite_only
def test_audit_pages_by_keyset(app: FastAPI, web_engine: Engine) -> None:
    log = AuditLog(web_engine)
    for i in range(60):
        log.append("check", "a@council.example", {"sender": "a@council.example", "n": i})
    dpo = sign_in(app, "dpo")
    first = dpo.get("/audit.json").json()
    assert len(first["records"]) == 50
    assert first["next_before"] == 11
    second = dpo.post("/audit.json", data={"before": str(first["next_before"])}).json()
    assert [r["seq"] for r in second["records"]] == list(range(10, 0, -1))
    assert second["next_before"] is None
    assert 'id="audit-next"' in dpo.get("/audit").text


@sqlite_only
def test_dashboard_and_twin(app: FastAPI, web_engine: Engine) -> None:
    load_examples(web_engine)
    _checks(app)
    dpo = sign_in(app, "dpo")
    data = dpo.get("/dashboard.json").json()
    assert data["held_waiting"] == 2
    assert sum(d["hold"] for d in data["decisions_per_day"]) == 2
    assert {b["label"] for b in data["top_recipients"]} == {
        "bids@bidder.example",
        "someone@elsewhere.example",
    }
    html = dpo.get("/dashboard").text
    assert 'id="chart-decisions"' in html
    assert "<svg" in html


@sqlite_only
def test_users_page_and_account(app: FastAPI) -> None:
    admin = sign_in(app, "admin")
    names = {u["name"] for u in admin.get("/users.json").json()["users"]}
    assert names >= {"sender", "approver", "dpo", "admin"}
    assert "password" not in str(admin.get("/users.json").json()).replace("password_expired", "")
    me = sign_in(app, "approver").get("/account.json").json()
    assert me["user"]["role"] == "approver"


@sqlite_only
def test_home_sends_each_role_to_its_page(app: FastAPI) -> None:
    expected = {"sender": "/check", "approver": "/approvals", "dpo": "/dashboard"}
    for role, target in expected.items():
        assert sign_in(app, role).get("/").headers["location"] == target


def test_a_crash_answers_500_with_the_security_headers_and_no_detail(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("AB 12 34 56 C")  # as if a value had reached a message

    monkeypatch.setattr(app.state.portal.disclosures, "policy", broken)
    with sign_in(app, "dpo", raise_server_exceptions=False) as client:
        r = client.get("/dashboard")
    assert r.status_code == 500
    assert "AB 12 34 56 C" not in r.text
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
