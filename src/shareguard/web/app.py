"""FastAPI application: the JSON API.

``POST /v1/scan`` takes one or more files as multipart form data (field
``file``) and returns the same JSON as ``shareguard scan --format json``.
``POST /v1/check`` also takes ``to`` (repeatable) and ``from`` form fields,
decides and records, and returns the JSON of ``shareguard check``.  The
service migrates its database on start.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool

from shareguard import __version__
from shareguard.config import Settings
from shareguard.disclosure import Disclosures, Outgoing
from shareguard.model import Document, FileReport
from shareguard.pipeline import make_scanner, scan_bytes
from shareguard.render import summarise, to_json
from shareguard.store.db import open_store

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
    engine = open_store(settings, migrate=True)  # the service migrates on start
    disclosures = Disclosures(settings, engine)

    async def _scan_uploads(uploads: list[UploadFile]) -> tuple[list[FileReport], list[Outgoing]]:
        reports: list[FileReport] = []
        outgoing: list[Outgoing] = []
        limit = settings.limits.max_file_bytes
        for upload in uploads:
            data = await _read_bounded(upload, limit)
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

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post("/v1/scan")
    async def scan(file: Annotated[list[UploadFile], File(description="files to scan")]) -> Any:
        reports, _ = await _scan_uploads(file)
        return to_json(summarise(tuple(reports)))

    @app.post("/v1/check")
    async def check(
        file: Annotated[list[UploadFile], File(description="files about to be sent")],
        to: Annotated[list[str], Form(description="recipient addresses")],
        sender: Annotated[str, Form(alias="from", description="sender address")],
    ) -> Any:
        """Scan, decide per recipient and record: the JSON of `shareguard check`."""
        reports, outgoing = await _scan_uploads(file)
        result = await run_in_threadpool(
            disclosures.check, summarise(tuple(reports)), outgoing, sender, to
        )
        return result.as_json()

    return app
