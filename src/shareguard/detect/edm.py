"""Exact data match: which registered people (HR master, patient list ...) a
part holds.

A registered row is indexed as *match keys*: a keyed 64-bit hash of each
unique identifier (the row's key, NINO, NHS number, e-mail, phone, bank
account), of the name alone, and of the name paired with the date of birth
and with the postcode.  A scan normalises its candidate values the same way
and looks their hashes up in sorted numpy arrays; a person is

* **present** when a unique identifier of theirs matches, or their name
  together with their date of birth or postcode (one table row, or a short
  window of prose) — a pair is one lookup, so nothing is joined in memory,
  and it decides only if no other registered person has the same pair;
* **possible** when only their name matches (names that more than
  :data:`MAX_NAMESAKES` registered people share point at nobody).

Match keys are keyed SipHash-2-4 (index format 2; the 128-bit key derived
from the root secret, purpose ``PURPOSE_DATASET_MATCH_V2``), 64 bits, with
the field code in the low 4 bits.  SipHash is a PRF made for short inputs,
so without the secret nobody can test a guessed value against the index.
It is computed over whole columns at once by a small compiled kernel
(``_edmkernel.c``, which also searches the index): about 0.05 µs a value,
bytes from polars included, against 0.2–0.3 µs for its numpy twin (used
when the kernel is missing) and 0.7–0.9 µs for ``hashlib``'s keyed BLAKE2b
called once per value (format 1).  Datasets registered in format 1 (keyed
BLAKE2b-64, purpose ``PURPOSE_DATASET_MATCH``; their values are not kept,
so they cannot be re-hashed) still load and match, hashed the old way,
until refreshed.  What users see and what the audit stores are the
subject refs (``hk1:`` HMAC-SHA256, 128 bits), never match keys.

False matches: a key has 60 free bits.  A value that is not registered
matches one of the ``n`` registered keys of its field by chance with
probability ``n / 2**60``: at 10 M rows, 8.7e-12 per looked-up value, so a
scan of 10 M identifier cells against a 10 M-row dataset expects 9e-5 false
"present" results.  A false *pair* needs the same luck.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import string
import struct
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property, lru_cache
from itertools import accumulate, repeat
from types import ModuleType
from typing import ClassVar, TypeAlias, TypeVar, overload

import numpy as np
import polars as pl
import structlog

from shareguard.detect.names import TITLES
from shareguard.detect.types import Candidate
from shareguard.keys import derive_key
from shareguard.model import EntityType as E
from shareguard.model import Registered, sorted_distinct

PURPOSE_DATASET_MATCH = b"shareguard/dataset-match/v1"  # index format 1 (keyed BLAKE2b)
PURPOSE_DATASET_MATCH_V2 = b"shareguard/dataset-match/v2"  # index format 2 (SipHash-2-4)
# The match-key format new datasets are registered in (kept in each version's spec).
INDEX_FORMAT = 2


class Field(IntEnum):
    """Match-key field codes (stored in the low 4 bits of each key: never renumber)."""

    KEY = 1
    UK_NINO = 2
    UK_NHS = 3
    EMAIL_ADDRESS = 4
    PHONE_NUMBER = 5
    UK_BANK_ACCOUNT = 6
    PERSON = 7
    PERSON_DOB = 8
    PERSON_POSTCODE = 9


# Field types a dataset column can have (``--columns COL=TYPE``).  Dates of
# birth and postcodes are indexed only paired with the name.
COLUMN_TYPES = (
    "KEY",
    E.PERSON.value,
    "GIVEN_NAME",
    "FAMILY_NAME",
    E.DATE_OF_BIRTH.value,
    E.UK_POSTCODE.value,
    E.UK_NINO.value,
    E.UK_NHS.value,
    E.EMAIL_ADDRESS.value,
    E.PHONE_NUMBER.value,
    E.UK_BANK_ACCOUNT.value,
)
UNIQUE_FIELDS = frozenset(
    {
        Field.KEY,
        Field.UK_NINO,
        Field.UK_NHS,
        Field.EMAIL_ADDRESS,
        Field.PHONE_NUMBER,
        Field.UK_BANK_ACCOUNT,
    }
)
PAIR_FIELDS = frozenset({Field.PERSON_DOB, Field.PERSON_POSTCODE})
# What a matched key says about the person, as entity types (explanations).
FIELD_TYPES: dict[Field, tuple[str, ...]] = {
    Field.KEY: ("KEY",),
    Field.UK_NINO: (E.UK_NINO.value,),
    Field.UK_NHS: (E.UK_NHS.value,),
    Field.EMAIL_ADDRESS: (E.EMAIL_ADDRESS.value,),
    Field.PHONE_NUMBER: (E.PHONE_NUMBER.value,),
    Field.UK_BANK_ACCOUNT: (E.UK_BANK_ACCOUNT.value,),
    Field.PERSON: (E.PERSON.value,),
    Field.PERSON_DOB: (E.PERSON.value, E.DATE_OF_BIRTH.value),
    Field.PERSON_POSTCODE: (E.PERSON.value, E.UK_POSTCODE.value),
}
_ENTITY_FIELD: dict[str, Field] = {
    E.UK_NINO.value: Field.UK_NINO,
    E.UK_NHS.value: Field.UK_NHS,
    E.EMAIL_ADDRESS.value: Field.EMAIL_ADDRESS,
    E.PHONE_NUMBER.value: Field.PHONE_NUMBER,
    E.UK_BANK_ACCOUNT.value: Field.UK_BANK_ACCOUNT,
}
_PAIRED: dict[str, Field] = {
    E.DATE_OF_BIRTH.value: Field.PERSON_DOB,
    E.UK_POSTCODE.value: Field.PERSON_POSTCODE,
}
# A name and the date of birth or postcode beside it, hashed as one value
# (when registered and when matched alike).
PAIR_SEP = "\x1e"
_LOW4 = np.uint64(0xF)
_EMPTY_U64 = np.zeros(0, dtype=np.uint64)
_EMPTY_I64 = np.zeros(0, dtype=np.int64)

log = structlog.get_logger(__name__)


def _load_kernel() -> ModuleType | None:
    """The compiled inner loops (``_edmkernel.c``, built at install by
    ``hatch_build.py``): SipHash and the bucket search, several times
    quicker than their numpy twins below, which run without it.
    ``SHAREGUARD_EDM_KERNEL=numpy`` chooses the twins (to compare)."""
    if os.environ.get("SHAREGUARD_EDM_KERNEL", "").strip().lower() == "numpy":
        return None
    try:
        return importlib.import_module("shareguard.detect._edmkernel")
    except ImportError as exc:
        log.warning("edm_kernel_missing", error=type(exc).__name__, fallback="numpy")
        return None


KERNEL = _load_kernel()


# --------------------------------------------------------------------------- normalising

_TITLE_RE = "|".join(sorted(TITLES))


def fold_names(names: pl.Series) -> pl.Series:
    """The name as matched: accents and case folded, "SURNAME, Given" turned
    round, titles and punctuation dropped, then first and last word only
    (middle names come and go between systems).  Null for one word.

    A few names (a text's) are looked up in a cache of names folded before,
    the same people being named in one document after another; a table
    column is folded whole."""
    if len(names) > _FOLD_ONE_BY_ONE:
        return _per_distinct(names, _fold_names).rename("n")
    values = names.to_list()
    folded = _cached(_FOLDED, values, _fold_few)
    return pl.Series("n", [folded[v] for v in values], dtype=pl.String)


def _fold_few(names: list[str | None]) -> list[str | None]:
    """:func:`_fold_names` of a few names: plain ones in plain Python (a
    polars call costs more than folding a text's names), the rest in one
    call of the general way."""
    out: list[str | None] = []
    rest: list[int] = []
    for i, name in enumerate(names):
        if name is not None and _PLAIN_NAME_RE.fullmatch(name):
            words = name.lower().split(" ")
            last = len(words) - 1
            first = next(j for j, w in enumerate(words) if w not in TITLES or j == last)
            out.append(None if words[first] == words[last] else f"{words[first]} {words[last]}")
        else:
            out.append(None)
            rest.append(i)
    if rest:
        general = _fold_any(pl.Series([names[i] for i in rest], dtype=pl.String)).to_list()
        for i, folded in zip(rest, general, strict=True):
            out[i] = folded
    return out


_K = TypeVar("_K")
_V = TypeVar("_V")


def _cached(
    cache: dict[_K, _V], keys: Sequence[_K], compute: Callable[[list[_K]], list[_V]]
) -> dict[_K, _V]:
    """``compute`` of each distinct key, through ``cache`` (bounded: emptied
    when full).  The answer is built apart from the cache, so that another
    thread emptying it meanwhile loses nothing."""
    out: dict[_K, _V] = {}
    new: list[_K] = []
    for k in dict.fromkeys(keys):
        try:
            out[k] = cache[k]
        except KeyError:
            new.append(k)
    if new:
        got = dict(zip(new, compute(new), strict=True))
        if len(cache) + len(got) > _CACHED_MAX:
            cache.clear()
        cache.update(got)
        out.update(got)
    return out


_FOLD_ONE_BY_ONE = 256
_CACHED_MAX = 100_000
_FOLDED: dict[str | None, str | None] = {}


def _fold_names(names: pl.Series) -> pl.Series:
    """:func:`fold_names` of every name.  Plain names (ASCII letters, words
    one space apart: a table's names as its column rule leaves them) take a
    way of three string passes; the rest the general one, of ten."""
    plain = names.str.contains(_PLAIN_NAME).fill_null(False)
    n_plain = int(plain.sum())
    if n_plain == len(names):
        return _fold_plain(names)
    if not n_plain:
        return _fold_any(names)
    out = pl.repeat(None, len(names), dtype=pl.String, eager=True).rename("n")
    at = plain.arg_true()
    out.scatter(at, _fold_plain(names.gather(at)))
    rest = (~plain).arg_true()
    out.scatter(rest, _fold_any(names.gather(rest)))
    return out


_PLAIN_NAME = r"^[A-Za-z]+(?: [A-Za-z]+)+$"
_PLAIN_NAME_RE = re.compile(_PLAIN_NAME)


def _fold_plain(names: pl.Series) -> pl.Series:
    """:func:`_fold_any` of names that match ``_PLAIN_NAME``."""
    low = names.str.to_lowercase()
    first = low.str.extract(rf"^(?:(?:{_TITLE_RE}) )*([a-z]+)", 1)
    last = low.str.extract(r" ([a-z]+)$", 1)
    return pl.select(pl.when(first != last).then(first + " " + last)).to_series().rename("n")


def _fold_any(names: pl.Series) -> pl.Series:
    low = names.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase()
    turned = low.str.replace(r"^\s*([^,]*?)\s*,\s*(.+)$", "${2} ${1}")
    words = turned.str.replace_all(r"['’]", "").str.replace_all(r"[^\p{L}]+", " ")
    words = words.str.strip_chars(" ").str.replace(rf"^(?:(?:{_TITLE_RE}) )+", "")
    first = words.str.extract(r"^(\S+)", 1)
    last = words.str.extract(r"(\S+)$", 1)
    return pl.select(pl.when(first != last).then(first + " " + last)).to_series().rename("n")


def fold_name(name: str) -> str | None:
    return fold_names(pl.Series([name], dtype=pl.String))[0]  # type: ignore[no-any-return]


@overload
def fold_key(values: pl.Series) -> pl.Series: ...
@overload
def fold_key(values: pl.Expr) -> pl.Expr: ...
def fold_key(values: pl.Series | pl.Expr) -> pl.Series | pl.Expr:
    """A key column's value: upper-case, no spaces."""
    return values.str.replace_all(r"\s+", "").str.to_uppercase()


# --------------------------------------------------------------------------- hashing


# What a part offers to hash: a table's column, or a text's few values as
# Python strings (a polars call costs more than hashing them).
Values: TypeAlias = pl.Series | list[str]


def _values(values: pl.Series | Iterable[str]) -> pl.Series:
    s = values if isinstance(values, pl.Series) else pl.Series("v", list(values), pl.String)
    if s.null_count():
        raise ValueError("match keys of missing values")
    return s.cast(pl.String)


def _as_list(values: Values) -> list[str]:
    return values if isinstance(values, list) else values.to_list()


@dataclass(frozen=True, slots=True)
class MatchHasher:
    """Keyed SipHash-2-4 match keys (index format 2), the field code in the
    low 4 bits.  ``key`` is 16 bytes."""

    key: bytes
    index_format: ClassVar[int] = 2

    @classmethod
    def from_root(cls, root: bytes) -> MatchHasher:
        return cls(derive_key(root, PURPOSE_DATASET_MATCH_V2, 16))

    def keys(self, code: Field, values: pl.Series | Iterable[str]) -> np.ndarray:
        """The match keys of ``values`` (not null) as ``code``, in order."""
        s = values if isinstance(values, list) else _values(values)
        if not len(s):
            return _EMPTY_U64
        k0, k1 = struct.unpack("<QQ", self.key)
        raw = siphash24(k0, k1, s, prefix=f"{int(code)}\x1f")
        return (raw & ~_LOW4) | np.uint64(int(code))


@dataclass(frozen=True, slots=True)
class Blake2MatchHasher:
    """Keyed BLAKE2b-64 match keys (index format 1: datasets registered
    before format 2), one ``hashlib`` call a value."""

    key: bytes
    index_format: ClassVar[int] = 1

    @classmethod
    def from_root(cls, root: bytes) -> Blake2MatchHasher:
        return cls(derive_key(root, PURPOSE_DATASET_MATCH))

    def keys(self, code: Field, values: pl.Series | Iterable[str]) -> np.ndarray:
        data: list[bytes] = (f"{int(code)}\x1f" + _values(values)).cast(pl.Binary).to_list()
        if not data:
            return _EMPTY_U64
        copy = hashlib.blake2b(key=self.key, digest_size=8).copy
        out: list[bytes] = []
        append = out.append
        for v in data:
            h = copy()
            h.update(v)
            append(h.digest())
        raw = np.frombuffer(b"".join(out), dtype="<u8").astype(np.uint64)
        return (raw & ~_LOW4) | np.uint64(int(code))


KeyHasher: TypeAlias = MatchHasher | Blake2MatchHasher


def match_hasher(root: bytes, index_format: int = INDEX_FORMAT) -> KeyHasher:
    """The hasher of datasets registered in ``index_format``."""
    if index_format == MatchHasher.index_format:
        return MatchHasher.from_root(root)
    if index_format == Blake2MatchHasher.index_format:
        return Blake2MatchHasher.from_root(root)
    raise ValueError(f"unknown match index format {index_format}")


# SipHash-2-4 (Aumasson and Bernstein, 2012) over many short strings at once:
# the strings are grouped by their number of 8-byte words, each group laid
# out as a (words, rows) uint64 matrix, and every SipRound runs as a few
# numpy operations on all rows of a block.
_SIP_INIT = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)
_SIP_ROWS = 16_384  # rows hashed together: state arrays of 128 KB stay in cache
_U64 = np.uint64


def siphash24(k0: int, k1: int, values: Values, prefix: str = "") -> np.ndarray:
    """SipHash-2-4 under the key (``k0``, ``k1``: the key's two little-endian
    halves) of ``prefix`` + each string of ``values`` (UTF-8, not null), as
    uint64: compiled when the kernel is there, else in numpy."""
    if KERNEL is not None and len(values) <= _PACK_IN_PYTHON:
        return _siphash_listed(KERNEL, k0, k1, _as_list(values), prefix.encode())
    if isinstance(values, list):  # many: polars lays them out quicker than Python
        values = pl.Series("v", values, dtype=pl.String)
    if KERNEL is not None:
        return _siphash_compiled(KERNEL, k0, k1, values, prefix.encode())
    return _siphash_numpy(k0, k1, values, prefix)


def _siphash_listed(
    kernel: ModuleType, k0: int, k1: int, values: list[str], head: bytes
) -> np.ndarray:
    """:func:`siphash24` by the kernel of a few values, laid out in Python."""
    encoded = [v.encode() for v in values]  # AttributeError for a missing value
    offsets = np.fromiter(accumulate(map(len, encoded), initial=0), np.int64, len(values) + 1)
    out = np.empty(len(values), dtype=np.uint64)
    kernel.siphash24(k0, k1, head, b"".join(encoded), offsets, out)
    return out


def _siphash_compiled(
    kernel: ModuleType, k0: int, k1: int, values: pl.Series, head: bytes
) -> np.ndarray:
    """:func:`siphash24` by the kernel of a column, over its bytes end to end."""
    if values.null_count():
        raise ValueError("siphash24: null values have no hash")
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values.str.len_bytes().to_numpy(), out=offsets[1:])
    out = np.empty(len(values), dtype=np.uint64)
    kernel.siphash24(k0, k1, head, values.str.join("").cast(pl.Binary).item(), offsets, out)
    return out


# Up to this many values are encoded one by one in Python for the kernel
# (about 0.1 µs each): fewer than polars' fixed cost of the calls that lay
# out a column's bytes (a text's few dozen values, not a table chunk's).
_PACK_IN_PYTHON = 256


def _siphash_numpy(k0: int, k1: int, values: pl.Series, prefix: str) -> np.ndarray:
    """:func:`siphash24` without the kernel."""
    if values.null_count():
        raise ValueError("siphash24: null values have no hash")
    if len(values) <= _SIP_ONE_BY_ONE:
        head = prefix.encode()
        hashed = (_siphash_one(k0, k1, head + v.encode()) for v in values.to_list())
        return np.fromiter(hashed, dtype=np.uint64, count=len(values))
    lengths = values.str.len_bytes().to_numpy().astype(np.int64) + len(prefix.encode())
    last = lengths // 8  # the index of each value's final word (length in its top byte)
    out = np.empty(len(values), dtype=np.uint64)
    classes = np.flatnonzero(np.bincount(last))
    for w in classes.tolist():
        idx = np.flatnonzero(last == w) if len(classes) > 1 else np.arange(len(values))
        part = values if len(classes) == 1 else values.gather(idx)
        width = int(w) + 1
        words = pl.select(  # the bytes, zero-padded to whole words
            (prefix + pl.lit(part) + "\0" * 8)
            .cast(pl.Binary)
            .bin.head(8 * width)
            .bin.reinterpret(dtype=pl.Array(pl.UInt64, width), endianness="little")
        ).to_series()
        m = np.array(words.to_numpy().reshape(len(part), width).T, order="C")  # a copy
        m[width - 1] |= (lengths[idx] & 0xFF).astype(np.uint64) << _U64(56)
        for s in range(0, len(part), _SIP_ROWS):
            out[idx[s : s + _SIP_ROWS]] = _sip_block(k0, k1, m[:, s : s + _SIP_ROWS])
    return out


# Up to this many values are hashed one by one in plain Python (about 10 µs
# each): below it, the vectorised path's fixed cost (some 200 numpy calls per
# length class, 0.25 ms and more) is the larger.  A text part brings a few
# dozen values to match, a table chunk thousands.
_SIP_ONE_BY_ONE = 96
_M64 = (1 << 64) - 1


def _siphash_one(k0: int, k1: int, data: bytes) -> int:
    """SipHash-2-4 of one message, on Python integers."""
    v = (k0 ^ _SIP_INIT[0], k1 ^ _SIP_INIT[1], k0 ^ _SIP_INIT[2], k1 ^ _SIP_INIT[3])
    n = len(data)
    whole = n & ~7
    words = [*struct.unpack_from(f"<{n >> 3}Q", data)]
    words.append(int.from_bytes(data[whole:], "little") | (n & 0xFF) << 56)
    for m in words:
        v = _sip_rounds_one(v[0], v[1], v[2], v[3] ^ m, 2)
        v = (v[0] ^ m, v[1], v[2], v[3])
    v0, v1, v2, v3 = _sip_rounds_one(v[0], v[1], v[2] ^ 0xFF, v[3], 4)
    return v0 ^ v1 ^ v2 ^ v3


def _sip_rounds_one(v0: int, v1: int, v2: int, v3: int, rounds: int) -> tuple[int, int, int, int]:
    m = _M64
    for _ in range(rounds):
        v0 = (v0 + v1) & m
        v1 = (v1 << 13 | v1 >> 51) & m ^ v0
        v0 = (v0 << 32 | v0 >> 32) & m
        v2 = (v2 + v3) & m
        v3 = (v3 << 16 | v3 >> 48) & m ^ v2
        v0 = (v0 + v3) & m
        v3 = (v3 << 21 | v3 >> 43) & m ^ v0
        v2 = (v2 + v1) & m
        v1 = (v1 << 17 | v1 >> 47) & m ^ v2
        v2 = (v2 << 32 | v2 >> 32) & m
    return v0, v1, v2, v3


def _sip_block(k0: int, k1: int, m: np.ndarray) -> np.ndarray:
    n = m.shape[1]
    v0 = np.full(n, k0 ^ _SIP_INIT[0], dtype=np.uint64)
    v1 = np.full(n, k1 ^ _SIP_INIT[1], dtype=np.uint64)
    v2 = np.full(n, k0 ^ _SIP_INIT[2], dtype=np.uint64)
    v3 = np.full(n, k1 ^ _SIP_INIT[3], dtype=np.uint64)
    t = np.empty(n, dtype=np.uint64)
    for word in m:
        v3 ^= word
        _sip_rounds(v0, v1, v2, v3, t, 2)
        v0 ^= word
    v2 ^= _U64(0xFF)
    _sip_rounds(v0, v1, v2, v3, t, 4)
    v0 ^= v1
    v2 ^= v3
    v0 ^= v2
    return v0


def _sip_rounds(
    v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray, t: np.ndarray, rounds: int
) -> None:
    """``rounds`` SipRounds, in place (additions wrap modulo 2**64)."""
    for _ in range(rounds):
        v0 += v1
        _rotl(v1, 13, t)
        v1 ^= v0
        _rotl(v0, 32, t)
        v2 += v3
        _rotl(v3, 16, t)
        v3 ^= v2
        v0 += v3
        _rotl(v3, 21, t)
        v3 ^= v0
        v2 += v1
        _rotl(v1, 17, t)
        v1 ^= v2
        _rotl(v2, 32, t)


def _rotl(x: np.ndarray, bits: int, t: np.ndarray) -> None:
    np.left_shift(x, _U64(bits), out=t)
    x >>= _U64(64 - bits)
    x |= t


# --------------------------------------------------------------------------- the index


# DatasetIndex.first_at_least: the bucket directory between these (a few
# queries, and a thirty-second of the keys or more, binary-search quicker)
_FEW_QUERIES = 512
_DENSE_QUERIES = 32
# DatasetIndex.bucket_search: how many keys of a bucket are searched
# branch-free (a power of two).  A bucket holds 16 to 32 keys on average;
# unless a value repeats, one in 2.5 million buckets or fewer holds more.
_BUCKET_SPAN = 64


@dataclass(frozen=True)
class DatasetIndex:
    """One registered dataset version: match keys sorted, with the row each
    came from.  ``refs`` turns rows into subject refs (read from the store
    only for the rows a scan matched, so they cost no memory here).
    ``hasher``: how its keys were made, when not the :class:`EdmIndex`'s
    (a dataset registered in an older index format)."""

    name: str
    version_id: int
    keys: np.ndarray  # uint64, sorted
    rows: np.ndarray  # uint32, the row of each key
    fields: frozenset[Field]
    key_pattern: str | None  # the shape of the key column's values, for prose
    refs: Callable[[Sequence[int]], dict[int, str]]
    hasher: KeyHasher | None = None
    # Where each bucket of keys (by their top bits) starts, about 16-32 keys
    # a bucket, 1 byte a registered row at 8 fields: a lookup reads the
    # directory and then a few neighbouring keys, not the ~23 far-apart ones
    # of a binary search over millions.
    buckets: np.ndarray = field(init=False, repr=False, compare=False)
    bucket_shift: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bits = max(1, min(30, len(self.keys).bit_length() - 5))
        shift = 64 - bits
        starts = np.arange(1, 1 << bits, dtype=np.uint64) << _U64(shift)
        inner = np.searchsorted(self.keys, starts, "left")
        small = len(self.keys) < 2**31  # 4-byte offsets: 1 byte a row at 8 fields
        buckets = np.concatenate([[0], inner, [len(self.keys)]])
        buckets = buckets.astype(np.int32 if small else np.int64)
        object.__setattr__(self, "buckets", buckets)
        object.__setattr__(self, "bucket_shift", shift)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.rows.nbytes + self.buckets.nbytes)

    def first_at_least(self, queries: np.ndarray) -> np.ndarray:
        """``np.searchsorted(self.keys, queries, "left")``, through the
        bucket directory for a table chunk's queries.  A binary search is
        quicker for a few (the directory's steps cost more) and for as many
        as a thirty-second of the keys (sorted, they walk the keys nearly in
        order)."""
        if not _FEW_QUERIES <= len(queries) <= len(self.keys) // _DENSE_QUERIES:
            return np.searchsorted(self.keys, queries, "left")
        return self.bucket_search(queries)

    def bucket_search(self, queries: np.ndarray) -> np.ndarray:
        """:meth:`first_at_least` through the bucket directory: a branch-free
        search of the first ``_BUCKET_SPAN`` keys of each query's bucket
        (one gather, compare and masked add a step, every query at once).
        A bucket of more keys (a name or postcode many registered people
        share) holds few queries: those are binary-searched."""
        keys = self.keys
        if not keys.size:
            return np.zeros(len(queries), dtype=np.intp)
        at = (queries >> _U64(self.bucket_shift)).astype(np.intp)
        lo = self.buckets.take(at).astype(np.intp)
        hi = self.buckets.take(at + 1).astype(np.intp)
        pos = lo.copy()
        probe = np.empty_like(pos)
        seen = np.empty_like(queries)
        before = np.empty(len(queries), dtype=bool)
        step = _BUCKET_SPAN
        while step > 1:
            step >>= 1
            np.add(pos, step - 1, out=probe)
            # past the last key, the last is read: whatever it says, the
            # answer is the bucket's end, which caps the position below
            keys.take(probe, out=seen, mode="clip")
            np.less(seen, queries, out=before)
            np.add(pos, step, out=pos, where=before)
        # keys beyond a bucket are all greater than its queries, so the
        # search is right wherever the bucket holds fewer than the span
        np.minimum(pos, hi, out=pos)
        wide = np.flatnonzero(hi - lo >= _BUCKET_SPAN)
        if wide.size:
            pos[wide] = np.searchsorted(keys, queries[wide], "left")
        return pos

    def find(self, queries: np.ndarray) -> np.ndarray:
        """The first position of each query's key, -1 where it has none.
        The kernel looks each query up where it stands; the numpy twin sorts
        them first (its gathers then walk the keys nearly in order)."""
        queries = np.ascontiguousarray(queries, dtype=np.uint64)
        if not self.keys.size:
            return np.full(len(queries), -1, dtype=np.int64)
        if KERNEL is not None:
            out = np.empty(len(queries), dtype=np.int64)
            KERNEL.find(self.keys, self.buckets, self.bucket_shift, queries, out)
            return out
        order = np.argsort(queries)
        ordered = queries[order]
        at = self.first_at_least(ordered)
        hit = self.keys[np.minimum(at, len(self.keys) - 1)] == ordered
        out = np.empty(len(queries), dtype=np.int64)
        out[order] = np.where(hit, at, -1)
        return out

    def run_ends(self, starts: np.ndarray) -> np.ndarray:
        """The position after each run of equal keys, from a position in it:
        galloping ahead in the kernel (a run a few share ends within a read
        or two); numpy's binary search of the whole array without."""
        starts = np.ascontiguousarray(starts, dtype=np.int64)
        if KERNEL is not None:
            out = np.empty(len(starts), dtype=np.int64)
            KERNEL.run_ends(self.keys, starts, out)
            return out
        return np.asarray(np.searchsorted(self.keys, self.keys[starts], "right"), dtype=np.int64)

    def lookup(
        self, queries: np.ndarray, limits: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(query position, registered row) for every key found, in query
        order; a query whose key more than ``limits[i]`` rows share finds
        nothing."""
        none = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        if not queries.size or not self.keys.size:
            return none
        pos = self.find(queries)
        qi = np.flatnonzero(pos >= 0)
        if not qi.size:
            return none
        keys, last, lo = self.keys, len(self.keys) - 1, pos[qi]
        # most values find one row: the upper bound only for those whose next
        # key is theirs too (a name, a shared phone)
        counts = np.ones(len(qi), dtype=np.int64)
        more = (keys[np.minimum(lo + 1, last)] == keys[lo]) & (lo < last)
        if more.any():
            counts[more] = self.run_ends(lo[more]) - lo[more]
        if limits is not None:
            keep = counts <= limits[qi]
            if not keep.all():
                lo, counts, qi = lo[keep], counts[keep], qi[keep]
        if (counts == 1).all():
            return qi, self.rows[lo]
        qi = np.repeat(qi, counts)
        first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        return qi, self.rows[first + np.arange(len(qi))]


@dataclass(frozen=True)
class EdmIndex:
    """Every registered dataset's current version.  ``hasher`` makes the
    match keys of the datasets that name no hasher of their own."""

    hasher: KeyHasher
    datasets: tuple[DatasetIndex, ...]
    signature: tuple[tuple[int, int], ...] = ()  # (dataset id, version id), to notice changes
    # whether some dataset holds a (folded) name, for the names of texts:
    # the same people are named in one document after another
    held_names: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @property
    def nbytes(self) -> int:
        return sum(d.nbytes for d in self.datasets)

    def hasher_of(self, dataset: DatasetIndex) -> KeyHasher:
        return dataset.hasher or self.hasher

    @cached_property
    def key_patterns(self) -> tuple[str, ...]:
        """The key shape of every dataset that has one (see :func:`key_pattern`)."""
        return tuple(d.key_pattern for d in self.datasets if d.key_pattern)

    @cached_property
    def key_shape(self) -> str | None:
        """One regex for the key values of every dataset (folded as :func:`fold_key`)."""
        shapes = [f"(?:{p})" for p in self.key_patterns]
        return f"^(?:{'|'.join(shapes)})$" if shapes else None

    @cached_property
    def key_shape_re(self) -> re.Pattern[str] | None:
        """:attr:`key_shape` for Python's ``re`` (the shapes use only
        character classes and counts, which both engines read alike)."""
        return re.compile(self.key_shape) if self.key_shape is not None else None

    @cached_property
    def key_cells(self) -> pl.Expr:
        """A cheap test that every raw cell (column ``v``) that folds into a
        :attr:`key_shape` value passes, so that only those are folded."""
        return key_candidates(pl.col("v"), self.key_patterns)

    @cached_property
    def key_bytes(self) -> int:
        """The fewest bytes of a cell that :attr:`key_cells` may pass."""
        return shortest_key(self.key_patterns)

    @cached_property
    def wanted(self) -> frozenset[str]:
        """The entity types some dataset matches (alone or paired with the name)."""
        return frozenset(e for e in (*_ENTITY_FIELD, *_PAIRED, E.PERSON.value) if self.wants(e))

    def wants(self, entity: str) -> bool:
        f = _ENTITY_FIELD.get(entity)
        if f is not None:
            return any(f in d.fields for d in self.datasets)
        if entity in _PAIRED:
            return any(_PAIRED[entity] in d.fields for d in self.datasets)
        return entity == E.PERSON.value and any(Field.PERSON in d.fields for d in self.datasets)


@dataclass
class EdmSource:
    """The index a scanner matches against, reloaded when a dataset is
    registered, refreshed or dropped.  ``signature`` is a cheap query (one
    row per dataset) run at most every ``check_every`` seconds; ``load``
    runs only when it changed and names some dataset, so a store without
    datasets costs a scan one small query."""

    load: Callable[[], EdmIndex]
    signature: Callable[[], tuple[tuple[int, int], ...]]
    # what a forked child must do before it reads the store through the
    # parent's connections (drop them from its own pool)
    forked: Callable[[], None] | None = None
    check_every: float = 2.0
    _index: EdmIndex | None = None
    _checked: float = 0.0

    def current(self) -> EdmIndex:
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.check_every:
            return self._index
        self._checked = now
        sig = self.signature()
        if self._index is None or sig != self._index.signature:
            self._index = self.load() if sig else EdmIndex(MatchHasher(bytes(16)), (), ())
        return self._index


# --------------------------------------------------------------------------- matching


def explain(fields: Iterable[str]) -> str:
    """ "name + date of birth": matched field types in words, never values."""
    return " + ".join(_PLAIN.get(f, f.lower()) for f in fields)


_PLAIN = {
    "KEY": "record key",
    E.PERSON.value: "name",
    E.DATE_OF_BIRTH.value: "date of birth",
    E.UK_POSTCODE.value: "postcode",
    E.UK_NINO.value: "NI number",
    E.UK_NHS.value: "NHS number",
    E.EMAIL_ADDRESS.value: "e-mail",
    E.PHONE_NUMBER.value: "phone",
    E.UK_BANK_ACCOUNT.value: "bank account",
}


@dataclass
class Probe:
    """Values to look up: ``groups`` says which table row or prose window
    each came from, ``codes`` as which field; ``values`` holds the values
    themselves, per field code in the order of ``groups``, hashed by
    :meth:`keys` once per hasher the datasets use.  ``categories(groups)``
    gives the entity types found in each of those groups (bit ``i`` for
    ``ENTITY_ORDER[i]``)."""

    groups: np.ndarray  # int64
    codes: np.ndarray  # int64 Field values
    values: tuple[tuple[Field, Values], ...]
    categories: Callable[[np.ndarray], np.ndarray]
    _hashed: dict[KeyHasher, np.ndarray] = field(default_factory=dict, repr=False)

    def keys(self, hasher: KeyHasher) -> np.ndarray:
        got = self._hashed.get(hasher)
        if got is None:
            parts = [_keys_once(hasher, code, v) for code, v in self.values]
            got = np.concatenate(parts) if parts else _EMPTY_U64
            self._hashed[hasher] = got
        return got


def _keys_once(hasher: KeyHasher, code: Field, values: Values) -> np.ndarray:
    """``hasher.keys``, hashing a value that repeats (a name, the people of a
    payments table) once."""
    if isinstance(values, list):  # a text's: few, and hashed quicker than sought out
        return hasher.keys(code, values)
    hashed = _per_distinct(values, lambda v: pl.Series("h", hasher.keys(code, v), dtype=pl.UInt64))
    return hashed.to_numpy()


def _per_distinct(values: pl.Series, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """``fn(values)``, computed once per distinct value when the first values
    show that many repeat (names, the same people in a payments table)."""
    if len(values) >= 4 * _SAMPLE and values.head(_SAMPLE).n_unique() * 2 < _SAMPLE:
        distinct = values.unique()
        table = pl.DataFrame({"v": distinct, "out": fn(distinct)})
        frame = pl.DataFrame({"v": values}).join(table, on="v", how="left", maintain_order="left")
        return frame["out"]
    return fn(values)


_SAMPLE = 2048

ENTITY_ORDER: tuple[str, ...] = tuple(str(t) for t in E)
_ENTITY_BIT = {t: 1 << i for i, t in enumerate(ENTITY_ORDER)}
# A name alone shared by more registered people than this points at none of
# them: it is not reported as a possible match of each (and is not expanded).
MAX_NAMESAKES = 5
_NO_LIMIT = np.iinfo(np.int64).max
_DECISIVE = UNIQUE_FIELDS | PAIR_FIELDS
_IS_DECISIVE = np.zeros(16, dtype=bool)
_IS_DECISIVE[[int(f) for f in _DECISIVE]] = True
_LIMIT = np.full(16, _NO_LIMIT, dtype=np.int64)
_LIMIT[int(Field.PERSON)] = MAX_NAMESAKES
# a name with a birth date or postcode that several registered people share
# singles out none of them: only a unique pair decides
_LIMIT[[int(f) for f in PAIR_FIELDS]] = 1
_PERSON_CODE = int(Field.PERSON)
_PERSON_TYPES = (E.PERSON.value,)

Found = tuple[np.ndarray, np.ndarray, np.ndarray]  # registered rows, field bits, categories


@dataclass
class PartMatches:
    """The registered people of one part, gathered over its tables and text:
    per dataset, the rows present (with the bit sets of the fields matched
    and of the categories found with them, one entry per hit, merged by
    :meth:`results`) and the rows possibly there (name only).  Kept as numpy
    arrays: a table of a million registered people is a million hits."""

    present: dict[int, list[Found]] = field(default_factory=dict)
    possible: dict[int, list[np.ndarray]] = field(default_factory=dict)

    def add(self, index: EdmIndex, probe: Probe) -> np.ndarray:
        """Look the probe up; the groups decided (someone present) in every
        dataset that matches names."""
        none = np.zeros(0, dtype=np.int64)
        if not probe.codes.size:
            return none
        limits = _LIMIT[probe.codes]
        counted = limits if (limits < _NO_LIMIT).any() else None  # identifiers: nothing to count
        n_groups = int(probe.groups.max()) + 1
        decided_all: np.ndarray | None = None  # bool by group
        for d, ds in enumerate(index.datasets):
            qi, rows = ds.lookup(probe.keys(index.hasher_of(ds)), counted)
            decided = np.zeros(n_groups, dtype=bool)
            if qi.size:
                codes = probe.codes[qi]
                groups = probe.groups[qi]
                found = rows.astype(np.int64)
                sure = _IS_DECISIVE[codes]
                decided[groups[sure]] = True
                if sure.any():
                    self._present(d, probe, groups, codes, found, sure)
                maybe = (codes == _PERSON_CODE) & ~decided[groups]
                if maybe.any():
                    self.possible.setdefault(d, []).append(found[maybe])
            if Field.PERSON in ds.fields:
                decided_all = decided if decided_all is None else decided_all & decided
        return none if decided_all is None else np.flatnonzero(decided_all)

    def _present(
        self,
        d: int,
        probe: Probe,
        groups: np.ndarray,
        codes: np.ndarray,
        rows: np.ndarray,
        sure: np.ndarray,
    ) -> None:
        """Every field of a person matched in the groups that decide them:
        the decisive hits, and a name hit in the same group for the same row."""
        g, r, c = groups[sure], rows[sure], codes[sure]
        named = codes == _PERSON_CODE
        if named.any():
            decisive = (g << 32) | r
            same = np.isin((groups[named] << 32) | rows[named], decisive)
            if same.any():
                g = np.concatenate([g, groups[named][same]])
                r = np.concatenate([r, rows[named][same]])
                c = np.concatenate([c, codes[named][same]])
        bits = np.left_shift(np.int64(1), c)
        self.present.setdefault(d, []).append((r, bits, probe.categories(g)))

    def results(self, index: EdmIndex) -> tuple[Registered, ...]:
        """A block per dataset with someone found: the people present (their
        fields and categories merged over every hit) and those possibly there."""
        out: list[Registered] = []
        for d in sorted(set(self.present) | set(self.possible)):
            ds = index.datasets[d]
            rows, fields, cats = _by_row(self.present.get(d, []))
            # one explanation per distinct (fields, categories), not per person
            combos, kinds = np.unique((fields << _CAT_BITS) | cats, return_inverse=True)
            mask = (1 << _CAT_BITS) - 1
            explained = [_explained(c >> _CAT_BITS, c & mask) for c in combos.tolist()]
            row_list = rows.tolist()
            found = ds.refs(row_list) if row_list else {}
            refs: list[str | None] = list(map(found.get, row_list))
            maybe = self.possible.get(d)
            only = _EMPTY_I64
            if maybe:
                only = sorted_distinct(np.concatenate(maybe))
                only = only[~np.isin(only, rows)]
            if only.size:
                kinds = np.concatenate([kinds, np.full(only.size, len(explained))])
                explained.append((_PERSON_TYPES, _PERSON_TYPES))
                refs.extend(repeat(None, only.size))
            is_present = np.arange(rows.size + only.size) < rows.size
            out.append(
                Registered.build(
                    ds.name,
                    ds.version_id,
                    np.concatenate([rows, only]),
                    is_present,
                    kinds,
                    refs,
                    explained,
                )
            )
        return tuple(out)


def _by_row(found: list[Found]) -> Found:
    """The entries merged by registered row (bit sets or-ed), sorted by row."""
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    rows = np.concatenate([f[0] for f in found])
    fields = np.concatenate([f[1] for f in found])
    cats = np.concatenate([f[2] for f in found])
    # one plain sort of (row, fields, categories) packed in 64 bits
    packed = np.sort(
        (rows.astype(np.uint64) << _U64(32))
        | (fields.astype(np.uint64) << _U64(_CAT_BITS))
        | cats.astype(np.uint64)
    )
    rows = (packed >> _U64(32)).astype(np.int64)
    starts = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
    merged = np.bitwise_or.reduceat(packed & _U64(0xFFFFFFFF), starts).astype(np.int64)
    return rows[starts], merged >> _CAT_BITS, merged & ((1 << _CAT_BITS) - 1)


_CAT_BITS = len(ENTITY_ORDER)
# field and category bit sets fit beside the row in 64 bits (rows are uint32)
if max(Field) + 1 + _CAT_BITS > 32:
    raise RuntimeError("match field and category bits no longer fit in 32: widen _by_row")


@lru_cache(maxsize=4096)
def _explained(fields: int, categories: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(matched field types, categories) of bit sets, names in a fixed order."""
    types = {t for f in Field if fields >> int(f) & 1 for t in FIELD_TYPES[f]}
    cats = {t for t, bit in _ENTITY_BIT.items() if categories & bit} | types
    return tuple(sorted(types, key=_type_order)), tuple(sorted(cats - {"KEY"}))


def _type_order(t: str) -> tuple[int, str]:
    order = list(_PLAIN)
    return (order.index(t) if t in order else len(order), t)


# What a part offers to match: (entity type, group of each value, values).
Source = tuple[str, np.ndarray, Values]


def match_table(
    matches: PartMatches,
    index: EdmIndex,
    found: Sequence[tuple[str, pl.Series]],
    extra: Sequence[tuple[int, Candidate]],
    key_cells: Sequence[pl.Series],
) -> None:
    """Match a table chunk's rows into ``matches``.  ``found`` holds each
    classified column's entity type and normalised values (null where none),
    ``extra`` the candidates found in free-text cells, ``key_cells`` the raw
    cells of the columns that may hold a dataset's key."""
    wanted = index.wanted
    sources: list[Source] = []
    for entity, norm in found:
        if entity not in wanted or not len(norm):
            continue
        values = norm.cast(pl.String)
        if not values.null_count():  # a full column (most identifiers): no copy
            sources.append((entity, np.arange(len(values), dtype=np.int64), values))
            continue
        rows = values.is_not_null().arg_true()
        if rows.len():
            sources.append((entity, rows.cast(pl.Int64).to_numpy(), values.gather(rows)))
    if extra:
        sources.extend(
            _sources([r for r, _ in extra], [c.type for _, c in extra], [c.key for _, c in extra])
        )
    width = max((len(norm) for _, norm in found), default=0)
    width = max(width, max((r + 1 for r, _ in extra), default=0))
    width = max(width, max((len(c) for c in key_cells), default=0))
    bits = np.zeros(width, dtype=np.int64)
    for entity, norm in found:
        if entity in _ENTITY_BIT:
            bits[: len(norm)] |= norm.is_not_null().to_numpy() * _ENTITY_BIT[entity]
    for r, c in extra:
        bits[r] |= _ENTITY_BIT.get(c.type, 0)

    def categories(groups: np.ndarray) -> np.ndarray:
        return np.asarray(bits[groups], dtype=np.int64)

    _match(matches, index, sources, _key_cells(index, key_cells), categories)


def _key_cells(index: EdmIndex, columns: Sequence[pl.Series]) -> list[tuple[np.ndarray, pl.Series]]:
    """(row, folded value) of the cells of ``columns`` shaped like some
    dataset's key."""
    shape = index.key_shape
    if shape is None:
        return []
    out = []
    for cells in columns:
        longest = cells.str.len_bytes().max()
        if longest is None or int(longest) < index.key_bytes:  # type: ignore[arg-type]
            continue  # a column of short cells (grades, amounts): none is a key
        keys = (
            pl.DataFrame({"v": cells})
            .lazy()
            .with_row_index("row")
            .filter(index.key_cells)  # before folding: fewer to fold
            .with_columns(fold_key(pl.col("v")))
            .filter(pl.col("v").str.contains(shape))
            .collect()
        )
        if keys.height:
            out.append((keys["row"].cast(pl.Int64).to_numpy(), keys["v"]))
    return out


def _sources(groups: Sequence[int], entities: Sequence[str], values: Sequence[str]) -> list[Source]:
    """Per entity type, its values (a list) and their groups, from parallel lists."""
    by: dict[str, tuple[list[int], list[str]]] = {}
    for g, e, v in zip(groups, entities, values, strict=True):
        slot = by.setdefault(e, ([], []))
        slot[0].append(g)
        slot[1].append(v)
    return [(e, np.asarray(g, dtype=np.int64), v) for e, (g, v) in by.items()]


def _match(
    matches: PartMatches,
    index: EdmIndex,
    sources: Sequence[Source],
    keys: Sequence[tuple[np.ndarray, Values]],
    categories: Callable[[np.ndarray], np.ndarray],
) -> None:
    """Hash what the index can match and look it up, in two rounds: unique
    identifiers and key-shaped values (``keys``: (groups, folded values))
    first, then names and name pairs of the groups the first round left
    undecided in some dataset, so that a staff table whose NI numbers
    already name everyone costs no name folding and half the hashing."""
    wanted = index.wanted
    sources = [s for s in sources if s[0] in wanted]
    first = _Keys()
    for entity, code in _ENTITY_FIELD.items():
        for e, groups, values in sources:
            if e == entity:
                first.put(code, groups, values)
    for groups, values in keys:
        first.put(Field.KEY, groups, values)
    decided = matches.add(index, first.probe(categories))
    named = sum(len(v) for e, _, v in sources if e == E.PERSON.value)
    if named <= _FEW_NAMES:
        second = _name_keys_few(index, sources, decided)
    else:
        second = _name_keys(index, sources, decided)
    if second.values:
        matches.add(index, second.probe(categories))


# Up to this many names (a text's) are paired in plain Python: polars' fixed
# cost per query is the larger there.  Both ways give the same keys.
_FEW_NAMES = 256


def _name_keys(index: EdmIndex, sources: Sequence[Source], decided: np.ndarray) -> _Keys:
    """The second round: the names of the groups not ``decided``, and each
    paired with the dates of birth and postcodes of its group."""
    second = _Keys()
    people = _long(sources, E.PERSON.value)
    if decided.size:
        people = people.filter(~pl.col("row").is_in(pl.Series(decided).implode()))
    if not people.height:
        return second
    # each distinct name as written is folded once; a name no dataset holds
    # matches nobody, alone or paired (a pair key is registered only beside
    # its name's own): its rows drop out here and its pairs are not hashed
    written = people["v"].unique()
    names = pl.DataFrame({"v": written, "name": fold_names(written)}).drop_nulls()
    names = names.filter(pl.col("name").is_in(_registered_names(index, names["name"]).implode()))
    people = people.join(names, on="v", how="inner", maintain_order="left").select("row", v="name")
    if _several(sources, E.PERSON.value):
        people = people.unique(["row", "v"], maintain_order=True)
    if not people.height:
        return second
    second.put(Field.PERSON, people["row"].to_numpy(), people["v"])
    for entity, code in _PAIRED.items():
        other = _long(sources, entity)
        if not other.height:
            continue
        if _several(sources, entity):
            other = other.unique(["row", "v"])
        pairs = people.join(other, on="row")
        if pairs.height:
            second.put(code, pairs["row"].to_numpy(), pairs["v"] + PAIR_SEP + pairs["v_right"])
    return second


def _name_keys_few(index: EdmIndex, sources: Sequence[Source], decided: np.ndarray) -> _Keys:
    """:func:`_name_keys` of a few names, in plain Python."""
    second = _Keys()
    done = set(decided.tolist())
    named = [(g, v) for g, v in _pairs_of(sources, E.PERSON.value) if g not in done]
    if not named:
        return second
    names = [v for _, v in named]
    folded = _cached(_FOLDED, names, _fold_few)
    people = [(g, f) for g, v in named if (f := folded[v]) is not None]
    if _several(sources, E.PERSON.value):
        people = list(dict.fromkeys(people))
    held = _cached(
        index.held_names,
        [f for _, f in people],
        lambda new: _held(index, new).tolist(),
    )
    known = {f for f, h in held.items() if h}
    people = [(g, f) for g, f in people if f in known]
    if not people:
        return second
    second.put(Field.PERSON, _groups(people), [f for _, f in people])
    for entity, code in _PAIRED.items():
        by_group: dict[int, list[str]] = {}
        other = _pairs_of(sources, entity)
        for g, v in dict.fromkeys(other) if _several(sources, entity) else other:
            by_group.setdefault(g, []).append(v)
        pairs = [(g, f + PAIR_SEP + v) for g, f in people for v in by_group.get(g, ())]
        if pairs:
            second.put(code, _groups(pairs), [v for _, v in pairs])
    return second


def _pairs_of(sources: Sequence[Source], entity: str) -> list[tuple[int, str]]:
    """(group, value) of every value of the entity type, as Python values."""
    return [
        (g, v)
        for e, groups, values in sources
        if e == entity
        for g, v in zip(groups.tolist(), _as_list(values), strict=True)
    ]


def _groups(pairs: Sequence[tuple[int, str]]) -> np.ndarray:
    return np.fromiter((g for g, _ in pairs), dtype=np.int64, count=len(pairs))


def _registered_names(index: EdmIndex, names: pl.Series) -> pl.Series:
    """The distinct (folded) names of ``names`` that some dataset holds."""
    distinct = names.unique()
    return distinct.filter(pl.Series(_held(index, distinct)))


def _held(index: EdmIndex, names: Values) -> np.ndarray:
    """Whether some dataset holds each of ``names`` (folded, not null)."""
    hit = np.zeros(len(names), dtype=bool)
    for ds in index.datasets:
        if Field.PERSON in ds.fields and ds.keys.size:
            hit |= ds.find(index.hasher_of(ds).keys(Field.PERSON, names)) >= 0
    return hit


_LONG = {"row": pl.Int64, "v": pl.String}


def _long(sources: Sequence[Source], entity: str) -> pl.DataFrame:
    """(group, value) of every value of the entity type."""
    frames = [pl.DataFrame({"row": g, "v": v}, schema=_LONG) for e, g, v in sources if e == entity]
    return pl.concat(frames) if frames else pl.DataFrame(schema=_LONG)


def _several(sources: Sequence[Source], entity: str) -> bool:
    """Whether the entity's values come from more than one source (so that
    a group may hold a value twice: one table column holds one a row)."""
    return sum(1 for e, _, _ in sources if e == entity) > 1


@dataclass
class _Keys:
    """Values being gathered for one lookup."""

    groups: list[np.ndarray] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)
    values: list[tuple[Field, Values]] = field(default_factory=list)

    def put(self, code: Field, groups: np.ndarray, values: Values) -> None:
        if len(values):
            self.groups.append(np.asarray(groups, dtype=np.int64))
            self.codes.append(np.full(len(values), int(code), dtype=np.int64))
            self.values.append((code, values))

    def probe(self, categories: Callable[[np.ndarray], np.ndarray]) -> Probe:
        if not self.values:
            empty = np.zeros(0, dtype=np.int64)
            return Probe(empty, empty, (), categories)
        return Probe(
            np.concatenate(self.groups), np.concatenate(self.codes), tuple(self.values), categories
        )


# --------------------------------------------------------------------------- prose

# How far apart (characters) a name and a date of birth or postcode may be
# and still be read as one person's ("Jane Smith, 12 Oak Road, LS1 4AB").
PROSE_WINDOW = 120
# "SMITH, Jane" and "Smith, Jane": the detectors read these as two words.
_SURNAME_FIRST = re.compile(
    r"\b([^\W\d_][^\W\d_'’\-]*(?:['’\-][^\W\d_]+)*),[ \t]+"
    r"([^\W\d_][^\W\d_'’\-]*(?:[ \t]+[^\W\d_][^\W\d_'’\-]*)?)\b"
)
_DATE = re.compile(
    r"\b(\d{1,2})[/.\- ](\d{1,2}|[A-Za-z]{3,9})[/.\- ](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b"
)
# Python's re tries a pattern that opens with ``\b`` at every position of a
# text; these open with a literal or a class, which it skips to in C.  The
# functions below use them to find exactly what the patterns above find.
_COMMA_NAME = re.compile(r",[ \t]+[^\W\d_]")  # where a surname-first form turns
# a surname read backwards from its comma, as long as it goes, at a word's start
_SURNAME_REVERSED = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*(?!\w)")
# _DATE without its leading \b
_DATE_AT_DIGIT = re.compile(
    r"\d(?:\d?[/.\- ](?:\d{1,2}|[A-Za-z]{3,9})[/.\- ]\d{4}|\d{3}-\d{2}-\d{2})\b"
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}


def _iso(m: re.Match[str]) -> str | None:
    if m.group(4):
        y, mo, d = int(m.group(4)), int(m.group(5)), int(m.group(6))
    else:
        d, y = int(m.group(1)), int(m.group(3))
        month = m.group(2)
        mo = int(month) if month.isdigit() else _MONTHS.get(month[:3].lower(), 0)
    if not (1 <= mo <= 12 and 1 <= d <= 31 and 1850 <= y <= 2100):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def _surname_first(text: str) -> Iterator[re.Match[str]]:
    """``_SURNAME_FIRST.finditer(text)``, found from the commas a name
    follows (a few per text) rather than tried at every word: the surname is
    read backwards from its comma, then the whole form matched where it
    starts.  A surname that would begin inside the previous form leaves the
    search from that form's end to the pattern itself."""
    reverse = ""
    pos = 0
    for comma in _COMMA_NAME.finditer(text):
        at = comma.start()
        if at < pos:
            continue
        reverse = reverse or text[::-1]
        surname = _SURNAME_REVERSED.match(reverse, len(text) - at)
        if surname is None:
            continue
        start = len(text) - surname.end()
        if start >= pos:
            m = _SURNAME_FIRST.match(text, start)
        else:
            m = _SURNAME_FIRST.search(text, pos)
            if m is None:
                return
        if m is not None:
            yield m
            pos = m.end()


def _dates(text: str) -> Iterator[re.Match[str]]:
    """``_DATE.finditer(text)``, sought from digits: where the pattern
    without its leading ``\b`` matches, the full one does unless the digit
    follows a letter, digit or underscore, and then the search goes on from
    the next character, as the pattern's own would."""
    pos = 0
    while (found := _DATE_AT_DIGIT.search(text, pos)) is not None:
        m = _DATE.match(text, found.start())
        if m is None:
            pos = found.start() + 1
            continue
        yield m
        pos = m.end()


def _mentions(candidates: Sequence[Candidate], text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of each person mention: the detectors' PERSON
    spans, and "SURNAME, Forename" / "Surname, Forename" forms."""
    spans = [(c.start, c.end, c.key) for c in candidates if c.type == E.PERSON.value]
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    starts = [spans[i][0] for i in order]
    longest = max((end - start for start, end, _ in spans), default=0)
    removed: set[int] = set()
    added: list[tuple[int, int, str]] = []
    for m in _surname_first(text):
        if not (m.group(1)[0].isupper() and m.group(2)[0].isupper()):
            continue
        # the detectors' spans overlapping the match (found through the sorted
        # starts: a span that overlaps starts less than its length before it)
        lo = bisect_right(starts, m.start() - longest)
        hi = bisect_left(starts, m.end())
        inside = [
            order[j]
            for j in range(lo, hi)
            if spans[order[j]][1] > m.start() and order[j] not in removed
        ]
        if m.group(1).isupper():  # "SMITH, Jane": replaces the parts the detectors read
            removed.update(inside)
        elif inside:  # "Ann Jones, Peter Brown" is a list, not "Peter Brown Jones"
            continue
        added.append((m.start(), m.end(), f"{m.group(2)} {m.group(1)}"))
    return [t for i, t in enumerate(spans) if i not in removed] + added


def match_text(
    matches: PartMatches, index: EdmIndex, candidates: Sequence[Candidate], text: str
) -> None:
    """Match one text into ``matches``.  Each person mention is a group: its
    name, and the name paired with every date and postcode within
    :data:`PROSE_WINDOW` characters; each identifier and key-shaped token is
    a group of its own.  A group's categories are the entity types found
    within the window around it."""
    mentions = _mentions(candidates, text)
    paired: list[tuple[int, str, str]] = [
        (c.start, c.type, c.key) for c in candidates if c.type in _PAIRED
    ]
    for m in _dates(text):  # dates of birth without a context word
        iso = _iso(m)
        if iso is not None:
            paired.append((m.start(), E.DATE_OF_BIRTH.value, iso))
    paired.sort()
    at = [p for p, _, _ in paired]
    rows: list[int] = []
    ents: list[str] = []
    vals: list[str] = []
    spans: list[tuple[int, int]] = []
    for start, end, name in mentions:
        group = len(spans)
        spans.append((start, end))
        rows.append(group)
        ents.append(E.PERSON.value)
        vals.append(name)
        lo = bisect_left(at, start - PROSE_WINDOW)
        hi = bisect_right(at, end + PROSE_WINDOW)
        for _, entity, value in paired[lo:hi]:
            rows.append(group)
            ents.append(entity)
            vals.append(value)
    for c in candidates:
        if c.type in _ENTITY_FIELD:
            rows.append(len(spans))
            spans.append((c.start, c.end))
            ents.append(c.type)
            vals.append(c.key)
    # key-shaped tokens, a group each: ASCII letters, digits and marks, so
    # folding them (no white space to drop) is upper-casing
    tokens: list[str] = []
    shape = index.key_shape_re
    if shape is not None:
        for start, end, token in digit_tokens(text):
            if shape.fullmatch(token := token.upper()):
                tokens.append(token)
                spans.append((start, end))
    key_group = len(spans) - len(tokens)
    entities = sorted((c.start, c.type) for c in candidates if c.type in _ENTITY_TYPES)
    positions = [p for p, _ in entities]

    def categories(groups: np.ndarray) -> np.ndarray:
        distinct, which = np.unique(groups, return_inverse=True)
        out = np.zeros(len(distinct), dtype=np.int64)
        for i, g in enumerate(distinct.tolist()):
            start, end = spans[g]
            lo = bisect_left(positions, start - PROSE_WINDOW)
            hi = bisect_right(positions, end + PROSE_WINDOW)
            for _, t in entities[lo:hi]:
                out[i] |= _ENTITY_BIT[t]
        return out[which]

    keys: list[tuple[np.ndarray, Values]] = (
        [(np.arange(key_group, len(spans), dtype=np.int64), tokens)] if tokens else []
    )
    _match(matches, index, _sources(rows, ents, vals), keys, categories)


def digit_tokens(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, token) of every token with a digit: a run of ASCII
    letters, digits and ``/._-`` without the marks at its ends, of two
    characters or more.  Found from each run's first digit (a pattern that
    opens with a class: the text's many words without one cost no Python),
    and the letters and marks before it read backwards."""
    reverse = ""
    for m in _DIGIT_TAIL.finditer(text):
        start, end = m.span()
        if start and text[start - 1] in _RUN_CHARS:
            reverse = reverse or text[::-1]
            head = _RUN_HEAD_REVERSED.match(reverse, len(text) - start)
            if head is not None:  # always: the pattern matches the empty string
                start = len(text) - head.end()
        run = text[start:end]
        token = run.strip(_MARKS)
        if len(token) >= 2:
            start += len(run) - len(run.lstrip(_MARKS))
            yield start, start + len(token), token


_MARKS = "/._-"
_RUN_CHARS = frozenset(string.ascii_letters + string.digits + _MARKS)
# a run from its first digit on; a run's head (no digit in it) read backwards
_DIGIT_TAIL = re.compile(r"[0-9][A-Za-z0-9/._\-]*")
_RUN_HEAD_REVERSED = re.compile(r"[A-Za-z/._\-]*")
_ENTITY_TYPES = frozenset(str(t) for t in E)


# --------------------------------------------------------------------------- registering

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%Y/%m/%d",
)


def normalise_dates(values: pl.Series) -> pl.Series:
    """ISO dates from the layouts registers use (time of day dropped)."""
    v = values.str.strip_chars().str.replace(r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", "")
    parsed = [v.str.to_date(fmt, strict=False) for fmt in _DATE_FORMATS]
    return pl.select(pl.coalesce(parsed)).to_series().dt.to_string("%Y-%m-%d")


_BANK_PLAIN = r"^(\d{2})[- ]?(\d{2})[- ]?(\d{2})\s*(?:[/,;|:]\s*)?(\d{7,8})$"


def _per_value(values: pl.Series, fn: Callable[[str], str | None]) -> pl.Series:
    uniq = values.drop_nulls().unique()
    table = pl.DataFrame({"v": uniq, "n": [fn(v) for v in uniq.to_list()]}, schema=_VN)
    frame = pl.DataFrame({"v": values}).join(table, on="v", how="left", maintain_order="left")
    return frame["n"]


_VN = {"v": pl.String, "n": pl.String}


def _by_column_check(kind: str, values: pl.Series) -> pl.Series:
    """Identifiers normalised by the scanner's own column check (vectorised
    rule, per-cell validator for the rest): registering and scanning cannot
    disagree, and a value the scanner would never report is not indexed."""
    from shareguard.detect.columnar import FIXED_RULES, ColumnCheck
    from shareguard.detect.identifiers import CELL_VALIDATORS, validate_phone
    from shareguard.detect.tables import column_phone

    def phone(value: str) -> str | None:
        return column_phone(value) or validate_phone(value, strict=False)

    fallback = phone if kind == E.PHONE_NUMBER.value else CELL_VALIDATORS[kind]
    check = ColumnCheck(FIXED_RULES.get(kind), fallback, {})
    return check(values.fill_null("")).rename(values.name)


def _bank_accounts(values: pl.Series) -> pl.Series:
    """Sort code and account as the validator gives them ("123456-01234567"),
    the plain layouts vectorised and the rest by the validator."""
    from shareguard.detect.identifiers import validate_bank_account

    v = values.str.strip_chars()
    parts = v.str.extract_groups(_BANK_PLAIN)
    account = parts.struct.field("4")
    digits = parts.struct.field("1") + parts.struct.field("2") + parts.struct.field("3")
    frame = pl.DataFrame({"a": account, "s": digits})
    same = pl.col("a").str.count_matches(pl.col("a").str.slice(0, 1), literal=True)
    plain = frame.select(  # "11111111" is no account (as the validator says)
        pl.when(pl.col("a").is_not_null() & (same != pl.col("a").str.len_chars())).then(
            pl.col("s") + "-" + pl.col("a").str.zfill(8)
        )
    ).to_series()
    rest = v.is_not_null() & plain.is_null()
    if not rest.any():
        return plain
    return plain.scatter(rest.arg_true(), _per_value(v.filter(rest), validate_bank_account))


def normalise_column(kind: str, values: pl.Series) -> pl.Series:
    """A registered column's values in the form scans produce (null if empty
    or, for identifiers, if the scanner would not report the value)."""
    v = values.cast(pl.String)
    v = pl.select(pl.when(v.str.strip_chars() != "").then(v)).to_series()
    if kind == E.PERSON.value:
        return fold_names(v)
    if kind == E.DATE_OF_BIRTH.value:
        return normalise_dates(v)
    if kind == "KEY":
        return fold_key(v)
    if kind in (E.UK_POSTCODE.value, E.UK_NINO.value, E.UK_NHS.value):
        v = v.str.replace_all(r"\s+", " ").str.strip_chars()
        if kind == E.UK_NINO.value:  # "AB 12 34 56 C": the column check wants it whole
            v = v.str.replace_all(" ", "")
        return _by_column_check(kind, v)
    if kind in (E.EMAIL_ADDRESS.value, E.PHONE_NUMBER.value):
        return _by_column_check(kind, v.str.strip_chars())
    if kind == E.UK_BANK_ACCOUNT.value:
        return _bank_accounts(v)
    raise ValueError(f"no normalisation for column type {kind}")


def build_match_keys(
    hasher: KeyHasher, fields: dict[str, pl.Series]
) -> tuple[np.ndarray, np.ndarray, frozenset[Field]]:
    """The sorted match keys of registered rows and the row of each.
    ``fields`` maps KEY and entity types (PERSON already put together from
    given and family names) to normalised values, one per row."""
    keys: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    present: set[Field] = set()

    def put(code: Field, values: pl.Series) -> None:
        idx = values.is_not_null().arg_true()
        if idx.len():
            keys.append(hasher.keys(code, values.gather(idx)))
            rows.append(idx.cast(pl.UInt32).to_numpy())
            present.add(code)

    if "KEY" in fields:
        put(Field.KEY, fields["KEY"])
    for entity, code in _ENTITY_FIELD.items():
        if entity in fields:
            put(code, fields[entity])
    name = fields.get(E.PERSON.value)
    if name is not None:
        put(Field.PERSON, name)
        for entity, code in _PAIRED.items():
            if entity in fields:
                pair = pl.select(
                    pl.when(name.is_not_null() & fields[entity].is_not_null()).then(
                        name + PAIR_SEP + fields[entity]
                    )
                ).to_series()
                idx = pair.is_not_null().arg_true()
                if idx.len():
                    keys.append(hasher.keys(code, pair.gather(idx)))
                    rows.append(idx.cast(pl.UInt32).to_numpy())
                    present.add(code)
    if not keys:
        return _EMPTY_U64, np.zeros(0, dtype=np.uint32), frozenset()
    all_keys = np.concatenate(keys)
    all_rows = np.concatenate(rows)
    order = np.argsort(all_keys, kind="stable")
    return all_keys[order], all_rows[order], frozenset(present)


def key_pattern(keys: pl.Series) -> str | None:
    """A regex for the shape of a dataset's (folded) key values, so that
    scans hash only cells that could be one: their characters and lengths.
    None when keys are too short or too plain to look for outside their own
    column ("1234" is everywhere): under 5 characters, without a digit, or
    with characters other than letters, digits and ``-/._``."""
    k = keys.drop_nulls()
    if k.is_empty() or not k.str.contains(r"[0-9]").all():
        return None
    lengths = k.str.len_chars()
    lo, hi = int(lengths.min()), int(lengths.max())  # type: ignore[arg-type]
    marks = set("".join(k.str.replace_all(r"[A-Z0-9]", "").unique().to_list()))
    if lo < 5 or not marks <= set("-/._"):
        return None
    chars = ("A-Z0-9" if k.str.contains(r"[A-Z]").any() else "0-9") + "".join(
        "\\" + m if m in "-." else m for m in sorted(marks)
    )
    return f"[{chars}]{{{lo},{hi}}}"


_KEY_PATTERN = re.compile(r"\[([A-Z0-9\\\-/._]+)\]\{(\d+),(\d+)\}")


def key_candidates(cells: pl.Expr, patterns: Sequence[str]) -> pl.Expr:
    """True for every cell that :func:`fold_key` could turn into a value of
    one of ``patterns`` (made by :func:`key_pattern`), and false for most
    others: a key has a digit; folding only drops white space and upper-cases,
    so a cell with an ASCII character no pattern allows (other than white
    space and lower case) cannot become one, nor can one of fewer bytes than
    the shortest key (upper-casing lengthens no character beyond its UTF-8
    bytes: "ß" is two bytes and "SS")."""
    has_digit = cells.str.contains("[0-9]")
    shapes = [_KEY_PATTERN.fullmatch(p) for p in patterns]
    if not shapes or any(m is None for m in shapes):
        return has_digit
    allowed = "".join(m.group(1) for m in shapes if m)
    shortest = shortest_key(patterns)
    stray = rf"[\x00-\x7F&&[^\sa-z{allowed}]]"
    return has_digit & (cells.str.len_bytes() >= shortest) & ~cells.str.contains(stray)


def shortest_key(patterns: Sequence[str]) -> int:
    """The fewest bytes of a cell that folds into a value of one of
    ``patterns`` (made by :func:`key_pattern`; 1 for any other pattern)."""
    shapes = [_KEY_PATTERN.fullmatch(p) for p in patterns]
    return min((int(m.group(2)) if m else 1 for m in shapes), default=1)


def infer_column_types(header: Sequence[str], rows: Sequence[Sequence[str]]) -> dict[str, str]:
    """Column types for a dataset file, as the scanner's column classifier
    reads its header and first rows; columns of no matchable type left out."""
    from shareguard.detect.columns import SAMPLE_ROWS, classify_columns

    plan = classify_columns([list(header), *[list(r) for r in rows[: SAMPLE_ROWS - 1]]])
    out: dict[str, str] = {}
    for c in plan.columns:
        if c.index >= len(header):
            continue
        if c.name_part == "given":
            kind: str | None = "GIVEN_NAME"
        elif c.name_part == "family":
            kind = "FAMILY_NAME"
        elif c.name_part == "title":
            kind = None
        else:
            kind = c.entity
        if kind in COLUMN_TYPES:
            out[header[c.index]] = kind
    return out
