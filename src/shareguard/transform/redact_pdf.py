"""Redact a PDF: each page becomes an image with the found values blacked out
(burnt into the pixels, not a box laid over text that is still there), plus an
invisible text layer of the redacted text so that the result can still be
searched and scanned.  The page looks as it did; fonts, links, forms and
attachments are not carried over, and the text layer is positioned line by
line, not glyph by glyph.

PDFium (pypdfium2) gives the text and the box of every character and renders
the page; reportlab writes the new file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pypdfium2 as pdfium

DPI = 150
_PAD = 1.5  # points around each character box, so no stroke edge survives
_BLACK = (0, 0, 0, 255)


def _page_text(textpage: Any) -> str:
    """The page's characters, one per PDFium character index (so that an
    offset in the text is an index for ``get_charbox``)."""
    n = textpage.count_chars()
    text = textpage.get_text_range(0, n) if n else ""
    if len(text) == n:
        return str(text)
    return "".join((textpage.get_text_range(i, 1) or "\ufffd")[:1] for i in range(n))


def _box(textpage: Any, index: int) -> tuple[float, float, float, float] | None:
    try:
        box = textpage.get_charbox(index)
    except pdfium.PdfiumError:
        return None
    left, bottom, right, top = box
    return None if right <= left or top <= bottom else (left, bottom, right, top)


def _black_out(bitmap: Any, box: tuple[float, float, float, float], height: float) -> None:
    scale = DPI / 72
    left, bottom, right, top = box
    x = max(int((left - _PAD) * scale), 0)
    y = max(int((height - top - _PAD) * scale), 0)
    w = int((right - left + 2 * _PAD) * scale) + 1
    h = int((top - bottom + 2 * _PAD) * scale) + 1
    bitmap.fill_rect(_BLACK, x, y, min(w, bitmap.width - x), min(h, bitmap.height - y))


def redact_pdf(
    data: bytes, pattern: re.Pattern[str] | None, replace: Callable[[str], str]
) -> tuple[bytes, int]:
    """(new PDF, values blacked out).  ``replace`` turns a page's text into
    its redacted form for the text layer."""
    from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
    from reportlab.pdfgen import canvas  # type: ignore[import-untyped]

    pdf = pdfium.PdfDocument(data)
    out = io.BytesIO()
    c = canvas.Canvas(out, pageCompression=1)
    c.setAuthor("")
    c.setTitle("")
    changed = 0
    try:
        for page in pdf:
            width, height = page.get_size()
            textpage = page.get_textpage()
            text = _page_text(textpage)
            bitmap = page.render(scale=DPI / 72, rotation=0)
            matches = list(pattern.finditer(text)) if pattern is not None else []
            for m in matches:
                for i in range(m.start(), m.end()):
                    if not text[i].isspace() and (box := _box(textpage, i)) is not None:
                        _black_out(bitmap, box, height)
            changed += len(matches)
            c.setPageSize((width, height))
            c.drawImage(ImageReader(bitmap.to_pil()), 0, 0, width, height)
            _text_layer(c, textpage, text, replace, height)
            c.showPage()
            textpage.close()
            page.close()
    finally:
        pdf.close()
    c.save()
    return out.getvalue(), changed


def _text_layer(
    c: Any, textpage: Any, text: str, replace: Callable[[str], str], height: float
) -> None:
    """Invisible (render mode 3) redacted text, each line where it began."""
    offset = 0
    y = height - 36.0
    for line in text.splitlines(keepends=True):
        start, offset = offset, offset + len(line)
        shown = replace(line.rstrip("\r\n"))
        if not shown.strip():
            continue
        first = next((i for i in range(start, offset) if not text[i].isspace()), None)
        box = _box(textpage, first) if first is not None else None
        x, size = 36.0, 10.0
        if box is not None:
            x, y = box[0], box[1]
            size = min(max(box[3] - box[1], 4.0), 24.0)
        t = c.beginText()
        t.setTextRenderMode(3)
        t.setFont("Helvetica", size)
        t.setTextOrigin(x, y)
        t.textLine(shown.encode("latin-1", "replace").decode("latin-1"))
        c.drawText(t)
        y -= size * 1.2
