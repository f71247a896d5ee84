"""Masked previews: enough for a person to recognise what was found, not
enough to recover the value.

Letters and digits are replaced by ``*`` except a few at the ends; spaces and
punctuation are kept so the shape stays readable (``AB ** ** ** C``).
"""

from __future__ import annotations

from shareguard.model import EntityType

_MAX_PREVIEW = 40


def _mask_run(value: str, head: int, tail: int) -> str:
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    if len(positions) <= head + tail:
        head, tail = (1, 0) if len(positions) > 2 else (0, 0)
    keep = set(positions[:head]) | set(positions[len(positions) - tail :] if tail else ())
    return "".join(ch if (i in keep or not ch.isalnum()) else "*" for i, ch in enumerate(value))


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
        n = sum(ch.isalnum() for ch in value)
        out = _mask_run(value, *_reveal_counts(n))
    if len(out) > _MAX_PREVIEW:
        out = out[: _MAX_PREVIEW - 1] + "…"
    return out
