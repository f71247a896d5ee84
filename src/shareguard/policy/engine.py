"""The decision engine: may this content go to these recipients?

:func:`decide` is a pure function of the scan report, the addresses, the
agreements in force and the global policy: no I/O, no clock (``now`` is an
argument), so the same inputs always give the same decision and the rules can
be tested as a table.  Rules, for each recipient (docs/agreements.md):

- an internal address is not a disclosure: allow;
- parts that could not be inspected: the policy's ``uninspectable`` action;
- nothing personal found: allow;
- the most specific agreement in force for the address (exact address, then
  ``@domain``, then ``*.domain``) is checked field by field, each breach giving
  its own action and reason; with several equally specific agreements, the one
  that permits most applies;
- no agreement in force (none, expired, not yet valid): the policy's
  ``no_agreement`` rules.

The recipient's decision is the strictest of its rules, and the message's the
strictest of its recipients': block > hold > minimise > allow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parseaddr
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from shareguard.model import FileReport, ScanReport
from shareguard.policy.agreements import Agreement, Policy
from shareguard.render import ENTITY_LABELS, SPECIAL_LABELS

__all__ = [
    "Action",
    "AgreementVersion",
    "Decision",
    "RecipientDecision",
    "decide",
    "strictest",
]

MAX_FILES_NAMED = 5


class Action(StrEnum):
    ALLOW = "allow"
    MINIMISE = "minimise"
    HOLD = "hold"
    BLOCK = "block"


_RANK = {Action.ALLOW: 0, Action.MINIMISE: 1, Action.HOLD: 2, Action.BLOCK: 3}


def strictest(actions: Iterable[str]) -> Action:
    """The strictest of ``actions`` (allow when there are none)."""
    return max((Action(a) for a in actions), key=_RANK.__getitem__, default=Action.ALLOW)


@dataclass(frozen=True, slots=True)
class AgreementVersion:
    agreement: Agreement
    version: int


@dataclass(frozen=True, slots=True)
class RecipientDecision:
    address: str
    decision: Action
    agreement_id: str | None
    agreement_version: int | None
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "decision": str(self.decision),
            "agreement": (
                {"id": self.agreement_id, "version": self.agreement_version}
                if self.agreement_id is not None
                else None
            ),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    decision: Action
    recipients: tuple[RecipientDecision, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": str(self.decision),
            "recipients": [r.as_dict() for r in self.recipients],
        }


# ----------------------------------------------------------------------------- what was found


@dataclass(frozen=True, slots=True)
class _Content:
    people: int
    entities: frozenset[str]
    special: frozenset[str]
    facts: tuple[str, ...]  # one plain sentence per file holding personal data
    uninspectable: tuple[str, ...]  # one sentence per part that could not be read

    @property
    def personal(self) -> bool:
        return bool(self.entities or self.special or self.people)


def _labels(types: Iterable[str], table: dict[str, str]) -> str:
    return ", ".join(table.get(t, t) for t in types)


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def _display(path: str) -> str:
    top, sep, rest = path.partition("!")
    return PurePosixPath(top.replace("\\", "/")).name + sep + rest


def _fact(f: FileReport) -> str | None:
    counts: dict[str, int] = {}
    special: set[str] = set()
    for part in f.walk():
        for t, n in part.entities.items():
            counts[t] = counts.get(t, 0) + n
        special.update(part.special_category)
    if not counts and not special:
        return None
    by_count = sorted(counts, key=lambda t: (-counts[t], t))
    text = f"{_display(f.path)} holds "
    if by_count:
        of = f" of {_people(f.data_subjects)}" if f.data_subjects else ""
        text += f"personal data{of} ({_labels(by_count, ENTITY_LABELS)})"
    if special:
        text += " and " if by_count else ""
        text += f"special-category data ({_labels(sorted(special), SPECIAL_LABELS)})"
    return text


def _content(report: ScanReport) -> _Content:
    facts = [fact for f in report.files if (fact := _fact(f))]
    if len(facts) > MAX_FILES_NAMED:
        rest = len(facts) - MAX_FILES_NAMED
        facts = [*facts[:MAX_FILES_NAMED], f"{rest} more file(s) hold personal data"]
    unreadable = tuple(
        f"{_display(p.path)} could not be inspected ({p.uninspectable})"
        for f in report.files
        for p in f.walk()
        if p.uninspectable
    )
    every = [p for f in report.files for p in f.walk()]
    return _Content(
        people=report.data_subjects,
        entities=frozenset(report.entities) | {t for p in every for t in p.entities},
        special=frozenset(report.special_category) | {s for p in every for s in p.special_category},
        facts=tuple(facts),
        uninspectable=unreadable,
    )


# ----------------------------------------------------------------------------- agreements


def _match(pattern: str, address: str) -> tuple[int, int] | None:
    """How specifically ``pattern`` names ``address`` (higher is more), or None."""
    domain = address.rpartition("@")[2]
    if pattern.startswith("@"):
        return (2, len(pattern)) if domain == pattern[1:] else None
    if pattern.startswith("*."):
        return (1, len(pattern)) if domain.endswith(pattern[1:]) else None
    return (3, len(pattern)) if pattern == address else None


def _in_force(a: Agreement, today: date) -> bool:
    return a.valid_from <= today <= a.valid_until


def _who(av: AgreementVersion) -> str:
    a = av.agreement
    return f"agreement {a.id} (version {av.version}) with {a.parties.them}"


Outcome = tuple[Action, str]


def _check(av: AgreementVersion, c: _Content, policy: Policy) -> list[Outcome]:
    """Each breach of the agreement by this content, with its action."""
    a, who = av.agreement, _who(av)
    breach = Action(a.on_violation)
    out: list[Outcome] = []
    allowed = set(a.data_items)
    if a.aggregates_only and (c.entities or c.people):
        action = Action.MINIMISE if breach is Action.HOLD else Action.BLOCK
        out.append(
            (
                action,
                f"{who} allows aggregated figures only, in cells of at least {a.cell_size}: "
                "send the aggregated figures (such as a workforce profile) instead of "
                "details of individuals",
            )
        )
    extra = sorted(c.entities - allowed)
    if extra:
        out.append((breach, f"{who} does not allow {_labels(extra, ENTITY_LABELS)}"))
    lawful = a.special_category_condition is not None or a.law_enforcement_processing
    special = sorted(c.special if not lawful else c.special - allowed)
    if special:
        action = strictest([breach, policy.no_agreement.special_category])
        why = "has no Article 9 condition" if not lawful else "does not allow"
        out.append(
            (action, f"{who} {why} for special-category data ({_labels(special, SPECIAL_LABELS)})")
        )
    limit = a.max_data_subjects
    if limit is not None and c.people > limit:
        out.append(
            (breach, f"{who} allows at most {_people(limit)} per disclosure, not {c.people}")
        )
    return out


def _choose(
    address: str, agreements: Sequence[AgreementVersion], today: date
) -> tuple[list[AgreementVersion], list[AgreementVersion]]:
    """The most specific agreements in force for ``address``, and matching
    agreements that are not in force (for the reason)."""
    scored = []
    for av in agreements:
        best = max((m for p in av.agreement.recipients if (m := _match(p, address))), default=None)
        if best is not None:
            scored.append((best, av))
    live = [(s, av) for s, av in scored if _in_force(av.agreement, today)]
    top = max((s for s, _ in live), default=None)
    chosen = [av for s, av in live if s == top]
    return chosen, [av for _, av in scored if not _in_force(av.agreement, today)]


def _not_in_force(stale: list[AgreementVersion], address: str, today: date) -> str:
    if not stale:
        return f"no data-sharing agreement covers {address}"
    a = stale[0].agreement
    if a.valid_until < today:
        return f"agreement {a.id} with {a.parties.them} expired on {a.valid_until}"
    return f"agreement {a.id} with {a.parties.them} is not in force until {a.valid_from}"


def _without_agreement(c: _Content, policy: Policy, why: str) -> list[Outcome]:
    rules = policy.no_agreement
    out: list[Outcome] = []
    if c.entities or c.people:
        action = Action(rules.personal_data)
        out.append((action, f"{why}; without one, personal data is {_verb(action)}"))
    if c.special:
        action = Action(rules.special_category)
        out.append((action, f"{why}; without one, special-category data is {_verb(action)}"))
    if c.people > rules.max_data_subjects:
        out.append(
            (
                Action.BLOCK,
                f"{why}; without one, data about more than "
                f"{_people(rules.max_data_subjects)} is blocked",
            )
        )
    return out


def _strictness(outcomes: list[Outcome]) -> int:
    return _RANK[strictest(a for a, _ in outcomes)]


def _verb(action: Action) -> str:
    return {"allow": "allowed", "minimise": "minimised", "hold": "held", "block": "blocked"}[action]


# ----------------------------------------------------------------------------- decide


@dataclass(slots=True)
class _Verdict:
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    applied: AgreementVersion | None = None


def _for_recipient(
    address: str,
    c: _Content,
    agreements: Sequence[AgreementVersion],
    policy: Policy,
    today: date,
) -> RecipientDecision:
    if policy.is_internal(address):
        domain = address.rpartition("@")[2]
        return RecipientDecision(
            address, Action.ALLOW, None, None, (f"{domain} is internal: not a disclosure",)
        )
    v = _Verdict()
    chosen, stale = _choose(address, agreements, today)
    if chosen:
        # Several equally specific agreements: any one that covers the content suffices.
        v.applied = min(
            chosen, key=lambda av: (_strictness(_check(av, c, policy)), av.agreement.id)
        )
        a = v.applied.agreement
        if c.personal:
            v.outcomes += _check(v.applied, c, policy)
        if a.review_date is not None and a.review_date < today:
            v.notes.append(f"{_who(v.applied)} was due for review on {a.review_date}")
    elif c.personal:
        v.outcomes += _without_agreement(c, policy, _not_in_force(stale, address, today))
    for reason in c.uninspectable:
        action = Action(policy.uninspectable)
        v.outcomes.append((action, f"{reason}: {_verb(action)} until someone checks it"))
    decision = strictest(a for a, _ in v.outcomes)
    if decision is Action.ALLOW:
        if not c.personal:
            summary = ["no personal data found"]
        elif v.applied is not None:
            summary = [f"{_who(v.applied)} allows this ({v.applied.agreement.purpose})"]
        else:  # the policy allows personal data without an agreement
            summary = [r for _, r in v.outcomes]
        reasons = [*summary, *c.facts, *v.notes]
    else:
        reasons = [*c.facts, *(r for a, r in v.outcomes if a is not Action.ALLOW), *v.notes]
    applied = v.applied
    return RecipientDecision(
        address,
        decision,
        applied.agreement.id if applied else None,
        applied.version if applied else None,
        tuple(reasons),
    )


def _normalise(address: str) -> str:
    parsed = parseaddr(address)[1] or address
    return parsed.strip().lower()


def decide(
    report: ScanReport,
    sender: str,
    recipients: Sequence[str],
    agreements: Sequence[AgreementVersion],
    policy: Policy,
    now: datetime,
) -> Decision:
    """The decision for each recipient of ``report`` and for the message as a
    whole (the strictest).  ``sender`` is not used by the rules yet; it is part
    of the signature so that sender-specific rules need no caller changes."""
    del sender
    addresses = list(dict.fromkeys(_normalise(r) for r in recipients))
    if not addresses:
        raise ValueError("decide() needs at least one recipient")
    content = _content(report)
    today = now.date()
    decisions = tuple(_for_recipient(a, content, agreements, policy, today) for a in addresses)
    return Decision(strictest(d.decision for d in decisions), decisions)
