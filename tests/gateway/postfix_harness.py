"""A private Postfix instance, a sink standing in for the Internet, and the
gateway as a child process: the pieces of the real mail flow, on loopback.

The instance lives in one folder (its own main.cf, master.cf, queue and
log), listens on free private ports, relays everything to the sink and
hands every queued message to the gateway (content_filter).  Several
instances can run side by side and none touches a system Postfix.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

POSTFIX = "/usr/sbin/postfix"
POSTQUEUE = "/usr/sbin/postqueue"
MASTER_DIST = Path("/usr/share/postfix/master.cf.dist")
SHAREGUARD = Path(sys.executable).parent / "shareguard"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# ----------------------------------------------------------------------------- the sink


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Sink:
    """Everything Postfix relays out, in arrival order."""

    port: int
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 2.0.0 sunk"

    def matching(self, needle: bytes) -> list[Received]:
        with self.lock:
            return [r for r in self.received if needle in r.raw]

    def bounces(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.sender in ("", "<>")]


@contextmanager
def running_sink() -> Iterator[Sink]:
    sink = Sink(free_port())
    controller = Controller(
        sink, hostname="127.0.0.1", port=sink.port, decode_data=False, data_size_limit=None
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# ----------------------------------------------------------------------------- Postfix


def _master_cf(inbound: int, reentry: int) -> str:
    """Debian's master.cf with chroot off everywhere and the port-25
    listener replaced by the private inbound and re-entry listeners."""
    out: list[str] = []
    for line in MASTER_DIST.read_text().splitlines():
        fields = line.split()
        if line.startswith("smtp ") and len(fields) > 1 and fields[1] == "inet":
            continue
        if fields and not line.startswith(("#", " ", "\t")) and len(fields) >= 8:
            fields[4] = "n"  # chroot off: the queue is not where a chroot expects it
            line = "  ".join(fields)
        out.append(line)
    out += [
        f"127.0.0.1:{inbound}  inet  n  -  n  -  -  smtpd",
        f"127.0.0.1:{reentry}  inet  n  -  n  -  -  smtpd",
        "  -o content_filter=",
        "  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,"
        "no_milters",
        "  -o smtpd_recipient_restrictions=permit_mynetworks,reject",
        "  -o smtpd_relay_restrictions=permit_mynetworks,reject",
        "  -o mynetworks=127.0.0.0/8",
        "scan  unix  -  -  n  -  16  lmtp",
        "  -o lmtp_data_done_timeout=600s",
        "  -o lmtp_connect_timeout=5s",
        "  -o disable_dns_lookups=yes",
    ]
    return "\n".join(out) + "\n"


def _main_cf(folder: Path, sink: int, scan: int, extra: dict[str, str]) -> str:
    settings = {
        "compatibility_level": "3.6",
        "queue_directory": str(folder / "queue"),
        "data_directory": str(folder / "data"),
        "meta_directory": "/etc/postfix",
        "maillog_file": str(folder / "maillog"),
        "maillog_file_prefixes": str(folder),
        "syslog_name": f"postfix-sgtest-{scan}",
        "myhostname": "gw-test.localdomain",
        "mydomain": "localdomain",
        "myorigin": "$myhostname",
        "mydestination": "",
        "local_recipient_maps": "",
        "alias_maps": "",
        "alias_database": "",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "relayhost": f"[127.0.0.1]:{sink}",
        "content_filter": f"scan:[127.0.0.1]:{scan}",
        "smtpd_relay_restrictions": "permit_mynetworks, reject",
        "smtp_tls_security_level": "none",
        "smtpd_tls_security_level": "none",
        "disable_dns_lookups": "yes",
        "message_size_limit": str(100 * 1024 * 1024),
        # A refusal bounces headers only (text/rfc822-headers), never the content.
        "bounce_size_limit": "1",
        "notify_classes": "resource, software",
        # Quick retries, so the tests need not wait minutes.
        "queue_run_delay": "1s",
        "minimal_backoff_time": "1s",
        "maximal_backoff_time": "2s",
        "delay_warning_time": "0",
        "smtp_destination_concurrency_limit": "4",
        **extra,
    }
    return "".join(f"{k} = {v}\n" for k, v in settings.items())


@dataclass
class Postfix:
    folder: Path
    inbound: int
    reentry: int
    scan: int

    def postqueue(self, *args: str) -> str:
        out = subprocess.run(
            [POSTQUEUE, "-c", str(self.folder), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return out.stdout

    def queued(self) -> list[dict[str, Any]]:
        """The queue (postqueue -j), one dict per message."""
        return [json.loads(line) for line in self.postqueue("-j").splitlines() if line.strip()]

    def flush(self) -> None:
        self.postqueue("-f")

    def log(self) -> str:
        path = self.folder / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def running_postfix(
    sink_port: int, scan_port: int, extra: dict[str, str] | None = None
) -> Iterator[Postfix]:
    """A started instance in a folder of its own (not under pytest's tmp
    folders: they are private to root, and Postfix's daemons run as the
    postfix user and must reach their data directory)."""
    folder = Path(tempfile.mkdtemp(prefix="sg-postfix-"))
    folder.chmod(0o755)
    try:
        with _started(folder, sink_port, scan_port, extra or {}) as pf:
            yield pf
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _started(
    folder: Path, sink_port: int, scan_port: int, extra: dict[str, str]
) -> Iterator[Postfix]:
    pf = Postfix(folder, free_port(), free_port(), scan_port)
    (folder / "main.cf").write_text(_main_cf(folder, sink_port, scan_port, extra))
    (folder / "master.cf").write_text(_master_cf(pf.inbound, pf.reentry))
    (folder / "queue").mkdir(exist_ok=True)  # Postfix fills it in on start
    data = folder / "data"
    data.mkdir(exist_ok=True)
    shutil.chown(data, "postfix")
    subprocess.run([POSTFIX, "-c", str(folder), "start"], check=True, capture_output=True)
    try:
        wait_for(lambda: _listening(pf.inbound), 20, "Postfix to listen")
        yield pf
    finally:
        _stop_postfix(folder)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop_postfix(folder: Path) -> None:
    pid_file = folder / "queue" / "pid" / "master.pid"
    pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
    subprocess.run([POSTFIX, "-c", str(folder), "stop"], capture_output=True, check=False)
    if pid is None:
        return
    # `postfix stop` returns before the master has gone: wait for it, so the
    # folder is not deleted under a running Postfix.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


# ----------------------------------------------------------------------------- the gateway


@dataclass
class GatewayProcess:
    """``shareguard gateway`` as a child process (so that tests can stop and
    kill it like an operator or the OOM killer would)."""

    env: dict[str, str]
    listen: int
    reentry: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                str(SHAREGUARD),
                "gateway",
                "--listen",
                f"127.0.0.1:{self.listen}",
                "--reinject",
                f"127.0.0.1:{self.reentry}",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(self._up, 60, "the gateway to listen")

    def _up(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"gateway exited {self.proc.returncode}:\n{self.log()[-3000:]}")
        return _listening(self.listen)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SHAREGUARD), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
