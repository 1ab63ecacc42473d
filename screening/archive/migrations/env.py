"""Alembic environment: runs on the connection :func:`screening.archive.open_archive` passes in."""

from __future__ import annotations

from alembic import context

from screening.archive.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
