"""The SMTP gateway: a Postfix after-queue content filter (LMTP in, SMTP
back to Postfix) that scans every outbound message, decides per recipient
and passes on, holds or refuses it; fail closed, exactly once
(docs/postfix.md)."""

from shareguard.gateway.assess import Assessment, Assessor, Verdict
from shareguard.gateway.ledger import Ledger, message_key
from shareguard.gateway.release import Releaser
from shareguard.gateway.server import Gateway

__all__ = ["Assessment", "Assessor", "Gateway", "Ledger", "Releaser", "Verdict", "message_key"]
