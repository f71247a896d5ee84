"""The portal driven through real Chromium: the held-item flow end to end,
role isolation, CSRF, session expiry, a phone-width layout, and axe-core on
every page.  A screenshot of every page visited is saved as an artefact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser_support import (
    LAPTOP,
    PHONE,
    STAFF_COUNT,
    Portal,
    RoleContext,
    axe_violations,
    describe,
    run_axe,
    shot,
    sign_in,
    watch_csp,
)
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import update

from shareguard.store.db import make_engine
from shareguard.store.models import WebSessionRow
from shareguard.web.auth import token_hash
from shareguard.web.security import SESSION_COOKIE

BIDDER = "tenders@bidder.example"


def _check_staff_list(page: Page, portal: Portal) -> str:
    """Check the staff workbook to the external bidder; the approval id."""
    assert portal.staff_xlsx is not None
    page.goto(f"{portal.url}/check")
    page.set_input_files("#check-files", str(portal.staff_xlsx))
    page.fill("#check-recipients", BIDDER)
    with page.expect_navigation():
        page.click("#check-submit")
    expect(page.locator("#check-result")).to_be_visible()
    approval_id = page.locator("#recipient-1").get_attribute("data-approval-id")
    assert approval_id
    return approval_id


def _ni_numbers(portal: Portal) -> list[str]:
    from openpyxl import load_workbook

    assert portal.staff_xlsx is not None
    sheet = load_workbook(portal.staff_xlsx, read_only=True).active
    assert sheet is not None
    values = [str(row[3]) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(values) == STAFF_COUNT
    return values


def test_sign_in_refuses_a_wrong_password(
    context: BrowserContext, portal: Portal, artefacts: Path
) -> None:
    page = context.new_page()
    page.goto(f"{portal.url}/check")
    assert "/login" in page.url  # signed out: sent to sign in first
    page.fill("#username", portal.accounts["dpo"].name)
    page.fill("#password", "not-the-password")
    with page.expect_response(lambda r: r.url.endswith("/login")) as info:
        page.click("#login-submit")
    assert info.value.status == 401
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#main-nav")).to_have_count(0)
    shot(page, artefacts, "login-refused")


def test_staff_list_to_a_bidder_is_held_approved_and_the_sender_sees_it(
    browser: Browser, portal: Portal, artefacts: Path
) -> None:
    sender_ctx = browser.new_context(viewport=LAPTOP)
    approver_ctx = browser.new_context(viewport=LAPTOP)
    try:
        page = sender_ctx.new_page()
        csp = watch_csp(page)
        sign_in(page, portal, portal.accounts["sender"])
        approval_id = _check_staff_list(page, portal)
        # Held, with the number of people in the spreadsheet and a reason.
        expect(page.locator("#check-decision")).to_have_text("hold")
        expect(page.locator("#found-people")).to_have_text(str(STAFF_COUNT))
        expect(page.locator("#recipient-1")).to_have_attribute("data-address", BIDDER)
        expect(page.locator("#recipient-1-decision")).to_have_text("hold")
        expect(page.locator("#recipient-1-reasons li").first).to_be_visible()
        # Counts and kinds only: not one NI number from the file on the page.
        html = page.content()
        leaked = [n for n in _ni_numbers(portal) if n in html or n.replace(" ", "") in html]
        assert leaked == []
        shot(page, artefacts, "check-result-held")

        page.fill("#justification-1", "Bidder asked for the transfer list; DPO to confirm.")
        with page.expect_navigation():
            page.click("#request-submit-1")
        expect(page.locator(f"#submission-{approval_id}-status")).to_have_text("held")
        expect(page.locator(f"#submission-{approval_id}")).to_contain_text("approval requested")
        shot(page, artefacts, "submissions-requested")

        # Another person, an approver, finds it in the queue and approves.
        other = approver_ctx.new_page()
        sign_in(other, portal, portal.accounts["approver"])
        other.goto(f"{portal.url}/approvals")
        row = other.locator(f"#approval-{approval_id}")
        expect(row).to_be_visible()
        expect(other.locator(f"#approval-{approval_id}-people")).to_have_text(str(STAFF_COUNT))
        shot(other, artefacts, "approvals-queue")
        with other.expect_navigation():
            other.click(f"#open-{approval_id}")
        expect(other.locator("#approval-people")).to_have_text(str(STAFF_COUNT))
        expect(other.locator("#approval-agreement")).to_contain_text("DSA-17")
        expect(other.locator("#approval-justification")).to_contain_text("transfer list")
        # The preview is masked: no NI number in full on the approver's page.
        detail = other.content()
        assert [
            n for n in _ni_numbers(portal) if n.replace(" ", "") in detail.replace(" ", "")
        ] == []
        shot(other, artefacts, "approval-detail")
        other.fill("#decide-reason", "Approved for the TUPE consultation under DSA-17.")
        with other.expect_navigation():
            other.click("#approve-submit")
        expect(other.locator("#approval-status")).to_have_text("approved")
        shot(other, artefacts, "approval-decided")

        # The sender's list updates by itself (htmx polling), no reload.
        expect(page.locator(f"#submission-{approval_id}-status")).to_have_text(
            "approved", timeout=20_000
        )
        expect(page.locator(f"#submission-{approval_id}")).to_contain_text("ann.approver")
        shot(page, artefacts, "submissions-approved")
        assert csp == [], csp
    finally:
        sender_ctx.close()
        approver_ctx.close()


def test_sender_cannot_open_or_decide_their_item(as_role: RoleContext, portal: Portal) -> None:
    page = as_role("sender").new_page()
    approval_id = _check_staff_list(page, portal)
    response = page.goto(f"{portal.url}/approvals/{approval_id}")
    assert response is not None
    assert response.status == 403
    token = page.locator("#logout-form input[name=csrf_token]").input_value()
    decided = page.request.post(
        f"{portal.url}/approvals/{approval_id}/decide",
        form={"csrf_token": token, "decision": "approve", "reason": "my own"},
        max_redirects=0,
    )
    assert decided.status == 403


def test_four_eyes_an_approver_cannot_approve_their_own_item(
    as_role: RoleContext, portal: Portal, artefacts: Path
) -> None:
    page = as_role("approver2").new_page()
    approval_id = _check_staff_list(page, portal)
    page.goto(f"{portal.url}/approvals/{approval_id}")
    page.fill("#decide-reason", "I would like to send it.")
    with page.expect_navigation():
        page.click("#approve-submit")
    expect(page.locator("#decide-error")).to_contain_text("four-eyes")
    shot(page, artefacts, "four-eyes-refused")
    page.goto(f"{portal.url}/approvals/{approval_id}")
    expect(page.locator("#approval-status")).to_have_text("held")


ISOLATION = [
    ("sender", "/approvals"),
    ("sender", "/approvals.json"),
    ("sender", "/audit"),
    ("sender", "/dashboard"),
    ("sender", "/agreements"),
    ("sender", "/users"),
    ("approver", "/audit"),
    ("approver", "/audit.json"),
    ("approver", "/dashboard"),
    ("approver", "/agreements/new"),  # approvers read agreements; only the DPO edits
    ("dpo", "/users"),
]


@pytest.mark.parametrize(("role", "path"), ISOLATION)
def test_roles_are_isolated(
    as_role: RoleContext, portal: Portal, artefacts: Path, role: str, path: str
) -> None:
    page = as_role(role).new_page()
    response = page.goto(portal.url + path)
    assert response is not None
    assert response.status == 403, f"{role} on {path}: {response.status}"
    if path in ("/approvals", "/audit") and role == "sender":
        shot(page, artefacts, f"forbidden-{role}-{path}")


def test_forms_without_the_csrf_token_are_refused(
    context: BrowserContext, portal: Portal, artefacts: Path
) -> None:
    page = context.new_page()
    sign_in(page, portal, portal.accounts["sender"])
    page.goto(f"{portal.url}/check")
    # A forged form: same fields, wrong token (as a cross-site page would send).
    page.eval_on_selector("#check-form input[name=csrf_token]", "e => e.value = 'forged'")
    assert portal.staff_xlsx is not None
    page.set_input_files("#check-files", str(portal.staff_xlsx))
    page.fill("#check-recipients", BIDDER)
    with page.expect_response(lambda r: r.url.endswith("/check")) as info:
        page.click("#check-submit")
    assert info.value.status == 403
    shot(page, artefacts, "csrf-refused")
    # No token at all, with the session cookie: refused too.
    refused = context.request.post(f"{portal.url}/logout", max_redirects=0)
    assert refused.status == 403
    # The session still works: the refused sign-out did not sign out.
    response = page.goto(f"{portal.url}/check")
    assert response is not None
    assert response.status == 200


def test_an_idle_session_expires(context: BrowserContext, portal: Portal) -> None:
    page = context.new_page()
    sign_in(page, portal, portal.accounts["approver2"])
    page.goto(f"{portal.url}/approvals")
    expect(page.locator("#approvals-queue")).to_be_visible()
    # Age this session past the idle limit (30 minutes by default), as if
    # the browser had been left alone for two hours.
    token = next(c["value"] for c in context.cookies() if c["name"] == SESSION_COOKIE)
    engine = make_engine(url=f"sqlite:///{portal.home / 'shareguard.db'}")
    try:
        with engine.begin() as conn:
            past = datetime.now(UTC) - timedelta(hours=2)
            done = conn.execute(
                update(WebSessionRow)
                .where(WebSessionRow.token_hash == token_hash(token))
                .values(last_seen_at=past)
            )
            assert done.rowcount == 1
    finally:
        engine.dispose()
    page.goto(f"{portal.url}/approvals")
    assert "/login" in page.url
    expect(page.locator("#login-form")).to_be_visible()
    # Its JSON twin answers 401 rather than a page.
    answer = context.request.get(f"{portal.url}/approvals.json", max_redirects=0)
    assert answer.status == 401


def test_phone_width_layout(browser: Browser, portal: Portal, artefacts: Path) -> None:
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        page.goto(f"{portal.url}/login")
        shot(page, artefacts, "phone-login")
        sign_in(page, portal, portal.accounts["dpo"])
        for path in ("/check", "/approvals", "/audit", "/dashboard"):
            page.goto(portal.url + path)
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at phone width"
            expect(page.locator("#main-nav")).to_be_visible()
            expect(page.locator("h1")).to_be_in_viewport()
            shot(page, artefacts, f"phone-{path}")
    finally:
        ctx.close()


# Every page, per role allowed on it: (role or None for signed out, path).
PAGES = [
    (None, "/login"),
    ("sender", "/check"),
    ("sender", "/submissions"),
    ("sender", "/account"),
    ("approver", "/approvals"),
    ("approver", "/agreements"),
    ("approver", "/agreements/DSA-17"),
    ("approver", "/agreements/DSA-17/diff"),
    ("dpo", "/agreements/new"),
    ("dpo", "/agreements/DSA-17/edit"),
    ("dpo", "/audit"),
    ("dpo", "/audit/verify"),
    ("dpo", "/dashboard"),
    ("dpo", "/incidents"),
    ("admin", "/users"),
]


@pytest.mark.parametrize(("role", "path"), PAGES)
def test_every_page_passes_axe(
    browser: Browser,
    as_role: RoleContext,
    portal: Portal,
    axe_js: Path,
    artefacts: Path,
    role: str | None,
    path: str,
) -> None:
    context = as_role(role)
    page = context.new_page()
    csp = watch_csp(page)
    response = page.goto(portal.url + path)
    assert response is not None
    assert response.status == 200
    shot(page, artefacts, f"page-{role or 'anonymous'}-{path}")
    violations = axe_violations(browser, context, portal.url + path, axe_js)
    assert violations == [], describe(violations)
    assert csp == [], csp


def test_check_result_and_held_item_pages_pass_axe(
    browser: Browser, as_role: RoleContext, portal: Portal, axe_js: Path, artefacts: Path
) -> None:
    # The result is the answer to a POST: checked in a context that lets
    # axe in (bypass_csp), then examined where it stands.
    page = as_role("sender", bypass_csp=True).new_page()
    approval_id = _check_staff_list(page, portal)
    violations = run_axe(page, axe_js)
    assert violations == [], describe(violations)
    context = as_role("approver2")
    page = context.new_page()
    url = f"{portal.url}/approvals/{approval_id}"
    page.goto(url)
    shot(page, artefacts, "approval-detail-held")
    for viewport in (LAPTOP, PHONE):
        violations = axe_violations(browser, context, url, axe_js, viewport=viewport)
        assert violations == [], describe(violations)


def test_dpo_opens_an_incident_about_a_check(
    browser: Browser, as_role: RoleContext, portal: Portal, axe_js: Path, artefacts: Path
) -> None:
    """The DPO opens an incident on the audit record of the staff-list check:
    the 72-hour clock runs and the affected people are counted."""
    sender = as_role("sender").new_page()
    _check_staff_list(sender, portal)
    record = sender.locator("#check-result").get_attribute("data-record")
    assert record
    context = as_role("dpo")
    page = context.new_page()
    page.goto(f"{portal.url}/incidents")
    now = datetime.now(UTC)
    page.fill("#incident-title", "Staff list sent to the wrong bidder")
    page.fill("#incident-records", record)
    page.fill("#incident-occurred", (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#incident-discovered", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#incident-zone", "UTC")
    with page.expect_navigation():
        page.click("#incident-submit")
    expect(page.locator("#incident-clock")).to_be_visible()
    expect(page.locator("#affected-total")).to_have_text(str(STAFF_COUNT))
    shot(page, artefacts, "incident-detail")
    violations = axe_violations(browser, context, page.url, axe_js)
    assert violations == [], describe(violations)
