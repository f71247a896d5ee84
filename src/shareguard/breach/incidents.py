"""The breach-response service: one plain class over the store, used by the
``shareguard incident`` commands and the web portal alike.

An incident links the audit records of what left (recorded checks, or a
record made now of files that left by another route) to the response: the
affected people (derived from those records every time, never copied), the
severity with people's overrides, the notification decisions and the
recipient's deletion.  Every step appends an audit record of kind
``incident.*`` holding ids, counts and hashes — no names, no keys.
"""

from __future__ import annotations

import builtins
import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from shareguard.breach.affected import Affected, Resolver, affected_people
from shareguard.breach.clock import DEFAULT_ZONE, zone
from shareguard.breach.deletion import build_request, disclosed_files
from shareguard.breach.documents import write
from shareguard.breach.letters_run import run_letters
from shareguard.breach.model import (
    RESTRICTION_GROUNDS,
    Deletion,
    Incident,
    LettersResult,
    TimelineEvent,
)
from shareguard.breach.report import build_report, recipients_of
from shareguard.breach.severity import Assessment, BreachFacts, Override, assess, normalise
from shareguard.breach.timeline import build_timeline
from shareguard.config import Settings
from shareguard.errors import InputError, ShareGuardError
from shareguard.store.approvals import ApprovalStore
from shareguard.store.audit import AuditLog, AuditRecord
from shareguard.store.db import session_scope
from shareguard.store.models import IncidentFactorRow, IncidentRecordRow, IncidentRow

if TYPE_CHECKING:
    from shareguard.disclosure import Outgoing

DELETION_DAYS = 14
_RECORDS_KEPT = 32


class IncidentError(ShareGuardError):
    """No such incident, or the step does not fit its state."""


def _incident(row: IncidentRow, record_ids: Sequence[int]) -> Incident:
    return Incident(
        id=row.id,
        title=row.title,
        description=row.description,
        status=row.status,
        owner=row.owner,
        contact=row.contact,
        route=row.route,
        occurred_at=row.occurred_at,
        discovered_at=row.discovered_at,
        time_zone=row.time_zone,
        created_at=row.created_at,
        created_by=row.created_by,
        reported_at=row.reported_at,
        regulator_reference=row.regulator_reference,
        not_reported_reason=row.not_reported_reason,
        late_reason=row.late_reason,
        people_told_at=row.people_told_at,
        people_restriction=row.people_restriction,
        people_restriction_ground=row.people_restriction_ground,
        others_told=row.others_told,
        closed_at=row.closed_at,
        deletion=Deletion(
            row.deletion_requested_at,
            row.deletion_due_at,
            row.deletion_attested_by,
            row.deletion_attested_at,
            row.deletion_evidence_sha256,
        ),
        record_ids=tuple(sorted(record_ids)),
    )


@dataclass
class Incidents:
    engine: Engine
    settings: Settings
    resolver: Resolver | None = None
    audit: AuditLog = field(init=False)
    # Audit records never change once written: keep the last few read (a
    # disclosure of 50,000 people is a large payload to parse again).
    _records: OrderedDict[int, AuditRecord] = field(init=False, default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.audit = AuditLog(self.engine)

    # -- opening and reading ---------------------------------------------

    def open(
        self,
        title: str,
        *,
        occurred: datetime,
        discovered: datetime,
        by: str,
        records: Sequence[int] = (),
        files: Sequence[Outgoing] = (),
        recipient: str | None = None,
        sender: str | None = None,
        owner: str | None = None,
        contact: str | None = None,
        description: str | None = None,
        time_zone: str = DEFAULT_ZONE,
    ) -> Incident:
        """Open an incident about recorded disclosures (``records``) or about
        files that left by another route (``files``: ``disclosure.Outgoing``
        values, scanned now, with the ``recipient`` they went to)."""
        zone(time_zone)
        if not title.strip():
            raise InputError("give the incident a title")
        if occurred.tzinfo is None or discovered.tzinfo is None:
            raise InputError("occurred and discovered must be aware datetimes")
        if discovered.astimezone(UTC) < occurred.astimezone(UTC):
            raise InputError("the breach cannot be discovered before it occurred")
        if bool(records) == bool(files):
            raise InputError("give either the audit records of the disclosure or the files")
        if files:
            if not recipient:
                raise InputError("say whom the files went to (--recipient)")
            linked = [self._record_outside(files, recipient, sender or by, by)]
            route = "outside"
        else:
            linked = [self._disclosure(r) for r in records]
            route = "disclosure"
        now = datetime.now(UTC)
        with session_scope(self.engine, write=True) as s:
            row = IncidentRow(
                title=title.strip()[:200],
                description=description,
                status="open",
                owner=owner or by,
                contact=contact,
                route=route,
                occurred_at=occurred,
                discovered_at=discovered,
                time_zone=time_zone,
                created_at=now,
                created_by=by,
            )
            s.add(row)
            s.flush()
            s.add_all(IncidentRecordRow(incident_id=row.id, record_id=r.id) for r in linked)
            incident_id = row.id
        self._log(
            "incident.open",
            by,
            incident_id,
            {
                "records": [r.id for r in linked],
                "route": route,
                "occurred_at": occurred.astimezone(UTC).isoformat(),
                "discovered_at": discovered.astimezone(UTC).isoformat(),
                "owner": owner or by,
            },
        )
        return self.get(incident_id)

    def _disclosure(self, record_id: int) -> AuditRecord:
        rec = self.audit.get(record_id)
        if rec is None:
            raise IncidentError(f"no audit record {record_id}")
        if "files" not in rec.payload or not rec.payload.get("recipients"):
            raise IncidentError(
                f"audit record {record_id} ({rec.kind}) is not a disclosure: it names no files "
                "and recipients"
            )
        return rec

    def _record_outside(
        self, files: Sequence[Outgoing], recipient: str, sender: str, by: str
    ) -> AuditRecord:
        """Scan the files now and record what left, as a check would have."""
        from shareguard.disclosure import Disclosures, audit_payload, subject_hashes
        from shareguard.pipeline import make_scanner, scan_bytes
        from shareguard.policy.engine import decide
        from shareguard.render import summarise

        scanner = make_scanner(self.settings)
        report = summarise(
            tuple(scan_bytes(f.content, f.name, self.settings, scanner) for f in files)
        )
        flow = Disclosures(self.settings, self.engine)
        decision = decide(
            report, sender, [recipient], flow.agreements(), flow.policy(), datetime.now(UTC)
        )
        payload = audit_payload(decision, report, files, sender, [recipient])
        # Not a decision ShareGuard took: kept out of the decision index.
        payload["policy_decision"] = payload.pop("decision")
        payload["route"] = "outside"
        hashes = set(subject_hashes(report)) | set(payload.get("subjects") or {})
        return self.audit.append("incident.files", by, payload, hashes)

    def get(self, incident_id: int | str) -> Incident:
        key = _id(incident_id)
        with session_scope(self.engine) as s:
            row = s.get(IncidentRow, key)
            if row is None:
                raise IncidentError(f"no incident {incident_id}")
            ids = (
                s.execute(
                    select(IncidentRecordRow.record_id).where(IncidentRecordRow.incident_id == key)
                )
                .scalars()
                .all()
            )
            return _incident(row, ids)

    def list(self, status: str | None = None) -> builtins.list[Incident]:
        """Every incident, newest first: the breach register (Art 33(5))."""
        with session_scope(self.engine) as s:
            q = select(IncidentRow).order_by(IncidentRow.id.desc())
            if status:
                q = q.where(IncidentRow.status == status)
            rows = s.execute(q).scalars().all()
            links: dict[int, list[int]] = {r.id: [] for r in rows}
            for iid, rid in s.execute(
                select(IncidentRecordRow.incident_id, IncidentRecordRow.record_id)
            ):
                if iid in links:
                    links[iid].append(rid)
            return [_incident(r, links[r.id]) for r in rows]

    def records(self, incident_id: int | str) -> builtins.list[AuditRecord]:
        """The audit records of what left, oldest first."""
        out = []
        for rid in self.get(incident_id).record_ids:
            rec = self._records.get(rid) or self.audit.get(rid)
            if rec is None:
                raise IncidentError(f"incident {incident_id}: audit record {rid} is missing")
            self._records[rid] = rec
            self._records.move_to_end(rid)
            while len(self._records) > _RECORDS_KEPT:
                self._records.popitem(last=False)
            out.append(rec)
        return out

    def timeline(self, incident_id: int | str) -> builtins.list[TimelineEvent]:
        incident = self.get(incident_id)
        return build_timeline(
            self.audit, ApprovalStore(self.engine), incident.id, self.records(incident.id)
        )

    # -- people and severity ---------------------------------------------

    def _resolver(self) -> Resolver | None:
        if self.resolver is None:
            try:
                from shareguard.store.datasets import DatasetStore
            except ImportError:  # exact data match not installed: refs stay unresolved
                return None
            self.resolver = DatasetStore(self.engine, self.settings.secret_key_bytes())
        return self.resolver

    def affected(self, incident_id: int | str, *, by: str) -> Affected:
        """The affected people with their keys resolved (recorded: who looked)."""
        incident = self.get(incident_id)
        result = affected_people(self.records(incident.id), self._resolver())
        self._log("incident.affected", by, incident.id, _counts(result))
        return result

    def _facts(
        self, incident_id: int, *, resolve: bool = False
    ) -> tuple[Incident, builtins.list[AuditRecord], Affected, BreachFacts]:
        """The facts severity and the report are judged on; ``resolve`` adds
        the people's groups (decrypting their keys), which severity does not need."""
        incident = self.get(incident_id)
        records = self.records(incident.id)
        people = affected_people(records, self._resolver() if resolve else None)
        cats = people.categories() | {t for r in records for t in (r.payload.get("entities") or {})}
        special = people.special() | {
            s for r in records for s in (r.payload.get("special_category") or [])
        }
        facts = BreachFacts(
            frozenset(cats),
            frozenset(special),
            people.total,
            people.registered,
            tuple(recipients_of(records)),
        )
        return incident, records, people, facts

    def _overrides(self, incident_id: int) -> builtins.list[Override]:
        with session_scope(self.engine) as s:
            rows = (
                s.execute(
                    select(IncidentFactorRow)
                    .where(IncidentFactorRow.incident_id == incident_id)
                    .order_by(IncidentFactorRow.id)
                )
                .scalars()
                .all()
            )
            return [Override(r.factor, r.value, r.why, r.set_by) for r in rows]

    def severity(self, incident_id: int | str) -> Assessment:
        incident, _, _, facts = self._facts(_id(incident_id))
        return assess(facts, self._overrides(incident.id))

    def set_factor(
        self, incident_id: int | str, factor: str, value: str, *, why: str, by: str
    ) -> Assessment:
        """Override one severity factor; the justification is required and recorded."""
        incident = self.get(incident_id)
        if not why.strip():
            raise InputError("give the justification for the override (--why)")
        canonical = normalise(factor, value)
        with session_scope(self.engine, write=True) as s:
            s.add(
                IncidentFactorRow(
                    incident_id=incident.id,
                    factor=factor,
                    value=canonical,
                    why=why.strip(),
                    set_by=by,
                    set_at=datetime.now(UTC),
                )
            )
        result = self.severity(incident.id)
        self._log(
            "incident.severity",
            by,
            incident.id,
            {
                "factor": factor,
                "value": canonical,
                "why": why.strip(),
                "score": result.score,
                "band": result.band,
            },
        )
        return result

    # -- documents -------------------------------------------------------

    def report(
        self,
        incident_id: int | str,
        path: Path,
        *,
        by: str,
        follow_up: bool = False,
        law_enforcement: bool = False,
        now: datetime | None = None,
    ) -> Path:
        now = now or datetime.now(UTC)
        incident, records, people, facts = self._facts(_id(incident_id), resolve=True)
        severity = assess(facts, self._overrides(incident.id))
        doc = build_report(
            incident,
            records,
            people,
            severity,
            now=now,
            follow_up=follow_up,
            law_enforcement=law_enforcement,
        )
        written = write(doc, path)
        self._log(
            "incident.report",
            by,
            incident.id,
            {
                "file": written.name,
                "sha256": _sha256(written.read_bytes()),
                "follow_up": follow_up,
                "law_enforcement": law_enforcement,
                "people": people.total,
                "band": severity.band,
            },
        )
        return written

    def letters(
        self,
        incident_id: int | str,
        people_file: Path,
        key_column: str,
        out_dir: Path,
        *,
        by: str,
        formats: Sequence[str] = ("docx",),
        template: Path | None = None,
        organisation: str = "The Data Protection Officer",
        jobs: int = 1,
    ) -> LettersResult:
        incident = self.get(incident_id)
        records = self.records(incident.id)
        people = affected_people(records, self._resolver())
        result = run_letters(
            incident,
            people,
            people_file,
            key_column,
            out_dir,
            formats=formats,
            template=template,
            organisation=organisation,
            records=records,
            jobs=jobs,
        )
        self._log(
            "incident.letters",
            by,
            incident.id,
            {
                "letters": result.letters,
                "formats": list(formats),
                "missing_addresses": result.missing_addresses,
                "people_file_sha256": _sha256(people_file.read_bytes()),
            },
        )
        return result

    def deletion_request(
        self,
        incident_id: int | str,
        path: Path,
        *,
        by: str,
        due_days: int = DELETION_DAYS,
        now: datetime | None = None,
    ) -> Incident:
        incident = self.get(incident_id)
        records = self.records(incident.id)
        now = now or datetime.now(UTC)
        due = now + timedelta(days=due_days)
        written = write(build_request(incident, records, recipients_of(records), due), path)
        with session_scope(self.engine, write=True) as s:
            row = s.get(IncidentRow, incident.id)
            assert row is not None
            row.deletion_status = "requested"
            row.deletion_requested_at, row.deletion_due_at = now, due
        self._log(
            "incident.deletion",
            by,
            incident.id,
            {
                "file": written.name,
                "sha256": _sha256(written.read_bytes()),
                "due_at": due.isoformat(),
                "files": [{"name": n, "sha256": h} for n, h in disclosed_files(records)],
            },
        )
        return self.get(incident.id)

    def attest(
        self,
        incident_id: int | str,
        *,
        attested_by: str,
        date: datetime,
        by: str,
        evidence: Path | None = None,
    ) -> Incident:
        incident = self.get(incident_id)
        if incident.deletion.requested_at is None:
            raise IncidentError(
                f"incident {incident.id}: no deletion was requested (incident deletion ID request)"
            )
        digest = _sha256(evidence.read_bytes()) if evidence else None
        with session_scope(self.engine, write=True) as s:
            row = s.get(IncidentRow, incident.id)
            assert row is not None
            row.deletion_status = "attested"
            row.deletion_attested_by, row.deletion_attested_at = attested_by, date
            row.deletion_evidence_sha256 = digest
        self._log(
            "incident.attest",
            by,
            incident.id,
            {
                "attested_by": attested_by,
                "attested_at": date.astimezone(UTC).isoformat(),
                "evidence_sha256": digest,
            },
        )
        return self.get(incident.id)

    # -- decisions -------------------------------------------------------

    def _update(
        self, incident_id: int | str, by: str, step: dict[str, Any], **values: Any
    ) -> Incident:
        incident = self.get(incident_id)
        with session_scope(self.engine, write=True) as s:
            row = s.get(IncidentRow, incident.id)
            assert row is not None
            for k, v in values.items():
                setattr(row, k, v)
        self._log("incident.status", by, incident.id, step)
        return self.get(incident.id)

    def mark_reported(
        self,
        incident_id: int | str,
        *,
        at: datetime,
        by: str,
        reference: str | None = None,
        late_reason: str | None = None,
    ) -> Incident:
        incident = self.get(incident_id)
        if at > incident.clock.deadline and not (late_reason or incident.late_reason):
            raise InputError(
                "reported after 72 hours: give the reasons for the delay (--late-reason)"
            )
        return self._update(
            incident.id,
            by,
            {"step": "reported", "at": at.astimezone(UTC).isoformat()},
            status="reported",
            reported_at=at,
            regulator_reference=reference,
            late_reason=late_reason or incident.late_reason,
        )

    def mark_not_reported(self, incident_id: int | str, *, why: str, by: str) -> Incident:
        if not why.strip():
            raise InputError("say why the breach is not reported: the register keeps it")
        return self._update(
            incident_id,
            by,
            {"step": "not_reported", "why": why.strip()},
            status="not_reported",
            not_reported_reason=why.strip(),
        )

    def people_told(self, incident_id: int | str, *, at: datetime, by: str) -> Incident:
        return self._update(
            incident_id,
            by,
            {"step": "people_told", "at": at.astimezone(UTC).isoformat()},
            people_told_at=at,
        )

    def restrict_people(
        self, incident_id: int | str, *, why: str, ground: str | None, by: str
    ) -> Incident:
        """Delay or restrict telling the people (DPA 2018 s.68(7)), with the reason."""
        if ground is not None and ground not in RESTRICTION_GROUNDS:
            raise InputError(f"the s.68(7) ground is one of {', '.join(RESTRICTION_GROUNDS)}")
        if not why.strip():
            raise InputError("give the reason for delaying or restricting telling the people")
        return self._update(
            incident_id,
            by,
            {"step": "people_restricted", "ground": ground, "why": why.strip()},
            people_restriction=why.strip(),
            people_restriction_ground=ground,
        )

    def others_told(self, incident_id: int | str, *, who: str, by: str) -> Incident:
        return self._update(incident_id, by, {"step": "others_told", "who": who}, others_told=who)

    def close(self, incident_id: int | str, *, by: str) -> Incident:
        incident = self.get(incident_id)
        if incident.status == "open":
            raise IncidentError(
                f"incident {incident.id}: record whether it was reported (reported / not-reported) "
                "before closing it"
            )
        return self._update(
            incident.id, by, {"step": "closed"}, status="closed", closed_at=datetime.now(UTC)
        )

    def _log(self, kind: str, by: str, incident_id: int, payload: dict[str, Any]) -> None:
        self.audit.append(kind, by, {"incident_id": incident_id, **payload})


def _counts(result: Affected) -> dict[str, Any]:
    c = result.counts()
    return {k: c[k] for k in ("registered", "pattern_only", "total", "special_category_people")}


def _id(incident_id: int | str) -> int:
    if isinstance(incident_id, int):
        return incident_id
    text = incident_id.strip().removeprefix("INC-").removeprefix("inc-")
    if not text.isdigit():
        raise IncidentError(f"no incident {incident_id}")
    return int(text)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
