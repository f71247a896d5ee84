"""Every example under examples/ is valid, and the bidder example decides as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_builders import EMPTY, NOW, STAFF

from shareguard.policy import (
    AgreementVersion,
    decide,
    load_agreement_files,
    load_policy,
    validate_files,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AGREEMENTS = sorted((EXAMPLES / "agreements").glob("*.yaml"))


def test_examples_exist() -> None:
    names = {p.name for p in AGREEMENTS}
    assert {"outsourcing-bidder.yaml", "nhs-discharge-to-assess.yaml"} <= names
    assert (EXAMPLES / "policy.yaml").is_file()


@pytest.mark.parametrize("path", AGREEMENTS, ids=[p.name for p in AGREEMENTS])
def test_example_agreement_is_valid(path: Path) -> None:
    assert validate_files([path]) == []


def test_examples_together_have_distinct_ids() -> None:
    assert validate_files(AGREEMENTS) == []


def test_example_policy_is_valid() -> None:
    policy = load_policy(EXAMPLES / "policy.yaml")
    assert policy.is_internal("hr@council.example")


def test_outsourcing_bidder_example() -> None:
    [loaded] = load_agreement_files([EXAMPLES / "agreements" / "outsourcing-bidder.yaml"])
    a = loaded.agreement
    assert a.aggregates_only
    assert (a.min_cell_size, a.max_data_subjects) == (10, 0)
    assert {"headcount", "grade", "department", "salary"} <= set(a.data_items)
    assert a.special_category_condition is None
    policy = load_policy(EXAMPLES / "policy.yaml")
    versions = [AgreementVersion(a, 1)]
    staff = decide(STAFF, "hr@council.example", ["bids@bidder.example"], versions, policy, NOW)
    assert staff.decision == "hold"
    assert any("allows aggregated figures only" in r for r in staff.recipients[0].reasons)
    profile = decide(EMPTY, "hr@council.example", ["bids@bidder.example"], versions, policy, NOW)
    assert profile.decision == "allow"
