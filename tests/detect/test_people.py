"""The per-part people bound: admitted first ids, overflow and kept pairs are
those of a plain one-sighting-at-a-time reference."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.detect.scanner import _People
from shareguard.keys import ValueHasher

HASHER = ValueHasher(b"p" * 32)

# a chunk: rows, each a person as their keys (first key first)
person = st.lists(
    st.sampled_from([f"EMAIL:{i}@example.org" for i in range(12)]),
    min_size=1,
    max_size=3,
    unique=True,
)
chunks = st.lists(st.lists(person, min_size=0, max_size=8), min_size=1, max_size=5)


def keys_frame(rows: list[list[str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": [r for r, p in enumerate(rows) for _ in p],
            "key": [k for p in rows for k in p],
            "first": [i == 0 for p in rows for i in range(len(p))],
        },
        schema={"row": pl.UInt32, "key": pl.String, "first": pl.Boolean},
    )


def reference(
    all_chunks: list[list[list[str]]], limit: int
) -> tuple[set[int], int, set[tuple[int, int]]]:
    known: set[int] = set()
    overflow = 0
    pairs: set[tuple[int, int]] = set()
    for rows in all_chunks:
        rejected: set[int] = set()
        chunk_pairs: list[tuple[int, int]] = []
        for p in rows:
            ids = [HASHER.id64(k) for k in p]
            if ids[0] not in known:
                if len(known) >= limit:
                    overflow += 1
                    rejected.add(ids[0])
                else:
                    known.add(ids[0])
            chunk_pairs.extend((ids[0], i) for i in ids)
        pairs |= {pair for pair in chunk_pairs if pair[0] not in rejected}
    return known, overflow, pairs


@settings(max_examples=150, deadline=None)
@given(chunks, st.integers(0, 8))
def test_bounded_people_match_the_reference(all_chunks: list[list[list[str]]], limit: int) -> None:
    people = _People(HASHER, limit)
    for rows in all_chunks:
        people.add(keys_frame(rows))
    known, overflow, pairs = reference(all_chunks, limit)
    assert set(people.known) == known
    assert len(people.known) == len(known)
    assert people.overflow == overflow
    edges = pl.concat(people.edges) if people.edges else pl.DataFrame()
    assert set(edges.iter_rows()) == pairs
