from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, select, update

from shareguard.config import get_settings
from shareguard.store.audit import AuditLog
from shareguard.store.db import StoreError, make_engine, upgrade
from shareguard.store.models import QuarantineRow
from shareguard.store.quarantine import Quarantine

# Synthetic person (the NI number prefix "ZZ" is never issued).
SEEDS = ["Quentin Zabriskie-Voss", "ZZ 12 34 56 C", "ZZ123456C", "1961-04-23"]


def _content() -> bytes:
    rows = ["name,nino,dob"] + [f"{SEEDS[0]},{SEEDS[1]},{SEEDS[3]}"] * 50
    return "\n".join(rows).encode()


def test_put_get_round_trip(engine: Engine) -> None:
    q = Quarantine(engine, get_settings().secret_key_bytes())
    item = q.put(_content(), {"file": "staff.csv"})
    assert q.get(item) == _content()
    meta = q.meta(item)
    assert (meta["file"], meta["status"], meta["size"]) == ("staff.csv", "held", len(_content()))
    assert meta["created_at"].tzinfo is not None
    other = q.put(b"")
    assert q.get(other) == b""


def test_ciphertext_is_bound_to_key_item_and_bytes(engine: Engine) -> None:
    root = get_settings().secret_key_bytes()
    q = Quarantine(engine, root)
    a, b = q.put(b"first secret"), q.put(b"second secret")
    with pytest.raises(StoreError, match="cannot be decrypted"):
        Quarantine(engine, bytes(32)).get(a)
    with engine.begin() as conn:
        row_a = conn.execute(select(QuarantineRow).where(QuarantineRow.id == a)).one()
        # Moving a's ciphertext and nonce into b's row must not decrypt (id is AAD).
        conn.execute(
            update(QuarantineRow)
            .where(QuarantineRow.id == b)
            .values(nonce=row_a.nonce, ciphertext=row_a.ciphertext)
        )
    with pytest.raises(StoreError, match="cannot be decrypted"):
        q.get(b)
    with engine.begin() as conn:
        flipped = bytes([row_a.ciphertext[0] ^ 1]) + bytes(row_a.ciphertext[1:])
        conn.execute(update(QuarantineRow).where(QuarantineRow.id == a).values(ciphertext=flipped))
    with pytest.raises(StoreError, match="cannot be decrypted"):
        q.get(a)


def test_nonces_are_fresh(engine: Engine) -> None:
    q = Quarantine(engine, get_settings().secret_key_bytes())
    ids = [q.put(b"same") for _ in range(20)]
    with engine.connect() as conn:
        nonces = conn.execute(select(QuarantineRow.nonce)).scalars().all()
    assert len(set(nonces)) == 20
    assert all(len(n) == 12 for n in nonces)
    assert all(q.get(i) == b"same" for i in ids)


def test_status_and_purge(engine: Engine) -> None:
    q = Quarantine(engine, get_settings().secret_key_bytes())
    item = q.put(b"held content")
    assert q.status(item) == "held"
    q.set_status(item, "released")
    assert q.status(item) == "released"
    assert q.get(item) == b"held content"
    q.set_status(item, "purged")
    with pytest.raises(StoreError, match="purged"):
        q.get(item)
    with engine.connect() as conn:
        assert conn.execute(select(QuarantineRow.ciphertext)).scalar_one() == b""
    with pytest.raises(StoreError):
        q.set_status(item, "lost")
    with pytest.raises(StoreError, match="no quarantined item"):
        q.set_status("0" * 32, "held")
    with pytest.raises(StoreError, match="no quarantined item"):
        q.get("0" * 32)


def _needles() -> list[bytes]:
    out = []
    for s in SEEDS:
        out += [s.encode(), s.encode("utf-16-le"), s.upper().encode(), s.lower().encode()]
    return out


def _assert_no_seeds(blob: bytes, where: str) -> None:
    for needle in _needles():
        assert needle not in blob, f"seeded value found in {where}"


def test_no_seeded_value_in_sqlite_files(shareguard_home: Path) -> None:
    settings = get_settings()
    engine = make_engine(settings)
    upgrade(engine)
    q = Quarantine(engine, settings.secret_key_bytes())
    for _ in range(3):
        item = q.put(_content(), {"file": "staff.csv"})
    AuditLog(engine).append("hold", "alice", {"quarantine_id": item, "decision": "hold"})
    assert q.get(item) == _content()
    # Read while the WAL is still live, then again after a checkpoint.
    files = [p for p in shareguard_home.rglob("*") if p.is_file()]
    assert any(p.name == "shareguard.db" for p in files)
    for p in files:
        _assert_no_seeds(p.read_bytes(), p.name)
    engine.dispose()
    for p in shareguard_home.rglob("*"):
        if p.is_file():
            _assert_no_seeds(p.read_bytes(), p.name)


def test_no_seeded_value_in_postgresql_rows(pg_url: str, shareguard_home: Path) -> None:
    engine = make_engine(url=pg_url)
    upgrade(engine)
    q = Quarantine(engine, get_settings().secret_key_bytes())
    item = q.put(_content(), {"file": "staff.csv"})
    AuditLog(engine).append("hold", "alice", {"quarantine_id": item, "decision": "hold"})
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    blob = value if isinstance(value, bytes) else str(value).encode()
                    _assert_no_seeds(blob, table.name)
    for p in shareguard_home.rglob("*"):
        if p.is_file():
            _assert_no_seeds(p.read_bytes(), p.name)
    engine.dispose()
