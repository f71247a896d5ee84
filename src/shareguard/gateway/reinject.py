"""Passing messages back to Postfix: a small pool of kept-open SMTP
connections to its re-entry smtpd.

Opening a connection per message (TCP, banner, EHLO) costs more than
sending a 20 KB message over an open one, so connections are reused;
one idle for longer than Postfix would keep it is replaced before use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiosmtplib

# Postfix's smtpd drops an idle client after smtpd_timeout (300 s by
# default); well inside that, a kept connection is still good.
MAX_IDLE_SECONDS = 60.0
# MAIL FROM parameters worth passing on; SIZE is recomputed by the client,
# the rest (AUTH=, RET=, ENVID=) belong to the original hop.
_PASS_ON = ("BODY=", "SMTPUTF8")


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    text: str

    @property
    def accepted(self) -> bool:
        return 200 <= self.code < 300


class ReinjectError(Exception):
    """The re-entry smtpd could not be reached or gave no answer."""


def mail_options(options: Iterable[str]) -> list[str]:
    return [o for o in options if o.upper().startswith(_PASS_ON)]


class Reinjector:
    def __init__(self, host: str, port: int, *, timeout: float, size: int) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._idle: list[tuple[float, aiosmtplib.SMTP]] = []
        self._slots = asyncio.Semaphore(size)

    async def _client(self) -> tuple[aiosmtplib.SMTP, bool]:
        while self._idle:
            since, client = self._idle.pop()
            if time.monotonic() - since < MAX_IDLE_SECONDS and client.is_connected:
                return client, True
            client.close()
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            start_tls=False,
            local_hostname="shareguard-gateway",
        )
        await client.connect()
        return client, False

    async def send(
        self, sender: str, recipients: Sequence[str], data: bytes, options: Iterable[str] = ()
    ) -> dict[str, Reply]:
        """Send one message; Postfix's answer for each recipient.  Raises
        :class:`ReinjectError` when there is no answer at all (connection
        refused or lost, timeout), so the caller can answer 451."""
        opts = mail_options(options)
        async with self._slots:
            for attempt in (1, 2):
                try:
                    client, reused = await self._client()
                except (aiosmtplib.SMTPException, OSError) as exc:
                    raise ReinjectError(f"cannot connect: {type(exc).__name__}") from None
                try:
                    errors, text = await client.sendmail(
                        sender, list(recipients), data, mail_options=opts
                    )
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    self._idle.append((time.monotonic(), client))
                    return {r.recipient: Reply(r.code, r.message) for r in exc.recipients}
                except aiosmtplib.SMTPResponseException as exc:
                    # MAIL FROM or DATA refused: the same answer for everyone.
                    self._idle.append((time.monotonic(), client))
                    return {r: Reply(exc.code, exc.message) for r in recipients}
                except aiosmtplib.SMTPServerDisconnected:
                    client.close()
                    # Almost always a kept connection Postfix dropped while
                    # it was idle (before MAIL FROM): try once on a new one.
                    if reused and attempt == 1:
                        continue
                    raise ReinjectError("re-entry smtpd disconnected") from None
                except (aiosmtplib.SMTPException, OSError) as exc:
                    client.close()
                    raise ReinjectError(f"re-injection failed: {type(exc).__name__}") from None
                self._idle.append((time.monotonic(), client))
                out = {r: Reply(250, text) for r in recipients}
                out.update({r: Reply(e.code, e.message) for r, e in errors.items()})
                return out
        raise ReinjectError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        while self._idle:
            _, client = self._idle.pop()
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
