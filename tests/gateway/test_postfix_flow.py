"""The gateway in the real mail flow: a private Postfix hands every queued
message to ``shareguard gateway`` (a child process) and relays what comes
back to a sink standing in for the Internet.  Each scenario asserts what the
sink received, what bounced and what is still queued."""

from __future__ import annotations

import io
import json
import os
import smtplib
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from faker import Faker
from openpyxl import Workbook
from postfix_harness import (
    GatewayProcess,
    Postfix,
    Sink,
    free_port,
    running_postfix,
    running_sink,
    wait_for,
)
from sqlalchemy import Engine

from shareguard.approvals import Approvals
from shareguard.config import Settings
from shareguard.store.approvals import Approval, ApprovalStore
from shareguard.store.audit import AuditLog, AuditRecord
from shareguard.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SENDER = "hr@council.example"
COLLEAGUE = "payroll@council.example"
BIDDER = "bids@bidder.example"
STRANGER = "someone@elsewhere.example"
POSTMASTER = "postmaster@council.example"


@dataclass
class Flow:
    postfix: Postfix
    sink: Sink
    gateway: GatewayProcess
    settings: Settings

    @property
    def engine(self) -> Engine:
        return make_engine(self.settings)

    def approvals(self) -> Approvals:
        return Approvals(self.engine, self.settings.secret_key_bytes())

    def send(self, msg: EmailMessage, to: list[str], sender: str = SENDER) -> str:
        with smtplib.SMTP("127.0.0.1", self.postfix.inbound, timeout=60) as s:
            s.send_message(msg, from_addr=sender, to_addrs=to)
        return str(msg["Message-ID"])

    def delivered(self, message_id: str, to: str | None = None) -> list:  # type: ignore[type-arg]
        got = self.sink.matching(message_id.encode())
        got = [r for r in got if r.sender not in ("", "<>") and not r.message["Auto-Submitted"]]
        return [r for r in got if to is None or to in r.recipients]

    def notices(self, message_id: str) -> list:  # type: ignore[type-arg]
        return [r for r in self.sink.matching(message_id.encode()) if r.message["Auto-Submitted"]]


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    base = tmp_path_factory.mktemp("gw")
    scan_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAREGUARD_")}
    env.update(
        SHAREGUARD_HOME=str(base / "home"),
        SHAREGUARD_POLICY_FILE=str(EXAMPLES / "policy.yaml"),
        SHAREGUARD_LOG_FORMAT="json",
        SHAREGUARD_GATEWAY__POSTMASTER=POSTMASTER,
        SHAREGUARD_GATEWAY__SCAN_WORKERS="1",
        SHAREGUARD_GATEWAY__RELEASE_INTERVAL_SECONDS="0.5",
        SHAREGUARD_GATEWAY__MAX_SCAN_BYTES=str(16 * 1024 * 1024),
    )
    with running_sink() as sink, running_postfix(sink.port, scan_port) as pf:
        gw = GatewayProcess(env, scan_port, pf.reentry, base / "gateway.log")
        loaded = gw.cli("agreements", "load", *map(str, (EXAMPLES / "agreements").glob("*.yaml")))
        assert loaded.returncode == 0, loaded.stderr
        gw.start()
        try:
            yield Flow(pf, sink, gw, Settings(home=base / "home"))
        finally:
            gw.stop()


def message(subject: str, body: str = "Minutes of Tuesday's meeting attached.\n") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="council.example")
    msg.set_content(body)
    return msg


def staff_workbook(rows: int = 300) -> bytes:
    """A generated HR establishment list: names, NI numbers, dates of birth."""
    fake = Faker("en_GB")
    Faker.seed(7)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Staff No", "Forename", "Surname", "Date of birth", "NI number", "Grade", "Salary"])
    for i in range(rows):
        ws.append(
            [
                f"E{10000 + i}",
                fake.first_name(),
                fake.last_name(),
                fake.date_of_birth(minimum_age=20, maximum_age=65).strftime("%d/%m/%Y"),
                fake.ssn(),
                f"Band {fake.random_int(2, 8)}",
                fake.random_int(19000, 60000),
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def with_staff_list(subject: str) -> EmailMessage:
    msg = message(subject, "Here is the establishment list for the TUPE pricing.\n")
    maintype, subtype = XLSX.split("/")
    msg.add_attachment(
        staff_workbook(), maintype=maintype, subtype=subtype, filename="establishment.xlsx"
    )
    return msg


def audit_record(flow: Flow, seq: int) -> AuditRecord:
    record = AuditLog(flow.engine).get(seq)
    assert record is not None
    return record


# ----------------------------------------------------------------------------- scenarios


def test_clean_message_is_delivered_once_with_the_header(flow: Flow) -> None:
    mid = flow.send(message("Tuesday minutes"), [STRANGER])
    (got,) = wait_for(lambda: flow.delivered(mid), 30, "the clean message at the sink")
    header = got.message["X-ShareGuard"]
    assert header.startswith("record=")
    assert "decision=allow" in header
    time.sleep(1.0)
    assert len(flow.delivered(mid)) == 1
    assert not flow.sink.bounces()


def _approval_for(flow: Flow, recipient: str) -> Approval:
    items = [a for a in ApprovalStore(flow.engine).list() if recipient in a.recipients]
    assert items, f"no held item for {recipient}"
    return items[-1]


def test_staff_list_to_bidder_is_held_then_released_exactly_once(flow: Flow) -> None:
    mid = flow.send(with_staff_list("Establishment list"), [BIDDER])
    (notice,) = wait_for(lambda: flow.notices(mid), 60, "the hold notice to the sender")
    assert notice.recipients == (SENDER,)
    text = notice.message.get_content()
    item = _approval_for(flow, BIDDER)
    assert item.id in text
    assert "aggregated" in text
    assert item.agreement_id == "DSA-17"
    assert flow.delivered(mid) == []
    record = audit_record(flow, item.record_id)
    assert record.kind == "check"
    assert record.actor == "gateway"
    assert record.payload["data_subjects"] >= 250
    assert record.payload["per_recipient"][0]["decision"] == "hold"

    flow.approvals().decide(item.id, approve=True, by="dpo@council.example", reason="TUPE")
    (got,) = wait_for(lambda: flow.delivered(mid, BIDDER), 30, "the released message")
    assert f"approval={item.id}" in got.message["X-ShareGuard"]
    assert got.message.get_payload()[1].get_filename() == "establishment.xlsx"
    # A second release pass (another gateway, or the command) finds nothing to do.
    again = flow.gateway.cli(
        "gateway", "release", "--reinject", f"127.0.0.1:{flow.postfix.reentry}", "-f", "json"
    )
    assert json.loads(again.stdout)["released"] == 0
    time.sleep(1.0)
    assert len(flow.delivered(mid, BIDDER)) == 1


def test_mixed_recipients_split_one_delivered_one_held_then_rejected(flow: Flow) -> None:
    mid = flow.send(with_staff_list("Establishment list (two)"), [COLLEAGUE, BIDDER])
    (got,) = wait_for(lambda: flow.delivered(mid), 60, "the copy to the colleague")
    assert got.recipients == (COLLEAGUE,)
    assert "decision=allow" in got.message["X-ShareGuard"]
    wait_for(lambda: flow.notices(mid), 30, "the hold notice")
    item = _approval_for(flow, BIDDER)
    assert item.status == "held"
    flow.approvals().decide(item.id, approve=False, by="dpo@council.example", reason="send totals")
    told = wait_for(
        lambda: [n for n in flow.notices(mid) if "not approved" in n.message["Subject"]],
        30,
        "the rejection notice",
    )
    assert "send totals" in told[0].message.get_content()
    assert flow.delivered(mid, BIDDER) == []
    assert flow.postfix.queued() == []


def special_category_list() -> EmailMessage:
    fake = Faker("en_GB")
    Faker.seed(11)
    rows = ["Name,NHS number,Diagnosis"] + [
        f"{fake.name()},{fake.random_number(10, True)},Type 2 diabetes" for _ in range(60)
    ]
    msg = message("Clinic list", "Clinic list attached.\n")
    msg.add_attachment(
        ("\n".join(rows) + "\n").encode(), maintype="text", subtype="csv", filename="clinic.csv"
    )
    return msg


def test_refusal_bounces_headers_only_never_the_content(flow: Flow) -> None:
    msg = special_category_list()
    mid = flow.send(msg, [STRANGER])
    bounce = wait_for(
        lambda: [b for b in flow.sink.bounces() if mid.encode() in b.raw], 60, "the bounce"
    )[0]
    assert bounce.recipients == (SENDER,)
    assert b"5.7.1" in bounce.raw
    assert b"Refused by the data-sharing policy" in bounce.raw
    assert b"text/rfc822-headers" in bounce.raw
    assert b"diabetes" not in bounce.raw
    assert b"clinic.csv" not in bounce.raw
    assert flow.delivered(mid) == []


def test_filter_down_keeps_mail_queued_then_delivers_each_exactly_once(flow: Flow) -> None:
    flow.gateway.stop()
    ids = [flow.send(message(f"Rota {i}"), [STRANGER]) for i in range(20)]
    try:
        wait_for(lambda: len(flow.postfix.queued()) == 20, 30, "20 messages in the queue")
        time.sleep(2.0)  # Postfix tries the filter again meanwhile; still nothing passes
        assert len(flow.postfix.queued()) == 20
        assert all(flow.delivered(m) == [] for m in ids)
        assert "connect to 127.0.0.1" in flow.postfix.log()
    finally:
        flow.gateway.start()
    flow.postfix.flush()
    wait_for(lambda: all(flow.delivered(m) for m in ids), 90, "all 20 delivered")
    time.sleep(1.0)
    assert [len(flow.delivered(m)) for m in ids] == [1] * 20
    wait_for(lambda: flow.postfix.queued() == [], 30, "an empty queue")


def test_filter_killed_while_scanning_delivers_exactly_once_after_restart(flow: Flow) -> None:
    msg = message("Payroll extract", "Monthly payroll extract attached.\n")
    big = staff_workbook(6_000)
    maintype, subtype = XLSX.split("/")
    msg.add_attachment(big, maintype=maintype, subtype=subtype, filename="payroll.xlsx")
    mark = len(flow.gateway.log())
    mid = flow.send(msg, [COLLEAGUE])
    wait_for(lambda: "gateway.received" in flow.gateway.log()[mark:], 30, "the scan", every=0.01)
    flow.gateway.kill()
    try:
        time.sleep(0.5)
        assert flow.delivered(mid) == []
        assert len(flow.postfix.queued()) == 1
    finally:
        flow.gateway.start()
    flow.postfix.flush()
    wait_for(lambda: flow.delivered(mid), 120, "the message after the restart")
    time.sleep(1.0)
    assert len(flow.delivered(mid)) == 1
    wait_for(lambda: flow.postfix.queued() == [], 30, "an empty queue")


def _encrypted_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("salaries.csv", "Name,NI number\n")
    data = bytearray(out.getvalue())
    data[6] |= 1  # "encrypted" flag in the local header ...
    data[data.find(b"PK\x01\x02") + 8] |= 1  # ... and in the central directory
    return bytes(data)


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.txt", b"\0" * (50 * 1024 * 1024))
    return out.getvalue()


def _malformed_mime() -> bytes:
    return (
        b"From: hr@council.example\r\nSubject: broken\r\nMessage-ID: <malformed-%d@council.example>"
        b'\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="BB"\r\n\r\n'
        b"--BB\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--BB\r\n"
        b"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="staff.xlsx"\r\n\r\n'
        b"UEsDBBQAAAAIAAAAIQ!!!!@@@@====\r\n" % time.time_ns()
    )


def test_hostile_and_uninspectable_messages_are_held_never_passed(flow: Flow) -> None:
    sent: list[str] = []
    for name, payload, kind in (
        ("pay.zip", _encrypted_zip(), ("application", "zip")),
        ("bomb.zip", _zip_bomb(), ("application", "zip")),
        ("scan.bin", os.urandom(40 * 1024 * 1024), ("application", "octet-stream")),
    ):
        msg = message(f"Attached: {name}")
        msg.add_attachment(payload, maintype=kind[0], subtype=kind[1], filename=name)
        sent.append(flow.send(msg, [STRANGER]))
    malformed = _malformed_mime()
    with smtplib.SMTP("127.0.0.1", flow.postfix.inbound, timeout=60) as s:
        s.sendmail(SENDER, [STRANGER], malformed)
    sent.append(malformed.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode())
    for mid in sent:
        wait_for(lambda m=mid: flow.notices(m), 120, f"the hold notice for {mid}")  # type: ignore[misc]
    assert all(flow.delivered(m) == [] for m in sent)
    held = ApprovalStore(flow.engine).list()
    reasons = " ".join(r for a in held for r in a.summary["held_for"]["reasons"])
    assert "could not be inspected" in reasons or "uninspectable" in reasons
    assert flow.gateway.proc is not None
    assert flow.gateway.proc.poll() is None
    # and it still passes clean mail
    mid = flow.send(message("After the storm"), [STRANGER])
    wait_for(lambda: flow.delivered(mid), 30, "a clean message afterwards")
