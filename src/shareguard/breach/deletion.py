"""The request to the recipient to delete what they were sent, listing the
files by name and SHA-256 so both sides know exactly which, with a form for
the recipient to attest the deletion."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shareguard.breach.clock import local
from shareguard.breach.documents import Document
from shareguard.breach.model import Incident
from shareguard.store.audit import AuditRecord


def disclosed_files(records: Sequence[AuditRecord]) -> list[tuple[str, str | None]]:
    """(name, sha256) of every file the incident's records say left."""
    seen: dict[tuple[str, str | None], None] = {}
    for rec in records:
        for f in rec.payload.get("files") or []:
            seen[(str(f.get("name")), f.get("sha256"))] = None
    return list(seen)


def build_request(
    incident: Incident,
    records: Sequence[AuditRecord],
    recipients: Sequence[str],
    due: datetime,
) -> Document:
    zone = incident.time_zone
    doc = Document(f"Request to delete personal data sent in error — reference {incident.id}")
    doc.fields(
        [
            ("To", ", ".join(recipients) or "[recipient]"),
            ("From", incident.contact or incident.owner or "[contact]"),
            ("Our reference", f"incident {incident.id}"),
            ("Sent to you on", local(incident.occurred_at, zone)),
            ("Please reply by", local(due, zone)),
        ]
    )
    doc.para(
        "You were sent the files listed below, which hold personal data you are not entitled to "
        "receive. Please do not open, use, copy or pass them on. Delete every copy — in mailboxes "
        "(including deleted items), downloads, shared drives, document systems and anywhere they "
        "were forwarded — and make sure they will not be restored from backups. Then complete "
        "and return the attestation below."
    )
    doc.heading("Files to delete")
    files = disclosed_files(records)
    doc.fields([(name, f"SHA-256 {sha}" if sha else "SHA-256 not recorded") for name, sha in files])
    doc.para(
        "The SHA-256 fingerprint identifies each file exactly: a file with the same fingerprint "
        "is a copy, whatever it is called."
    )
    doc.heading("Attestation of deletion")
    doc.bullets(
        [
            "I confirm that every copy of the files listed above has been deleted from our "
            "systems, including e-mail, downloads, shared storage and forwarded copies.",
            "I confirm that no copy has been kept, used or disclosed to anyone else, except as "
            "stated below.",
            "I confirm that copies in backups will not be restored, or will be deleted when the "
            "backups are next overwritten.",
        ]
    )
    doc.fields(
        [
            ("Exceptions (copies passed on, to whom)", ""),
            ("Name", ""),
            ("Position", ""),
            ("Organisation", ""),
            ("Date of deletion", ""),
            ("Signature", ""),
        ]
    )
    return doc
