"""The gateway's durable ledger: one row per message and recipient.

Postfix hands a message over again whenever it did not get a 2xx for it:
after a 451, a dropped connection, or a filter that died between passing
the message on and answering.  The ledger is what makes that retry
harmless: it is written *before* the filter answers, and a recipient whose
row says the message was already passed on, held or refused gets the same
answer again without the message being passed on twice.

Messages are keyed by their Message-ID and the SHA-256 of their exact
bytes (which include the Received header Postfix added with its queue id,
so two distinct messages with one Message-ID do not collide).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr

from sqlalchemy import Engine, or_, select, update

from shareguard.store.db import session_scope
from shareguard.store.models import ApprovalRow, GatewayDelivery

PASSED = "passed"  # re-injected to Postfix, accepted
HELD = "held"  # quarantined, waiting for an approval
REFUSED = "refused"  # 550 given
RELEASING = "releasing"  # approved; being re-injected
RELEASED = "released"  # approved and re-injected
REJECTED = "rejected"  # the approval was refused; the sender is told

# States after which Postfix is given a final answer for a recipient.
FINAL = frozenset({PASSED, HELD, REFUSED, RELEASING, RELEASED, REJECTED})

_HEADER_END = b"\r\n\r\n"
_MESSAGE_ID = b"\nmessage-id:"


def message_id(raw: bytes) -> bytes:
    """The Message-ID header's value, bytes as sent (empty if none).  Read
    from the raw header block, not by parsing the whole message."""
    end = raw.find(_HEADER_END)
    head = b"\n" + (raw if end < 0 else raw[:end])
    at = head.lower().find(_MESSAGE_ID)
    if at < 0:
        return b""
    start = at + len(_MESSAGE_ID)
    stop = head.find(b"\n", start)
    value = head[start:] if stop < 0 else head[start:stop]
    # a folded header continues on lines that start with white space
    while stop >= 0 and head[stop + 1 : stop + 2] in (b" ", b"\t"):
        nxt = head.find(b"\n", stop + 1)
        value += head[stop + 1 :] if nxt < 0 else head[stop + 1 : nxt]
        stop = nxt
    return b"".join(value.split())


def message_key(raw: bytes) -> str:
    """The ledger key of a message: SHA-256 over its Message-ID and the
    SHA-256 of its bytes."""
    content = hashlib.sha256(raw).digest()
    return hashlib.sha256(b"sg-gw1\0" + message_id(raw) + b"\0" + content).hexdigest()


def normalise(address: str) -> str:
    """A recipient as the decision engine names it (lower case, bare)."""
    return (parseaddr(address)[1] or address).strip().lower()


@dataclass(frozen=True, slots=True)
class Entry:
    message_key: str
    recipient: str
    sender: str
    state: str
    record_id: int | None
    approval_id: str | None
    notice: str | None


def _entry(row: GatewayDelivery) -> Entry:
    return Entry(
        row.message_key,
        row.recipient,
        row.sender,
        row.state,
        row.record_id,
        row.approval_id,
        row.notice,
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """A new ledger fact for one recipient."""

    recipient: str
    state: str
    record_id: int | None = None
    approval_id: str | None = None


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def entries(self, key: str, recipients: Iterable[str] | None = None) -> dict[str, Entry]:
        """The rows of one message, by recipient (all of them if None)."""
        q = select(GatewayDelivery).where(GatewayDelivery.message_key == key)
        if recipients is not None:
            q = q.where(GatewayDelivery.recipient.in_(sorted(set(recipients))))
        with session_scope(self.engine) as s:
            return {r.recipient: _entry(r) for r in s.execute(q).scalars()}

    def record(self, key: str, sender: str, outcomes: Sequence[Outcome]) -> None:
        """Write the outcomes of one message in one transaction (insert, or
        move an existing row on)."""
        self.record_many([(key, sender, outcomes)])

    def record_many(self, batch: Sequence[tuple[str, str, Sequence[Outcome]]]) -> None:
        """The outcomes of several messages in one transaction: one commit
        (one fsync) for all the messages answered at about the same time."""
        if not any(outcomes for _, _, outcomes in batch):
            return
        now = datetime.now(UTC)
        with session_scope(self.engine, write=True) as s:
            for key, sender, outcomes in batch:
                for o in outcomes:
                    row = s.get(GatewayDelivery, (key, o.recipient))
                    if row is None:
                        s.add(
                            GatewayDelivery(
                                message_key=key,
                                recipient=o.recipient,
                                sender=sender,
                                state=o.state,
                                record_id=o.record_id,
                                approval_id=o.approval_id,
                                notice=None,
                                created_at=now,
                                updated_at=now,
                            )
                        )
                    else:
                        row.state = o.state
                        if o.record_id is not None:
                            row.record_id = o.record_id
                        row.approval_id = o.approval_id or row.approval_id
                        row.updated_at = now
                s.flush()  # a key met twice in one batch is found by s.get

    def move(self, key: str, recipient: str, from_state: str, to_state: str) -> bool:
        """Compare-and-set one row's state: True if this caller moved it
        (so of several gateway processes exactly one acts on it)."""
        q = (
            update(GatewayDelivery)
            .where(
                GatewayDelivery.message_key == key,
                GatewayDelivery.recipient == recipient,
                GatewayDelivery.state == from_state,
            )
            .values(state=to_state, updated_at=datetime.now(UTC))
        )
        with session_scope(self.engine, write=True) as s:
            moved: int = s.execute(q).rowcount  # type: ignore[attr-defined]
            return moved == 1

    def mark_notice(self, key: str, recipients: Iterable[str], notice: str) -> None:
        q = (
            update(GatewayDelivery)
            .where(
                GatewayDelivery.message_key == key,
                GatewayDelivery.recipient.in_(sorted(set(recipients))),
            )
            .values(notice=notice, updated_at=datetime.now(UTC))
        )
        with session_scope(self.engine, write=True) as s:
            s.execute(q)

    def in_state(self, state: str, limit: int = 500) -> list[Entry]:
        """Rows in ``state``, oldest first."""
        q = (
            select(GatewayDelivery)
            .where(GatewayDelivery.state == state)
            .order_by(GatewayDelivery.updated_at)
            .limit(limit)
        )
        with session_scope(self.engine) as s:
            return [_entry(r) for r in s.execute(q).scalars()]

    def untold(self, state: str, limit: int = 500) -> list[Entry]:
        """Rows in ``state`` whose sender has not been told about it yet."""
        q = (
            select(GatewayDelivery)
            .where(
                GatewayDelivery.state == state,
                or_(GatewayDelivery.notice.is_(None), GatewayDelivery.notice != state),
            )
            .order_by(GatewayDelivery.updated_at)
            .limit(limit)
        )
        with session_scope(self.engine) as s:
            return [_entry(r) for r in s.execute(q).scalars()]

    def decided_holds(self, limit: int = 500) -> list[tuple[Entry, str]]:
        """Held rows whose approval item has been approved or rejected, with
        that status: the release loop's work."""
        q = (
            select(GatewayDelivery, ApprovalRow.status)
            .join(ApprovalRow, ApprovalRow.id == GatewayDelivery.approval_id)
            .where(
                GatewayDelivery.state == HELD,
                ApprovalRow.status.in_(("approved", "rejected")),
            )
            .order_by(GatewayDelivery.updated_at)
            .limit(limit)
        )
        with session_scope(self.engine) as s:
            return [(_entry(row), status) for row, status in s.execute(q).all()]
