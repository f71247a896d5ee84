"""The release loop: what happens to a held message after the hold.

For each held recipient the ledger row moves, by compare-and-set, so that
of several gateway processes exactly one acts on it:

- ``held`` (sender not told yet): the sender gets a notice with the
  approval reference and reasons;
- ``held`` -> ``releasing`` when the approval item is approved; then the
  item is released (recorded by :class:`~shareguard.approvals.Approvals`),
  the original re-injected, and the row moved to ``released``;
- ``held`` -> ``rejected`` when the item is rejected; the sender is told.

A crash between re-injection and the move to ``released`` leaves the row
``releasing``; the next pass re-injects it (the only case in which a
recipient can get a released message twice, and only if Postfix had
already accepted it in that moment).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Engine

from shareguard.approvals import ApprovalRefused, Approvals
from shareguard.errors import ShareGuardError
from shareguard.gateway.assess import ACTOR, MESSAGE_NAME
from shareguard.gateway.handler import passed_header
from shareguard.gateway.ledger import (
    HELD,
    REFUSED,
    REJECTED,
    RELEASED,
    RELEASING,
    Entry,
    Ledger,
    message_id,
)
from shareguard.gateway.notices import held_notice, rejected_notice
from shareguard.gateway.reinject import ReinjectError, Reinjector
from shareguard.store.approvals import Approval, ApprovalStore
from shareguard.store.quarantine import Quarantine

log = structlog.get_logger(__name__)


@dataclass
class Counts:
    notified: int = 0
    released: int = 0
    rejected: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _message(bundle: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        return z.read(MESSAGE_NAME)


class Releaser:
    def __init__(
        self, engine: Engine, root_key: bytes, reinjector: Reinjector, postmaster: str
    ) -> None:
        self.ledger = Ledger(engine)
        self.approvals = Approvals(engine, root_key)
        self.store = ApprovalStore(engine)
        self.quarantine = Quarantine(engine, root_key)
        self.reinjector = reinjector
        self.postmaster = postmaster

    def _original(self, item: Approval) -> bytes:
        if item.quarantine_id is None:
            raise ApprovalRefused(f"item {item.id} has no quarantined content")
        return _message(self.quarantine.get(item.quarantine_id))

    def _original_id(self, item: Approval | None) -> str:
        """The held message's Message-ID, for the notice's In-Reply-To
        (empty once the quarantine was purged)."""
        if item is None:
            return ""
        try:
            return message_id(self._original(item)).decode("ascii", "replace")
        except ShareGuardError:
            return ""

    async def run_once(self) -> Counts:
        counts = Counts()
        await self._notify_held(counts)
        await self._settle(counts)
        await self._release(counts)
        await self._notify_rejected(counts)
        return counts

    async def run_forever(self, interval: float, wake: asyncio.Event) -> None:
        while True:
            try:
                counts = await self.run_once()
                if counts.notified or counts.released or counts.rejected or counts.failed:
                    log.info(
                        "gateway.release_pass",
                        notified=counts.notified,
                        released=counts.released,
                        rejected=counts.rejected,
                        failed=counts.failed,
                    )
            except Exception as exc:  # the loop outlives a bad pass
                log.error("gateway.release_error", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), interval)
            wake.clear()

    async def _notify_held(self, counts: Counts) -> None:
        rows = await asyncio.to_thread(self.ledger.untold, HELD)
        by_message: dict[tuple[str, str], list[Entry]] = defaultdict(list)
        for e in rows:
            by_message[(e.message_key, e.sender)].append(e)
        for (key, sender), entries in by_message.items():
            if sender:  # a bounce (null sender) has nobody to tell
                items = [
                    await asyncio.to_thread(self.store.get, e.approval_id or "") for e in entries
                ]
                first = next((i for i in items if i is not None), None)
                notice = held_notice(
                    self.postmaster,
                    sender,
                    await asyncio.to_thread(self._original_id, first),
                    [(e.recipient, i, e.approval_id) for e, i in zip(entries, items, strict=True)],
                )
                if not await self._send_notice(sender, notice, counts):
                    continue
            await asyncio.to_thread(
                self.ledger.mark_notice, key, [e.recipient for e in entries], HELD
            )
            counts.notified += 1

    async def _send_notice(self, sender: str, notice: bytes, counts: Counts) -> bool:
        try:
            replies = await self.reinjector.send(self.postmaster, [sender], notice)
        except ReinjectError as exc:
            counts.failed += 1
            counts.errors.append(str(exc))
            return False
        return all(r.accepted for r in replies.values())

    async def _settle(self, counts: Counts) -> None:
        for e, status in await asyncio.to_thread(self.ledger.decided_holds):
            target = RELEASING if status == "approved" else REJECTED
            await asyncio.to_thread(self.ledger.move, e.message_key, e.recipient, HELD, target)

    async def _release(self, counts: Counts) -> None:
        for e in await asyncio.to_thread(self.ledger.in_state, RELEASING):
            try:
                raw = await asyncio.to_thread(self._take, e)
            except ApprovalRefused as exc:
                counts.failed += 1
                counts.errors.append(str(exc))
                continue
            data = passed_header(e.record_id, "released", e.approval_id) + raw
            try:
                replies = await self.reinjector.send(e.sender, [e.recipient], data)
            except ReinjectError as exc:
                counts.failed += 1
                counts.errors.append(str(exc))
                continue  # still releasing: the next pass tries again
            reply = replies[e.recipient]
            if reply.accepted:
                await asyncio.to_thread(
                    self.ledger.move, e.message_key, e.recipient, RELEASING, RELEASED
                )
                counts.released += 1
            elif reply.code >= 500:
                log.warning("gateway.release_refused", code=reply.code)
                await asyncio.to_thread(
                    self.ledger.move, e.message_key, e.recipient, RELEASING, REFUSED
                )
                counts.failed += 1

    def _take(self, e: Entry) -> bytes:
        """The original message of a row being released: released from the
        approvals (recorded) the first time, read again after a crash."""
        item = self.store.get(e.approval_id or "")
        if item is None:
            raise ApprovalRefused(f"no held item {e.approval_id}")
        if item.status == "approved":
            files = self.approvals.release(item.id, by=ACTOR)
            return files[MESSAGE_NAME]
        if item.status == "released":
            return self._original(item)
        raise ApprovalRefused(f"item {item.id} is {item.status}, not approved")

    async def _notify_rejected(self, counts: Counts) -> None:
        for e in await asyncio.to_thread(self.ledger.untold, REJECTED):
            if e.sender:
                item = await asyncio.to_thread(self.store.get, e.approval_id or "")
                notice = rejected_notice(
                    self.postmaster,
                    e.sender,
                    await asyncio.to_thread(self._original_id, item),
                    e.recipient,
                    item,
                )
                if not await self._send_notice(e.sender, notice, counts):
                    continue
            await asyncio.to_thread(self.ledger.mark_notice, e.message_key, [e.recipient], REJECTED)
            counts.rejected += 1
