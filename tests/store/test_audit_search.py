"""Audit search: filters, keyset pagination, capped counts, bulk append and
the 0006 backfill, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, update

from shareguard.store.audit import (
    AuditEntry,
    AuditFilter,
    AuditLog,
    AuditRecord,
    _hash_with_payload_text,
    _prepare,
    canonical_json,
    index_fields,
    record_hash,
)
from shareguard.store.db import StoreError, make_engine, upgrade
from shareguard.store.models import AuditHead, AuditRecipient, AuditRow, AuditSubject

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SENDERS = ["ann@corp.example", "bob@corp.example", "cat@corp.example"]
RECIPIENTS = ["hr@bidder.example", "ops@bidder.example", "pay@pension.example", "x@else.example"]
AGREEMENTS = {"bidder.example": "DSA-17", "pension.example": "DSA-3"}
DECISIONS = ["allow", "minimise", "hold", "block"]


def _entries(n: int, seed: int = 7) -> list[AuditEntry]:
    """``n`` check records an hour apart, with one or two recipients each
    (per-recipient agreements), and every fifth an approval naming its
    agreement once for all recipients."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        to = sorted(rng.sample(RECIPIENTS, rng.choice([1, 2])))
        ts = T0 + timedelta(hours=i)
        if i % 5 == 4:
            agreement = AGREEMENTS.get(to[0].split("@")[1])
            payload: dict[str, Any] = {
                "sender": rng.choice(SENDERS),
                "recipients": to,
                "decision": "approved",
                "agreement": agreement,
            }
            out.append(AuditEntry("approval", "dpo@corp.example", payload, (), ts))
            continue
        per = [
            {
                "address": a.upper() if j == 0 else a,  # addresses are matched case-blind
                "decision": rng.choice(DECISIONS),
                "agreement": (
                    {"id": AGREEMENTS[a.split("@")[1]], "version": 1}
                    if a.split("@")[1] in AGREEMENTS
                    else None
                ),
            }
            for j, a in enumerate(to)
        ]
        payload = {
            "sender": rng.choice(SENDERS),
            "recipients": to,
            "decision": rng.choice(DECISIONS),
            "per_recipient": per,
            "data_subjects": rng.randint(0, 400),
        }
        subjects = ["hk1:" + f"{rng.randrange(16**32):032x}" for _ in range(rng.randint(0, 3))]
        out.append(AuditEntry("check", payload["sender"], payload, subjects, ts))
    return out


def _expected(entries: list[AuditEntry], f: AuditFilter) -> list[int]:
    """The seqs a filter must return, newest first, worked out in Python."""
    seqs = []
    for seq, e in enumerate(entries, start=1):
        fields = index_fields(e.payload)
        assert e.ts is not None
        if f.sender and fields.sender != f.sender.strip().lower():
            continue
        if f.decision and fields.decision != f.decision:
            continue
        if f.kind and e.kind != f.kind:
            continue
        if f.since and e.ts < f.since:
            continue
        if f.until and e.ts >= f.until:
            continue
        if f.recipient:
            r = f.recipient
            addrs = fields.recipients
            if not any(a.endswith(r) if r.startswith("@") else a == r for a in addrs):
                continue
        if f.agreement and f.agreement not in {x.agreement_id for x in fields.recipients.values()}:
            continue
        seqs.append(seq)
    return seqs[::-1]


FILTERS = [
    AuditFilter(),
    AuditFilter(sender="bob@corp.example"),
    AuditFilter(sender=" BOB@corp.example "),
    AuditFilter(recipient="hr@bidder.example"),
    AuditFilter(recipient="@bidder.example"),
    AuditFilter(recipient="@example"),  # a domain is matched whole, not as a suffix
    AuditFilter(agreement="DSA-17"),
    AuditFilter(agreement="DSA-3", kind="approval"),
    AuditFilter(decision="hold", sender="ann@corp.example"),
    AuditFilter(kind="check", since=T0 + timedelta(hours=20), until=T0 + timedelta(hours=50)),
    AuditFilter(recipient="@pension.example", decision="block", since=T0 + timedelta(hours=9)),
    AuditFilter(agreement="DSA-404"),
]


@pytest.fixture
def seeded(engine: Engine) -> tuple[AuditLog, list[AuditEntry]]:
    entries = _entries(120)
    log = AuditLog(engine)
    assert log.append_many(entries, batch_size=50) == 120
    return log, entries


def _pages(log: AuditLog, f: AuditFilter, size: int) -> list[list[AuditRecord]]:
    pages, before = [], None
    while True:
        page = log.search(f, before=before, limit=size)
        pages.append(page.records)
        if not page.has_more:
            return pages
        before = page.next_before


def test_bulk_append_builds_a_valid_chain(
    seeded: tuple[AuditLog, list[AuditEntry]],
) -> None:
    log, entries = seeded
    check = log.verify()
    assert (check.ok, check.checked) == (True, 120)
    first, last = log.get(1), log.get(120)
    assert first is not None
    assert last is not None
    assert first.ts == T0
    assert last.ts == T0 + timedelta(hours=119)
    assert first.subject_hashes == tuple(sorted(entries[0].subject_hashes))
    # A later single append continues the same chain.
    rec = log.append("check", "ann", {"decision": "allow"})
    assert (rec.seq, rec.prev_hash) == (121, last.hash)
    assert log.verify().ok


@pytest.mark.parametrize("f", FILTERS, ids=range(len(FILTERS)))
def test_filters_and_keyset_pages_match_a_scan(
    seeded: tuple[AuditLog, list[AuditEntry]], f: AuditFilter
) -> None:
    log, entries = seeded
    want = _expected(entries, f)
    pages = _pages(log, f, 7)
    got = [r.seq for page in pages for r in page]
    assert got == want
    # Every page is full but the last, and an empty result is one empty page.
    assert all(len(p) == 7 for p in pages[:-1])
    assert len(pages) == max(1, -(-len(want) // 7))
    assert log.count(f) == log.count(f, cap=None)
    assert log.count(f, cap=None).total == len(want)
    # The unpaged list agrees (it is what `shareguard audit list` uses).
    listed = log.list(
        f.recipient, f.sender, f.since, f.until, f.decision, f.kind, None, f.agreement
    )
    assert [r.seq for r in listed] == want


def test_filters_are_not_vacuous(seeded: tuple[AuditLog, list[AuditEntry]]) -> None:
    """The random data exercises each filter: some match, not everything."""
    _, entries = seeded
    for f in FILTERS[1:-1]:
        if f.recipient == "@example":
            continue
        assert 0 < len(_expected(entries, f)) < len(entries), f


def test_count_is_capped(seeded: tuple[AuditLog, list[AuditEntry]]) -> None:
    log, _ = seeded
    assert (log.count(cap=50).total, log.count(cap=50).exact) == (50, False)
    assert (log.count(cap=120).total, log.count(cap=120).exact) == (120, True)
    assert log.count(AuditFilter(kind="approval"), cap=10).exact is False


def test_page_size_must_be_positive(engine: Engine) -> None:
    with pytest.raises(StoreError):
        AuditLog(engine).search(limit=0)


def test_backdated_bulk_append_is_refused(engine: Engine) -> None:
    log = AuditLog(engine)
    log.append_many(_entries(3))
    old = AuditEntry("check", "ann", {"decision": "allow"}, (), T0 - timedelta(days=1))
    with pytest.raises(StoreError, match="older"):
        log.append_many([old])
    with pytest.raises(StoreError, match="timezone"):
        log.append_many([AuditEntry("check", "ann", {}, (), datetime(2026, 1, 1))])
    assert log.verify().ok


def test_edited_agreement_link_is_found(seeded: tuple[AuditLog, list[AuditEntry]]) -> None:
    log, _ = seeded
    with log.engine.begin() as conn:
        conn.execute(
            update(AuditRecipient)
            .where(AuditRecipient.record_id == 9)
            .values(agreement_id="DSA-FORGED")
        )
    check = log.verify()
    assert (check.ok, check.first_bad_seq) == (False, 9)
    assert check.reason is not None
    assert "agreements" in check.reason


def test_migration_0006_backfills_domains_and_agreements(db_url: str) -> None:
    """Records written before 0006 (no domain or agreement on their recipient
    links) are found by domain and agreement afterwards and still verify."""
    engine = make_engine(url=db_url)
    upgrade(engine, "0001")
    entries = _entries(30)
    prev = "0" * 64
    with engine.begin() as conn:
        for seq, e in enumerate(entries, start=1):
            assert e.ts is not None
            body = canonical_json(e.payload)
            fields = index_fields(e.payload)
            digest = record_hash(
                seq=seq,
                ts=e.ts,
                kind=e.kind,
                actor=e.actor,
                payload=e.payload,
                subject_hashes=e.subject_hashes,
                prev_hash=prev,
            )
            conn.execute(
                insert(AuditRow.__table__).values(  # type: ignore[arg-type]
                    seq=seq,
                    ts=e.ts,
                    kind=e.kind,
                    actor=e.actor,
                    sender=fields.sender,
                    decision=fields.decision,
                    payload=body,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            for addr in fields.recipients:  # the 0001 columns only
                conn.exec_driver_sql(
                    "INSERT INTO audit_recipients (record_id, address) VALUES (%s, %s)"
                    if engine.dialect.name == "postgresql"
                    else "INSERT INTO audit_recipients (record_id, address) VALUES (?, ?)",
                    (seq, addr),
                )
            for h in e.subject_hashes:
                conn.execute(insert(AuditSubject).values(record_id=seq, subject_hash=h))
            prev = digest
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=30, hash=prev))
    upgrade(engine, "0006")
    log = AuditLog(engine)
    assert log.verify().ok
    for f in (AuditFilter(agreement="DSA-17"), AuditFilter(recipient="@pension.example")):
        want = _expected(entries, f)
        assert want
        assert [r.seq for r in log.search(f, limit=100).records] == want
    engine.dispose()


# -- the payload guard works on the canonical text (one regex pass) ----------

_NINO_SHAPE = re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
_pieces = st.sampled_from(
    ["AB", "ab", "JK", "12", "34", "56", "C", "d", " ", "\n", "\t", '"', "\\", "é", "ß", "x", "1"]
)
_texts = st.lists(_pieces, max_size=12).map("".join)
_payloads = st.recursive(
    st.one_of(_texts, st.integers(-100, 100), st.none(), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_texts, inner, max_size=4)
    ),
    max_leaves=12,
)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_texts, _payloads, max_size=4))
def test_guard_refuses_exactly_the_payloads_with_an_ni_string(payload: dict[str, Any]) -> None:
    """The guard scans the canonical JSON once; it must refuse exactly when
    some key or string value, taken alone, has an NI number's shape."""
    per_string = any(_NINO_SHAPE.search(s.upper()) for s in _strings(payload))
    try:
        _prepare("check", "ann", payload, ())
        refused = False
    except StoreError:
        refused = True
    assert refused == per_string


def test_guard_refuses_ni_numbers_after_escaped_characters() -> None:
    for text in ("line\nAB123456C", 'quoted "AB 12 34 56 C"', "tab\tab123456d"):
        with pytest.raises(StoreError, match="NI number"):
            _prepare("check", "ann", {"note": text}, ())
    _prepare("check", "ann", {"note": "AB12\n34 56 C"}, ())  # split by a newline: no match


# -- aggregates for the dashboard -------------------------------------------


def test_aggregates_match_the_payloads(seeded: tuple[AuditLog, list[AuditEntry]]) -> None:
    log, entries = seeded
    since = T0 + timedelta(hours=30)
    days: Counter[tuple[Any, str | None]] = Counter()
    recipients: Counter[str] = Counter()
    people: Counter[str] = Counter()
    for e in entries:
        assert e.ts is not None
        if e.kind != "check" or e.ts < since:
            continue
        fields = index_fields(e.payload)
        days[(e.ts.date(), fields.decision)] += 1
        for address, link in fields.recipients.items():
            recipients[address] += 1
            if link.decision in ("allow", "minimise") and link.agreement_id:
                people[link.agreement_id] += fields.people or 0
    assert log.decisions_per_day(since) == sorted((d, k, n) for (d, k), n in days.items())
    top = sorted(recipients.items(), key=lambda x: (-x[1], x[0]))
    assert log.recipient_counts(since) == top
    assert log.recipient_counts(since, limit=2) == top[:2]
    assert log.people_per_agreement(since) == sorted(people.items(), key=lambda x: (-x[1], x[0]))
    assert len(people) == 2  # both agreements, not vacuous
    assert log.decisions_per_day(since, kind="approval")
    assert log.people_per_agreement(T0 + timedelta(days=30)) == []


def test_edited_people_count_is_found(seeded: tuple[AuditLog, list[AuditEntry]]) -> None:
    log, _ = seeded
    with log.engine.begin() as conn:
        conn.execute(update(AuditRow).where(AuditRow.seq == 12).values(people=10**6))
    check = log.verify()
    assert (check.ok, check.first_bad_seq) == (False, 12)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(_texts, _payloads, max_size=4),
    st.text(max_size=8),
    st.lists(st.from_regex(r"hk1:[0-9a-f]{32}", fullmatch=True), max_size=3),
)
def test_append_hash_equals_the_reference_hash(
    payload: dict[str, Any], actor: str, subjects: list[str]
) -> None:
    """Appends splice the payload's canonical text into the hashed record;
    the result must be record_hash's, which verify uses."""
    ts = T0 + timedelta(microseconds=7)
    text = canonical_json(payload)
    assert _hash_with_payload_text(5, ts, "check", actor, text, subjects, "f" * 64) == record_hash(
        seq=5,
        ts=ts,
        kind="check",
        actor=actor,
        payload=payload,
        subject_hashes=subjects,
        prev_hash="f" * 64,
    )


def test_blank_and_odd_index_values_verify(engine: Engine) -> None:
    """Index values are derived exactly as the 0001 columns were (a blank
    sender or address is kept as ""), so older records still verify."""
    log = AuditLog(engine)
    log.append(
        "check",
        "ann",
        {
            "sender": " ",
            "recipients": [" ", {"address": "Ops@Bidder.example "}, 7, None],
            "per_recipient": [{"address": "ops@bidder.example", "agreement": "DSA-17"}],
            "data_subjects": True,  # not a count
        },
    )
    assert log.verify().ok
    fields = index_fields(log.list()[0].payload)
    assert fields.sender == ""
    assert set(fields.recipients) == {"", "ops@bidder.example"}
    assert fields.recipients["ops@bidder.example"].agreement_id == "DSA-17"
    assert fields.people is None
    assert [r.seq for r in log.search(AuditFilter(recipient="@bidder.example")).records] == [1]
