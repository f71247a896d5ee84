"""Gateway load: messages/s and added latency through a real Postfix.

    .venv/bin/python bench/gateway.py [--small 400] [--large 60] [--senders 8] [--workers 2]

Starts a sink (standing in for the Internet), two private Postfix instances
on loopback -- one plain, one with ``shareguard gateway`` as its
content_filter -- and sends the same load through each in the same run:
20 KB text messages, then messages with a 1 MB XLSX attachment (clean:
stock figures, no personal data, so every message is scanned in full,
recorded and passed on).  For each: messages/s from the first submission
to the last arrival at the sink, latency from Postfix's 250 to arrival
(p50/p99), the filter's added latency, and lost / duplicated messages.
Writes bench/results/gateway.json.  Bounded: a few minutes at most.

Figures depend on the machine and whatever else runs on it: say so.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import smtplib
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "gateway"))

from postfix_harness import GatewayProcess, free_port, running_postfix, wait_for  # noqa: E402

from shareguard.gateway.protocol import BlockData, FilterLMTP  # noqa: E402
from shareguard.gateway.reinject import Reinjector  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WORDS = (
    "quarterly stock order delivery warehouse pallet invoice schedule contract "
    "budget forecast supplier route vehicle maintenance building repair tender "
    "procurement review meeting agenda minutes action item update report figures "
    "capacity storage transfer depot shift rota estimate summary total balance"
).split()


class _FastSink(BlockData, SMTP):
    pass


@dataclass
class Sink:
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        raw: bytes = envelope.content
        at = raw.find(b"X-Bench-Id: ")
        key = raw[at + 12 : raw.find(b"\r\n", at)].decode() if at >= 0 else "?"
        with self.lock:
            self.arrivals.setdefault(key, []).append(now)
        return "250 2.0.0 sunk"


class _PassThrough:
    """A filter that scans nothing and passes everything on, through the
    gateway's own LMTP reader and re-injection pool: what the SMTP layer
    alone costs (``--passthrough``)."""

    def __init__(self, reinject_port: int) -> None:
        self.reinjector = Reinjector("127.0.0.1", reinject_port, timeout=60, size=17)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpts = list(envelope.rcpt_tos)
        replies = await self.reinjector.send(envelope.mail_from, rcpts, envelope.content)
        return "\r\n".join(f"{replies[r].code} passed" for r in rcpts)


class _PassThroughController(Controller):
    def factory(self) -> SMTP:
        return FilterLMTP(self.handler, decode_data=False, data_size_limit=None)


class _SinkController(Controller):
    def factory(self) -> SMTP:
        return _FastSink(self.handler, decode_data=False, data_size_limit=None)


def text_body(size: int, rng: random.Random) -> str:
    out: list[str] = []
    n = 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(12)) + ".\n"
        out.append(line)
        n += len(line)
    return "".join(out)


def stock_workbook(target: int) -> bytes:
    from openpyxl import Workbook

    rng = random.Random(5)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["SKU", "Depot", "Quantity", "Unit cost", "Batch"])
    rows = 0
    while True:
        for _ in range(2000):
            ws.append(
                [
                    f"SKU-{rng.getrandbits(40):010x}",
                    f"D{rng.randint(1, 40):02d}",
                    rng.randint(1, 5000),
                    round(rng.uniform(0.5, 900), 2),
                    f"{rng.getrandbits(64):016x}",
                ]
            )
        rows += 2000
        out = io.BytesIO()
        wb.save(out)
        if len(out.getvalue()) >= target:
            return out.getvalue()


def make_message(key: str, body: str, attachment: bytes | None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "stores@council.example"
    msg["To"] = "orders@supplier.example"
    msg["Subject"] = "Stock figures"
    msg["X-Bench-Id"] = key
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(
            attachment,
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename="stock.xlsx",
        )
    return msg.as_bytes()


def run_load(
    port: int, sink: Sink, label: str, messages: list[bytes], senders: int, timeout: float
) -> dict[str, Any]:
    sent: dict[str, float] = {}
    lock = threading.Lock()
    chunks = [messages[i::senders] for i in range(senders)]

    def sender(batch: list[bytes]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
            for raw in batch:
                key = raw.split(b"X-Bench-Id: ")[1].split(b"\n")[0].strip().decode()
                s.sendmail("stores@council.example", ["orders@supplier.example"], raw)
                with lock:
                    sent[key] = time.monotonic()
                if senders == 1:  # one at a time: the next once this one arrived
                    with contextlib.suppress(AssertionError):
                        wait_for(lambda k=key: k in sink.arrivals, 60, "arrival", 0.002)

    start = time.monotonic()
    with ThreadPoolExecutor(senders) as ex:
        list(ex.map(sender, chunks))
    keys = set(sent)
    with contextlib.suppress(AssertionError):
        wait_for(lambda: keys <= set(sink.arrivals), timeout, f"{label}: all arrivals", 0.05)
    with sink.lock:
        got = {k: list(v) for k, v in sink.arrivals.items() if k in keys}
    lat = sorted((got[k][0] - sent[k]) * 1000 for k in keys if k in got)
    last = max((v[0] for v in got.values()), default=start)
    return {
        "label": label,
        "messages": len(keys),
        "msgs_per_s": round(len(got) / (last - start), 1) if got else 0.0,
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1) if lat else None,
        "lost": len(keys - set(got)),
        "duplicated": sum(1 for v in got.values() if len(v) > 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=400, help="20 KB messages per run")
    ap.add_argument("--large", type=int, default=60, help="1 MB XLSX messages per run")
    ap.add_argument("--senders", type=int, default=8, help="concurrent SMTP clients")
    ap.add_argument("--workers", type=int, default=2, help="gateway scanning processes")
    ap.add_argument("--sequential", type=int, default=20, help="messages sent one by one")
    ap.add_argument(
        "--passthrough",
        action="store_true",
        help="a filter that scans nothing instead of the gateway (the SMTP layer's cost)",
    )
    args = ap.parse_args()

    rng = random.Random(1)
    workbook = stock_workbook(1_000_000)
    loads = {
        "20KB": [make_message(f"s{i}", text_body(20_000, rng), None) for i in range(args.small)],
        "1MB-xlsx": [
            make_message(f"l{i}", text_body(500, rng), workbook) for i in range(args.large)
        ],
    }
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"sg-bench-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAREGUARD_")}
    env.update(
        SHAREGUARD_HOME=str(home),
        SHAREGUARD_POLICY_FILE=str(ROOT / "examples" / "policy.yaml"),
        SHAREGUARD_LOG_FORMAT="json",
        SHAREGUARD_GATEWAY__SCAN_WORKERS=str(args.workers),
        SHAREGUARD_GATEWAY__CONCURRENCY="16",
    )
    sink = Sink()
    sink_port = free_port()
    ctl = _SinkController(sink, hostname="127.0.0.1", port=sink_port)
    ctl.start()
    results: list[dict[str, Any]] = []
    scan_port = free_port()
    try:
        with (
            running_postfix(sink_port, free_port(), {"content_filter": ""}) as plain,
            running_postfix(sink_port, scan_port) as filtered,
        ):
            gw = GatewayProcess(env, scan_port, filtered.reentry, home / "gateway.log")
            home.mkdir(parents=True, exist_ok=True)
            if args.passthrough:
                passthrough = _PassThroughController(
                    _PassThrough(filtered.reentry), hostname="127.0.0.1", port=scan_port
                )
                passthrough.start()
            else:
                gw.start()
            try:
                for name, messages in loads.items():
                    # a burst (throughput, latency under a backlog), then one
                    # message at a time, each sent once the last arrived
                    # (the latency a sender sees without a backlog)
                    for mode, senders, count in (
                        ("burst", args.senders, len(messages)),
                        ("one at a time", 1, args.sequential),
                    ):
                        for label, pf in (("postfix alone", plain), ("with gateway", filtered)):
                            tag = f"X-Bench-Id: {label[:1]}{mode[:1]}".encode()
                            tagged = [m.replace(b"X-Bench-Id: ", tag, 1) for m in messages[:count]]
                            r = run_load(pf.inbound, sink, label, tagged, senders, 120)
                            r.update(load=name, mode=mode)
                            results.append(r)
                            print(json.dumps(r), flush=True)
            finally:
                if args.passthrough:
                    passthrough.stop()
                gw.stop()
    finally:
        ctl.stop()
        shutil.rmtree(home, ignore_errors=True)  # its own key, database, quarantine
    print()
    head = f"{'load':9} {'mode':13} {'run':14} {'msg/s':>7} {'p50 ms':>8} {'p99 ms':>8}"
    print(head + f" {'lost':>5} {'dup':>4}")
    for r in results:
        print(
            f"{r['load']:9} {r['mode']:13} {r['label']:14} {r['msgs_per_s']:7} "
            f"{r['p50_ms']!s:>8} {r['p99_ms']!s:>8} {r['lost']:5} {r['duplicated']:4}"
        )
    for name in loads:
        for mode in ("burst", "one at a time"):
            alone, gated = (r for r in results if r["load"] == name and r["mode"] == mode)
            if alone["msgs_per_s"] and gated["p50_ms"] is not None and alone["p50_ms"]:
                print(
                    f"{name} {mode}: {gated['msgs_per_s'] / alone['msgs_per_s']:.0%} of "
                    f"Postfix alone; added p50 {gated['p50_ms'] - alone['p50_ms']:.0f} ms, "
                    f"p99 {gated['p99_ms'] - alone['p99_ms']:.0f} ms"
                )
    RESULTS.mkdir(exist_ok=True)
    name = "gateway-passthrough.json" if args.passthrough else "gateway.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
