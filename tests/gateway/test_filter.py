"""The filter without Postfix: the block-wise DATA reader against a real
LMTP client, and the handler's fail-closed and exactly-once answers."""

from __future__ import annotations

import asyncio
import smtplib
import socket
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import given
from hypothesis import strategies as st
from postfix_harness import free_port

from shareguard.config import get_settings
from shareguard.gateway import assess
from shareguard.gateway.assess import Assessor, scanned_copy
from shareguard.gateway.handler import FilterHandler, null_sender
from shareguard.gateway.ledger import PASSED, Ledger, message_key
from shareguard.gateway.protocol import FilterLMTP, unstuff
from shareguard.gateway.reinject import ReinjectError, Reply
from shareguard.store.db import make_engine, upgrade

# ----------------------------------------------------------------------------- DATA reading


def _stuff(data: bytes) -> bytes:
    return b"\r\n".join(
        b"." + line if line.startswith(b".") else line for line in data.split(b"\r\n")
    )


@given(st.lists(st.sampled_from([b"", b".", b"..", b".x", b"a.b", b"x"]), max_size=12))
def test_unstuff_undoes_stuffing(lines: list[bytes]) -> None:
    data = b"\r\n".join(lines) + b"\r\n"
    assert unstuff(_stuff(data)) == data


class _Recorder:
    def __init__(self) -> None:
        self.got: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.got.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "\r\n".join(f"250 2.0.0 ok {r}" for r in envelope.rcpt_tos)


class _LMTPController(Controller):
    def factory(self) -> FilterLMTP:
        return FilterLMTP(self.handler, data_size_limit=2_000_000, decode_data=False)


@pytest.fixture
def lmtp() -> Iterator[tuple[_Recorder, int]]:
    rec = _Recorder()
    port = free_port()
    ctl = _LMTPController(rec, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield rec, port
    finally:
        ctl.stop()


def test_data_read_in_blocks_is_byte_exact(lmtp: tuple[_Recorder, int]) -> None:
    rec, port = lmtp
    body = b"".join(b".line %d with a leading dot\r\nplain %d\r\n" % (i, i) for i in range(20000))
    msg = b"Subject: big\r\n\r\n" + body
    with smtplib.LMTP("127.0.0.1", port) as c:
        refused = c.sendmail("a@council.example", ["x@y.example", "z@y.example"], msg)
        assert refused == {}
        # LMTP: one reply per recipient; smtplib reads only the first
        assert c.getreply() == (250, b"2.0.0 ok z@y.example")
        c.sendmail("a@council.example", ["w@y.example"], b"Subject: small\r\n\r\nhi\r\n")
    assert rec.got[0] == ("a@council.example", ["x@y.example", "z@y.example"], msg)
    assert rec.got[1][2] == b"Subject: small\r\n\r\nhi\r\n"


def test_a_command_pipelined_after_the_data_is_still_answered(
    lmtp: tuple[_Recorder, int],
) -> None:
    rec, port = lmtp
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rb")
        f.readline()  # greeting
        s.sendall(b"LHLO test\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        s.sendall(b"MAIL FROM:<a@council.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n")
        assert [f.readline()[:3] for _ in range(3)] == [b"250", b"250", b"354"]
        s.sendall(b"Subject: p\r\n\r\n..dot\r\n.\r\nNOOP\r\n")  # one segment
        assert f.readline().startswith(b"250 2.0.0 ok x@y.example")
        assert f.readline().startswith(b"250")  # the NOOP
    assert rec.got[0][2] == b"Subject: p\r\n\r\n.dot\r\n"


def test_oversized_data_is_refused_for_each_recipient(lmtp: tuple[_Recorder, int]) -> None:
    rec, port = lmtp
    with smtplib.LMTP("127.0.0.1", port) as c:
        c.ehlo_or_helo_if_needed()
        c.mail("a@council.example")  # no SIZE= given: the limit is found in DATA
        c.rcpt("x@y.example")
        code, _ = c.data(b"Subject: x\r\n\r\n" + b"a\r\n" * 1_000_000)
        assert code == 552
        assert c.noop()[0] == 250  # the session goes on
    assert rec.got == []


# ----------------------------------------------------------------------------- the handler


class _Envelope:
    def __init__(self, raw: bytes, rcpts: list[str], mail_from: str = "hr@council.example"):
        self.content, self.rcpt_tos, self.mail_from, self.mail_options = raw, rcpts, mail_from, []


class _FakeReinjector:
    def __init__(self, answers: dict[str, int] | None = None, down: bool = False) -> None:
        self.sent: list[tuple[str, list[str], bytes]] = []
        self.answers, self.down = answers or {}, down

    async def send(
        self, sender: str, recipients: Sequence[str], data: bytes, options: Any = ()
    ) -> dict[str, Reply]:
        if self.down:
            raise ReinjectError("connection refused")
        self.sent.append((sender, list(recipients), data))
        return {r: Reply(self.answers.pop(r, 250), "ok") for r in recipients}


MSG = (
    b"Received: from a by b id Q1\r\nFrom: hr@council.example\r\nSubject: rota\r\n"
    b"Message-ID: <rota@council.example>\r\n\r\nThe rota for next week is unchanged.\r\n"
)


@pytest.fixture
def assessor(shareguard_home: Path) -> Iterator[Assessor]:
    settings = get_settings()
    upgrade(settings)
    assess._assessor = Assessor(settings)
    yield assess._assessor
    assess._assessor = None


def _handler(reinjector: Any, executor: Executor, **kw: Any) -> FilterHandler:
    defaults: dict[str, Any] = {"concurrency": 4, "slot_wait": 1.0, "timeout": 30.0}
    defaults.update(kw)
    return FilterHandler(
        executor=lambda: executor,
        on_broken=lambda: None,
        ledger=Ledger(make_engine(get_settings())),
        reinjector=reinjector,
        **defaults,
    )


def _run(handler: FilterHandler, env: _Envelope) -> list[str]:
    return asyncio.run(handler.handle_DATA(None, None, env)).split("\r\n")


def test_retry_of_a_passed_message_is_answered_without_passing_it_again(
    assessor: Assessor,
) -> None:
    fake = _FakeReinjector(answers={"b@x.example": 451})
    with ThreadPoolExecutor(1) as ex:
        h = _handler(fake, ex)
        first = _run(h, _Envelope(MSG, ["a@x.example", "b@x.example"]))
        assert [a[:3] for a in first] == ["250", "451"]  # partly accepted
        assert fake.sent[0][2].startswith(b"X-ShareGuard: record=")
        second = _run(h, _Envelope(MSG, ["a@x.example", "b@x.example"]))
    assert [a[:3] for a in second] == ["250", "250"]
    assert [s[1] for s in fake.sent] == [["a@x.example", "b@x.example"], ["b@x.example"]]
    entries = Ledger(assessor.engine).entries(message_key(MSG))
    assert {r: e.state for r, e in entries.items()} == {
        "a@x.example": PASSED,
        "b@x.example": PASSED,
    }


def test_reinjection_down_is_451_and_nothing_recorded(assessor: Assessor) -> None:
    with ThreadPoolExecutor(1) as ex:
        answers = _run(_handler(_FakeReinjector(down=True), ex), _Envelope(MSG, ["a@x.example"]))
    assert answers[0].startswith("451 4.3.0")
    assert Ledger(assessor.engine).entries(message_key(MSG)) == {}


def test_a_scan_error_is_451_never_a_pass(
    assessor: Assessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("extractor crashed")

    monkeypatch.setattr(assess, "scan_bytes", broken)
    fake = _FakeReinjector()
    with ThreadPoolExecutor(1) as ex:
        answers = _run(_handler(fake, ex), _Envelope(MSG, ["a@x.example", "b@x.example"]))
    assert [a[:9] for a in answers] == ["451 4.3.0"] * 2
    assert fake.sent == []


def test_overload_is_451_busy(assessor: Assessor, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    gate = threading.Event()
    real = assess.assess_in_worker

    def slow(*args: Any) -> Any:
        gate.wait(10)
        return real(*args)

    monkeypatch.setattr("shareguard.gateway.handler.assess_in_worker", slow)
    fake = _FakeReinjector()

    async def both() -> list[str]:
        with ThreadPoolExecutor(2) as ex:
            h = _handler(fake, ex, concurrency=1, slot_wait=0.2)
            first = asyncio.create_task(h.handle_DATA(None, None, _Envelope(MSG, ["a@x.example"])))
            await asyncio.sleep(0.05)
            second = await h.handle_DATA(None, None, _Envelope(MSG, ["c@x.example"]))
            gate.set()
            return [await first, second]

    first, second = asyncio.run(both())
    assert first.startswith("250")
    assert second.startswith("451 4.3.2")


def test_scan_timeout_is_451(assessor: Assessor, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr("shareguard.gateway.handler.assess_in_worker", lambda *a: time.sleep(1.0))
    with ThreadPoolExecutor(1) as ex:
        answers = _run(
            _handler(_FakeReinjector(), ex, timeout=0.2), _Envelope(MSG, ["a@x.example"])
        )
    assert answers[0].startswith("451 4.4.7")


def test_scanned_copy_leaves_out_the_correspondents_not_the_content() -> None:
    copy = scanned_copy(MSG.replace(b"Subject: rota", b"Subject: rota\r\n for Grace"))
    assert b"hr@council.example" not in copy
    assert b"Message-ID" not in copy
    assert copy.startswith(b"Subject: rota\r\n for Grace\r\n\r\n")
    assert copy.endswith(b"The rota for next week is unchanged.\r\n")


def test_null_sender() -> None:
    assert null_sender("<>") == ""
    assert null_sender(None) == ""
    assert null_sender("a@b.example") == "a@b.example"
