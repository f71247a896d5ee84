"""Pseudonymise: a stable token per person in place of their identifiers.

The token is a keyed HMAC of the person's most stable identifier (NI number,
then NHS number, passport, e-mail, driving licence, then name with date of
birth), under a key derived from the root secret for this one purpose (or from
a key file).  The same person gets the same token in every file and every run
with the same key; without the key a token cannot be linked back to anyone,
and another key gives unrelated tokens.  Identifier columns (and staff or
record numbers, which link back just as well) are removed; the table of tokens
to identifiers is produced only on request, to be kept apart and protected.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace

from shareguard.detect.columns import TablePlan
from shareguard.detect.identifiers import validate_nino
from shareguard.keys import PURPOSE_PSEUDONYM, derive_key
from shareguard.model import EntityType as E
from shareguard.transform.generalise import to_date
from shareguard.transform.io import SheetRows, column_label
from shareguard.transform.roles import is_direct, kinds

TOKEN_PREFIX = "PSN-"
TOKEN_COLUMN = "Pseudonym"

# Most stable first: an NI number stays with a person for life, a name does not.
_KEY_ORDER: tuple[str, ...] = (
    E.UK_NINO,
    E.UK_NHS,
    E.UK_PASSPORT,
    E.EMAIL_ADDRESS,
    E.UK_DRIVING_LICENCE,
    E.PERSON,
)


def pseudonym_key(root: bytes) -> bytes:
    """The HMAC key for tokens, derived from a root secret or key-file bytes."""
    return derive_key(root, PURPOSE_PSEUDONYM)


def normalise(kind: str, value: str) -> str:
    v = " ".join(value.split())
    if kind == E.UK_NINO:
        return validate_nino(v) or v.replace(" ", "").upper()
    if kind in (E.UK_NHS, E.UK_PASSPORT, E.UK_DRIVING_LICENCE):
        return "".join(ch for ch in v if ch.isalnum()).upper()
    return v.casefold()


def token(key: bytes, kind: str, normalised: str) -> str:
    mac = hmac.new(key, f"{kind}\x1f{normalised}".encode(), hashlib.sha256).hexdigest()
    return TOKEN_PREFIX + mac[:16]


@dataclass(frozen=True, slots=True)
class Pseudonymised:
    sheet: SheetRows
    key_rows: list[list[str]]  # the re-identification table, header first
    dropped: list[str]  # labels of the columns removed
    without_identifier: int  # rows no identifier could be found in


def _subject(row: list[str], by_kind: dict[str, list[int]], dob: int | None) -> tuple[str, str]:
    """(kind, normalised value) of the most stable identifier in ``row``."""
    for kind in _KEY_ORDER:
        cols = by_kind.get(kind, [])
        parts = [row[i].strip() for i in cols if i < len(row) and row[i].strip()]
        if not parts:
            continue
        value = normalise(kind, " ".join(parts))
        if kind == E.PERSON and dob is not None:
            born = to_date(row[dob]) if dob < len(row) else None
            value += "\x1f" + (born.isoformat() if born else "")
        return kind, value
    return "", ""


def pseudonymise_sheet(sheet: SheetRows, key: bytes) -> Pseudonymised:
    col_kinds = kinds(sheet)
    by_kind: dict[str, list[int]] = {}
    for i, kind in enumerate(col_kinds):
        if is_direct(kind):
            by_kind.setdefault(kind.split(":", 1)[1] if kind else "", []).append(i)
    dob = col_kinds.index("dob") if "dob" in col_kinds else None
    drop = {i for i, k in enumerate(col_kinds) if is_direct(k) or k == "code"}
    keep = [i for i in range(len(col_kinds)) if i not in drop]
    header = [TOKEN_COLUMN, *(column_label(sheet, i) for i in keep)] if sheet.header else []
    rows: list[list[str]] = []
    seen: dict[str, list[str]] = {}
    missing = 0
    for row in sheet.rows:
        kind, value = _subject(row, by_kind, dob)
        if kind:
            tok = token(key, kind, value)
            seen.setdefault(tok, [tok, kind, *(row[i] for i in sorted(drop))])
        else:
            tok = ""
            missing += 1
        rows.append([tok, *(row[i] for i in keep)])
    key_rows = [[TOKEN_COLUMN, "keyed on", *(column_label(sheet, i) for i in sorted(drop))]]
    key_rows += list(seen.values())
    return Pseudonymised(
        SheetRows(sheet.name, header, rows, _reindexed(sheet.plan, keep), sheet.first_row),
        key_rows,
        [column_label(sheet, i) for i in sorted(drop)],
        missing,
    )


def _reindexed(plan: TablePlan, keep: list[int]) -> TablePlan:
    """The plan of the output table: the token column first, then the kept
    columns, so later transforms (generalise) still know each column."""
    roles = {r.index: r for r in plan.columns}
    return TablePlan(
        plan.has_header,
        tuple(replace(roles[old], index=new + 1) for new, old in enumerate(keep) if old in roles),
    )
