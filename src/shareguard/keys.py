"""Keys derived from the one root secret, and the keyed hash of a value.

Every hash ShareGuard stores or prints is an HMAC under a key derived (HKDF)
from the root secret for one purpose, so a hash of a NI number cannot be
reversed by hashing every possible NI number without the secret.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import lru_cache

import polars as pl
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# HKDF "info" labels.  Changing one invalidates every hash made for that purpose.
PURPOSE_VALUE_HASH = b"shareguard/value-hash/v1"
PURPOSE_PSEUDONYM = b"shareguard/pseudonym/v1"
PURPOSE_QUARANTINE = b"shareguard/quarantine/v1"
PURPOSE_SUBJECT_ID = b"shareguard/subject-id/v1"

HASH_PREFIX = "hk1:"


def derive_key(root: bytes, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose).derive(root)


@dataclass(frozen=True, slots=True)
class ValueHasher:
    """Keyed hash of a normalised value, namespaced by entity type so that the
    same digits as a phone number and as an account number hash differently."""

    key: bytes

    @classmethod
    def from_root(cls, root: bytes) -> ValueHasher:
        return cls(derive_key(root, PURPOSE_VALUE_HASH))

    def __call__(self, kind: str, normalised: str) -> str:
        mac = hmac.digest(self.key, f"{kind}\x1f{normalised}".encode(), "sha256")
        return HASH_PREFIX + mac[:16].hex()

    def id64(self, key: str) -> int:
        """A keyed 64-bit id, for counting and matching people in memory
        during one scan: the same as :meth:`ids64` for one key."""
        return int(self.ids64(pl.Series([key], dtype=pl.String))[0])

    def ids64(self, keys: pl.Series) -> pl.Series:
        """Keyed 64-bit ids of many keys at once (a table chunk's people).

        Polars' hash with a seed and a salt derived from the key: not a MAC,
        but these ids never leave memory, and the derivation makes them the
        same in every worker process of one run (polars' hash is stable
        within one polars version) and unguessable without the secret."""
        salt, seed = _id_params(self.key)
        return (salt + keys).hash(seed).rename("id")


@lru_cache(maxsize=8)
def _id_params(key: bytes) -> tuple[str, int]:
    derived = derive_key(key, PURPOSE_SUBJECT_ID, 24)
    return derived[:16].hex(), int.from_bytes(derived[16:], "big")
