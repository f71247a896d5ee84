"""registered_counts (column by column) against the plain per-match rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shareguard import model
from shareguard.model import Registered, RegisteredMatch, registered_counts


def _plain(
    matches: list[RegisteredMatch],
) -> tuple[dict[str, int], dict[str, int], tuple[str, ...]]:
    present: dict[str, set[str]] = {}
    present_rows: set[tuple[str, int, int]] = set()
    possible: dict[str, set[tuple[int, int]]] = {}
    for m in matches:
        if m.present and m.ref is not None:
            present.setdefault(m.dataset, set()).add(m.ref)
            present_rows.add((m.dataset, m.version_id, m.row))
        else:
            possible.setdefault(m.dataset, set()).add((m.version_id, m.row))
    maybe = {
        d: n
        for d, rows in sorted(possible.items())
        if (n := sum(1 for v, r in rows if (d, v, r) not in present_rows))
    }
    refs = tuple(sorted({r for s in present.values() for r in s}))
    return {d: len(s) for d, s in sorted(present.items())}, maybe, refs


# version ids belong to one dataset each, as in the store
_MATCH = st.tuples(
    st.sampled_from([("hr", 1), ("hr", 2), ("pay", 3)]),
    st.integers(0, 12),
    st.booleans(),
    st.booleans(),
).map(
    lambda t: RegisteredMatch(
        t[0][0],
        t[0][1],
        t[1],
        t[2],
        ("UK_NINO",) if t[2] else ("PERSON",),
        (),
        f"hk1:{t[0][0]}{t[1] % 7}" if t[2] and t[3] else None,
    )
)


@given(st.lists(_MATCH, max_size=40))
def test_counts_follow_the_plain_rule(matches: list[RegisteredMatch]) -> None:
    """Both ways of counting: one by one (a few people) and in polars."""
    blocks = Registered.from_matches(matches)
    assert registered_counts(blocks) == _plain(matches)
    few = model._COUNT_ONE_BY_ONE
    model._COUNT_ONE_BY_ONE = -1  # every block through polars
    try:
        assert registered_counts(blocks) == _plain(matches)
    finally:
        model._COUNT_ONE_BY_ONE = few


def test_nothing_registered() -> None:
    assert registered_counts([]) == ({}, {}, ())
