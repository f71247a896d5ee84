"""Extraction: bytes -> :class:`~shareguard.model.Document`.

The format is decided by content, never by file name.  Nothing here raises for
bad content: a file that cannot be read fully becomes a Document marked
``uninspectable`` with a reason a person understands.  Only OS errors on the
top-level path (missing file, no permission) propagate.
"""

from __future__ import annotations

import pathlib

from shareguard.config import Limits
from shareguard.extract import sniff
from shareguard.extract._base import Context, LimitExceeded, TooManyParts, cap_text, uninspectable
from shareguard.extract.archive import STREAMS, extract_stream, extract_tar, extract_zip
from shareguard.extract.delimited import (
    csv_document,
    sniff_dialect,
    table_from_path,
    table_from_text,
)
from shareguard.extract.docx import extract_docx
from shareguard.extract.mail import extract_eml
from shareguard.extract.odf import extract_odf
from shareguard.extract.ole import extract_ole
from shareguard.extract.pdf import extract_pdf
from shareguard.extract.pptx import extract_pptx
from shareguard.extract.sheets import extract_sheets
from shareguard.extract.text import (
    SAMPLE,
    decode,
    detect_encoding,
    html_to_text,
    looks_like_html,
    text_document,
)
from shareguard.model import Document

__all__ = ["extract_bytes", "extract_path"]

_LABELS = {
    sniff.OOXML_TYPES["word"]: "Word document",
    sniff.OOXML_TYPES["xlsx"]: "Excel workbook",
    sniff.OOXML_TYPES["xlsm"]: "Excel workbook",
    sniff.OOXML_TYPES["pptx"]: "PowerPoint presentation",
    sniff.ODF_SPREADSHEET: "OpenDocument spreadsheet",
    sniff.ODF_TEXT: "OpenDocument text",
    sniff.ODF_PRESENTATION: "OpenDocument presentation",
    sniff.ZIP: "zip archive",
    sniff.OLE: "Office/Outlook (OLE2) file",
    sniff.PDF: "PDF",
    sniff.GZIP: "gzip file",
    sniff.TAR: "tar archive",
    sniff.EML: "e-mail",
}
_SPREADSHEETS = (sniff.OOXML_TYPES["xlsx"], sniff.OOXML_TYPES["xlsm"], sniff.ODF_SPREADSHEET)


def extract_bytes(data: bytes, name: str, limits: Limits) -> Document:
    """Extract one top-level file held in memory; ``name`` becomes its path."""
    if len(data) > limits.max_file_bytes:
        return _too_big(name, len(data), limits)
    return _dispatch(data, name, Context(limits, _dispatch), 0)


def extract_path(path: pathlib.Path, limits: Limits, *, name: str | None = None) -> Document:
    """Extract one file from disk.  Delimited text is streamed, never loaded."""
    label = name if name is not None else str(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE)
    streamed = _streamable_table(path, head, label, size, limits)
    if streamed is not None:
        return streamed
    if size > limits.max_file_bytes:
        return _too_big(label, size, limits)
    return _dispatch(path.read_bytes(), label, Context(limits, _dispatch), 0)


def _too_big(path: str, size: int, limits: Limits) -> Document:
    return uninspectable(
        path,
        "application/octet-stream",
        f"file is {size} bytes, over the limit of {limits.max_file_bytes} bytes",
        size,
    )


def _streamable_table(
    path: pathlib.Path, head: bytes, label: str, size: int, limits: Limits
) -> Document | None:
    if sniff.sniff_container(head) is not None:
        return None
    complete = size <= len(head)
    encoding = detect_encoding(head, complete=complete)
    if encoding is None:
        return None
    text = decode(head, encoding)
    if sniff.looks_like_email(text) or looks_like_html(text):
        return None
    dialect = sniff_dialect(text, complete=complete)
    if dialect is None:
        return None
    if size > limits.max_stream_bytes:
        return uninspectable(
            label,
            dialect.media_type,
            f"file is {size} bytes, over the streaming limit of {limits.max_stream_bytes} bytes",
            size,
        )
    table = table_from_path(path, encoding, dialect, _base_name(label))
    return csv_document(label, table, dialect, size)


def _base_name(path: str) -> str:
    return path.rsplit("!", 1)[-1].replace("\\", "/").rsplit("/", 1)[-1]


def _dispatch(data: bytes, path: str, ctx: Context, depth: int) -> Document:
    limits = ctx.limits
    media = sniff.sniff_container(data) or "application/octet-stream"
    if depth > limits.max_depth:
        return uninspectable(
            path, media, f"nested more than {limits.max_depth} levels deep", len(data)
        )
    try:
        doc = _extract(data, path, media, ctx, depth)
    except TooManyParts as exc:
        if depth:
            raise
        return uninspectable(path, media, str(exc), len(data))
    except LimitExceeded as exc:
        return uninspectable(path, media, str(exc), len(data))
    except MemoryError:
        return uninspectable(path, media, "too large to inspect in memory", len(data))
    except Exception:
        what = _LABELS.get(media, "file")
        return uninspectable(path, media, f"corrupt or truncated {what}", len(data))
    return cap_text(doc, limits)


def _extract(data: bytes, path: str, media: str, ctx: Context, depth: int) -> Document:
    if media == sniff.ZIP:
        return extract_zip(data, path, ctx, depth)
    if media == sniff.OOXML_TYPES["word"]:
        return extract_docx(data, path, media, ctx)
    if media in _SPREADSHEETS:
        return extract_sheets(data, path, media, ctx)
    if media == sniff.OOXML_TYPES["pptx"]:
        return extract_pptx(data, path, media, ctx)
    if media in (sniff.ODF_TEXT, sniff.ODF_PRESENTATION):
        return extract_odf(data, path, media, ctx)
    if media == sniff.OLE:
        return extract_ole(data, path, ctx, depth)
    if media == sniff.PDF:
        return extract_pdf(data, path, ctx, depth)
    if media in STREAMS:
        return extract_stream(data, path, media, ctx, depth)
    if media == sniff.TAR:
        return extract_tar(data, path, ctx, depth)
    if media in sniff.OTHER_ARCHIVES.values():
        return uninspectable(path, media, "unsupported archive format", len(data))
    return _text_or_binary(data, path, ctx, depth)


def _text_or_binary(data: bytes, path: str, ctx: Context, depth: int) -> Document:
    complete = len(data) <= SAMPLE
    encoding = detect_encoding(data[:SAMPLE], complete=complete)
    if encoding is None:
        media = sniff.binary_media_type(data)
        if media.startswith("image/"):
            reason = "image: no text layer; it may show personal data"
        else:
            reason = f"binary file ({media}): no text could be extracted"
        return uninspectable(path, media, reason, len(data))
    text = decode(data, encoding)
    if sniff.looks_like_email(text):
        return extract_eml(data, path, ctx, depth)
    if looks_like_html(text):
        return text_document(path, html_to_text(text), "text/html", len(data))
    dialect = sniff_dialect(text[:SAMPLE], complete=complete)
    if dialect is not None:
        table = table_from_text(text, dialect, _base_name(path))
        return csv_document(path, table, dialect, len(data))
    return text_document(path, text, "text/plain", len(data))
