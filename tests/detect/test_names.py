"""PERSON detection: prose, titles, table cells and lexicon scores.

All people here are invented for the tests.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.detect import names
from shareguard.detect.names import (
    detect_names,
    family_name_score,
    given_name_score,
    person_cell,
    split_title,
)


def spans(text: str) -> list[str]:
    return [c.value for c in detect_names(text)]


# --------------------------------------------------------------------------- prose

LETTER = """Northmoor Teaching Hospitals NHS Foundation Trust
Date: 3 March 2025
Dr Imogen Tranter, GP practice B81234
Dear Colleague,
Re: Mrs Adaeze Nwankwo, DOB 02/04/1951
Address: 14 Albert Mount, Yeadon LS19 7QQ
I saw Mrs Nwankwo in clinic. She was started on Ramipril and Amoxicillin.
Yours sincerely,
Dr Tobias Wrenfield
Consultant Respiratory Physician
"""


def test_letter_titles_are_not_part_of_the_span() -> None:
    found = detect_names(LETTER)
    assert [c.value for c in found] == [
        "Imogen Tranter",
        "Adaeze Nwankwo",
        "Nwankwo",
        "Tobias Wrenfield",
    ]
    assert [c.normalised for c in found] == [
        "imogen tranter",
        "adaeze nwankwo",
        "nwankwo",
        "tobias wrenfield",
    ]
    assert all(c.type == "PERSON" and LETTER[c.start : c.end] == c.value for c in found)


def test_title_alone_with_surname_is_each_occurrence() -> None:
    text = "Ms Kowalczyk phoned. Later Ms Kowalczyk wrote to Mr. Osei."
    found = detect_names(text)
    assert [c.value for c in found] == ["Kowalczyk", "Kowalczyk", "Osei"]
    assert {c.detector for c in found} == {"names.title"}


MINUTES = """Information Governance Group - Minutes
Tuesday 8 October 2024, Seminar Room 2.
Present: Priya Raghunathan (Chair); Tomasz Wiśniewski (Data Protection Officer); Chinedu Okeke.
Apologies: Mei Ling Chen.
1. Priya Raghunathan confirmed the Annual Report And Accounts will follow.
Minutes taken by Fatima Al-Sayed.
"""


def test_minutes_names_of_many_origins() -> None:
    assert spans(MINUTES) == [
        "Priya Raghunathan",
        "Tomasz Wiśniewski",
        "Chinedu Okeke",
        "Mei Ling Chen",
        "Priya Raghunathan",
        "Fatima Al-Sayed",
    ]


EMAIL = """From: Declan Fitzpatrick <declan.fitzpatrick@nhs.net>
To: Anjali Desai <anjali.desai@northmoor.gov.uk>
Subject: Discharge To Assess - Housing Adaptations

Hi Anjali,

The tenants below need adaptations:
1. Kwabena Asante, 12 Chapel Way, Bradford, BD3 8DQ
2. Olena Kovalenko, 9 Station Road, Harrogate, HG2 8BG

Kind regards,
Declan Fitzpatrick
Discharge Coordinator, Carter Logistics plc
"""


def test_email_headers_greeting_list_and_signature() -> None:
    found = detect_names(EMAIL)
    assert [c.value for c in found] == [
        "Declan Fitzpatrick",
        "Anjali Desai",
        "Anjali",
        "Kwabena Asante",
        "Olena Kovalenko",
        "Declan Fitzpatrick",
    ]
    # The e-mail local parts are not names for this detector.
    assert all("@" not in c.value for c in found)


def test_signature_after_sign_off_needs_no_lexicon() -> None:
    text = "Thanks for your help.\n\nKind regards,\n\nZorvath Quellby\nHousing Officer\n"
    found = detect_names(text)
    assert [(c.value, c.detector) for c in found] == [("Zorvath Quellby", "names.context")]


def test_single_given_name_after_greeting_or_sign_off() -> None:
    assert spans("Hi Anjali,\nThanks for your help.\nKind regards,\nTomasz\n") == [
        "Anjali",
        "Tomasz",
    ]


def test_field_labels_introduce_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "_ask_model", lambda text, where: [None] * len(where))
    text = "Patient: Hope Lambert\nApologies: Zorvath Quellby\nVenue: Rose Garden\n"
    assert spans(text) == ["Hope Lambert", "Zorvath Quellby"]


def test_lone_part_of_a_name_given_in_full() -> None:
    text = (
        "Home visit to Sarah Middleton. Sarah said Middleton's is the house. Green spaces nearby."
    )
    assert spans(text) == ["Sarah Middleton", "Sarah", "Middleton"]
    # Without a full mention, a lone given name needs its own context.
    assert spans("The Sarah fund paid for the heating.") == []
    assert spans("We hope Sarah gets the grant soon.") == []


def test_surname_first_in_prose() -> None:
    found = detect_names("Patient: OKONKWO, Chiamaka; seen on ward 4.")
    assert [(c.value, c.normalised) for c in found] == [("OKONKWO, Chiamaka", "chiamaka okonkwo")]


def test_family_name_in_capitals() -> None:
    found = detect_names("Re: Mr Gary WALKER, seen by the NHS GP team.")
    assert [(c.value, c.normalised) for c in found] == [("Gary WALKER", "gary walker")]


def test_possessive_is_not_part_of_the_name() -> None:
    assert spans("We discussed Rebecca Thornton's referral.") == ["Rebecca Thornton"]


HARD_NEGATIVES = """Annual Report And Accounts 2023/24
Patient Experience Survey Results
Dear Sir/Madam,
Please contact the Discharge Coordinator or the Ward Manager.
Carter Logistics plc and Edwards Facilities will tender.
Northmoor Teaching Hospitals NHS Foundation Trust, Bradford Royal Infirmary.
The St James Wing is closed. Visit Leeds, Harrogate or Yeadon.
Meet at Albert Mount, Station Road, Victoria Street or Chapel Way.
Prescribed Amoxicillin, Metformin and Sertraline. Started Warfarin on Monday.
On Tuesday 8 October we met. In March the figures improved.
Mental Health Act assessment. Care Quality Commission report.
Victoria Station. Long Lane. Young Carers Service. Christmas Day. Easter Monday.
Smartcard Audit: 94% compliance. Information Governance Manager.
"""


def test_hard_negatives() -> None:
    assert spans(HARD_NEGATIVES) == []


def test_runs_laid_out_like_a_list_of_names_are_names(monkeypatch: pytest.MonkeyPatch) -> None:
    # Table text from a PDF: the unusual names share the layout of the known ones.
    monkeypatch.setattr(names, "_ask_model", lambda text, where: [None] * len(where))
    text = (
        "Patient DOB NHS number Procedure\n"
        "Holly Baker 26/08/1977 718 260 2768 Arthroscopy\n"
        "Sandra Coleman 21/04/1930 724 826 7198 Arthroscopy\n"
        "Waail Daamin 24/09/1973 417 542 4385 Arthroscopy\n"
        "John Richards 01/03/1947 434 863 8217 Arthroscopy\n"
        "Yashvi Chandra 07/06/1992 423 313 7703 Arthroscopy\n"
        "Margaret Okonkwo 11/02/1937 669 903 9512 Arthroscopy\n"
    )
    found = detect_names(text)
    assert [c.value for c in found] == [
        "Holly Baker",
        "Sandra Coleman",
        "Waail Daamin",
        "John Richards",
        "Yashvi Chandra",
        "Margaret Okonkwo",
    ]
    # Neither word of "Waail Daamin" is in the lexicons: the layout settles it.
    # ("Yashvi Chandra" is settled by its well-known family name alone.)
    assert {c.detector for c in found if c.value == "Waail Daamin"} == {"names.context"}


def test_surname_that_is_also_an_organisation_word() -> None:
    assert spans("Benjamin Ward was admitted; Mrs Ward visited.") == ["Benjamin Ward", "Ward"]
    assert spans("Ask the Ward Manager on Elm Ward or Children's Ward.") == []


def test_non_breaking_space_between_title_and_name() -> None:
    assert spans("Seen by Dr\xa0Imogen\xa0Tranter today.") == ["Imogen\xa0Tranter"]


def test_street_word_after_house_number_is_an_address() -> None:
    assert spans("She lives at 4 Rowan Hill, Otley.") == []
    assert spans("Tell Damon Hill about it.") == ["Damon Hill"]


def test_context_is_whole_words_not_substrings() -> None:
    # "Drew" starts with "Dr" and "Mrsa" with "Mrs": neither is a title.
    assert spans("Drew Thompson reviewed the MRSA screen.") == ["Drew Thompson"]
    assert spans("Screening for Mrsa Positive patients.") == []


def test_ambiguous_run_goes_to_the_model_once_per_distinct_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[str]] = []
    real = names._ask_model

    def spy(text: str, where: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
        calls.append([text[s:e] for s, e in where])
        return real(text, where)

    monkeypatch.setattr(names, "_ask_model", spy)
    text = (
        "We thanked Hazel Griffin (Clinical Audit Lead).\n"
        "Hazel Griffin will repeat the audit in January.\n"
        "Action owner: Hazel Griffin.\n"
    )
    found = detect_names(text)
    assert calls == [["Hazel Griffin"]]
    assert [c.value for c in found] == ["Hazel Griffin"] * 3
    assert {c.detector for c in found} == {"names.ner"}


def test_confident_names_never_reach_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(text: str, where: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
        if where:
            raise AssertionError("model asked")
        return []

    monkeypatch.setattr(names, "_ask_model", boom)
    assert len(detect_names(LETTER * 20 + MINUTES * 20)) == 4 * 20 + 6 * 20


def test_confirmed_name_settles_the_same_ambiguous_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "_ask_model", lambda text, where: [None] * len(where))
    text = "Mrs Rose Hall attended. Later Rose Hall signed the form."
    assert spans(text) == ["Rose Hall", "Rose Hall"]


def test_model_budget_falls_back_to_lexicon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "_MIN_MODEL_CHARS", 0)
    monkeypatch.setattr(names, "_MODEL_SHARE", 10**9)
    monkeypatch.setattr(names, "_ask_model", lambda text, where: [None] * len(where))
    found = detect_names("Grace Brown met Hope Street.")
    assert [(c.value, c.detector, c.score) for c in found] == [
        ("Grace Brown", "names.lexicon", 0.5)
    ]


def test_model_reads_a_small_share_of_a_large_text(monkeypatch: pytest.MonkeyPatch) -> None:
    read = [0]
    real = names._ask_model

    def count(text: str, where: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
        for s, e in where:
            lo, hi = names._window(text, s, e)
            read[0] += hi - lo
        return real(text, where)

    monkeypatch.setattr(names, "_ask_model", count)
    body = "".join(
        f"Visit {n}: Ellowen Brackley and Corvin Ashdale met Will Green at {n} Mill Road.\n"
        for n in range(2000)
    )
    detect_names(body)
    assert read[0] <= len(body) // names._MODEL_SHARE + 200


PIECES = (
    "Mr Mrs Dr. Ms Jane SMITH, Smith Okafor O'Neil Will Green Road Ltd Leeds Kind regards "
    "Hazel Griffin Zorvath the met , . ; : <a@b.c> \n 12 Sir/Madam Dear Hi J."
).split(" ")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join))
def test_spans_are_slices_of_the_text(text: str) -> None:
    for c in detect_names(text):
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start : c.end] == c.value
        assert c.normalised == c.normalised.casefold() if c.normalised else True
        assert split_title(c.value)[0] == ""


# --------------------------------------------------------------------------- cells


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Jane Smith", "jane smith"),
        ("SMITH, Jane", "jane smith"),
        ("Smith, Jane", "jane smith"),
        ("J. Smith", "j smith"),
        ("Mrs Jane Smith", "jane smith"),
        ("JANE SMITH", "jane smith"),
        ("Mr Okafor", "okafor"),
        ("OKAFOR, Chidi", "chidi okafor"),
        ("NOWAK, Katarzyna", "katarzyna nowak"),
        ("O'BRIEN, Siobhan", "siobhan o'brien"),
        ("Mohammed Al-Hassan", "mohammed al-hassan"),
        ("Wei Zhang", "wei zhang"),
        ("Dr Priya Nair", "priya nair"),
        ("  Agnieszka Kowalska ", "agnieszka kowalska"),
        ("Benjamin Ward", "benjamin ward"),
        ("Abbey Castle", "abbey castle"),
    ],
)
def test_person_cell_positives(cell: str, expected: str) -> None:
    assert person_cell(cell) == expected


@pytest.mark.parametrize(
    "cell",
    [
        "Ward 12",
        "GUM",
        "Carter Logistics plc",
        "Leeds",
        "Station Road",
        "Albert Mount",
        "Leeds, Harrogate",
        "Outpatients, Leeds",
        "Discharge Coordinator",
        "Information Governance",
        "St James Wing",
        "North Yorkshire",
        "Edwards Facilities",
        "Elm Ward",
        "Lloyds Bank",
        "Monday",
        "Ramipril 5mg",
        "Amoxicillin",
        "Dear Sir/Madam",
        "",
        "Mrs",
    ],
)
def test_person_cell_negatives(cell: str) -> None:
    assert person_cell(cell) is None


@given(st.text(max_size=80))
def test_person_cell_is_total(value: str) -> None:
    result = person_cell(value)
    assert result is None or (result == result.casefold() and result.strip() == result)


# --------------------------------------------------------------------------- helpers


def test_split_title() -> None:
    assert split_title("Mrs Jane Smith") == ("Mrs", "Jane Smith")
    assert split_title("Dr. Amir Hassan") == ("Dr.", "Amir Hassan")
    assert split_title("Jane Smith") == ("", "Jane Smith")
    assert split_title("Drew Smith") == ("", "Drew Smith")
    assert split_title("Mrs") == ("", "Mrs")


def test_given_and_family_scores_separate_the_roles() -> None:
    for first in ("Jane", "Mohammed", "Priya", "Tomasz", "Sarah"):
        assert given_name_score(first) > family_name_score(first), first
        assert given_name_score(first) >= 0.6
    for family in ("Smith", "Okafor", "Kowalski", "Patel", "Zhang"):
        assert family_name_score(family) > given_name_score(family), family
        assert family_name_score(family) >= 0.6
    for word in ("Monday", "Yes", "12", "", "Mrs"):
        assert given_name_score(word) == 0.0
        assert family_name_score(word) == 0.0
    # An ordinary word that is also a name is weaker evidence.
    assert given_name_score("Will") < given_name_score("William")


# --------------------------------------------------------------- issue 4: lone names, firms


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Minutes.\n3. Ifeoma can be reached on the ward line.", "Ifeoma"),
        ("Ruairi was born in Galway and moved here in 2019.", "Ruairi"),
        ("Last week Priyanka asked us to change the visit time.", "Priyanka"),
        ("Action: Tomasz to chase the landlord by Friday.", "Tomasz"),
        ("Owner: Bronwen", "Bronwen"),
        ("The form was signed by Mehmet.", "Mehmet"),
        ("Nobody was in when Siddharth called at 10:15.", "Siddharth"),
        ("Halima's birthday is in June.", "Halima"),
        ("Kind regards,\nGrace\nFinance | Oakfield School", "Grace"),
    ],
)
def test_lone_given_name_where_context_makes_a_person(text: str, name: str) -> None:
    assert name in spans(text)


@pytest.mark.parametrize(
    "text",
    [
        "The Sun said the council had agreed the budget.",
        "Meeting moved to Jun 2024 by the chair.",
        "Deadline is by Wed. Please reply.",
        "Grace periods apply to late payments.",
        "We hope Sarah gets the grant soon.",
    ],
)
def test_lone_words_without_person_context(text: str) -> None:
    assert spans(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Yours faithfully,\n\nMei Lin Zhao\nHousing Options\n", "Mei Lin Zhao"),
        ("Telephone 0113 496 0001. Patient Obinna Eze attended alone.", "Obinna Eze"),
        ("She now lives with Eluned Pritchard in Bangor.", "Eluned Pritchard"),
        ("Apologies: Rhodri ap Gwyn", "Rhodri ap Gwyn"),
        ("Manager: Jun Sun\nGrade: 5", "Jun Sun"),
        ("Dear Dr Sun,\nThank you.", "Sun"),
        ("Present: Ama Boateng (chair), Tobias Wrenfield, Zorvath Quellby\n", "Zorvath Quellby"),
    ],
)
def test_names_with_particles_calendar_words_and_roles(text: str, name: str) -> None:
    assert name in spans(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Re: O'CONNELL, Siobhan (born 1970)", "O'CONNELL, Siobhan"),
        ("Subject: LLEWELYN-BOWEN, Carys", "LLEWELYN-BOWEN, Carys"),
    ],
)
def test_surname_first_with_apostrophes_and_hyphens(text: str, name: str) -> None:
    assert name in spans(text)


@pytest.mark.parametrize(
    "text",
    [
        "The repair promised by Kowalczyk Plastering & Sons is late.",
        "Quotes came from Okafor Roofing plc and Whitlock Haulage Ltd.",
        "Our account with Brennan & Osei Associates was closed.",
        "Invoices from Hargreaves & Mbeki plc are due.",
        "Staff from the Beverley and Hastings offices attended.",
        "Stock is held at the Preston depot.",
    ],
)
def test_firms_named_after_people_and_towns_are_not_persons(text: str) -> None:
    assert spans(text) == []


def test_firm_words_do_not_hide_the_people_beside_them() -> None:
    text = "Aisha Bello of Bello Joinery Ltd said Aisha & Kofi will attend."
    assert spans(text)[0] == "Aisha Bello"
    assert "Bello Joinery" not in spans(text)
