"""Helpers shared by the portal tests."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shareguard.policy.agreements import load_agreement_files
from shareguard.store.agreements import AgreementStore
from shareguard.web.auth import UserStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agreements"
PASSWORD = "a long test password"
WEB_TABLES = ("api_tokens", "web_sessions", "web_login_failures", "web_users")

STAFF = (
    b"Staff No,Forename,Surname,DoB,NI number,Grade\n"
    b"E1001,Grace,Okafor,14/02/1961,AB 12 34 56 C,Band 5\n"
    b"E1002,Tomasz,Nowak,03/07/1975,CE 98 76 54 A,Band 6\n"
    b"E1003,Priya,Shah,21/11/1988,JG 10 32 54 D,Band 4\n"
)
STAFF_VALUES = ("AB 12 34 56 C", "AB123456C", "CE 98 76 54 A", "Okafor", "14/02/1961")


def address(role: str) -> str:
    return f"{role}@council.example"


def load_examples(engine: Engine) -> None:
    store = AgreementStore(engine)
    for item in load_agreement_files(sorted(EXAMPLES.glob("*.yaml"))):
        a = item.agreement
        store.add_version(a.id, item.source_text, a.model_dump(mode="json"), "dpo@council.example")


def sign_in(app: FastAPI, name: str | None, **client_kw: object) -> TestClient:
    """A client whose session was started directly (no password hashing per
    test); ``client.headers`` carries the CSRF token as htmx sends it."""
    client = TestClient(app, base_url="https://testserver", follow_redirects=False, **client_kw)  # type: ignore[arg-type]
    if name is None:
        return client
    users: UserStore = app.state.portal.users
    user = users.get(name)
    assert user is not None
    token, session = users.start_session(user, app.state.portal.web)
    client.cookies.set("sg_session", token)
    client.headers["x-csrf-token"] = session.csrf_token
    return client


def login_token(client: TestClient) -> str:
    r = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert found, r.text
    return found.group(1)
