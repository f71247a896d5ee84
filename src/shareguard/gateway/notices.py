"""The messages the gateway sends a sender about their own message: held
for approval, and later rejected.  They carry the references, the
recipients and the reasons (counts and kinds of data, never values), not
the content, and are marked auto-generated so that nothing answers them."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from shareguard.store.approvals import Approval


def _base(postmaster: str, sender: str, subject: str, original_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"ShareGuard <{postmaster}>"
    msg["To"] = sender
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=postmaster.rpartition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    if original_id:
        msg["In-Reply-To"] = original_id
        msg["References"] = original_id
    return msg


def _reasons(item: Approval | None) -> list[str]:
    if item is None:
        return []
    reasons = item.summary.get("held_for", {}).get("reasons", [])
    return [str(r) for r in reasons]


def held_notice(
    postmaster: str,
    sender: str,
    original_id: str,
    held: Sequence[tuple[str, Approval | None, str | None]],
) -> bytes:
    """``held``: (recipient, approval item, approval id) for each held recipient."""
    msg = _base(postmaster, sender, "Your message is held for approval", original_id)
    lines = [
        f"Your message {original_id or '(no Message-ID)'} was not sent to the recipients "
        "below. It holds personal data that the data-sharing agreements do not allow "
        "to go to them without approval.",
        "",
    ]
    for recipient, item, approval_id in held:
        lines.append(f"To {recipient}: held, approval reference {approval_id}")
        lines.extend(f"  - {r}" for r in _reasons(item))
    lines += [
        "",
        "It will be sent as it is once someone other than you approves it; if it is "
        "rejected you will be told. Ask your data protection team about the reference.",
    ]
    msg.set_content("\n".join(lines) + "\n")
    return bytes(msg)


def rejected_notice(
    postmaster: str, sender: str, original_id: str, recipient: str, item: Approval | None
) -> bytes:
    msg = _base(postmaster, sender, "Your held message was not approved", original_id)
    who = item.decided_by if item else "a reviewer"
    why = item.reason if item and item.reason else "no reason given"
    ref = item.id if item else "(unknown)"
    msg.set_content(
        f"Your message {original_id or '(no Message-ID)'} to {recipient} was held for "
        f"approval (reference {ref}) and has been rejected by {who}: {why}\n\n"
        "It has not been sent and will not be.\n"
    )
    return bytes(msg)
