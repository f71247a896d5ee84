"""Properties: the loader fails only with AgreementError; decide() is monotone."""

from __future__ import annotations

import json
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_builders import NOW, file_report, scan_report, version
from test_policy_agreements import GOOD

from shareguard.model import EntityType, SpecialCategory
from shareguard.policy import (
    AgreementError,
    Policy,
    Problem,
    decide,
    parse_agreements,
    parse_policy,
    strictest,
)
from shareguard.policy.agreements import NoAgreement
from shareguard.policy.engine import _RANK

KEYS = [
    "id",
    "title",
    "recipients",
    "data_items",
    "valid_from",
    "valid_until",
    "retention",
    "parties",
    "approvers",
    "lawful_basis",
    "aggregates_only",
    "min_cell_size",
    "x",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.text(max_size=20),
    st.sampled_from(["2026-02-30", "2026-01-01", "@a.example", "*.b.example", "PERSON", "health"]),
)
yaml_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=20,
)


def _problems(parse: Callable[[str, str], object], text: str) -> tuple[Problem, ...] | None:
    """The problems ``parse`` reports, or None when it succeeds; any other
    exception fails the test."""
    try:
        parse(text, "t.yaml")
    except AgreementError as exc:
        return exc.problems
    return None


def _dump(value: object) -> str:
    return json.dumps(value)  # JSON is YAML: a cheap way to generate structured documents


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_loader_raises_only_agreement_error_on_any_text(text: str) -> None:
    for parse in (parse_agreements, parse_policy):
        found = _problems(parse, text)
        assert found is None or found
        assert all(p.file == "t.yaml" and p.line >= 0 for p in found or ())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_values)
def test_loader_raises_only_agreement_error_on_any_yaml(value: object) -> None:
    found = _problems(parse_agreements, _dump(value))
    assert found is None or found


@settings(max_examples=200)
@given(st.integers(0, len(GOOD)), st.text(max_size=12))
def test_loader_survives_edits_of_a_good_file(at: int, inserted: str) -> None:
    text = GOOD[:at] + inserted + GOOD[at:]
    found = _problems(parse_agreements, text)
    assert all(0 <= p.line <= text.count("\n") + 2 for p in found or ())


entity_counts = st.dictionaries(st.sampled_from(list(EntityType)), st.integers(1, 500), max_size=4)
specials = st.lists(st.sampled_from(list(SpecialCategory)), max_size=2, unique=True)
reports = st.builds(
    lambda ents, people, special, locked: scan_report(
        file_report(
            "a.csv",
            entities={str(k): v for k, v in ents.items()},
            people=people if ents else 0,
            special=tuple(special),
            uninspectable="corrupt" if locked else None,
        )
    ),
    entity_counts,
    st.integers(0, 500),
    specials,
    st.booleans(),
)
policies = st.builds(
    lambda pd, sc, n, u: Policy(
        internal_domains=["council.example"],
        no_agreement=NoAgreement(personal_data=pd, special_category=sc, max_data_subjects=n),
        uninspectable=u,
    ),
    st.sampled_from(["allow", "hold", "block"]),
    st.sampled_from(["hold", "block"]),
    st.integers(0, 100),
    st.sampled_from(["hold", "block"]),
)
agreement_sets = st.lists(
    st.builds(
        lambda items, agg, limit, block: version(
            data_items=items,
            aggregates_only=agg,
            min_cell_size=10 if agg else None,
            max_data_subjects=limit,
            on_violation="block" if block else "hold",
        ),
        st.lists(
            st.sampled_from(["PERSON", "EMAIL_ADDRESS", "UK_NINO", "grade", "salary"]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
        st.booleans(),
        st.none() | st.integers(0, 400),
        st.booleans(),
    ),
    max_size=2,
)
recipients = st.lists(
    st.sampled_from(
        ["a@bidder.example", "b@x.bidder.example", "c@council.example", "d@elsewhere.example"]
    ),
    min_size=1,
    max_size=4,
)


@given(reports, recipients, agreement_sets, policies)
def test_overall_is_the_strictest_and_internal_is_allowed(report, to, agreements, policy) -> None:  # type: ignore[no-untyped-def]
    d = decide(report, "s@council.example", to, agreements, policy, NOW)
    assert d.decision == strictest(r.decision for r in d.recipients)
    assert len(d.recipients) == len(set(to))
    for r in d.recipients:
        assert r.reasons
        if r.address.endswith("@council.example"):
            assert r.decision == "allow"


@given(recipients, agreement_sets, policies)
def test_nothing_found_is_allowed_for_everyone(to, agreements, policy) -> None:  # type: ignore[no-untyped-def]
    clean = scan_report(file_report("profile.csv"))
    assert decide(clean, "s", to, agreements, policy, NOW).decision == "allow"


@given(reports, recipients, agreement_sets, policies, entity_counts, specials, st.integers(0, 500))
def test_more_personal_data_is_never_less_strict(  # type: ignore[no-untyped-def]
    report, to, agreements, policy, more, more_special, more_people
) -> None:
    base = report.files[0]
    entities = dict(base.entities)
    for k, v in more.items():
        entities[str(k)] = entities.get(str(k), 0) + v
    bigger = scan_report(
        file_report(
            "a.csv",
            entities=entities,
            people=base.data_subjects + (more_people if entities else 0),
            special=tuple(sorted(set(base.special_category) | set(more_special))),
            uninspectable=base.uninspectable,
        )
    )
    before = decide(report, "s", to, agreements, policy, NOW)
    after = decide(bigger, "s", to, agreements, policy, NOW)
    for b, a in zip(before.recipients, after.recipients, strict=True):
        assert _RANK[a.decision] >= _RANK[b.decision], (b, a)
