"""Special-category (UK GDPR Art. 9) and criminal-offence (Art. 10) evidence.

Three entry points: prose (:func:`detect_special_text`), a column header
(:func:`special_from_header`) and a column's values (:func:`special_from_values`).
Every word list lives in ``data/special_*.txt`` so that the information-governance
team can extend it without touching code.

Prose matching is one Aho-Corasick pass over the phrase lists (whole words
only, checked at the match boundaries), plus one RE2 alternation for the few
phrases with a number or word wildcard, run only when one of their literal
words occurs.  Policy wording that merely *mentions* a topic ("Health and
Safety", "Criminal Justice Act") is an ``exclude`` phrase: evidence inside it
does not count.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import ahocorasick
import re2

from shareguard.detect.headerwords import NON_ALNUM, compact, match_header
from shareguard.detect.types import Candidate
from shareguard.model import SpecialCategory

DETECTOR = "special.text"
SCORE = 0.85
_EXCLUDE = "exclude"
_SERVICES = "services"
_WORDS = re.compile(r"[A-Za-z]+")
_CATEGORIES = frozenset(str(c) for c in SpecialCategory)
_SPACE = re.compile(r"\s+")


def _read_sections(name: str) -> dict[str, list[str]]:
    """``[section]`` headed lists of entries; ``#`` starts a comment line."""
    text = (files("shareguard.detect") / "data" / name).read_text(encoding="utf-8")
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), [])
        elif current is not None:
            current.append(line)
    return sections


# Length-preserving normalisation, so offsets in the folded text are offsets
# in the original: ASCII case, curly apostrophes and every kind of space.
_FOLD = str.maketrans(
    {
        **{chr(c): chr(c + 32) for c in range(65, 91)},
        "\u2019": "'",
        **dict.fromkeys("\t\n\r\x0b\x0c\xa0", " "),
    }
)
_WILD = "*"  # automaton payload of a literal word that triggers the wildcard regex


@dataclass(frozen=True, slots=True)
class _Matcher:
    automaton: Any  # folded phrase -> (category, phrase if case-sensitive else "", length)
    wildcard: Any  # RE2 regex of the <n>/<w> phrases, one named group per category
    services: frozenset[str]  # "strategy", "programme": the phrase names a service


def _fold(text: str) -> str:
    return " ".join(text.translate(_FOLD).split())


def _wild_regex(phrase: str) -> str:
    parts = []
    for word in phrase.split():
        if word == "<n>":
            parts.append(r"\d+")
        elif word == "<w>":
            parts.append(r"[A-Za-z]+")
        else:
            parts.append(re.escape(word).replace("'", "['\u2019]"))
    return r"\s+".join(parts)


@cache
def _matcher() -> _Matcher:
    automaton = ahocorasick.Automaton()
    groups: list[str] = []
    sections = _read_sections("special_phrases.txt")
    services = frozenset(_fold(w) for w in sections.pop(_SERVICES, []))
    for category, phrases in sections.items():
        if category != _EXCLUDE and category not in _CATEGORIES:
            raise ValueError(f"special_phrases.txt: unknown category [{category}]")
        wild: list[str] = []
        for phrase in phrases:
            sensitive = phrase.startswith("=")
            body = phrase.removeprefix("=")
            if "<n>" in body or "<w>" in body:
                wild.append(_wild_regex(body))
                for word in body.split():
                    if not word.startswith("<"):
                        automaton.add_word(_fold(word), (_WILD, "", 0))
            else:
                key = _fold(body)
                automaton.add_word(key, (category, body if sensitive else "", len(key)))
        if wild:
            groups.append(rf"(?P<{category}>\b(?i:{'|'.join(wild)})\b)")
    automaton.make_automaton()
    wildcard = re2.compile("|".join(groups)) if groups else None
    return _Matcher(automaton, wildcard, services)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def detect_special_text(text: str) -> list[Candidate]:
    """Evidence phrases in prose, whole words only; the longest phrase wins
    where phrases overlap, and nothing inside an ``exclude`` phrase counts."""
    matcher = _matcher()
    folded = text.translate(_FOLD)
    hits: list[tuple[int, int, str]] = []
    wild = False
    n = len(text)
    for last, (category, exact, length) in matcher.automaton.iter(folded):
        if category == _WILD:
            wild = True
            continue
        end = last + 1
        start = end - length
        if (start and _is_word(text[start - 1])) or (end < n and _is_word(text[end])):
            continue
        if exact and text[start:end] != exact:
            continue
        hits.append((start, end, category))
    if wild and matcher.wildcard is not None:
        for m in matcher.wildcard.finditer(text):
            hits.append((m.start(), m.end(), m.lastgroup))
    return _resolve(text, hits, matcher.services)


def _names_a_service(text: str, end: int, services: frozenset[str]) -> bool:
    following = _WORDS.findall(text, end, end + 40)[:2]
    return any(w.translate(_FOLD) in services for w in following)


def _resolve(
    text: str, hits: list[tuple[int, int, str]], services: frozenset[str]
) -> list[Candidate]:
    blocked = [(s, e) for s, e, c in hits if c == _EXCLUDE]
    out: list[Candidate] = []
    taken_end = -1
    for start, end, category in sorted(hits, key=lambda h: (h[0], h[0] - h[1])):
        if category == _EXCLUDE or start < taken_end:
            continue
        if any(s < end and start < e for s, e in blocked):
            continue
        if _names_a_service(text, end, services):
            continue
        out.append(Candidate(category, start, end, text[start:end], SCORE, DETECTOR))
        taken_end = end
    return out


# --------------------------------------------------------------------------- columns


def _words(text: str) -> tuple[str, ...]:
    return tuple(w for w in NON_ALNUM.split(text.casefold()) if w)


@cache
def _header_vocab() -> tuple[dict[str, str], list[tuple[tuple[str, ...], str]]]:
    """(whole-header aliases by compact form, word-sequence aliases longest first)."""
    exact: dict[str, str] = {}
    phrases: list[tuple[tuple[str, ...], str]] = []
    for category, aliases in _read_sections("special_headers.txt").items():
        if category not in _CATEGORIES:
            raise ValueError(f"special_headers.txt: unknown category [{category}]")
        for alias in aliases:
            if alias.startswith("="):
                exact[compact(alias[1:])] = category
            else:
                phrases.append((_words(alias), category))
    phrases.sort(key=lambda p: len(p[0]), reverse=True)
    return exact, phrases


def special_from_header(header: str) -> str | None:
    """The special category a column header announces, if any."""
    exact, phrases = _header_vocab()
    return match_header(header, exact, phrases, _words(header))


@cache
def _value_vocab() -> dict[str, str]:
    vocab: dict[str, str] = {}
    for category, values in _read_sections("special_values.txt").items():
        if category not in _CATEGORIES:
            raise ValueError(f"special_values.txt: unknown category [{category}]")
        for value in values:
            vocab[_SPACE.sub(" ", value.casefold())] = category
    return vocab


# A column is special when at least this share of its non-empty values is
# evidence; a single "Diabetes" among team names is not enough.
_VALUE_SHARE = 0.3
_VALUE_MIN = 2


def special_from_values(values: Sequence[str]) -> str | None:
    """The special category a column's values reveal (ethnic groups, religions,
    diagnoses, clinic codes, offences), or None."""
    vocab = _value_vocab()
    votes: Counter[str] = Counter()
    seen = 0
    for raw in values:
        value = _SPACE.sub(" ", raw.strip().casefold())
        if not value:
            continue
        seen += 1
        hit = vocab.get(value)
        if hit is None and len(value) > 3:
            found = detect_special_text(raw)
            hit = found[0].type if found else None
        if hit is not None:
            votes[hit] += 1
    if not votes:
        return None
    category = votes.most_common(1)[0][0]
    total = sum(votes.values())
    if total >= _VALUE_MIN and total >= _VALUE_SHARE * seen:
        return category
    return None
