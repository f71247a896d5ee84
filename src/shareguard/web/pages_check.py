"""Check before sending: upload files and recipients, see the decision per
recipient with its reasons and the way forward; the sender's own
submissions with their live status."""

from __future__ import annotations

import re
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from shareguard.disclosure import CheckResult
from shareguard.errors import ShareGuardError
from shareguard.policy.engine import RecipientDecision
from shareguard.render import summarise
from shareguard.store.agreements import AgreementStore
from shareguard.store.approvals import ApprovalStore
from shareguard.web import minimised, submissions
from shareguard.web.portal import Portal, page, portal_of, session_of
from shareguard.web.uploads import scan_uploads

router = APIRouter()
log = structlog.get_logger("shareguard.web")

MAX_RECIPIENTS = 50
_SPLIT = re.compile(r"[\s,;]+")
_ADDRESS = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,255}\.[A-Za-z]{2,}$")


def parse_recipients(text: str) -> tuple[list[str], list[str]]:
    """(addresses, what was not an address) from one per line or commas."""
    good: list[str] = []
    bad: list[str] = []
    for part in _SPLIT.split(text.strip()):
        if not part:
            continue
        (good if _ADDRESS.match(part) else bad).append(part.lower())
    return list(dict.fromkeys(good)), bad


def _way_forward(
    r: RecipientDecision, portal: Portal, aggregates_only: bool, has_minimised: bool
) -> dict[str, Any]:
    """What the sender can do next, in plain words, with a machine name."""
    if r.decision == "allow":
        return {"kind": "send", "text": "You may send this to this recipient."}
    if r.decision == "block":
        return {"kind": "blocked", "text": "This cannot be sent to this recipient."}
    if r.agreement_id is None:
        policy = portal.disclosures.policy()
        if not policy.is_internal(r.address):
            return {
                "kind": "no_agreement",
                "text": "This recipient has no data-sharing agreement: contact the Data "
                "Protection Officer before sending them personal data.",
            }
    if aggregates_only:
        text = (
            "The agreement allows aggregated figures only: send the workforce profile "
            "instead of the list of people."
        )
        if has_minimised:
            text += " Download the minimised version below and check it again before sending."
        elif not minimised.available():
            text += " (Producing the profile here is not available yet: make it from the list.)"
        return {"kind": "send_profile", "text": text}
    return {
        "kind": "request_approval",
        "text": "An approver must agree before this is sent: request approval with your reason.",
    }


def _aggregates_only(engine: Any, agreement_id: str | None) -> bool:
    if agreement_id is None:
        return False
    latest = AgreementStore(engine).latest(agreement_id)
    return bool(latest and latest.parsed.get("aggregates_only"))


def _result_json(result: CheckResult, portal: Portal) -> dict[str, Any]:
    report = result.report
    held = [r.address for r in result.decision.recipients if r.decision == "hold"]
    approvals = dict(zip(held, result.approval_ids, strict=False))
    recipients = []
    for r in result.decision.recipients:
        approval_id = approvals.get(r.address)
        aggregates = r.decision != "allow" and _aggregates_only(portal.engine, r.agreement_id)
        download = aggregates and approval_id is not None and minimised.available()
        recipients.append(
            {
                **r.as_dict(),
                "approval_id": approval_id,
                "way_forward": _way_forward(r, portal, aggregates, download),
                "minimised_url": f"/submissions/{approval_id}/minimised" if download else None,
            }
        )
    return {
        "decision": str(result.decision.decision),
        "record_id": result.record_id,
        "recipients": recipients,
        "found": {
            "files": len(report.files),
            "data_subjects": report.data_subjects,
            "entities": dict(sorted(report.entities.items())),
            "special_category": list(report.special_category),
            "uninspectable": report.uninspectable,
        },
        "files": [
            {"name": f.path, "data_subjects": f.data_subjects, "entities": f.entities}
            for f in report.files
        ],
    }


@router.get("/check")
def check_form(request: Request) -> Response:
    return page(request, "check.html", {"result": None, "errors": []})


@router.post("/check")
@router.post("/check.json")
async def check(
    request: Request,
    file: Annotated[list[UploadFile], File(description="files about to be sent")],
    recipients: Annotated[str, Form(max_length=20_000)],
) -> Response:
    portal = portal_of(request)
    user = session_of(request).user
    addresses, bad = parse_recipients(recipients)
    errors = [f"“{b}” is not an e-mail address" for b in bad[:10]]
    if not addresses:
        errors.append("Enter at least one recipient address.")
    if len(addresses) > MAX_RECIPIENTS:
        errors.append(f"Check at most {MAX_RECIPIENTS} recipients at a time.")
    if not any(f.filename for f in file):
        errors.append("Choose at least one file.")
    if errors:
        return page(request, "check.html", {"result": None, "errors": errors}, status=400)
    reports, outgoing = await scan_uploads(file, portal.settings, portal.scanner)
    try:
        result = await run_in_threadpool(
            portal.disclosures.check,
            summarise(tuple(reports)),
            outgoing,
            user.email,
            addresses,
            actor=user.email,
        )
    except ShareGuardError as exc:
        log.warning("web.check_failed", error=type(exc).__name__)
        raise HTTPException(500, "the check could not be completed; ask an administrator") from None
    data = await run_in_threadpool(_result_json, result, portal)
    log.info(
        "web.check",
        record_id=result.record_id,
        decision=data["decision"],
        files=len(outgoing),
        recipients=len(addresses),
        data_subjects=data["found"]["data_subjects"],
    )
    return page(request, "check.html", data, html_only={"result": data, "errors": []})


@router.get("/submissions/{approval_id}/minimised")
def download_minimised(request: Request, approval_id: str) -> Response:
    portal = portal_of(request)
    user = session_of(request).user
    item = ApprovalStore(portal.engine).get(approval_id)
    if item is None or item.sender != user.email:
        raise HTTPException(404, "no held item of yours with that reference")
    made = minimised.make(portal, item)
    if made is None:
        raise HTTPException(404, "no minimised version can be made of this item")
    content, filename, media_type = made
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:120] or "minimised"
    log.info("web.minimised_download", approval_id=approval_id, size=len(content))
    return Response(
        content,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{safe}"'},
    )


@router.get("/submissions")
@router.get("/submissions.json")
def my_submissions(request: Request) -> Response:
    user = session_of(request).user
    data = submissions.of_sender(portal_of(request), user.email)
    return page(request, "submissions.html", data)


@router.get("/submissions/rows")
def my_submission_rows(request: Request) -> Response:
    """The rows alone, polled by htmx for live status."""
    user = session_of(request).user
    data = submissions.of_sender(portal_of(request), user.email)
    return page(request, "_submission_rows.html", data)


@router.post("/submissions/{approval_id}/request")
async def request_approval(
    request: Request,
    approval_id: str,
    justification: Annotated[str, Form(max_length=4000)],
) -> Response:
    portal = portal_of(request)
    user = session_of(request).user
    try:
        await run_in_threadpool(
            submissions.request_approval, portal, approval_id, user.email, justification
        )
    except submissions.RequestRefused as exc:
        data = submissions.of_sender(portal, user.email)
        return page(request, "submissions.html", {**data, "error": str(exc)}, status=400)
    data = submissions.of_sender(portal, user.email)
    return page(
        request,
        "submissions.html",
        {**data, "message": "Approval requested: an approver will see your reason."},
    )
