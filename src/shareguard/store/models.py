"""The SQLAlchemy model.  The Alembic migrations in ``migrations/`` must
produce exactly this schema (a test compares them on both backends)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Explicit constraint names: the same on every backend, and needed for
# Alembic's batch mode on SQLite.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

GENESIS_HASH = "0" * 64


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out.  SQLite has no time zones, so values
    are stored as naive UTC there and made aware again on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AuditRow(Base):
    """One append-only audit record.  ``payload`` is the canonical JSON text
    exactly as hashed; ``sender`` and ``decision`` (and the recipient and
    subject tables) are indexes derived from it, checked by verify."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(320))
    sender: Mapped[str | None] = mapped_column(String(320), index=True)
    decision: Mapped[str | None] = mapped_column(String(16), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """A single row: the last record's seq and hash.  Writers lock it to
    serialise appends, and verify compares it with the chain's end, so that
    deleting the newest records is detected too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditRecipient(Base):
    __tablename__ = "audit_recipients"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("audit_records.seq", ondelete="CASCADE", onupdate="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(320), primary_key=True)

    __table_args__ = (Index("ix_audit_recipients_address", "address"),)


class AuditSubject(Base):
    """Subject index: which records concern the person with this keyed hash."""

    __tablename__ = "audit_subjects"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("audit_records.seq", ondelete="CASCADE", onupdate="CASCADE"), primary_key=True
    )
    subject_hash: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_audit_subjects_subject_hash", "subject_hash"),)


class AgreementVersionRow(Base):
    __tablename__ = "agreement_versions"

    agreement_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source_text: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    parsed: Mapped[str] = mapped_column(Text)
    loaded_by: Mapped[str] = mapped_column(String(320))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuarantineRow(Base):
    __tablename__ = "quarantine_items"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    meta: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class ApprovalRow(Base):
    __tablename__ = "approvals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("audit_records.seq"), index=True)
    quarantine_id: Mapped[str | None] = mapped_column(ForeignKey("quarantine_items.id"))
    sender: Mapped[str] = mapped_column(String(320), index=True)
    recipients: Mapped[str] = mapped_column(Text)
    agreement_id: Mapped[str | None] = mapped_column(String(128))
    agreement_version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
