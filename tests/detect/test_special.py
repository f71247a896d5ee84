"""Special-category evidence: prose phrases, column headers, column values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shareguard.detect.special import (
    detect_special_text,
    special_from_header,
    special_from_values,
)
from shareguard.model import SpecialCategory


def categories(text: str) -> set[str]:
    return {c.type for c in detect_special_text(text)}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Mr Jones is off with depression since May.", "health"),
        ("She was accompanied by a UNISON representative.", "trade_union"),
        ("He has a conviction for arson (2016).", "criminal_offence"),
        ("Served 18 months for burglary (released 2021).", "criminal_offence"),
        ("Tenant is on licence until next year.", "criminal_offence"),
        ("Diagnosed with Type 2 diabetes last spring.", "health"),
        ("She told us she is pregnant.", "health"),
        ("Client is HIV positive and well.", "health"),
        ("He asked that his Muslim faith be respected.", "religion"),
        ("She is a member of the Labour Party.", "political"),
        ("Has MS, carer visits twice daily", "health"),
        ("Alzheimer\u2019s dementia, lives alone", "health"),
        ("Wheelchair user, ground-floor flat", "health"),
        ("Her same-sex partner attended.", "sex_life"),
        ("She had genetic testing for BRCA1.", "genetic"),
        ("Previous conviction for drug supply; probation officer is contact", "criminal_offence"),
    ],
)
def test_evidence_phrases_are_found(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "If you feel unwell call NHS 111.",
        "Health and Safety Policy (revised 2024)",
        "Our Health and Wellbeing Strategy 2024-2029",
        "The contractor holds public liability insurance of 5m.",
        "Section 3: Criminal Justice Act 2003 - guidance for officers",
        "Ms Patel uses MS Teams for meetings.",
        "Invoice for agency nursing cover and patient meals.",
        "Cells with fewer than 5 people are suppressed.",
        "Data protection: what is special category data?",
        "Protected characteristics: age, disability, gender reassignment, pregnancy and "
        "maternity, race, religion or belief, sex and sexual orientation.",
        "Special category data covers health, racial or ethnic origin, political opinions, "
        "trade union membership, genetic data, biometric data and sex life.",
        "The cancer services strategy and the diabetes prevention programme were approved.",
        "The dementia-friendly ward pilot continues.",
        "Both the SNP and the Labour Party issued statements.",
        "The GP surgery reopens on Monday; sick pay policy applies.",
    ],
)
def test_policy_wording_is_not_evidence(text: str) -> None:
    assert categories(text) == set()


def test_matches_are_whole_words_only() -> None:
    assert categories("The hivemind discussed diabetesology and muslimah") == set()
    assert categories("pregnantly") == set()


def test_span_is_the_evidence_phrase() -> None:
    text = "Notes: diagnosed with asthma in 2019."
    found = detect_special_text(text)
    assert found, "expected evidence"
    for c in found:
        assert text[c.start : c.end] == c.value
        assert c.detector == "special.text"
        assert c.type in {str(s) for s in SpecialCategory}
    assert {c.value.lower() for c in found} >= {"diagnosed with", "asthma"}


def test_service_words_only_silence_the_phrase_they_follow() -> None:
    text = "Diabetes awareness week. He was referred to the diabetes clinic."
    found = detect_special_text(text)
    assert [c.start for c in found] == [text.index("diabetes clinic")]


def test_exclusion_only_covers_its_own_span() -> None:
    text = "Health and Safety briefing. Separately, Ms Khan is pregnant."
    assert categories(text) == {"health"}


@pytest.mark.parametrize(
    ("header", "category"),
    [
        ("Ethnic Origin", "ethnicity"),
        ("Ethnicity", "ethnicity"),
        ("Sickness Notes", "health"),
        ("Trade Union", "trade_union"),
        ("Diagnosis", "health"),
        ("Disability", "health"),
        ("Religion/Belief", "religion"),
        ("Sexual Orientation", "sex_life"),
        ("Convictions", "criminal_offence"),
        ("Offence", "criminal_offence"),
        ("Clin", "health"),
        ("Referred To", "health"),
        ("Unspent convictions (Y/N)", "criminal_offence"),
    ],
)
def test_special_headers(header: str, category: str) -> None:
    assert special_from_header(header) == category


@pytest.mark.parametrize(
    "header",
    ["Notes", "Name", "Department", "Property condition", "Clinician", "Health & Safety Lead", ""],
)
def test_ordinary_headers_are_not_special(header: str) -> None:
    assert special_from_header(header) is None


def test_values_reveal_ethnicity() -> None:
    values = [
        "White British",
        "Asian or Asian British - Pakistani",
        "Black Caribbean",
        "",
        "Mixed race",
    ]
    assert special_from_values(values) == "ethnicity"


def test_values_reveal_health_from_clinic_codes_and_diagnoses() -> None:
    assert special_from_values(["GUM", "RESP", "CARDIO", "DIAB", "MEMORY"]) == "health"
    assert special_from_values(["Epilepsy, last seizure March 2023", "Coeliac disease"]) == "health"


def test_values_reveal_offences_and_religion() -> None:
    assert (
        special_from_values(["Burglary", "Theft", "Criminal damage", "Assault"])
        == "criminal_offence"
    )
    assert special_from_values(["Christian", "No religion", "Muslim", "Hindu"]) == "religion"


def test_ordinary_values_are_not_special() -> None:
    assert (
        special_from_values(["Laptop refresh", "Agency nursing cover", "Catering - patient meals"])
        is None
    )
    assert (
        special_from_values(["Finance", "HR", "Estates", "Diabetes", "IT", "Legal", "Payroll"])
        is None
    )
    assert special_from_values([]) is None


@given(st.text(max_size=300))
def test_any_text_never_raises_and_spans_are_exact(text: str) -> None:
    for c in detect_special_text(text):
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start : c.end] == c.value


@given(st.lists(st.text(max_size=40), max_size=30))
def test_any_values_never_raise(values: list[str]) -> None:
    result = special_from_values(values)
    assert result is None or result in {str(s) for s in SpecialCategory}
