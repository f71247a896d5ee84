"""Affected people from recorded disclosures, resolved through a stand-in
for the exact-data-match store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from breach_builders import FakeResolver, check_payload, make_staff

from shareguard.breach.affected import affected_people
from shareguard.store.audit import AuditRecord


def record(seq: int, payload: dict[str, Any]) -> AuditRecord:
    return AuditRecord(seq, datetime.now(UTC), "check", "hr@x", payload, (), "0" * 64, "1" * 64)


def test_exact_people_with_their_categories_and_groups() -> None:
    staff = make_staff(30)
    sent = staff[:12]
    special = {sent[0].number: ["health"], sent[5].number: ["trade_union"]}
    resolver = FakeResolver(staff)
    result = affected_people([record(1, check_payload(sent, special=special))], resolver)
    assert {p.key for p in result.people} == {s.number for s in sent}
    assert result.registered == 12
    assert result.pattern_only == ()
    by_key = {p.key: p for p in result.people}
    assert by_key[sent[0].number].special == ("health",)
    assert by_key[sent[1].number].special == ()
    assert by_key[sent[1].number].categories == ("DATE_OF_BIRTH", "PERSON", "UK_NINO")
    assert result.special_count() == 2
    counts = result.by_category()
    assert counts["UK_NINO"] == 12
    assert counts["special:health"] == 1
    expected_groups: dict[str, int] = {}
    for s in sent:
        expected_groups[f"STAFF/{s.force}"] = expected_groups.get(f"STAFF/{s.force}", 0) + 1
    assert result.by_group() == dict(sorted(expected_groups.items()))
    assert resolver.calls == 1  # one batch, not one call per person


def test_a_person_in_two_disclosures_is_listed_once_with_both_records() -> None:
    staff = make_staff(10)
    first = record(1, check_payload(staff[:6], name="a.csv"))
    second = record(
        2, check_payload(staff[4:], name="b.csv", special={staff[5].number: ["health"]})
    )
    result = affected_people([first, second], FakeResolver(staff))
    assert result.registered == 10
    both = {p.key: p for p in result.people}[staff[5].number]
    assert both.records == (1, 2)
    assert both.special == ("health",)


def test_people_found_only_by_pattern_are_counted_where_they_appear() -> None:
    staff = make_staff(5)
    result = affected_people(
        [record(3, check_payload(staff, pattern_only=7, name="mixed.xlsx"))], FakeResolver(staff)
    )
    assert result.registered == 5
    assert [(p.where, p.people, p.record_id) for p in result.pattern_only] == [("mixed.xlsx", 7, 3)]
    assert result.total == 12


def test_per_file_registered_counts_are_used_when_recorded() -> None:
    staff = make_staff(4)
    payload = check_payload(staff)
    payload["files"] = [
        {"name": "a.csv", "data_subjects": 6, "registered_subjects": 4},
        {"name": "b.txt", "data_subjects": 2, "registered_subjects": 0},
    ]
    payload["data_subjects"] = 8
    result = affected_people([record(1, payload)], FakeResolver(staff))
    assert [(p.where, p.people) for p in result.pattern_only] == [("a.csv", 2), ("b.txt", 2)]


def test_refs_the_dataset_no_longer_knows_stay_listed_unresolved() -> None:
    staff = make_staff(3)
    result = affected_people([record(1, check_payload(staff))], FakeResolver(staff[:2]))
    unresolved = [p for p in result.people if p.key is None]
    assert [p.ref for p in unresolved] == [staff[2].ref]
    assert result.registered == 3


def test_without_a_resolver_people_are_counted_but_not_named() -> None:
    staff = make_staff(3)
    result = affected_people([record(1, check_payload(staff))], None)
    assert result.registered == 3
    assert all(p.key is None for p in result.people)
