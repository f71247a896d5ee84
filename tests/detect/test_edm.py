"""Exact data match without a database: normalising, match keys, the index,
and the scanner deciding who is present, possible or absent."""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import string
import struct
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shareguard.detect.edm as edm
from shareguard.detect.edm import (
    Blake2MatchHasher,
    DatasetIndex,
    EdmIndex,
    EdmSource,
    Field,
    MatchHasher,
    build_match_keys,
    digit_tokens,
    explain,
    fold_key,
    fold_name,
    fold_names,
    key_candidates,
    key_pattern,
    match_hasher,
    normalise_column,
    normalise_dates,
    siphash24,
)
from shareguard.detect.scanner import Scanner
from shareguard.detect.types import Candidate
from shareguard.keys import ValueHasher, derive_key
from shareguard.model import (
    Document,
    FileReport,
    Registered,
    RegisteredMatch,
    Table,
    registered_counts,
)
from shareguard.model import (
    EntityType as E,
)

ROOT = bytes(range(32))

# The compiled kernel (built by `make install`) and its numpy twins: the
# tests below hold each to the other and to plain references.
COMPILED = importlib.import_module("shareguard.detect._edmkernel")
WAYS: dict[str, ModuleType | None] = {"compiled": COMPILED, "numpy": None}


@contextmanager
def matching_by(kernel: ModuleType | None) -> Iterator[None]:
    saved = edm.KERNEL
    edm.KERNEL = kernel
    try:
        yield
    finally:
        edm.KERNEL = saved


# Fixture people, made up.  NINOs and NHS numbers pass their check rules.
PEOPLE = {
    "key": ["EMP00101", "EMP00102", "EMP00103"],
    "name": ["Ann Jones", "José García-Ruiz", "Peter Brown"],
    "dob": ["1980-03-14", "14/07/1975", "02-Jan-1990"],
    "postcode": ["LS1 4AB", "YO10 5PN", "BD3 8DQ"],
    "nino": ["AB 12 34 56 C", "CE123457D", "JM654321A"],
    "email": ["ann.jones@example.org", "Jose.Garcia@Example.org", "pbrown@example.org"],
}
TYPES = {
    "name": "PERSON",
    "dob": "DATE_OF_BIRTH",
    "postcode": "UK_POSTCODE",
    "nino": "UK_NINO",
    "email": "EMAIL_ADDRESS",
}


def make_index(frame: dict[str, list[str]] | None = None, name: str = "hr") -> EdmIndex:
    data = pl.DataFrame(frame or PEOPLE)
    fields = {"KEY": normalise_column("KEY", data["key"])}
    for col, kind in TYPES.items():
        if col in data.columns:
            fields[kind] = normalise_column(kind, data[col])
    hasher = MatchHasher.from_root(ROOT)
    keys, rows, present = build_match_keys(hasher, fields)
    refs = [ValueHasher.from_root(ROOT)("subject", f"{name}\x1f{k}") for k in fields["KEY"]]
    index = DatasetIndex(
        name=name,
        version_id=1,
        keys=keys,
        rows=rows,
        fields=present,
        key_pattern=key_pattern(fields["KEY"]),
        refs=lambda wanted: {r: refs[r] for r in wanted},
    )
    return EdmIndex(hasher, (index,), ((1, 1),))


def scanner(index: EdmIndex) -> Scanner:
    return Scanner(
        ValueHasher.from_root(ROOT), edm=EdmSource(load=lambda: index, signature=lambda: ((1, 1),))
    )


def scan_rows(index: EdmIndex, rows: list[list[str]]) -> FileReport:
    doc = Document("t.csv", "text/csv", tables=(Table.from_rows("t", rows),))
    return scanner(index).scan(doc)


def scan_text(index: EdmIndex, text: str) -> FileReport:
    return scanner(index).scan(Document("t.txt", "text/plain", text=text))


def present(report: FileReport) -> dict[int, RegisteredMatch]:
    return {m.row: m for m in report.registered_matches() if m.present}


def possible(report: FileReport) -> set[int]:
    return {m.row for m in report.registered_matches() if not m.present}


# --------------------------------------------------------------------------- normalising


@pytest.mark.parametrize(
    "raw",
    ["Ann Jones", "JONES, Ann", "Jones, Ann", "Mrs Ann Jones", "  ann   JONES ", "Ann Mary Jones"],
)
def test_name_forms_fold_to_one(raw: str) -> None:
    assert fold_name(raw) == "ann jones"


def test_accents_and_hyphens_fold() -> None:
    assert fold_name("José García-Ruiz") == fold_name("Jose Garcia Ruiz") == "jose ruiz"
    assert fold_name("O'Brien, Siân") == "sian obrien"
    assert fold_name("Madonna") is None  # one word is no name to match


_NAME_WORDS = st.sampled_from(["mr", "mrs", "dr", "Sir", "ann", "ANN", "jones", "o'brien", "José"])
_NAME_TEXT = st.lists(
    _NAME_WORDS | st.text(alphabet="abzAZ ,.-'é\t", max_size=6), min_size=1, max_size=5
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(names=st.lists(_NAME_TEXT | st.none(), min_size=1, max_size=12))
def test_plain_names_fold_as_the_general_way_folds_them(names: list[str | None]) -> None:
    """Plain ASCII names take a short way, vectorised or in plain Python
    (titles, one-word names, the same first and last word among them); any
    mix of plain and other names folds as the general way alone folds each."""
    series = pl.Series(names, dtype=pl.String)
    general = edm._fold_any(series).to_list()
    assert edm._fold_names(series).to_list() == general
    assert edm._fold_few(names) == general  # a text's few, in plain Python


def test_dates_in_register_layouts_become_iso() -> None:
    got = normalise_dates(
        pl.Series(
            [
                "14/07/1975",
                "1975-07-14",
                "14-Jul-1975",
                "14.07.1975",
                "1975-07-14 00:00:00",
                "not a date",
            ]
        )
    )
    assert got.to_list() == ["1975-07-14"] * 5 + [None]


def test_identifiers_take_their_canonical_form() -> None:
    assert normalise_column("UK_NINO", pl.Series(["ab 12 34 56 c"])).to_list() == ["AB123456C"]
    assert normalise_column("UK_POSTCODE", pl.Series(["ls1 4ab"])).to_list() == ["LS14AB"]
    assert normalise_column("UK_NHS", pl.Series(["943 476 5919"])).to_list() == ["9434765919"]
    assert normalise_column("PHONE_NUMBER", pl.Series(["07700 900123", ""])).to_list() == [
        "+447700900123",
        None,
    ]
    assert normalise_column("EMAIL_ADDRESS", pl.Series([" A.B@X.ORG "])).to_list() == ["a.b@x.org"]


def test_key_pattern_describes_the_keys_shape() -> None:
    assert key_pattern(pl.Series(["EMP00101", "EMP7"])) is None  # too short to look for
    assert key_pattern(pl.Series(["HT200000", "HT2000-1"])) == r"[A-Z0-9\-]{8,8}"
    assert key_pattern(pl.Series(["ABCDEF"])) is None  # no digit: would match words


# --------------------------------------------------------------------------- match keys


def test_match_keys_carry_the_field_and_depend_on_the_secret() -> None:
    h = MatchHasher.from_root(ROOT)
    a = h.keys(Field.UK_NINO, ["AB123456C"])
    assert int(a[0]) & 0xF == Field.UK_NINO
    assert h.keys(Field.UK_NINO, ["AB123456C"])[0] == a[0]
    assert h.keys(Field.KEY, ["AB123456C"])[0] != a[0]
    assert MatchHasher.from_root(os.urandom(32)).keys(Field.UK_NINO, ["AB123456C"])[0] != a[0]


# SipHash-2-4 of the messages 00, 00 01, ... under the key 00 01 .. 0f: the
# reference vectors published with the algorithm (Aumasson and Bernstein).
SIPHASH_VECTORS = {
    0: 0x726FDB47DD0E0E31,
    1: 0x74F839C593DC67FD,
    2: 0x0D6C8009D9A94F5A,
    7: 0xAB0200F58B01D137,
    8: 0x93F5F5799A932462,
    15: 0xA129CA6149BE45E5,
    16: 0x3F2ACC7F57C29BDB,
    63: 0x958A324CEB064572,
}


def _siphash_reference(key: bytes, msg: bytes) -> int:
    """SipHash-2-4 one message at a time, as the paper writes it."""
    mask = (1 << 64) - 1

    def rotl(x: int, b: int) -> int:
        return ((x << b) | (x >> (64 - b))) & mask

    def rounds(v: list[int], n: int) -> None:
        for _ in range(n):
            v[0] = (v[0] + v[1]) & mask
            v[1] = rotl(v[1], 13) ^ v[0]
            v[0] = rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & mask
            v[3] = rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & mask
            v[3] = rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & mask
            v[1] = rotl(v[1], 17) ^ v[2]
            v[2] = rotl(v[2], 32)

    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D]
    v += [k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]
    tail = len(msg) % 8
    words = [int.from_bytes(msg[i : i + 8], "little") for i in range(0, len(msg) - tail, 8)]
    words.append(int.from_bytes(msg[len(msg) - tail :], "little") | (len(msg) & 0xFF) << 56)
    for m in words:
        v[3] ^= m
        rounds(v, 2)
        v[0] ^= m
    v[2] ^= 0xFF
    rounds(v, 4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def test_siphash_gives_the_published_vectors() -> None:
    key = bytes(range(16))
    k0, k1 = struct.unpack("<QQ", key)
    # bytes below 0x80 are one UTF-8 byte each: the strings are those messages
    messages = pl.Series([bytes(range(n)).decode("ascii") for n in SIPHASH_VECTORS])
    for kernel in WAYS.values():
        with matching_by(kernel):
            got = siphash24(k0, k1, messages)
            assert [int(x) for x in got] == list(SIPHASH_VECTORS.values())
            # past the few hashed one by one, the column ways
            many = siphash24(k0, k1, pl.concat([messages] * 80))
            assert [int(x) for x in many] == list(SIPHASH_VECTORS.values()) * 80
    assert [_siphash_reference(key, bytes(range(n))) for n in SIPHASH_VECTORS] == list(
        SIPHASH_VECTORS.values()
    )


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.text(max_size=90), min_size=1, max_size=40),
    prefix=st.sampled_from(["", "2\x1f", "8\x1f"]),
    key=st.binary(min_size=16, max_size=16),
)
def test_vectorised_siphash_equals_one_value_at_a_time(
    values: list[str], prefix: str, key: bytes
) -> None:
    """Every length (words of several sizes in one call), any character;
    compiled and in numpy, a few values (laid out or hashed one by one in
    Python) and more (laid out by polars), in a column or a list."""
    k0, k1 = struct.unpack("<QQ", key)
    few = max(edm._SIP_ONE_BY_ONE, edm._PACK_IN_PYTHON)
    many = values * (few // len(values) + 1)
    assert len(many) > few
    assert len(values) <= min(edm._SIP_ONE_BY_ONE, edm._PACK_IN_PYTHON)
    for batch in (values, many):
        want = [_siphash_reference(key, (prefix + v).encode()) for v in batch]
        for kernel in WAYS.values():
            with matching_by(kernel):
                got = siphash24(k0, k1, pl.Series(batch, dtype=pl.String), prefix)
                listed = siphash24(k0, k1, list(batch), prefix)  # a text's values
            assert [int(x) for x in got] == want
            assert [int(x) for x in listed] == want


def test_many_values_are_hashed_in_blocks_like_one() -> None:
    h = MatchHasher.from_root(ROOT)
    values = [f"AB{i:06d}C" for i in range(40_000)]  # more than one block of rows
    assert (
        h.keys(Field.UK_NINO, values)[[0, 20_000, 39_999]]
        == h.keys(Field.UK_NINO, [values[0], values[20_000], values[39_999]])
    ).all()


def test_format_1_keys_are_keyed_blake2b_as_registered_before() -> None:
    """Datasets registered before SipHash hold BLAKE2b keys: the old hasher
    must still make exactly those, so that they keep matching."""
    legacy = match_hasher(ROOT, 1)
    assert isinstance(legacy, Blake2MatchHasher)
    key = derive_key(ROOT, edm.PURPOSE_DATASET_MATCH)
    digest = hashlib.blake2b(b"2\x1fAB123456C", key=key, digest_size=8).digest()
    want = (int.from_bytes(digest, "little") & ~0xF) | int(Field.UK_NINO)
    assert int(legacy.keys(Field.UK_NINO, ["AB123456C"])[0]) == want
    pair = hashlib.blake2b(b"8\x1fann jones\x1e1980-03-14", key=key, digest_size=8).digest()
    want = (int.from_bytes(pair, "little") & ~0xF) | int(Field.PERSON_DOB)
    assert int(Field.PERSON_DOB) == 8
    assert int(legacy.keys(Field.PERSON_DOB, [f"ann jones{edm.PAIR_SEP}1980-03-14"])[0]) == want
    assert isinstance(match_hasher(ROOT), MatchHasher)
    assert (
        legacy.keys(Field.UK_NINO, ["AB123456C"])[0]
        != match_hasher(ROOT).keys(Field.UK_NINO, ["AB123456C"])[0]
    )
    with pytest.raises(ValueError, match="format 3"):
        match_hasher(ROOT, 3)


def test_a_dataset_in_the_old_format_matches_beside_a_new_one() -> None:
    old = make_index(name="old")
    data = pl.DataFrame(PEOPLE)
    fields = {"KEY": normalise_column("KEY", data["key"])}
    fields.update({k: normalise_column(k, data[c]) for c, k in TYPES.items()})
    legacy = Blake2MatchHasher.from_root(ROOT)
    keys, rows, present_fields = build_match_keys(legacy, fields)
    ds = DatasetIndex(
        "legacy", 2, keys, rows, present_fields, None, lambda w: {r: f"hk1:{r}" for r in w}, legacy
    )
    index = EdmIndex(old.hasher, (old.datasets[0], ds), ((1, 1), (2, 2)))
    report = scan_rows(index, [["Name", "Date of birth"], ["JONES, Ann", "14/03/1980"]])
    got = {(m.dataset, m.row, m.fields) for m in report.registered_matches() if m.present}
    assert got == {
        ("old", 0, ("PERSON", "DATE_OF_BIRTH")),
        ("legacy", 0, ("PERSON", "DATE_OF_BIRTH")),
    }


def test_lookup_returns_every_row_sharing_a_key() -> None:
    keys = np.array([3, 5, 5, 5, 9], dtype=np.uint64)
    rows = np.array([10, 11, 12, 13, 14], dtype=np.uint32)
    ds = DatasetIndex("d", 1, keys, rows, frozenset(), None, lambda r: {})
    qi, got = ds.lookup(np.array([5, 4, 9], dtype=np.uint64))
    assert sorted(zip(qi.tolist(), got.tolist(), strict=True)) == [
        (0, 11),
        (0, 12),
        (0, 13),
        (2, 14),
    ]


@settings(max_examples=80, deadline=None)
@given(
    keys=st.lists(st.integers(0, 40), max_size=60),
    queries=st.lists(st.integers(0, 45), max_size=40),
    limit=st.sampled_from([None, 1, 2, 3]),
)
def test_lookup_equals_looking_at_every_key(
    keys: list[int], queries: list[int], limit: int | None
) -> None:
    ordered = sorted(keys)
    ds = DatasetIndex(
        "d",
        1,
        np.array(ordered, dtype=np.uint64),
        np.arange(len(ordered), dtype=np.uint32),
        frozenset(),
        None,
        lambda r: {},
    )
    limits = None if limit is None else np.full(len(queries), limit, dtype=np.int64)
    want = sorted(
        (i, r)
        for i, q in enumerate(queries)
        if limit is None or ordered.count(q) <= limit
        for r, k in enumerate(ordered)
        if k == q
    )
    for kernel in WAYS.values():
        with matching_by(kernel):
            qi, rows = ds.lookup(np.array(queries, dtype=np.uint64), limits)
        assert sorted(zip(qi.tolist(), rows.tolist(), strict=True)) == want


def test_repeated_values_are_hashed_once_to_the_same_keys() -> None:
    h = MatchHasher.from_root(ROOT)
    names = pl.Series([f"name {i % 97}" for i in range(20_000)])  # a payments table
    assert (edm._keys_once(h, Field.PERSON, names) == h.keys(Field.PERSON, names)).all()
    distinct = pl.Series([f"name {i}" for i in range(20_000)])
    assert (edm._keys_once(h, Field.PERSON, distinct) == h.keys(Field.PERSON, distinct)).all()


def test_many_repeated_names_fold_as_one_at_a_time() -> None:
    raw = ["SMITH, Jane", "Dr José  García", "Madonna", None, "O'Brien, Siân", "ann JONES"]
    n = 20_000  # enough rows for the fold-each-distinct-once path
    names = pl.Series([raw[i % len(raw)] for i in range(n)], dtype=pl.String)
    folded = fold_names(names).to_list()
    one = [None if r is None else fold_name(r) for r in raw]
    assert folded == [one[i % len(raw)] for i in range(n)]


def _by_row_plain(found: list[edm.Found]) -> edm.Found:
    """_by_row without packing: sort by row, or the bit sets of each row."""
    rows = np.concatenate([f[0] for f in found])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    starts = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
    fields = np.bitwise_or.reduceat(np.concatenate([f[1] for f in found])[order], starts)
    cats = np.bitwise_or.reduceat(np.concatenate([f[2] for f in found])[order], starts)
    return rows[starts], fields, cats


def test_merging_by_row_packed_or_not_is_the_same() -> None:
    rng = np.random.default_rng(3)
    found = [
        (
            rng.integers(0, 50, 400).astype(np.int64),
            np.left_shift(1, rng.integers(1, 10, 400)).astype(np.int64),
            rng.integers(0, 1 << 15, 400).astype(np.int64),
        )
        for _ in range(3)
    ]
    packed = edm._by_row(found)
    plain = _by_row_plain(found)
    rows = np.concatenate([f[0] for f in found])
    for r in (0, 7, 49):
        if r in rows:
            i = int(np.flatnonzero(packed[0] == r)[0])
            want_f = np.bitwise_or.reduce(np.concatenate([f[1][f[0] == r] for f in found]))
            assert packed[1][i] == want_f
    assert all((a == b).all() for a, b in zip(packed, plain, strict=True))
    assert (np.diff(packed[0]) > 0).all()


def _mentions_reference(cands: list[Candidate], text: str) -> list[tuple[int, int, str]]:
    """The person mentions as first written: every match against every span."""
    mentions = [(c.start, c.end, c.key) for c in cands if c.type == "PERSON"]
    for m in edm._SURNAME_FIRST.finditer(text):
        if not (m.group(1)[0].isupper() and m.group(2)[0].isupper()):
            continue
        inside = [t for t in mentions if m.start() < t[1] and t[0] < m.end()]
        if m.group(1).isupper():
            mentions = [t for t in mentions if t not in inside]
        elif inside:
            continue
        mentions.append((m.start(), m.end(), f"{m.group(2)} {m.group(1)}"))
    return mentions


_FRAGMENTS = [
    "Ann Jones",
    "JONES, Ann",
    "Jones, Ann",
    "Peter Brown",
    "Brown, Peter Paul",
    ", ",
    " met ",
    "Smith, Jane and BROWN, Peter",
    " (born 14/03/1980) ",
    "\n",
]


@settings(max_examples=80, deadline=None)
@given(parts=st.lists(st.sampled_from(_FRAGMENTS), max_size=14), data=st.data())
def test_person_mentions_equal_the_plain_reading(parts: list[str], data: st.DataObject) -> None:
    text = "".join(parts)
    # detector spans: words, capitalised word pairs and stretches across
    # them (one may overlap two surname-first forms), some overlapping
    spans = [m.span() for m in re.finditer(r"[A-Z][a-z]+(?: [A-Z][a-z]+)?", text)]
    spans += [m.span() for m in re.finditer(r"[A-Za-z]+", text)]  # overlapping some
    spans += [(a, min(a + n, len(text))) for a in range(0, len(text), 7) for n in (9, 25)]
    chosen = data.draw(st.lists(st.sampled_from(spans), unique=True)) if spans else []
    cands = [Candidate("PERSON", a, b, text[a:b], 0.9, "t") for a, b in chosen]
    assert sorted(edm._mentions(cands, text)) == sorted(_mentions_reference(cands, text))


def test_index_is_compact() -> None:
    index = make_index()
    # 3 people x (key, nino, email, name, name+dob, name+postcode) = 18 keys of
    # 12 bytes, and a directory of 2 buckets (3 offsets of 4 bytes)
    assert index.nbytes == 18 * 12 + 3 * 4


# --------------------------------------------------------------------------- scanning


def test_unique_identifier_alone_makes_present() -> None:
    report = scan_rows(make_index(), [["Ref", "NI number"], ["1", "CE 12 34 57 D"]])
    assert set(present(report)) == {1}
    assert present(report)[1].fields == ("UK_NINO",)
    assert present(report)[1].ref == ValueHasher.from_root(ROOT)("subject", "hr\x1fEMP00102")


def test_name_with_birth_date_in_another_layout_makes_present() -> None:
    rows = [["Name", "Date of birth", "Town"], ["JONES, Ann", "14/03/1980", "Leeds"]]
    match = present(scan_rows(make_index(), rows))[0]
    assert match.fields == ("PERSON", "DATE_OF_BIRTH")
    assert explain(match.fields) == "name + date of birth"


def test_name_alone_is_only_possible() -> None:
    report = scan_rows(make_index(), [["Name", "Town"], ["Ann Jones", "Leeds"]])
    assert not present(report)
    assert possible(report) == {0}


def test_fields_of_two_different_people_in_one_row_are_not_a_match() -> None:
    # Ann's name with Peter's birth date and postcode
    rows = [["Name", "DOB", "Postcode"], ["Ann Jones", "02/01/1990", "BD3 8DQ"]]
    report = scan_rows(make_index(), rows)
    assert not present(report)
    assert possible(report) == {0}


def test_key_column_matches_without_a_header_word() -> None:
    rows = [["Ref", "Amount"], ["EMP00103", "12.00"], ["EMP00999", "3.00"]]
    match = present(scan_rows(make_index(), rows))[2]
    assert match.fields == ("KEY",)


def test_prose_surname_first_with_birth_date_nearby() -> None:
    text = "Referral: GARCIA-RUIZ, José (born 14 July 1975) was seen in clinic today."
    report = scan_text(make_index(), text)
    assert set(present(report)) == {1}
    assert present(report)[1].fields == ("PERSON", "DATE_OF_BIRTH")


def test_prose_name_and_postcode_far_apart_is_only_possible() -> None:
    filler = "The meeting covered budgets, rotas and the new building works. " * 4
    text = f"Peter Brown attended.\n\n{filler}\n\nDeliveries go to BD3 8DQ."
    report = scan_text(make_index(), text)
    assert not present(report)
    assert possible(report) == {2}


def test_key_in_prose_makes_present() -> None:
    report = scan_text(make_index(), "Please update the record for employee EMP00101 today.")
    assert set(present(report)) == {0}


def test_counts_merge_across_parts() -> None:
    a = RegisteredMatch("hr", 1, 0, True, ("UK_NINO",), (), "hk1:a")
    b = RegisteredMatch("hr", 1, 0, True, ("KEY",), (), "hk1:a")
    c = RegisteredMatch("hr", 1, 1, False, ("PERSON",), ())
    d = RegisteredMatch("hr", 1, 0, False, ("PERSON",), ())  # present elsewhere
    assert registered_counts(Registered.from_matches([a, b, c, d])) == (
        {"hr": 1},
        {"hr": 1},
        ("hk1:a",),
    )


def test_no_dataset_means_nothing_matched() -> None:
    empty = EdmIndex(MatchHasher(b""), ())
    report = scan_rows(empty, [["Name", "NI number"], ["Ann Jones", "AB123456C"]])
    assert report.registered == ()


def test_source_reloads_when_the_signature_changes() -> None:
    sig = [((1, 1),)]
    loads: list[int] = []

    def load() -> EdmIndex:
        loads.append(1)
        return EdmIndex(MatchHasher(b""), (), sig[0])

    source = EdmSource(load=load, signature=lambda: sig[0], check_every=0)
    source.current()
    source.current()
    assert len(loads) == 1
    sig[0] = ((1, 2),)
    assert source.current().signature == ((1, 2),)
    assert len(loads) == 2
    sig[0] = ()
    assert source.current().datasets == ()  # nothing registered: nothing loaded
    assert len(loads) == 2


# --------------------------------------------------------------------------- property


def _change_one(value: str, data: st.DataObject) -> str:
    """The value with one letter or digit replaced by a different one."""
    spots = [i for i, ch in enumerate(value) if ch.isalnum()]
    i = data.draw(st.sampled_from(spots))
    old = value[i]
    pool = string.digits if old.isdigit() else string.ascii_uppercase
    new = data.draw(st.sampled_from([c for c in pool if c != old.upper()]))
    new = new.lower() if old.islower() else new
    return value[:i] + new + value[i + 1 :]


_given_names = st.sampled_from(["Ann", "Peter", "Maria", "Tariq", "Grace", "Owen"])
_family_names = st.sampled_from(["Jones", "Brown", "Okafor", "Nowak", "Patel", "Evans"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    given_=_given_names,
    family=_family_names,
    day=st.integers(1, 28),
    month=st.integers(1, 12),
    year=st.integers(1940, 2005),
    digits=st.integers(100_000, 999_999),
    data=st.data(),
)
def test_a_row_with_every_value_changed_by_one_character_is_never_present(
    given_: str, family: str, day: int, month: int, year: int, digits: int, data: st.DataObject
) -> None:
    person = {
        "key": f"EMP{digits}",
        "name": f"{given_} {family}",
        "dob": f"{day:02d}/{month:02d}/{year}",
        "postcode": "LS1 4AB",
        "nino": f"AB{digits}C",
        "email": f"{given_.lower()}.{family.lower()}@example.org",
    }
    index = make_index({k: [v] for k, v in person.items()})
    changed = {k: _change_one(v, data) for k, v in person.items()}
    header = ["Ref", "Name", "Date of birth", "Postcode", "NI number", "Email"]
    row = [changed[k] for k in ("key", "name", "dob", "postcode", "nino", "email")]
    assert not present(scan_rows(index, [header, row]))
    # and the unchanged row is found, so the test can tell
    original = [person[k] for k in ("key", "name", "dob", "postcode", "nino", "email")]
    assert set(present(scan_rows(index, [header, original]))) == {0}


def test_a_list_of_names_is_not_read_as_surname_first() -> None:
    report = scan_text(make_index(), "Present: Ann Jones, Peter Brown (born 02/01/1990).")
    assert set(present(report)) == {2}


def test_a_scan_with_nothing_registered_opens_no_database(tmp_path: Path) -> None:
    """The plain scan path stays as it was: no SQLAlchemy import, no engine."""
    data = tmp_path / "staff.csv"
    data.write_text("Name,NI number\nAnn Jones,AB 12 34 56 C\n")
    code = (
        "import sys\n"
        "from shareguard.config import Settings\n"
        "from shareguard.pipeline import make_scanner, scan_file\n"
        f"s = Settings(home={str(tmp_path / 'home')!r})\n"
        f"r = scan_file({str(data)!r}, s, make_scanner(s))\n"
        "assert r.entities and r.registered == (), r\n"
        "assert 'sqlalchemy' not in sys.modules\n"
        "assert not (s.home / 'shareguard.db').exists()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


_KEY_SETS = st.sampled_from(
    [["EMP00101", "EMP00417"], ["1234567", "7654321"], ["AB-12/3.4_5", "CD-99/1.0_0"], ["T0001"]]
)
# cells near keys: key characters, lower case, white space, and characters
# that upper-case to ASCII or grow ("ß" -> "SS", "ﬀ" -> "FF", "ı" -> "I")
_CELL = st.text(
    alphabet=st.sampled_from(list("EMPABCDT0123456789-/._ empabcdt\t\u00a0ßﬀıſ,:é")), max_size=14
)


@given(keys=_KEY_SETS, cells=st.lists(_CELL, max_size=30))
def test_key_prefilter_passes_every_cell_that_folds_into_a_key(
    keys: list[str], cells: list[str]
) -> None:
    pattern = key_pattern(pl.Series(keys))
    assert pattern is not None
    frame = pl.DataFrame({"v": [*cells, *keys]}, schema={"v": pl.String})
    got = frame.select(
        passes=key_candidates(pl.col("v"), [pattern]),
        key=pl.col("v").str.contains("[0-9]") & fold_key(pl.col("v")).str.contains(f"^{pattern}$"),
    )
    assert not (got["key"] & ~got["passes"]).any(), frame.filter(got["key"] & ~got["passes"])
    assert got["passes"].tail(len(keys)).all()


@given(keys=_KEY_SETS, cells=st.lists(_CELL, max_size=30))
def test_key_cells_are_the_cells_that_fold_into_a_key(keys: list[str], cells: list[str]) -> None:
    """A whole column of short cells is passed over without a look at each."""
    pattern = key_pattern(pl.Series(keys))
    assert pattern is not None
    ds = DatasetIndex(
        "t", 1, np.zeros(0, np.uint64), np.zeros(0, np.uint32), frozenset(), pattern, dict
    )
    index = EdmIndex(MatchHasher(bytes(16)), (ds,))
    column = pl.Series("v", cells, dtype=pl.String)
    folded = fold_key(column)
    want = [
        i
        for i, v in enumerate(folded.to_list())
        if re.fullmatch(pattern, v) and re.search("[0-9]", v)
    ]
    got = edm._key_cells(index, [column])
    assert [r for rows, _ in got for r in rows.tolist()] == want
    assert [v for _, values in got for v in values.to_list()] == [folded[i] for i in want]


def test_key_prefilter_drops_cells_that_cannot_be_keys() -> None:
    pattern = key_pattern(pl.Series(["EMP00101", "EMP00417"]))
    assert pattern is not None
    cells = pl.DataFrame({"v": ["Band 3", "45000.00", "Finance", "emp 00101", "EMP0010"]})
    got = cells.select(key_candidates(pl.col("v"), [pattern])).to_series().to_list()
    assert got == [False, False, False, True, False]


_NAMES = st.sampled_from(
    [
        "Ann Jones",
        "JONES, Ann",
        "Dr Ann Jones",
        "José García-Ruiz",
        "GARCÍA-RUIZ, José",
        "Peter Brown",
        "Peter",
        "Mary Smith",
        "O'Neil, Sean",
        "ann  jones",
    ]
)
_VALUES = {
    E.PERSON.value: _NAMES,
    E.DATE_OF_BIRTH.value: st.sampled_from(["1980-03-14", "1975-07-14", "1990-01-02"]),
    E.UK_POSTCODE.value: st.sampled_from(["LS14AB", "YO105PN", "BD38DQ", "HG28BG"]),
}


@st.composite
def _name_sources(draw: st.DrawFn) -> list[tuple[str, np.ndarray, edm.Values]]:
    """A table's columns (Series) and a text's values (lists), mixed."""
    out: list[tuple[str, np.ndarray, edm.Values]] = []
    for _ in range(draw(st.integers(1, 4))):
        entity = draw(st.sampled_from(sorted(_VALUES)))
        values = draw(st.lists(_VALUES[entity], min_size=1, max_size=12))
        groups = draw(st.lists(st.integers(0, 6), min_size=len(values), max_size=len(values)))
        column = pl.Series(values, dtype=pl.String) if draw(st.booleans()) else values
        out.append((entity, np.asarray(groups, dtype=np.int64), column))
    return out


def _keys_of(keys: edm._Keys) -> list[tuple[int, int, str]]:
    got = [
        (int(g), int(c), v)
        for groups, codes, (_, values) in zip(keys.groups, keys.codes, keys.values, strict=True)
        for g, c, v in zip(groups, codes, edm._as_list(values), strict=True)
    ]
    return sorted(got)


@settings(max_examples=80, deadline=None)
@given(sources=_name_sources(), decided=st.sets(st.integers(0, 6)))
def test_names_are_paired_alike_one_by_one_and_in_polars(
    sources: list[tuple[str, np.ndarray, pl.Series]], decided: set[int]
) -> None:
    """The second round's keys (names of the undecided groups, paired with
    their dates and postcodes) are the same from both ways of making them."""
    index = make_index()
    done = np.asarray(sorted(decided), dtype=np.int64)
    few = edm._name_keys_few(index, sources, done)
    many = edm._name_keys(index, sources, done)
    assert _keys_of(few) == _keys_of(many)


_TOKEN_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._\-]*[A-Za-z0-9]")


@given(st.text(alphabet=st.sampled_from(list("aZ09/._- ,;:\n(é٣")), max_size=60))
def test_digit_tokens_are_the_tokens_with_a_digit(text: str) -> None:
    """Whole runs with a digit, marks stripped, are the tokens a plain token
    pattern finds that have an ASCII digit."""
    want = [
        (m.start(), m.end(), m.group())
        for m in _TOKEN_REFERENCE.finditer(text)
        if re.search("[0-9]", m.group())
    ]
    assert list(digit_tokens(text)) == want


def test_the_name_caches_stay_bounded_and_answer_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edm, "_CACHED_MAX", 5)
    cache: dict[str, int] = {}
    calls: list[list[str]] = []

    def compute(new: list[str]) -> list[int]:
        calls.append(new)
        return [len(k) for k in new]

    assert edm._cached(cache, ["a", "bb", "a"], compute) == {"a": 1, "bb": 2}
    assert edm._cached(cache, ["bb", "ccc"], compute) == {"bb": 2, "ccc": 3}
    assert calls == [["a", "bb"], ["ccc"]]  # each key computed once while kept
    got = edm._cached(cache, [f"k{i}" for i in range(4)], compute)
    assert got == {f"k{i}": 2 for i in range(4)}
    assert len(cache) <= 5


_U64S = st.integers(0, 2**64 - 1) | st.sampled_from([0, 1, 2**63, 2**64 - 1])


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(_U64S, max_size=300),
    queries=st.lists(_U64S, min_size=1, max_size=40),
    repeats=st.integers(1, 3),
    common=st.tuples(_U64S, st.integers(0, 200)),
)
def test_the_bucket_directory_finds_what_a_binary_search_finds(
    keys: list[int], queries: list[int], repeats: int, common: tuple[int, int]
) -> None:
    """Keys repeated (a name many share), at both ends of the range, none,
    few and many of them, and one key so common that its bucket holds more
    than the branch-free search covers."""
    key, times = common
    k = np.sort(np.asarray(keys * repeats + [key] * times, dtype=np.uint64))
    ds = DatasetIndex("t", 1, k, np.zeros(len(k), np.uint32), frozenset(), None, dict)
    near = [q for q in (key - 1, key, key + 1) if 0 <= q < 2**64]
    wanted = np.asarray(queries + near, dtype=np.uint64)
    first = np.searchsorted(k, wanted, "left")
    assert np.array_equal(ds.bucket_search(wanted), first)
    assert np.array_equal(ds.first_at_least(wanted), first)
    there = np.where(k[np.minimum(first, len(k) - 1)] == wanted, first, -1) if k.size else -1
    runs = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]])) if k.size else []
    starts = np.asarray([p for r in runs for p in (r, r + (k == k[r]).sum() - 1)], np.int64)
    for kernel in WAYS.values():
        with matching_by(kernel):
            assert np.array_equal(ds.find(wanted), np.broadcast_to(there, wanted.shape))
            # from the first and the last key of each run: where it ends
            assert np.array_equal(ds.run_ends(starts), np.searchsorted(k, k[starts], "right"))


def test_the_kernel_is_built_and_used() -> None:
    """`make install` compiles the kernel; a scan uses it unless told not to.
    Without it matching still works, several times slower: the tests would
    not notice, so this one does."""
    assert edm.KERNEL is COMPILED or os.environ.get("SHAREGUARD_EDM_KERNEL") == "numpy"
    script = "import shareguard.detect.edm as e; print(e.KERNEL is None)"
    env = dict(os.environ, SHAREGUARD_EDM_KERNEL="numpy")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "True"


def test_the_kernel_refuses_what_would_read_outside_its_buffers() -> None:
    u64 = np.zeros(2, dtype=np.uint64)
    with pytest.raises(ValueError, match="outside data"):
        COMPILED.siphash24(0, 0, b"", b"abc", np.array([0, 2, 4], dtype=np.int64), u64)
    with pytest.raises(ValueError, match="not in order"):
        COMPILED.siphash24(0, 0, b"", b"abc", np.array([0, 2, 1], dtype=np.int64), u64)
    with pytest.raises(ValueError, match="one more item"):
        COMPILED.siphash24(0, 0, b"", b"abc", np.array([0, 3], dtype=np.int64), u64)
    with pytest.raises(ValueError, match="items of 8 bytes"):
        COMPILED.siphash24(0, 0, b"", b"abc", np.array([0, 1, 3], dtype=np.int32), u64)
    with pytest.raises(BufferError):  # read-only output
        COMPILED.siphash24(0, 0, b"", b"abc", np.array([0, 1, 3], dtype=np.int64), b"x" * 16)
    keys = np.array([1, 2, 3], dtype=np.uint64)
    out = np.zeros(1, dtype=np.int64)
    query = np.array([2**63], dtype=np.uint64)  # the second of two buckets
    with pytest.raises(ValueError, match="not a directory"):
        COMPILED.find(keys, np.array([0, 1, 9], dtype=np.int32), 63, query, out)
    with pytest.raises(ValueError, match="not a directory"):
        COMPILED.find(keys, np.array([0, 2, 1], dtype=np.int64), 63, query, out)
    with pytest.raises(ValueError, match="one per value"):
        COMPILED.find(keys, np.array([0, 3], dtype=np.int32), 63, query, out)
    with pytest.raises(ValueError, match="shift"):
        COMPILED.find(keys, np.array([0, 3], dtype=np.int32), 64, query, out)
    COMPILED.find(keys, np.array([0, 3, 3], dtype=np.int32), 63, np.array([2], np.uint64), out)
    assert out.tolist() == [1]
    with pytest.raises(ValueError, match="not a position"):
        COMPILED.run_ends(keys, np.array([3], dtype=np.int64), out)
    with pytest.raises(ValueError, match="not a position"):
        COMPILED.run_ends(keys, np.array([-1], dtype=np.int64), out)
    with pytest.raises(ValueError, match="as many items"):
        COMPILED.run_ends(keys, np.array([0, 1], dtype=np.int64), out)


@settings(max_examples=40, deadline=None)
@given(
    names=st.lists(st.sampled_from(["ann jones", "bo li", "émile zola", "x"]), max_size=600),
    key=st.binary(min_size=16, max_size=16),
)
def test_match_keys_are_the_same_either_way(names: list[str], key: bytes) -> None:
    """Whole columns (repeated values hashed once) as a scan hashes them."""
    hasher = MatchHasher(key)
    got = []
    for kernel in WAYS.values():
        with matching_by(kernel):
            got.append(edm._keys_once(hasher, Field.PERSON, pl.Series(names, dtype=pl.String)))
    assert np.array_equal(got[0], got[1])


_PROSE_BITS = [
    "Smith",
    "SMITH",
    "O'Brien",
    "O’Neil",
    "Smith-Jones",
    "Anne--Marie",
    "Zoë",
    "jones",
    "x2",
    "_",
    "9",
    ",",
    ", ",
    ",\t",
    " ",
    "  ",
    "-",
    "'",
    "Jane",
    "Jane Ann",
    "\n",
    "12/03/1980",
    "1980-03-12",
    "3 Mar 1980",
    "03-Sept-1980",
    "a12/03/1980",
    "12/03/19801",
    "1/2/3456",
    ".",
    "٣",
]


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from(_PROSE_BITS), max_size=24))
def test_prose_forms_are_found_as_their_patterns_find_them(parts: list[str]) -> None:
    """The surname-first forms found from their commas, and the dates from
    their digits, are exactly the matches of the patterns tried everywhere:
    the same spans and groups, overlaps and word boundaries included."""
    text = "".join(parts)

    def seen(
        matches: Iterable[re.Match[str]],
    ) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
        return [(m.span(), m.groups()) for m in matches]

    assert seen(edm._surname_first(text)) == seen(edm._SURNAME_FIRST.finditer(text))
    assert seen(edm._dates(text)) == seen(edm._DATE.finditer(text))
