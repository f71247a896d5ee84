"""One letter per affected person found in the people file, plus the CSV a
mailing house needs; several processes for large runs (PDF especially)."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shareguard.breach.affected import Affected, AffectedPerson
from shareguard.breach.clock import zone
from shareguard.breach.letters import (
    Addressee,
    LetterWriter,
    load_template,
    normalise_key,
    person_context,
    read_people,
)
from shareguard.breach.model import Incident, LettersResult
from shareguard.breach.report import recipients_of
from shareguard.errors import InputError
from shareguard.store.audit import AuditRecord

MAILING_CSV = "mailing.csv"
MISSING_CSV = "missing-addresses.csv"
_CHUNK = 500


def common_context(
    incident: Incident, records: Sequence[AuditRecord], organisation: str, now: datetime
) -> dict[str, Any]:
    tz = zone(incident.time_zone)
    when = incident.occurred_at.astimezone(tz).strftime("%-d %B %Y")
    found = incident.discovered_at.astimezone(tz).strftime("%-d %B %Y")
    domains = sorted({a.rsplit("@", 1)[-1] for a in recipients_of(records)})
    to = " and ".join(domains) if domains else "an organisation outside ours"
    measures = []
    if incident.deletion.attested_at:
        measures.append(
            "The organisation that received the information has confirmed that "
            "they have deleted every copy."
        )
    elif incident.deletion.requested_at:
        measures.append(
            "We have asked the organisation that received the information to delete "
            "every copy and to confirm this to us in writing."
        )
    if incident.reported_at:
        measures.append("We have reported what happened to the Information Commissioner's Office.")
    measures.append("We are reviewing how this happened so that it does not happen again.")
    return {
        "date": now.astimezone(tz).strftime("%-d %B %Y"),
        "subject": "Your personal information: a data breach",
        "what_happened": (
            f"On {when}, a file that included some of your personal information was sent by "
            f"mistake to {to}, who should not have received it. We found out on {found}."
        ),
        "measures": measures,
        "contact": incident.contact or incident.owner or "our Data Protection Officer",
        "organisation": organisation,
    }


_worker: LetterWriter | None = None


def _init_worker(template_path: str | None, formats: Sequence[str]) -> None:
    """Each process builds its writer (template, base DOCX) once."""
    global _worker
    _worker = LetterWriter(load_template(Path(template_path) if template_path else None), formats)


def _write_chunk(out_dir: str, jobs: Sequence[tuple[str, dict[str, Any]]]) -> int:
    assert _worker is not None
    for stem, context in jobs:
        _worker.write(Path(out_dir), stem, context)
    return len(jobs)


def run_letters(
    incident: Incident,
    people: Affected,
    people_file: Path,
    key_column: str,
    out_dir: Path,
    *,
    formats: Sequence[str],
    template: Path | None,
    organisation: str,
    records: Sequence[AuditRecord],
    jobs: int = 1,
    now: datetime | None = None,
) -> LettersResult:
    started = time.perf_counter()
    # Fail on a bad template or format before reading anyone's address.
    LetterWriter(load_template(template), formats)
    by_key: dict[str, AffectedPerson] = {}
    for p in people.people:
        if p.key is not None:
            by_key.setdefault(normalise_key(p.key), p)
    if not by_key:
        raise InputError(f"incident {incident.id}: no registered affected people to write to")
    out_dir.mkdir(parents=True, exist_ok=True)
    common = common_context(incident, records, organisation, now or datetime.now(UTC))
    work: list[tuple[str, dict[str, Any]]] = []
    rows: list[tuple[str, Addressee]] = []
    written: set[str] = set()
    not_affected = 0
    for a in read_people(people_file, key_column):
        person = by_key.get(a.key)
        if person is None:
            not_affected += 1
            continue
        if a.key in written:
            continue  # the same person twice in the people file: one letter
        written.add(a.key)
        stem = f"letter-{len(work) + 1:06d}"
        work.append((stem, person_context(a, person.categories, person.special, common)))
        rows.append((stem, a))
    chunks = [work[i : i + _CHUNK] for i in range(0, len(work), _CHUNK)]
    tpl = str(template) if template else None
    if jobs > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(tpl, formats)) as pool:
            list(pool.map(_write_chunk, [str(out_dir)] * len(chunks), chunks))
    else:
        _init_worker(tpl, formats)
        for c in chunks:
            _write_chunk(str(out_dir), c)
    mailing = _mailing_csv(out_dir, rows, formats)
    missing = [p for k, p in by_key.items() if k not in written]
    missing += [p for p in people.people if p.key is None]
    if missing:
        with (out_dir / MISSING_CSV).open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["dataset", "group", "key"])
            w.writerows(
                [p.dataset, p.group or "", p.key or f"(unresolved {p.ref})"] for p in missing
            )
    return LettersResult(
        len(work),
        str(out_dir),
        str(mailing),
        len(missing),
        not_affected,
        time.perf_counter() - started,
    )


def _mailing_csv(
    out_dir: Path, rows: Sequence[tuple[str, Addressee]], formats: Sequence[str]
) -> Path:
    width = max((len(a.address) for _, a in rows), default=0)
    path = out_dir / MAILING_CSV
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["letter", "title", "name", *(f"address_{i + 1}" for i in range(width))])
        for stem, a in rows:
            files = ";".join(f"{stem}.{f}" for f in formats)
            w.writerow([files, a.title, a.full_name, *a.address, *[""] * (width - len(a.address))])
    return path
