"""Agreements for the DPO: list with expiry and review reminders, detail,
versions with a diff, and upload/edit with each validation error shown at
its line."""

from __future__ import annotations

import difflib
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from shareguard.policy.agreements import parse_agreements
from shareguard.policy.lifecycle import status_and_reminders
from shareguard.policy.yamlsource import AgreementError
from shareguard.store.agreements import AgreementStore, StoredAgreement
from shareguard.web.portal import page, portal_of, session_of
from shareguard.web.security import wants_json

router = APIRouter()

MAX_SOURCE_BYTES = 256 * 1024
SOURCE_NAME = "agreement.yaml"


def _summary(
    agreement_id: str, version: int, parsed: dict[str, Any], today: date
) -> dict[str, Any]:
    status, reminders = status_and_reminders(parsed, today)
    return {
        "id": agreement_id,
        "version": version,
        "title": parsed.get("title"),
        "with": (parsed.get("parties") or {}).get("them"),
        "valid_from": parsed.get("valid_from"),
        "valid_until": parsed.get("valid_until"),
        "review_date": parsed.get("review_date"),
        "aggregates_only": bool(parsed.get("aggregates_only")),
        "status": status,
        "reminders": reminders,
    }


@router.get("/agreements")
@router.get("/agreements.json")
def agreements(request: Request) -> Response:
    today = datetime.now(UTC).date()
    rows = AgreementStore(portal_of(request).engine).all_latest()
    items = [_summary(i, v, parsed, today) for i, v, parsed in rows]
    return page(request, "agreements.html", {"agreements": items})


def _stored(request: Request, agreement_id: str, version: int | None) -> StoredAgreement:
    store = AgreementStore(portal_of(request).engine)
    found = store.latest(agreement_id) if version is None else store.get(agreement_id, version)
    if found is None:
        raise HTTPException(404, "no such agreement or version")
    return found


def _form_page(
    request: Request, source: str, problems: list[dict[str, Any]], *, status: int
) -> Response:
    by_line: dict[int, list[str]] = {}
    for p in problems:
        by_line.setdefault(p["line"], []).append(p["message"])
    lines = [
        {"number": n, "text": text, "problems": by_line.get(n, [])}
        for n, text in enumerate(source.splitlines(), start=1)
    ]
    return page(
        request,
        "agreement_form.html",
        {"problems": problems},
        status=status,
        html_only={"source": source, "lines": lines},
    )


@router.get("/agreements/new")
def new_agreement(request: Request) -> Response:
    return _form_page(request, "", [], status=200)


@router.get("/agreements/{agreement_id}/edit")
def edit_agreement(request: Request, agreement_id: str) -> Response:
    return _form_page(request, _stored(request, agreement_id, None).source_text, [], status=200)


@router.get("/agreements/{agreement_id}")
@router.get("/agreements/{agreement_id}.json")
def agreement(request: Request, agreement_id: str, version: int | None = None) -> Response:
    stored = _stored(request, agreement_id, version)
    versions = AgreementStore(portal_of(request).engine).versions(agreement_id)
    today = datetime.now(UTC).date()
    return page(
        request,
        "agreement.html",
        {
            **_summary(stored.agreement_id, stored.version, stored.parsed, today),
            "versions": [
                {"version": v.version, "loaded_by": v.loaded_by, "loaded_at": v.loaded_at}
                for v in versions
            ],
            "loaded_by": stored.loaded_by,
            "loaded_at": stored.loaded_at,
            "source_sha256": stored.source_sha256,
            "agreement": stored.parsed,
            "source_text": stored.source_text,
        },
    )


@router.get("/agreements/{agreement_id}/diff")
@router.get("/agreements/{agreement_id}/diff.json")
def diff(
    request: Request, agreement_id: str, old: int | None = None, new: int | None = None
) -> Response:
    """Line diff between two versions (default: the latest and the one before)."""
    latest = _stored(request, agreement_id, new)
    before = _stored(request, agreement_id, old if old is not None else max(latest.version - 1, 1))
    lines = list(
        difflib.unified_diff(
            before.source_text.splitlines(),
            latest.source_text.splitlines(),
            fromfile=f"version {before.version}",
            tofile=f"version {latest.version}",
            lineterm="",
        )
    )
    rows = [
        {
            "kind": "add"
            if ln.startswith("+") and not ln.startswith("+++")
            else "del"
            if ln.startswith("-") and not ln.startswith("---")
            else "hunk"
            if ln.startswith("@@")
            else "same",
            "text": ln,
        }
        for ln in lines
    ]
    return page(
        request,
        "agreement_diff.html",
        {"id": agreement_id, "old": before.version, "new": latest.version, "lines": rows},
    )


@router.post("/agreements")
@router.post("/agreements.json")
async def save_agreement(
    request: Request,
    source: Annotated[str, Form(max_length=MAX_SOURCE_BYTES)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Validate and store a new version of each agreement in the text."""
    if file is not None and file.filename:
        raw = await file.read(MAX_SOURCE_BYTES + 1)
        try:
            source = raw[:MAX_SOURCE_BYTES].decode("utf-8")
        except UnicodeDecodeError:
            problem = {"line": 0, "column": 0, "message": "the file is not UTF-8 text"}
            return _form_page(request, "", [problem], status=400)
    try:
        loaded = parse_agreements(source, SOURCE_NAME)
    except AgreementError as exc:
        problems = [
            {"line": p.line, "column": p.column, "message": p.message} for p in exc.problems
        ]
        return _form_page(request, source, problems, status=400)
    store = AgreementStore(portal_of(request).engine)
    by = session_of(request).user.email
    saved = []
    for item in loaded:
        a = item.agreement
        version = await run_in_threadpool(
            store.add_version, a.id, item.source_text, a.model_dump(mode="json"), by
        )
        saved.append({"id": a.id, "version": version})
    if wants_json(request):
        return page(request, "agreements.html", {"saved": saved})
    return RedirectResponse(f"/agreements/{saved[0]['id']}", status_code=303)
