"""FastAPI application: the JSON API and the web portal.

``POST /v1/scan`` takes one or more files as multipart form data (field
``file``) and returns the same JSON as ``shareguard scan --format json``.
``POST /v1/check`` also takes ``to`` (repeatable) and ``from`` form fields,
decides and records, and returns the JSON of ``shareguard check``.  The
service migrates its database on start.

The portal (Jinja2 + htmx, every asset served from ``static/``) answers
each page as HTML or, at ``<page>.json`` or with ``Accept:
application/json``, as JSON.  Every route passes :func:`security.guard`
(route table, session, CSRF) and :class:`security.SecurityHeaders`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

import structlog
from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from shareguard import __version__
from shareguard.config import Settings
from shareguard.render import summarise, to_json
from shareguard.store.db import open_store
from shareguard.web import (
    pages_agreements,
    pages_approvals,
    pages_audit,
    pages_auth,
    pages_check,
    pages_dashboard,
    pages_incidents,
)
from shareguard.web.portal import HERE, Portal, page
from shareguard.web.security import (
    HEADERS,
    LoginRequired,
    PasswordChangeRequired,
    SecurityHeaders,
    guard,
    route_template,
    wants_json,
)
from shareguard.web.uploads import scan_uploads

log = structlog.get_logger("shareguard.web")

ROUTERS = (
    pages_auth.router,
    pages_check.router,
    pages_approvals.router,
    pages_agreements.router,
    pages_audit.router,
    pages_dashboard.router,
    pages_incidents.router,
)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        # Starlette answers a crash from outside every middleware, so the
        # security headers are set here.  The type only: an exception's
        # message may hold what the request carried.
        log.error("web.internal_error", error=type(exc).__name__, path=route_template(request))
        headers = {k.decode(): v.decode() for k, v in HEADERS}
        headers["cache-control"] = "no-store"
        body = {"detail": "internal error; the administrator can find it in the log"}
        return JSONResponse(body, status_code=500, headers=headers)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        target = request.url.path if request.method == "GET" else "/"
        if request.headers.get("hx-request") == "true":
            # htmx would swap the sign-in page into the polled fragment: have
            # the browser load it instead, and come back to the page after.
            page_path = urlsplit(request.headers.get("hx-current-url", "")).path or "/"
            return Response(status_code=401, headers={"HX-Redirect": f"/login?next={page_path}"})
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change(request: Request, exc: PasswordChangeRequired) -> Response:
        if wants_json(request):
            detail = "change your one-time password first (POST /account/password)"
            return JSONResponse({"detail": detail}, status_code=403)
        return RedirectResponse("/account", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return page(
            request,
            "error.html",
            {"status": exc.status_code, "detail": str(exc.detail)},
            status=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # Field names and messages only: the rejected input may be personal data.
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e.get("msg")}
            for e in exc.errors()
        ]
        if wants_json(request):
            return JSONResponse({"detail": problems}, status_code=422)
        detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return page(request, "error.html", {"status": 422, "detail": detail}, status=422)


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="ShareGuard",
        version=__version__,
        dependencies=[Depends(guard)],
        # The API documentation pages load scripts from a CDN: off.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    engine = open_store(settings, migrate=True)  # the service migrates on start
    portal = Portal(settings, engine)
    app.state.portal = portal
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _install_error_pages(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post("/v1/scan")
    async def scan(file: Annotated[list[UploadFile], File(description="files to scan")]) -> Any:
        reports, _ = await scan_uploads(file, settings, portal.scanner)
        return to_json(summarise(tuple(reports)))

    @app.post("/v1/check")
    async def check(
        request: Request,
        file: Annotated[list[UploadFile], File(description="files about to be sent")],
        to: Annotated[list[str], Form(description="recipient addresses")],
        sender: Annotated[
            str | None, Form(alias="from", description="sender address (default: yours)")
        ] = None,
    ) -> Any:
        """Scan, decide per recipient and record: the JSON of `shareguard check`.
        The sender is the signed-in user (or the token's); only an admin's
        token may check on behalf of another sender (e.g. a mail system)."""
        user = request.state.session.user
        sender = (sender or user.email).strip()
        if sender.lower() != user.email.lower() and user.role != "admin":
            raise HTTPException(403, "you can only check what you send yourself")
        reports, outgoing = await scan_uploads(file, settings, portal.scanner)
        result = await run_in_threadpool(
            portal.disclosures.check, summarise(tuple(reports)), outgoing, sender, to
        )
        return result.as_json()

    for router in ROUTERS:
        app.include_router(router)
    return app
