"""Signing in and out, the account page (password change), the home
redirect and the admin's list of users."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from shareguard.web.access import APPROVERS, DPO
from shareguard.web.auth import UserError
from shareguard.web.portal import page, portal_of, session_of
from shareguard.web.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    client_address,
    cookie_secure,
    login_token_ok,
    new_login_token,
    set_session_cookie,
    wants_json,
)

router = APIRouter()
log = structlog.get_logger("shareguard.web")


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no //host): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, *, error: str | None, next_: str, status: int) -> Response:
    token = new_login_token()
    response = page(
        request,
        "login.html",
        {"error": error},
        status=status,
        html_only={"login_token": token, "next": _safe_next(next_)},
    )
    portal = portal_of(request)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/login",
        secure=cookie_secure(request, portal.web),
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, error=None, next_=next, status=200)


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    portal = portal_of(request)
    if not wants_json(request) and not await login_token_ok(request):
        return _login_page(
            request, error="The sign-in form expired. Please try again.", next_=next, status=400
        )
    client = client_address(request, portal.web)
    if await run_in_threadpool(portal.limiter.blocked, username, client):
        log.warning("web.login_limited")
        return _login_page(
            request,
            error="Too many failed sign-ins. Wait a few minutes and try again.",
            next_=next,
            status=429,
        )
    user = await run_in_threadpool(portal.users.authenticate, username, password)
    if user is None:
        await run_in_threadpool(portal.limiter.failed, username, client)
        log.info("web.login_failed")
        return _login_page(request, error="Wrong user name or password.", next_=next, status=401)
    await run_in_threadpool(portal.limiter.succeeded, username)
    token, session = await run_in_threadpool(portal.users.start_session, user, portal.web)
    log.info("web.login", user_id=user.id, role=user.role)
    if wants_json(request):
        response: Response = page(
            request, "login.html", {"user": user.as_json(), "csrf_token": session.csrf_token}
        )
    else:
        target = "/account" if user.password_expired else _safe_next(next)
        response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, portal.web, token)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(portal_of(request).users.end_session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(request: Request) -> Response:
    role = session_of(request).user.role
    target = "/dashboard" if role in DPO else "/approvals" if role in APPROVERS else "/check"
    return RedirectResponse(target, status_code=303)


@router.get("/account")
@router.get("/account.json")
def account(request: Request) -> Response:
    user = session_of(request).user
    return page(request, "account.html", {"user": user.as_json(), "message": None})


@router.post("/account/password")
async def change_password(
    request: Request,
    current: Annotated[str, Form(max_length=1024)],
    new: Annotated[str, Form(max_length=1024)],
    repeat: Annotated[str, Form(max_length=1024)],
) -> Response:
    portal = portal_of(request)
    user = session_of(request).user
    error: str | None = None
    if await run_in_threadpool(portal.users.authenticate, user.name, current) is None:
        error = "Your current password is not right."
    elif new != repeat:
        error = "The new passwords are not the same."
    elif new == current:
        error = "Choose a password different from the current one."
    else:
        try:
            await run_in_threadpool(portal.users.set_password, user.name, new)
        except UserError as exc:
            error = str(exc)
    if error:
        return page(request, "account.html", {"user": user.as_json(), "error": error}, status=400)
    log.info("web.password_changed", user_id=user.id)
    # Setting the password ends every session, this one too: sign in again.
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/users")
@router.get("/users.json")
def users(request: Request) -> Response:
    listed = portal_of(request).users.list()
    return page(request, "users.html", {"users": [u.as_json() for u in listed]})
