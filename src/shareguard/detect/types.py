"""Internal result type of the detectors.

A :class:`Candidate` holds the raw matched value and therefore never leaves
``shareguard.detect``: the Scanner turns candidates into
:class:`shareguard.model.Finding` values (masked preview + keyed hash) before
anything else sees them.
"""

from __future__ import annotations

from typing import NamedTuple


class Candidate(NamedTuple):
    """One detected value.

    ``type`` is an :class:`~shareguard.model.EntityType` value or, for
    special-category / criminal-offence evidence, a
    :class:`~shareguard.model.SpecialCategory` value.

    Text detections carry ``start``/``end`` offsets into the text they were run
    on.  Table detections carry ``row`` (1-based source row) and ``column`` (header
    text, or ``"column N"`` 1-based when there is no header), with ``start``/``end``
    relative to the cell text.

    ``normalised`` is the canonical form used for hashing and deduplication
    (NINO without spaces and upper-case, NHS digits only, e-mail lower-case,
    phone in E.164, postcode upper-case without space, dates ISO ``YYYY-MM-DD``,
    person names case-folded with titles removed).  ``None`` means "use value".

    A named tuple rather than a frozen dataclass: a dense staff table makes
    millions of these, and a tuple is built several times faster.
    """

    type: str
    start: int
    end: int
    value: str
    score: float
    detector: str
    normalised: str | None = None
    row: int | None = None
    column: str | None = None

    @property
    def key(self) -> str:
        return self.normalised if self.normalised is not None else self.value
