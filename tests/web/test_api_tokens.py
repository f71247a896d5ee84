"""The machine API (/v1/scan, /v1/check) needs a bearer token or a session;
a token acts as its user, opens nothing but /v1/, and a sender can only
check what they send themselves."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import STAFF, STAFF_VALUES, address, load_examples
from sqlalchemy import Engine
from typer.testing import CliRunner

from shareguard.cli import app as cli
from shareguard.web.auth import API_TOKEN_PREFIX, UserError

NOTE = ("note.txt", b"Patient Grace Okafor, NHS number 943 476 5919\n", "text/plain")


def _bearer(app: FastAPI, user: str, label: str = "tests") -> TestClient:
    token = app.state.portal.users.issue_token(user, label)
    assert token.startswith(API_TOKEN_PREFIX)
    return TestClient(app, headers={"authorization": f"Bearer {token}"}, follow_redirects=False)


def _check(client: TestClient, sender: str | None) -> object:
    data: dict[str, object] = {"to": ["tenders@bidder.example"]}
    if sender is not None:
        data["from"] = sender
    return client.post("/v1/check", files=[("file", ("staff.csv", STAFF, "text/csv"))], data=data)


def test_no_token_no_scan(app: FastAPI) -> None:
    anonymous = TestClient(app, follow_redirects=False)
    assert anonymous.post("/v1/scan", files=[("file", NOTE)]).status_code == 401
    wrong = TestClient(app, headers={"authorization": f"Bearer {API_TOKEN_PREFIX}forged"})
    assert wrong.post("/v1/scan", files=[("file", NOTE)]).status_code == 401


def test_token_scans_and_is_refused_outside_the_api(app: FastAPI) -> None:
    client = _bearer(app, "sender")
    r = client.post("/v1/scan", files=[("file", NOTE)])
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["files"] == 1
    # a token is not a way into the portal, even for an admin
    assert client.get("/submissions.json").status_code == 403
    assert _bearer(app, "admin").get("/audit.json").status_code == 403


def test_check_records_the_token_users_address(app: FastAPI, web_engine: Engine) -> None:
    load_examples(web_engine)
    client = _bearer(app, "sender")
    r = _check(client, None)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    out = r.json()  # type: ignore[attr-defined]
    assert out["decision"] == "hold"
    for value in STAFF_VALUES:
        assert value not in r.text  # type: ignore[attr-defined]
    from shareguard.store.audit import AuditLog

    record = AuditLog(web_engine).get(out["record_id"])
    assert record is not None
    assert record.payload["sender"] == address("sender")


def test_only_an_admin_checks_for_someone_else(app: FastAPI, web_engine: Engine) -> None:
    load_examples(web_engine)
    assert _check(_bearer(app, "sender"), address("dpo")).status_code == 403  # type: ignore[attr-defined]
    own = _check(_bearer(app, "sender", "second"), address("sender").upper())
    assert own.status_code == 200  # type: ignore[attr-defined]
    relay = _check(_bearer(app, "admin"), "someone@council.example")
    assert relay.status_code == 200  # type: ignore[attr-defined]


def test_revoked_token_and_disabled_user_are_refused(app: FastAPI) -> None:
    users = app.state.portal.users
    client = _bearer(app, "sender", "relay")
    assert client.post("/v1/scan", files=[("file", NOTE)]).status_code == 200
    users.revoke_token("sender", "relay")
    assert client.post("/v1/scan", files=[("file", NOTE)]).status_code == 401
    other = _bearer(app, "approver")
    users.set_disabled("approver", True)
    assert other.post("/v1/scan", files=[("file", NOTE)]).status_code == 401
    listed = users.tokens("sender")
    assert [(t.label, t.revoked_at is not None) for t in listed] == [("relay", True)]


def test_token_labels_are_unique_while_live(app: FastAPI) -> None:
    users = app.state.portal.users
    users.issue_token("sender", "relay")
    with pytest.raises(UserError, match="already has a live token"):
        users.issue_token("sender", "relay")
    users.revoke_token("sender", "relay")
    users.issue_token("sender", "relay")  # a replacement after revoking
    with pytest.raises(UserError, match="no live token"):
        users.revoke_token("sender", "nothing")
    with pytest.raises(UserError, match="no user"):
        users.issue_token("nobody", "relay")


def test_session_on_the_api_still_needs_the_csrf_token(
    app: FastAPI, clients: dict[str | None, TestClient]
) -> None:
    signed_in = clients["sender"]
    assert signed_in.post("/v1/scan", files=[("file", NOTE)]).status_code == 200
    del signed_in.headers["x-csrf-token"]
    assert signed_in.post("/v1/scan", files=[("file", NOTE)]).status_code == 403


def test_tokens_from_the_cli(app: FastAPI) -> None:
    runner = CliRunner()
    issued = runner.invoke(cli, ["users", "token", "sender", "--label", "mail-relay"])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert token.startswith(API_TOKEN_PREFIX)
    listed = runner.invoke(cli, ["users", "tokens", "sender", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert token not in listed.stdout
    assert '"label": "mail-relay"' in listed.stdout
    client = TestClient(app, headers={"authorization": f"Bearer {token}"})
    assert client.post("/v1/scan", files=[("file", NOTE)]).status_code == 200
    revoked = runner.invoke(cli, ["users", "revoke-token", "sender", "--label", "mail-relay"])
    assert revoked.exit_code == 0, revoked.output
    assert client.post("/v1/scan", files=[("file", NOTE)]).status_code == 401
    again = runner.invoke(cli, ["users", "revoke-token", "sender", "--label", "mail-relay"])
    assert again.exit_code == 2
