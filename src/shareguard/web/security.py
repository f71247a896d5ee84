"""The checks every request passes: who is signed in (session cookie or the
trusted SSO header), whether the route table lets them in, the CSRF token on
anything that changes state, and the security headers on every response."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shareguard.config import WebSettings
from shareguard.web.access import PUBLIC, allowed_roles, is_allowed
from shareguard.web.auth import Session, UserStore

SESSION_COOKIE = "sg_session"
LOGIN_COOKIE = "sg_login"  # double-submit token for the sign-in form
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/v1/"
# Routes a user with a one-time password may still use.
PASSWORD_CHANGE_PATHS = frozenset({"/account", "/account/password", "/logout"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: browsers then send a real Origin on our
    # own form posts (no-referrer makes it "null"), and nothing leaves the site.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class LoginRequired(Exception):
    """No live session: pages redirect to sign-in, JSON answers 401."""


class PasswordChangeRequired(Exception):
    """Signed in with a one-time password: choose a new one first."""


def wants_json(request: Request) -> bool:
    if request.url.path.endswith(".json") or request.url.path.startswith(API_PREFIX):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def cookie_secure(request: Request, web: WebSettings) -> bool:
    """The Secure flag: as configured, else on unless this is plain http to
    a loopback host (``make run`` on a laptop)."""
    if web.cookie_secure is not None:
        return web.cookie_secure
    if request.url.scheme == "https":
        return True
    host = request.url.hostname or ""
    try:
        return not (host == "localhost" or ipaddress.ip_address(host).is_loopback)
    except ValueError:
        return True


def set_session_cookie(response: Response, request: Request, web: WebSettings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=web.session_max_hours * 3600,
        path="/",
        secure=cookie_secure(request, web),
        httponly=True,
        samesite="lax",
    )


def _trusted(address_text: str, web: WebSettings) -> bool:
    try:
        address = ipaddress.ip_address(address_text.strip())
    except ValueError:
        return False
    for entry in web.trusted_proxies:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _from_trusted_proxy(request: Request, web: WebSettings) -> bool:
    return _trusted(request.client.host if request.client else "", web)


def client_address(request: Request, web: WebSettings) -> str:
    """The address a request came from, for the sign-in limit: the peer, or,
    when the peer is a trusted proxy, the nearest untrusted address in its
    X-Forwarded-For (which only a trusted proxy may set)."""
    peer = request.client.host if request.client else "unknown"
    if not _trusted(peer, web):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, web):
            return hop
    return peer


def _sso_session(request: Request, users: UserStore, web: WebSettings) -> Session | None:
    """A session for the user the proxy names, only when SSO is configured
    and the request comes from a trusted proxy.  The account must exist
    locally (it carries the role) and be enabled."""
    if not web.sso_header or not _from_trusted_proxy(request, web):
        return None
    name = request.headers.get(web.sso_header, "").strip()
    if not name:
        return None
    user = users.get(name)
    if user is None or user.disabled:
        return None
    token, session = users.start_session(user, web)
    carrier = Response()
    set_session_cookie(carrier, request, web, token)
    request.state.set_cookie_header = carrier.headers["set-cookie"]
    return session


def _current_session(request: Request, users: UserStore, web: WebSettings) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    session = users.session(token, web) if token else None
    if web.sso_header and _from_trusted_proxy(request, web):
        name = request.headers.get(web.sso_header, "").strip()
        if session is not None and session.user.name == name:
            return session
        return _sso_session(request, users, web)
    return session


async def _csrf_ok(request: Request, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _full_paths(app: Any) -> dict[int, str]:
    """Each API route's full path template (with the prefixes of the routers
    that include it), by the route object's id."""
    return {
        id(rc.original_route): str(rc.path)
        for rc in iter_route_contexts(app.routes)
        if isinstance(rc.original_route, APIRoute) and rc.path
    }


def route_template(request: Request) -> str | None:
    """The path template of the route serving this request (``/approvals/{approval_id}``)."""
    route = request.scope.get("route")
    if route is None:
        return None
    state = request.app.state
    paths: dict[int, str] | None = getattr(state, "route_paths", None)
    if paths is None or id(route) not in paths:
        paths = state.route_paths = _full_paths(request.app)  # routes added since
    return paths.get(id(route))


def cross_site(request: Request) -> bool:
    """A browser says the request comes from another site (``Origin`` names
    another host).  Requests without ``Origin`` (API clients) pass here and
    meet the CSRF token instead."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":  # unknown (privacy modes): the token decides
        return False
    return urlsplit(origin).netloc != request.headers.get("host", "")


async def guard(request: Request) -> None:
    """The app-wide dependency: route table, session (or API token) and CSRF."""
    portal: Any = request.app.state.portal
    path = route_template(request) or ""
    roles = allowed_roles(request.method, path)
    if request.method in UNSAFE and cross_site(request) and not path.startswith(API_PREFIX):
        raise HTTPException(403, "a form from another site cannot change anything here")
    bearer = _bearer_token(request) if roles is not PUBLIC else None
    if bearer is not None:
        session = await _token_session(path, bearer, portal.users)
    else:
        session = await run_in_threadpool(_current_session, request, portal.users, portal.web)
    request.state.session = session
    if roles is PUBLIC:
        return
    if roles is None:
        raise HTTPException(403, "this page is not in the access table")
    if session is None:
        raise LoginRequired()
    if bearer is None and session.user.password_expired and path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()
    if not is_allowed(roles, session.user.role):
        raise HTTPException(403, "your role does not give access to this page")
    # A browser never attaches a bearer token by itself: no CSRF token needed.
    csrf_needed = bearer is None and request.method in UNSAFE
    if csrf_needed and not await _csrf_ok(request, session.csrf_token):
        raise HTTPException(403, "the form has expired or did not come from this site: reload")


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _token_session(path: str, token: str, users: UserStore) -> Session | None:
    """The request-long session of a bearer token's user, or None for an
    unknown, revoked or disabled one.  Tokens open the machine API only."""
    if not path.startswith(API_PREFIX):
        raise HTTPException(403, "API tokens are for the machine API (/v1/...) only")
    user = await run_in_threadpool(users.token_user, token)
    if user is None:
        return None
    now = datetime.now(UTC)
    return Session(user, "", now, now)


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


async def login_token_ok(request: Request) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE)
    return expected is not None and await _csrf_ok(request, expected)


class SecurityHeaders:
    """Pure ASGI middleware: security headers on every response, no caching
    of anything but static assets, and the cookie of a session started by
    the SSO header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                pending = scope.get("state", {}).get("set_cookie_header")
                if pending:
                    headers.append((b"set-cookie", pending.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
