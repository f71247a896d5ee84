"""SMTP gateway: the re-injection ledger (one row per message and recipient).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gateway_deliveries",
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("approval_id", sa.String(length=32), nullable=True),
        sa.Column("notice", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.PrimaryKeyConstraint("message_key", "recipient", name="pk_gateway_deliveries"),
    )
    op.create_index("ix_gateway_deliveries_state", "gateway_deliveries", ["state"])
    op.create_index("ix_gateway_deliveries_approval_id", "gateway_deliveries", ["approval_id"])


def downgrade() -> None:
    op.drop_index("ix_gateway_deliveries_approval_id", table_name="gateway_deliveries")
    op.drop_index("ix_gateway_deliveries_state", table_name="gateway_deliveries")
    op.drop_table("gateway_deliveries")
