"""The prose pattern pass: linear-time candidates, then validators and context.

Each rule is one google-re2 pattern (linear time, no backtracking) whose hits
are handed to a small check function: the check-rule validator from
:mod:`shareguard.detect.identifiers` plus, where the shape alone proves little,
evidence from a bounded window of surrounding text.  Context words are matched
as whole words, never as substrings ("public liability" is not "b.").

A 10-digit number that passes mod 11 still needs a reason to be an NHS number:
an "NHS" word nearby, 3-3-4 formatting, or other personal data within about
100 characters; a nearer word such as "invoice", "credit note" or "order"
vetoes the weaker reasons, and a "+44 (0)" prefix or a phone cue makes it a
phone.  A UK phone without a cue word must be a valid allocated number, or
written as one (a +44 or bracketed area code, or 11 digits in phone groups).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import re2

from shareguard.detect import identifiers as ids
from shareguard.detect.types import Candidate
from shareguard.model import EntityType as E

_BEFORE = 40  # characters of left context searched for label words
_NEARBY = 100  # characters within which other personal data supports an NHS number


def _words(*words: str) -> re.Pattern[str]:
    alts = "|".join(words)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alts})(?![A-Za-z0-9])", re.I)


_CTX_NHS = _words(r"nhs", r"chi", r"patient", r"nhs\s*(?:no|num|number)\.?")
_NEGATIVE_WORDS = (
    "invoice",
    "inv",
    "asset",
    "order",
    "po",
    "serial",
    "ref",
    "reference",
    "tag",
    "certificate",
    "cert",
    "account",
    "acct",
    "a/c",
    "policy",
    "ticket",
    "transaction",
    "txn",
    "barcode",
    "sku",
    "part",
    "product",
    "item",
    "batch",
    "lot",
    "isbn",
    "form",
    "receipt",
    "contract",
    "job",
    "claim",
    "tracking",
    "voucher",
    "booking",
    "licence",
    "license",
    "membership",
    "employee",
    "payroll",
    "supplier",
    "vendor",
    "case",
    "docket",
    "parcel",
    "consignment",
    "model",
)
_CTX_NEGATIVE = _words(*_NEGATIVE_WORDS)
# Documents and transactions with ten-digit numbers of their own: these veto
# an NHS number but say nothing against a card ("refund to card ...").
_CTX_NOT_NHS = _words(
    *_NEGATIVE_WORDS,
    "note",
    "quote",
    "quotation",
    "estimate",
    "statement",
    "remittance",
    "bill",
    "cheque",
    "payment",
    "refund",
    "dispatch",
    "despatch",
    "delivery",
    "shipment",
    "incident",
    "request",
    "requisition",
    "purchase",
    "loan",
    "mortgage",
    "agreement",
    "mandate",
    "meter",
    "uprn",
    "mpan",
    "tenancy",
    "customer",
)
_CTX_CARD = _words("card", "visa", "mastercard", "amex", "maestro", "credit", "debit", "pan")
_CTX_PHONE = _words(
    "tel",
    "telephone",
    "phone",
    "mobile",
    "mob",
    "call",
    "fax",
    "contact",
    "landline",
    "reached",
    "ring",
    "dial",
    "helpline",
    "switchboard",
    "whatsapp",
    "sms",
    r"text(?:ed)?",
)
_CTX_PASSPORT = _words("passport")
_CTX_DL = _words(r"driving\s+licen[cs]e", r"driver'?s?\s+licen[cs]e", "dl", "licence", "license")
_CTX_VRM = _words(
    "reg",
    "registration",
    "vrm",
    "vehicle",
    "car",
    "van",
    "motorcycle",
    r"number\s*plate",
    "plate",
    "index",
)
_CTX_BANK = _words(r"sort\s*code", "account", "acct", "a/c", "bank")
_CTX_ADDRESS = _words(
    "address",
    "postcode",
    r"post\s*code",
    "lives",
    "living",
    "resides",
    "resident",
    "moved",
    *ids.STREET_TYPES,
)
_CTX_VERSION = _words("v", "ver", "version", "release", "section", "build", "rule", "clause")
# Birth evidence directly before the date, with only filler words between.
_DOB_BEFORE = re.compile(
    r"(?:(?<![A-Za-z])(?:dob|d\.o\.b\.?|date\s+of\s+birth|birth\s*date|birthday|born)(?![A-Za-z])"
    r"[\s:.,()\-]*(?:(?:on|in|the|is|was|falls|fell|dd/mm/yyyy)[\s:.,()\-]*)*"
    r"|(?<![A-Za-z])b\.\s*)$",
    re.I,
)
_DOB_BEFORE_LOOSE = re.compile(
    r"(?<![A-Za-z])(?:dob|d\.o\.b|date\s+of\s+birth|born)(?![A-Za-z])[^\d\n]{0,30}$", re.I
)
_DOB_AFTER = re.compile(r"\s*[(\[]?\s*(?:dob|d\.o\.b\.?|date\s+of\s+birth)(?![A-Za-z])", re.I)
_HEADER_LINE = re.compile(r"(?:message-id|references|in-reply-to|content-id)\s*:", re.I)


@dataclass(frozen=True, slots=True)
class _Rule:
    detector: str
    pattern: re2._Regexp
    check: Callable[[str, int, int, str], Candidate | None]


def _before(text: str, start: int, width: int = _BEFORE) -> str:
    return text[max(0, start - width) : start]


def _last(rx: re.Pattern[str], window: str) -> int:
    """End offset of the last match of ``rx`` in ``window``, -1 if none."""
    end = -1
    for m in rx.finditer(window):
        end = m.end()
    return end


def _label(
    text: str, start: int, positive: re.Pattern[str], negative: re.Pattern[str] = _CTX_NEGATIVE
) -> int:
    """+1 if a positive label word is the nearest label before ``start``,
    -1 if a negative one is, 0 if neither appears."""
    window = _before(text, start)
    pos, neg = _last(positive, window), _last(negative, window)
    # A label describes the next number only: "patient meals, 5283.11, 4928064585"
    # does not make the last number a patient's.
    best = max(pos, neg)
    if best < 0 or any(ch.isdigit() for ch in window[best:]):
        return 0
    return 1 if pos > neg else -1


def _cand(etype: E, s: int, e: int, value: str, score: float, det: str, norm: str) -> Candidate:
    return Candidate(etype.value, s, e, value, score, f"pattern.{det}", norm)


def _digit_neighbour(text: str, s: int, e: int) -> bool:
    return (s > 0 and text[s - 1].isdigit()) or (e < len(text) and text[e].isdigit())


# --------------------------------------------------------------------------- checks


def _email(text: str, s: int, e: int, v: str) -> Candidate | None:
    norm = ids.validate_email(v)
    line_start = text.rfind("\n", 0, s) + 1
    if norm is None or _HEADER_LINE.search(text, line_start, s):
        return None
    return _cand(E.EMAIL_ADDRESS, s, e, v, 0.95, "email", norm)


# A national UK number written in phone groupings: 11 digits from a leading 0,
# in groups ("0115 352 7479", "07672 284302", "0115-435-1003").  An
# NHS number (10 digits, 3-3-4) or an invoice number (one run) never has it.
_PHONE_GROUPED = re.compile(r"0\d{2,4}(?:[ -]\d{3,6}){1,3}")
_FIELD_BREAK = re.compile(r".*[|;()\n]", re.S)


def _phone_grouped(v: str) -> bool:
    if v.startswith(("+44", "(0")):
        return True  # the country code or a bracketed area code says "phone"
    digits = sum(ch.isdigit() for ch in v)
    return digits == 11 and _PHONE_GROUPED.fullmatch(v) is not None


def _phone_vetoed(text: str, s: int) -> bool:
    """A negative label word ("invoice", "order") in the same field, right before."""
    window = _before(text, s, 25)
    brk = _FIELD_BREAK.match(window)
    if brk is not None:
        window = window[brk.end() :]
    end = _last(_CTX_NEGATIVE, window)
    return end >= 0 and not any(ch.isdigit() for ch in window[end:])


def _phone(text: str, s: int, e: int, v: str) -> Candidate | None:
    if s > 0 and (text[s - 1].isalnum() or text[s - 1] in "+-/."):
        return None
    if v.startswith("(") and ")" not in v:
        s, v = s + 1, v[1:]  # "(0113 496 0777)": the bracket encloses the number
    labelled = _label(text, s, _CTX_PHONE) > 0
    # The pattern is generous on the right; drop trailing groups until valid.
    for _ in range(4):
        norm = ids.validate_phone(v, strict=not (labelled or _phone_grouped(v)))
        if norm is not None:
            break
        cut = max(v.rfind(" "), v.rfind("-"), v.rfind("."))
        if cut <= 0:
            return None
        v = v[:cut].rstrip(" -.(")
    else:
        return None
    if not labelled and _phone_vetoed(text, s):
        return None
    return _cand(E.PHONE_NUMBER, s, s + len(v), v, 0.9 if labelled else 0.8, "phone", norm)


def _postcode(text: str, s: int, e: int, v: str) -> Candidate | None:
    norm = ids.validate_postcode(v)
    if norm is None:
        return None
    if not v.isupper():
        # Lower- or mixed-case postcodes are too easily ordinary words.
        if _CTX_ADDRESS.search(_before(text, s, 60)) is None:
            return None
        return _cand(E.UK_POSTCODE, s, e, v, 0.7, "postcode", norm)
    return _cand(E.UK_POSTCODE, s, e, v, 0.9, "postcode", norm)


def _nino(text: str, s: int, e: int, v: str) -> Candidate | None:
    norm = ids.validate_nino(v)
    return None if norm is None else _cand(E.UK_NINO, s, e, v, 0.95, "nino", norm)


# "+44 (0)191 213 2044": the national part of an international phone number.
_PHONE_PREFIX = re.compile(r"(?:\+\d{1,3}[ .-]?(?:\(0\))?|\(0\))[ .-]?$")
# Issued NHS/CHI/H&C ranges start 0-4, 6 or 7; other leading digits need a label.
_NHS_ISSUED = frozenset("0123467")


def _nhs(text: str, s: int, e: int, v: str) -> Candidate | None:
    norm = ids.validate_nhs(v)
    if norm is None:
        return None
    label = _label(text, s, _CTX_NHS, _CTX_NOT_NHS)
    if label > 0:
        return _cand(E.UK_NHS, s, e, v, 0.95, "nhs", norm)
    if label < 0 or norm[0] not in _NHS_ISSUED or _PHONE_PREFIX.search(_before(text, s, 8)):
        return None
    if _label(text, s, _CTX_PHONE) > 0:
        return None  # "Tel 020 7946 0018" is read as a phone, not as 020 794 6001 8
    formatted = len(v) > 10
    # Provisional: unformatted numbers are kept only if other personal data is near.
    return _cand(E.UK_NHS, s, e, v, 0.75 if formatted else 0.0, "nhs", norm)


def _card(text: str, s: int, e: int, v: str) -> Candidate | None:
    norm = ids.validate_card(v)
    if norm is None:
        return None
    label = _label(text, s, _CTX_CARD)
    if label < 0 or (label == 0 and len(v) == len(norm)):
        return None  # a bare digit run needs the word "card" or similar
    return _cand(E.CREDIT_CARD, s, e, v, 0.95 if label else 0.8, "card", norm)


def _iban(text: str, s: int, e: int, v: str) -> Candidate | None:
    norm = ids.validate_iban(v)
    return None if norm is None else _cand(E.IBAN_CODE, s, e, v, 0.95, "iban", norm)


def _bank(text: str, s: int, e: int, v: str) -> Candidate | None:
    m = _BANK_PARTS.search(v)
    if m is None:
        return None
    sort, acc = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    sc, an = ids.validate_sort_code(sort), ids.validate_account_number(acc)
    if sc is None or an is None:
        return None
    labelled = _CTX_BANK.search(_before(text, s) + v) is not None
    if not labelled and (sort.isdigit() or _label(text, s, _CTX_BANK) < 0):
        return None  # two bare numbers, or "batch 49-72-13 / 12345678", prove nothing
    score = 0.9 if labelled else 0.75
    lead = next(i for i, ch in enumerate(v) if ch.isdigit())  # "account 1234..." starts at 1
    s, v = s + lead, v[lead:]
    return _cand(E.UK_BANK_ACCOUNT, s, e, v, score, "bank_account", f"{sc}-{an}")


_BANK_PARTS = re.compile(
    r"(?:(\d{2}[- ]?\d{2}[- ]?\d{2})\D+?(\d{7,8}))|(?:(\d{7,8})\D+?(\d{2}[- ]?\d{2}[- ]?\d{2}))"
)


def _passport(text: str, s: int, e: int, v: str) -> Candidate | None:
    norm = ids.validate_passport(v)
    if norm is None or _label(text, s, _CTX_PASSPORT) <= 0:
        return None
    return _cand(E.UK_PASSPORT, s, e, v, 0.9, "passport", norm)


def _licence(text: str, s: int, e: int, v: str) -> Candidate | None:
    norm = ids.validate_driving_licence(v)
    if norm is None:
        return None
    score = 0.95 if _CTX_DL.search(_before(text, s)) else 0.85
    return _cand(E.UK_DRIVING_LICENCE, s, e, v, score, "driving_licence", norm)


def _vrm(text: str, s: int, e: int, v: str) -> Candidate | None:
    labelled = _CTX_VRM.search(_before(text, s, 30)) is not None
    norm = ids.validate_vehicle_reg_current(v)
    if norm is None:
        if not labelled or not v.isupper():
            return None  # pre-2001 formats look like too many other codes
        norm = ids.validate_vehicle_reg(v)
        if norm is None:
            return None
    elif not v.isupper():
        return None
    return _cand(E.UK_VEHICLE_REG, s, e, v, 0.9 if labelled else 0.6, "vehicle_reg", norm)


def _ip(text: str, s: int, e: int, v: str) -> Candidate | None:
    if e < len(text) - 1 and text[e] in ".:" and text[e + 1].isalnum():
        return None  # part of a longer dotted number (section 1.2.3.4.5)
    if s > 0 and (text[s - 1].isalnum() or text[s - 1] in ".:"):
        return None
    if "." in v and _CTX_VERSION.search(_before(text, s, 15)):
        return None
    norm = ids.validate_ip(v)
    return None if norm is None else _cand(E.IP_ADDRESS, s, e, v, 0.85, "ip", norm)


def _date(text: str, s: int, e: int, v: str) -> Candidate | None:
    if _digit_neighbour(text, s, e):
        return None
    window = _before(text, s, 50)
    direct = _DOB_BEFORE.search(window) is not None
    if (
        not direct
        and _DOB_BEFORE_LOOSE.search(window) is None
        and _DOB_AFTER.match(text, e, min(len(text), e + 20)) is None
    ):
        return None
    d = ids.parse_date(v)
    if d is None or not ids.plausible_birth_date(d):
        return None
    return _cand(E.DATE_OF_BIRTH, s, e, v, 0.95 if direct else 0.85, "dob", d.isoformat())


_TOWN_TAIL = re.compile(
    r",? ([A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})(?=,? (?:[A-Z]{1,2}\d)|\s*$)", re.M
)


def _street(text: str, s: int, e: int, v: str) -> Candidate | None:
    # Include a following town when a postcode (or the line end) closes it.
    tail = _TOWN_TAIL.match(text, e, min(len(text), e + 40))
    if tail is not None:
        e = tail.end()
        v = text[s:e]
    norm = " ".join(v.split()).casefold()
    return _cand(E.STREET_ADDRESS, s, e, v, 0.8, "street_address", norm)


# A street named without a street word ("24 Northgate", "115a The Paddock") is
# an address only when a postcode closes it (after an optional town, on the
# same line or the next) or an address word comes just before.
_BARE_STREET_CLOSE = re.compile(
    r"((?:,? [A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})?)(?:,? ?\(?|[ \t]*\n[ \t]*)"
    r"([A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b"
)
_CTX_BARE_STREET = _words(
    "address",
    "lives",
    "lived",
    "living",
    "resides",
    "moved",
    "correspondence",
    r"(?:sent|go|goes|write|deliver(?:ed)?)\s+to",
)


def _bare_street(text: str, s: int, e: int, v: str) -> Candidate | None:
    close = _BARE_STREET_CLOSE.match(text, e, min(len(text), e + 60))
    if close is not None and ids.validate_postcode(close.group(2)) is not None:
        e = close.end(1)
        v = text[s:e]
        norm = " ".join(v.split()).casefold()
        return _cand(E.STREET_ADDRESS, s, e, v, 0.75, "street_address", norm)
    if _CTX_BARE_STREET.search(_before(text, s, 30)) is None:
        return None
    c = _street(text, s, e, v)
    return None if c is None else c._replace(score=0.7)


# --------------------------------------------------------------------------- rules

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)


# "account", "acc no.", "a/c number:", "acct #" before an account number.
_ACCOUNT_WORD = (
    r"(?:a/c|acc(?:oun)?t|acc)\.?(?:[ \t]+(?:no|num(?:ber)?)\.?|[ \t]*#)?[ \t]*[:.#]?[ \t]*"
)


def _re2(pattern: str) -> re2._Regexp:
    return re2.compile(pattern)


_RULES: tuple[_Rule, ...] = (
    _Rule(
        "email",
        _re2(
            r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
        ),
        _email,
    ),
    _Rule(
        "phone",
        _re2(r"(?:\+\d{1,3}[ .-]?(?:\(0\)[ .-]?)?\(?\d|\(0\d|\b0\d)[\d ().-]{7,16}\d"),
        _phone,
    ),
    _Rule("postcode", _re2(r"(?i)\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}\b"), _postcode),
    _Rule("nino", _re2(r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"), _nino),
    _Rule("nhs", _re2(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b"), _nhs),
    _Rule(
        "card",
        _re2(r"\b(?:\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}|\d{4}[ -]?\d{6}[ -]?\d{4,5})\b"),
        _card,
    ),
    _Rule(
        "iban",
        _re2(r"\b[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)\b"),
        _iban,
    ),
    _Rule(
        "bank_account",
        _re2(
            rf"(?i)\b\d{{2}}[- ]?\d{{2}}[- ]?\d{{2}}[ \t]*[,;/|:&]?[ \t]*(?:(?:and|&)[ \t]+)?"
            rf"(?:{_ACCOUNT_WORD})?\d{{7,8}}\b"
            rf"|\b{_ACCOUNT_WORD}\d{{7,8}}\b[^\n\d]{{0,30}}?"
            r"\b(?:sort[ -]?code|s/c)[ \t:.]*\d{2}[- ]?\d{2}[- ]?\d{2}\b"
        ),
        _bank,
    ),
    _Rule("passport", _re2(r"\b(?:\d{9}|[A-Z]{2}\d{7})\b"), _passport),
    _Rule(
        "driving_licence",
        _re2(r"\b[A-Z][A-Z9]{4} ?\d{6} ?[A-Z][A-Z9]\d[A-Z]{2}\b"),
        _licence,
    ),
    _Rule(
        "vehicle_reg",
        _re2(r"\b(?:[A-Z]{2}\d{2} ?[A-Z]{3}|[A-Z]\d{1,3} ?[A-Z]{3}|[A-Z]{3} ?\d{1,3} ?[A-Z])\b"),
        _vrm,
    ),
    _Rule(
        "ip",
        _re2(r"(?i)\b\d{1,3}(?:\.\d{1,3}){3}\b|(?:\b[0-9a-f]{1,4}|:)(?::[0-9a-f]{0,4}){2,7}\b"),
        _ip,
    ),
    _Rule(
        "dob",
        _re2(
            rf"(?i)\b(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{4}}|\d{{4}}[/.-]\d{{1,2}}[/.-]\d{{1,2}}"
            rf"|\d{{1,2}}(?:st|nd|rd|th)?(?: of)?[ -]{_MONTHS}\.?,?[ -]\d{{4}}"
            rf"|{_MONTHS}\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})\b"
        ),
        _date,
    ),
    _Rule("street_address", _re2(r"\b" + ids.STREET_CORE), _street),
    _Rule(
        "street_address",
        _re2(
            r"\b(?:(?:Flat|Apartment|Apt|Unit)\.? \d{1,4}[A-Za-z]?,? )?\d{1,3}[A-Za-z]?,? "
            r"(?:The [A-Z][a-z]+|[A-Z][a-z]+(?:gate|way|side|field|fields|bourne|hurst|lands))\b"
        ),
        _bare_street,
    ),
)

_DATE_RULE_INDEX = next(i for i, r in enumerate(_RULES) if r.detector == "dob")

# Types whose presence nearby supports a bare 10-digit mod-11 number being an NHS number.
_SUPPORTING = frozenset(
    {E.DATE_OF_BIRTH, E.UK_POSTCODE, E.UK_NINO, E.STREET_ADDRESS, E.EMAIL_ADDRESS, E.PHONE_NUMBER}
)


def _raw(text: str) -> Iterator[Candidate]:
    for rule in _RULES:
        for m in rule.pattern.finditer(text):
            c = rule.check(text, m.start(), m.end(), m.group())
            if c is not None:
                yield c


def _resolve_nhs(cands: list[Candidate]) -> list[Candidate]:
    support = sorted(c.start for c in cands if c.type in _SUPPORTING)
    out: list[Candidate] = []
    for c in cands:
        if c.type == E.UK_NHS and c.score < 0.9:
            i = bisect.bisect_left(support, c.start - _NEARBY)
            near = i < len(support) and support[i] <= c.end + _NEARBY
            if near:
                c = _cand(E.UK_NHS, c.start, c.end, c.value, 0.85, "nhs", c.key)
            elif c.score == 0.0:
                continue
        out.append(c)
    return out


def _without_overlaps(cands: list[Candidate]) -> list[Candidate]:
    """Keep the best of each group of overlapping candidates."""
    kept: list[Candidate] = []
    for c in sorted(cands, key=lambda c: (c.start, -c.end)):
        if kept and c.start < kept[-1].end:
            prev = kept[-1]
            if (c.score, c.end - c.start) > (prev.score, prev.end - prev.start):
                kept[-1] = c
            continue
        kept.append(c)
    return kept


# A table laid out as text (a PDF's text layer, a fixed-width report): a header
# line naming a birth-date column, then rows, one per line, each with a date.
_BIRTH_WORD = re.compile(
    r"(?i)(?<![A-Za-z])(?:dob|d\.o\.b\.?|date\s+of\s+birth|birth\s*date|born)(?![A-Za-z])"
)
_DATE_LABEL = re.compile(
    r"(?i)(?<![A-Za-z])(?:dob|d\.o\.b\.?|date\s+of\s+birth|birth\s*date|born|"
    r"[a-z]*\s?date|[a-z]*dt)(?![A-Za-z])"
)
_MAX_TABLE_LINES = 100_000


def _line_at(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def _text_table_dobs(text: str) -> Iterator[Candidate]:
    """Dates in the birth-date column of a table laid out as lines of text.

    Each line is matched as its own slice: re2 with pos/endpos re-encodes the
    whole text on every call, which would make a long table quadratic."""
    dates = _RULES[_DATE_RULE_INDEX].pattern
    done: set[int] = set()
    for word in _BIRTH_WORD.finditer(text):
        start, end = _line_at(text, word.start())
        line = text[start:end]
        if start in done or dates.search(line):
            continue  # a sentence with a date in it is not a column header
        done.add(start)
        labels = [m.group() for m in _DATE_LABEL.finditer(line)]
        column = next((i for i, lab in enumerate(labels) if _BIRTH_WORD.search(lab)), 0)
        for _ in range(_MAX_TABLE_LINES):
            if end + 1 >= len(text):
                break
            start, end = _line_at(text, end + 1)
            found = list(dates.finditer(text[start:end]))
            if not found:
                break  # the table ends at a blank line or a row without a date
            if len(found) == 1:
                pick = found[0]
            elif len(found) == len(labels):
                pick = found[column]
            else:
                continue
            s, e = start + pick.start(), start + pick.end()
            d = ids.parse_date(pick.group())
            if d is not None and ids.plausible_birth_date(d) and not _digit_neighbour(text, s, e):
                yield _cand(E.DATE_OF_BIRTH, s, e, pick.group(), 0.85, "dob", d.isoformat())


def detect_patterns(text: str) -> list[Candidate]:
    """All pattern-detected entities in ``text``, without overlaps, in text order."""
    if not text:
        return []
    cands = list(_raw(text))
    cands.extend(_text_table_dobs(text))
    return _without_overlaps(_resolve_nhs(cands))
