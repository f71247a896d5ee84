"""Several processes starting on an empty database all migrate it (one does
the work), then append at once; the result is one valid chain with nothing
lost: the head-row lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) serialises
them."""

from __future__ import annotations

import itertools
import multiprocessing as mp
from multiprocessing.synchronize import Barrier
from pathlib import Path
from threading import BrokenBarrierError

from sqlalchemy import Engine

from shareguard.store.audit import AuditLog
from shareguard.store.db import current_revision, head_revision, make_engine, upgrade

WRITERS = 4


def _writer(url: str, worker: int, count: int, start: Barrier) -> None:
    engine = make_engine(url=url)
    upgrade(engine)  # as every service process does on start
    log = AuditLog(engine)
    start.wait(120)  # all migrated and connected: go together
    for i in range(count):
        log.append(
            "check",
            f"writer{worker}",
            {"worker": worker, "i": i, "decision": "allow"},
            [f"hk1:{worker:02x}{i:030x}"],
        )
    engine.dispose()


def _run_writers(url: str, count: int, *, verify_while: bool = False) -> int:
    """Run the writers; returns how many checks of the chain were made (and
    passed) while they wrote."""
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(WRITERS + 1)
    procs = [ctx.Process(target=_writer, args=(url, w, count, start)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    try:
        start.wait(120)
    except BrokenBarrierError:
        for p in procs:
            p.kill()
        raise
    checks = 0
    if verify_while:
        engine = make_engine(url=url)
        log = AuditLog(engine)
        while any(p.is_alive() for p in procs):
            check = log.verify()
            assert check.ok, check.reason
            checks += 1
        engine.dispose()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    return checks


def _check(engine: Engine, count: int, *, fair: bool) -> None:
    log = AuditLog(engine)
    check = log.verify()
    total = WRITERS * count
    assert check.ok, check.reason
    assert check.checked == total
    records = log.list(limit=None)
    assert sorted(r.seq for r in records) == list(range(1, total + 1))
    got = {(r.payload["worker"], r.payload["i"]) for r in records}
    assert got == {(w, i) for w in range(WRITERS) for i in range(count)}
    # Each writer's records keep its own order, and the writers interleaved.
    by_seq = sorted(records, key=lambda r: r.seq)
    for w in range(WRITERS):
        mine = [r.payload["i"] for r in by_seq if r.payload["worker"] == w]
        assert mine == list(range(count))
    if fair:  # PostgreSQL queues lock waiters; SQLite's busy-wait lets one writer run on
        switches = sum(
            a.payload["worker"] != b.payload["worker"] for a, b in itertools.pairwise(by_seq)
        )
        assert switches >= WRITERS
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(by_seq))
    assert len(log.records_for_subject(f"hk1:{2:02x}{7:030x}")) == 1


def test_concurrent_writers_postgresql(pg_url: str) -> None:
    assert _run_writers(pg_url, 500, verify_while=True) > 0
    engine = make_engine(url=pg_url)
    assert current_revision(engine) == head_revision()
    _check(engine, 500, fair=True)
    engine.dispose()


def test_concurrent_writers_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shareguard.db'}"
    assert _run_writers(url, 100, verify_while=True) > 0
    engine = make_engine(url=url)
    assert current_revision(engine) == head_revision()
    _check(engine, 100, fair=False)
    engine.dispose()
