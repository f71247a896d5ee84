"""Breach response: incidents, the disclosures they are about, and the
severity factors people overrode.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Kept literal: a migration must not change when the live model does.
UTC_TS = sa.DateTime(timezone=True)
ADDRESS = sa.String(length=320)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner", ADDRESS, nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", UTC_TS, nullable=False),
        sa.Column("discovered_at", UTC_TS, nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("created_by", ADDRESS, nullable=False),
        sa.Column("reported_at", UTC_TS, nullable=True),
        sa.Column("regulator_reference", sa.String(length=128), nullable=True),
        sa.Column("not_reported_reason", sa.Text(), nullable=True),
        sa.Column("late_reason", sa.Text(), nullable=True),
        sa.Column("people_told_at", UTC_TS, nullable=True),
        sa.Column("people_restriction", sa.Text(), nullable=True),
        sa.Column("people_restriction_ground", sa.String(length=8), nullable=True),
        sa.Column("others_told", sa.Text(), nullable=True),
        sa.Column("closed_at", UTC_TS, nullable=True),
        sa.Column("deletion_status", sa.String(length=16), nullable=True),
        sa.Column("deletion_requested_at", UTC_TS, nullable=True),
        sa.Column("deletion_due_at", UTC_TS, nullable=True),
        sa.Column("deletion_attested_by", ADDRESS, nullable=True),
        sa.Column("deletion_attested_at", UTC_TS, nullable=True),
        sa.Column("deletion_evidence_sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index("ix_incidents_status", "incidents", ["status"])

    op.create_table(
        "incident_records",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_incident_records_incident_id_incidents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "record_id", name="pk_incident_records"),
    )
    op.create_index("ix_incident_records_record_id", "incident_records", ["record_id"])

    op.create_table(
        "incident_factors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("factor", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("set_by", ADDRESS, nullable=False),
        sa.Column("set_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_incident_factors_incident_id_incidents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incident_factors"),
    )
    op.create_index("ix_incident_factors_incident_id", "incident_factors", ["incident_id"])


def downgrade() -> None:
    op.drop_table("incident_factors")
    op.drop_table("incident_records")
    op.drop_table("incidents")
