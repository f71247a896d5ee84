"""k-anonymity of a table over its quasi-identifiers.

Rows that agree on every quasi-identifier (age or date of birth, sex,
postcode, grade, department, ethnicity ...) form an equivalence class; a table
is k-anonymous when every class has at least k rows.  The report gives the
smallest class, how many rows sit in classes under k, and which columns drive
it: each quasi-identifier is dropped in turn and the table measured again, so
"without Postcode no row is in a class under 5" points at the column to
generalise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shareguard.errors import InputError
from shareguard.transform.io import SheetRows, column_label
from shareguard.transform.roles import QUASI_KINDS, find_columns, kinds


@dataclass(frozen=True, slots=True)
class ClassSizes:
    smallest: int
    classes: int
    classes_under_k: int
    rows_under_k: int

    def as_dict(self) -> dict[str, int]:
        return {
            "smallest_class": self.smallest,
            "classes": self.classes,
            "classes_under_k": self.classes_under_k,
            "rows_under_k": self.rows_under_k,
        }


@dataclass(frozen=True, slots=True)
class KAnonymityReport:
    sheet: str
    rows: int
    k: int
    quasi_identifiers: tuple[str, ...]
    overall: ClassSizes
    without: dict[str, ClassSizes]  # the same measures with one column dropped
    # Columns to drop (or generalise), greedily, until no row is in a class
    # under k: the answer when no single column is to blame.
    to_reach_k: tuple[str, ...] = ()

    @property
    def satisfied(self) -> bool:
        return self.overall.rows_under_k == 0

    @property
    def drivers(self) -> list[str]:
        """Columns whose removal helps most, best first (only those that help)."""
        gain = {
            c: self.overall.rows_under_k - s.rows_under_k
            for c, s in self.without.items()
            if s.rows_under_k < self.overall.rows_under_k
        }
        return sorted(gain, key=lambda c: (-gain[c], c))

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "rows": self.rows,
            "k": self.k,
            "k_anonymous": self.satisfied,
            "quasi_identifiers": list(self.quasi_identifiers),
            **self.overall.as_dict(),
            "drivers": self.drivers,
            "to_reach_k": list(self.to_reach_k),
            "without": {c: s.as_dict() for c, s in self.without.items()},
        }


def class_sizes(keys: Sequence[tuple[str, ...]], k: int) -> ClassSizes:
    counts = Counter(keys)
    small = [n for n in counts.values() if n < k]
    return ClassSizes(
        smallest=min(counts.values(), default=0),
        classes=len(counts),
        classes_under_k=len(small),
        rows_under_k=sum(small),
    )


def quasi_columns(sheet: SheetRows, named: Sequence[str]) -> list[int]:
    if named:
        return find_columns(sheet, named)
    found = [i for i, kind in enumerate(kinds(sheet)) if kind in QUASI_KINDS]
    if not found:
        raise InputError(
            f"sheet {sheet.name!r}: no quasi-identifier recognised (age, sex, postcode, "
            "grade, department, ethnicity ...); name them with --quasi"
        )
    return found


def k_anonymity(sheet: SheetRows, k: int, named: Sequence[str] = ()) -> KAnonymityReport:
    if k < 1:
        raise InputError("k must be at least 1")
    cols = quasi_columns(sheet, named)
    labels = tuple(column_label(sheet, i) for i in cols)

    def keys(use: Sequence[int]) -> list[tuple[str, ...]]:
        return [tuple(row[i].strip().casefold() for i in use) for row in sheet.rows]

    without = {}
    if len(cols) > 1:
        for n, label in enumerate(labels):
            without[label] = class_sizes(keys(cols[:n] + cols[n + 1 :]), k)
    overall = class_sizes(keys(cols), k)
    greedy: list[str] = []
    left = list(cols)
    under = overall.rows_under_k
    while under and len(left) > 1:
        best = min(
            left, key=lambda c: class_sizes(keys([x for x in left if x != c]), k).rows_under_k
        )
        left.remove(best)
        greedy.append(column_label(sheet, best))
        under = class_sizes(keys(left), k).rows_under_k
    return KAnonymityReport(sheet.name, len(sheet.rows), k, labels, overall, without, tuple(greedy))
