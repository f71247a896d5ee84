"""Helpers the browser tests share: signing in, the axe-core check, the
Content-Security-Policy watch."""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHAREGUARD = Path(sys.executable).with_name("shareguard")
REPO = Path(__file__).resolve().parents[2]
BIDDER_AGREEMENT = REPO / "examples" / "agreements" / "outsourcing-bidder.yaml"
STAFF_COUNT = 240
# Viewports: a laptop, and a phone held upright.
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


# Makes a browser context signed in as a role (None: signed out).
RoleContext = Callable[..., BrowserContext]


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: str
    email: str
    password: str


@dataclass
class Portal:
    """A running portal: its URL, data directory and the people who use it."""

    url: str
    home: Path
    env: dict[str, str]
    accounts: dict[str, Account] = field(default_factory=dict)
    staff_xlsx: Path | None = None


def nino(rng: random.Random) -> str:
    """A National Insurance number of a valid shape (never a real person's:
    the generator is seeded and the people are made up)."""
    letters = "ABCEGHJKLMNPRSTWXYZ"  # never D, F, I, O, Q, U or V
    first, second = rng.choice(letters), rng.choice(letters)
    while first + second in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:  # not allocated
        second = rng.choice(letters)
    digits = f"{rng.randrange(10**6):06d}"
    return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {rng.choice('ABCD')}"


def make_staff_workbook(path: Path, count: int = STAFF_COUNT, seed: int = 10) -> Path:
    """An HR staff list: names, NI numbers, dates of birth, grades, pay."""
    from faker import Faker
    from openpyxl import Workbook

    fake = Faker("en_GB")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Staff"
    ws.append(
        [
            "Employee ID",
            "First name",
            "Surname",
            "NI number",
            "Date of birth",
            "Postcode",
            "Department",
            "Grade",
            "Salary",
            "FTE",
        ]
    )
    for i in range(count):
        ws.append(
            [
                f"E{10000 + i}",
                fake.first_name(),
                fake.last_name(),
                nino(rng),
                fake.date_of_birth(minimum_age=18, maximum_age=66),
                fake.postcode(),
                rng.choice(["Facilities", "Cleaning", "Catering", "Security", "Grounds"]),
                rng.choice(["FM1", "FM2", "FM3", "FM4"]),
                rng.randrange(19_000, 48_000, 250),
                rng.choice([1.0, 1.0, 0.8, 0.6, 0.5]),
            ]
        )
    wb.save(path)
    return path


# (key in Portal.accounts, user name, role)
ACCOUNTS = (
    ("sender", "sam.sender", "sender"),
    ("approver", "ann.approver", "approver"),
    ("approver2", "abe.approver", "approver"),
    ("dpo", "dora.dpo", "dpo"),
    ("admin", "ada.admin", "admin"),
)


def sign_in(page: Page, portal: Portal, account: Account, next_path: str = "/") -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"{portal.url}/login?next={next_path}")
    page.fill("#username", account.name)
    page.fill("#password", account.password)
    with page.expect_navigation():
        page.click("#login-submit")
    assert "/login" not in page.url, f"sign-in as {account.name} failed: {page.url}"


def watch_csp(page: Page) -> list[str]:
    """Collect Content-Security-Policy violations the page reports: the
    portal must work without inline scripts or styles."""
    seen: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text:
            seen.append(msg.text)

    page.on("console", on_console)
    return seen


def run_axe(page: Page, axe_js: Path) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now.  The page's context
    must bypass CSP (the policy rightly refuses the injected script)."""
    page.add_script_tag(path=str(axe_js))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


def axe_violations(
    browser: Browser,
    signed_in: BrowserContext | None,
    url: str,
    axe_js: Path,
    viewport: ViewportSize | None = None,
) -> list[dict[str, Any]]:
    """axe-core's violations on ``url``, loaded with the cookies of
    ``signed_in`` in a context of its own that bypasses CSP: only the axe run
    does, the flows themselves run under the portal's policy."""
    state = signed_in.storage_state() if signed_in is not None else None
    ctx = browser.new_context(
        bypass_csp=True,
        storage_state=state,
        viewport=viewport or LAPTOP,
    )
    try:
        page = ctx.new_page()
        response = page.goto(url)
        assert response is not None
        assert response.ok, f"{url} answered {response.status}"
        return run_axe(page, axe_js)
    finally:
        ctx.close()


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=1)


def shot(page: Page, artefacts: Path, name: str) -> None:
    """Save a full-page screenshot as a test artefact."""
    page.screenshot(
        path=str(artefacts / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"), full_page=True
    )
