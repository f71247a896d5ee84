"""Severity of a personal data breach by the ENISA method (Recommendations
for a methodology of the assessment of severity of personal data breaches,
v1.0, December 2013):

    SE = DPC × EI + CB

* DPC, data processing context (1–4): the kind of data — simple (1),
  behavioural (2), financial (3), sensitive (4) — adjusted up or down for the
  context (volume, who the controller or the people are, public
  availability, what the data actually reveals), kept within 1–4.
* EI, ease of identification: negligible 0.25, limited 0.5, significant
  0.75, maximum 1.
* CB, circumstances: loss of confidentiality (0, 0.25 to known recipients,
  0.5 to an unknown number), of integrity (0 / 0.25 / 0.5), of availability
  (0 / 0.25 / 0.5), plus 0.5 for malicious intent.
* Bands: low < 2, medium 2–3, high 3–4, very high ≥ 4.

ShareGuard proposes each factor from the facts and says why; a person may
override any factor with a justification.  Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shareguard.errors import InputError

DPC_TYPES = {"simple": 1, "behavioural": 2, "financial": 3, "sensitive": 4}
EI_LEVELS = {"negligible": 0.25, "limited": 0.5, "significant": 0.75, "maximum": 1.0}
CONFIDENTIALITY = {"none": 0.0, "known": 0.25, "unknown": 0.5}
LOSS = {"none": 0.0, "recoverable": 0.25, "unrecoverable": 0.5}
AVAILABILITY = {"none": 0.0, "temporary": 0.25, "full": 0.5}
MALICIOUS = {"no": 0.0, "yes": 0.5}

FACTORS = (
    "dpc_type",
    "dpc_adjust",
    "ei",
    "confidentiality",
    "integrity",
    "availability",
    "malicious",
)
_SCALES: dict[str, Mapping[str, float]] = {
    "dpc_type": DPC_TYPES,
    "ei": EI_LEVELS,
    "confidentiality": CONFIDENTIALITY,
    "integrity": LOSS,
    "availability": AVAILABILITY,
    "malicious": MALICIOUS,
}

_FINANCIAL = {"UK_BANK_ACCOUNT", "IBAN_CODE", "CREDIT_CARD"}
_BEHAVIOURAL = {"IP_ADDRESS", "UK_VEHICLE_REG"}
_IDENTITY_DOCUMENTS = {"UK_NINO", "UK_PASSPORT", "UK_DRIVING_LICENCE"}
_DIRECT = {
    "UK_NINO",
    "UK_NHS",
    "UK_PASSPORT",
    "UK_DRIVING_LICENCE",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "UK_BANK_ACCOUNT",
    "IBAN_CODE",
    "CREDIT_CARD",
}


@dataclass(frozen=True, slots=True)
class BreachFacts:
    """What the severity is judged on (all derived from the audit trail)."""

    categories: frozenset[str]  # entity types involved (PERSON, UK_NINO ...)
    special: frozenset[str]  # special categories involved (health ...)
    people: int  # registered people affected plus pattern-only people
    registered: int  # of whom matched against a registered dataset
    recipients: tuple[str, ...]  # where the data went; empty when unknown


@dataclass(frozen=True, slots=True)
class Factor:
    name: str
    value: str
    score: float
    why: str
    overridden_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "factor": self.name,
            "value": self.value,
            "score": self.score,
            "why": self.why,
            "overridden_by": self.overridden_by,
        }


@dataclass(frozen=True, slots=True)
class Override:
    factor: str
    value: str
    why: str
    by: str


@dataclass(frozen=True, slots=True)
class Assessment:
    factors: tuple[Factor, ...]
    dpc: float
    ei: float
    cb: float
    score: float
    band: str
    notify_regulator: bool
    notify_people: bool
    reasoning: tuple[str, ...] = field(default=())

    def factor(self, name: str) -> Factor:
        return next(f for f in self.factors if f.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "formula": "SE = DPC × EI + CB",
            "dpc": self.dpc,
            "ei": self.ei,
            "cb": self.cb,
            "score": self.score,
            "band": self.band,
            "factors": [f.as_dict() for f in self.factors],
            "notify_regulator": self.notify_regulator,
            "notify_people": self.notify_people,
            "reasoning": list(self.reasoning),
        }


def band(score: float) -> str:
    if score < 2:
        return "low"
    if score < 3:
        return "medium"
    if score < 4:
        return "high"
    return "very high"


def normalise(factor: str, value: str) -> str:
    """Check an override and return its canonical value; the message lists
    the allowed values."""
    if factor not in FACTORS:
        raise InputError(f"unknown severity factor {factor!r}; one of {', '.join(FACTORS)}")
    v = value.strip().lower()
    if factor == "dpc_adjust":
        try:
            n = int(v)
        except ValueError:
            raise InputError("dpc_adjust is a whole number from -3 to +3") from None
        if not -3 <= n <= 3:
            raise InputError("dpc_adjust is a whole number from -3 to +3")
        return f"{n:+d}"
    scale = _SCALES[factor]
    if v in scale:
        return v
    by_score = [k for k, s in scale.items() if _same(v, s)]
    if by_score:
        return by_score[0]
    raise InputError(
        f"{factor} must be one of {', '.join(f'{k} ({s:g})' for k, s in scale.items())}"
    )


def _same(text: str, score: float) -> bool:
    try:
        return abs(float(text) - score) < 1e-9
    except ValueError:
        return False


def proposed(facts: BreachFacts) -> dict[str, tuple[str, str]]:
    """Each factor's value as ShareGuard proposes it, with why."""
    cats, special = facts.categories, facts.special
    out: dict[str, tuple[str, str]] = {}
    if special:
        out["dpc_type"] = (
            "sensitive",
            f"special-category data involved ({', '.join(sorted(special))})",
        )
    elif cats & _FINANCIAL:
        out["dpc_type"] = ("financial", f"financial data involved ({_names(cats & _FINANCIAL)})")
    elif cats & _BEHAVIOURAL:
        out["dpc_type"] = (
            "behavioural",
            f"behavioural data involved ({_names(cats & _BEHAVIOURAL)})",
        )
    else:
        out["dpc_type"] = (
            "simple",
            f"only simple data involved ({_names(cats) or 'no categories recorded'})",
        )
    kind = out["dpc_type"][0]
    if kind == "simple" and cats & _IDENTITY_DOCUMENTS and "DATE_OF_BIRTH" in cats:
        out["dpc_adjust"] = (
            "+1",
            "identity-document numbers together with dates of birth allow impersonation and "
            "assumptions about the person's status (ENISA: increase simple data by 1 when "
            "profiling or assumptions become possible)",
        )
    elif kind == "financial" and "CREDIT_CARD" in cats:
        out["dpc_adjust"] = ("+1", "full card numbers could enable fraud (ENISA: increase by 1)")
    elif kind == "financial" and not cats & {"CREDIT_CARD"} and cats & _FINANCIAL:
        out["dpc_adjust"] = (
            "-1",
            "account numbers without statements or balances give little insight into the "
            "person's finances (ENISA: decrease by 1)",
        )
    else:
        out["dpc_adjust"] = ("+0", "no contextual adjustment proposed; review the context")
    if cats & _DIRECT:
        out["ei"] = ("maximum", f"directly identifying data involved ({_names(cats & _DIRECT)})")
    elif "PERSON" in cats and cats - {"PERSON"}:
        out["ei"] = (
            "maximum",
            "names together with other personal details identify people directly",
        )
    elif "PERSON" in cats or facts.registered:
        out["ei"] = ("significant", "names or registered keys make identification easy")
    elif cats:
        out["ei"] = (
            "limited",
            "personal details without names: identification possible but harder",
        )
    else:
        out["ei"] = ("negligible", "no identifying data recorded")
    if facts.recipients:
        out["confidentiality"] = (
            "known",
            f"disclosed to a known number of recipients ({len(facts.recipients)})",
        )
    else:
        out["confidentiality"] = ("unknown", "recipients not known: an unknown number of people")
    out["integrity"] = ("none", "a disclosure does not alter the data the controller holds")
    out["availability"] = ("none", "the controller still holds the data")
    out["malicious"] = ("no", "no evidence recorded of an intention to cause harm")
    return out


def _names(cats: Iterable[str]) -> str:
    return ", ".join(sorted(cats))


def assess(facts: BreachFacts, overrides: Iterable[Override] = ()) -> Assessment:
    """The proposed factors with the newest override of each applied."""
    chosen: dict[str, tuple[str, str, str | None]] = {
        k: (v, why, None) for k, (v, why) in proposed(facts).items()
    }
    for o in overrides:  # oldest first: the newest wins
        chosen[o.factor] = (normalise(o.factor, o.value), o.why, o.by)
    factors: list[Factor] = []
    for name in FACTORS:
        value, why, by = chosen[name]
        score = float(int(value)) if name == "dpc_adjust" else _SCALES[name][value]
        factors.append(Factor(name, value, score, why, by))
    get = {f.name: f.score for f in factors}
    dpc = min(4.0, max(1.0, get["dpc_type"] + get["dpc_adjust"]))
    ei = get["ei"]
    cb = get["confidentiality"] + get["integrity"] + get["availability"] + get["malicious"]
    score = round(dpc * ei + cb, 4)
    level = band(score)
    regulator, people, reasoning = _advice(level, facts)
    return Assessment(tuple(factors), dpc, ei, cb, score, level, regulator, people, reasoning)


def _advice(level: str, facts: BreachFacts) -> tuple[bool, bool, tuple[str, ...]]:
    """Art 33: report unless the breach is unlikely to result in a risk;
    Art 34: tell the people when it is likely to result in a high risk."""
    reasons = [f"ENISA severity is {level}."]
    regulator = level != "low" or bool(facts.special)
    if level == "low" and facts.special:
        reasons.append(
            "The score is low, but special-category data was involved: treat it as a risk "
            "and report it to the regulator."
        )
    elif regulator:
        reasons.append(
            "A medium or higher severity means the breach is likely to result in a risk to "
            "people's rights and freedoms: report it to the regulator within 72 hours of "
            "becoming aware (UK GDPR Art 33; DPA 2018 s.67 for law-enforcement processing)."
        )
    else:
        reasons.append(
            "A low severity suggests the breach is unlikely to result in a risk: it need not be "
            "reported, but record it and the reason in the breach register (Art 33(5))."
        )
    people = level in ("high", "very high")
    if people:
        reasons.append(
            "A high or very high severity means a likely high risk: tell the people affected "
            "without undue delay (Art 34; DPA 2018 s.68, which allows restricting this for the "
            "reasons it lists)."
        )
    else:
        reasons.append(
            "Below high severity the people need not be told by law; consider telling them "
            "anyway if they can protect themselves."
        )
    if facts.people > 100:
        reasons.append(
            f"{facts.people} people are affected: ENISA asks to consider the number of people "
            "as an aggravating circumstance on top of the score."
        )
    return regulator, people, tuple(reasons)
