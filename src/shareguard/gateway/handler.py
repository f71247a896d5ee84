"""One message through the filter: assess, act, record, answer.

Replies are per recipient (LMTP), so a message to several recipients is
split by construction: each gets the answer its own decision allows, and
Postfix bounces, defers or forgets each recipient on its own.

Fail closed: any error, timeout or overload inside the filter is a 451 for
every recipient not yet settled, and Postfix keeps the message queued and
tries again later.  Nothing is ever passed on without a decision.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import structlog

from shareguard.gateway.assess import DELIVER, HOLD, Assessment, Verdict, assess_in_worker
from shareguard.gateway.commits import GroupCommit
from shareguard.gateway.ledger import PASSED, Ledger, Outcome
from shareguard.gateway.reinject import ReinjectError, Reinjector, Reply

log = structlog.get_logger(__name__)

TEMPFAIL = "451 4.3.0 ShareGuard could not check this message; try again later"
OVERLOADED = "451 4.3.2 ShareGuard is busy; try again later"
TIMED_OUT = "451 4.4.7 ShareGuard took too long to check this message; try again later"


def passed_header(record_id: int | None, decision: str, approval: str | None = None) -> bytes:
    """The trace header on a passed-on copy: ids only, nothing found."""
    value = f"record={record_id}; decision={decision}"
    if approval:
        value += f"; approval={approval}"
    return f"X-ShareGuard: {value}\r\n".encode("ascii")


def null_sender(mail_from: str | None) -> str:
    """The envelope sender; a bounce's null sender (``MAIL FROM:<>``, which
    aiosmtpd gives as ``<>``) as the empty string aiosmtplib sends as ``<>``."""
    return "" if mail_from in (None, "", "<>") else str(mail_from)


def refusal(record_id: int | None) -> str:
    # Short and content-free: Postfix puts this text in the bounce.
    return (
        "550 5.7.1 Refused by the data-sharing policy for this recipient "
        f"(ShareGuard record {record_id})"
    )


def _answer(v: Verdict) -> str:
    if v.action == DELIVER:
        return f"250 2.0.0 Passed on (ShareGuard record {v.record_id})"
    if v.action == HOLD:
        return f"250 2.0.0 Held for approval {v.approval_id} (ShareGuard record {v.record_id})"
    return refusal(v.record_id)


def _reinject_answer(v: Verdict, reply: Reply) -> str:
    if reply.accepted:
        return _answer(v)
    if 500 <= reply.code < 600:
        # Postfix's own re-entry smtpd refused the recipient for good
        # (unknown user, ...): the same refusal goes back.
        return f"{reply.code} 5.0.0 Refused on re-injection (ShareGuard record {v.record_id})"
    return TEMPFAIL


class FilterHandler:
    """aiosmtpd handler: ``handle_DATA`` answers one line per recipient."""

    def __init__(
        self,
        *,
        executor: Callable[[], Executor],
        on_broken: Callable[[], None],
        ledger: Ledger,
        reinjector: Reinjector,
        concurrency: int,
        slot_wait: float,
        timeout: float,
        on_hold: Callable[[], None] = lambda: None,
    ) -> None:
        self._executor = executor
        self._on_broken = on_broken
        self.ledger = ledger
        self.commits = GroupCommit(ledger)
        self.reinjector = reinjector
        self._slots = asyncio.Semaphore(concurrency)
        self.slot_wait = slot_wait
        self.timeout = timeout
        self._on_hold = on_hold
        self._stages: dict[int, dict[str, float]] = {}  # per message, for the log line

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipients: list[str] = list(envelope.rcpt_tos)
        started = time.monotonic()
        log.info("gateway.received", recipients=len(recipients), bytes=len(envelope.content))
        try:
            await asyncio.wait_for(self._slots.acquire(), self.slot_wait)
        except TimeoutError:
            log.warning("gateway.overloaded", recipients=len(recipients))
            return "\r\n".join([OVERLOADED] * len(recipients))
        try:
            answers = await self._process(
                envelope.content,
                null_sender(envelope.mail_from),
                recipients,
                envelope.mail_options,
                self._stages.setdefault(id(envelope), {}),
            )
        except TimeoutError:
            log.warning("gateway.timeout", recipients=len(recipients))
            answers = [TIMED_OUT] * len(recipients)
        except Exception as exc:  # fail closed, whatever it was
            if isinstance(exc, BrokenProcessPool):
                self._on_broken()
            log.error("gateway.error", error=type(exc).__name__, recipients=len(recipients))
            answers = [TEMPFAIL] * len(recipients)
        finally:
            self._slots.release()
        log.info(
            "gateway.message",
            recipients=len(recipients),
            answers=[a[:3] for a in answers],
            ms=round((time.monotonic() - started) * 1000, 1),
            **self._stages.pop(id(envelope), {}),
        )
        return "\r\n".join(answers)

    async def _process(
        self,
        raw: bytes,
        sender: str,
        recipients: list[str],
        options: Sequence[str],
        stages: dict[str, float],
    ) -> list[str]:
        loop = asyncio.get_running_loop()
        queued = time.monotonic()
        # Only the scan and decision are timed out: once a copy is passed
        # on, the ledger write after it must not be cancelled.
        assessment: Assessment = await asyncio.wait_for(
            loop.run_in_executor(self._executor(), assess_in_worker, raw, sender, recipients),
            self.timeout,
        )
        stages.update(
            scan_ms=assessment.scan_ms,
            decide_ms=assessment.decide_ms,
            assess_ms=round((time.monotonic() - queued) * 1000, 1),  # includes waiting
        )
        answers = {v.recipient: _answer(v) for v in assessment.verdicts}
        to_pass = [v for v in assessment.verdicts if v.action == DELIVER and not v.done]
        to_pass = list({v.recipient: v for v in to_pass}.values())
        if to_pass:
            passing = time.monotonic()
            answers.update(await self._pass_on(assessment, raw, sender, to_pass, options))
            stages["pass_on_ms"] = round((time.monotonic() - passing) * 1000, 1)
        if any(v.action == HOLD and not v.done for v in assessment.verdicts):
            self._on_hold()  # the release loop sends the sender a notice
        return [answers[r] for r in recipients]

    async def _pass_on(
        self,
        assessment: Assessment,
        raw: bytes,
        sender: str,
        verdicts: list[Verdict],
        options: Sequence[str],
    ) -> dict[str, str]:
        record_id = verdicts[0].record_id
        data = passed_header(record_id, "allow") + raw
        try:
            replies = await self.reinjector.send(
                sender, [v.recipient for v in verdicts], data, options
            )
        except ReinjectError as exc:
            log.warning("gateway.reinject_failed", error=str(exc))
            return {v.recipient: TEMPFAIL for v in verdicts}
        accepted = [v for v in verdicts if replies[v.recipient].accepted]
        # Durable before the answer: a hand-over repeated after this point
        # is answered from the ledger, not passed on again.
        await self.commits.record(
            assessment.key, sender, [Outcome(v.recipient, PASSED, v.record_id) for v in accepted]
        )
        return {v.recipient: _reinject_answer(v, replies[v.recipient]) for v in verdicts}
