"""Group findings into data subjects: how many distinct people a part is about.

Tables: a row is about a person when it holds a name or a unique identifier;
rows are the same person when they share their most stable identifier (or,
for rows with no identifier, the same name and date of birth).

Prose: person mentions are merged when they are the same full name, or when a
lone given name or surname matches exactly one full name in the text ("Jane
Smith" ... "Ms Smith" ... "Jane").  A unique identifier (NHS number, e-mail,
...) belongs to the nearest person mention in the same sentence, to the person
whose name its mailbox spells, or — in a sentence that refers back with a
pronoun ("She can be reached on ...") — to the person last named; one that
belongs to nobody is a person of its own.

Each subject is a tuple of keys, most stable first ("UK_NHS:4857773456",
"PERSON:jane smith|1980-01-02"): a container merges people across its parts
when they share any key, so the patient in the spreadsheet and the same
patient named with their date of birth in a letter count once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

import polars as pl

from shareguard.detect.types import Candidate
from shareguard.model import UNIQUE_IDENTIFIERS, EntityType

Subject = tuple[str, ...]

# How far (characters) an identifier may be from the name it belongs to, and
# what may not stand between them: the end of a sentence or a blank line
# ("Apologies: J Smith.\n1. The patient with NHS number ..." is not Smith's).
_LINK_WINDOW = 160
_SENTENCE_BREAK = re.compile(r"[.!?](?:\s|$)|\n[ \t]*\n")
_SENTENCE_START = re.compile(r"(?:[.!?]\s|\n[ \t]*\n)")
_PRONOUN = re.compile(r"\b(?:she|he|her|his|him|they|their|them)\b", re.IGNORECASE)
_PRONOUN_WINDOW = 600

# Mailboxes that belong to a function, not a person.
_ROLE_MAILBOXES = frozenset(
    (
        "info admin enquiries enquiry contact office hello help support noreply no-reply "
        "donotreply postmaster webmaster reception sales accounts finance hr team"
    ).split()
)

_UNIQUE = frozenset(str(t) for t in UNIQUE_IDENTIFIERS)

# Which identifier names a person when a row or a mention carries several: the
# most stable first, so the same person gets the same first key in every part.
_ID_PRIORITY: dict[str, int] = {
    str(t): i
    for i, t in enumerate(
        [
            EntityType.UK_NINO,
            EntityType.UK_NHS,
            EntityType.UK_PASSPORT,
            EntityType.UK_DRIVING_LICENCE,
            EntityType.EMAIL_ADDRESS,
            EntityType.UK_BANK_ACCOUNT,
            EntityType.IBAN_CODE,
            EntityType.CREDIT_CARD,
            EntityType.PHONE_NUMBER,
        ]
    )
}


def _key(c: Candidate) -> str:
    return f"{c.type}:{c.key}"


def _priority(key: str) -> tuple[int, str]:
    return (_ID_PRIORITY.get(key.split(":", 1)[0], len(_ID_PRIORITY)), key)


def _subject(ids: Iterable[str], names: Iterable[str]) -> Subject:
    """Identifiers by stability, then names; names fullest first."""
    ordered = sorted(set(ids), key=_priority)
    ordered += sorted(set(names), key=lambda k: (-len(k.split()), -len(k), k))
    return tuple(ordered)


def row_subject(candidates: Iterable[Candidate]) -> Subject | None:
    """The person one table row is about, or None if the row does not
    identify anyone (a postcode or a date alone is not a person)."""
    ids: list[str] = []
    names: list[str] = []
    dobs: list[str] = []
    for c in candidates:
        if c.type in _UNIQUE:
            ids.append(_key(c))
        elif c.type == EntityType.PERSON:
            names.append(c.key)
        elif c.type == EntityType.DATE_OF_BIRTH:
            dobs.append(c.key)
    if not ids and not names:
        return None
    if dobs:
        name_keys = [f"PERSON:{n}|{d}" for n in names for d in dobs]
    elif not ids:
        name_keys = [f"PERSON:{n}" for n in names]
    else:
        name_keys = []  # a bare name next to an identifier could be anyone's namesake
    return _subject(ids, name_keys)


def _tokens(name: str) -> list[str]:
    return [t for t in name.replace(",", " ").split() if len(t.strip(".")) > 1]


def _is_role_mailbox(address: str) -> bool:
    return address.split("@", 1)[0].lower() in _ROLE_MAILBOXES


class _Clusters:
    """Person mentions in one text, merged into people."""

    def __init__(self, persons: Sequence[Candidate]) -> None:
        full: dict[str, int] = {}
        by_token: dict[str, set[int]] = defaultdict(set)
        for c in persons:
            if len(_tokens(c.key)) >= 2 and c.key not in full:
                full[c.key] = len(full)
                for tok in _tokens(c.key):
                    by_token[tok].add(full[c.key])
        self.count = len(full)
        partial: dict[str, int] = {}
        self.of: list[int] = []  # cluster per mention, in order of ``persons``
        for c in persons:
            if c.key in full:
                self.of.append(full[c.key])
                continue
            owners = by_token.get(c.key, set())
            if len(owners) == 1:
                self.of.append(next(iter(owners)))
            else:  # unknown or ambiguous lone name: a person of its own
                if c.key not in partial:
                    partial[c.key] = self.count
                    self.count += 1
                self.of.append(partial[c.key])


def prose_subjects(candidates: Sequence[Candidate], text: str) -> list[Subject]:
    """The people in one text's candidates (each carrying ``start``/``end``)."""
    persons = sorted((c for c in candidates if c.type == EntityType.PERSON), key=lambda c: c.start)
    clusters = _Clusters(persons)
    names: dict[int, set[str]] = defaultdict(set)
    ids: dict[int, set[str]] = defaultdict(set)
    for c, idx in zip(persons, clusters.of, strict=True):
        names[idx].add(f"PERSON:{c.key}")
    orphans: set[str] = set()
    for c in candidates:
        if c.type not in _UNIQUE:
            continue
        if c.type == EntityType.EMAIL_ADDRESS and _is_role_mailbox(c.key):
            continue
        owner = _owner(c, persons, clusters.of, text)
        if owner is None:
            orphans.add(_key(c))
        else:
            ids[owner].add(_key(c))
    people = [_subject(ids[i], names[i]) for i in sorted(names)]
    return people + [(k,) for k in sorted(orphans)]


def _owner(
    ident: Candidate, persons: Sequence[Candidate], cluster_of: Sequence[int], text: str
) -> int | None:
    if ident.type == EntityType.EMAIL_ADDRESS:
        local = re.split(r"[._\-+0-9]+", ident.key.split("@", 1)[0])
        local_tokens = {t for t in local if len(t) > 1}
        for p, idx in zip(persons, cluster_of, strict=True):
            if local_tokens & set(_tokens(p.key)):
                return idx
    best: tuple[int, int] | None = None
    for p, idx in zip(persons, cluster_of, strict=True):
        lo, hi = (p.end, ident.start) if p.end <= ident.start else (ident.end, p.start)
        gap = hi - lo
        if gap < 0 or gap > _LINK_WINDOW or (best is not None and gap >= best[0]):
            continue
        if not _SENTENCE_BREAK.search(text, lo, hi):
            best = (gap, idx)
    if best is not None:
        return best[1]
    return _pronoun_owner(ident, persons, cluster_of, text)


def _pronoun_owner(
    ident: Candidate, persons: Sequence[Candidate], cluster_of: Sequence[int], text: str
) -> int | None:
    """ "She can be reached on 07700 900123": the last person named before."""
    window_start = max(0, ident.start - _PRONOUN_WINDOW)
    sentence_start = window_start
    for m in _SENTENCE_START.finditer(text, window_start, ident.start):
        sentence_start = m.end()
    if not _PRONOUN.search(text, sentence_start, ident.start):
        return None
    before = [
        (p.end, idx)
        for p, idx in zip(persons, cluster_of, strict=True)
        if window_start <= p.end <= sentence_start
    ]
    return max(before)[1] if before else None


# --------------------------------------------------------------------------- table chunks

_KEYS_SCHEMA = {"row": pl.UInt32, "key": pl.String, "g": pl.Int32, "p": pl.Int64, "q": pl.Int64}


def _long(norm: pl.Series) -> pl.DataFrame:
    rows = pl.int_range(len(norm), dtype=pl.UInt32, eager=True)
    return pl.DataFrame({"row": rows, "v": norm.cast(pl.String)}).drop_nulls()


def subject_keys(
    found: Sequence[tuple[str, pl.Series]], extra: Iterable[tuple[int, Candidate]] = ()
) -> pl.DataFrame:
    """:func:`row_subject` for every row of a table chunk at once.

    ``found`` holds, per classified column, its entity type and the
    normalised value of each row (null where none); ``extra`` the
    (row, candidate) pairs found in free-text cells.  The result has one line
    per key of each row's subject (``row``, ``key``, ``first``), in the order
    :func:`row_subject` gives them; rows about nobody are absent."""
    ids: list[pl.DataFrame] = []
    names: list[pl.DataFrame] = []
    dobs: list[pl.DataFrame] = []
    for entity, norm in found:
        if entity in _UNIQUE or entity in (EntityType.PERSON, EntityType.DATE_OF_BIRTH):
            _sort_into(entity, _long(norm), ids, names, dobs)
    spill: dict[str, tuple[list[int], list[str]]] = defaultdict(lambda: ([], []))
    for row, c in extra:
        spill[c.type][0].append(row)
        spill[c.type][1].append(c.key)
    for entity, (rows, values) in spill.items():
        frame = pl.DataFrame({"row": rows, "v": values}, schema={"row": pl.UInt32, "v": pl.String})
        _sort_into(entity, frame, ids, names, dobs)
    empty = pl.DataFrame(schema={"row": pl.UInt32, "v": pl.String})
    id_rows = pl.concat(ids) if ids else empty.with_columns(p=pl.lit(0, pl.Int64))
    name_rows = pl.concat(names) if names else empty
    dob_rows = pl.concat(dobs) if dobs else empty
    with_dob = name_rows.join(dob_rows, on="row", how="inner").select(
        "row", key=pl.lit("PERSON:") + pl.col("v") + "|" + pl.col("v_right")
    )
    bare = name_rows.filter(
        ~pl.col("row").is_in(dob_rows["row"].implode())
        & ~pl.col("row").is_in(id_rows["row"].implode())
    ).select("row", key=pl.lit("PERSON:") + pl.col("v"))
    person_keys = pl.concat([with_dob, bare]).with_columns(
        g=pl.lit(1, pl.Int32),
        p=-pl.col("key").str.count_matches(r"\S+").cast(pl.Int64),
        q=-pl.col("key").str.len_chars().cast(pl.Int64),
    )
    id_keys = id_rows.rename({"v": "key"}).with_columns(
        g=pl.lit(0, pl.Int32), q=pl.lit(0, pl.Int64)
    )
    keys = pl.concat([id_keys.select(list(_KEYS_SCHEMA)), person_keys.select(list(_KEYS_SCHEMA))])
    # g, p and q follow from the key, so a (row, key) repeated (the same
    # value in two columns) sorts next to itself: dropped by comparing each
    # line with the one before, cheaper than a hash over every string.
    keys = keys.sort("row", "g", "p", "q", "key")
    new_row = pl.col("row") != pl.col("row").shift()
    return keys.filter(new_row.fill_null(True) | (pl.col("key") != pl.col("key").shift())).select(
        "row", "key", first=new_row.fill_null(True)
    )


def _sort_into(
    entity: str,
    frame: pl.DataFrame,
    ids: list[pl.DataFrame],
    names: list[pl.DataFrame],
    dobs: list[pl.DataFrame],
) -> None:
    if entity in _UNIQUE:
        priority = _ID_PRIORITY.get(entity, len(_ID_PRIORITY))
        ids.append(
            frame.with_columns(v=pl.lit(f"{entity}:") + pl.col("v"), p=pl.lit(priority, pl.Int64))
        )
    elif entity == EntityType.PERSON:
        names.append(frame)
    elif entity == EntityType.DATE_OF_BIRTH:
        dobs.append(frame)
