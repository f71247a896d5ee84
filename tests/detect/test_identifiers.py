"""Property and example tests for the check-rule validators."""

from __future__ import annotations

import datetime as dt
import ipaddress

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum import luhn

from shareguard.detect import identifiers as ids
from shareguard.model import EntityType

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def n_digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


# --------------------------------------------------------------------------- NINO

NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"


@st.composite
def ninos(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(NINO_FIRST)) + draw(st.sampled_from(NINO_SECOND))
    assume(prefix not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
    return prefix + draw(n_digits(6)) + draw(st.sampled_from("ABCD"))


def spaced_nino(n: str) -> str:
    return f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:8]} {n[8]}"


@given(ninos(), st.booleans(), st.booleans())
def test_valid_nino_round_trips(nino: str, spaced: bool, lower: bool) -> None:
    shown = spaced_nino(nino) if spaced else nino
    assert ids.validate_nino(shown.lower() if lower else shown) == nino


@given(ninos(), st.sampled_from("DFIQUV"))
def test_nino_bad_first_letter_rejected(nino: str, bad: str) -> None:
    assert ids.validate_nino(bad + nino[1:]) is None


@given(ninos(), st.sampled_from("DFIOQUV"))
def test_nino_bad_second_letter_rejected(nino: str, bad: str) -> None:
    assert ids.validate_nino(nino[0] + bad + nino[2:]) is None


@given(ninos(), st.sampled_from("EFGHXYZ"))
def test_nino_bad_suffix_rejected(nino: str, bad: str) -> None:
    assert ids.validate_nino(nino[:-1] + bad) is None


@pytest.mark.parametrize("prefix", ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"])
def test_nino_never_issued_prefixes(prefix: str) -> None:
    assert ids.validate_nino(prefix + "123456A") is None


# --------------------------------------------------------------------------- NHS


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    nine = draw(n_digits(9))
    check = ids.nhs_check_digit(nine)
    assume(check is not None and len(set(nine + str(check))) > 1)
    return nine + str(check)


@given(nhs_numbers(), st.sampled_from(["", " ", "-"]))
def test_valid_nhs_round_trips(nhs: str, sep: str) -> None:
    assert ids.validate_nhs(f"{nhs[:3]}{sep}{nhs[3:6]}{sep}{nhs[6:]}") == nhs


@given(nhs_numbers(), st.integers(0, 9), st.integers(1, 9))
def test_nhs_single_digit_change_rejected(nhs: str, pos: int, delta: int) -> None:
    changed = nhs[:pos] + str((int(nhs[pos]) + delta) % 10) + nhs[pos + 1 :]
    assert ids.validate_nhs(changed) is None


def test_nhs_examples() -> None:
    assert ids.validate_nhs("943 476 5919") == "9434765919"
    assert ids.validate_nhs("0000000000") is None  # passes mod 11, never issued
    assert ids.validate_nhs("943 4765919") is None  # mixed grouping
    assert ids.validate_nhs("94347659190") is None


@given(n_digits(9))
def test_nhs_remainder_ten_has_no_valid_number(nine: str) -> None:
    if ids.nhs_check_digit(nine) is None:
        assert all(ids.validate_nhs(nine + d) is None for d in "0123456789")


# --------------------------------------------------------------------------- bank, IBAN, card


@given(n_digits(6), n_digits(8), st.sampled_from(["-", " ", ""]), st.sampled_from([" ", "/", ", "]))
def test_bank_account_round_trips(sort: str, acc: str, sep: str, join: str) -> None:
    assume(len(set(acc)) > 1)
    shown = f"{sort[:2]}{sep}{sort[2:4]}{sep}{sort[4:]}{join}{acc}"
    assert ids.validate_bank_account(shown) == f"{sort}-{acc}"


def test_bank_account_pads_seven_digits() -> None:
    assert ids.validate_bank_account("12-34-56 1234567") == "123456-01234567"
    assert ids.validate_bank_account("12-34-56") is None
    assert ids.validate_sort_code("12-34 56") is None


@st.composite
def gb_ibans(draw: st.DrawFn) -> str:
    bank = draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=4))
    bban = bank + draw(n_digits(14))
    return "GB" + stdnum_iban.calc_check_digits("GB00" + bban) + bban


@given(gb_ibans(), st.booleans())
def test_valid_iban_round_trips(iban: str, grouped: bool) -> None:
    shown = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if grouped else iban
    assert ids.validate_iban(shown) == iban


@given(gb_ibans(), st.integers(8, 21), st.integers(1, 9))
def test_iban_single_digit_change_rejected(iban: str, pos: int, delta: int) -> None:
    changed = iban[:pos] + str((int(iban[pos]) + delta) % 10) + iban[pos + 1 :]
    assert ids.validate_iban(changed) is None


@st.composite
def cards(draw: st.DrawFn) -> str:
    prefix, length = draw(
        st.sampled_from([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16),
                         ("34", 15), ("37", 15), ("6011", 16), ("3530", 16)])
    )
    body = prefix + draw(n_digits(length - len(prefix) - 1))
    assume(len(set(body)) > 1)
    return body + luhn.calc_check_digit(body)


@given(cards(), st.sampled_from(["", " ", "-"]))
def test_valid_card_round_trips(card: str, sep: str) -> None:
    shown = sep.join(card[i : i + 4] for i in range(0, len(card), 4))
    assert ids.validate_card(shown) == card


@given(cards(), st.integers(1, 14), st.integers(1, 9))
def test_card_single_digit_change_rejected(card: str, pos: int, delta: int) -> None:
    changed = card[:pos] + str((int(card[pos]) + delta) % 10) + card[pos + 1 :]
    assert ids.validate_card(changed) is None


def test_card_issuer_ranges() -> None:
    assert ids.validate_card("4111 1111 1111 1111") == "4111111111111111"
    assert ids.validate_card("5555555555554444") == "5555555555554444"
    assert ids.validate_card("0000 0000 0000 0000") is None  # Luhn-valid, no issuer
    assert ids.validate_card("9111111111111111") is None
    maestro = "560000000000000"
    maestro += luhn.calc_check_digit(maestro)
    assert ids.validate_card(maestro) == maestro


# --------------------------------------------------------------------------- passport, licence


def test_passport_shapes() -> None:
    assert ids.validate_passport("123456789") == "123456789"
    assert ids.validate_passport("ab1234567") == "AB1234567"
    assert ids.validate_passport("12345678") is None
    assert ids.validate_passport("111111111") is None


@st.composite
def licences(draw: st.DrawFn) -> tuple[str, dt.date, bool]:
    surname = draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=5))
    born = draw(st.dates(dt.date(1920, 1, 1), dt.date(2009, 12, 31)))
    female = draw(st.booleans())
    initials = draw(st.sampled_from("ABCJMS")) + draw(st.sampled_from("ABCJMS9"))
    month = born.month + (50 if female else 0)
    yy = f"{born.year % 100:02d}"
    value = (
        surname.ljust(5, "9") + yy[0] + f"{month:02d}" + f"{born.day:02d}" + yy[1]
        + initials
        + draw(digits)
        + draw(st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ", min_size=2, max_size=2))
    )
    return value, born, female


@given(licences())
def test_driving_licence_round_trips(lic: tuple[str, dt.date, bool]) -> None:
    value, _, _ = lic
    assert ids.validate_driving_licence(value) == value
    assert ids.validate_driving_licence(value.lower()) == value


@pytest.mark.parametrize(
    "value",
    ["MORGA754316SM9IJ", "MORGA713016SM9IJ", "MORGA756316SM9IJ", "MORGA750006SM9IJ",
     "9ORGA753116SM9IJ", "MO9GA753116SM9IJ", "MORGA753116SM9I1"],
)
def test_driving_licence_bad_fields(value: str) -> None:
    assert ids.validate_driving_licence(value) is None


def test_driving_licence_female_month() -> None:
    assert ids.validate_driving_licence("MORGA757116SM9IJ") == "MORGA757116SM9IJ"
    assert ids.validate_driving_licence("MORGA758116SM9IJ") == "MORGA758116SM9IJ"
    assert ids.validate_driving_licence("MORGA763116SM9IJ") is None


# --------------------------------------------------------------------------- postcode, VRM

INWARD = "ABDEFGHJLNPQRSTUWXYZ"


@st.composite
def postcodes(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from("ABCDEFGHIJKLMNOPRSTUWYZ"))
    second = draw(st.sampled_from("ABCDEFGHKLMNOPQRSTUVWXY"))
    form = draw(st.sampled_from(["A9", "A99", "A9A", "AA9", "AA99", "AA9A"]))
    d = draw(st.integers(1, 9))
    outward = {
        "A9": f"{first}{d}",
        "A99": f"{first}{d}{draw(digits)}",
        "A9A": f"{first}{d}{draw(st.sampled_from('ABCDEFGHJKPSTUW'))}",
        "AA9": f"{first}{second}{d}",
        "AA99": f"{first}{second}{d}{draw(digits)}",
        "AA9A": f"{first}{second}{d}{draw(st.sampled_from('ABEHMNPRVWXY'))}",
    }[form]
    return outward + draw(digits) + draw(st.sampled_from(INWARD)) + draw(st.sampled_from(INWARD))


@given(postcodes(), st.booleans(), st.booleans())
def test_valid_postcode_round_trips(pc: str, spaced: bool, lower: bool) -> None:
    shown = f"{pc[:-3]} {pc[-3:]}" if spaced else pc
    assert ids.validate_postcode(shown.lower() if lower else shown) == pc


@given(postcodes(), st.sampled_from("CIKMOV"), st.integers(-2, -1))
def test_postcode_bad_inward_letter_rejected(pc: str, bad: str, pos: int) -> None:
    chars = list(pc)
    chars[pos] = bad
    assert ids.validate_postcode("".join(chars)) is None


@pytest.mark.parametrize(
    "value", ["LS18 3IR", "Q6 1AB", "V3 9AB", "X3 9AB", "QV5 7AB", "LS8 9CD", "AJ1 1AB",
              "W1L 1AA", "EC1Z 1AA", "1AB 2CD", "LS1"],
)
def test_postcode_position_rules(value: str) -> None:
    assert ids.validate_postcode(value) is None


def test_postcode_special_and_real_forms() -> None:
    assert ids.validate_postcode("GIR 0AA") == "GIR0AA"
    assert ids.validate_postcode("EC1A 1BB") == "EC1A1BB"
    assert ids.validate_postcode("W1A 0AX") == "W1A0AX"
    assert ids.validate_postcode("m1 1ae") == "M11AE"


def test_vehicle_reg_age_identifiers() -> None:
    today = dt.date(2024, 10, 1)
    assert ids.vrm_age_ok(51, today)
    assert ids.vrm_age_ok(24, today)
    assert ids.vrm_age_ok(74, today)
    assert not ids.vrm_age_ok(25, today)
    assert not ids.vrm_age_ok(75, today)
    assert not ids.vrm_age_ok(1, today)
    assert not ids.vrm_age_ok(50, today)
    assert ids.validate_vehicle_reg("AB12 CDE") == "AB12CDE"
    assert ids.validate_vehicle_reg("AB00 CDE") is None
    assert ids.validate_vehicle_reg("QB12 CDE") is None  # Q is not an area letter
    assert ids.validate_vehicle_reg("A123 BCD") == "A123BCD"
    assert ids.validate_vehicle_reg("ABC 123D") == "ABC123D"


# --------------------------------------------------------------------------- phone, e-mail, IP


PHONE_KINDS = [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]


@given(st.sampled_from(["GB", "US", "FR", "DE", "IE", "IN", "AU"]), st.sampled_from(PHONE_KINDS))
def test_phone_example_numbers_round_trip(region: str, kind: int) -> None:
    num = phonenumbers.example_number_for_type(region, kind)
    assert num is not None
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    shown = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert ids.validate_phone(shown) == e164
    if region == "GB":
        national = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
        assert ids.validate_phone(national) == e164


def test_phone_shapes() -> None:
    assert ids.validate_phone("0113 496 0000") == "+441134960000"
    assert ids.validate_phone("+44 (0)7400 123456") == "+447400123456"
    assert ids.validate_phone("4518145993") is None  # no leading 0 or +
    assert ids.validate_phone("111") is None
    assert ids.validate_phone("0113 947 9514") is None  # unallocated range
    assert ids.validate_phone("0113 947 9514", strict=False) == "+441139479514"


@given(
    st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,8})?", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,10}(\.[a-z]{2,6}){1,2}", fullmatch=True),
)
def test_email_round_trips(local: str, domain: str) -> None:
    assert ids.validate_email(f"{local}@{domain}".upper()) == f"{local}@{domain}"


@pytest.mark.parametrize("value", ["a@b", "@x.com", "a..b@x.com", "a b@x.com", "a@x.c", "x@-a.com"])
def test_email_rejects(value: str) -> None:
    assert ids.validate_email(value) is None


@given(st.ip_addresses())
def test_ip_round_trips(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    assume(not (addr.is_unspecified or addr.is_loopback or addr.is_multicast))
    assert ids.validate_ip(str(addr)) == str(addr)
    assert ids.validate_ip(addr.exploded) == str(addr)


def test_ip_rejects() -> None:
    assert ids.validate_ip("256.1.1.1") is None
    assert ids.validate_ip("127.0.0.1") is None
    assert ids.validate_ip("14:00:00") is None


# --------------------------------------------------------------------------- dates and addresses

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@given(st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)), st.integers(0, 8))
def test_parse_date_forms(d: dt.date, form: int) -> None:
    shown = [
        f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day:02d}-{d.month:02d}-{d.year}",
        f"{d.day}.{d.month}.{d.year}", d.isoformat(), f"{d.year}/{d.month:02d}/{d.day:02d}",
        f"{d.day} {MONTHS[d.month - 1]} {d.year}", f"{d.day} {d.strftime('%B')} {d.year}",
        f"{d.day:02d}-{MONTHS[d.month - 1]}-{d.year}",
        f"{ordinal(d.day)} {d.strftime('%B')} {d.year}",
    ][form]
    assert ids.parse_date(shown) == d


def test_parse_date_rejects_impossible() -> None:
    assert ids.parse_date("31/02/1985") is None
    assert ids.parse_date("12/13/1985") is None
    assert ids.parse_date("1985") is None


@given(st.dates(dt.date(1905, 1, 1), dt.date(2024, 10, 1)))
def test_dob_cell_plausible(d: dt.date) -> None:
    today = dt.date(2024, 10, 1)
    assert ids.validate_dob_cell(d.strftime("%d/%m/%Y"), today) == d.isoformat()


def test_dob_cell_rejects_future_and_ancient() -> None:
    today = dt.date(2024, 10, 1)
    assert ids.validate_dob_cell("02/10/2024", today) is None
    assert ids.validate_dob_cell("01/01/1900", today) is None


@pytest.mark.parametrize(
    "value",
    ["12 Station Road", "Flat 3, 45 High Street", "1 Albert Mount", "118 Chapel Way, Bradford"],
)
def test_street_address_cells(value: str) -> None:
    assert ids.validate_street_address(value) == value.casefold()


@pytest.mark.parametrize("value", ["Station Road", "12 station road", "Ward 12", "12 Apples"])
def test_street_address_rejects(value: str) -> None:
    assert ids.validate_street_address(value) is None


# --------------------------------------------------------------------------- robustness


@given(st.text(max_size=60))
def test_validators_never_raise(value: str) -> None:
    for validate in ids.CELL_VALIDATORS.values():
        out = validate(value)
        assert out is None or isinstance(out, str)
    assert ids.parse_date(value) is None or isinstance(ids.parse_date(value), dt.date)


@given(st.text(alphabet="0123456789 -/.+()ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=30))
def test_validators_never_raise_on_identifier_like_text(value: str) -> None:
    for validate in ids.CELL_VALIDATORS.values():
        validate(value)


def test_cell_validators_cover_every_entity_but_person() -> None:
    expected = {e.value for e in EntityType} - {EntityType.PERSON.value}
    assert set(ids.CELL_VALIDATORS) == expected
    assert ids.CELL_VALIDATORS["UK_NINO"]("  AB 12 34 56 C ") == "AB123456C"
