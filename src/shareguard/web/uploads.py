"""Reading uploaded files (bounded) and scanning them, for the API and the
portal alike."""

from __future__ import annotations

from fastapi import UploadFile
from fastapi.concurrency import run_in_threadpool

from shareguard.config import Settings
from shareguard.detect.scanner import Scanner
from shareguard.disclosure import Outgoing
from shareguard.model import Document, FileReport
from shareguard.pipeline import scan_bytes

_CHUNK = 1024 * 1024


async def read_bounded(upload: UploadFile, limit: int) -> bytes | None:
    """The upload's bytes, or None if it is over ``limit`` (then it is reported
    uninspectable: an oversized file is never passed as clean)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def scan_uploads(
    uploads: list[UploadFile], settings: Settings, scanner: Scanner
) -> tuple[list[FileReport], list[Outgoing]]:
    reports: list[FileReport] = []
    outgoing: list[Outgoing] = []
    limit = settings.limits.max_file_bytes
    for upload in uploads:
        data = await read_bounded(upload, limit)
        name = upload.filename or "upload"
        if data is None:
            doc = Document(
                name, "application/octet-stream", uninspectable=f"larger than {limit} bytes"
            )
            # uninspectable, so never allowed; the caller keeps the original
            reports.append(scanner.scan(doc))
        else:
            reports.append(await run_in_threadpool(scan_bytes, data, name, settings, scanner))
            outgoing.append(Outgoing(name, data))
    return reports, outgoing
