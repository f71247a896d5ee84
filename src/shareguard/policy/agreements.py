"""Data-sharing agreements and the global policy: what they may say, and
loading them from YAML with every error pinned to a line and column.

The fields follow the UK regulator's data-sharing code of practice; see
docs/agreements.md for what each one means and a worked example.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from shareguard.model import EntityType, SpecialCategory
from shareguard.policy.yamlsource import (
    AgreementError,
    Node,
    Problem,
    item_nodes,
    read_documents,
    validate_node,
)

__all__ = [
    "COLUMN_CATEGORIES",
    "DATA_ITEMS",
    "Agreement",
    "AgreementError",
    "Art9Condition",
    "LawfulBasis",
    "LoadedAgreement",
    "Policy",
    "Problem",
    "load_agreement_files",
    "load_policy",
    "parse_agreements",
    "parse_policy",
    "validate_files",
]


class LawfulBasis(StrEnum):
    """UK GDPR Article 6(1) lawful bases."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"


class Art9Condition(StrEnum):
    """UK GDPR Article 9(2) conditions, (a) to (j)."""

    EXPLICIT_CONSENT = "explicit_consent"
    EMPLOYMENT_SOCIAL_SECURITY = "employment_social_security"
    VITAL_INTERESTS = "vital_interests"
    NOT_FOR_PROFIT_BODY = "not_for_profit_body"
    MADE_PUBLIC = "made_public"
    LEGAL_CLAIMS = "legal_claims"
    SUBSTANTIAL_PUBLIC_INTEREST = "substantial_public_interest"
    HEALTH_SOCIAL_CARE = "health_social_care"
    PUBLIC_HEALTH = "public_health"
    ARCHIVING_RESEARCH_STATISTICS = "archiving_research_statistics"


# Workforce columns an agreement may name.  The scanner reports entity types
# and special categories; these say which columns of a table (or which
# dimensions of an aggregate) the recipient may have.
COLUMN_CATEGORIES: frozenset[str] = frozenset(
    {
        "grade",
        "department",
        "job_title",
        "salary",
        "pay_band",
        "sex",
        "age",
        "age_band",
        "fte",
        "contract_type",
        "location",
        "start_date",
        "length_of_service",
        "headcount",
    }
)
DATA_ITEMS: frozenset[str] = frozenset(EntityType) | frozenset(SpecialCategory) | COLUMN_CATEGORIES

_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})+"
_RECIPIENT = re.compile(rf"^(?:[^@\s]+@{_DOMAIN}|@{_DOMAIN}|\*\.{_DOMAIN})$")
_DOMAIN_ONLY = re.compile(rf"^{_DOMAIN}$")
_PERIOD = re.compile(r"^[1-9][0-9]{0,3} (?:day|week|month|year)s?$")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def _real_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value.strip()} is not a real date") from None


Day = Annotated[date, BeforeValidator(_real_date)]


def _recipient(value: Any) -> str:
    if not isinstance(value, str) or not _RECIPIENT.match(value.strip().lower()):
        raise ValueError(
            "must be an address (name@example.org), a domain (@example.org) "
            "or subdomains (*.example.org)"
        )
    return value.strip().lower()


def _domain(value: Any) -> str:
    text = value.strip().lower().removeprefix("@") if isinstance(value, str) else ""
    if not _DOMAIN_ONLY.match(text):
        raise ValueError("must be a domain such as example.org")
    return text


def _data_item(value: Any) -> str:
    if not isinstance(value, str) or value.strip() not in DATA_ITEMS:
        raise ValueError(
            "unknown data item: use an entity type (e.g. PERSON, UK_NINO), a column "
            "category (e.g. grade, salary) or a special category (e.g. health); "
            "see docs/agreements.md"
        )
    return value.strip()


def _period(value: Any) -> str:
    if not isinstance(value, str) or not _PERIOD.match(value.strip()):
        raise ValueError("must be a period such as '6 months', '30 days' or '2 years'")
    return value.strip()


Recipient = Annotated[str, BeforeValidator(_recipient)]
Domain = Annotated[str, BeforeValidator(_domain)]
DataItem = Annotated[str, BeforeValidator(_data_item)]
Period = Annotated[str, BeforeValidator(_period)]
Action = Literal["hold", "block"]


class _Fields(BaseModel):
    # Unknown keys are errors: a misspelt `valid_untill` must not vanish.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parties(_Fields):
    us: Text
    them: Text


class Retention(_Fields):
    period: Period
    deletion_duty: Text


class Agreement(_Fields):
    """One data-sharing agreement.  Field order matters: later fields are
    checked against earlier ones."""

    id: Annotated[str, StringConstraints(pattern=_ID)]
    title: Text
    parties: Parties
    recipients: Annotated[list[Recipient], Field(min_length=1)]
    purpose: Text
    lawful_basis: LawfulBasis
    special_category_condition: Art9Condition | None = None
    law_enforcement_processing: StrictBool = False
    data_items: Annotated[list[DataItem], Field(min_length=1)]
    aggregates_only: StrictBool = False
    min_cell_size: Annotated[int, Field(ge=2, le=1000)] | None = None
    max_data_subjects: Annotated[int, Field(ge=0)] | None = None
    # smallest equivalence class an outbound table may have over its
    # quasi-identifiers (k-anonymity); see ``shareguard minimise --k-anonymity``
    min_k: Annotated[int, Field(ge=2, le=1000)] | None = None
    valid_from: Day
    valid_until: Day
    review_date: Day | None = None
    retention: Retention
    approvers: Annotated[list[Text], Field(min_length=1)]
    on_violation: Action = "hold"

    @field_validator("data_items")
    @classmethod
    def _special_needs_condition(cls, items: list[str], info: ValidationInfo) -> list[str]:
        lawful = info.data.get("special_category_condition") or info.data.get(
            "law_enforcement_processing"
        )
        for i, item in enumerate(items):
            if item in SpecialCategory.__members__.values() and not lawful:
                raise PydanticCustomError(
                    "special_without_condition",
                    "{item} is special-category data: set special_category_condition "
                    "(an Article 9 condition) or remove it",
                    {"item": item, "index": i},
                )
            if item in items[:i]:
                raise PydanticCustomError(
                    "duplicate", "{item} is listed twice", {"item": item, "index": i}
                )
        return items

    @field_validator("min_cell_size")
    @classmethod
    def _cells_need_aggregates(cls, size: int | None, info: ValidationInfo) -> int | None:
        if size is not None and not info.data.get("aggregates_only"):
            raise ValueError("only meaningful with aggregates_only: true")
        return size

    @field_validator("valid_until")
    @classmethod
    def _until_after_from(cls, until: date, info: ValidationInfo) -> date:
        start = info.data.get("valid_from")
        if start is not None and until < start:
            raise ValueError(f"{until} is before valid_from ({start})")
        return until

    @field_validator("review_date")
    @classmethod
    def _review_after_from(cls, review: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("valid_from")
        if review is not None and start is not None and review < start:
            raise ValueError(f"{review} is before valid_from ({start})")
        return review

    @property
    def cell_size(self) -> int:
        """Smallest cell an aggregate may show (10 unless the agreement says)."""
        return self.min_cell_size or 10


def _aggregates_need_cell_size(a: Agreement) -> list[tuple[tuple[str | int, ...], str]]:
    if a.aggregates_only and a.min_cell_size is None:
        return [(("aggregates_only",), "aggregates_only needs min_cell_size (e.g. 10)")]
    return []


@dataclass(frozen=True, slots=True)
class LoadedAgreement:
    """An agreement as read: ``source_text`` is its YAML (comments kept), the
    text that is reviewed and stored as a version; ``line`` is where it starts."""

    agreement: Agreement
    source_text: str
    file: str
    line: int


def parse_agreements(text: str, file: str = "<string>") -> list[LoadedAgreement]:
    """Every agreement in ``text`` (a mapping, a list of mappings, or several
    YAML documents).  Raises AgreementError listing every problem."""
    nodes: list[tuple[Node, bool]] = []
    for doc in read_documents(text, file):
        if isinstance(doc.value, list):
            nodes += [(n, True) for n in item_nodes(doc)]
        else:
            nodes.append((doc, False))
    loaded: list[LoadedAgreement] = []
    problems: list[Problem] = []
    lines = text.splitlines(keepends=True)
    starts = [0] + [_chunk_start(lines, n, in_list) for n, in_list in nodes[1:]] + [len(lines)]
    for i, (node, in_list) in enumerate(nodes):
        agreement, found = validate_node(Agreement, node, file, _aggregates_need_cell_size)
        problems += found
        if agreement is not None:
            source = _source(lines[starts[i] : starts[i + 1]], node, in_list, first=i == 0)
            loaded.append(LoadedAgreement(agreement, source, file, node.line + 1))
    if not loaded and not problems:
        problems.append(Problem(file, 0, 0, "no agreements in this file"))
    if problems:
        raise AgreementError(sorted(problems, key=_order))
    return loaded


_MARKER = re.compile(r"^(?:---|\.\.\.)(?:\s|$)")


def _chunk_start(lines: list[str], node: Node, in_list: bool) -> int:
    """First line of an agreement's text: a document's opening comments
    belong to it, back to the ``---`` that starts it."""
    if in_list:
        return node.line
    for i in range(min(node.line, len(lines)) - 1, -1, -1):
        if _MARKER.match(lines[i]):
            return i + 1
    return node.line


_SEPARATOR = re.compile(r"^\s*(?:---|\.\.\.)?\s*$")


def _source(chunk: list[str], node: Node, in_list: bool, *, first: bool) -> str:
    """The agreement's own lines, as written (comments kept): what a reviewer
    read, and what is compared to decide whether a new version is loaded."""
    chunk = list(chunk)
    while chunk and _SEPARATOR.match(chunk[-1]):
        chunk.pop()
    if in_list and chunk:
        # "- id: X" becomes "  id: X" so the item reads as a mapping of its own;
        # the first item's chunk also holds the file's opening comments.
        index = min(node.line if first else 0, len(chunk) - 1)
        row = chunk[index]
        dash = node.column - 2
        if dash >= 0 and row[dash : dash + 1] == "-":
            chunk[index] = row[:dash] + " " + row[dash + 1 :]
        return textwrap.dedent("".join(chunk))
    return "".join(chunk)


def _order(p: Problem) -> tuple[str, int, int]:
    return (p.file, p.line, p.column)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise AgreementError([Problem(str(path), 0, 0, f"cannot read: {reason}")]) from None


def _gather(paths: Iterable[Path | str]) -> tuple[list[LoadedAgreement], list[Problem]]:
    loaded: list[LoadedAgreement] = []
    problems: list[Problem] = []
    for p in paths:
        path = Path(p)
        try:
            loaded += parse_agreements(_read(path), str(path))
        except AgreementError as exc:
            problems += exc.problems
    seen: dict[str, LoadedAgreement] = {}
    for item in loaded:
        first = seen.setdefault(item.agreement.id, item)
        if first is not item:
            problems.append(
                Problem(
                    item.file,
                    item.line,
                    1,
                    f"agreement id {item.agreement.id} is already defined at "
                    f"{first.file}:{first.line}",
                )
            )
    return loaded, sorted(problems, key=_order)


def validate_files(paths: Sequence[Path | str]) -> list[Problem]:
    """Every problem in every file (empty when all are valid)."""
    return _gather(paths)[1]


def load_agreement_files(paths: Sequence[Path | str]) -> list[LoadedAgreement]:
    """All agreements in ``paths``; raises AgreementError with every problem."""
    loaded, problems = _gather(paths)
    if problems:
        raise AgreementError(problems)
    return loaded


# ----------------------------------------------------------------------------- global policy


class NoAgreement(_Fields):
    """What happens when an external recipient has no agreement in force."""

    personal_data: Literal["allow", "hold", "block"] = "hold"
    special_category: Action = "block"
    max_data_subjects: Annotated[int, Field(ge=0)] = 50


class Policy(_Fields):
    """The organisation-wide policy file."""

    internal_domains: list[Domain] = Field(default_factory=list)
    no_agreement: NoAgreement = Field(default_factory=NoAgreement)
    uninspectable: Action = "hold"

    def is_internal(self, address: str) -> bool:
        """True for an address at an internal domain or one of its subdomains."""
        domain = address.rpartition("@")[2].strip().lower()
        return any(domain == d or domain.endswith("." + d) for d in self.internal_domains)


def parse_policy(text: str, file: str = "<string>") -> Policy:
    docs = read_documents(text, file)
    if len(docs) != 1:
        raise AgreementError([Problem(file, 0, 0, "a policy file holds exactly one document")])
    policy, problems = validate_node(Policy, docs[0], file)
    if policy is None:
        raise AgreementError(problems)
    return policy


def load_policy(path: Path | str | None) -> Policy:
    """The policy in ``path``, or the safe defaults when there is none: hold
    personal data, block special-category data and more than 50 people, hold
    what cannot be inspected, no internal domains."""
    if path is None:
        return Policy()
    return parse_policy(_read(Path(path)), str(path))
