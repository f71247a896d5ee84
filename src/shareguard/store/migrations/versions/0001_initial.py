"""Initial schema: audit chain (+ head, recipient and subject indexes),
agreement versions, quarantine, approvals.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Kept literal: a migration must not change when the live model does.
GENESIS_HASH = "0" * 64
UTC_TS = sa.DateTime(timezone=True)
ADDRESS = sa.String(length=320)


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts", UTC_TS, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", ADDRESS, nullable=False),
        sa.Column("sender", ADDRESS, nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_records"),
    )
    for col in ("decision", "kind", "sender", "ts"):
        op.create_index(f"ix_audit_records_{col}", "audit_records", [col])

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])

    for table, col, width in (
        ("audit_recipients", "address", 320),
        ("audit_subjects", "subject_hash", 64),
    ):
        op.create_table(
            table,
            sa.Column("record_id", sa.BigInteger(), nullable=False),
            sa.Column(col, sa.String(length=width), nullable=False),
            sa.ForeignKeyConstraint(
                ["record_id"],
                ["audit_records.seq"],
                name=f"fk_{table}_record_id_audit_records",
                ondelete="CASCADE",
                onupdate="CASCADE",
            ),
            sa.PrimaryKeyConstraint("record_id", col, name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_{col}", table, [col])

    op.create_table(
        "agreement_versions",
        sa.Column("agreement_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("parsed", sa.Text(), nullable=False),
        sa.Column("loaded_by", ADDRESS, nullable=False),
        sa.Column("loaded_at", UTC_TS, nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", "version", name="pk_agreement_versions"),
    )

    op.create_table(
        "quarantine_items",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("meta", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine_items"),
    )
    op.create_index("ix_quarantine_items_status", "quarantine_items", ["status"])

    op.create_table(
        "approvals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("quarantine_id", sa.String(length=32), nullable=True),
        sa.Column("sender", ADDRESS, nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("agreement_id", sa.String(length=128), nullable=True),
        sa.Column("agreement_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", ADDRESS, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("decided_at", UTC_TS, nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quarantine_id"],
            ["quarantine_items.id"],
            name="fk_approvals_quarantine_id_quarantine_items",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["audit_records.seq"], name="fk_approvals_record_id_audit_records"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
    )
    for col in ("record_id", "sender", "status"):
        op.create_index(f"ix_approvals_{col}", "approvals", [col])


def downgrade() -> None:
    for table in (
        "approvals",
        "quarantine_items",
        "agreement_versions",
        "audit_subjects",
        "audit_recipients",
        "audit_head",
        "audit_records",
    ):
        op.drop_table(table)
