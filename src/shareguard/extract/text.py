"""Plain text: decide whether bytes are text at all, and in which encoding."""

from __future__ import annotations

import codecs
from html.parser import HTMLParser

import charset_normalizer

from shareguard.model import Document, Segment

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters other than TAB, LF, FF, CR, ESC hardly occur in real text.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
SAMPLE = 65536


def detect_encoding(sample: bytes, *, complete: bool) -> str | None:
    """The encoding of ``sample`` if it is text, else None.  ``complete`` says
    the sample is the whole file (so a cut multi-byte character is damage)."""
    for bom, enc in _BOMS:
        if sample.startswith(bom):
            return enc
    if not sample:
        return "utf-8"
    if b"\x00" in sample:
        return _utf16_without_bom(sample)
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A sample cut mid-character is still UTF-8.
        if not complete and exc.start >= len(sample) - 3:
            return "utf-8"
    if sum(sample.count(bytes([c])) for c in _CONTROL) > len(sample) // 100:
        return None
    best = charset_normalizer.from_bytes(sample[:SAMPLE]).best()
    if best is None:
        return None
    return str(best.encoding)


def _utf16_without_bom(sample: bytes) -> str | None:
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    if half and odd > 0.6 * half and even < 0.1 * half:
        enc = "utf-16-le"
    elif half and even > 0.6 * half and odd < 0.1 * half:
        enc = "utf-16-be"
    else:
        return None
    text = sample[: len(sample) // 2 * 2].decode(enc, "replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f"))
    return enc if bad <= len(text) // 100 else None


def decode(data: bytes, encoding: str) -> str:
    return data.decode(encoding, errors="replace")


def text_document(path: str, text: str, media_type: str = "text/plain", size: int = 0) -> Document:
    segs = (Segment(0, len(text), "body"),) if text else ()
    return Document(path=path, media_type=media_type, text=text, segments=segs, size=size)


def looks_like_html(text: str) -> bool:
    head = text[:1024].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or (
        head.startswith("<") and "<body" in text[:4096].lower()
    )


_BLOCK = frozenset(
    "p div br li tr h1 h2 h3 h4 h5 h6 table ul ol section article header footer "
    "blockquote pre title address dd dt".split()
)


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK:
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.append(data)


def html_to_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.out).splitlines())
    return "\n".join(line for line in lines if line)
