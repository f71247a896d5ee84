from __future__ import annotations

from sqlalchemy import Engine

from shareguard.store.agreements import AgreementStore

V1 = "id: DSA-17\ntitle: Bidder workforce figures\n"
V2 = V1 + "aggregates_only: true\n"


def test_versions_are_kept_and_identical_text_adds_none(engine: Engine) -> None:
    store = AgreementStore(engine)
    assert store.add_version("DSA-17", V1, {"id": "DSA-17"}, "ig@corp.example") == 1
    assert store.add_version("DSA-17", V1, {"id": "DSA-17"}, "someone") == 1
    assert store.add_version("DSA-17", V2, {"id": "DSA-17", "aggregates_only": True}, "ig") == 2
    # Going back to the old text is a change too: a new version.
    assert store.add_version("DSA-17", V1, {"id": "DSA-17"}, "ig") == 3
    assert [v.version for v in store.versions("DSA-17")] == [1, 2, 3]
    v2 = store.get("DSA-17", 2)
    assert v2 is not None
    assert v2.source_text == V2
    assert v2.parsed["aggregates_only"] is True
    assert v2.loaded_by == "ig"
    assert v2.loaded_at.tzinfo is not None
    latest = store.latest("DSA-17")
    assert latest is not None
    assert latest.version == 3
    assert latest.source_text == V1
    assert store.get("DSA-17", 9) is None
    assert store.latest("DSA-99") is None


def test_list_and_all_latest(engine: Engine) -> None:
    store = AgreementStore(engine)
    assert store.list() == []
    assert store.all_latest() == []
    store.add_version("B-2", "b", {"id": "B-2"}, "ig")
    store.add_version("A-1", "a", {"id": "A-1", "v": 1}, "ig")
    store.add_version("A-1", "a2", {"id": "A-1", "v": 2}, "ig")
    listed = store.list()
    assert [(i, v) for i, v, _ in listed] == [("A-1", 2), ("B-2", 1)]
    assert all(ts.tzinfo is not None for _, _, ts in listed)
    assert store.all_latest() == [("A-1", 2, {"id": "A-1", "v": 2}), ("B-2", 1, {"id": "B-2"})]


def test_parsed_dates_are_stored_as_text(engine: Engine) -> None:
    from datetime import date

    store = AgreementStore(engine)
    store.add_version("D", "d", {"valid_until": date(2026, 3, 31)}, "ig")
    got = store.latest("D")
    assert got is not None
    assert got.parsed == {"valid_until": "2026-03-31"}
