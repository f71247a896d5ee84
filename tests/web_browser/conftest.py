"""The real portal in a child process (`shareguard serve` on a free port, its
own SHAREGUARD_HOME with SQLite), and Debian's Chromium driven by Playwright.

The Playwright package's own browser download cannot work here, so Chromium
is launched by its path; Playwright gives every launch a fresh, temporary
profile (user-data-dir).  axe-core comes from the npm registry via
`make test` (``SHAREGUARD_AXE_JS``); screenshots of every page go to
``$SHAREGUARD_ARTEFACTS`` or ``tests/web_browser/artefacts/``.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import (
    ACCOUNTS,
    BIDDER_AGREEMENT,
    CHROMIUM,
    CHROMIUM_ARGS,
    LAPTOP,
    SHAREGUARD,
    Account,
    Portal,
    RoleContext,
    make_staff_workbook,
    sign_in,
)
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"shareguard serve exited with {proc.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"shareguard serve did not answer /healthz within 60 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def artefacts() -> Path:
    where = Path(
        os.environ.get("SHAREGUARD_ARTEFACTS") or Path(__file__).parent / "artefacts"
    ).resolve()
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture(scope="session")
def axe_js() -> Path:
    path = os.environ.get("SHAREGUARD_AXE_JS")
    assert path, "run the tests with `make test`, which fetches axe-core (SHAREGUARD_AXE_JS)"
    assert Path(path).is_file(), f"SHAREGUARD_AXE_JS={path} does not exist: run `make test`"
    return Path(path)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """`shareguard serve` on a free port with its own home, users added with
    `shareguard users add` (password on stdin), the bidder agreement loaded."""
    home = tmp_path_factory.mktemp("portal-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAREGUARD_")}
    env |= {"SHAREGUARD_HOME": str(home), "SHAREGUARD_LOG_FORMAT": "json"}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(SHAREGUARD), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(url, proc, log)
        p = Portal(url, home, env)
        rng = random.Random(4)
        commands: list[tuple[list[str], str | None]] = []
        for key, name, role in ACCOUNTS:
            password = f"Pw-{rng.getrandbits(64):016x}-{role}"
            email = f"{name}@council.example"
            p.accounts[key] = Account(name, role, email, password)
            commands.append((["users", "add", name, "--role", role, "--email", email], password))
        commands.append((["agreements", "load", str(BIDDER_AGREEMENT), "--by", "dora.dpo"], None))
        # At once: each command is mostly interpreter start-up.
        running = [
            (
                args,
                subprocess.Popen(
                    [str(SHAREGUARD), *args],
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
                stdin,
            )
            for args, stdin in commands
        ]
        p.staff_xlsx = make_staff_workbook(home / "facilities-staff.xlsx")
        for args, child, stdin in running:
            _, err = child.communicate(stdin, timeout=120)
            assert child.returncode == 0, f"shareguard {' '.join(args[:3])}: {err}"
        yield p
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    assert CHROMIUM.exists() or shutil.which("chromium"), (
        "Debian's chromium is missing: `make test` installs it (tools/system-deps.sh)"
    )
    b = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (no cookies) at laptop width."""
    ctx = browser.new_context(viewport=LAPTOP)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def role_states(browser: Browser, portal: Portal) -> dict[str, Any]:
    """Each role's signed-in cookies, from one sign-in through the form per
    role (argon2 is slow on purpose; the tests that are about signing in
    sign in themselves)."""
    states: dict[str, Any] = {}
    for key in portal.accounts:
        ctx = browser.new_context()
        page = ctx.new_page()
        sign_in(page, portal, portal.accounts[key])
        states[key] = ctx.storage_state()
        ctx.close()
    return states


@pytest.fixture
def as_role(browser: Browser, role_states: dict[str, Any]) -> Iterator[RoleContext]:
    """``as_role("dpo")``: a new browser context signed in as that role."""
    opened: list[BrowserContext] = []

    def make(role: str | None, **options: Any) -> BrowserContext:
        state = role_states[role] if role else None
        ctx = browser.new_context(storage_state=state, viewport=LAPTOP, **options)
        ctx.set_default_timeout(15_000)
        opened.append(ctx)
        return ctx

    yield make
    for ctx in opened:
        ctx.close()
