"""``shareguard users`` and the first administrator made by ``serve``."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from shareguard.cli import app
from shareguard.config import get_settings
from shareguard.store.db import open_store
from shareguard.web.auth import UserStore, create_first_admin

runner = CliRunner()
PASSWORD = "a long enough password"


def _users() -> UserStore:
    return UserStore(open_store(get_settings(), migrate=True))


def test_add_reads_the_password_from_stdin() -> None:
    r = runner.invoke(
        app, ["users", "add", "sam@council.example", "--role", "sender"], input=PASSWORD + "\n"
    )
    assert r.exit_code == 0, r.output
    assert "sends as sam@council.example" in r.output
    assert _users().authenticate("sam@council.example", PASSWORD) is not None
    listed = runner.invoke(app, ["users", "list", "--format", "json"])
    (user,) = json.loads(listed.stdout)
    assert user["role"] == "sender"
    assert PASSWORD not in listed.output


def test_add_refuses_bad_input_with_exit_2() -> None:
    no_role = runner.invoke(
        app, ["users", "add", "x@council.example", "--role", "boss"], input=PASSWORD + "\n"
    )
    assert no_role.exit_code == 2
    assert "role must be one of" in no_role.output
    no_password = runner.invoke(
        app, ["users", "add", "x@council.example", "--role", "dpo"], input=""
    )
    assert no_password.exit_code == 2
    short = runner.invoke(
        app, ["users", "add", "x@council.example", "--role", "dpo"], input="short\n"
    )
    assert short.exit_code == 2
    assert "12 characters" in short.output


def test_passwd_disable_enable() -> None:
    runner.invoke(
        app,
        ["users", "add", "amy", "--role", "approver", "--email", "amy@council.example"],
        input=PASSWORD + "\n",
    )
    r = runner.invoke(
        app, ["users", "passwd", "amy", "--temporary"], input="another long password\n"
    )
    assert r.exit_code == 0, r.output
    user = _users().authenticate("amy", "another long password")
    assert user is not None
    assert user.password_expired
    assert runner.invoke(app, ["users", "disable", "amy"]).exit_code == 0
    assert _users().authenticate("amy", "another long password") is None
    assert runner.invoke(app, ["users", "enable", "amy"]).exit_code == 0
    assert _users().authenticate("amy", "another long password") is not None
    assert runner.invoke(app, ["users", "disable", "nobody"]).exit_code == 2


def test_first_admin_only_once() -> None:
    users = _users()
    password = create_first_admin(users)
    assert password is not None
    admin = users.authenticate("admin", password)
    assert admin is not None
    assert admin.role == "admin"
    assert admin.password_expired  # one-time: must be changed at first sign-in
    assert create_first_admin(users) is None


def test_serve_prints_the_url_and_the_one_time_password_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw))
    first = runner.invoke(app, ["serve", "--port", "8099"])
    assert first.exit_code == 0, first.output
    assert "http://127.0.0.1:8099" in first.output
    found = re.search(r"one-time password (\S+)", first.output)
    assert found
    assert _users().authenticate("admin", found.group(1)) is not None
    second = runner.invoke(app, ["serve", "--port", "8099"])
    assert "one-time password" not in second.output
    assert len(started) == 2
