"""The options every minimisation takes, and what it gives back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

DEFAULT_AGE_BANDS: tuple[int, ...] = (16, 25, 35, 45, 55, 65)
DEFAULT_SERVICE_BANDS: tuple[int, ...] = (1, 2, 5, 10, 20)
DEFAULT_SALARY_BAND = 5000
SMALL_CELL = 5  # the usual statistical-disclosure threshold
SMALL_CELL_SPECIAL = 10  # when the source holds special-category data


@dataclass(frozen=True, slots=True)
class MinimiseOptions:
    """How to minimise.  Every field has a safe default; a transform reads only
    the fields it needs.

    Profile: ``by`` names the grouping columns (headers or kinds such as
    ``grade``); the last one becomes the columns of the table.  ``sum`` and
    ``mean`` name numeric columns (salary, FTE).  ``threshold`` is the
    smallest count shown (None: 5, or 10 when the source holds special-category
    data); ``round_to`` rounds shown counts to that base.  ``preset="tupe"``
    builds the pre-transfer workforce profile (headcount, FTE and mean salary
    by function and grade, then pay, age and service bands).

    Generalise: ``age_bands``/``service_bands`` are lower edges in years,
    ``salary_band`` a band width, ``postcode`` one of ``district`` (outward
    code), ``sector`` or ``area``, ``dates`` one of ``month`` or ``year``.

    Pseudonymise: ``key`` overrides the key derived from the root secret;
    ``keep_key`` returns the re-identification table (token -> identifiers).

    k-anonymity: ``quasi`` names the quasi-identifiers (auto-detected when
    empty), ``k`` the smallest class size wanted.
    """

    by: tuple[str, ...] = ()
    sum: tuple[str, ...] = ()
    mean: tuple[str, ...] = ()
    threshold: int | None = None
    round_to: int | None = None
    preset: str | None = None
    age_bands: tuple[int, ...] = DEFAULT_AGE_BANDS
    service_bands: tuple[int, ...] = DEFAULT_SERVICE_BANDS
    salary_band: int = DEFAULT_SALARY_BAND
    postcode: str = "district"
    dates: str = "month"
    as_of: dt.date | None = None
    key: bytes | None = field(default=None, repr=False)
    keep_key: bool = False
    quasi: tuple[str, ...] = ()
    k: int = 5
    output_format: str | None = None  # "csv" | "xlsx" for profiles; None: as the input
    lenient: bool = False  # skip --by/--sum/--mean columns the table lacks (agreement presets)

    def today(self) -> dt.date:
        return self.as_of or dt.date.today()


@dataclass(frozen=True, slots=True)
class MinimiseResult:
    """A minimised file.  ``remaining`` summarises the re-scan of ``content``
    (entities, special categories, data subjects, direct identifiers left);
    ``reidentification`` is the token table, only when ``keep_key`` was asked
    for: it must be kept apart from the file and protected like the source."""

    content: bytes
    filename: str
    media_type: str
    remaining: dict[str, Any]
    suppressed_cells: int
    notes: tuple[str, ...]
    reidentification: bytes | None = field(default=None, repr=False)
