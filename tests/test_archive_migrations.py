"""Schema migrations: one definition, an old archive upgrades, and the PostgreSQL tests fail (not skip) without a server."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from archive_fixtures import KEY, ROOT, _admin, postgres_admin_url

import screening as sc
from screening.archive import ArchiveError, _db
from screening.archive.schema import SCHEMA_HEAD, metadata

V1 = ROOT / "tests" / "fixtures" / "archive" / "v1.sqlite"
IDS = ["440100000000000001", "440100000000000002", "440100000000000003"]


def test_migrations_build_exactly_the_schema_definition(archive_target):
    arch = sc.open_archive(archive_target, key=KEY, actor="t")
    with arch.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert _db.current_revision(conn) == SCHEMA_HEAD
    arch.close()
    assert diff == []


def test_a_version_1_file_opens_and_upgrades(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(V1, path)
    with pytest.raises(ArchiveError, match="old_schema"):
        sc.open_archive(path, key=KEY, actor="t", upgrade=False)
    arch = sc.open_archive(path, key=KEY, actor="t")
    w = arch.waves()
    assert w[["wave", "n_students"]].to_dict("records") == [{"wave": "2025秋", "n_students": 3}]
    assert w["period"].isna().all()  # the column revision 0002 added
    h = arch.history(pd.Series(IDS))
    h = h.set_index("pseudonym").loc[sc.pseudonymise(IDS, KEY)]
    assert h["phq9.total"].tolist() == [3.0, 12.0, 21.0] and h["tier"].tolist() == ["green", "yellow", "orange"]
    assert arch.verify_log() == 3  # the two old rows chain on into the new read
    with arch.engine.connect() as conn:  # the append-only triggers survived the upgrade
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), conn.begin():
            conn.exec_driver_sql("UPDATE record SET tier = 'green'")
        assert "ix_action_subject" in {i["name"] for i in sa.inspect(conn).get_indexes("action")}
    with pytest.warns(UserWarning, match="risk-group flags not supplied"):
        res = sc.screen(pd.DataFrame({"student_id": IDS, **{f"phq9_{i}": [0, 1, 2] for i in range(1, 10)}}),
                        scales=["phq9"], rules="default")
    arch.add(res, wave="2026春", on="2026-03-02", ids=pd.Series(IDS), period="开学")
    assert arch.waves()["period"].tolist()[1] == "开学"
    arch.close()


def test_a_revision_1_postgresql_database_upgrades(archive_target):
    if not archive_target.startswith("postgresql"):
        engine = _db.make_engine(archive_target)
    else:
        engine = sa.create_engine(archive_target)
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_db._alembic_config(conn), "0001")
        conn.execute(sa.text("INSERT INTO wave (label, \"on\", recorded_at) VALUES ('w1', '2025-09-10', 'x')"))
    engine.dispose()
    arch = sc.open_archive(archive_target, key=KEY, actor="t")
    assert arch.waves()["wave"].tolist() == ["w1"]
    with arch.engine.connect() as conn:
        assert _db.current_revision(conn) == SCHEMA_HEAD
    arch.close()


def test_postgres_tests_fail_with_instructions_when_no_server(monkeypatch):
    monkeypatch.delenv("SCREENING_TEST_POSTGRES_URL", raising=False)
    with pytest.raises(pytest.fail.Exception, match=r"\. \.ci/services\.sh"):
        postgres_admin_url()
    with pytest.raises(pytest.fail.Exception, match=r"cannot reach the PostgreSQL server.*\. \.ci/services\.sh"):
        _admin("postgresql+psycopg://nobody@127.0.0.1:1/postgres")


def test_an_unreachable_server_is_a_library_error():
    with pytest.raises(ArchiveError, match="cannot_connect"):
        sc.open_archive("postgresql+psycopg://nobody@127.0.0.1:1/postgres", key=KEY, actor="t")
