"""Audit search at scale: (filter, seq) indexes on the audit records; records
gain their number of people, and recipient links the recipient's domain, the
agreement it fell under and the decision for it (all backfilled from the
payloads); domain and agreement are indexed with the record id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 5000
_RECORD_FILTERS = ("ts", "sender", "decision", "kind")
_LINK_INDEXES = (
    ("ix_audit_recipients_address_record_id", ["address", "record_id"]),
    ("ix_audit_recipients_domain_record_id", ["domain", "record_id"]),
    ("ix_audit_recipients_agreement_id_record_id", ["agreement_id", "record_id"]),
)


def _address(value: Any) -> str | None:
    # As the 0001 columns were derived: a blank string is kept, as "".
    return value.strip().lower()[:320] if isinstance(value, str) and value else None


def _agreement_id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value[:128] if isinstance(value, str) and value else None


def _decision(value: Any) -> str | None:
    return value[:16] if isinstance(value, str) and value else None


def _derived(payload: dict[str, Any]) -> tuple[int | None, dict[str, tuple[Any, ...]]]:
    """(people, address -> (domain, agreement id, decision)) as
    store.audit.index_fields derived them when this migration was written
    (kept literal: a migration must not follow the live code)."""
    per: dict[str, dict[str, Any]] = {}
    for r in payload.get("per_recipient") or []:
        if isinstance(r, dict) and (addr := _address(r.get("address"))) is not None:
            per[addr] = r
    agreement, decision = (
        _agreement_id(payload.get("agreement")),
        _decision(payload.get("decision")),
    )
    links: dict[str, tuple[Any, ...]] = {}
    raw = payload.get("recipients") or []
    for r in raw if isinstance(raw, list) else []:
        addr = _address(r.get("address") if isinstance(r, dict) else r)
        if addr is not None:
            own = per.get(addr, {})
            links[addr] = (
                addr.rpartition("@")[2],
                _agreement_id(own.get("agreement")) or agreement,
                _decision(own.get("decision")) or decision,
            )
    people = payload.get("data_subjects")
    return (people if isinstance(people, int) and not isinstance(people, bool) else None), links


def _backfill() -> None:
    conn = op.get_bind()
    records = sa.table("audit_records", sa.column("seq"), sa.column("payload"), sa.column("people"))
    links = sa.table(
        "audit_recipients",
        sa.column("record_id"),
        sa.column("address"),
        sa.column("domain"),
        sa.column("agreement_id"),
        sa.column("decision"),
    )
    set_people = (
        records.update()
        .where(records.c.seq == sa.bindparam("rid"))
        .values(people=sa.bindparam("n"))
    )
    set_link = (
        links.update()
        .where(links.c.record_id == sa.bindparam("rid"), links.c.address == sa.bindparam("addr"))
        .values(
            domain=sa.bindparam("domain"),
            agreement_id=sa.bindparam("agreement"),
            decision=sa.bindparam("dec"),
        )
    )
    after = 0
    while True:
        batch = conn.execute(
            sa.select(records.c.seq, records.c.payload)
            .where(records.c.seq > after)
            .order_by(records.c.seq)
            .limit(_BATCH)
        ).all()
        if not batch:
            return
        people, link_rows = [], []
        for seq, text in batch:
            n, derived = _derived(json.loads(text))
            if n is not None:
                people.append({"rid": seq, "n": n})
            for addr, (domain, agreement, dec) in derived.items():
                link_rows.append(
                    {"rid": seq, "addr": addr, "domain": domain, "agreement": agreement, "dec": dec}
                )
        if people:
            conn.execute(set_people, people)
        if link_rows:
            conn.execute(set_link, link_rows)
        after = batch[-1].seq


def upgrade() -> None:
    for col in _RECORD_FILTERS:
        op.drop_index(f"ix_audit_records_{col}", table_name="audit_records")
        op.create_index(f"ix_audit_records_{col}_seq", "audit_records", [col, "seq"])
    op.add_column("audit_records", sa.Column("people", sa.Integer(), nullable=True))
    op.add_column("audit_recipients", sa.Column("domain", sa.String(length=320), nullable=True))
    op.add_column(
        "audit_recipients", sa.Column("agreement_id", sa.String(length=128), nullable=True)
    )
    op.add_column("audit_recipients", sa.Column("decision", sa.String(length=16), nullable=True))
    _backfill()
    op.drop_index("ix_audit_recipients_address", table_name="audit_recipients")
    for name, columns in _LINK_INDEXES:
        op.create_index(name, "audit_recipients", columns)


def downgrade() -> None:
    for name, _ in reversed(_LINK_INDEXES):
        op.drop_index(name, table_name="audit_recipients")
    op.create_index("ix_audit_recipients_address", "audit_recipients", ["address"])
    op.drop_column("audit_recipients", "decision")
    op.drop_column("audit_recipients", "agreement_id")
    op.drop_column("audit_recipients", "domain")
    op.drop_column("audit_records", "people")
    for col in reversed(_RECORD_FILTERS):
        op.drop_index(f"ix_audit_records_{col}_seq", table_name="audit_records")
        op.create_index(f"ix_audit_records_{col}", "audit_records", [col])
