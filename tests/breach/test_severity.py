"""ENISA severity: the scales, the bands, ShareGuard's proposals and people's
overrides."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shareguard.breach.severity import (
    AVAILABILITY,
    CONFIDENTIALITY,
    DPC_TYPES,
    EI_LEVELS,
    FACTORS,
    LOSS,
    MALICIOUS,
    BreachFacts,
    Override,
    assess,
    band,
    normalise,
)
from shareguard.errors import InputError


def facts(*cats: str, special: tuple[str, ...] = (), people: int = 10, to: int = 1) -> BreachFacts:
    return BreachFacts(
        frozenset(cats),
        frozenset(special),
        people,
        people,
        tuple(f"r{i}@x.example" for i in range(to)),
    )


def test_scales_are_enisa_2013() -> None:
    assert DPC_TYPES == {"simple": 1, "behavioural": 2, "financial": 3, "sensitive": 4}
    assert EI_LEVELS == {"negligible": 0.25, "limited": 0.5, "significant": 0.75, "maximum": 1.0}
    assert CONFIDENTIALITY == {"none": 0.0, "known": 0.25, "unknown": 0.5}
    assert LOSS == {"none": 0.0, "recoverable": 0.25, "unrecoverable": 0.5}
    assert AVAILABILITY == {"none": 0.0, "temporary": 0.25, "full": 0.5}
    assert MALICIOUS == {"no": 0.0, "yes": 0.5}


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0.25, "low"),
        (1.99, "low"),
        (2.0, "medium"),
        (2.99, "medium"),
        (3.0, "high"),
        (3.99, "high"),
        (4.0, "very high"),
        (5.5, "very high"),
    ],
)
def test_bands(score: float, expected: str) -> None:
    assert band(score) == expected


def test_staff_list_with_ni_numbers_to_a_known_bidder() -> None:
    """Names, dates of birth and NI numbers to one known recipient: simple data
    raised by one (identity fraud), directly identifying, known recipient."""
    result = assess(facts("PERSON", "DATE_OF_BIRTH", "UK_NINO"))
    assert result.factor("dpc_type").value == "simple"
    assert result.factor("dpc_adjust").value == "+1"
    assert result.factor("ei").value == "maximum"
    assert result.factor("confidentiality").value == "known"
    assert (result.dpc, result.ei, result.cb) == (2.0, 1.0, 0.25)
    assert result.score == 2.25
    assert result.band == "medium"
    assert result.notify_regulator
    assert not result.notify_people
    assert all(f.why for f in result.factors)


def test_health_data_is_sensitive_and_high() -> None:
    result = assess(facts("PERSON", "UK_NINO", special=("health",)))
    assert result.factor("dpc_type").value == "sensitive"
    assert result.score == 4.25
    assert result.band == "very high"
    assert result.notify_regulator
    assert result.notify_people
    assert any("Art 34" in r for r in result.reasoning)


def test_names_only_to_a_known_recipient_is_low_and_need_not_be_reported() -> None:
    result = assess(facts("PERSON"))
    assert result.score == 1 * 0.75 + 0.25
    assert result.band == "low"
    assert not result.notify_regulator
    assert any("33(5)" in r for r in result.reasoning)


def test_unknown_recipients_raise_confidentiality_loss() -> None:
    assert assess(facts("PERSON", to=0)).factor("confidentiality").score == 0.5


def test_override_applies_and_names_who_and_why() -> None:
    base = facts("PERSON", "DATE_OF_BIRTH", "UK_NINO")
    overrides = [
        Override("dpc_adjust", "+3", "police officers: personal safety at risk", "dpo@x"),
        Override("malicious", "yes", "recipient published the list", "dpo@x"),
    ]
    result = assess(base, overrides)
    assert result.dpc == 4.0
    assert result.cb == 0.75
    assert result.score == 4.75
    assert result.band == "very high"
    adjusted = result.factor("dpc_adjust")
    assert (adjusted.overridden_by, adjusted.why) == (
        "dpo@x",
        "police officers: personal safety at risk",
    )
    assert result.factor("ei").overridden_by is None


def test_newest_override_wins() -> None:
    result = assess(
        facts("PERSON"),
        [Override("ei", "limited", "a", "x"), Override("ei", "0.25", "b", "y")],
    )
    assert (result.factor("ei").value, result.factor("ei").why) == ("negligible", "b")


@pytest.mark.parametrize(
    ("factor", "value", "expected"),
    [
        ("ei", "0.75", "significant"),
        ("ei", "Maximum", "maximum"),
        ("dpc_adjust", "2", "+2"),
        ("dpc_type", "financial", "financial"),
        ("malicious", "0.5", "yes"),
    ],
)
def test_normalise_accepts_names_and_scores(factor: str, value: str, expected: str) -> None:
    assert normalise(factor, value) == expected


@pytest.mark.parametrize(
    ("factor", "value", "message"),
    [("ei", "0.6", "negligible"), ("dpc_adjust", "+4", "-3 to \\+3"), ("colour", "red", "one of")],
)
def test_normalise_refuses_with_the_allowed_values(factor: str, value: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        normalise(factor, value)


@given(
    dpc_type=st.sampled_from(list(DPC_TYPES)),
    adjust=st.integers(-3, 3),
    ei=st.sampled_from(list(EI_LEVELS)),
    conf=st.sampled_from(list(CONFIDENTIALITY)),
    integ=st.sampled_from(list(LOSS)),
    avail=st.sampled_from(list(AVAILABILITY)),
    mal=st.sampled_from(list(MALICIOUS)),
)
def test_score_is_dpc_times_ei_plus_cb(
    dpc_type: str, adjust: int, ei: str, conf: str, integ: str, avail: str, mal: str
) -> None:
    values = dict(zip(FACTORS, (dpc_type, str(adjust), ei, conf, integ, avail, mal), strict=True))
    result = assess(facts("PERSON"), [Override(k, v, "why", "me") for k, v in values.items()])
    dpc = min(4, max(1, DPC_TYPES[dpc_type] + adjust))
    cb = CONFIDENTIALITY[conf] + LOSS[integ] + AVAILABILITY[avail] + MALICIOUS[mal]
    assert result.dpc == dpc
    assert result.score == pytest.approx(dpc * EI_LEVELS[ei] + cb)
    assert result.band == band(result.score)
    assert result.notify_people == (result.score >= 3)
