"""The incident service on SQLite and PostgreSQL: open, the register, the
affected list, severity overrides, the report, letters and deletion — each
step in the audit trail without personal data."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from breach_builders import FakeResolver, Staff, make_staff, record_check, write_people_csv
from sqlalchemy import Engine

from shareguard.breach import letters_run
from shareguard.breach.clock import parse_when
from shareguard.breach.incidents import IncidentError, Incidents
from shareguard.breach.letters_run import MAILING_CSV, MISSING_CSV
from shareguard.errors import InputError
from shareguard.store.approvals import ApprovalStore
from shareguard.store.audit import AuditLog

OCCURRED = parse_when("2026-03-27T16:40")
DISCOVERED = parse_when("2026-03-28T10:00")


def open_incident(service: Incidents, record_ids: list[int]) -> int:
    incident = service.open(
        "Establishment list sent to a bidder",
        occurred=OCCURRED,
        discovered=DISCOVERED,
        by="dpo@force.example",
        records=record_ids,
        contact="Data Protection Officer, dpo@force.example",
    )
    return incident.id


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    return re.sub(r"<[^>]+>", " ", xml)


def pdf_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    return "\n".join(page.get_textpage().get_text_range() for page in pdf)


def test_open_list_show_and_the_register(service: Incidents, store: Engine) -> None:
    staff = make_staff(8)
    rec = record_check(store, staff)
    iid = open_incident(service, [rec.id])
    incident = service.get(iid)
    assert incident.status == "open"
    assert incident.record_ids == (rec.id,)
    assert incident.owner == "dpo@force.example"
    now = DISCOVERED.astimezone(UTC) + timedelta(hours=24)
    d = incident.as_dict(now)
    assert d["clock"]["deadline"] == "2026-03-31T11:00+01:00"  # 72 real hours, over BST start
    assert d["clock"]["time_left"] == "48h 00m left"
    assert "report to the regulator" in d["next_step"]

    second = open_incident(service, [rec.id])
    service.mark_not_reported(second, why="recipient is our own contractor; no risk", by="dpo@x")
    register = {i.id: i for i in service.list()}
    assert set(register) == {iid, second}
    assert register[second].status == "not_reported"
    assert register[second].not_reported_reason == "recipient is our own contractor; no risk"

    opened = AuditLog(store).list(kind="incident.open")
    assert [r.payload["incident_id"] for r in opened] == [second, iid]
    assert opened[0].payload["records"] == [rec.id]
    assert "Establishment" not in json.dumps(opened[0].payload)  # titles stay out of the trail


def test_open_refuses_what_is_not_a_disclosure(service: Incidents, store: Engine) -> None:
    other = AuditLog(store).append("approval", "dpo@x", {"approval_id": "x"})
    with pytest.raises(IncidentError, match="not a disclosure"):
        open_incident(service, [other.id])
    with pytest.raises(IncidentError, match="no audit record 999"):
        open_incident(service, [999])
    with pytest.raises(InputError, match="before it occurred"):
        service.open("t", occurred=DISCOVERED, discovered=OCCURRED, by="x", records=[other.id])


def test_affected_list_is_exact_and_its_viewing_is_recorded(
    service: Incidents, store: Engine
) -> None:
    staff = make_staff(40)
    sent = staff[5:25]
    service.resolver = FakeResolver(staff)
    rec = record_check(store, sent, special={sent[3].number: ["health"]}, pattern_only=2)
    iid = open_incident(service, [rec.id])
    result = service.affected(iid, by="dpo@x")
    assert sorted(p.key or "" for p in result.people) == sorted(s.number for s in sent)
    assert [p.key for p in result.people if p.special] == [sent[3].number]
    assert result.pattern_only_total == 2
    (viewed,) = AuditLog(store).list(kind="incident.affected")
    assert viewed.payload["registered"] == 20
    assert viewed.actor == "dpo@x"
    assert not any(s.number in json.dumps(viewed.payload) for s in staff)


def test_severity_overrides_are_recorded_with_the_justification(
    service: Incidents, store: Engine
) -> None:
    iid = open_incident(service, [record_check(store, make_staff(5)).id])
    before = service.severity(iid)
    assert before.band == "medium"
    after = service.set_factor(
        iid, "dpc_adjust", "+3", why="officers' home details: personal safety", by="dpo@x"
    )
    assert after.dpc == 4.0
    assert after.band == "very high"
    assert after.notify_people
    assert service.severity(iid).score == after.score  # kept
    (logged,) = AuditLog(store).list(kind="incident.severity")
    assert logged.payload["factor"] == "dpc_adjust"
    assert logged.payload["why"] == "officers' home details: personal safety"
    assert logged.payload["band"] == "very high"
    with pytest.raises(InputError, match="justification"):
        service.set_factor(iid, "ei", "limited", why=" ", by="dpo@x")


@pytest.mark.parametrize("suffix", [".md", ".docx", ".pdf"])
def test_report_is_prefilled_from_the_facts(
    service: Incidents, store: Engine, tmp_path: Path, suffix: str
) -> None:
    staff = make_staff(12)
    rec = record_check(store, staff, pattern_only=3)
    iid = open_incident(service, [rec.id])
    path = service.report(
        iid,
        tmp_path / f"report{suffix}",
        by="dpo@x",
        now=DISCOVERED.astimezone(UTC) + timedelta(hours=5),
    )
    data = path.read_bytes()
    read = {".md": bytes.decode, ".docx": docx_text, ".pdf": pdf_text}[suffix]
    text = read(data)
    flat = " ".join(text.split())
    for expected in (
        "Initial report",
        "UK GDPR Article 33",
        "bids@bidder.example",
        "hr@force.example",
        "establishment.csv",
        rec.payload["files"][0]["sha256"],
        "2026-03-27T16:40+00:00",  # occurred
        "2026-03-28T10:00+00:00",  # discovered
        "2026-03-31T11:00+01:00",  # due
        "National Insurance numbers",
        "dates of birth",
        "identity fraud",
        "Data Protection Officer, dpo@force.example",
    ):
        # (a PDF table cell may wrap a long hash over two lines)
        assert expected in flat or expected in "".join(text.split()), expected
    assert re.search(r"Approximate number of people\W+15", flat)
    assert re.search(r"identified against registered records\W+12", flat)
    assert not any(s.number in text for s in staff)
    (logged,) = AuditLog(store).list(kind="incident.report")
    assert logged.payload["file"] == path.name
    assert logged.payload["people"] == 15


def test_law_enforcement_report_records_the_restriction(
    service: Incidents, store: Engine, tmp_path: Path
) -> None:
    iid = open_incident(service, [record_check(store, make_staff(3)).id])
    service.set_factor(iid, "dpc_adjust", "+3", why="officers", by="dpo@x")
    service.restrict_people(
        iid, why="telling staff now would alert a suspect", ground="b", by="dpo@x"
    )
    text = service.report(
        iid, tmp_path / "r.md", by="dpo@x", law_enforcement=True, follow_up=True
    ).read_text()
    assert "DPA 2018 Part 3, s.67" in text
    assert "Follow-up report" in text
    assert "s.68(7)(b)" in text
    assert "alert a suspect" in text
    assert "s.67(6)" in text
    with pytest.raises(InputError, match=r"s\.68"):
        service.restrict_people(iid, why="x", ground="z", by="dpo@x")


def test_deletion_requested_overdue_then_attested(
    service: Incidents, store: Engine, tmp_path: Path
) -> None:
    rec = record_check(store, make_staff(3))
    iid = open_incident(service, [rec.id])
    with pytest.raises(IncidentError, match="no deletion was requested"):
        service.attest(iid, attested_by="J Bloggs", date=DISCOVERED, by="dpo@x")
    past = datetime.now(UTC) - timedelta(days=20)
    incident = service.deletion_request(iid, tmp_path / "delete.md", by="dpo@x", now=past)
    assert incident.deletion.status(datetime.now(UTC)) == "overdue"
    assert incident.deletion.status(past + timedelta(days=1)) == "requested"
    request = (tmp_path / "delete.md").read_text()
    assert "establishment.csv" in request
    assert rec.payload["files"][0]["sha256"] in request
    assert "Attestation of deletion" in request
    evidence = tmp_path / "signed.pdf"
    evidence.write_bytes(b"%PDF-1.4 signed form")
    done = service.attest(
        iid,
        attested_by="J Bloggs, bidder DPO",
        date=parse_when("2026-04-02T12:00"),
        by="dpo@x",
        evidence=evidence,
    )
    assert done.deletion.status(datetime.now(UTC)) == "attested"
    assert done.deletion.evidence_sha256
    assert len(done.deletion.evidence_sha256) == 64
    report = service.report(iid, tmp_path / "r.md", by="dpo@x").read_text()
    assert "recipient confirmed deletion" in report
    kinds = [r.kind for r in AuditLog(store).list(limit=None)]
    assert {"incident.deletion", "incident.attest"} <= set(kinds)


def test_reporting_late_needs_the_reasons(service: Incidents, store: Engine) -> None:
    iid = open_incident(service, [record_check(store, make_staff(2)).id])
    late = parse_when("2026-04-01T09:00")
    with pytest.raises(InputError, match="late-reason"):
        service.mark_reported(iid, at=late, by="dpo@x")
    done = service.mark_reported(
        iid, at=late, by="dpo@x", reference="ICO/123", late_reason="waited for the bidder"
    )
    assert done.status == "reported"
    assert done.clock.state(datetime.now(UTC)) == "reported late"
    with pytest.raises(IncidentError, match="before closing"):
        service.close(open_incident(service, [done.record_ids[0]]), by="dpo@x")
    assert service.close(iid, by="dpo@x").status == "closed"


def test_timeline_shows_the_check_the_hold_and_the_rejection(
    service: Incidents, store: Engine
) -> None:
    rec = record_check(store, make_staff(4))
    approval = ApprovalStore(store).create(
        record_id=rec.id, sender="hr@force.example", recipients=["bids@bidder.example"]
    )
    AuditLog(store).append(
        "rejection",
        "dpo@force.example",
        {
            "approval_id": approval,
            "check_record": rec.id,
            "decision": "rejected",
            "reason": "staff list",
        },
    )
    allowed = record_check(store, make_staff(2, seed=3), decision="allow", name="other.csv")
    iid = open_incident(service, [rec.id, allowed.id])
    events = service.timeline(iid)
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["check", "note"] or kinds[0] == "check"
    text = " | ".join(e.what for e in events)
    assert "hr@force.example sent establishment.csv to bids@bidder.example" in text
    assert "decision hold" in text
    assert "agreement DSA-17 v1" in text
    assert "rejection of held item" in text
    assert "staff list" in text
    assert "no approval was asked for" in text  # the allowed one
    assert any(e.kind == "incident.open" for e in events)
    assert [e.ts for e in events] == sorted(e.ts for e in events)


def test_letters_name_only_their_addressee(
    service: Incidents, store: Engine, tmp_path: Path
) -> None:
    staff = make_staff(60)
    sent = staff[:40]
    service.resolver = FakeResolver(staff)
    special = {sent[2].number: ["health"]}
    iid = open_incident(service, [record_check(store, sent, special=special).id])
    # The people file holds everyone but two of the affected, plus people not affected.
    listed = [s for s in staff if s not in sent[-2:]]
    people = write_people_csv(tmp_path / "people.csv", listed)
    out = tmp_path / "letters"
    result = service.letters(iid, people, "Staff No", out, by="dpo@x", formats=["docx", "pdf"])
    assert result.letters == 38
    assert result.missing_addresses == 2
    assert result.not_affected_rows == 20
    with (out / MAILING_CSV).open() as fh:
        mailing = list(csv.DictReader(fh))
    assert len(mailing) == 38
    by_letter: dict[str, Staff] = {}
    for row in mailing:
        (match,) = [s for s in sent if f"{s.forename} {s.surname}" == row["name"]]
        by_letter[row["letter"].split(";")[0].removesuffix(".docx")] = match
        assert "Staff No" not in row
        assert match.number not in json.dumps(row)
    surnames = {s.surname for s in staff}
    for stem, person in by_letter.items():
        for text in (
            docx_text((out / f"{stem}.docx").read_bytes()),
            pdf_text((out / f"{stem}.pdf").read_bytes()),
        ):
            words = set(re.findall(r"[A-Za-z]+", text))
            assert person.surname in words
            assert not (surnames - {person.surname}) & words, stem
            assert not re.search(r"S1\d{5}", text)  # no staff number, no identifier value
            assert "National Insurance numbers" in text
            assert ("health information" in text) == (person is sent[2])
    with (out / MISSING_CSV).open() as fh:
        assert {r["key"] for r in csv.DictReader(fh)} == {s.number for s in sent[-2:]}
    (logged,) = AuditLog(store).list(kind="incident.letters")
    assert logged.payload["letters"] == 38
    assert AuditLog(store).verify().ok


def test_letters_errors_name_the_file_and_column(
    service: Incidents, store: Engine, tmp_path: Path
) -> None:
    staff = make_staff(3)
    service.resolver = FakeResolver(staff)
    iid = open_incident(service, [record_check(store, staff).id])
    people = write_people_csv(tmp_path / "people.csv", staff)
    with pytest.raises(InputError, match=r"people.csv:1: no column 'staff'.*Staff No"):
        service.letters(iid, people, "staff", tmp_path / "o", by="x")
    bad = tmp_path / "bad.j2"
    bad.write_text("Dear {{ name }\n")
    with pytest.raises(InputError, match=r"bad.j2:1: template error"):
        service.letters(iid, people, "Staff No", tmp_path / "o", by="x", template=bad)
    custom = tmp_path / "short.j2"
    custom.write_text("Dear {{ salutation }},\n\nYour {{ data | join(', ') }} were involved.\n")
    result = service.letters(
        iid, people, "Staff No", tmp_path / "c", by="x", template=custom, formats=["docx"]
    )
    assert result.letters == 3
    first = docx_text((tmp_path / "c" / "letter-000001.docx").read_bytes())
    assert "Your dates of birth, names, National Insurance numbers were involved." in " ".join(
        first.split()
    )


def test_letters_in_several_processes_match_one(
    service: Incidents, store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = make_staff(24)
    service.resolver = FakeResolver(staff)
    iid = open_incident(service, [record_check(store, staff).id])
    people = write_people_csv(tmp_path / "people.csv", staff)
    monkeypatch.setattr(letters_run, "_CHUNK", 5)
    one = service.letters(iid, people, "Staff No", tmp_path / "one", by="x", jobs=1)
    two = service.letters(iid, people, "Staff No", tmp_path / "two", by="x", jobs=2)
    assert one.letters == two.letters == 24
    for path in sorted((tmp_path / "one").glob("letter-*.docx")):
        assert (tmp_path / "two" / path.name).read_bytes() == path.read_bytes()
