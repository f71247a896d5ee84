"""Check-rule validators for UK identifiers and other structured personal data.

Every ``validate_*`` function takes a candidate string and returns its canonical
normalised form, or ``None`` when the value does not satisfy the identifier's
structure and check rule.  They are pure, never raise on arbitrary text, and are
cheap enough to run on every cell of a large table: patterns are precompiled and
the length/shape test comes before any arithmetic.

Structure alone is not evidence that prose contains an identifier (a mod-11
check passes one random number in eleven); context is the job of
:mod:`shareguard.detect.patterns` and the column classifier.
"""

from __future__ import annotations

import calendar
import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

import phonenumbers
from stdnum import iban as _iban
from stdnum import luhn as _luhn

from shareguard.model import EntityType

Validator = Callable[[str], "str | None"]

_SEP = re.compile(r"[\s\-]+")


def _compact(value: str) -> str:
    return _SEP.sub("", value)


def _all_same(digits: str) -> bool:
    return digits.count(digits[0]) == len(digits)


# --------------------------------------------------------------------------- NINO

# HMRC: first letter never D F I Q U V; second never D F I O Q U V; some pairs
# are administrative or were never issued.
_NINO = re.compile(
    r"([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])\s?(\d{2})\s?(\d{2})\s?(\d{2})\s?([A-D])", re.I
)
_NINO_NEVER = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def validate_nino(value: str) -> str | None:
    m = _NINO.fullmatch(value.strip())
    if m is None:
        return None
    prefix = m.group(1).upper()
    if prefix in _NINO_NEVER:
        return None
    return prefix + m.group(2) + m.group(3) + m.group(4) + m.group(5).upper()


# --------------------------------------------------------------------------- NHS

_NHS = re.compile(r"\d{3}([ -]?)\d{3}\1\d{4}")


def nhs_check_digit(nine: str) -> int | None:
    """Modulus-11 check digit for the first nine digits, or None if none exists."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 10:
        return None
    return 0 if check == 11 else check


def validate_nhs(value: str) -> str | None:
    v = value.strip()
    if _NHS.fullmatch(v) is None:
        return None
    digits = v.replace(" ", "").replace("-", "")
    if _all_same(digits) or nhs_check_digit(digits[:9]) != int(digits[9]):
        return None
    return digits


# --------------------------------------------------------------------------- bank account

_SORT = re.compile(r"(\d{2})([- ]?)(\d{2})\2(\d{2})")
_ACCOUNT = re.compile(r"\d{7,8}")
_BANK = re.compile(
    r"(\d{2}[- ]?\d{2}[- ]?\d{2})\s*(?:[/,;|:]\s*)?(\d{7,8})"
    r"|(\d{7,8})\s*[/,;|:]\s*(\d{2}[- ]\d{2}[- ]\d{2})"
)


def validate_sort_code(value: str) -> str | None:
    m = _SORT.fullmatch(value.strip())
    if m is None:
        return None
    return m.group(1) + m.group(3) + m.group(4)


def validate_account_number(value: str) -> str | None:
    """Eight digits; seven-digit numbers are padded with a leading zero."""
    v = value.strip()
    if _ACCOUNT.fullmatch(v) is None or _all_same(v):
        return None
    return v.zfill(8)


def validate_bank_account(value: str) -> str | None:
    """A sort code and account number together ("12-34-56 12345678")."""
    m = _BANK.fullmatch(value.strip())
    if m is None:
        return None
    sort, account = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    sc, acc = validate_sort_code(sort), validate_account_number(account)
    if sc is None or acc is None:
        return None
    return f"{sc}-{acc}"


# --------------------------------------------------------------------------- IBAN, card

_IBAN_SHAPE = re.compile(r"[A-Za-z]{2}\d{2}[A-Za-z0-9 ]{11,40}")


def validate_iban(value: str) -> str | None:
    v = value.strip()
    if _IBAN_SHAPE.fullmatch(v) is None:
        return None
    compact = v.replace(" ", "").upper()
    return compact if _iban.is_valid(compact) else None


_CARD_SHAPE = re.compile(r"\d[\d -]{11,22}\d")
# (prefix range low, high, allowed lengths): issuer identification ranges.
_CARD_RANGES: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})),  # Mastercard
    (2221, 2720, frozenset({16})),  # Mastercard 2-series
    (34, 34, frozenset({15})),  # American Express
    (37, 37, frozenset({15})),
    (6011, 6011, frozenset({16, 17, 18, 19})),  # Discover
    (644, 649, frozenset({16, 17, 18, 19})),
    (65, 65, frozenset({16, 17, 18, 19})),
    (622126, 622925, frozenset({16, 17, 18, 19})),
    (3528, 3589, frozenset({16, 17, 18, 19})),  # JCB
    (300, 305, frozenset({14, 16, 17, 18, 19})),  # Diners Club
    (36, 36, frozenset({14, 16, 17, 18, 19})),
    (38, 39, frozenset({16, 17, 18, 19})),
    (50, 50, frozenset(range(12, 20))),  # Maestro
    (56, 58, frozenset(range(12, 20))),
    (639, 639, frozenset(range(12, 20))),
    (6759, 6759, frozenset(range(12, 20))),
    (6761, 6763, frozenset(range(12, 20))),
    (62, 62, frozenset(range(16, 20))),  # UnionPay
)


def card_issuer_ok(digits: str) -> bool:
    n = len(digits)
    for low, high, lengths in _CARD_RANGES:
        width = len(str(low))
        if n in lengths and low <= int(digits[:width]) <= high:
            return True
    return False


def validate_card(value: str) -> str | None:
    v = value.strip()
    if _CARD_SHAPE.fullmatch(v) is None:
        return None
    digits = v.replace(" ", "").replace("-", "")
    if not 12 <= len(digits) <= 19 or _all_same(digits):
        return None
    if not card_issuer_ok(digits) or not _luhn.is_valid(digits):
        return None
    return digits


# --------------------------------------------------------------------------- passport, licence

# Nine digits (every booklet since 1988 bar the newest); the newest booklets may
# carry two letters and seven digits.  Shape only: prose needs "passport" nearby.
_PASSPORT = re.compile(r"\d{9}|[A-Z]{2}\d{7}", re.I)


def validate_passport(value: str) -> str | None:
    v = value.strip().replace(" ", "")
    if _PASSPORT.fullmatch(v) is None or _all_same(v):
        return None
    return v.upper()


# Surname (5, padded with 9), decade, month (+50 for women), day, year digit,
# two initials (padded with 9), an arbitrary digit, two check letters.
_DL = re.compile(
    r"([A-Z](?:[A-Z]{4}|[A-Z]{3}9|[A-Z]{2}99|[A-Z]999|9999))\s?"
    r"(\d)([0156]\d)([0-3]\d)(\d)\s?([A-Z][A-Z9])(\d)([A-Z]{2})",
    re.I,
)


def validate_driving_licence(value: str) -> str | None:
    m = _DL.fullmatch(value.strip())
    if m is None:
        return None
    month = int(m.group(3))
    if month > 50:
        month -= 50
    day = int(m.group(4))
    # The century is not encoded: allow 29 February.
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        return None
    return "".join(m.groups()).upper()


# --------------------------------------------------------------------------- postcode

# Royal Mail position rules: never Q V X first, never I J Z second, a limited set
# in the third position of A9A and the fourth of AA9A, never C I K M O V inward.
_PC_FIRST = "A-PR-UWYZ"
_PC_SECOND = "A-HK-Y"
_PC_INWARD = r"\d[ABD-HJLNP-UW-Z]{2}"
_POSTCODE = re.compile(
    rf"(?:(?:[{_PC_FIRST}]\d[\dABCDEFGHJKPSTUW]?)|(?:[{_PC_FIRST}][{_PC_SECOND}]\d[\dABEHMNPRVWXY]?))"
    rf"\s?{_PC_INWARD}|GIR\s?0AA",
    re.I,
)


def validate_postcode(value: str) -> str | None:
    v = value.strip()
    if not 5 <= len(v) <= 9 or _POSTCODE.fullmatch(v) is None:
        return None
    return v.replace(" ", "").upper()


# --------------------------------------------------------------------------- vehicle registration

# DVLA area letters never I J Q T U X Z; memory-tag and random letters never I or Q.
_VRM_CURRENT = re.compile(r"([A-HK-PRSVWY][A-HJ-PR-Y])(\d{2})\s?([A-HJ-PR-Z]{3})", re.I)
_VRM_PREFIX = re.compile(r"([A-HJ-NPR-TV-Y])(\d{1,3})\s?([A-HJ-PR-Y]{3})", re.I)
_VRM_SUFFIX = re.compile(r"([A-HJ-PR-Y]{3})\s?(\d{1,3})\s?([A-HJ-NPR-TV-Y])", re.I)


def vrm_age_ok(age: int, today: dt.date | None = None) -> bool:
    """Age identifiers since September 2001: 51, then 02/52, 03/53 ..."""
    today = today or dt.date.today()
    yy = today.year % 100
    if age == 51:
        return True
    if 2 <= age <= 49:
        return age < yy or (age == yy and today.month >= 3)
    if 52 <= age <= 99:
        return age - 50 < yy or (age - 50 == yy and today.month >= 9)
    return False


def validate_vehicle_reg_current(value: str) -> str | None:
    m = _VRM_CURRENT.fullmatch(value.strip())
    if m is None or not vrm_age_ok(int(m.group(2))):
        return None
    return "".join(m.groups()).upper()


def validate_vehicle_reg(value: str) -> str | None:
    """Current format, or the older prefix/suffix formats (which need context in prose)."""
    v = value.strip()
    current = validate_vehicle_reg_current(v)
    if current is not None:
        return current
    m = _VRM_PREFIX.fullmatch(v) or _VRM_SUFFIX.fullmatch(v)
    if m is None or int(m.group(2)) == 0:
        return None
    return "".join(m.groups()).upper()


# --------------------------------------------------------------------------- phone, e-mail, IP

_PHONE_SHAPE = re.compile(r"(?:\+|00|\(?0)[\d\s().\-]{8,20}")


def validate_phone(value: str, region: str = "GB", *, strict: bool = True) -> str | None:
    """E.164 form of a number valid by libphonenumber's allocation data.

    ``strict=False`` accepts any number of a possible length for its country:
    for callers that already know the value is a phone number (a "Tel" label or
    column), since test and newly allocated ranges fail the strict check."""
    v = value.strip()
    if _PHONE_SHAPE.fullmatch(v) is None:
        return None
    if v.startswith("00"):
        v = "+" + v[2:]
    try:
        num = phonenumbers.parse(v, region)
    except phonenumbers.NumberParseException:
        return None
    ok = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    if not ok(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def validate_email(value: str) -> str | None:
    v = value.strip()
    if len(v) > 254 or _EMAIL.fullmatch(v) is None or len(v.split("@", 1)[0]) > 64:
        return None
    return v.lower()


_IP_SHAPE = re.compile(r"[0-9A-Fa-f:.]{2,45}")


def validate_ip(value: str) -> str | None:
    v = value.strip()
    if _IP_SHAPE.fullmatch(v) is None:
        return None
    try:
        addr = ipaddress.ip_address(v)
    except ValueError:
        return None
    if addr.is_unspecified or addr.is_loopback or addr.is_multicast:
        return None
    return str(addr)


# --------------------------------------------------------------------------- street address

STREET_TYPES: tuple[str, ...] = tuple(
    "Road Rd Street St Lane Ln Avenue Ave Close Drive Dr Grove Crescent Cres Terrace Way "
    "Gardens Court Ct Mount Place Pl Square Sq Hill Row Walk Parade Rise View Park Green "
    "Mews Vale Wharf Yard Gate Fold Croft Chase Boulevard Esplanade Embankment Circus Quay "
    "Villas Cottages Heights Meadow Meadows Bank Brow Causeway Approach Glade Grange Garth "
    "Lea Wynd Broadway Passage Mead Dale Gardens Mall Circle".split()
)
_TYPES_ALT = "|".join(sorted(set(STREET_TYPES), key=len, reverse=True))
STREET_CORE = (
    r"(?:(?:Flat|Apartment|Apt|Unit|Room|Maisonette)\.? \d{1,4}[A-Za-z]?,? )?"
    r"\d{1,4}[A-Za-z]?(?:-\d{1,4}[A-Za-z]?)?,? "
    r"(?:[A-Z][A-Za-z'’.-]* ){1,3}"
    rf"(?:{_TYPES_ALT})\b"
)
_STREET_CELL = re.compile(STREET_CORE + r"\.?(?:,? [A-Z][A-Za-z'’ -]*)*")


def validate_street_address(value: str) -> str | None:
    v = " ".join(value.split())
    if len(v) > 120 or _STREET_CELL.fullmatch(v) is None:
        return None
    return v.casefold()


# --------------------------------------------------------------------------- dates

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_DMY = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_DATE_YMD = re.compile(r"(\d{4})([/.-])(\d{1,2})\2(\d{1,2})")
_DATE_TEXT = re.compile(
    rf"(\d{{1,2}})(?:st|nd|rd|th)?(?: of)?[ -]({_MONTH_ALT})\.?,?[ -](\d{{4}})", re.I
)
_DATE_TEXT_US = re.compile(rf"({_MONTH_ALT})\.? (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})", re.I)


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_date(value: str) -> dt.date | None:
    """Parse the common UK written forms; day-first for numeric dates."""
    v = " ".join(value.split())
    if not 8 <= len(v) <= 30:
        return None
    if m := _DATE_DMY.fullmatch(v):
        return _make_date(int(m.group(4)), int(m.group(3)), int(m.group(1)))
    if m := _DATE_YMD.fullmatch(v):
        return _make_date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
    if m := _DATE_TEXT.fullmatch(v):
        return _make_date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    if m := _DATE_TEXT_US.fullmatch(v):
        return _make_date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
    return None


def plausible_birth_date(d: dt.date, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    if d > today:
        return False
    age = today.year - d.year - ((today.month, today.day) < (d.month, d.day))
    return age <= 120


def validate_dob_cell(value: str, today: dt.date | None = None) -> str | None:
    d = parse_date(value)
    if d is None or not plausible_birth_date(d, today):
        return None
    return d.isoformat()


def _dob(value: str) -> str | None:
    return validate_dob_cell(value)


# --------------------------------------------------------------------------- registry

CELL_VALIDATORS: Mapping[str, Validator] = MappingProxyType(
    {
        EntityType.EMAIL_ADDRESS.value: validate_email,
        EntityType.PHONE_NUMBER.value: validate_phone,
        EntityType.STREET_ADDRESS.value: validate_street_address,
        EntityType.UK_POSTCODE.value: validate_postcode,
        EntityType.DATE_OF_BIRTH.value: _dob,
        EntityType.UK_NINO.value: validate_nino,
        EntityType.UK_NHS.value: validate_nhs,
        EntityType.UK_BANK_ACCOUNT.value: validate_bank_account,
        EntityType.IBAN_CODE.value: validate_iban,
        EntityType.CREDIT_CARD.value: validate_card,
        EntityType.UK_PASSPORT.value: validate_passport,
        EntityType.UK_DRIVING_LICENCE.value: validate_driving_licence,
        EntityType.UK_VEHICLE_REG.value: validate_vehicle_reg,
        EntityType.IP_ADDRESS.value: validate_ip,
    }
)
