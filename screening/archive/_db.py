"""Engine, migrations and the hash-chained access log."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import Issue
from .errors import ArchiveError
from .schema import SCHEMA_HEAD, access_log

if TYPE_CHECKING:
    import pandas as pd

MIGRATIONS = Path(__file__).parent / "migrations"
GENESIS = "0" * 64


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def make_engine(target: str | Path) -> Engine:
    """A SQLAlchemy engine for a SQLite file path or a database URL."""
    text = str(target)
    if "://" in text:
        url = sa.engine.make_url(text)
    else:
        url = sa.engine.URL.create("sqlite", database=str(Path(text)))
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url)

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _rec: Any) -> None:
            # let SQLAlchemy's BEGIN (below) own the transaction, so DDL and DML are atomic together
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA secure_delete=ON")  # erased rows are overwritten in the file, not left in free pages
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.get_backend_name() != "postgresql":
        raise ArchiveError([Issue("unsupported_database", f"the archive runs on SQLite or PostgreSQL, not {url.get_backend_name()}",
                                  hint="give a file path or a postgresql+psycopg:// URL")], title="cannot open the archive")
    return sa.create_engine(url)


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, *, upgrade: bool, where: str) -> str | None:
    """Bring the schema to :data:`SCHEMA_HEAD` (create it if empty); return the revision found before."""
    from alembic import command

    with engine.begin() as conn:
        before = current_revision(conn)
        if before == SCHEMA_HEAD:
            return before
        if before is not None and before > SCHEMA_HEAD:
            raise ArchiveError([Issue("newer_schema", f"the archive has schema revision {before}, newer than this library's "
                                      f"{SCHEMA_HEAD}", file=where, hint="upgrade the screening library")],
                               title="cannot open the archive")
        if before is not None and not upgrade:
            raise ArchiveError([Issue("old_schema", f"the archive has schema revision {before}; this library writes {SCHEMA_HEAD}",
                                      file=where, hint="open it with upgrade=True (back it up first)")],
                               title="cannot open the archive")
        command.upgrade(_alembic_config(conn), SCHEMA_HEAD)
        return before


def inserted_id(res: sa.CursorResult[Any]) -> int:
    """The primary key of the row a one-row INSERT added (SQLAlchemy types it optional, for executemany)."""
    return int(cast("sa.Row[Any]", res.inserted_primary_key)[0])


def fetch(conn: Connection, stmt: Any, columns: list[str] | None = None) -> pd.DataFrame:
    """Run a SELECT through the driver's cursor and return a DataFrame (``from_records`` on plain tuples).

    SQLAlchemy compiles the statement and its bound parameters; only the row handling is skipped, which is
    most of the time for 130,000-row reads. Dates come back as ISO text on SQLite and booleans as 0/1:
    callers convert with ``pd.to_datetime`` / ``astype("boolean")``.
    """
    import pandas as pd

    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if conn.dialect.paramstyle == "qmark":
        params = tuple(compiled.params[k] for k in (compiled.positiontup or ()))
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(compiled.string, params)
        names = columns or [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        cur.close()
    if not rows:
        return pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    return pd.DataFrame.from_records(rows, columns=names, coerce_float=False)


def frame(res: Any, columns: list[str] | None = None) -> pd.DataFrame:
    """A SQLAlchemy result as a DataFrame built from plain tuples (for small reads)."""
    import pandas as pd

    names = columns if columns is not None else list(res.keys())
    rows = [tuple(r) for r in res.fetchall()]
    if not rows:
        return pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    return pd.DataFrame.from_records(rows, columns=names)


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def bulk_insert(conn: Connection, table: sa.Table, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows through the driver (COPY on PostgreSQL, executemany on SQLite), inside ``conn``'s
    transaction; SQLAlchemy's per-row parameter processing is the slow part of a 130,000-row wave otherwise."""
    if not rows:
        return
    cols = ", ".join(_quote(conn, c) for c in columns)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur, cur.copy(f"COPY {_quote(conn, table.name)} ({cols}) FROM STDIN") as cp:  # type: ignore[union-attr]
            for r in rows:
                cp.write_row(r)
        return
    marks = ", ".join("?" for _ in columns)
    # names come from the schema definition (quoted); every value is a bound parameter
    conn.exec_driver_sql(f"INSERT INTO {_quote(conn, table.name)} ({cols}) VALUES ({marks})", rows)  # noqa: S608


def _row_hash(prev: str, row: dict[str, Any]) -> str:
    canon = json.dumps([row["seq"], row["at"], row["actor"], row["action"], row["purpose"], row["object"],
                        row["n_subjects"]], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev + "\n" + canon).encode("utf-8")).hexdigest()


def log(conn: Connection, *, actor: str, action: str, n_subjects: int, purpose: str | None = None,
        obj: str | None = None) -> None:
    """Append one access-log row chained to the previous one (never an id: counts and labels only)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE access_log IN EXCLUSIVE MODE")
    last = conn.execute(sa.select(access_log.c.seq, access_log.c.row_sha256)
                        .order_by(access_log.c.seq.desc()).limit(1)).first()
    seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
    row = {"seq": seq, "at": now(), "actor": actor, "action": action, "purpose": purpose, "object": obj,
           "n_subjects": int(n_subjects)}
    conn.execute(access_log.insert(), [{**row, "prev_sha256": prev, "row_sha256": _row_hash(prev, row)}])


def verify_log(conn: Connection) -> int:
    """Recompute the chain; the number of rows checked, or ArchiveError naming the first broken row."""
    prev = GENESIS
    n = 0
    expected_seq = 1
    for r in conn.execute(sa.select(access_log).order_by(access_log.c.seq)).mappings():
        row = dict(r)
        problem = None
        if row["seq"] != expected_seq:
            problem = f"row {expected_seq} is missing (next is {row['seq']})"
        elif row["prev_sha256"] != prev:
            problem = f"row {row['seq']} does not follow the previous row's hash"
        elif _row_hash(prev, row) != row["row_sha256"]:
            problem = f"row {row['seq']} was altered after it was written"
        if problem:
            raise ArchiveError([Issue("log_tampered", problem, path=f"access_log[seq={row['seq']}]")],
                               title="the access log fails its hash-chain check")
        prev = row["row_sha256"]
        expected_seq += 1
        n += 1
    return n
