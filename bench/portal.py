"""Portal speed at scale: audit search calls and real HTTP page loads.

Seeds a synthetic audit chain (``AuditLog.append_many``: a valid chain, COPY
on PostgreSQL) into a fresh database per run -- SQLite in a temporary folder,
PostgreSQL as a new database that is dropped afterwards -- then measures:

* search: p50/p95 of ``AuditLog.search`` (page of 50) plus ``AuditLog.count``
  (capped at 10,000) over a mix of filters (none, a deep page, sender,
  recipient, domain, agreement, decision + last 30 days, an old month, a
  combination), ``--repeat`` calls each;
* dashboard aggregates: the three GROUP BY calls behind the dashboard;
* pages: p50/p95 of signed-in HTTP loads of the portal's audit (GET, and a
  filtered search POST), approvals and dashboard pages and their JSON twins,
  through a real uvicorn server in a thread, signed in through the login
  form as a DPO, with 100 held and 100 decided items in the queue; on the
  large run only with ``--large-pages``.  Pages the app does not have are
  reported as missing.

Targets (issue 10): p95 < 200 ms for a page with 100,000 records on SQLite
and PostgreSQL; search over 1,000,000 records < 500 ms on PostgreSQL.

    .venv/bin/python bench/portal.py [--records 100000] [--large 1000000]
        [--repeat 20] [--page-repeat 10] [--no-pages] [--pg-url URL]

``--large 0`` skips the 1,000,000-record PostgreSQL run (most of the
runtime: seeding a million records takes about two minutes on an idle
2-core machine); ``--records`` shrinks the others.  Writes
``bench/results/portal.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text

from shareguard.store.approvals import ApprovalStore
from shareguard.store.audit import AuditEntry, AuditFilter, AuditLog
from shareguard.store.db import make_engine, upgrade

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

DECISIONS = ["allow"] * 14 + ["minimise"] * 2 + ["hold"] * 3 + ["block"]
KINDS = ["check"] * 17 + ["approval", "rejection", "release"]
SPAN = timedelta(days=730)  # the seeded history covers two years up to now


@dataclass(frozen=True, slots=True)
class World:
    """The people and organisations the synthetic records are about."""

    senders: list[str]
    domains: list[str]
    agreements: dict[str, str]  # domain -> agreement id (most domains have none)
    addresses: list[str]


def make_world(rng: random.Random) -> World:
    senders = [f"staff{i:03d}@council.example" for i in range(300)]
    domains = [f"org{i:02d}.example" for i in range(80)]
    agreements = {d: f"DSA-{i + 1}" for i, d in enumerate(domains[:20])}
    addresses = [f"user{i:03d}@{d}" for d in domains for i in range(rng.randint(3, 40))]
    return World(senders, domains, agreements, addresses)


def synthetic_entries(n: int, seed: int = 1) -> Iterator[AuditEntry]:
    """``n`` records evenly over the last two years: mostly checks with one
    to three recipients and their agreements, some approvals, rejections and
    releases naming one agreement; a few subject hashes per check."""
    rng = random.Random(seed)
    w = make_world(rng)
    start = datetime.now(UTC) - SPAN
    step = SPAN / max(n, 1)
    for i in range(n):
        ts = start + step * i
        kind = rng.choice(KINDS)
        sender = rng.choice(w.senders)
        to = rng.sample(w.addresses, rng.choice((1, 1, 1, 2, 3)))
        if kind == "check":
            per = [
                {
                    "address": a,
                    "decision": rng.choice(DECISIONS),
                    "agreement": (
                        {"id": w.agreements[d], "version": 1}
                        if (d := a.partition("@")[2]) in w.agreements
                        else None
                    ),
                    "reasons": ["synthetic"],
                }
                for a in to
            ]
            payload: dict[str, Any] = {
                "sender": sender,
                "recipients": to,
                "files": [{"name": f"file{i}.xlsx", "sha256": f"{i:064x}"}],
                "entities": {"PERSON": rng.randint(0, 500)},
                "data_subjects": rng.randint(0, 500),
                "decision": per[0]["decision"],
                "per_recipient": per,
            }
            subjects = [f"hk1:{rng.getrandbits(128):032x}" for _ in range(rng.choice((0, 0, 1, 3)))]
            yield AuditEntry(kind, sender, payload, subjects, ts)
        else:
            payload = {
                "approval_id": f"{i:032x}",
                "sender": sender,
                "recipients": to,
                "decision": {"approval": "approved", "rejection": "rejected"}.get(kind, "released"),
                "agreement": w.agreements.get(to[0].partition("@")[2]),
                "reason": "synthetic",
            }
            yield AuditEntry(kind, "approver@council.example", payload, (), ts)


def seed(engine: Engine, n: int) -> float:
    """Seed ``n`` records into a migrated database; seconds taken."""
    started = time.perf_counter()
    done = 0
    log = AuditLog(engine)
    for done_batch in _batches(synthetic_entries(n), 20_000):
        done += log.append_many(done_batch, batch_size=20_000)
        print(f"\r  seeded {done:,}/{n:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def _batches(entries: Iterator[AuditEntry], size: int) -> Iterator[list[AuditEntry]]:
    batch: list[AuditEntry] = []
    for e in entries:
        batch.append(e)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def seed_approvals(engine: Engine, held: int = 100, decided: int = 100) -> None:
    """Held and decided items for the approvals queue, on held check records."""
    found = AuditLog(engine).search(
        AuditFilter(kind="check", decision="hold"), limit=held + decided
    )
    store = ApprovalStore(engine)
    for i, rec in enumerate(found.records):
        first = rec.payload["per_recipient"][0]
        agreement = first.get("agreement") or {}
        approval_id = store.create(
            record_id=rec.seq,
            sender=rec.payload["sender"],
            recipients=[first["address"]],
            agreement_id=agreement.get("id"),
            agreement_version=agreement.get("version"),
            summary={**rec.payload, "held_for": first},
        )
        if i >= held:
            store.set_decision(approval_id, "approved", "approver@council.example", "bench")


def search_cases(rng: random.Random) -> dict[str, Callable[[], AuditFilter | None]]:
    """Filter makers; each call picks fresh values so caches do not flatter."""
    w = make_world(random.Random(1))  # the same world the records were made from
    now = datetime.now(UTC)
    agreed = list(w.agreements.values())

    def old_month() -> AuditFilter:
        since = now - timedelta(days=rng.randint(300, 600))
        return AuditFilter(since=since, until=since + timedelta(days=30))

    return {
        "newest page": lambda: None,
        "sender": lambda: AuditFilter(sender=rng.choice(w.senders)),
        "recipient": lambda: AuditFilter(recipient=rng.choice(w.addresses)),
        "domain": lambda: AuditFilter(recipient="@" + rng.choice(w.domains)),
        "agreement": lambda: AuditFilter(agreement=rng.choice(agreed)),
        "held, last 30 days": lambda: AuditFilter(decision="hold", since=now - timedelta(days=30)),
        "an old month": old_month,
        "domain+decision+90 days": lambda: AuditFilter(
            recipient="@" + rng.choice(w.domains[:20]),
            decision=rng.choice(("hold", "block")),
            since=now - timedelta(days=90),
        ),
        "rejections under an agreement": lambda: AuditFilter(
            agreement=rng.choice(agreed), kind="rejection"
        ),
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000}


def time_search(engine: Engine, n: int, repeat: int) -> dict[str, dict[str, float]]:
    """p50/p95 of one search page (50) + a capped count, per filter."""
    log = AuditLog(engine)
    rng = random.Random(2)
    out: dict[str, dict[str, float]] = {}
    all_samples: list[float] = []
    for name, make in search_cases(rng).items():
        samples = []
        for _ in range(repeat):
            f = make()
            t = time.perf_counter()
            log.search(f, limit=50)
            log.count(f)
            samples.append(time.perf_counter() - t)
        out[name] = percentiles(samples)
        all_samples += samples
    # A deep page: keyset from the middle of the chain, then the page after.
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        page = log.search(None, before=rng.randint(n // 4, n), limit=50)
        log.search(None, before=page.next_before, limit=50)
        samples.append((time.perf_counter() - t) / 2)
    out["deep page"] = percentiles(samples)
    all_samples += samples
    # The dashboard's figures for the last 30 days, by GROUP BY.
    samples = []
    since = datetime.now(UTC) - timedelta(days=30)
    for _ in range(repeat):
        t = time.perf_counter()
        log.decisions_per_day(since)
        log.recipient_counts(since, limit=50)
        log.people_per_agreement(since)
        samples.append(time.perf_counter() - t)
    out["dashboard aggregates (3 calls)"] = percentiles(samples)
    out["all searches"] = percentiles(all_samples)
    return out


# -- HTTP page loads ---------------------------------------------------------

# (method, path, form): the DPO's pages and JSON twins; the audit search is
# a POST (addresses stay out of URLs), filtered by a domain and a decision.
PAGES: list[tuple[str, str, dict[str, str] | None]] = [
    ("GET", "/audit", None),
    ("GET", "/audit.json", None),
    ("POST", "/audit", {"recipient": "@org03.example", "decision": "hold"}),
    ("POST", "/audit.json", {"agreement": "DSA-7", "since": "2025-01-01"}),
    ("GET", "/approvals", None),
    ("GET", "/approvals.json", None),
    ("GET", "/dashboard", None),
    ("GET", "/dashboard.json", None),
]
_HIDDEN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def portal(home: Path, db_url: str) -> Iterator[str]:
    """The real app (create_app) under uvicorn in a thread; its base URL."""
    import uvicorn

    from shareguard.config import Settings
    from shareguard.web.app import create_app

    settings = Settings(home=home, database_url=db_url)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", log_config=None
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def sign_in(client: httpx.Client, name: str, password: str) -> str:
    """Sign in through the login form; the session's CSRF token."""
    form = client.get("/login")
    token = _HIDDEN_TOKEN.search(form.text)
    if not token:
        raise RuntimeError("no sign-in token on /login")
    done = client.post(
        "/login", data={"csrf_token": token.group(1), "username": name, "password": password}
    )
    if done.status_code != 303 or "/login" in done.headers.get("location", "/login"):
        raise RuntimeError(f"sign-in refused: {done.status_code}")
    page = client.get("/audit")
    found = _HIDDEN_TOKEN.search(page.text)
    if not found:
        raise RuntimeError(f"no CSRF token on /audit ({page.status_code})")
    return found.group(1)


def time_pages(engine: Engine, home: Path, db_url: str, repeat: int) -> dict[str, Any]:
    """p50/p95 of each page, signed in as a DPO; pages the portal does not
    have answer 404 and are listed as missing."""
    from shareguard.web.auth import UserStore

    password = f"Bench-{uuid.uuid4().hex}"
    UserStore(engine).add("bench.dpo", "dpo", password, email="bench.dpo@council.example")
    out: dict[str, Any] = {}
    all_samples: list[float] = []
    with portal(home, db_url) as url, httpx.Client(base_url=url, timeout=60) as client:
        csrf = sign_in(client, "bench.dpo", password)
        for method, path, form in PAGES:
            name = f"{method} {path}" + (" (filtered)" if form else "")
            samples = []
            for _ in range(repeat):
                t = time.perf_counter()
                if method == "GET":
                    r = client.get(path)
                else:
                    r = client.post(path, data={**(form or {}), "csrf_token": csrf})
                samples.append(time.perf_counter() - t)
                if r.status_code == 404:
                    break
                assert r.status_code == 200, f"{name}: {r.status_code} {r.text[:200]}"
            if r.status_code == 404:
                out[name] = {"missing": True}
                continue
            out[name] = percentiles(samples)
            all_samples += samples
    if all_samples:
        out["all pages"] = percentiles(all_samples)
    return out


def run_backend(
    label: str,
    engine: Engine,
    n: int,
    repeat: tuple[int, int],
    pages: bool,
    home: Path,
    url: str,
) -> dict[str, Any]:
    print(f"{label}: seeding {n:,} records", file=sys.stderr)
    home.mkdir(parents=True, exist_ok=True)
    upgrade(engine)
    seconds = seed(engine, n)
    result: dict[str, Any] = {"records": n, "seed_seconds": round(seconds, 1)}
    result["search"] = time_search(engine, n, repeat[0])
    if pages:
        seed_approvals(engine)
        result["pages"] = time_pages(engine, home, url, repeat[1])
    return result


@contextmanager
def pg_database(admin_url: str) -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"sg_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def print_table(results: dict[str, Any]) -> None:
    for label, r in results.items():
        print(f"\n{label}: {r['records']:,} records (seeded in {r['seed_seconds']} s)")
        for section in ("search", "pages"):
            for name, fig in (r.get(section) or {}).items():
                if "p95_ms" in fig:
                    print(
                        f"  {section:6} {name:32} p50 {fig['p50_ms']:7.1f} ms"
                        f"   p95 {fig['p95_ms']:7.1f} ms"
                    )
                else:
                    print(f"  {section:6} {name:32} {fig}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--large", type=int, default=1_000_000, help="PostgreSQL only; 0 skips")
    ap.add_argument("--repeat", type=int, default=20, help="calls per search case")
    ap.add_argument("--page-repeat", type=int, default=10, help="loads per page")
    ap.add_argument("--no-pages", action="store_true", help="search calls only")
    ap.add_argument(
        "--large-pages", action="store_true", help="time the pages on the large run too"
    )
    ap.add_argument("--pg-url", default=os.environ.get("SHAREGUARD_TEST_PG_URL", PG_ADMIN_URL))
    args = ap.parse_args()
    pages = not args.no_pages
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sg-bench-") as tmp:
        home = Path(tmp)
        url = f"sqlite:///{home / 'bench.db'}"
        engine = make_engine(url=url)
        results["sqlite"] = run_backend(
            "sqlite",
            engine,
            args.records,
            (args.repeat, args.page_repeat),
            pages,
            home / "sqlite-home",
            url,
        )
        engine.dispose()
        runs = [("postgresql", args.records, pages)]
        if args.large:
            runs.append(("postgresql large", args.large, pages and args.large_pages))
        for label, n, with_pages in runs:
            with pg_database(args.pg_url) as pg:
                engine = make_engine(url=pg)
                results[label] = run_backend(
                    label,
                    engine,
                    n,
                    (args.repeat, args.page_repeat),
                    with_pages,
                    home / label.replace(" ", "-"),
                    pg,
                )
                engine.dispose()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "portal.json").write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print("\n(measured on a shared 2-core machine under load: compare runs, not machines)")


if __name__ == "__main__":
    main()
