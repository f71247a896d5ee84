"""What every page handler needs (the store, settings, templates), and the
one function that answers a page as HTML or as its JSON twin."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from shareguard import __version__
from shareguard.approvals import Approvals
from shareguard.config import Settings, WebSettings
from shareguard.disclosure import Disclosures
from shareguard.pipeline import make_scanner
from shareguard.render import ENTITY_LABELS, SPECIAL_LABELS
from shareguard.web.access import allowed_roles, is_allowed
from shareguard.web.auth import LoginLimiter, Session, UserStore
from shareguard.web.security import CSRF_FIELD, wants_json

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
# Entity types and special categories in the words the CLI uses.
templates.env.filters["label"] = lambda name: ENTITY_LABELS.get(
    name, SPECIAL_LABELS.get(name, name)
)

# (label, path): the navigation, each shown only to the roles its page allows.
NAV = (
    ("Check before sending", "/check"),
    ("My submissions", "/submissions"),
    ("Approvals", "/approvals"),
    ("Agreements", "/agreements"),
    ("Audit", "/audit"),
    ("Dashboard", "/dashboard"),
    ("Incidents", "/incidents"),
    ("Users", "/users"),
)


@dataclass
class Portal:
    settings: Settings
    engine: Engine
    scanner: Any = field(init=False)
    users: UserStore = field(init=False)
    limiter: LoginLimiter = field(init=False)
    disclosures: Disclosures = field(init=False)
    approvals: Approvals = field(init=False)

    def __post_init__(self) -> None:
        self.scanner = make_scanner(self.settings)
        self.users = UserStore(self.engine)
        self.limiter = LoginLimiter(self.engine, self.settings.secret_key_bytes(), self.web)
        self.disclosures = Disclosures(self.settings, self.engine)
        self.approvals = Approvals(self.engine, self.settings.secret_key_bytes())

    @property
    def web(self) -> WebSettings:
        return self.settings.web


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def session_of(request: Request) -> Session:
    """The signed-in session (the guard has already refused anyone else)."""
    session: Session | None = getattr(request.state, "session", None)
    assert session is not None
    return session


def _nav(session: Session | None) -> list[tuple[str, str]]:
    if session is None or session.user.password_expired:
        return []
    role = session.user.role
    return [(label, path) for label, path in NAV if is_allowed(allowed_roles("GET", path), role)]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def page(
    request: Request,
    template: str,
    data: dict[str, Any],
    *,
    status: int = 200,
    html_only: dict[str, Any] | None = None,
) -> Response:
    """``data`` as JSON for a JSON request, else rendered into ``template``
    (with ``html_only`` extras, such as form state, that the twin leaves out)."""
    if wants_json(request):
        body = json.dumps(data, default=_json_default)
        return Response(body, status_code=status, media_type="application/json")
    session: Session | None = getattr(request.state, "session", None)
    context = {
        **data,
        **(html_only or {}),
        "session": session,
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else "",
        "csrf_field": CSRF_FIELD,
        "nav": _nav(session),
        "current_path": request.url.path,
        "version": __version__,
    }
    return templates.TemplateResponse(request, template, context, status_code=status)
