"""Agreements, the global policy and the pure decision engine.

Load agreements with :func:`load_agreement_files` (or :func:`parse_agreements`),
the global policy with :func:`load_policy`, then call :func:`decide`.
"""

from shareguard.policy.agreements import (
    COLUMN_CATEGORIES,
    DATA_ITEMS,
    Agreement,
    LoadedAgreement,
    Policy,
    load_agreement_files,
    load_policy,
    parse_agreements,
    parse_policy,
    validate_files,
)
from shareguard.policy.engine import (
    Action,
    AgreementVersion,
    Decision,
    RecipientDecision,
    decide,
    strictest,
)
from shareguard.policy.yamlsource import AgreementError, Problem

__all__ = [
    "COLUMN_CATEGORIES",
    "DATA_ITEMS",
    "Action",
    "Agreement",
    "AgreementError",
    "AgreementVersion",
    "Decision",
    "LoadedAgreement",
    "Policy",
    "Problem",
    "RecipientDecision",
    "decide",
    "load_agreement_files",
    "load_policy",
    "parse_agreements",
    "parse_policy",
    "strictest",
    "validate_files",
]
