"""Masked previews: enough for a person to recognise what was found, not
enough to recover the value.

Letters and digits are replaced by ``*`` except a few at the ends; spaces and
punctuation are kept so the shape stays readable (``AB ** ** ** C``).
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from shareguard.model import EntityType

_MAX_PREVIEW = 40


def _mask_run(value: str, head: int, tail: int, n_alnum: int | None = None) -> str:
    if value.isascii():
        return _mask_ascii(value, head, tail, n_alnum)
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    if len(positions) <= head + tail:
        head, tail = (1, 0) if len(positions) > 2 else (0, 0)
    keep = set(positions[:head]) | set(positions[len(positions) - tail :] if tail else ())
    return "".join(ch if (i in keep or not ch.isalnum()) else "*" for i, ch in enumerate(value))


# Most values are ASCII: masked by str.translate, then the few characters
# kept copied back from the ends, instead of a Python step per character.
_ASCII_ALNUM = string.ascii_letters + string.digits
_TO_STAR = str.maketrans(_ASCII_ALNUM, "*" * len(_ASCII_ALNUM))
_DROP_ALNUM = str.maketrans("", "", _ASCII_ALNUM)


def _count_alnum(value: str) -> int:
    if value.isascii():
        return len(value) - len(value.translate(_DROP_ALNUM))
    return sum(ch.isalnum() for ch in value)


def _mask_ascii(value: str, head: int, tail: int, n_alnum: int | None) -> str:
    n = _count_alnum(value) if n_alnum is None else n_alnum
    if n <= head + tail:
        head, tail = (1, 0) if n > 2 else (0, 0)
    start = _after_nth_alnum(value, head)
    end = len(value) - _after_nth_alnum(value[::-1], tail)
    return value[:start] + value[start:end].translate(_TO_STAR) + value[end:]


def _after_nth_alnum(value: str, n: int) -> int:
    """The index just after the n-th letter or digit of an ASCII string (0
    for n = 0; the end when there are fewer)."""
    if n == 0:
        return 0
    found = _nth_alnum(n).match(value)
    return found.end() if found else len(value)


@lru_cache(maxsize=8)
def _nth_alnum(n: int) -> re.Pattern[str]:
    return re.compile(rf"(?:[^A-Za-z0-9]*[A-Za-z0-9]){{{n}}}")


def _reveal_counts(n_alnum: int) -> tuple[int, int]:
    if n_alnum >= 8:
        return 2, 1
    if n_alnum >= 5:
        return 1, 1
    return 1, 0


def mask(value: str, kind: str) -> str:
    value = " ".join(value.split())  # one line, whatever the source layout
    if kind == EntityType.EMAIL_ADDRESS and "@" in value:
        local, _, domain = value.rpartition("@")
        host, dot, tld = domain.rpartition(".")
        masked_host = _mask_run(host, 1, 0) if dot else _mask_run(domain, 1, 0)
        out = f"{_mask_run(local, 1, 0)}@{masked_host}{dot}{tld if dot else ''}"
    elif kind == EntityType.PERSON:
        out = " ".join(_mask_run(word, 1, 0) for word in value.split(" "))
    else:
        n = _count_alnum(value)
        out = _mask_run(value, *_reveal_counts(n), n_alnum=n)
    if len(out) > _MAX_PREVIEW:
        out = out[: _MAX_PREVIEW - 1] + "…"
    return out
