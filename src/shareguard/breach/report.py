"""The draft of the report to the Information Commissioner, prefilled from
the facts ShareGuard holds: UK GDPR Art 33(3), or for law-enforcement
processing DPA 2018 Part 3 ss.67–68.  A draft for a person to check and
send: anything ShareGuard cannot know is marked "[to complete]"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shareguard.breach.affected import Affected
from shareguard.breach.clock import local
from shareguard.breach.documents import Document
from shareguard.breach.model import RESTRICTION_GROUNDS, Incident, hours
from shareguard.breach.severity import Assessment
from shareguard.store.audit import AuditRecord

TODO = "[to complete]"

# Plain-language names of the entity types, for people and regulators.
CATEGORY_NAMES = {
    "PERSON": "names",
    "EMAIL_ADDRESS": "e-mail addresses",
    "PHONE_NUMBER": "phone numbers",
    "STREET_ADDRESS": "home addresses",
    "UK_POSTCODE": "postcodes",
    "DATE_OF_BIRTH": "dates of birth",
    "UK_NINO": "National Insurance numbers",
    "UK_NHS": "NHS numbers",
    "UK_BANK_ACCOUNT": "bank account details",
    "IBAN_CODE": "bank account details (IBAN)",
    "CREDIT_CARD": "payment card numbers",
    "UK_PASSPORT": "passport numbers",
    "UK_DRIVING_LICENCE": "driving licence numbers",
    "UK_VEHICLE_REG": "vehicle registrations",
    "IP_ADDRESS": "IP addresses",
    "health": "health information",
    "ethnicity": "ethnic origin",
    "religion": "religious or philosophical beliefs",
    "trade_union": "trade union membership",
    "political": "political opinions",
    "sex_life": "sex life or sexual orientation",
    "biometric": "biometric data",
    "genetic": "genetic data",
    "criminal_offence": "criminal offence information",
}

CONSEQUENCES = {
    "UK_NINO": "identity fraud using the National Insurance number with the name and date of birth",
    "DATE_OF_BIRTH": "impersonation and identity fraud (date of birth)",
    "UK_BANK_ACCOUNT": "financial fraud or scam attempts using bank details",
    "IBAN_CODE": "financial fraud or scam attempts using bank details",
    "CREDIT_CARD": "fraudulent payments",
    "STREET_ADDRESS": "unwanted contact at home; a risk to personal safety for staff in "
    "sensitive roles",
    "EMAIL_ADDRESS": "phishing and unwanted contact",
    "PHONE_NUMBER": "unwanted contact and phishing calls",
    "UK_PASSPORT": "identity fraud",
    "UK_DRIVING_LICENCE": "identity fraud",
}


def category_names(cats: Sequence[str] | set[str]) -> str:
    return ", ".join(sorted({CATEGORY_NAMES.get(c, c.lower()) for c in cats})) or "none recorded"


def _files(records: Sequence[AuditRecord]) -> list[str]:
    out = []
    for rec in records:
        for f in rec.payload.get("files") or []:
            sha = f.get("sha256")
            out.append(f"{f.get('name')} (SHA-256 {sha})" if sha else str(f.get("name")))
    return out


def recipients_of(records: Sequence[AuditRecord]) -> list[str]:
    seen: list[str] = []
    for rec in records:
        for r in rec.payload.get("recipients") or []:
            addr = r.get("address") if isinstance(r, dict) else r
            if isinstance(addr, str) and addr not in seen:
                seen.append(addr)
    return seen


def build_report(
    incident: Incident,
    records: Sequence[AuditRecord],
    affected: Affected,
    severity: Assessment,
    *,
    now: datetime,
    follow_up: bool = False,
    law_enforcement: bool = False,
) -> Document:
    zone = incident.time_zone
    law = "DPA 2018 Part 3, s.67" if law_enforcement else "UK GDPR Article 33"
    kind = "Follow-up" if follow_up else "Initial"
    doc = Document(f"Personal data breach report — {kind.lower()} ({law}) — incident {incident.id}")
    doc.para(
        "Draft prepared by ShareGuard from its audit trail. Check every entry before sending; "
        f"entries marked {TODO} need information ShareGuard does not hold."
    )
    doc.heading("About this report")
    doc.fields(
        [
            ("Report type", f"{kind} report"),
            ("Legal basis", law),
            ("Incident reference", str(incident.id)),
            (
                "Regulator's reference",
                incident.regulator_reference or ("n/a" if not follow_up else TODO),
            ),
            ("Contact point (DPO or other)", incident.contact or incident.owner or TODO),
        ]
    )

    doc.heading("What happened")
    files, recipients = _files(records), recipients_of(records)
    senders = sorted({str(r.payload.get("sender")) for r in records if r.payload.get("sender")})
    how = (
        "sent by e-mail or upload through ShareGuard's check"
        if incident.route == "disclosure"
        else "sent by a route ShareGuard did not see; the files were scanned afterwards"
    )
    doc.para(incident.description or f"{incident.title}. {TODO}: describe how it happened.")
    doc.fields(
        [
            ("Title", incident.title),
            ("How the data left", how),
            ("Sender(s)", ", ".join(senders) or TODO),
            ("Recipient(s)", ", ".join(recipients) or TODO),
            ("Files", "; ".join(files) or TODO),
            ("Type of breach", "confidentiality (unauthorised disclosure)"),
        ]
    )
    doc.heading("When")
    clock = incident.clock
    rows = [
        ("Breach occurred", local(incident.occurred_at, zone)),
        ("Breach discovered (awareness)", local(incident.discovered_at, zone)),
        ("Report due by (72 hours)", local(clock.deadline, zone)),
        ("Time from awareness to this draft", f"{hours(now - incident.discovered_at)} hours"),
    ]
    if now > clock.deadline and incident.reported_at is None:
        rows.append(("Reasons for reporting after 72 hours", incident.late_reason or TODO))
    doc.fields(rows)

    doc.heading("Personal data and people involved")
    counts = affected.counts()
    groups = "; ".join(f"{g}: {n}" for g, n in counts["by_group"].items()) or "none registered"
    doc.fields(
        [
            (
                "Categories of personal data",
                category_names(affected.categories() or _entity_types(records)),
            ),
            (
                "Special-category or criminal-offence data",
                category_names(affected.special()) if affected.special() else "none found",
            ),
            ("Approximate number of people", str(affected.total)),
            ("of whom identified against registered records", str(affected.registered)),
            ("of whom found by pattern only", str(affected.pattern_only_total)),
            (
                "Approximate number of personal data records",
                str(sum(int(r.payload.get("data_subjects") or 0) for r in records)),
            ),
            ("Categories of people", f"{groups} {TODO}: e.g. employees, officers, staff"),
        ]
    )
    doc.heading("Likely consequences")
    doc.para(
        f"ENISA severity {severity.score:g} ({severity.band}); "
        f"DPC {severity.dpc:g} × EI {severity.ei:g} + CB {severity.cb:g}."
    )
    doc.bullets(_consequences(affected, records))

    doc.heading("Measures taken or proposed")
    doc.bullets(_measures(incident, now))
    doc.heading("Telling the people")
    doc.bullets(_people(incident, severity, law_enforcement))
    doc.heading("Who else has been told")
    doc.para(incident.others_told or f"{TODO}: e.g. police, the recipient's DPO, insurers")
    if law_enforcement:
        doc.heading("Record of the breach (DPA 2018 s.67(6))")
        doc.para(
            "The controller records the facts of the breach, its effects and the remedial "
            "action taken; this incident and its audit trail in ShareGuard are that record."
        )
    return doc


def _entity_types(records: Sequence[AuditRecord]) -> set[str]:
    return {t for r in records for t in (r.payload.get("entities") or {})}


def _consequences(affected: Affected, records: Sequence[AuditRecord]) -> list[str]:
    cats = affected.categories() | _entity_types(records)
    out = [CONSEQUENCES[c] for c in sorted(cats) if c in CONSEQUENCES]
    if affected.special():
        out.append(
            "distress, discrimination or harm to reputation from the disclosure of "
            + category_names(affected.special())
        )
    out.append("loss of control over their personal data and distress")
    return sorted(set(out))


def _measures(incident: Incident, now: datetime) -> list[str]:
    out = []
    status = incident.deletion.status(now)
    if status == "attested":
        out.append(
            f"The recipient confirmed deletion: attested by {incident.deletion.attested_by} on "
            f"{local(incident.deletion.attested_at, incident.time_zone)}"  # type: ignore[arg-type]
        )
    elif status in ("requested", "overdue"):
        out.append(
            "Deletion requested from the recipient on "
            f"{local(incident.deletion.requested_at, incident.time_zone)}"  # type: ignore[arg-type]
            + (" (attestation overdue)" if status == "overdue" else "")
        )
    else:
        out.append(f"{TODO}: ask the recipient to delete the data")
    out.append(f"{TODO}: measures to stop it happening again")
    return out


def _people(incident: Incident, severity: Assessment, law_enforcement: bool) -> list[str]:
    out = [
        (
            "Likely high risk: the people must be told."
            if severity.notify_people
            else "Not assessed as high risk."
        )
    ]
    if incident.people_told_at:
        out.append(f"People told on {local(incident.people_told_at, incident.time_zone)}")
    if incident.people_restriction:
        ground = incident.people_restriction_ground
        basis = (
            f"DPA 2018 s.68(7)({ground}): {RESTRICTION_GROUNDS[ground]}"
            if law_enforcement and ground in RESTRICTION_GROUNDS
            else "restriction"
        )
        out.append(
            f"Telling the people delayed or restricted ({basis}). Reason: "
            f"{incident.people_restriction}"
        )
    elif law_enforcement and severity.notify_people and not incident.people_told_at:
        out.append(
            "If telling the people would, for example, obstruct an inquiry or prejudice the "
            "prevention or detection of crime, DPA 2018 s.68(7) allows delaying or restricting it: "
            "record the ground and the reason (incident people ID --restrict ...)."
        )
    return out
