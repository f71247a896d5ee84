import itertools

from shareguard.detect.scanner import resolve_overlaps
from shareguard.detect.types import Candidate


def _c(type_: str, start: int, end: int, score: float = 0.9) -> Candidate:
    return Candidate(type_, start, end, "x" * (end - start), score, "test")


def test_check_digit_identifier_beats_overlapping_phone() -> None:
    kept = resolve_overlaps([_c("PHONE_NUMBER", 0, 12), _c("UK_NHS", 0, 12)])
    assert [c.type for c in kept] == ["UK_NHS"]


def test_address_beats_person_inside_it_and_disjoint_spans_all_stay() -> None:
    cands = [
        _c("PERSON", 3, 15),
        _c("STREET_ADDRESS", 0, 20),
        _c("PERSON", 30, 40),
        _c("EMAIL_ADDRESS", 40, 60),
    ]
    kept = resolve_overlaps(cands)
    assert [(c.type, c.start) for c in kept] == [
        ("STREET_ADDRESS", 0),
        ("PERSON", 30),
        ("EMAIL_ADDRESS", 40),
    ]


def test_special_category_evidence_never_competes_with_entities() -> None:
    kept = resolve_overlaps([_c("PERSON", 0, 10), _c("health", 0, 10)])
    assert sorted(c.type for c in kept) == ["PERSON", "health"]


def test_many_candidates_keep_a_consistent_disjoint_set() -> None:
    cands = [_c("PERSON", i, i + 5, score=(i % 7) / 7) for i in range(0, 5000, 3)]
    kept = resolve_overlaps(cands)
    spans = sorted((c.start, c.end) for c in kept)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    # every dropped candidate overlaps something kept
    kept_set = set(spans)
    for c in cands:
        if (c.start, c.end) not in kept_set:
            assert any(s < c.end and c.start < e for s, e in spans)
