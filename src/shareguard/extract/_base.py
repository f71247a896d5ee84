"""Shared plumbing for the extractors: the per-file budget, text assembly and
bounded decompression.  Every extractor gets a :class:`Context`; containers
hand their members back to the dispatcher through :meth:`Context.child`."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from shareguard.config import Limits
from shareguard.model import Document, Segment

MiB = 1024 * 1024
# Below this many expanded bytes a high compression ratio is harmless (a blank
# sheet compresses 500:1) and flagging it would only cry wolf.
RATIO_FLOOR = 1 * MiB
CHUNK = 256 * 1024


class LimitExceeded(Exception):
    """Raised inside an extractor when a limit stops it; the message is the
    reason shown to the user (never file content)."""


class TooManyParts(LimitExceeded):
    """The top-level file holds more parts than ``max_parts``."""


Dispatch = Callable[[bytes, str, "Context", int], Document]


@dataclass
class Context:
    """Mutable budget shared by every part of one top-level file."""

    limits: Limits
    dispatch: Dispatch
    expanded: int = 0
    parts: int = 0
    notes: list[str] = field(default_factory=list)

    def charge(self, nbytes: int) -> None:
        self.expanded += nbytes
        if self.expanded > self.limits.max_total_expanded_bytes:
            raise LimitExceeded(
                "expanded content exceeds the limit of "
                f"{self.limits.max_total_expanded_bytes} bytes (possible zip bomb)"
            )

    def child(self, data: bytes, path: str, depth: int) -> Document:
        """Extract a nested member; ``depth`` is the member's own depth."""
        self.count_part()
        return self.dispatch(data, path, self, depth)

    def count_part(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise TooManyParts(f"more than {self.limits.max_parts} nested parts")

    def deadline(self) -> Deadline:
        return Deadline(time.monotonic() + self.limits.max_seconds_per_part)


@dataclass(frozen=True, slots=True)
class Deadline:
    at: float

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise LimitExceeded("took longer than the time limit per part")


def uninspectable(path: str, media_type: str, reason: str, size: int = 0) -> Document:
    return Document(path=path, media_type=media_type, uninspectable=reason, size=size)


class TextBuilder:
    """Joins labelled pieces of text into one string with segments; adjacent
    pieces with the same label and page share a segment."""

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._segments: list[Segment] = []
        self._len = 0

    def _append(self, text: str) -> int:
        """Append ``text`` (after a newline if not first); its start offset."""
        if self._pieces:
            self._pieces.append("\n")
            self._len += 1
        start = self._len
        self._pieces.append(text)
        self._len += len(text)
        return start

    def add(self, text: str, label: str = "body", page: int | None = None) -> None:
        if not text:
            return
        start = self._append(text)
        last = self._segments[-1] if self._segments else None
        if last is not None and last.label == label and last.page == page:
            self._segments[-1] = Segment(last.start, self._len, label, page)
        else:
            self._segments.append(Segment(start, self._len, label, page))

    def add_segment(self, text: str, label: str, page: int | None = None) -> None:
        """Add ``text`` as its own segment even if the label repeats (pages)."""
        start = self._append(text)
        self._segments.append(Segment(start, self._len, label, page))

    @property
    def length(self) -> int:
        return self._len

    def build(self) -> tuple[str, tuple[Segment, ...]]:
        return "".join(self._pieces), tuple(self._segments)


def cap_text(doc: Document, limits: Limits) -> Document:
    """Truncate text over ``max_text_chars`` and say so: never silently partial."""
    n = limits.max_text_chars
    if len(doc.text) <= n:
        return doc
    segs = tuple(
        Segment(s.start, min(s.end, n), s.label, s.page) for s in doc.segments if s.start < n
    )
    reason = f"only the first {n} characters were inspected"
    return replace(
        doc,
        text=doc.text[:n],
        segments=segs,
        uninspectable=doc.uninspectable or reason,
    )


def check_ratio(declared: int, compressed: int, limits: Limits) -> None:
    if declared > RATIO_FLOOR and declared > compressed * limits.max_compression_ratio:
        ratio = declared / max(compressed, 1)
        raise LimitExceeded(
            f"compression ratio {ratio:.0f}:1 exceeds the limit of "
            f"{limits.max_compression_ratio:.0f}:1 (possible zip bomb)"
        )


def read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, ctx: Context) -> bytes:
    """Decompress one member, checking the declared size first and counting the
    real bytes as they come (declared sizes can lie)."""
    limits = ctx.limits
    if info.flag_bits & 0x1:
        raise LimitExceeded("encrypted archive member (password-protected)")
    if info.file_size > limits.max_file_bytes:
        raise LimitExceeded(
            f"member is {info.file_size} bytes, over the limit of {limits.max_file_bytes}"
        )
    check_ratio(info.file_size, info.compress_size, limits)
    cap = min(limits.max_file_bytes, limits.max_total_expanded_bytes - ctx.expanded)
    if info.file_size > cap:
        ctx.charge(info.file_size)
    out = bytearray()
    with zf.open(info) as fh:
        while chunk := fh.read(CHUNK):
            out += chunk
            ctx.charge(len(chunk))
            if len(out) > limits.max_file_bytes:
                raise LimitExceeded(f"member expands beyond {limits.max_file_bytes} bytes")
            check_ratio(len(out), info.compress_size, limits)
    return bytes(out)


def verify_zip(zf: zipfile.ZipFile, ctx: Context) -> None:
    """Decompress every member once, counting, before a reader we do not
    control (calamine) expands them itself."""
    for info in zf.infolist():
        if not info.is_dir():
            read_zip_member(zf, info, ctx)
