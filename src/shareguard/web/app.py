"""FastAPI application: JSON API for scanning.

``POST /v1/scan`` takes one or more files as multipart form data (field
``file``) and returns the same JSON as ``shareguard scan --format json``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, File, UploadFile
from fastapi.concurrency import run_in_threadpool

from shareguard import __version__
from shareguard.config import Settings
from shareguard.model import Document, FileReport
from shareguard.pipeline import make_scanner, scan_bytes
from shareguard.render import summarise, to_json

_CHUNK = 1024 * 1024


async def _read_bounded(upload: UploadFile, limit: int) -> bytes | None:
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


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="ShareGuard", version=__version__)
    scanner = make_scanner(settings)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post("/v1/scan")
    async def scan(file: Annotated[list[UploadFile], File(description="files to scan")]) -> Any:
        reports: list[FileReport] = []
        for upload in file:
            limit = settings.limits.max_file_bytes
            data = await _read_bounded(upload, limit)
            name = upload.filename or "upload"
            if data is None:
                doc = Document(
                    name, "application/octet-stream", uninspectable=f"larger than {limit} bytes"
                )
                reports.append(scanner.scan(doc))
            else:
                reports.append(await run_in_threadpool(scan_bytes, data, name, settings, scanner))
        return to_json(summarise(tuple(reports)))

    return app
