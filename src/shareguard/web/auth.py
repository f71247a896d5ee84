"""Local accounts, server-side sessions and sign-in rate limits.

Passwords are argon2id hashes (argon2-cffi's defaults).  A session is a
random token in a cookie; the database keeps only its SHA-256, so a copy of
the database signs nobody in.  Failed sign-ins are counted per account name
and per client address, both stored as keyed hashes (never the name or the
address itself), so the limit holds across processes and restarts.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, select, update

from shareguard.config import WebSettings
from shareguard.errors import ShareGuardError
from shareguard.keys import derive_key
from shareguard.store.db import session_scope
from shareguard.store.models import ApiTokenRow, WebLoginFailureRow, WebSessionRow, WebUserRow

ROLES: Final = ("sender", "approver", "dpo", "admin")
PURPOSE_LOGIN_LIMIT = b"shareguard/web-login-limit/v1"
MIN_PASSWORD_CHARS = 12
# Bearer tokens for the machine API start with this, so a leaked one is easy
# to recognise (and to scan for) and never mistaken for a session cookie.
API_TOKEN_PREFIX: Final = "sgt_"
# Session last-seen times are written at most this often: idle expiry does not
# need to-the-second precision, and a write per page would serialise SQLite.
TOUCH_EVERY = timedelta(seconds=60)

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that a wrong name
# takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class UserError(ShareGuardError):
    """A user cannot be created or changed; the message says why."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str
    role: str
    password_expired: bool
    disabled: bool
    created_at: datetime
    has_password: bool

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "disabled": self.disabled,
            "password_expired": self.password_expired,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    """What is known of an API token: never the token itself."""

    user: str
    label: str
    created_at: datetime
    revoked_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "user": self.user,
            "label": self.label,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _user(row: WebUserRow, now: datetime) -> User:
    expires = row.password_expires_at
    return User(
        row.id,
        row.name,
        row.email,
        row.role,
        expires is not None and expires <= now,
        row.disabled_at is not None,
        row.created_at,
        row.password_hash is not None,
    )


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"the password must be at least {MIN_PASSWORD_CHARS} characters long")
    if password.strip() != password:
        raise UserError("the password must not start or end with a space")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class UserStore:
    """Accounts and their sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- accounts --------------------------------------------------------

    def add(
        self,
        name: str,
        role: str,
        password: str | None,
        *,
        email: str | None = None,
        temporary: bool = False,
    ) -> User:
        name = name.strip()
        if not name or len(name) > 320 or any(c.isspace() for c in name):
            raise UserError("a user name is 1 to 320 characters without spaces")
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}")
        address = (email or (name if "@" in name else "")).strip().lower()
        if "@" not in address:
            raise UserError(f"give {name} an e-mail address (--email): it is who they send as")
        if password is not None:
            check_password_strength(password)
        now = datetime.now(UTC)
        row = WebUserRow(
            name=name,
            email=address,
            role=role,
            password_hash=_hasher.hash(password) if password is not None else None,
            password_expires_at=now if temporary else None,
            created_at=now,
            disabled_at=None,
        )
        with session_scope(self.engine, write=True) as s:
            if s.execute(select(WebUserRow.id).where(WebUserRow.name == name)).first():
                raise UserError(f"there is already a user called {name}")
            s.add(row)
            s.flush()
            return _user(row, now)

    def get(self, name: str) -> User | None:
        with session_scope(self.engine) as s:
            row = s.execute(select(WebUserRow).where(WebUserRow.name == name)).scalar_one_or_none()
            return _user(row, datetime.now(UTC)) if row else None

    def list(self) -> list[User]:
        now = datetime.now(UTC)
        with session_scope(self.engine) as s:
            rows = s.execute(select(WebUserRow).order_by(WebUserRow.name)).scalars()
            return [_user(r, now) for r in rows]

    def count(self) -> int:
        with session_scope(self.engine) as s:
            return int(s.execute(select(func.count()).select_from(WebUserRow)).scalar_one())

    def set_password(self, name: str, password: str, *, temporary: bool = False) -> None:
        """Set a password (and sign the user out everywhere)."""
        check_password_strength(password)
        now = datetime.now(UTC)
        with session_scope(self.engine, write=True) as s:
            row = s.execute(select(WebUserRow).where(WebUserRow.name == name)).scalar_one_or_none()
            if row is None:
                raise UserError(f"no user called {name}")
            row.password_hash = _hasher.hash(password)
            row.password_expires_at = now if temporary else None
            s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))

    def set_disabled(self, name: str, disabled: bool) -> None:
        """Disable (and sign out everywhere) or re-enable an account."""
        with session_scope(self.engine, write=True) as s:
            row = s.execute(select(WebUserRow).where(WebUserRow.name == name)).scalar_one_or_none()
            if row is None:
                raise UserError(f"no user called {name}")
            row.disabled_at = datetime.now(UTC) if disabled else None
            if disabled:
                s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the name and password match an enabled account."""
        with session_scope(self.engine) as s:
            row = s.execute(
                select(WebUserRow).where(WebUserRow.name == name.strip())
            ).scalar_one_or_none()
            stored = row.password_hash if row is not None else None
            user = _user(row, datetime.now(UTC)) if row is not None else None
        try:
            _hasher.verify(stored or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or stored is None or user.disabled:
            return None
        if _hasher.check_needs_rehash(stored):  # parameters raised since it was set
            with session_scope(self.engine, write=True) as s:
                s.execute(
                    update(WebUserRow)
                    .where(WebUserRow.id == user.id)
                    .values(password_hash=_hasher.hash(password))
                )
        return user

    # -- sessions --------------------------------------------------------

    def start_session(self, user: User, web: WebSettings) -> tuple[str, Session]:
        """A new session for ``user``: (the cookie token, the session)."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires = now + timedelta(hours=web.session_max_hours)
        csrf = secrets.token_urlsafe(32)
        with session_scope(self.engine, write=True) as s:
            # Sessions of anyone that have run out go at the same time.
            s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
            s.add(
                WebSessionRow(
                    token_hash=token_hash(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires,
                )
            )
        return token, Session(user, csrf, now, expires)

    def session(self, token: str, web: WebSettings, now: datetime | None = None) -> Session | None:
        """The live session for a cookie token, or None (unknown, idle too
        long, past its absolute expiry, or its user disabled)."""
        now = now or datetime.now(UTC)
        key = token_hash(token)
        # Read, then write in a transaction of its own: on SQLite a read
        # transaction that turns into a write can fail at once when another
        # writer got in first (the busy timeout does not cover that).
        with session_scope(self.engine) as s:
            found = s.execute(
                select(WebSessionRow, WebUserRow)
                .join(WebUserRow, WebUserRow.id == WebSessionRow.user_id)
                .where(WebSessionRow.token_hash == key)
            ).one_or_none()
            if found is None:
                return None
            sess, row = found
            user = _user(row, now)
            last_seen, expires = sess.last_seen_at, sess.expires_at
            live = Session(user, sess.csrf_token, sess.created_at, expires)
        idle_limit = last_seen + timedelta(minutes=web.session_idle_minutes)
        if now >= expires or now >= idle_limit or user.disabled:
            self.end_session(token)
            return None
        if now - last_seen >= TOUCH_EVERY:
            with session_scope(self.engine, write=True) as s:
                s.execute(
                    update(WebSessionRow)
                    .where(WebSessionRow.token_hash == key)
                    .values(last_seen_at=now)
                )
        return live

    def end_session(self, token: str) -> None:
        with session_scope(self.engine, write=True) as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash(token)))

    # -- API tokens --------------------------------------------------------

    def issue_token(self, name: str, label: str) -> str:
        """A new bearer token for the machine API acting as ``name``; shown
        once, only its hash is kept.  Labels name a user's tokens uniquely."""
        label = label.strip()
        if not label or len(label) > 64:
            raise UserError("a token label is 1 to 64 characters, e.g. the calling system")
        user = self.get(name)
        if user is None:
            raise UserError(f"no user {name!r}")
        if any(t.label == label and t.revoked_at is None for t in self.tokens(name)):
            raise UserError(f"{name} already has a live token labelled {label!r}: revoke it first")
        token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        with session_scope(self.engine, write=True) as s:
            s.add(
                ApiTokenRow(
                    token_hash=token_hash(token),
                    user_id=user.id,
                    label=label,
                    created_at=datetime.now(UTC),
                )
            )
        return token

    def tokens(self, name: str) -> builtins.list[ApiToken]:
        with session_scope(self.engine) as s:
            rows = s.execute(
                select(ApiTokenRow)
                .join(WebUserRow, WebUserRow.id == ApiTokenRow.user_id)
                .where(WebUserRow.name == name)
                .order_by(ApiTokenRow.created_at)
            ).scalars()
            return [ApiToken(name, r.label, r.created_at, r.revoked_at) for r in rows]

    def revoke_token(self, name: str, label: str) -> None:
        user = self.get(name)
        if user is None:
            raise UserError(f"no user {name!r}")
        with session_scope(self.engine, write=True) as s:
            done = s.execute(
                update(ApiTokenRow)
                .where(
                    ApiTokenRow.user_id == user.id,
                    ApiTokenRow.label == label,
                    ApiTokenRow.revoked_at.is_(None),
                )
                .values(revoked_at=datetime.now(UTC))
            )
        if not getattr(done, "rowcount", 0):
            raise UserError(f"{name} has no live token labelled {label!r}")

    def token_user(self, token: str) -> User | None:
        """The enabled user a live bearer token acts as, or None."""
        if not token.startswith(API_TOKEN_PREFIX):
            return None
        now = datetime.now(UTC)
        with session_scope(self.engine) as s:
            row = s.execute(
                select(WebUserRow)
                .join(ApiTokenRow, ApiTokenRow.user_id == WebUserRow.id)
                .where(
                    ApiTokenRow.token_hash == token_hash(token),
                    ApiTokenRow.revoked_at.is_(None),
                )
            ).scalar_one_or_none()
            user = _user(row, now) if row is not None else None
        return None if user is None or user.disabled else user


class LoginLimiter:
    """Failed sign-ins per account name and per client address, in a
    sliding window; past the limit, sign-in is refused without checking."""

    def __init__(self, engine: Engine, root_key: bytes, web: WebSettings) -> None:
        self.engine = engine
        self.key = derive_key(root_key, PURPOSE_LOGIN_LIMIT)
        self.web = web

    def _keys(self, name: str, client: str) -> tuple[str, str]:
        def mac(label: str, value: str) -> str:
            msg = f"{label}\x1f{value.strip().lower()}".encode()
            return hmac.new(self.key, msg, hashlib.sha256).hexdigest()

        return mac("user", name), mac("ip", client)

    def blocked(self, name: str, client: str, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        since = now - timedelta(minutes=self.web.login_window_minutes)
        with session_scope(self.engine) as s:
            for key in self._keys(name, client):
                n = s.execute(
                    select(func.count())
                    .select_from(WebLoginFailureRow)
                    .where(WebLoginFailureRow.key_hash == key, WebLoginFailureRow.at >= since)
                ).scalar_one()
                if n >= self.web.login_max_failures:
                    return True
        return False

    def failed(self, name: str, client: str, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        with session_scope(self.engine, write=True) as s:
            s.add_all(WebLoginFailureRow(key_hash=k, at=now) for k in self._keys(name, client))
            # Old failures are no longer counted; keep the table small.
            old = now - timedelta(minutes=self.web.login_window_minutes) * 4
            s.execute(delete(WebLoginFailureRow).where(WebLoginFailureRow.at < old))

    def succeeded(self, name: str) -> None:
        """A correct password clears the account's count (not the address's)."""
        user_key, _ = self._keys(name, "")
        with session_scope(self.engine, write=True) as s:
            s.execute(delete(WebLoginFailureRow).where(WebLoginFailureRow.key_hash == user_key))


FIRST_ADMIN = "admin"


def create_first_admin(store: UserStore) -> str | None:
    """On a store with no users, an ``admin`` with a one-time password,
    which is returned (to be shown once); None when there are users."""
    if store.count():
        return None
    password = secrets.token_urlsafe(15)
    try:
        store.add(FIRST_ADMIN, "admin", password, email=f"{FIRST_ADMIN}@localhost", temporary=True)
    except UserError:  # another process created it first
        return None
    return password
