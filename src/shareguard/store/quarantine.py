"""Held content, encrypted at rest.

AES-256-GCM under a key derived from the root secret for this one purpose;
a fresh random 96-bit nonce per item, and the item id as associated data so
that a ciphertext moved to another row does not decrypt.  The database
holds only ciphertext and the caller's metadata (which must itself hold no
personal data: file names, sizes, content hashes).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, select, update

from shareguard.keys import PURPOSE_QUARANTINE, derive_key
from shareguard.store.db import StoreError, session_scope
from shareguard.store.models import QuarantineRow

STATUSES = frozenset({"held", "released", "rejected", "purged"})


class Quarantine:
    def __init__(self, engine: Engine, root_key: bytes) -> None:
        self.engine = engine
        self._aead = AESGCM(derive_key(root_key, PURPOSE_QUARANTINE))

    def put(self, content: bytes, meta: Mapping[str, Any] | None = None) -> str:
        """Encrypt and store ``content``; returns the item id."""
        item_id = uuid.uuid4().hex
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, content, item_id.encode())
        with session_scope(self.engine) as s:
            s.add(
                QuarantineRow(
                    id=item_id,
                    created_at=datetime.now(UTC),
                    status="held",
                    meta=json.dumps(dict(meta or {}), sort_keys=True),
                    size=len(content),
                    nonce=nonce,
                    ciphertext=sealed,
                )
            )
        return item_id

    def get(self, item_id: str) -> bytes:
        """The decrypted content.  Raises :class:`StoreError` if the item is
        unknown, purged, or its ciphertext was altered or moved."""
        with session_scope(self.engine) as s:
            row = s.get(QuarantineRow, item_id)
            if row is None:
                raise StoreError(f"no quarantined item {item_id}")
            if row.status == "purged":
                raise StoreError(f"quarantined item {item_id} was purged")
            nonce, sealed = bytes(row.nonce), bytes(row.ciphertext)
        try:
            return self._aead.decrypt(nonce, sealed, item_id.encode())
        except InvalidTag:
            raise StoreError(
                f"quarantined item {item_id} cannot be decrypted: "
                "altered, or a different secret key"
            ) from None

    def meta(self, item_id: str) -> dict[str, Any]:
        with session_scope(self.engine) as s:
            row = s.get(QuarantineRow, item_id)
            if row is None:
                raise StoreError(f"no quarantined item {item_id}")
            out: dict[str, Any] = json.loads(row.meta)
            out.update(id=row.id, status=row.status, size=row.size, created_at=row.created_at)
            return out

    def status(self, item_id: str) -> str:
        with session_scope(self.engine) as s:
            st = s.execute(select(QuarantineRow.status).where(QuarantineRow.id == item_id))
            value = st.scalar_one_or_none()
        if value is None:
            raise StoreError(f"no quarantined item {item_id}")
        return value

    def set_status(self, item_id: str, status: str) -> None:
        """``purged`` also drops the ciphertext, so nothing is left to leak."""
        if status not in STATUSES:
            raise StoreError(f"quarantine status must be one of {sorted(STATUSES)}")
        values: dict[str, Any] = {"status": status}
        if status == "purged":
            values.update(ciphertext=b"", nonce=b"")
        with session_scope(self.engine) as s:
            done = s.execute(
                update(QuarantineRow).where(QuarantineRow.id == item_id).values(**values)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise StoreError(f"no quarantined item {item_id}")
