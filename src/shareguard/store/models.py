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
    exactly as hashed; ``sender``, ``decision`` and ``people`` (and the
    recipient and subject tables) are indexes derived from it, checked by
    verify."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(320))
    sender: Mapped[str | None] = mapped_column(String(320))
    decision: Mapped[str | None] = mapped_column(String(16))
    # The payload's data_subjects, for sums without parsing payloads (0006).
    people: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    # (filter, seq): a filtered search walks one index newest first and
    # stops at the page size (migration 0006).
    __table_args__ = (
        Index("ix_audit_records_ts_seq", "ts", "seq"),
        Index("ix_audit_records_sender_seq", "sender", "seq"),
        Index("ix_audit_records_decision_seq", "decision", "seq"),
        Index("ix_audit_records_kind_seq", "kind", "seq"),
    )


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
    # Derived from the address and the payload, checked by verify (0006).
    domain: Mapped[str | None] = mapped_column(String(320))
    agreement_id: Mapped[str | None] = mapped_column(String(128))
    decision: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_audit_recipients_address_record_id", "address", "record_id"),
        Index("ix_audit_recipients_domain_record_id", "domain", "record_id"),
        Index("ix_audit_recipients_agreement_id_record_id", "agreement_id", "record_id"),
    )


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


# --------------------------------------------------------------------------- breach response
# Incidents (breach/): facts, the 72-hour clock, the notification decisions and
# the recipient's deletion.  Affected people are never stored here: they are
# derived from the linked audit records (keyed refs) every time.


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    owner: Mapped[str | None] = mapped_column(String(320))
    contact: Mapped[str | None] = mapped_column(Text)
    route: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The zone the times were given in, for showing them back (IANA name).
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(320))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    regulator_reference: Mapped[str | None] = mapped_column(String(128))
    not_reported_reason: Mapped[str | None] = mapped_column(Text)
    late_reason: Mapped[str | None] = mapped_column(Text)
    people_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    people_restriction: Mapped[str | None] = mapped_column(Text)
    people_restriction_ground: Mapped[str | None] = mapped_column(String(8))
    others_told: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deletion_status: Mapped[str | None] = mapped_column(String(16))
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deletion_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deletion_attested_by: Mapped[str | None] = mapped_column(String(320))
    deletion_attested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deletion_evidence_sha256: Mapped[str | None] = mapped_column(String(64))


class IncidentRecordRow(Base):
    """The audit records (disclosures) an incident is about.  ``record_id``
    has no foreign key: audit records are never deleted, and a key would stop
    the test fixtures' TRUNCATE of the audit tables."""

    __tablename__ = "incident_records"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class IncidentFactorRow(Base):
    """A person's override of one severity factor, with why; the newest per
    factor applies, the older ones stay as history."""

    __tablename__ = "incident_factors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    factor: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(32))
    why: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(320))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --------------------------------------------------------------------------- web portal
# Local accounts, server-side sessions and failed sign-ins (web/).  Only hashes
# of secrets are stored: argon2 for passwords, SHA-256 for session tokens, a
# keyed hash for the name or address a failed sign-in came from.


class WebUserRow(Base):
    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(320), unique=True)
    # The address the user sends from and decides as (audit actor, four-eyes).
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    # None for accounts that only sign in through the SSO proxy.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # A one-time password expires at once: the user must choose their own.
    password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSessionRow(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("web_users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class WebLoginFailureRow(Base):
    __tablename__ = "web_login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_web_login_failures_key_at", "key_hash", "at"),)


class ApiTokenRow(Base):
    """A bearer token for the machine API (``/v1/...``), acting as one user.
    Only the SHA-256 of the token is kept; revoked tokens stay for the record."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ----------------------------------------------------------------------------- SMTP gateway


class GatewayDelivery(Base):
    """The gateway's ledger: what was done with one message for one
    recipient, so that a message Postfix hands over again (after a crash,
    a lost reply or a 451) is never passed on twice.  ``message_key`` is a
    SHA-256 over the Message-ID and the content's SHA-256."""

    __tablename__ = "gateway_deliveries"

    message_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320), primary_key=True)
    sender: Mapped[str] = mapped_column(String(320))
    # passed | held | refused | releasing | released | rejected
    state: Mapped[str] = mapped_column(String(16), index=True)
    record_id: Mapped[int | None] = mapped_column(BigInteger)
    approval_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # What the sender was last told about this recipient (held, rejected).
    notice: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ----------------------------------------------------------------------- registered datasets (EDM)


class DatasetRow(Base):
    """A registered dataset (HR master, patient list ...).  ``version_id``
    is the version scans match against; swapping it is how a refresh
    replaces a version atomically."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    version_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DatasetVersionRow(Base):
    """One registration of a dataset's file.  ``spec`` is JSON: the column
    types, the key and group columns, the shape of the key values; never a
    value."""

    __tablename__ = "dataset_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    spec: Mapped[str] = mapped_column(Text)
    registered_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DatasetSubjectRow(Base):
    """One registered person: the subject ref (keyed hash of the key) and
    the key and group values encrypted (AES-256-GCM, nonce first)."""

    __tablename__ = "dataset_subjects"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True
    )
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ref: Mapped[str] = mapped_column(String(36), index=True)
    key_ct: Mapped[bytes] = mapped_column(LargeBinary)
    group_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class DatasetIndexPart(Base):
    """A slice of a version's match index: sorted 64-bit match keys and the
    row of each, as little-endian arrays, so that loading is reading blobs."""

    __tablename__ = "dataset_index_parts"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    keys: Mapped[bytes] = mapped_column(LargeBinary)
    rows: Mapped[bytes] = mapped_column(LargeBinary)
