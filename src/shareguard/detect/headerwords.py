"""Matching column headers against vocabularies: the two forms shared by the
column classifier and the special-category header check."""

from __future__ import annotations

import re

NON_ALNUM = re.compile(r"[^a-z0-9]+")


def compact(text: str) -> str:
    """Case-folded letters and digits only: "NI No." and "ni_no" agree."""
    return NON_ALNUM.sub("", text.casefold())


def contains_run(words: tuple[str, ...], seq: tuple[str, ...]) -> bool:
    """Whether ``seq`` occurs in ``words`` as consecutive whole words."""
    n = len(seq)
    return any(words[i : i + n] == seq for i in range(len(words) - n + 1))
