"""Cell validators over a whole column chunk at once (polars).

Each rule covers the common, plain-ASCII shapes of one entity's cells and
gives, for the cells it *settles*, exactly the answer of the per-cell
validator in :mod:`shareguard.detect.tables` / ``identifiers``: the
normalised value, or null for a cell that is not one.  Cells it does not
settle (other shapes, non-ASCII text) go to the per-cell validator itself,
once per distinct value, so the two paths cannot disagree.  The property
tests in ``tests/detect/test_columnar.py`` hold the rules to that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date

import polars as pl

from shareguard.model import EntityType as E

Validator = Callable[[str], "str | None"]
# raw cells -> (settled, normalised-or-null)
Rule = Callable[[pl.Series], tuple[pl.Series, pl.Series]]

_MEMO_LIMIT = 100_000


def _where(ok: pl.Series, value: pl.Series) -> pl.Series:
    return pl.select(pl.when(ok).then(value)).to_series()


def _nino(v: pl.Series) -> tuple[pl.Series, pl.Series]:
    up = v.str.to_uppercase()
    ok = up.str.contains(r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$") & ~up.str.slice(
        0, 2
    ).is_in(["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"])
    return v.str.contains(r"^[A-Za-z]{2}[0-9]{6}[A-Za-z]$"), _where(ok, up)


def _nhs(v: pl.Series) -> tuple[pl.Series, pl.Series]:
    settled = v.str.contains(
        r"^(?:[0-9]{10}|[0-9]{3} [0-9]{3} [0-9]{4}|[0-9]{3}-[0-9]{3}-[0-9]{4})$"
    )
    digits = v.str.replace_all(r"[ -]", "")
    number = digits.cast(pl.Int64, strict=False)
    total = (number // 10**9 % 10) * 10
    for i in range(1, 9):
        total += number // 10 ** (9 - i) % 10 * (10 - i)
    check = 11 - total % 11
    check = _where(check != 11, check).fill_null(0)
    same = number.is_in([d * 1_111_111_111 for d in range(10)])
    ok = (check != 10) & (check == number % 10) & ~same
    return settled, _where(ok, digits)


_PC = (
    r"^(?i:(?:(?:[A-PR-UWYZ][0-9][0-9ABCDEFGHJKPSTUW]?)|(?:[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?))"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2}|GIR ?0AA)$"
)


def _postcode(v: pl.Series) -> tuple[pl.Series, pl.Series]:
    settled = v.str.contains(r"^[A-Za-z0-9][A-Za-z0-9 ]{3,7}[A-Za-z0-9]$")
    return settled, _where(v.str.contains(_PC), v.str.replace_all(" ", "").str.to_uppercase())


_UK_PHONE = r"^(?:\+44|0044|0)(?:1|2|3|5|7[1-57-9]|8)[0-9]{8,9}$"


def _phone(v: pl.Series) -> tuple[pl.Series, pl.Series]:
    t = v.str.replace_all(r"[ \-().]", "")
    national = t.str.replace(r"^(?:\+44|0044|0)", "")
    ok = (national.str.len_bytes() == 10) | national.str.starts_with("1")
    ok = ok | national.str.starts_with("8")
    # judged on the shape left once the junk is gone, for plain-ASCII cells
    settled = t.str.contains(_UK_PHONE) & v.str.contains(r"^[ -~]*$")
    return settled, _where(ok, "+44" + national)


_EMAIL = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def _email(v: pl.Series) -> tuple[pl.Series, pl.Series]:
    settled = v.str.contains(r"^[!-~]+$")
    local = v.str.extract(r"^([^@]*)", 1)
    ok = (v.str.len_bytes() <= 254) & v.str.contains(_EMAIL) & (local.str.len_bytes() <= 64)
    return settled, _where(ok, v.str.to_lowercase())


def dob_rule(today: date) -> Rule:
    """dd/mm/yyyy (one separator twice) and ISO, as ``tables.dob_validator``."""
    limit = today.year * 10_000 + today.month * 100 + today.day
    oldest = limit - 121 * 10_000  # born on this day 121 years ago: too old

    def rule(v: pl.Series) -> tuple[pl.Series, pl.Series]:
        dmy = v.str.contains(r"^[0-9]{2}(?:/[0-9]{2}/|\.[0-9]{2}\.|-[0-9]{2}-)[0-9]{4}$")
        iso = v.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T0:]*$")
        text = v.str.slice(0, 10)
        if dmy.any():  # most columns hold one form; skip the turning when none is d/m/y
            turned = v.str.slice(6, 4) + "-" + v.str.slice(3, 2) + "-" + v.str.slice(0, 2)
            text = pl.select(pl.when(dmy).then(turned).otherwise(text)).to_series()
        real = text.str.to_date("%Y-%m-%d", strict=False).is_not_null()
        key = text.str.replace_all("-", "", literal=True).cast(pl.Int32, strict=False)
        ok = real & (key <= limit) & (key > oldest) & (key >= 10_101)
        return dmy | iso, _where(ok, text)

    return rule


def person_rule(titles: Collection[str], not_person: Collection[str]) -> Rule:
    """Plain-ASCII names, as ``tables.column_person``: optional title,
    "SURNAME, Given" turned round, 2-5 name words (1-5 after a title)."""
    word = r"[A-Za-z][A-Za-z'.\-]*"
    words = rf"{word}(?: {word})*"
    shape = rf"^{words}(?:,(?: ?{words})?)?$"
    title = "|".join(re.escape(t) for t in sorted(titles))
    banned = "|".join(re.escape(w) for w in sorted(not_person))
    banned_word = rf"(?:^| )(?:{banned})\.*(?: |$)"

    def rule(v: pl.Series) -> tuple[pl.Series, pl.Series]:
        settled = v.str.contains(shape) & (v.str.len_bytes() <= 80)
        low = v.str.to_lowercase()
        titled = low.str.contains(rf"^(?:{title})\.* ")
        rest = low.str.replace(rf"^(?:{title})\.* ", "") if titled.any() else low
        # the rewrites with capture groups cost most: only when some cell needs them
        if rest.str.contains(",", literal=True).any():
            rest = rest.str.replace(r"^([^,]*),(.*)$", "${2} ${1}")
        turned = rest.str.strip_chars(" ")
        n = turned.str.count_matches(" ", literal=True) + 1
        ok = (n >= 2 - titled.cast(pl.Int32)) & (n <= 5) & ~turned.str.contains(banned_word)
        if turned.str.contains(".", literal=True).any():
            turned = turned.str.replace_all(r"\.+( |$)", "${1}")
        return settled, _where(ok, turned)

    return rule


FIXED_RULES: dict[str, Rule] = {
    E.UK_NINO.value: _nino,
    E.UK_NHS.value: _nhs,
    E.UK_POSTCODE.value: _postcode,
    E.PHONE_NUMBER.value: _phone,
    E.EMAIL_ADDRESS.value: _email,
}


@dataclass(slots=True)
class ColumnCheck:
    """One classified column: its vectorised rule (if any) and the per-cell
    validator for everything the rule leaves unsettled."""

    rule: Rule | None
    fallback: Validator
    memo: dict[str, str | None]

    def __call__(self, cells: pl.Series) -> pl.Series:
        """Normalised value per cell, null where the cell is empty or not one."""
        filled = cells != ""
        if self.rule is None:
            norm = pl.repeat(None, len(cells), dtype=pl.String, eager=True)
            rest = filled
        else:
            settled, norm = self.rule(cells)
            settled = settled.fill_null(False)
            norm = _where(settled, norm.cast(pl.String))
            rest = filled & ~settled
        if not rest.any():
            return norm.rename("n")
        return norm.scatter(rest.arg_true(), self._slow(cells.filter(rest))).rename("n")

    def _slow(self, values: pl.Series) -> pl.Series:
        memo, fn = self.memo, self.fallback
        out: list[str | None] = []
        for v in values.to_list():
            hit = memo.get(v, _MISS)
            if hit is _MISS:
                if len(memo) >= _MEMO_LIMIT:
                    memo.clear()
                hit = memo[v] = fn(v)
            out.append(hit)  # type: ignore[arg-type]
        return pl.Series("n", out, dtype=pl.String)


_MISS = object()
