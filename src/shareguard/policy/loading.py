"""Agreements in force, as the decision engine wants them, from the store."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import Engine

from shareguard.policy.agreements import Agreement
from shareguard.policy.engine import AgreementVersion
from shareguard.policy.yamlsource import AgreementError, Problem
from shareguard.store.agreements import AgreementStore


def agreement_versions(engine: Engine) -> list[AgreementVersion]:
    """The latest version of every stored agreement.  A stored agreement that
    no longer validates (the schema changed since it was loaded) is an error,
    not skipped: skipping would silently change decisions."""
    versions: list[AgreementVersion] = []
    problems: list[Problem] = []
    for agreement_id, version, parsed in AgreementStore(engine).all_latest():
        try:
            versions.append(AgreementVersion(Agreement.model_validate(parsed), version))
        except ValidationError as exc:
            where = f"stored agreement {agreement_id} version {version}"
            problems += [
                Problem(where, 0, 0, f"{'.'.join(map(str, e['loc']))}: {e['msg']}; load it again")
                for e in exc.errors()
            ]
    if problems:
        raise AgreementError(problems)
    return versions
