"""Persistent state: the audit chain, agreement versions, quarantine and
approvals, in one SQLAlchemy model over SQLite (default) or PostgreSQL."""
