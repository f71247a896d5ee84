"""The prose pattern pass: positives in realistic text, hard negatives, robustness."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shareguard.detect import identifiers as ids
from shareguard.detect.patterns import detect_patterns
from shareguard.detect.types import Candidate


def found(text: str) -> list[tuple[str, str]]:
    return [(c.type, text[c.start : c.end]) for c in detect_patterns(text)]


def types(text: str) -> set[str]:
    return {c.type for c in detect_patterns(text)}


def make_nhs(rng: random.Random, first: str = "4") -> str:
    while True:
        nine = first + f"{rng.randrange(10**8):08d}"
        check = ids.nhs_check_digit(nine)
        if check is not None:
            return nine + str(check)


def spaced(n: str) -> str:
    return f"{n[:3]} {n[3:6]} {n[6:]}"


RNG = random.Random(7)
NHS = make_nhs(RNG)

LETTER = (
    "Department of Respiratory Medicine\nDate: 14 October 2024\n"
    f"Re: Mrs Ada Example, DOB 29/10/1937, NHS No. {spaced(NHS)}\n"
    "Address: Flat 3, 45 High Street, Otley LS21 3AB\n"
    "She was admitted on 2 October 2024 and discharged on 9 October 2024.\n"
    "She can be contacted on 0113 496 0000 or ada.example@example.co.uk."
)


def test_discharge_letter() -> None:
    got = found(LETTER)
    assert ("DATE_OF_BIRTH", "29/10/1937") in got
    assert ("UK_NHS", spaced(NHS)) in got
    assert ("UK_POSTCODE", "LS21 3AB") in got
    assert ("PHONE_NUMBER", "0113 496 0000") in got
    assert ("EMAIL_ADDRESS", "ada.example@example.co.uk") in got
    streets = [v for t, v in got if t == "STREET_ADDRESS"]
    assert streets == ["Flat 3, 45 High Street, Otley"]
    # Admission and discharge dates are not birth dates.
    assert [t for t, _ in got].count("DATE_OF_BIRTH") == 1


def test_normalised_forms() -> None:
    by_type = {c.type: c for c in detect_patterns(LETTER)}
    assert by_type["UK_NHS"].normalised == NHS
    assert by_type["DATE_OF_BIRTH"].normalised == "1937-10-29"
    assert by_type["UK_POSTCODE"].normalised == "LS213AB"
    assert by_type["PHONE_NUMBER"].normalised == "+441134960000"
    assert all(c.detector.startswith("pattern.") and 0 < c.score <= 1 for c in by_type.values())


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Date of birth: 3rd March 1985.", "3rd March 1985"),
        ("She was born on 12 Mar 1985 in Leeds.", "12 Mar 1985"),
        ("J. Smith (b. 1985-03-12) attended.", "1985-03-12"),
        ("D.O.B. 12.03.1985", "12.03.1985"),
        ("Client born in Bradford on 12-Mar-1985", "12-Mar-1985"),
        ("12/03/1985 (DOB)", "12/03/1985"),
    ],
)
def test_birth_dates_need_evidence(text: str, value: str) -> None:
    assert found(text) == [("DATE_OF_BIRTH", value)]


@pytest.mark.parametrize(
    "text",
    [
        "Invoice dated 12/03/1985 is overdue.",
        "The clinic on 12 March 1985 was cancelled.",
        "Public liability insurance renewed 01/04/2024.",
        "Newborn screening data for 12/03/2024 cohort.",  # "born" inside a word
        "DOB 12/03/2099",  # in the future
    ],
)
def test_dates_without_birth_evidence(text: str) -> None:
    assert "DATE_OF_BIRTH" not in types(text)


def test_nhs_evidence_rules() -> None:
    rng = random.Random(3)
    n1, n2, n3 = make_nhs(rng), make_nhs(rng), make_nhs(rng, "6")
    assert found(f"Invoice {n1} is due") == []
    assert found(f"Asset {n1}") == []
    assert found(f"Asset {spaced(n1)}") == []
    assert found(f"Order ref {spaced(n2)}, total GBP 12.50") == []
    assert found(f"the patient with NHS number {n1}") == [("UK_NHS", n1)]
    assert found(f"NHS: {n2}") == [("UK_NHS", n2)]
    assert found(f"Seen today, {spaced(n3)}.") == [("UK_NHS", spaced(n3))]
    # A bare number is kept only when other personal data is near it.
    assert found(f"Result {n3} filed.") == []
    near = found(f"Ada Example, DOB 01/02/1960, {n3}, Leeds")
    assert ("UK_NHS", n3) in near


def test_nhs_label_applies_to_next_number_only() -> None:
    n = make_nhs(random.Random(11))
    text = f"Catering - patient meals,5283.11,1056.62\n{n},17/06/2024,Thorpe Ltd"
    assert "UK_NHS" not in types(text)


def test_invalid_check_digit_is_never_nhs() -> None:
    n = NHS[:9] + str((int(NHS[9]) + 1) % 10)
    assert "UK_NHS" not in types(f"NHS number {spaced(n)}")


@pytest.mark.parametrize(
    "text",
    [
        "The contractor must hold public liability insurance of at least GBP 5m.",
        "Employer NI contributions (Class 1 NICs) rise from April.",
        "Call NHS 111 for urgent advice; A&E is for emergencies.",
        "ISO 27001:2022 certified. Version 1.2.3.4 released, build 10.0.19045.",
        "Total GBP 1,234,567.89 paid on account; VAT 20%.",
        "Meeting at 14:00:00 in Seminar Room 2.",
        "Form ref BG753771A and GB 04 77 53 B and AB256894E.",
        "Locker LS18 3IR, Q6 1AB, V3 9AB, X3 9AB, QV5 7AB, BD4 3CK.",
        "Ward 12 and Ward 14 share the St James Wing linen store.",
        "Part number 4111111111111111 is on backorder.",
        "Passport office ref 123456789 has not replied",
        "Section 12 of the Data Protection Act 2018 applies.",
    ],
)
def test_near_misses_yield_nothing(text: str) -> None:
    assert found(text) == [], text


def test_ninos() -> None:
    assert found("NI number AB 12 34 56 C, paid") == [("UK_NINO", "AB 12 34 56 C")]
    assert found("NINO: JT123456D") == [("UK_NINO", "JT123456D")]
    assert found("NINO: JT123456E") == []


def test_postcodes_case_and_context() -> None:
    assert found("Send to LS1 4AB today") == [("UK_POSTCODE", "LS1 4AB")]
    assert found("the ls1 4ab thing") == []
    assert found("Home address: 4 Oak Lane, ls1 4ab") == [
        ("STREET_ADDRESS", "4 Oak Lane"),
        ("UK_POSTCODE", "ls1 4ab"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "12 Station Road",
        "1 Albert Mount",
        "118 Chapel Way",
        "Flat 3, 45 High Street",
        "10a Park Rise",
    ],
)
def test_street_addresses(text: str) -> None:
    assert found(f"She lives at {text} and works nearby.") == [("STREET_ADDRESS", text)]


def test_street_then_town_then_postcode_are_separate() -> None:
    got = found("1. Jo Bloggs, 118 Chapel Way, Bradford, BD3 8DQ")
    assert got == [("STREET_ADDRESS", "118 Chapel Way, Bradford"), ("UK_POSTCODE", "BD3 8DQ")]


def test_financial_identifiers() -> None:
    assert found("Pay to sort code 12-34-56, account 12345678.") == [
        ("UK_BANK_ACCOUNT", "12-34-56, account 12345678")
    ]
    assert found("Bank: 20-00-00 41234567") == [("UK_BANK_ACCOUNT", "20-00-00 41234567")]
    assert found("Account no. 41234567, sort code 20 00 00") != []
    assert found("Figures 123456 12345678 appear") == []
    assert found("IBAN GB82 WEST 1234 5698 7654 32 please") == [
        ("IBAN_CODE", "GB82 WEST 1234 5698 7654 32")
    ]
    assert found("Card 4111 1111 1111 1111 exp 12/27") == [("CREDIT_CARD", "4111 1111 1111 1111")]
    assert found("Paid by Visa card 4111111111111111") == [("CREDIT_CARD", "4111111111111111")]
    assert found("Card 4111 1111 1111 1112") == []


def test_passport_licence_vehicle_ip() -> None:
    assert found("Passport number: 123456789") == [("UK_PASSPORT", "123456789")]
    assert found("Reference 123456789") == []
    assert found("Driving licence MORGA753116SM9IJ") == [("UK_DRIVING_LICENCE", "MORGA753116SM9IJ")]
    assert found("Vehicle reg AB12 CDE parked") == [("UK_VEHICLE_REG", "AB12 CDE")]
    assert found("Vehicle reg A123 BCD parked") == [("UK_VEHICLE_REG", "A123 BCD")]
    assert found("Code A123 BCD") == []
    assert found("Logged in from 81.2.69.160 at 09:00") == [("IP_ADDRESS", "81.2.69.160")]
    assert found("Client 2001:db8::1 connected") == [("IP_ADDRESS", "2001:db8::1")]


def test_phones() -> None:
    assert found("Mobile: 07400 123456") == [("PHONE_NUMBER", "07400 123456")]
    assert found("ring +44 20 7946 0000 today") == [("PHONE_NUMBER", "+44 20 7946 0000")]
    assert found("Invoice 4518145993") == []
    assert found("Call 0113 496 0000 24 hours a day") == [("PHONE_NUMBER", "0113 496 0000")]


def test_email_header_message_id_is_not_an_address() -> None:
    text = "Message-ID: <d2a-0412@nhs.net>\nFrom: Jo <jo.bloggs@nhs.net>"
    assert found(text) == [("EMAIL_ADDRESS", "jo.bloggs@nhs.net")]


def test_case_note_prose() -> None:
    text = (
        "Case note 14/10/2024: home visit to Mr Sam Example (born 1 June 1950), "
        "2 Mill Lane, Keighley BD21 4AB. Son's mobile 07400 123456; NI JT 12 34 56 D."
    )
    got = dict(found(text))
    assert got["DATE_OF_BIRTH"] == "1 June 1950"
    assert got["STREET_ADDRESS"] == "2 Mill Lane, Keighley"
    assert got["UK_POSTCODE"] == "BD21 4AB"
    assert got["PHONE_NUMBER"] == "07400 123456"
    assert got["UK_NINO"] == "JT 12 34 56 D"


def test_offsets_survive_non_ascii_text() -> None:
    text = "Café résumé — naïve 😀 NI number AB 12 34 56 C"
    [c] = detect_patterns(text)
    assert text[c.start : c.end] == "AB 12 34 56 C" == c.value


@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    for c in detect_patterns(text):
        assert isinstance(c, Candidate)
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start : c.end] == c.value


@given(st.text(alphabet="0123456789 -/.:+()ABCDLSXYZ@abc,\n", max_size=200))
def test_identifier_like_text_never_raises(text: str) -> None:
    cands = detect_patterns(text)
    spans = sorted((c.start, c.end) for c in cands)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_birth_date_column_of_a_table_laid_out_as_text() -> None:
    text = (
        "Waiting list (as at 30/09/2024)\r\n"
        "Patient DOB NHS number Procedure Referred date\r\n"
        "Holly Baker 26/08/1977 718 260 2768 Carpal tunnel release 01/02/2024\r\n"
        "Laksh Mann 30/11/1966 488 924 0500 Total hip replacement 03/04/2024\r\n"
        "\r\n"
        "Clinic dates: 12/12/2024 and 19/12/2024\r\n"
    )
    dobs = [c.value for c in detect_patterns(text) if c.type == "DATE_OF_BIRTH"]
    assert dobs == ["26/08/1977", "30/11/1966"]


def test_born_in_a_sentence_does_not_make_the_next_lines_birth_dates() -> None:
    text = "She was born on 3 March 1961 in Leeds.\nReview on 12/05/1990 was cancelled.\n"
    dobs = [c.value for c in detect_patterns(text) if c.type == "DATE_OF_BIRTH"]
    assert dobs == ["3 March 1961"]


# --------------------------------------------------------------------- issue 4: prose misses


@pytest.mark.parametrize(
    "lead",
    [
        "Credit note",
        "Debit note",
        "Remittance advice",
        "Quotation",
        "Purchase order",
        "Delivery",
        "Meter reading ref.",
        "Customer no.",
        "Refund",
    ],
)
def test_ten_digit_document_numbers_are_not_nhs(lead: str) -> None:
    nhs = make_nhs(random.Random(11), "6")
    text = f"Dear Mr Hollis, 14 Larch Way, LS6 2QP. {lead} {nhs} covers the £412.50 owed."
    assert E_NHS not in types(text)
    assert E_NHS not in types(f"{lead} {spaced(nhs)} covers the £412.50 owed.")


E_NHS = "UK_NHS"


def test_nhs_label_still_wins_over_a_farther_document_word() -> None:
    nhs = make_nhs(random.Random(12), "4")
    assert found(f"Credit note sent; NHS number {spaced(nhs)}.") == [("UK_NHS", spaced(nhs))]


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Tenancy Services | Millbrook Homes | +44 (0)113 496 0421\n", "+44 (0)113 496 0421"),
        ("Her son (+44 (0)29 2018 0532) is next of kin.", "+44 (0)29 2018 0532"),
    ],
)
def test_international_prefix_makes_a_phone_not_an_nhs_number(text: str, phone: str) -> None:
    assert found(text) == [("PHONE_NUMBER", phone)]


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Ravi Mehta\nFinance | Oakfield School | 07700 900 461\n", "07700 900 461"),
        ("His neighbour (01632 960 185) has a key.", "01632 960 185"),
        ("Ring the office on 0113-496-0174 after nine.", "0113-496-0174"),
        ("Her mother Anne Price (0113 496 0777) will collect her.", "0113 496 0777"),
        ("Estates | Hill Trust | (0161) 496 0993\n", "(0161) 496 0993"),
    ],
)
def test_phones_without_a_cue_word(text: str, phone: str) -> None:
    assert ("PHONE_NUMBER", phone) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Invoice 0113 496 0174 is overdue.",  # a document word in the same field
        "Order no. 01134960174 shipped.",
        "Batch 0113 4960 174 recalled.",
        "Reference 011349601 closed.",
    ],
)
def test_invoice_and_order_numbers_are_not_phones(text: str) -> None:
    assert "PHONE_NUMBER" not in types(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Pay into sort code 20-45-77 / account 41302288 please.", "20-45-77 / account 41302288"),
        ("sort code 30 94 12 acc no. 70211945", "30 94 12 acc no. 70211945"),
        ("Sort code 60-16-13, acct #: 31926819.", "60-16-13, acct #: 31926819"),
        ("Account 55779911, sort code 40-11-62.", "55779911, sort code 40-11-62"),
        ("a/c no. 8123456 & s/c 09-01-28", "8123456 & s/c 09-01-28"),
    ],
)
def test_sort_code_and_account_joined_many_ways(text: str, value: str) -> None:
    assert ("UK_BANK_ACCOUNT", value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Payment batch 49-72-13 / 12345678 was posted.",
        "Order 11-22-33, 7654321 units shipped.",
        "Ticket 10-20-30 | 87654321 closed.",
        "Reading 12 34 56 then 12345678.",
    ],
)
def test_sort_code_shaped_numbers_without_a_bank_word(text: str) -> None:
    assert "UK_BANK_ACCOUNT" not in types(text)


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Tomasz's birthday is 05/12/1992, so the card went out early.", "05/12/1992"),
        ("Her birthday was on 3 March 1961.", "3 March 1961"),
        ("His birthday falls on 1988-07-09.", "1988-07-09"),
    ],
)
def test_birthday_phrasing(text: str, date: str) -> None:
    assert ("DATE_OF_BIRTH", date) in found(text)


def test_birthday_party_date_is_not_a_birth_date() -> None:
    assert "DATE_OF_BIRTH" not in types("The birthday party on 05/12/2020 was cancelled.")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Address: 24 Eastgate, Hedon, HU12 8EX", "24 Eastgate, Hedon"),
        ("She moved to 7b The Spinney, Otley (LS21 1QQ) in May.", "7b The Spinney, Otley"),
        ("Mr A Khan\n12 Broadway\nBD1 4QA\n", "12 Broadway"),
        ("Flat 3, 41 Kingsway, Hove, BN3 2WE", "Flat 3, 41 Kingsway, Hove"),
        ("He has lived at 9 Riverside, Selby since 2019.", "9 Riverside"),
    ],
)
def test_street_names_without_a_street_word(text: str, value: str) -> None:
    assert ("STREET_ADDRESS", value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "In 2012 Norway, Sweden and Finland signed.",
        "We sold 40 The Beatles albums at the fair.",
        "Chapter 3 Northgate, a history of the walls.",
        "Room 12 Parkside is booked for the panel.",
    ],
)
def test_bare_street_shapes_without_an_address_context(text: str) -> None:
    assert "STREET_ADDRESS" not in types(text)
