"""Alembic migrations of the archive schema (run by :func:`screening.archive.open_archive`)."""
