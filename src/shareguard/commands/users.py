"""``shareguard users add | list | passwd | disable | enable | token | tokens |
revoke-token``: the web portal's local accounts and the machine API's tokens.

Passwords are read from stdin (never from the command line, where they
would sit in the shell history and the process list): the first line, so
``printf '%s\\n' "$PW" | shareguard users add ...`` works, and on a terminal
it is asked for twice without echo.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shareguard.commands.common import Format, fail, open_engine
from shareguard.config import get_settings
from shareguard.errors import ShareGuardError
from shareguard.web.auth import ROLES, UserStore

app = typer.Typer(
    name="users",
    help="Web portal accounts and API tokens: add, list, set passwords, disable, tokens.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)


def _store() -> UserStore:
    return UserStore(open_engine(get_settings(), migrate=True))


def read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise fail("the two passwords are not the same")
        return first
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise fail("no password on stdin (give it as the first line)")
    return password


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="User name (sign-in name)")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}")],
    email: Annotated[
        str | None,
        typer.Option("--email", help="Address they send as (default: NAME if it is one)"),
    ] = None,
    temporary: Annotated[
        bool, typer.Option("--temporary", help="One-time password: must be changed at sign-in")
    ] = False,
    sso_only: Annotated[
        bool, typer.Option("--sso-only", help="No password: signs in through the SSO proxy only")
    ] = False,
) -> None:
    """Add a user; the password is read from stdin."""
    password = None if sso_only else read_password()
    try:
        user = _store().add(name, role, password, email=email, temporary=temporary)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    out.print(f"added {user.name} ({user.role}, sends as {user.email})", highlight=False)


@app.command("list")
def list_(fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table) -> None:
    """Every user."""
    try:
        users = _store().list()
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    if fmt is Format.json:
        sys.stdout.write(json.dumps([u.as_json() for u in users], indent=2) + "\n")
        return
    table = Table(title=f"{len(users)} user(s)", title_justify="left")
    for column in ("name", "email", "role", "state"):
        table.add_column(column, overflow="fold")
    for u in users:
        state = "disabled" if u.disabled else "must change password" if u.password_expired else ""
        table.add_row(u.name, u.email, u.role, state or "active")
    out.print(table)


@app.command()
def passwd(
    name: Annotated[str, typer.Argument(help="User name")],
    temporary: Annotated[
        bool, typer.Option("--temporary", help="One-time password: must be changed at sign-in")
    ] = False,
) -> None:
    """Set a user's password (read from stdin); signs them out everywhere."""
    password = read_password()
    try:
        _store().set_password(name, password, temporary=temporary)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    out.print(f"password of {name} changed", highlight=False)


@app.command()
def disable(name: Annotated[str, typer.Argument(help="User name")]) -> None:
    """Disable a user and sign them out everywhere."""
    try:
        _store().set_disabled(name, True)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    out.print(f"{name} disabled", highlight=False)


@app.command()
def enable(name: Annotated[str, typer.Argument(help="User name")]) -> None:
    """Enable a disabled user again."""
    try:
        _store().set_disabled(name, False)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    out.print(f"{name} enabled", highlight=False)


@app.command()
def token(
    name: Annotated[str, typer.Argument(help="User name the token acts as")],
    label: Annotated[
        str, typer.Option("--label", help="What uses it, e.g. 'mail-relay' (unique per user)")
    ],
) -> None:
    """Issue a bearer token for the machine API (/v1/scan, /v1/check) acting as
    a user.  Printed once: store it like a password."""
    try:
        issued = _store().issue_token(name, label)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    sys.stdout.write(issued + "\n")


@app.command()
def tokens(
    name: Annotated[str, typer.Argument(help="User name")],
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """A user's API tokens (labels and dates; never the tokens)."""
    try:
        found = _store().tokens(name)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    if fmt is Format.json:
        sys.stdout.write(json.dumps([t.as_json() for t in found], indent=2) + "\n")
        return
    table = Table(title=f"{len(found)} token(s) of {name}", title_justify="left")
    for column in ("label", "created", "state"):
        table.add_column(column)
    for t in found:
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "live"
        table.add_row(t.label, f"{t.created_at:%Y-%m-%d %H:%M}", state)
    out.print(table)


@app.command("revoke-token")
def revoke_token(
    name: Annotated[str, typer.Argument(help="User name")],
    label: Annotated[str, typer.Option("--label", help="The token's label")],
) -> None:
    """Revoke a user's API token at once."""
    try:
        _store().revoke_token(name, label)
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    out.print(f"token {label!r} of {name} revoked", highlight=False)
