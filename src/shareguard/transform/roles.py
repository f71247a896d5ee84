"""What each column of a staff list is, in the words transforms need.

The scanner's column classifier (``detect.columns``) says which columns hold
identifiers, dates of birth, grades, salaries, ethnicity ...; this module
turns its plan into one *kind* per column and finds the column a user means
by ``--by grade`` or ``--quasi postcode``.  A few workforce headers the
scanner has no reason to know (FTE, start date, function) are recognised here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shareguard.detect.columns import ColumnRole
from shareguard.errors import InputError
from shareguard.model import EntityType as E
from shareguard.transform.io import SheetRows

# Columns that single a person out on their own: removed or replaced when a
# copy must not identify anyone, and what --require-clean looks for.
DIRECT_IDENTIFIERS: frozenset[str] = frozenset(
    {
        E.PERSON,
        E.EMAIL_ADDRESS,
        E.PHONE_NUMBER,
        E.STREET_ADDRESS,
        E.UK_NINO,
        E.UK_NHS,
        E.UK_BANK_ACCOUNT,
        E.IBAN_CODE,
        E.CREDIT_CARD,
        E.UK_PASSPORT,
        E.UK_DRIVING_LICENCE,
        E.UK_VEHICLE_REG,
        E.IP_ADDRESS,
    }
)

# Workforce headers recognised here (whole words, case-insensitive), checked
# before the scanner's categories: "FTE salary" is a salary, "FTE" is not.
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(fte|wte|whole time equivalent|full time equivalent|contracted fte)$"), "fte"),
    (
        re.compile(
            r"\b(start date|date started|date joined|joining date|continuous service"
            r"( date)?|service (start )?date|date of appointment|employment start)\b"
        ),
        "start_date",
    ),
    (re.compile(r"^(function|service area|business unit)$"), "department"),
    (re.compile(r"\b(age band|age group)\b"), "age_band"),
    (re.compile(r"\b(pay band|salary band)\b"), "pay_band"),
    (re.compile(r"\b(sex|gender)\b"), "sex"),
)

# Quasi-identifiers: columns that identify in combination.  Used when the
# user does not name them for a k-anonymity report.
QUASI_KINDS: tuple[str, ...] = (
    "dob",
    "age",
    "age_band",
    "sex",
    "postcode",
    "grade",
    "pay_band",
    "department",
    "job_title",
    "ethnicity",
    "start_date",
)


def column_kind(role: ColumnRole) -> str | None:
    """``identifier:<ENTITY>``, ``dob``, ``postcode``, a category (``grade``,
    ``salary`` ...), ``fte``/``start_date``, a special category (``ethnicity``)
    or None when nothing is known."""
    header = (role.header or "").strip().casefold()
    for pattern, kind in _HINTS:
        if header and pattern.search(header):
            return kind
    if role.entity == E.DATE_OF_BIRTH:
        return "dob"
    if role.entity == E.UK_POSTCODE:
        return "postcode"
    if role.entity is not None or role.name_part in ("given", "family", "full"):
        return f"identifier:{role.entity or E.PERSON}"
    if role.special is not None:
        return role.special
    return role.category


def kinds(sheet: SheetRows) -> list[str | None]:
    """One kind per column of ``sheet`` (columns beyond the plan are unknown)."""
    width = len(sheet.rows[0]) if sheet.rows else len(sheet.header)
    roles = {r.index: r for r in sheet.plan.columns}
    return [column_kind(roles[i]) if i in roles else None for i in range(width)]


def is_direct(kind: str | None) -> bool:
    return kind is not None and kind.startswith("identifier:")


def find_column(sheet: SheetRows, wanted: str) -> int:
    """The column a user means: its header (case-insensitive), else the first
    column of that kind (``grade``, ``department``, ``salary``, ``dob`` ...)."""
    target = wanted.strip().casefold()
    for i, h in enumerate(sheet.header):
        if h.casefold() == target:
            return i
    for i, kind in enumerate(kinds(sheet)):
        if kind is not None and (kind == target or kind.casefold() == f"identifier:{target}"):
            return i
    known = ", ".join(repr(h) for h in sheet.header if h) or "none (the table has no header row)"
    raise InputError(
        f"sheet {sheet.name!r}: no column {wanted!r}; headers are {known}, or name a "
        "kind such as grade, department, salary, fte, dob, postcode, sex, ethnicity"
    )


def find_columns(sheet: SheetRows, wanted: Sequence[str]) -> list[int]:
    return [find_column(sheet, w) for w in wanted]
