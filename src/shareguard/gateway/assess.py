"""Scan a message and decide for each recipient: the part of the gateway
that runs in the scanning processes, off the event loop.

The whole message goes to the scanner as one ``.eml`` so that its body,
every attachment and every archive inside one are covered.  The decision,
audit record, quarantine and approvals come from
:class:`~shareguard.disclosure.Disclosures`; the ledger then records the
holds and refusals before the filter answers (passes are recorded by the
caller once Postfix has accepted the re-injected copy).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shareguard.config import Settings
from shareguard.detect.scanner import Scanner
from shareguard.disclosure import Disclosures, Outgoing
from shareguard.gateway.ledger import (
    FINAL,
    HELD,
    PASSED,
    REFUSED,
    RELEASED,
    RELEASING,
    Ledger,
    Outcome,
    message_key,
    normalise,
)
from shareguard.model import FileReport
from shareguard.pipeline import make_scanner, scan_bytes
from shareguard.policy.agreements import Policy
from shareguard.policy.engine import AgreementVersion
from shareguard.render import summarise
from shareguard.store.db import make_engine

MESSAGE_NAME = "message.eml"
ACTOR = "gateway"

DELIVER = "deliver"
HOLD = "hold"
REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do for one envelope recipient.  ``done``: the ledger says it
    was already done on an earlier hand-over; answer again, do nothing."""

    recipient: str
    action: str
    record_id: int | None
    approval_id: str | None = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class Assessment:
    key: str
    verdicts: tuple[Verdict, ...]
    data_subjects: int
    scanned: bool
    scan_ms: float = 0.0  # extraction and detection
    decide_ms: float = 0.0  # decision, audit record, quarantine, ledger


# Header fields scanned: the subject and what MIME parsing needs.  The
# address and trace fields (From, To, Cc, Received, Message-ID ...) name the
# correspondents themselves; counted as personal data they would make every
# message "personal" and hold all external mail.  They are still delivered
# and quarantined unchanged: only the scanned copy leaves them out.
_SCANNED_FIELDS = frozenset(
    {
        b"subject",
        b"mime-version",
        b"content-type",
        b"content-transfer-encoding",
        b"content-disposition",
        b"content-description",
    }
)


def scanned_copy(raw: bytes) -> bytes:
    """The message as the scanner sees it: the top-level header block
    reduced to the subject and the MIME fields, the body untouched."""
    end = raw.find(b"\r\n\r\n")
    sep = 4
    if end < 0 or (0 <= raw.find(b"\n\n") < end):
        end, sep = raw.find(b"\n\n"), 2
    if end < 0:
        return raw  # no body: nothing to leave out safely
    kept: list[bytes] = []
    keep = False
    for line in raw[:end].splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):  # continuation of a folded field
            if keep:
                kept.append(line)
            continue
        keep = line.split(b":", 1)[0].strip().lower() in _SCANNED_FIELDS
        if keep:
            kept.append(line)
    if kept and not kept[-1].endswith(b"\n"):
        kept[-1] += raw[end : end + sep // 2]
    return b"".join(kept) + raw[end + sep // 2 :]


def too_large(size: int) -> FileReport:
    """The report of a message too large to scan: uninspectable, so the
    policy decides (hold by default); never passed as clean."""
    return FileReport(
        path=MESSAGE_NAME,
        media_type="message/rfc822",
        data_subjects=0,
        own_data_subjects=0,
        entities={},
        special_category=(),
        uninspectable=f"message of {size} bytes exceeds the gateway's scan limit",
        findings=(),
        parts=(),
    )


_ACTION_OF_STATE = {
    PASSED: DELIVER,
    RELEASING: DELIVER,
    RELEASED: DELIVER,
    HELD: HOLD,
    REFUSED: REFUSE,
}


# How long a scanning process reuses the policy file and the agreements in
# force before reading them again.  Reading them for every message (YAML
# parse, a query and model validation) cost more than scanning a small one;
# a newly loaded or superseded agreement applies this much later at most.
POLICY_TTL_SECONDS = 5.0


@dataclass
class _Cached:
    value: Any
    at: float


class CachedDisclosures(Disclosures):
    """The check flow with the policy and agreements kept for a few seconds."""

    _cache: dict[str, _Cached] | None = None

    def _get(self, name: str, load: Callable[[], Any]) -> Any:
        cache = self._cache = self._cache or {}
        hit = cache.get(name)
        now = time.monotonic()
        if hit is None or now - hit.at > POLICY_TTL_SECONDS:
            hit = cache[name] = _Cached(load(), now)
        return hit.value

    def policy(self) -> Policy:
        policy: Policy = self._get("policy", super().policy)
        return policy

    def agreements(self) -> list[AgreementVersion]:
        versions: list[AgreementVersion] = self._get("agreements", super().agreements)
        return versions


class Assessor:
    """Scanner, store and policy of one scanning process."""

    def __init__(self, settings: Settings, scanner: Scanner | None = None) -> None:
        self.settings = settings
        self.scanner = scanner or make_scanner(settings)
        self.engine = make_engine(settings)
        self.disclosures = CachedDisclosures(settings, self.engine)
        self.ledger = Ledger(self.engine)

    def assess(self, raw: bytes, sender: str, recipients: Sequence[str]) -> Assessment:
        key = message_key(raw)
        known = self.ledger.entries(key, recipients)
        verdicts: dict[str, Verdict] = {}
        for r, e in known.items():
            if e.state in FINAL:
                # "rejected" was held first: the sender was told, Postfix was
                # already given its 250.
                action = _ACTION_OF_STATE.get(e.state, HOLD)
                verdicts[r] = Verdict(r, action, e.record_id, e.approval_id, done=True)
        new = [r for r in dict.fromkeys(recipients) if r not in verdicts]
        if not new:
            return Assessment(key, tuple(verdicts[r] for r in recipients), 0, False)
        started = time.perf_counter()
        limit = self.settings.gateway.max_scan_bytes
        if len(raw) > limit:
            top = too_large(len(raw))
        else:
            top = scan_bytes(scanned_copy(raw), MESSAGE_NAME, self.settings, self.scanner)
        scanned = time.perf_counter()
        people = self._decide(key, raw, sender, new, top, verdicts)
        return Assessment(
            key,
            tuple(verdicts[r] for r in recipients),
            people,
            True,
            round((scanned - started) * 1000, 1),
            round((time.perf_counter() - scanned) * 1000, 1),
        )

    def _decide(
        self,
        key: str,
        raw: bytes,
        sender: str,
        new: list[str],
        top: FileReport,
        out: dict[str, Verdict],
    ) -> int:
        report = summarise((top,))
        result = self.disclosures.check(
            report, [Outgoing(MESSAGE_NAME, raw)], sender, new, actor=ACTOR
        )
        by_address = {d.address: d for d in result.decision.recipients}
        held = [d.address for d in result.decision.recipients if d.decision == "hold"]
        approval_of = dict(zip(held, result.approval_ids, strict=True))
        outcomes: list[Outcome] = []
        for r in new:
            d = by_address[normalise(r)]
            if d.decision == "allow":
                out[r] = Verdict(r, DELIVER, result.record_id)
                continue
            if d.decision == "hold":
                out[r] = Verdict(r, HOLD, result.record_id, approval_of[d.address])
                outcomes.append(Outcome(r, HELD, result.record_id, approval_of[d.address]))
                continue
            # block, and minimise: the gateway cannot minimise a message, and
            # no approval exists to release it, so it is refused.
            out[r] = Verdict(r, REFUSE, result.record_id)
            outcomes.append(Outcome(r, REFUSED, result.record_id))
        self.ledger.record(key, sender, outcomes)
        return report.data_subjects


# ----------------------------------------------------------------------------- worker process

_assessor: Assessor | None = None
_PR_SET_PDEATHSIG = 1


def init_worker(settings: Settings) -> None:
    """Pool initialiser: die with the gateway (a SIGKILLed gateway must not
    leave scans running that nobody answers), ignore Ctrl-C (the parent
    shuts the pool down), load the scanner once."""
    global _assessor
    # not Linux: no prctl, and the pool's own shutdown remains
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _assessor = Assessor(settings)
    # Warm up: the first scan loads lexicons and compiles patterns.
    scan_bytes(b"Subject: warm up\r\n\r\nhello\r\n", MESSAGE_NAME, settings, _assessor.scanner)


def assess_in_worker(raw: bytes, sender: str, recipients: Sequence[str]) -> Assessment:
    assert _assessor is not None, "init_worker was not run"
    return _assessor.assess(raw, sender, recipients)
