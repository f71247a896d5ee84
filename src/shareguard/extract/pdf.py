"""PDF text layer through pypdfium2, one segment per page."""

from __future__ import annotations

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from shareguard.extract._base import Context, TextBuilder
from shareguard.model import Document

PDF = "application/pdf"
_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD


def extract_pdf(data: bytes, path: str, ctx: Context, depth: int) -> Document:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PASSWORD_ERROR or "password" in str(exc).lower():
            return Document(path, PDF, uninspectable="password-protected PDF", size=len(data))
        return Document(path, PDF, uninspectable="corrupt or truncated PDF", size=len(data))
    try:
        return _read(pdf, data, path, ctx, depth)
    finally:
        pdf.close()


def _read(pdf: pdfium.PdfDocument, data: bytes, path: str, ctx: Context, depth: int) -> Document:
    limit = ctx.limits.max_pages
    deadline = ctx.deadline()
    builder = TextBuilder()
    scanned: list[int] = []
    total = len(pdf)
    for index in range(min(total, limit)):
        deadline.check()
        page = pdf[index]
        try:
            textpage = page.get_textpage()
            text = textpage.get_text_bounded()
            textpage.close()
            if not text.strip() and _has_image(page):
                scanned.append(index + 1)
        finally:
            page.close()
        builder.add_segment(text.replace("\r\n", "\n"), f"page {index + 1}", page=index + 1)
    problems = []
    if scanned:
        where = "" if len(scanned) == total else " on pages " + _ranges(scanned)
        problems.append(f"scanned PDF without a text layer{where}")
    if total > limit:
        problems.append(f"only the first {limit} of {total} pages were inspected")
    parts = tuple(_attachments(pdf, path, ctx, depth))
    text, segments = builder.build()
    return Document(
        path,
        PDF,
        text=text,
        segments=segments,
        parts=parts,
        uninspectable="; ".join(problems) or None,
        size=len(data),
    )


def _has_image(page: pdfium.PdfPage) -> bool:
    for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        return True
    return False


def _attachments(pdf: pdfium.PdfDocument, path: str, ctx: Context, depth: int) -> list[Document]:
    out = []
    for i in range(pdf.count_attachments()):
        att = pdf.get_attachment(i)
        name = att.get_name() or f"attachment {i + 1}"
        blob = bytes(att.get_data())
        ctx.charge(len(blob))
        out.append(ctx.child(blob, f"{path}!{name}", depth + 1))
    return out


def _ranges(pages: list[int]) -> str:
    spans: list[str] = []
    start = prev = pages[0]
    for p in [*pages[1:], -1]:
        if p != prev + 1:
            spans.append(str(start) if start == prev else f"{start}-{prev}")
            start = p
        prev = p
    return ", ".join(spans)
