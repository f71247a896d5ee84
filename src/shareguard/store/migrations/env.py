"""Alembic environment: always run programmatically by
:func:`shareguard.store.db.upgrade`, which passes an open connection."""

from __future__ import annotations

from alembic import context

from shareguard.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `shareguard db upgrade`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
