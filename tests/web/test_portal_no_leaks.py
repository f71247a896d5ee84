"""No personal data in logs or URLs: a check of a generated staff list
through the portal, with every log line captured and searched for the
values in the file."""

from __future__ import annotations

import logging

import pytest
from faker import Faker
from fastapi import FastAPI
from portal_helpers import load_examples, sign_in
from sqlalchemy import Engine

from shareguard import logs
from shareguard.store.audit import AuditLog

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _nino(fake: Faker) -> str:
    first = fake.random_element("ABCEGHJKLMNPRSTWXYZ")
    second = fake.random_element("ABCEGHJKLMNPRSTWXYZ")
    digits = fake.numerify("######")
    return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {fake.random_element('ABCD')}"


def _staff(fake: Faker, n: int = 12) -> tuple[bytes, list[str]]:
    rows = ["Staff No,Forename,Surname,DoB,NI number,Email,Grade"]
    values: list[str] = []
    for i in range(n):
        first, last = fake.first_name(), fake.last_name()
        dob = fake.date_of_birth(minimum_age=20, maximum_age=64).strftime("%d/%m/%Y")
        nino, email = _nino(fake), fake.email()
        rows.append(f"E{1000 + i},{first},{last},{dob},{nino},{email},Band {i % 5 + 2}")
        values += [last, dob, nino, nino.replace(" ", ""), email]
    return ("\n".join(rows) + "\n").encode(), values


def test_check_logs_and_urls_hold_no_values(
    app: FastAPI,
    web_engine: Engine,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = Faker("en_GB")
    fake.seed_instance(1010)
    content, values = _staff(fake)
    load_examples(web_engine)
    logs.configure("json", logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    sender = sign_in(app, "sender")
    responses = [
        sender.post(
            "/check",
            data={"recipients": "bids@bidder.example"},
            files=[("file", ("staff.csv", content, "text/csv"))],
        )
    ]
    result = sender.post(
        "/check.json",
        data={"recipients": "bids@bidder.example"},
        files=[("file", ("staff.csv", content, "text/csv"))],
    ).json()
    approval_id = result["recipients"][0]["approval_id"]
    approver = sign_in(app, "approver")
    responses += [
        sender.get("/submissions"),
        approver.get("/approvals"),
        approver.get(f"/approvals/{approval_id}"),
        approver.post(
            f"/approvals/{approval_id}/decide", data={"decision": "reject", "reason": "no"}
        ),
        sign_in(app, "dpo").get("/audit"),
    ]
    # a failed sign-in must not log the name tried either
    sender.post(
        "/login",
        data={"username": values[0], "password": "x"},
        headers={"accept": "application/json"},
    )
    out, err = capfd.readouterr()
    captured = out + err + caplog.text
    assert "web.check" in captured  # the logs were captured
    links = " ".join(r.headers.get("location", "") for r in responses)
    for r in responses:
        assert r.status_code == 200, r.url
        links += " " + str(r.url)
    payloads = " ".join(str(rec.payload) for rec in AuditLog(web_engine).list(limit=None))
    for value in values:
        assert value not in captured, "a value reached the logs"
        assert value not in links, "a value reached a URL"
        assert value not in payloads, "a value reached the audit trail"
        for r in responses:
            assert value not in r.text
