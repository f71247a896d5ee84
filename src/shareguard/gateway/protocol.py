"""The LMTP server side: aiosmtpd's LMTP with a faster DATA reader.

aiosmtpd reads DATA one line at a time (a coroutine step, a length check
and a list append per line: ~14,000 of them for a 1 MB attachment, which
was most of the ~310 ms a do-nothing filter took per such message).  Here
the message is read in blocks as they arrive and the end marker found with
one ``bytes.find`` per block; dot-unstuffing is one ``replace`` over the
whole message.  Everything else (commands, per-recipient LMTP replies) is
aiosmtpd's.
"""

from __future__ import annotations

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, syntax

_END = b"\r\n.\r\n"
_BLOCK = 1 << 20


def unstuff(data: bytes) -> bytes:
    """Undo SMTP dot-stuffing (RFC 5321 4.5.2): a line starting with a dot
    was sent with one more."""
    if data.startswith(b".."):
        data = data[1:]
    return data.replace(b"\r\n..", b"\r\n.")


class BlockData(SMTP):
    """aiosmtpd's SMTP with block-wise DATA.  ``data_size_limit`` still
    applies: the rest of an oversized message is read and dropped, then 552
    (one line for SMTP, one per recipient for LMTP)."""

    per_recipient_replies = False

    async def _read_data(self) -> tuple[bytes | None, bool]:
        """The raw DATA up to and including the final CRLF of the last line
        (``None`` if the client went away) and whether it exceeded the size
        limit."""
        buf = bytearray()
        limit = self.data_size_limit or 0
        dropped = 0
        too_big = False
        while True:
            chunk = await self._reader.read(_BLOCK)
            if not chunk:
                return None, too_big
            start = max(0, len(buf) - len(_END) + 1)
            buf += chunk
            if buf.startswith(b".\r\n") and dropped == 0:
                # empty message: the terminator right after 354
                rest = bytes(buf[3:])
                buf = bytearray(b"")
                break
            at = buf.find(_END, start)
            if at >= 0:
                rest = bytes(buf[at + len(_END) :])
                del buf[at + 2 :]
                break
            if limit and dropped + len(buf) > limit:
                # keep only a tail long enough to find the end marker in
                too_big = True
                keep = len(_END) - 1
                dropped += len(buf) - keep
                del buf[:-keep]
        if rest and not self._reader.at_eof():
            # The client pipelined a command after the end of data.  read()
            # emptied the buffer (it was shorter than a block), so feeding
            # the bytes back keeps their order.
            self._reader.feed_data(rest)
        return (b"" if too_big else bytes(buf)), too_big

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed():
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        raw, too_big = await self._read_data()
        if raw is None:
            return  # connection lost; aiosmtpd's loop ends the session
        count = len(self.envelope.rcpt_tos) if self.per_recipient_replies else 1
        if too_big:
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            await self.push("\r\n".join(["552 5.3.4 Message too big for this filter"] * count))
            return
        content = unstuff(raw)
        self.envelope.content = content
        self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push(status)


class FilterLMTP(BlockData, LMTP):
    """What Postfix's lmtp client talks to: LHLO, one reply per recipient."""

    per_recipient_replies = True
