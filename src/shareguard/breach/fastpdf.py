"""PDF letters drawn straight onto a reportlab canvas.

The report goes through reportlab's layout engine (platypus: tables,
flowing paragraphs); a letter is only headings, paragraphs and bullets, and
writing those as one text object per page, wrapped with ``simpleSplit``, is
several times faster, which is what tens of thousands of letters need."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.lib.utils import simpleSplit  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from shareguard.breach.documents import Block

_FONT, _BOLD, _SIZE, _HEADING = "Helvetica", "Helvetica-Bold", 11, 12.5
_LEADING = 14.5
_MARGIN = 22 * mm
_INDENT = 6 * mm
_BULLET = "•  "


class _Page:
    """Lines flowing down the pages of one canvas."""

    def __init__(self, canvas: Any) -> None:
        self.canvas = canvas
        self.width, self.height = A4
        self.text: Any = None
        self.lines = 0
        self._new_page()

    def _new_page(self) -> None:
        if self.text is not None:
            self.canvas.drawText(self.text)
            self.canvas.showPage()
        self.text = self.canvas.beginText(_MARGIN, self.height - _MARGIN)
        self.text.setLeading(_LEADING)
        self.lines = 0
        self.font: tuple[str, float] | None = None

    def line(
        self, text: str, indent: float = 0.0, font: tuple[str, float] = (_FONT, _SIZE)
    ) -> None:
        if (self.lines + 1) * _LEADING > self.height - 2 * _MARGIN:
            self._new_page()
        if font != self.font:
            self.text.setFont(*font)
            self.font = font
        self.text.setXPos(indent)
        self.text.textLine(text)
        self.text.setXPos(-indent)
        self.lines += 1

    def wrapped(
        self,
        text: str,
        indent: float = 0.0,
        font: tuple[str, float] = (_FONT, _SIZE),
        bullet: bool = False,
    ) -> None:
        width = self.width - 2 * _MARGIN - indent
        for raw in text.split("\n"):
            for k, piece in enumerate(simpleSplit(raw, font[0], font[1], width) or [""]):
                if bullet and k == 0:  # the bullet hangs to the left of the text
                    self.line(_BULLET + piece, indent - stringWidth(_BULLET, *font), font)
                else:
                    self.line(piece, indent, font)

    def gap(self) -> None:
        self.line("")

    def finish(self) -> None:
        self.canvas.drawText(self.text)
        self.canvas.showPage()


def letter_pdf(title: str, blocks: Sequence[Block]) -> bytes:
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, invariant=True)
    canvas.setTitle(title)
    page = _Page(canvas)
    for b in blocks:
        if b.kind == "heading":
            page.wrapped(b.text, font=(_BOLD, _HEADING))
        elif b.kind == "bullets":
            for item in b.items:
                page.wrapped(item, _INDENT, bullet=True)
        else:
            page.wrapped(b.text)
        page.gap()
    page.finish()
    canvas.save()
    return buf.getvalue()
