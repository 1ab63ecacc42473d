"""Append-only enforcement inside the database (used by the migrations).

SQLite: ``BEFORE UPDATE`` / ``BEFORE DELETE`` triggers that ``RAISE(ABORT)``.
PostgreSQL: one PL/pgSQL guard function, row triggers for UPDATE/DELETE and a
statement trigger for TRUNCATE. DELETE passes only on the erasable tables and
only while an ``erasure_permit`` row exists (the erasure path inserts one,
deletes, removes it and logs, all in one transaction).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["create_guards", "drop_guards"]

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION screening_archive_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_ARGV[0] = 'erasable' AND EXISTS (SELECT 1 FROM erasure_permit) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'screening archive: % on % refused (the archive is append-only)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def _sqlite(table: str, erasable: bool) -> list[str]:
    delete_when = " WHEN NOT EXISTS (SELECT 1 FROM erasure_permit)" if erasable else ""
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'screening archive: UPDATE on {table} refused (the archive is append-only)'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}{delete_when} "
        f"BEGIN SELECT RAISE(ABORT, 'screening archive: DELETE on {table} refused (the archive is append-only)'); END",
    ]


def _postgres(table: str, erasable: bool) -> list[str]:
    arg = "'erasable'" if erasable else "'fixed'"
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION screening_archive_guard({arg})",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION screening_archive_guard('fixed')",
    ]


def create_guards(dialect: str, tables: Iterable[str], erasable: Iterable[str]) -> list[str]:
    """SQL statements that make ``tables`` append-only (``erasable`` ones deletable under a permit)."""
    erasable = set(erasable)
    out: list[str] = []
    if dialect == "postgresql":
        out.append(_PG_FUNCTION)
        for t in tables:
            out += _postgres(t, t in erasable)
    elif dialect == "sqlite":
        for t in tables:
            out += _sqlite(t, t in erasable)
    else:
        raise NotImplementedError(f"the archive supports SQLite and PostgreSQL, not {dialect}")
    return out


def drop_guards(dialect: str, tables: Iterable[str]) -> list[str]:
    out: list[str] = []
    for t in tables:
        if dialect == "postgresql":
            out += [f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}", f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}"]
        else:
            out += [f"DROP TRIGGER IF EXISTS {t}_no_update", f"DROP TRIGGER IF EXISTS {t}_no_delete"]
    return out
