"""Outlook .msg (an OLE2 compound file of MAPI property streams)."""

from __future__ import annotations

import olefile

from shareguard.extract._base import Context, TextBuilder, TooManyParts
from shareguard.extract.text import html_to_text
from shareguard.model import Document

MSG = "application/vnd.ms-outlook"
SUBJECT, SENDER_NAME, SENDER_EMAIL, SENDER_SMTP = "0037", "0C1A", "0C1F", "5D01"
DISPLAY_TO, DISPLAY_CC, DISPLAY_BCC = "0E04", "0E03", "0E02"
BODY, HTML = "1000", "1013"
RECIP_NAME, RECIP_EMAIL, RECIP_SMTP, RECIP_TYPE = "3001", "3003", "39FE", "0C15"
ATT_LONG_NAME, ATT_NAME, ATT_DATA = "3707", "3704", "3701"
RECIP_KIND = {1: "To", 2: "Cc", 3: "Bcc"}


class _Props:
    """The property streams directly under one storage (``prefix``)."""

    def __init__(self, ole: olefile.OleFileIO, prefix: list[str], ctx: Context) -> None:
        self.ole, self.prefix, self.ctx = ole, prefix, ctx

    def raw(self, prop: str, kind: str) -> bytes | None:
        path = [*self.prefix, f"__substg1.0_{prop}{kind}"]
        if not self.ole.exists("/".join(path)):
            return None
        size = self.ole.get_size("/".join(path))
        if size > self.ctx.limits.max_file_bytes:
            return None
        self.ctx.charge(size)
        data: bytes = self.ole.openstream(path).read()
        return data

    def text(self, prop: str) -> str:
        raw = self.raw(prop, "001F")
        if raw is not None:
            return raw.decode("utf-16-le", "replace").rstrip("\x00")
        raw = self.raw(prop, "001E")
        return raw.decode("cp1252", "replace").rstrip("\x00") if raw is not None else ""

    def storages(self, marker: str) -> list[str]:
        depth = len(self.prefix)
        names = {
            e[depth]
            for e in self.ole.listdir(streams=True, storages=True)
            if len(e) > depth + 1 and e[:depth] == self.prefix and e[depth].startswith(marker)
        }
        return sorted(names)


def extract_msg(
    ole: olefile.OleFileIO, data: bytes, path: str, ctx: Context, depth: int
) -> Document:
    builder = TextBuilder()
    parts: list[Document] = []
    problem = None
    try:
        _message(ole, [], path, ctx, depth, builder, parts)
    except TooManyParts as exc:
        problem = f"{exc}; the rest were not inspected"
    text, segments = builder.build()
    return Document(
        path,
        MSG,
        text=text,
        segments=segments,
        parts=tuple(parts),
        uninspectable=problem,
        size=len(data),
    )


def _message(
    ole: olefile.OleFileIO,
    prefix: list[str],
    path: str,
    ctx: Context,
    depth: int,
    builder: TextBuilder,
    parts: list[Document],
) -> None:
    props = _Props(ole, prefix, ctx)
    lines = []
    sender = " ".join(
        v
        for v in (
            props.text(SENDER_NAME),
            _angle(props.text(SENDER_SMTP) or props.text(SENDER_EMAIL)),
        )
        if v
    )
    if sender:
        lines.append(f"From: {sender}")
    recips: dict[str, list[str]] = {"To": [], "Cc": [], "Bcc": []}
    for storage in props.storages("__recip_version1.0_"):
        rp = _Props(ole, [*prefix, storage], ctx)
        kind_raw = _int(ole, [*prefix, storage], RECIP_TYPE)
        who = " ".join(
            v
            for v in (rp.text(RECIP_NAME), _angle(rp.text(RECIP_SMTP) or rp.text(RECIP_EMAIL)))
            if v
        )
        if who:
            recips[RECIP_KIND.get(kind_raw or 1, "To")].append(who)
    for kind, prop in (("To", DISPLAY_TO), ("Cc", DISPLAY_CC), ("Bcc", DISPLAY_BCC)):
        value = "; ".join(recips[kind]) or props.text(prop)
        if value:
            lines.append(f"{kind}: {value}")
    if subject := props.text(SUBJECT):
        lines.append(f"Subject: {subject}")
    builder.add("\n".join(lines), "headers")
    body = props.text(BODY)
    if not body and (html := props.raw(HTML, "0102")) is not None:
        body = html_to_text(html.decode("utf-8", "replace"))
    builder.add(body, "body")
    for index, storage in enumerate(props.storages("__attach_version1.0_"), start=1):
        ap = _Props(ole, [*prefix, storage], ctx)
        name = (ap.text(ATT_LONG_NAME) or ap.text(ATT_NAME) or f"attachment {index}").replace(
            "!", "_"
        )
        member = f"{path}!{name}"
        blob = ap.raw(ATT_DATA, "0102")
        if blob is not None:
            parts.append(ctx.child(blob, member, depth + 1))
        elif ole.exists("/".join([*prefix, storage, f"__substg1.0_{ATT_DATA}000D"])):
            # An attached Outlook message is a storage inside this file, not bytes.
            ctx.count_part()
            if depth + 1 > ctx.limits.max_depth:
                parts.append(
                    Document(
                        member,
                        MSG,
                        uninspectable=f"nested more than {ctx.limits.max_depth} levels deep",
                    )
                )
                continue
            sub = TextBuilder()
            subparts: list[Document] = []
            _message(
                ole,
                [*prefix, storage, f"__substg1.0_{ATT_DATA}000D"],
                member,
                ctx,
                depth + 1,
                sub,
                subparts,
            )
            text, segments = sub.build()
            parts.append(Document(member, MSG, text=text, segments=segments, parts=tuple(subparts)))


def _angle(addr: str) -> str:
    return f"<{addr}>" if addr else ""


def _int(ole: olefile.OleFileIO, prefix: list[str], prop: str) -> int | None:
    """A fixed-size property from the ``__properties_version1.0`` stream."""
    name = "/".join([*prefix, "__properties_version1.0"])
    if not ole.exists(name):
        return None
    data: bytes = ole.openstream(name).read()
    want = int(prop, 16)
    # Recipient/attachment property streams have an 8-byte header, then 16-byte entries.
    for off in range(8, len(data) - 15, 16):
        tag = int.from_bytes(data[off : off + 4], "little")
        if tag >> 16 == want:
            return int.from_bytes(data[off + 8 : off + 12], "little")
    return None
