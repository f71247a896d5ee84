import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shareguard.detect.subjects import prose_subjects, row_subject
from shareguard.detect.types import Candidate
from shareguard.model import count_subjects, merge_subjects

TEXT = " " * 3000


def _c(type_: str, norm: str, start: int = 0, end: int = 0, row: int | None = None) -> Candidate:
    return Candidate(type_, start, end, norm, 1.0, "test", norm, row=row)


def _first_keys(subjects: list[tuple[str, ...]]) -> list[str]:
    return sorted(s[0] for s in subjects)


def test_row_with_identifiers_is_keyed_most_stable_first() -> None:
    row = [
        _c("PERSON", "jane smith"),
        _c("PHONE_NUMBER", "+447700900123"),
        _c("UK_NHS", "9434765919"),
        _c("DATE_OF_BIRTH", "1980-02-03"),
    ]
    assert row_subject(row) == (
        "UK_NHS:9434765919",
        "PHONE_NUMBER:+447700900123",
        "PERSON:jane smith|1980-02-03",
    )


def test_row_without_identifier_uses_name_and_birth_date() -> None:
    row = [_c("PERSON", "jane smith"), _c("DATE_OF_BIRTH", "1980-02-03")]
    assert row_subject(row) == ("PERSON:jane smith|1980-02-03",)
    assert row_subject([_c("PERSON", "jane smith")]) == ("PERSON:jane smith",)


def test_bare_name_is_not_a_key_beside_an_identifier() -> None:
    # two different Jane Smiths with different NHS numbers must not merge
    assert row_subject([_c("PERSON", "jane smith"), _c("UK_NHS", "1")]) == ("UK_NHS:1",)


def test_row_with_only_postcode_or_date_is_not_a_person() -> None:
    assert row_subject([_c("UK_POSTCODE", "LS14AB"), _c("DATE_OF_BIRTH", "1980-01-01")]) is None


def test_same_person_in_two_tables_merges_through_name_and_birth_date() -> None:
    a = _frame([(1, 10), (2, 20)])  # (nhs id, name|dob id) rows
    b = _frame([(20,), (30,)])  # the second file knows only name|dob
    merged = merge_subjects([a, b])
    assert merged["s"].n_unique() == 3
    assert sorted(merged.filter(pl.col("id") == 20)["s"]) == [2]


def test_merge_follows_chains_of_shared_ids() -> None:
    chain = _frame(
        [(i, i + 1) for i in range(1, 40, 2)] + [(i + 1, i + 2) for i in range(1, 40, 2)]
    )
    assert merge_subjects([chain])["s"].n_unique() == 1


def _frame(subjects: list[tuple[int, ...]]) -> pl.DataFrame:
    rows = [(ids[0], i) for ids in subjects for i in ids]
    return pl.DataFrame(rows, schema={"s": pl.UInt64, "id": pl.UInt64}, orient="row")


def test_prose_merges_full_name_with_later_surname_and_given_name() -> None:
    cands = [
        _c("PERSON", "jane smith", 0, 10),
        _c("PERSON", "ahmed khan", 40, 50),
        _c("PERSON", "smith", 100, 105),
        _c("PERSON", "jane", 200, 204),
        _c("PERSON", "khan", 300, 304),
    ]
    assert _first_keys(prose_subjects(cands, TEXT)) == ["PERSON:ahmed khan", "PERSON:jane smith"]


def test_prose_merges_surname_seen_before_the_full_name() -> None:
    cands = [_c("PERSON", "okafor", 0, 6), _c("PERSON", "grace okafor", 50, 62)]
    assert prose_subjects(cands, TEXT) == [("PERSON:grace okafor", "PERSON:okafor")]


def test_ambiguous_surname_stays_separate() -> None:
    cands = [
        _c("PERSON", "jane smith", 0, 10),
        _c("PERSON", "tom smith", 20, 29),
        _c("PERSON", "smith", 500, 505),
    ]
    assert len(prose_subjects(cands, TEXT)) == 3


def test_identifier_attaches_to_nearest_person_and_names_them() -> None:
    cands = [
        _c("PERSON", "jane smith", 0, 10),
        _c("UK_NHS", "9434765919", 25, 37),
        _c("PERSON", "ahmed khan", 900, 910),
    ]
    assert _first_keys(prose_subjects(cands, TEXT)) == ["PERSON:ahmed khan", "UK_NHS:9434765919"]


def test_email_attaches_by_name_in_mailbox() -> None:
    cands = [
        _c("PERSON", "corey killeen", 0, 13),
        _c("PERSON", "pauline morris", 20, 34),
        _c("EMAIL_ADDRESS", "corey.killeen@nhs.net", 2000, 2021),
    ]
    assert _first_keys(prose_subjects(cands, TEXT)) == [
        "EMAIL_ADDRESS:corey.killeen@nhs.net",
        "PERSON:pauline morris",
    ]


def test_unattached_identifier_is_a_person_of_its_own_but_role_mailbox_is_not() -> None:
    cands = [
        _c("UK_NINO", "AB123456C", 0, 9),
        _c("EMAIL_ADDRESS", "enquiries@northmoor.gov.uk", 500, 526),
    ]
    assert prose_subjects(cands, TEXT) == [("UK_NINO:AB123456C",)]


def test_identifier_is_not_attached_across_a_sentence_end() -> None:
    text = "Apologies: Ryszard Baldys.\n1. The patient with NHS number 608 568 2794 was harmed."
    start = text.index("608")
    cands = [
        _c("PERSON", "ryszard baldys", 11, 25),
        _c("UK_NHS", "6085682794", start, start + 12),
    ]
    assert _first_keys(prose_subjects(cands, text)) == [
        "PERSON:ryszard baldys",
        "UK_NHS:6085682794",
    ]


def test_pronoun_sentence_refers_back_to_the_last_person_named() -> None:
    text = "Re: Grace Okafor, born 1961. She can be reached on 07700 900123."
    start = text.index("07700")
    cands = [
        _c("PERSON", "grace okafor", 4, 16),
        _c("PHONE_NUMBER", "+447700900123", start, start + 12),
    ]
    assert prose_subjects(cands, text) == [("PHONE_NUMBER:+447700900123", "PERSON:grace okafor")]


def test_signature_block_phone_belongs_to_the_name_above() -> None:
    text = "Kind regards,\nCorey Killeen\nDischarge Coordinator\nTel: 0113 351 4157"
    start = text.index("0113")
    cands = [
        _c("PERSON", "corey killeen", 14, 27),
        _c("PHONE_NUMBER", "+441133514157", start, start + 13),
    ]
    assert _first_keys(prose_subjects(cands, text)) == ["PHONE_NUMBER:+441133514157"]


def _union_find(groups: list[list[tuple[int, ...]]]) -> dict[int, int]:
    """Each id's person (smallest id of its component), the slow, obvious way."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for subjects in groups:
        for ids in subjects:
            top = min(root(ids[0]), *(root(i) for i in ids))
            for i in (ids[0], *ids):
                parent[root(i)] = top
    # the person's key is the smallest id they hold (s is one of their ids)
    return {i: root(i) for i in parent}


_IDS = st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=4).map(
    lambda ids: tuple(sorted(set(ids)))
)


@given(st.lists(st.lists(_IDS, max_size=12), max_size=4))
def test_merge_is_the_connected_components_of_shared_ids(
    groups: list[list[tuple[int, ...]]],
) -> None:
    merged = merge_subjects([_frame(g) for g in groups])
    truth = _union_find(groups)
    assert merged.height == merged.unique().height
    assert dict(zip(merged["id"], merged["s"], strict=True)) == truth
    assert count_subjects(merged) == len(set(truth.values()))
