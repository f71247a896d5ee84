"""DOCX letters at mail-merge speed.

A letter is a handful of paragraphs, but a DOCX is a zip of a dozen parts
(styles alone are ~350 KB), and writing it with python-docx costs a few
milliseconds a letter, mostly re-compressing the same styles.  So the base
document is made once with python-docx, its unchanging parts are compressed
once, and each letter only builds and compresses ``word/document.xml`` and
writes the zip around the pre-compressed parts (the ZIP format stores each
member independently, which makes this possible).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from shareguard.breach.documents import Block

_DOCUMENT = "word/document.xml"
# Parts python-docx's template carries that a letter does not need.
_DROP = ("word/stylesWithEffects.xml", "docProps/thumbnail.jpeg", "customXml/")
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01: fixed, so letters are reproducible


@dataclass(frozen=True, slots=True)
class _Member:
    name: bytes
    crc: int
    size: int
    data: bytes  # raw deflate


def _member(name: str, data: bytes, level: int = zlib.Z_BEST_COMPRESSION) -> _Member:
    """One ZIP member, raw-deflated: the fixed parts once at the best
    compression, each letter's text fast (it is small)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return _Member(name.encode(), zlib.crc32(data), len(data), c.compress(data) + c.flush())


def _without_dropped(name: str, data: bytes) -> bytes:
    """Remove references to the dropped parts from the relationship and
    content-type parts."""
    if not (name.endswith(".rels") or name == "[Content_Types].xml"):
        return data
    import re

    text = data.decode("utf-8")
    for drop in ("stylesWithEffects.xml", "thumbnail.jpeg", "customXml/"):
        text = re.sub(r"<(Relationship|Override)\b[^>]*" + re.escape(drop) + r"[^>]*/>", "", text)
    return text.encode("utf-8")


class DocxWriter:
    """Writes letters as DOCX from blocks (heading, para, bullets)."""

    def __init__(self) -> None:
        import docx

        base = docx.Document()
        buf = io.BytesIO()
        base.save(buf)
        self._static: list[_Member] = []
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
            for info in z.infolist():
                name = info.filename
                if name.startswith(_DROP) or name in _DROP:
                    continue
                data = _without_dropped(name, z.read(name))
                if name == _DOCUMENT:
                    text = data.decode("utf-8")
                    start = text.index("<w:body>") + len("<w:body>")
                    self._head, self._tail = text[:start], text[start:]
                else:
                    self._static.append(_member(name, data))

    def render(self, blocks: Sequence[Block]) -> bytes:
        body = "".join(_paragraphs(blocks))
        xml = (self._head + body + self._tail).encode("utf-8")
        document = _member(_DOCUMENT, xml, zlib.Z_BEST_SPEED)
        return _zip([*self._static, document])


def _run(text: str) -> str:
    lines = text.split("\n")
    inner = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in lines)
    return f"<w:r>{inner}</w:r>"


def _para(text: str, style: str | None = None) -> str:
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{props}{_run(text)}</w:p>"


def _paragraphs(blocks: Sequence[Block]) -> list[str]:
    out = []
    for b in blocks:
        if b.kind == "heading":
            out.append(_para(b.text, "Heading1"))
        elif b.kind == "bullets":
            out.extend(_para(item, "ListBullet") for item in b.items)
        else:
            out.append(_para(b.text))
    return out


def _zip(members: Sequence[_Member]) -> bytes:
    out = bytearray()
    central = bytearray()
    for m in members:
        offset = len(out)
        out += struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            20,
            0,
            8,
            0,
            _DOS_DATE,
            m.crc,
            len(m.data),
            m.size,
            len(m.name),
            0,
        )
        out += m.name + m.data
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            0,
            8,
            0,
            _DOS_DATE,
            m.crc,
            len(m.data),
            m.size,
            len(m.name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += m.name
    start = len(out)
    out += central
    out += struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), start, 0
    )
    return bytes(out)
