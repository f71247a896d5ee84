"""decide(), table-driven: every agreement field, expiry, wildcards, several
recipients, uninspectable parts and no agreement at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from policy_builders import EMPTY, NOW, STAFF, file_report, scan_report, version

from shareguard.model import ScanReport
from shareguard.policy import Action, AgreementVersion, Policy, decide, strictest
from shareguard.policy.agreements import NoAgreement

DEFAULT = Policy()
INTERNAL = Policy(internal_domains=["council.example"])
TEN = scan_report(file_report("ten.csv", entities={"PERSON": 10, "EMAIL_ADDRESS": 10}, people=10))
NAMES = scan_report(file_report("names.docx", entities={"PERSON": 4}, people=4))
HEALTH = scan_report(
    file_report("referrals.docx", entities={"PERSON": 3}, people=3, special=("health",))
)
CRIME = scan_report(
    file_report("cases.docx", entities={"PERSON": 2}, people=2, special=("criminal_offence",))
)
LOCKED = scan_report(file_report("secret.zip", uninspectable="encrypted archive"))
NESTED = scan_report(
    file_report(
        "outbound.zip",
        people=3,
        parts=(
            file_report(
                "outbound.zip!notes.docx", entities={"PERSON": 3}, people=3, special=("health",)
            ),
        ),
    )
)
BIDDER = "bids@bidder.example"


@dataclass(frozen=True)
class Case:
    name: str
    report: ScanReport
    recipients: tuple[str, ...]
    agreements: tuple[AgreementVersion, ...]
    expected: tuple[str, ...]  # one decision per (distinct) recipient
    policy: Policy = DEFAULT
    reason: str = ""  # a phrase one of the first recipient's reasons must contain
    agreement: tuple[str | None, int | None] | None = None  # first recipient's (id, version)
    now: datetime = field(default=NOW)


CASES = [
    # ---- nothing personal, internal mail
    Case("nothing personal", EMPTY, (BIDDER,), (), ("allow",), reason="no personal data found"),
    Case(
        "internal recipient",
        STAFF,
        ("hr@council.example",),
        (),
        ("allow",),
        INTERNAL,
        reason="internal: not a disclosure",
    ),
    Case("internal subdomain", STAFF, ("a@schools.council.example",), (), ("allow",), INTERNAL),
    Case(
        "look-alike domain is not internal",
        TEN,
        ("a@evilcouncil.example",),
        (),
        ("hold",),
        INTERNAL,
    ),
    # ---- no agreement: the global policy
    Case(
        "no agreement, few people",
        TEN,
        (BIDDER,),
        (),
        ("hold",),
        reason="no data-sharing agreement covers bids@bidder.example",
    ),
    Case(
        "no agreement, over the people limit",
        STAFF,
        (BIDDER,),
        (),
        ("block",),
        reason="more than 50 people is blocked",
    ),
    Case(
        "no agreement, policy allows personal data",
        TEN,
        (BIDDER,),
        (),
        ("allow",),
        Policy(no_agreement=NoAgreement(personal_data="allow")),
    ),
    Case(
        "no agreement, policy blocks personal data",
        TEN,
        (BIDDER,),
        (),
        ("block",),
        Policy(no_agreement=NoAgreement(personal_data="block")),
    ),
    Case(
        "no agreement, special category blocked",
        HEALTH,
        (BIDDER,),
        (),
        ("block",),
        reason="special-category data is blocked",
    ),
    Case(
        "no agreement, special category held by policy",
        HEALTH,
        (BIDDER,),
        (),
        ("hold",),
        Policy(no_agreement=NoAgreement(special_category="hold")),
    ),
    Case(
        "no agreement, people limit set low",
        TEN,
        (BIDDER,),
        (),
        ("block",),
        Policy(no_agreement=NoAgreement(personal_data="allow", max_data_subjects=5)),
    ),
    # ---- data_items
    Case(
        "items covered",
        TEN,
        (BIDDER,),
        (version(3, data_items=["PERSON", "EMAIL_ADDRESS"]),),
        ("allow",),
        reason="allows this",
        agreement=("DSA-17", 3),
    ),
    Case(
        "item outside the list, hold",
        TEN,
        (BIDDER,),
        (version(data_items=["PERSON"]),),
        ("hold",),
        reason="does not allow e-mail address",
        agreement=("DSA-17", 1),
    ),
    Case(
        "item outside the list, block",
        TEN,
        (BIDDER,),
        (version(data_items=["PERSON"], on_violation="block"),),
        ("block",),
    ),
    Case(
        "column categories alone allow no personal data",
        NAMES,
        (BIDDER,),
        (version(),),
        ("hold",),
        reason="does not allow person name",
    ),
    # ---- aggregates_only / min_cell_size
    Case(
        "aggregates only, person-level data, hold => minimise",
        NAMES,
        (BIDDER,),
        (version(data_items=["PERSON"], aggregates_only=True, min_cell_size=10),),
        ("minimise",),
        reason="aggregated figures only, in cells of at least 10",
    ),
    Case(
        "aggregates only, person-level data, block",
        NAMES,
        (BIDDER,),
        (
            version(
                data_items=["PERSON"], aggregates_only=True, min_cell_size=10, on_violation="block"
            ),
        ),
        ("block",),
    ),
    Case(
        "aggregates only, aggregated figures",
        EMPTY,
        (BIDDER,),
        (version(aggregates_only=True, min_cell_size=10),),
        ("allow",),
        agreement=("DSA-17", 1),
    ),
    Case(
        "the seed incident: staff list to the bidder",
        STAFF,
        (BIDDER,),
        (version(aggregates_only=True, min_cell_size=10),),
        ("hold",),
        reason="Beds_establishment_list.csv holds personal data of 318 people",
    ),
    # ---- special category, Art. 9 condition, law enforcement
    Case(
        "special without condition: policy blocks",
        HEALTH,
        (BIDDER,),
        (version(data_items=["PERSON"]),),
        ("block",),
        reason="has no Article 9 condition",
    ),
    Case(
        "special without condition: policy holds",
        HEALTH,
        (BIDDER,),
        (version(data_items=["PERSON"]),),
        ("hold",),
        Policy(no_agreement=NoAgreement(special_category="hold")),
    ),
    Case(
        "special with condition, listed",
        HEALTH,
        (BIDDER,),
        (
            version(
                data_items=["PERSON", "health"], special_category_condition="health_social_care"
            ),
        ),
        ("allow",),
    ),
    Case(
        "special with condition, not listed",
        HEALTH,
        (BIDDER,),
        (
            version(
                data_items=["PERSON", "ethnicity"], special_category_condition="health_social_care"
            ),
        ),
        ("hold",),
        Policy(no_agreement=NoAgreement(special_category="hold")),
        reason="does not allow for special-category data (health)",
    ),
    Case(
        "criminal offence data under law enforcement processing",
        CRIME,
        (BIDDER,),
        (version(data_items=["PERSON", "criminal_offence"], law_enforcement_processing=True),),
        ("allow",),
    ),
    Case(
        "criminal offence data without it",
        CRIME,
        (BIDDER,),
        (version(data_items=["PERSON"]),),
        ("block",),
    ),
    Case(
        "special category in a nested part",
        NESTED,
        (BIDDER,),
        (version(data_items=["PERSON"]),),
        ("block",),
        reason="outbound.zip holds personal data of 3 people",
    ),
    # ---- max_data_subjects
    Case(
        "at the people limit",
        TEN,
        (BIDDER,),
        (version(data_items=["PERSON", "EMAIL_ADDRESS"], max_data_subjects=10),),
        ("allow",),
    ),
    Case(
        "over the people limit",
        TEN,
        (BIDDER,),
        (version(data_items=["PERSON", "EMAIL_ADDRESS"], max_data_subjects=9),),
        ("hold",),
        reason="allows at most 9 people per disclosure, not 10",
    ),
    Case(
        "over the people limit, block",
        TEN,
        (BIDDER,),
        (
            version(
                data_items=["PERSON", "EMAIL_ADDRESS"], max_data_subjects=0, on_violation="block"
            ),
        ),
        ("block",),
    ),
    # ---- validity: expiry, not yet in force, review date
    Case(
        "expired agreement is no agreement",
        TEN,
        (BIDDER,),
        (version(data_items=["PERSON", "EMAIL_ADDRESS"], valid_until=date(2026, 6, 14)),),
        ("hold",),
        reason="expired on 2026-06-14",
        agreement=(None, None),
    ),
    Case(
        "last day of validity",
        TEN,
        (BIDDER,),
        (version(data_items=["PERSON", "EMAIL_ADDRESS"], valid_until=date(2026, 6, 15)),),
        ("allow",),
    ),
    Case(
        "not yet in force",
        TEN,
        (BIDDER,),
        (version(data_items=["PERSON", "EMAIL_ADDRESS"], valid_from=date(2026, 7, 1)),),
        ("hold",),
        reason="not in force until 2026-07-01",
    ),
    Case(
        "review overdue is said, not enforced",
        TEN,
        (BIDDER,),
        (version(data_items=["PERSON", "EMAIL_ADDRESS"], review_date=date(2026, 3, 1)),),
        ("allow",),
        reason="was due for review on 2026-03-01",
    ),
    # ---- recipients: exact, @domain, *.domain, specificity
    Case(
        "exact address only",
        TEN,
        ("other@bidder.example",),
        (version(recipients=[BIDDER], data_items=["PERSON", "EMAIL_ADDRESS"]),),
        ("hold",),
    ),
    Case(
        "wildcard matches a subdomain",
        TEN,
        ("a@bids.bidder.example",),
        (version(recipients=["*.bidder.example"], data_items=["PERSON", "EMAIL_ADDRESS"]),),
        ("allow",),
    ),
    Case(
        "wildcard does not match the bare domain",
        TEN,
        (BIDDER,),
        (version(recipients=["*.bidder.example"], data_items=["PERSON", "EMAIL_ADDRESS"]),),
        ("hold",),
    ),
    Case(
        "@domain does not match subdomains",
        TEN,
        ("a@bids.bidder.example",),
        (version(data_items=["PERSON", "EMAIL_ADDRESS"]),),
        ("hold",),
    ),
    Case(
        "exact address beats the domain",
        TEN,
        (BIDDER,),
        (
            version(1, id="WIDE", data_items=["PERSON", "EMAIL_ADDRESS"]),
            version(2, id="NARROW", recipients=[BIDDER], data_items=["PERSON"]),
        ),
        ("hold",),
        agreement=("NARROW", 2),
    ),
    Case(
        "equally specific: the one that permits applies",
        TEN,
        (BIDDER,),
        (
            version(1, id="A", data_items=["PERSON"]),
            version(4, id="B", data_items=["PERSON", "EMAIL_ADDRESS"]),
        ),
        ("allow",),
        agreement=("B", 4),
    ),
    Case(
        "expired exact agreement falls back to the domain one",
        TEN,
        (BIDDER,),
        (
            version(
                1,
                id="OLD",
                recipients=[BIDDER],
                valid_until=date(2026, 1, 31),
                data_items=["PERSON"],
            ),
            version(1, id="DOMAIN", data_items=["PERSON", "EMAIL_ADDRESS"]),
        ),
        ("allow",),
        agreement=("DOMAIN", 1),
    ),
    Case(
        "display name and case are ignored",
        TEN,
        ("Bids Team <BIDS@Bidder.Example>",),
        (version(data_items=["PERSON", "EMAIL_ADDRESS"]),),
        ("allow",),
    ),
    # ---- several recipients
    Case(
        "several recipients, each its own agreement",
        HEALTH,
        (BIDDER, "care@council.example", "x@elsewhere.example"),
        (
            version(1, data_items=["PERSON"]),
            version(
                2,
                id="DSA-31",
                recipients=["care@council.example"],
                data_items=["PERSON", "health"],
                special_category_condition="health_social_care",
            ),
        ),
        ("block", "allow", "block"),
    ),
    Case(
        "duplicate recipients are decided once", TEN, (BIDDER, "BIDS@bidder.example"), (), ("hold",)
    ),
    # ---- uninspectable parts
    Case(
        "uninspectable, nothing else",
        LOCKED,
        (BIDDER,),
        (),
        ("hold",),
        reason="secret.zip could not be inspected (encrypted archive)",
    ),
    Case(
        "uninspectable, policy blocks",
        LOCKED,
        (BIDDER,),
        (),
        ("block",),
        Policy(uninspectable="block"),
    ),
    Case(
        "uninspectable, despite an agreement",
        scan_report(
            file_report("ok.csv", entities={"PERSON": 2}, people=2),
            file_report("secret.zip", uninspectable="encrypted archive"),
        ),
        (BIDDER,),
        (version(data_items=["PERSON"]),),
        ("hold",),
        agreement=("DSA-17", 1),
    ),
    Case(
        "uninspectable, internal recipient",
        LOCKED,
        ("a@council.example",),
        (),
        ("allow",),
        INTERNAL,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_decide(case: Case) -> None:
    d = decide(
        case.report, "hr@council.example", case.recipients, case.agreements, case.policy, case.now
    )
    assert tuple(r.decision for r in d.recipients) == case.expected
    assert d.decision == strictest(case.expected)
    first = d.recipients[0]
    assert first.reasons, "every decision says why"
    if case.reason:
        assert any(case.reason in r for r in first.reasons), first.reasons
    if case.agreement is not None:
        assert (first.agreement_id, first.agreement_version) == case.agreement


def test_reasons_name_the_file_and_the_agreement() -> None:
    d = decide(
        STAFF,
        "hr@council.example",
        [BIDDER],
        [version(2, aggregates_only=True, min_cell_size=10)],
        DEFAULT,
        NOW,
    )
    reasons = d.recipients[0].reasons
    assert reasons[0] == (
        "Beds_establishment_list.csv holds personal data of 318 people "
        "(date of birth, person name, National Insurance number)"
    )
    assert (
        "agreement DSA-17 (version 2) with Bidder Ltd allows aggregated figures only" in reasons[1]
    )


def test_many_files_are_summarised() -> None:
    files = [file_report(f"f{i}.csv", entities={"PERSON": 1}, people=1) for i in range(8)]
    d = decide(scan_report(*files), "s@council.example", [BIDDER], [], DEFAULT, NOW)
    reasons = d.recipients[0].reasons
    assert sum(r.startswith("f") and "holds personal data" in r for r in reasons) == 5
    assert "3 more file(s) hold personal data" in reasons


def test_full_paths_are_shortened_to_file_names() -> None:
    report = scan_report(file_report("/srv/out/hr/staff.csv", entities={"PERSON": 1}, people=1))
    reasons = decide(report, "s", [BIDDER], [], DEFAULT, NOW).recipients[0].reasons
    assert reasons[0].startswith("staff.csv holds")


def test_as_dict_is_the_check_json_shape() -> None:
    d = decide(
        TEN, "s", [BIDDER, "x@council.example"], [version(5, data_items=["PERSON"])], INTERNAL, NOW
    )
    data = d.as_dict()
    assert data["decision"] == "hold"
    assert data["recipients"][0]["agreement"] == {"id": "DSA-17", "version": 5}
    assert data["recipients"][1] == {
        "address": "x@council.example",
        "decision": "allow",
        "agreement": None,
        "reasons": ["council.example is internal: not a disclosure"],
    }


def test_no_recipients_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="recipient"):
        decide(TEN, "s", [], [], DEFAULT, NOW)


def test_timezone_of_now_decides_the_day() -> None:
    late = datetime(2026, 6, 15, 23, 30, tzinfo=UTC)
    a = version(data_items=["PERSON", "EMAIL_ADDRESS"], valid_until=date(2026, 6, 15))
    assert decide(TEN, "s", [BIDDER], [a], DEFAULT, late).decision == "allow"


def test_strictest_order() -> None:
    assert strictest([]) is Action.ALLOW
    assert strictest(["allow", "minimise"]) is Action.MINIMISE
    assert strictest(["minimise", "hold"]) is Action.HOLD
    assert strictest(["hold", "block", "allow"]) is Action.BLOCK
