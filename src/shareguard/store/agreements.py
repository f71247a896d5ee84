"""Versions of data-sharing agreements.  Loading changed text adds a
version; old versions stay, so a decision can always name the exact text
that applied."""

from __future__ import annotations

import builtins
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from shareguard.store.db import StoreError, session_scope
from shareguard.store.models import AgreementVersionRow


@dataclass(frozen=True, slots=True)
class StoredAgreement:
    agreement_id: str
    version: int
    source_text: str
    source_sha256: str
    parsed: dict[str, Any]
    loaded_by: str
    loaded_at: datetime


def _stored(row: AgreementVersionRow) -> StoredAgreement:
    return StoredAgreement(
        row.agreement_id,
        row.version,
        row.source_text,
        row.source_sha256,
        json.loads(row.parsed),
        row.loaded_by,
        row.loaded_at,
    )


class AgreementStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_version(
        self, agreement_id: str, source_text: str, parsed: Mapping[str, Any], loaded_by: str
    ) -> int:
        """Store a new version and return its number; if the text is the
        same as the latest version's, store nothing and return that one."""
        digest = hashlib.sha256(source_text.encode("utf-8")).hexdigest()
        try:
            parsed_text = json.dumps(dict(parsed), sort_keys=True, default=str)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"agreement {agreement_id}: parsed form is not JSON: {exc}") from None
        for _attempt in range(5):
            try:
                with session_scope(self.engine, write=True) as s:
                    latest = s.execute(
                        select(AgreementVersionRow)
                        .where(AgreementVersionRow.agreement_id == agreement_id)
                        .order_by(AgreementVersionRow.version.desc())
                        .limit(1)
                    ).scalar_one_or_none()
                    if latest is not None and latest.source_sha256 == digest:
                        return latest.version
                    version = (latest.version if latest else 0) + 1
                    s.add(
                        AgreementVersionRow(
                            agreement_id=agreement_id,
                            version=version,
                            source_text=source_text,
                            source_sha256=digest,
                            parsed=parsed_text,
                            loaded_by=loaded_by,
                            loaded_at=datetime.now(UTC),
                        )
                    )
                return version
            except IntegrityError:
                continue  # another loader took this version number; look again
        raise StoreError(f"agreement {agreement_id}: could not store a new version")

    def get(self, agreement_id: str, version: int) -> StoredAgreement | None:
        with session_scope(self.engine) as s:
            row = s.get(AgreementVersionRow, (agreement_id, version))
            return _stored(row) if row else None

    def latest(self, agreement_id: str) -> StoredAgreement | None:
        with session_scope(self.engine) as s:
            row = s.execute(
                select(AgreementVersionRow)
                .where(AgreementVersionRow.agreement_id == agreement_id)
                .order_by(AgreementVersionRow.version.desc())
                .limit(1)
            ).scalar_one_or_none()
            return _stored(row) if row else None

    def versions(self, agreement_id: str) -> list[StoredAgreement]:
        with session_scope(self.engine) as s:
            rows = s.execute(
                select(AgreementVersionRow)
                .where(AgreementVersionRow.agreement_id == agreement_id)
                .order_by(AgreementVersionRow.version)
            ).scalars()
            return [_stored(r) for r in rows]

    def _latest_rows(self) -> list[AgreementVersionRow]:
        newest = (
            select(
                AgreementVersionRow.agreement_id,
                func.max(AgreementVersionRow.version).label("v"),
            )
            .group_by(AgreementVersionRow.agreement_id)
            .subquery()
        )
        q = (
            select(AgreementVersionRow)
            .join(
                newest,
                (AgreementVersionRow.agreement_id == newest.c.agreement_id)
                & (AgreementVersionRow.version == newest.c.v),
            )
            .order_by(AgreementVersionRow.agreement_id)
        )
        with session_scope(self.engine) as s:
            rows = list(s.execute(q).scalars())
            s.expunge_all()
            return rows

    def list(self) -> list[tuple[str, int, datetime]]:
        """(id, latest version, when it was loaded), by id."""
        return [(r.agreement_id, r.version, r.loaded_at) for r in self._latest_rows()]

    def all_latest(self) -> builtins.list[tuple[str, int, dict[str, Any]]]:
        """(id, latest version, parsed form) of every agreement, by id."""
        return [(r.agreement_id, r.version, json.loads(r.parsed)) for r in self._latest_rows()]
