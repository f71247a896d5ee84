"""Signing in and out, sessions, CSRF, rate limits, headers, SSO."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import PASSWORD, login_token, sign_in
from sqlalchemy import Engine, update

from shareguard.config import WebSettings
from shareguard.store.models import WebSessionRow
from shareguard.web.auth import UserError, UserStore
from shareguard.web.security import CSP

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _client(app: FastAPI, **kw: object) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False, **kw)  # type: ignore[arg-type]


def _login(client: TestClient, name: str, password: str, next_: str = "/") -> httpx.Response:
    token = login_token(client)
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token, "next": next_},
    )


def test_sign_in_sets_a_hardened_cookie_and_signs_out(app: FastAPI) -> None:
    client = _client(app)
    r = _login(client, "sender", PASSWORD, "/submissions")
    assert r.status_code == 303
    assert r.headers["location"] == "/submissions"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "sg_session=" in v)
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie
    assert client.get("/check").status_code == 200
    page = client.get("/check").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/check").status_code == 303


def test_wrong_password_and_unknown_user_look_the_same(app: FastAPI) -> None:
    client = _client(app)
    wrong = _login(client, "sender", "not the password")
    nobody = _login(client, "nobody", "not the password")
    assert wrong.status_code == nobody.status_code == 401
    assert "Wrong user name or password" in wrong.text


def test_sign_in_form_needs_its_token(app: FastAPI) -> None:
    client = _client(app)
    r = client.post("/login", data={"username": "sender", "password": PASSWORD})
    assert r.status_code == 400
    assert "sg_session" not in r.headers.get("set-cookie", "")


def test_open_redirects_are_refused(app: FastAPI) -> None:
    r = _login(_client(app), "sender", PASSWORD, "//evil.example/x")
    assert r.headers["location"] == "/"


def test_sign_in_is_rate_limited_per_user_and_per_address(app: FastAPI) -> None:
    client = _client(app)
    for _ in range(5):
        assert _login(client, "sender", "guess").status_code == 401
    # The right password is refused too while the limit holds.
    limited = _login(client, "sender", PASSWORD)
    assert limited.status_code == 429
    # Another account from the same address: limited by address.
    assert _login(client, "approver", PASSWORD).status_code == 429
    # The same account from elsewhere: limited by account.
    other = _client(app, client=("198.51.100.7", 4000))
    assert _login(other, "sender", PASSWORD).status_code == 429
    assert _login(other, "dpo", PASSWORD).status_code == 303


def test_state_changes_need_the_csrf_token(app: FastAPI) -> None:
    client = sign_in(app, "sender")
    good = client.headers.pop("x-csrf-token")
    body = {"justification": "x"}
    assert client.post("/submissions/abc/request", data=body).status_code == 403
    bad = {"x-csrf-token": "forged"}
    assert client.post("/submissions/abc/request", data=body, headers=bad).status_code == 403
    forged_field = {**body, "csrf_token": "forged"}
    assert client.post("/submissions/abc/request", data=forged_field).status_code == 403
    with_field = {**body, "csrf_token": good}
    assert (
        client.post("/submissions/abc/request", data=with_field).status_code == 400
    )  # no such item
    ok = client.post("/submissions/abc/request", data=body, headers={"x-csrf-token": good})
    assert ok.status_code == 400
    # JSON twins with the session cookie need it too.
    r = client.post("/audit.json", data={"sender": "x"})
    assert r.status_code == 403


def test_security_headers_on_every_response(app: FastAPI) -> None:
    client = _client(app)
    for path in ("/login", "/static/app.css", "/check", "/healthz"):
        r = client.get(path)
        assert r.headers["content-security-policy"] == CSP
        assert "script-src 'self'" in CSP
        assert "frame-ancestors 'none'" in CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
    assert client.get("/login").headers["cache-control"] == "no-store"


def test_no_inline_scripts_or_styles_in_pages(app: FastAPI) -> None:
    client = sign_in(app, "admin")
    for path in (
        "/login",
        "/check",
        "/submissions",
        "/approvals",
        "/agreements",
        "/agreements/new",
        "/audit",
        "/dashboard",
        "/users",
        "/account",
    ):
        html = client.get(path).text
        scripts = re.findall(r"<script[^>]*>", html)
        assert scripts == ['<script src="/static/htmx.min.js" defer>'], path
        assert "<style" not in html, path
        assert " style=" not in html, path
        assert " onclick=" not in html, path
        assert " hx-on" not in html, path


def test_idle_and_absolute_expiry(app: FastAPI, web_engine: Engine) -> None:
    users = UserStore(web_engine)
    web = WebSettings(session_idle_minutes=30, session_max_hours=12)
    user = users.get("sender")
    assert user is not None
    token, _ = users.start_session(user, web)
    now = datetime.now(UTC)
    assert users.session(token, web, now + timedelta(minutes=29)) is not None
    # used at 29 minutes, so idle counts from there
    assert users.session(token, web, now + timedelta(minutes=50)) is not None
    assert users.session(token, web, now + timedelta(minutes=120)) is None
    token, _ = users.start_session(user, web)
    for minutes in range(25, 12 * 60, 25):  # used every 25 minutes: never idle
        assert users.session(token, web, now + timedelta(minutes=minutes)) is not None
    assert users.session(token, web, now + timedelta(hours=12, minutes=1)) is None


def test_an_idle_session_is_signed_out_over_http(app: FastAPI, web_engine: Engine) -> None:
    client = sign_in(app, "sender")
    assert client.get("/check").status_code == 200
    with web_engine.begin() as conn:
        conn.execute(
            update(WebSessionRow).values(last_seen_at=datetime.now(UTC) - timedelta(hours=1))
        )
    r = client.get("/check")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")
    assert client.get("/submissions.json").status_code == 401


def test_disabling_a_user_ends_their_sessions(app: FastAPI, web_engine: Engine) -> None:
    client = sign_in(app, "sender")
    UserStore(web_engine).set_disabled("sender", True)
    assert client.get("/check").status_code == 303
    assert _login(_client(app), "sender", PASSWORD).status_code == 401


def test_one_time_password_must_be_changed_first(app: FastAPI, web_engine: Engine) -> None:
    users = UserStore(web_engine)
    users.add(
        "newbie", "sender", "one time password!", email="newbie@council.example", temporary=True
    )
    client = _client(app)
    r = _login(client, "newbie", "one time password!", "/check")
    assert r.headers["location"] == "/account"
    assert client.get("/check").headers["location"] == "/account"
    assert client.get("/submissions.json").status_code == 403
    page = client.get("/account").text
    assert 'id="password-expired"' in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    short = client.post(
        "/account/password",
        data={
            "current": "one time password!",
            "new": "short",
            "repeat": "short",
            "csrf_token": token,
        },
    )
    assert short.status_code == 400
    done = client.post(
        "/account/password",
        data={
            "current": "one time password!",
            "new": "my own long password",
            "repeat": "my own long password",
            "csrf_token": token,
        },
    )
    assert done.status_code == 303
    assert client.get("/check").status_code == 303  # signed out: sign in again
    assert _login(_client(app), "newbie", "my own long password").status_code == 303


def test_user_rules(web_engine: Engine) -> None:
    users = UserStore(web_engine)
    with pytest.raises(UserError, match="role"):
        users.add("x@council.example", "owner", PASSWORD)
    with pytest.raises(UserError, match="12 characters"):
        users.add("x@council.example", "sender", "short")
    with pytest.raises(UserError, match="e-mail"):
        users.add("plainname", "sender", PASSWORD)
    users.add("x@council.example", "sender", PASSWORD)
    with pytest.raises(UserError, match="already"):
        users.add("x@council.example", "sender", PASSWORD)


def test_cookie_is_not_secure_only_for_plain_http_on_loopback(app: FastAPI) -> None:
    local = TestClient(app, base_url="http://127.0.0.1:8080", follow_redirects=False)
    r = _login(local, "sender", PASSWORD)
    assert "Secure" not in r.headers["set-cookie"]
    # Anywhere else, plain http gets Secure cookies (which it then cannot use).
    public = TestClient(app, base_url="http://portal.council.example", follow_redirects=False)
    assert "Secure" in public.get("/login").headers["set-cookie"]


def test_sso_header_only_from_trusted_proxies(app: FastAPI) -> None:
    portal = app.state.portal
    portal.settings = portal.settings.model_copy(
        update={"web": WebSettings(sso_header="X-Remote-User", trusted_proxies=["10.0.0.0/8"])}
    )
    header = {"x-remote-user": "approver"}
    untrusted = _client(app, client=("192.0.2.9", 5000))
    assert untrusted.get("/approvals", headers=header).status_code == 303
    proxy = _client(app, client=("10.1.2.3", 5000))
    r = proxy.get("/approvals", headers=header)
    assert r.status_code == 200
    assert "sg_session=" in r.headers["set-cookie"]
    assert proxy.get("/approvals", headers={"x-remote-user": "nobody"}).status_code == 303
    # the header names who it is: a session cookie of another user does not win
    assert proxy.get("/dashboard", headers=header).status_code == 403


def test_htmx_poll_after_expiry_redirects_the_page_not_the_fragment(app: FastAPI) -> None:
    htmx = {"hx-request": "true", "hx-current-url": "https://testserver/submissions"}
    r = _client(app).get("/submissions/rows", headers=htmx)
    assert r.status_code == 401
    assert r.headers["hx-redirect"] == "/login?next=/submissions"


def test_posts_from_another_site_are_refused(app: FastAPI) -> None:
    client = _client(app)
    token = login_token(client)
    form = {"username": "sender", "password": PASSWORD, "csrf_token": token}
    evil = {"origin": "https://evil.example"}
    assert client.post("/login", data=form, headers=evil).status_code == 403
    as_json = {**evil, "accept": "application/json"}
    assert client.post("/login", data=form, headers=as_json).status_code == 403
    same = {"origin": "https://testserver"}
    assert client.post("/login", data=form, headers=same).status_code == 303


def test_json_clients_sign_in_and_send_the_token_as_a_header(app: FastAPI) -> None:
    client = _client(app, headers={"accept": "application/json"})
    r = client.post("/login", data={"username": "dpo", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["role"] == "dpo"
    assert "sg_session" in r.headers["set-cookie"]
    assert client.post("/audit.json", data={"kind": "check"}).status_code == 403
    found = client.post(
        "/audit.json", data={"kind": "check"}, headers={"x-csrf-token": body["csrf_token"]}
    )
    assert found.status_code == 200
    assert found.json()["records"] == []


def test_the_limit_counts_the_browser_behind_a_trusted_proxy(app: FastAPI) -> None:
    portal = app.state.portal
    portal.settings = portal.settings.model_copy(
        update={"web": WebSettings(trusted_proxies=["10.0.0.5/32"])}
    )
    proxy = _client(app, client=("10.0.0.5", 443))
    one = {"x-forwarded-for": "203.0.113.1"}
    for n in range(5):
        token = login_token(proxy)
        form = {"username": f"guess{n}", "password": "x", "csrf_token": token}
        assert proxy.post("/login", data=form, headers=one).status_code == 401
    token = login_token(proxy)
    form = {"username": "dpo", "password": PASSWORD, "csrf_token": token}
    assert proxy.post("/login", data=form, headers=one).status_code == 429
    # another browser behind the same proxy is not locked out
    other = {"x-forwarded-for": "203.0.113.2"}
    form["csrf_token"] = login_token(proxy)
    assert proxy.post("/login", data=form, headers=other).status_code == 303
    # a forged X-Forwarded-For from an untrusted peer is ignored
    direct = _client(app, client=("203.0.113.1", 5000))
    token = login_token(direct)
    form = {"username": "approver", "password": PASSWORD, "csrf_token": token}
    assert direct.post("/login", data=form, headers=other).status_code == 429


def test_hashes_are_upgraded_at_sign_in_when_the_cost_is_raised(
    web_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher
    from sqlalchemy import select

    from shareguard.store.models import WebUserRow
    from shareguard.web import auth

    users = UserStore(web_engine)
    users.add("old@council.example", "sender", PASSWORD)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", stronger)
    assert users.authenticate("old@council.example", PASSWORD) is not None
    with web_engine.connect() as conn:
        stored = conn.execute(
            select(WebUserRow.password_hash).where(WebUserRow.name == "old@council.example")
        ).scalar_one()
    assert stored is not None
    assert not stronger.check_needs_rehash(stored)
    assert users.authenticate("old@council.example", PASSWORD) is not None
