"""Matching column headers against vocabularies: the two forms shared by the
column classifier and the special-category header check."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

NON_ALNUM = re.compile(r"[^a-z0-9]+")


def compact(text: str) -> str:
    """Case-folded letters and digits only: "NI No." and "ni_no" agree."""
    return NON_ALNUM.sub("", text.casefold())


def contains_run(words: tuple[str, ...], seq: tuple[str, ...]) -> bool:
    """Whether ``seq`` occurs in ``words`` as consecutive whole words."""
    n = len(seq)
    return any(words[i : i + n] == seq for i in range(len(words) - n + 1))


def match_header(
    header: str,
    whole: Mapping[str, str],
    phrases: Iterable[tuple[tuple[str, ...], str]],
    words: tuple[str, ...],
) -> str | None:
    """The label of a header: by its whole compact form first, else the
    first phrase (in the order given: longest first) found in its ``words``."""
    hit = whole.get(compact(header))
    if hit is not None:
        return hit
    return next((label for seq, label in phrases if contains_run(words, seq)), None)
