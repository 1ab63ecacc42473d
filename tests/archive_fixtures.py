"""Fixtures for the archive tests: every test runs on SQLite and on a real PostgreSQL server.

PostgreSQL comes from ``SCREENING_TEST_POSTGRES_URL`` (``. .ci/services.sh`` starts one and exports it). Each
test gets its own database, named after this session and the test, so parallel runs (pytest-xdist, other
branches on the same server) never collide. Without a server the PostgreSQL tests FAIL, they are not skipped.
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import screening as sc

ROOT = Path(__file__).resolve().parent.parent
SESSION = uuid.uuid4().hex[:10]
_counter = itertools.count()
HOW_TO = ("the archive tests need a PostgreSQL server: run `. .ci/services.sh` (installs and starts one and exports "
          "SCREENING_TEST_POSTGRES_URL), or set SCREENING_TEST_POSTGRES_URL=postgresql+psycopg://USER@HOST:PORT/postgres")

KEY = sc.load_key(b"archive test key: 32 bytes long!")
OTHER_KEY = sc.load_key(b"another key for the same archive!")


def postgres_admin_url() -> str:
    url = os.environ.get("SCREENING_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("SCREENING_TEST_POSTGRES_URL is not set; " + HOW_TO, pytrace=False)
    return url


def _admin(url: str) -> sa.Engine:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        engine.dispose()
        pytest.fail(f"cannot reach the PostgreSQL server at SCREENING_TEST_POSTGRES_URL ({type(exc.orig).__name__}); " + HOW_TO,
                    pytrace=False)
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_target(request, tmp_path):
    """A fresh, empty archive location: a SQLite file path or a PostgreSQL URL of a new database."""
    if request.param == "sqlite":
        yield str(tmp_path / "archive.sqlite")
        return
    url = sa.engine.make_url(postgres_admin_url())
    admin = _admin(url.render_as_string(hide_password=False))
    name = f"arch_{SESSION}_{os.getpid()}_{next(_counter)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def archive_answers() -> pd.DataFrame:
    """200 students of the sample district (long numeric ids, read as text) with some blanks."""
    a = pd.read_csv(ROOT / "examples" / "data" / "sample_school.csv", dtype={"student_id": str})
    return a.iloc[::6].head(200).reset_index(drop=True)


def later_wave(answers: pd.DataFrame, seed: int, *, drop: int = 0, shift: int = 0) -> pd.DataFrame:
    """The same students some months later: answers moved by -1..+1 (+shift), some students gone."""
    rng = np.random.default_rng(seed)
    b = answers.copy()
    items = [c for c in b.columns if c.startswith(("phq9_", "gad7_"))]
    vals = b[items].to_numpy(dtype=float)
    moved = np.clip(vals + rng.integers(-1, 2, size=vals.shape) + shift, 0, 3)
    b[items] = np.where(np.isnan(vals), np.nan, moved)
    if drop:
        b = b.iloc[drop:].reset_index(drop=True)
    return b


def screen(answers: pd.DataFrame):
    return sc.screen(answers, scales=["phq9", "gad7"], rules="default", lang="zh")


def table_rows(arch) -> dict[str, list]:
    """Every row of every table, for before/after comparisons."""
    from screening.archive.schema import metadata

    out = {}
    with arch.engine.connect() as conn:
        for t in metadata.sorted_tables:
            out[t.name] = sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
    return out
