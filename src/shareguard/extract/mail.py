"""E-mail (.eml): headers, bodies, attachments and attached messages."""

from __future__ import annotations

import email
import email.message
from email import policy

from shareguard.extract._base import Context, TextBuilder, TooManyParts
from shareguard.extract.text import html_to_text
from shareguard.model import Document

EML = "message/rfc822"
HEADERS = ("From", "To", "Cc", "Bcc", "Reply-To", "Subject")
Message = email.message.Message


def header_lines(msg: Message) -> str:
    lines = []
    for name in HEADERS:
        for value in msg.get_all(name, []):
            try:
                text = str(value)
            except Exception:  # a malformed header is shown raw
                text = repr(value)
            lines.append(f"{name}: {' '.join(text.split())}")
    return "\n".join(lines)


def _payload_text(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


class _MailWalker:
    def __init__(self, path: str, ctx: Context, depth: int) -> None:
        self.path, self.ctx, self.depth = path, ctx, depth
        self.builder = TextBuilder()
        self.parts: list[Document] = []
        self.notes: list[str] = []
        self.unnamed = 0

    def walk(self, part: Message) -> None:
        ctype = part.get_content_type()
        if ctype == "multipart/alternative":
            children = list(_children(part))
            # The plain and HTML alternatives say the same thing: take one.
            for want in ("text/plain", "text/html"):
                pick = next((c for c in children if c.get_content_type() == want), None)
                if pick is not None:
                    self.walk(pick)
                    return
            for child in children[:1]:
                self.walk(child)
        elif ctype == "message/rfc822":
            self._attach(part, ".eml")
        elif part.is_multipart():
            for child in _children(part):
                self.walk(child)
        elif ctype in ("text/plain", "text/html") and not self._is_attachment(part):
            text = _payload_text(part)
            self.builder.add(html_to_text(text) if ctype == "text/html" else text, "body")
        else:
            self._attach(part, "")

    @staticmethod
    def _is_attachment(part: Message) -> bool:
        return part.get_content_disposition() == "attachment"

    def _attach(self, part: Message, ext: str) -> None:
        name = part.get_filename()
        if not name:
            self.unnamed += 1
            name = f"part {self.unnamed}{ext}"
        name = name.replace("!", "_")
        if part.get_content_type() == "message/rfc822" or ext == ".eml":
            inner = part.get_payload()
            msg = inner[0] if isinstance(inner, list) and inner else None
            blob = msg.as_bytes() if isinstance(msg, Message) else b""
        else:
            raw = part.get_payload(decode=True)
            blob = raw if isinstance(raw, bytes) else b""
        # Images referenced by Content-ID sit in the body whatever their disposition says.
        inline = part.get_content_disposition() != "attachment" or part["Content-ID"] is not None
        if part.get_content_maintype() == "image" and inline:
            self.notes.append(f"inline image {name}")
        self.ctx.charge(len(blob))
        self.parts.append(self.ctx.child(blob, f"{self.path}!{name}", self.depth + 1))


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [c for c in payload if isinstance(c, Message)] if isinstance(payload, list) else []


def extract_eml(data: bytes, path: str, ctx: Context, depth: int) -> Document:
    msg = email.message_from_bytes(data, policy=policy.default)
    walker = _MailWalker(path, ctx, depth)
    walker.builder.add(header_lines(msg), "headers")
    problem = None
    try:
        walker.walk(msg)
    except TooManyParts as exc:
        problem = f"{exc}; the rest were not inspected"
    text, segments = walker.builder.build()
    return Document(
        path,
        EML,
        text=text,
        segments=segments,
        parts=tuple(walker.parts),
        notes=tuple(walker.notes),
        uninspectable=problem,
        size=len(data),
    )
