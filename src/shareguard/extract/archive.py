"""Archives: zip, tar, and single-stream compression (gzip, bzip2, xz), recursively."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import mimetypes
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO

from shareguard.extract._base import (
    CHUNK,
    Context,
    LimitExceeded,
    TooManyParts,
    check_ratio,
    read_zip_member,
    uninspectable,
)
from shareguard.model import Document

ZIP, TAR = "application/zip", "application/x-tar"
STREAMS: dict[str, tuple[Callable[[IO[bytes]], io.BufferedIOBase], tuple[str, ...]]] = {
    "application/gzip": (lambda f: gzip.GzipFile(fileobj=f), (".gz", ".gzip")),
    "application/x-bzip2": (lambda f: bz2.BZ2File(f), (".bz2",)),
    "application/x-xz": (lambda f: lzma.LZMAFile(f), (".xz",)),  # noqa: SIM115
}
# Errors a damaged member raises while being decompressed.
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, lzma.LZMAError, ValueError)

Member = tuple[str, Callable[[], bytes]]


def _guess(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _collect(
    members: Iterator[Member], path: str, media_type: str, ctx: Context, depth: int, size: int
) -> Document:
    parts: list[Document] = []
    problem = None
    try:
        for name, read in members:
            member = f"{path}!{name}"
            try:
                blob = read()
            except TooManyParts:
                raise
            except LimitExceeded as exc:
                ctx.count_part()
                parts.append(uninspectable(member, _guess(name), str(exc)))
                continue
            except NotImplementedError:
                ctx.count_part()
                parts.append(uninspectable(member, _guess(name), "unsupported compression method"))
                continue
            except DAMAGE:
                ctx.count_part()
                parts.append(
                    uninspectable(member, _guess(name), "corrupt or truncated archive member")
                )
                continue
            parts.append(ctx.child(blob, member, depth + 1))
    except TooManyParts as exc:
        problem = f"{exc}; the rest were not inspected"
    return Document(path, media_type, parts=tuple(parts), uninspectable=problem, size=size)


def extract_zip(data: bytes, path: str, ctx: Context, depth: int) -> Document:
    zf = zipfile.ZipFile(io.BytesIO(data))

    def members() -> Iterator[Member]:
        for info in zf.infolist():
            if not info.is_dir():
                yield info.filename, lambda info=info: read_zip_member(zf, info, ctx)  # type: ignore[misc]

    return _collect(members(), path, ZIP, ctx, depth, len(data))


def extract_tar(data: bytes, path: str, ctx: Context, depth: int) -> Document:
    tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115 - in-memory
    limit = ctx.limits.max_file_bytes

    def read(info: tarfile.TarInfo) -> bytes:
        if info.size > limit:
            raise LimitExceeded(f"member is {info.size} bytes, over the limit of {limit}")
        ctx.charge(info.size)
        fh = tf.extractfile(info)
        return fh.read() if fh is not None else b""

    def members() -> Iterator[Member]:
        for info in tf:
            if info.isfile():
                yield info.name, lambda info=info: read(info)  # type: ignore[misc]

    return _collect(members(), path, TAR, ctx, depth, len(data))


def extract_stream(data: bytes, path: str, media_type: str, ctx: Context, depth: int) -> Document:
    """gzip / bzip2 / xz: one compressed stream holding one file."""
    opener, suffixes = STREAMS[media_type]
    base = path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    lower = base.lower()
    inner = next((base[: -len(s)] for s in suffixes if lower.endswith(s)), "")
    if lower.endswith(".tgz"):
        inner = base[:-4] + ".tar"
    inner = inner or "content"
    limits = ctx.limits

    def read() -> bytes:
        out = bytearray()
        with opener(io.BytesIO(data)) as fh:
            while chunk := fh.read(CHUNK):
                out += chunk
                ctx.charge(len(chunk))
                if len(out) > limits.max_file_bytes:
                    raise LimitExceeded(f"expands beyond {limits.max_file_bytes} bytes")
                check_ratio(len(out), len(data), limits)
        return bytes(out)

    return _collect(iter([(inner, read)]), path, media_type, ctx, depth, len(data))
