"""The route table and the app held to each other: every registered route,
with every role and anonymously, answers as the table says."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from portal_helpers import sign_in
from starlette.routing import Mount

from shareguard.web.access import PUBLIC, ROUTES, allowed_roles
from shareguard.web.auth import ROLES

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

IDENTITIES: list[str | None] = [None, *ROLES]


def _concrete(path: str) -> str:
    """A request path for a route template (placeholder ids: 404s are fine)."""
    return re.sub(r"\{[^}]+\}", "no-such-id", path)


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, full path template) of every route, those of included
    routers too."""
    out = []
    for rc in iter_route_contexts(app.routes):
        if isinstance(rc.original_route, APIRoute):
            out += [(m, str(rc.path)) for m in sorted(rc.methods or ())]
        else:
            # Anything but the API routes would bypass the guard dependency.
            assert isinstance(rc.original_route, Mount), rc
            assert rc.path == "/static"
    return out


def test_every_route_is_in_the_table(app: FastAPI) -> None:
    missing = [(m, p) for m, p in _routes(app) if allowed_roles(m, p) is None]
    assert missing == []


def test_the_table_names_only_registered_routes(app: FastAPI) -> None:
    registered = set(_routes(app))
    assert [key for key in ROUTES if key not in registered] == []


def test_every_route_with_every_role(app: FastAPI) -> None:
    checked = 0
    for method, path in _routes(app):
        roles = allowed_roles(method, path)
        url = _concrete(path)
        for who in IDENTITIES:
            for accept in ("text/html", "application/json"):
                # A fresh session each time: POST /logout ends the one it is given.
                with sign_in(app, who) as client:
                    r = client.request(method, url, headers={"accept": accept})
                where = f"{method} {url} as {who or 'anonymous'} ({accept})"
                location = r.headers.get("location", "")
                if roles is PUBLIC:
                    assert r.status_code != 403, where
                elif who is None:
                    machine = url.endswith(".json") or url.startswith("/v1/")
                    if accept == "application/json" or machine:
                        assert r.status_code == 401, where
                    else:
                        assert r.status_code == 303, where
                        assert location.startswith("/login"), where
                elif who in roles:
                    assert r.status_code not in (401, 403), f"{where}: {r.status_code}"
                    assert not location.startswith("/login?"), where
                else:
                    assert r.status_code == 403, where
                checked += 1
    assert checked >= len(ROUTES) * len(IDENTITIES) * 2


def test_a_route_added_later_without_a_table_entry_is_refused_to_everyone(
    app: FastAPI, clients: dict[str | None, TestClient]
) -> None:
    @app.get("/added-later")
    def added_later() -> dict[str, str]:
        return {"secret": "yes"}

    assert clients["admin"].get("/added-later").status_code == 403
    extra = APIRouter(prefix="/extra")

    @extra.get("/page")
    def extra_page() -> dict[str, str]:
        return {"secret": "yes"}

    app.include_router(extra)
    assert clients["admin"].get("/extra/page").status_code == 403
    assert ("GET", "/extra/page") in _routes(app)
    assert clients["dpo"].get("/added-later").status_code == 403
    assert (
        clients[None].get("/added-later", headers={"accept": "application/json"}).status_code == 403
    )


def test_static_assets_are_served_without_signing_in(
    clients: dict[str | None, TestClient],
) -> None:
    anonymous = clients[None]
    js = anonymous.get("/static/htmx.min.js")
    assert js.status_code == 200
    assert "htmx" in js.text[:200]
    assert anonymous.get("/static/app.css").status_code == 200
