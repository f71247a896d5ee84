"""Loading agreements and the policy file: every problem, at its line and column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shareguard.policy import (
    AgreementError,
    Problem,
    load_agreement_files,
    load_policy,
    parse_agreements,
    parse_policy,
    validate_files,
)

GOOD = """\
# a comment the reviewer wrote
id: DSA-1
title: Test agreement
parties: {us: Council, them: Partner}
recipients: [a@partner.example, "@partner.example", "*.partner.example"]
purpose: Testing
lawful_basis: contract
data_items: [PERSON, grade]
valid_from: 2026-01-01
valid_until: 2026-12-31
retention: {period: 30 days, deletion_duty: Delete}
approvers: [DPO]
"""


BOMB = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcd", "bcde", strict=True)
)


def problems(text: str) -> list[str]:
    with pytest.raises(AgreementError) as info:
        parse_agreements(text, "a.yaml")
    return [str(p) for p in info.value.problems]


def test_valid_agreement_with_defaults() -> None:
    [loaded] = parse_agreements(GOOD, "a.yaml")
    a = loaded.agreement
    assert (a.id, a.valid_from, a.on_violation, a.special_category_condition) == (
        "DSA-1",
        date(2026, 1, 1),
        "hold",
        None,
    )
    assert a.recipients == ["a@partner.example", "@partner.example", "*.partner.example"]
    assert loaded.source_text == GOOD
    assert (loaded.file, loaded.line) == ("a.yaml", 2)


def test_list_and_multi_document_files() -> None:
    listed = (
        "- "
        + GOOD.replace("\n", "\n  ").rstrip()
        + "\n- "
        + GOOD.replace("DSA-1", "DSA-2").replace("\n", "\n  ").rstrip()
        + "\n"
    )
    loaded = parse_agreements(listed, "l.yaml")
    assert [x.agreement.id for x in loaded] == ["DSA-1", "DSA-2"]
    assert parse_agreements(loaded[1].source_text)[0].agreement.id == "DSA-2"
    multi = GOOD + "---\n" + GOOD.replace("DSA-1", "DSA-3") + "...\n"
    loaded = parse_agreements(multi, "m.yaml")
    assert [x.agreement.id for x in loaded] == ["DSA-1", "DSA-3"]
    assert "---" not in loaded[0].source_text


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("valid_until:", "valid_untill:"),
            "a.yaml:10:1: unknown field 'valid_untill': did you mean 'valid_until'?",
        ),
        (
            ("valid_until: 2026-12-31", "valid_until: 2026-02-30"),
            "a.yaml:10:14: valid_until: 2026-02-30 is not a real date",
        ),
        (
            ("valid_until: 2026-12-31", "valid_until: 2025-12-31"),
            "a.yaml:10:14: valid_until: 2025-12-31 is before valid_from (2026-01-01)",
        ),
        (
            ("valid_from: 2026-01-01", "valid_from: 1 Jan 2026"),
            "a.yaml:9:13: valid_from: must be a date written YYYY-MM-DD",
        ),
        (
            ("a@partner.example,", "not an address,"),
            "a.yaml:5:14: recipients[0]: must be an address",
        ),
        (("[PERSON, grade]", "[PERSON, grades]"), "a.yaml:8:22: data_items[1]: unknown data item"),
        (
            ("[PERSON, grade]", "[PERSON, health]"),
            "a.yaml:8:22: data_items[1]: health is special-category data",
        ),
        (
            ("[PERSON, grade]", "[PERSON, PERSON]"),
            "a.yaml:8:22: data_items[1]: PERSON is listed twice",
        ),
        (("lawful_basis: contract", "lawful_basis: contracts"), "did you mean 'contract'?"),
        (
            ("{us: Council, them: Partner}", "{us: Council}"),
            "a.yaml:4:10: missing required field 'parties.them'",
        ),
        (("title: Test agreement\n", ""), "a.yaml:2:1: missing required field 'title'"),
        (
            ("approvers: [DPO]", "approvers: []"),
            "a.yaml:12:12: approvers: List should have at least",
        ),
        (("period: 30 days", "period: a while"), "retention.period: must be a period"),
        (
            ("approvers: [DPO]", "approvers: [DPO]\naggregates_only: yes"),
            "a.yaml:13:18: aggregates_only: Input should be a valid boolean",
        ),
        (
            ("approvers: [DPO]", "approvers: [DPO]\naggregates_only: true"),
            "a.yaml:13:18: aggregates_only needs min_cell_size",
        ),
        (
            ("approvers: [DPO]", "approvers: [DPO]\nmin_cell_size: 10"),
            "a.yaml:13:16: min_cell_size: only meaningful with aggregates_only: true",
        ),
        (
            ("approvers: [DPO]", "approvers: [DPO]\non_violation: warn"),
            "a.yaml:13:15: on_violation",
        ),
        (("id: DSA-1", "id: DSA 1"), "a.yaml:2:5: id: String should match pattern"),
        (("id: DSA-1", "id: [1]"), "a.yaml:2:5: id: Input should be a valid string"),
        (
            ("title: Test", "title: Test\ntitle: Again"),
            "a.yaml:4:1: YAML syntax: found duplicate key",
        ),
        (("parties: {", "parties: {{"), "a.yaml:5:1: YAML syntax"),
    ],
)
def test_problem_position_and_message(edit: tuple[str, str], expected: str) -> None:
    text = GOOD.replace(*edit, 1)
    assert text != GOOD
    found = problems(text)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_in_order() -> None:
    text = (
        GOOD.replace("valid_until:", "valid_untill:")
        .replace("contract", "contracts")
        .replace("[PERSON, grade]", "[PERSON, grades]")
    )
    found = problems(text)
    assert [p.split(":")[1] for p in found] == ["2", "7", "8", "10"]
    assert "missing required field 'valid_until'" in found[0]


def test_every_file_every_agreement(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(GOOD.replace("valid_until:", "valid_untill:"))
    (tmp_path / "two.yaml").write_text(
        GOOD.replace("DSA-1", "DSA-2") + "---\n" + GOOD.replace("lawful_basis: contract", "x: 1")
    )
    (tmp_path / "dup.yaml").write_text(GOOD)
    found = validate_files(
        [tmp_path / n for n in ("one.yaml", "two.yaml", "dup.yaml", "missing.yaml")]
    )
    text = [str(p) for p in found]
    assert any("one.yaml:10:1: unknown field" in t for t in text)
    assert any("two.yaml:20:1: unknown field 'x'" in t for t in text)
    assert any("two.yaml:15:1: missing required field 'lawful_basis'" in t for t in text)
    assert not any("already defined" in t for t in text)  # one.yaml's DSA-1 is invalid
    assert any(t.startswith(str(tmp_path / "missing.yaml") + ": cannot read") for t in text)
    (tmp_path / "one.yaml").write_text(GOOD)
    found = validate_files([tmp_path / "one.yaml", tmp_path / "dup.yaml"])
    assert [str(p) for p in found] == [
        f"{tmp_path / 'dup.yaml'}:2:1: agreement id DSA-1 is already defined at "
        f"{tmp_path / 'one.yaml'}:2"
    ]
    with pytest.raises(AgreementError):
        load_agreement_files([tmp_path / "one.yaml", tmp_path / "dup.yaml"])
    assert len(load_agreement_files([tmp_path / "one.yaml"])) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "a.yaml: no agreements in this file"),
        ("# only a comment\n", "a.yaml: no agreements in this file"),
        ("just text\n", "a.yaml:1:1: expected a mapping, not"),
        ("- 1\n- 2\n", "a.yaml:1:3: expected a mapping"),
        (BOMB, "a.yaml:1:1: more than"),
    ],
)
def test_not_agreements(text: str, expected: str) -> None:
    assert any(expected in p for p in problems(text)), problems(text)


def test_policy_defaults_and_file(tmp_path: Path) -> None:
    default = load_policy(None)
    assert default.internal_domains == []
    assert (
        default.no_agreement.personal_data,
        default.no_agreement.special_category,
        default.no_agreement.max_data_subjects,
        default.uninspectable,
    ) == ("hold", "block", 50, "hold")
    path = tmp_path / "policy.yaml"
    path.write_text("internal_domains: [Council.Example, '@trust.example']\nuninspectable: block\n")
    policy = load_policy(path)
    assert policy.internal_domains == ["council.example", "trust.example"]
    assert policy.is_internal("A@HR.council.example")
    assert not policy.is_internal("a@notcouncil.example")
    assert policy.uninspectable == "block"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "internal_domain: [a.example]\n",
            "p.yaml:1:1: unknown field 'internal_domain': did you mean",
        ),
        ("internal_domains: [nodot]\n", "p.yaml:1:20: internal_domains[0]: must be a domain"),
        ("no_agreement:\n  personal_data: minimise\n", "p.yaml:2:18: no_agreement.personal_data"),
        ("uninspectable: allow\n", "p.yaml:1:16: uninspectable"),
        ("a: 1\n---\nb: 2\n", "exactly one document"),
    ],
)
def test_policy_problems(text: str, expected: str) -> None:
    with pytest.raises(AgreementError) as info:
        parse_policy(text, "p.yaml")
    assert any(expected in str(p) for p in info.value.problems), info.value.problems


def test_problem_rendering() -> None:
    assert str(Problem("f.yaml", 3, 7, "bad")) == "f.yaml:3:7: bad"
    assert str(Problem("f.yaml", 0, 0, "unreadable")) == "f.yaml: unreadable"
    error = AgreementError([Problem("a", 1, 1, "x"), Problem("b", 2, 2, "y")])
    assert str(error) == "a:1:1: x\nb:2:2: y"
