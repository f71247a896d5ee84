"""The incident pages over the breach service: register, detail with the
clock, affected counts and severity, overrides, status steps, documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from portal_helpers import STAFF, STAFF_VALUES, sign_in
from sqlalchemy import Engine

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _record(app: FastAPI) -> int:
    r = sign_in(app, "sender").post(
        "/check.json",
        data={"recipients": "someone@elsewhere.example"},
        files=[("file", ("staff.csv", STAFF, "text/csv"))],
    )
    return int(r.json()["record_id"])


def test_incident_from_a_recorded_disclosure(app: FastAPI, web_engine: Engine) -> None:
    record = _record(app)
    dpo = sign_in(app, "dpo")
    now = datetime.now(UTC).replace(tzinfo=None)
    opened = dpo.post(
        "/incidents",
        data={
            "title": "Staff list sent to the wrong address",
            "records": str(record),
            "occurred": (now - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
            "discovered": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "time_zone": "UTC",
        },
    )
    assert opened.status_code == 303, opened.text
    url = opened.headers["location"]
    detail = dpo.get(url + ".json").json()
    assert detail["incident"]["clock"]["state"] == "running"
    assert detail["affected"]["counts"]["total"] == 3
    assert detail["severity"]["band"]
    html = dpo.get(url).text
    assert 'id="incident-clock"' in html
    assert 'id="affected-total">3<' in html
    for value in STAFF_VALUES:
        assert value not in html

    listed = dpo.get("/incidents.json").json()["incidents"]
    assert [i["title"] for i in listed] == ["Staff list sent to the wrong address"]

    bad = dpo.post(url + "/factor", data={"factor": "ei", "value": "enormous", "why": "x"})
    assert bad.status_code == 400
    assert 'id="incident-error"' in bad.text
    ok = dpo.post(
        url + "/factor", data={"factor": "malicious", "value": "yes", "why": "Deliberate."}
    )
    assert ok.status_code == 200, ok.text

    doc = dpo.post(url + "/documents", data={"kind": "report", "format": "md"})
    assert doc.status_code == 200
    assert doc.headers["content-disposition"].endswith('-report.md"')
    assert b"Staff list sent to the wrong address" in doc.content

    early_close = dpo.post(url + "/status", data={"step": "close"})
    assert early_close.status_code == 400
    done = dpo.post(url + "/status", data={"step": "not_reported", "why": "Unlikely to harm."})
    assert done.status_code == 200
    assert dpo.get(url + ".json").json()["incident"]["status"] == "not_reported"


def test_opening_needs_real_records_and_times(app: FastAPI) -> None:
    dpo = sign_in(app, "dpo")
    r = dpo.post(
        "/incidents",
        data={"title": "x", "records": "none", "occurred": "soon", "discovered": "later"},
    )
    assert r.status_code == 400
    assert 'id="incident-error"' in r.text
