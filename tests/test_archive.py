"""The student archive on SQLite and on a real PostgreSQL server (every test runs on both)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from archive_fixtures import KEY, OTHER_KEY, later_wave, screen, table_rows

import screening as sc
from screening.archive import ArchiveError, core
from screening.errors import InvalidParameterError


@pytest.fixture
def arch(archive_target):
    a = sc.open_archive(archive_target, key=KEY, actor="psych01")
    yield a
    a.close()


@pytest.fixture
def two_waves(arch, archive_answers):
    w1 = screen(archive_answers)
    b = later_wave(archive_answers, 1, drop=10)
    w2 = screen(b)
    arch.add(w1, wave="2025秋", on="2025-09-10", ids=archive_answers["student_id"])
    arch.add(w2, wave="2026春", on="2026-03-02", ids=b["student_id"], period="开学")
    return w1, w2, b


def test_add_stores_every_student_and_is_idempotent(arch, archive_answers):
    res = screen(archive_answers)
    rep = arch.add(res, wave="2025秋", on="2025-09-10", ids=archive_answers["student_id"])
    assert (rep.added, rep.unchanged, rep.superseded) == (200, 0, 0)
    before = table_rows(arch)
    again = arch.add(res, wave="2025秋", on="2025-09-10", ids="student_id" if False else archive_answers["student_id"])
    assert (again.added, again.unchanged) == (0, 200)
    assert table_rows(arch) == before  # nothing written, not even a log row
    w = arch.waves()
    assert w.to_dict("records") == [{"wave": "2025秋", "on": pd.Timestamp("2025-09-10").date(), "n_students": 200, "period": None}]


def test_different_content_is_an_error_unless_replace(arch, archive_answers):
    arch.add(screen(archive_answers), wave="w1", on="2025-09-10", ids=archive_answers["student_id"])
    changed = archive_answers.copy()
    changed.loc[3, "phq9_1"] = 3 - changed.loc[3, "phq9_1"] if pd.notna(changed.loc[3, "phq9_1"]) else 3
    before = table_rows(arch)
    with pytest.raises(ArchiveError) as err:
        arch.add(screen(changed), wave="w1", on="2025-09-10", ids=changed["student_id"])
    assert err.value.codes == ["conflicting_readd"] and err.value.issues[0].rows == (3,)
    assert table_rows(arch) == before
    rep = arch.add(screen(changed), wave="w1", on="2025-09-10", ids=changed["student_id"], replace=True)
    assert (rep.added, rep.unchanged, rep.superseded) == (1, 199, 1)
    assert arch.waves()["n_students"].tolist() == [200]
    h = arch.history(changed["student_id"].iloc[[3]])
    assert len(h) == 1 and h["phq9.total"].iloc[0] == screen(changed).scores["phq9.total"].iloc[3]
    with arch.engine.connect() as conn:  # the superseded row is kept
        assert conn.execute(sa.text("SELECT count(*) FROM record")).scalar() == 201


def test_same_wave_with_another_date_is_refused(arch, archive_answers):
    arch.add(screen(archive_answers), wave="w1", on="2025-09-10", ids=archive_answers["student_id"])
    with pytest.raises(ArchiveError, match="wave_conflict"):
        arch.add(screen(archive_answers), wave="w1", on="2025-09-11", ids=archive_answers["student_id"])


def test_a_failure_mid_add_leaves_the_archive_exactly_as_before(arch, archive_answers, monkeypatch):
    arch.add(screen(archive_answers), wave="w1", on="2025-09-10", ids=archive_answers["student_id"])
    before = table_rows(arch)
    real = core._insert_records

    def half_then_fail(conn, rows, wave_id, batch_id):
        real(conn, rows.iloc[: len(rows) // 2], wave_id, batch_id)  # half the rows really inserted …
        raise RuntimeError("disk full")                              # … then the failure

    monkeypatch.setattr(core, "_insert_records", half_then_fail)
    b = later_wave(archive_answers, 2)
    with pytest.raises(RuntimeError, match="disk full"):
        arch.add(screen(b), wave="w2", on="2026-03-02", ids=b["student_id"])
    assert table_rows(arch) == before  # no wave, no subject, no batch, no record, no log row
    assert arch.verify_log() == 1


def test_update_and_delete_are_refused_by_the_database(arch, two_waves):
    with arch.engine.connect() as conn:
        for stmt in ("UPDATE record SET tier = 'green'", "DELETE FROM record", "UPDATE access_log SET actor = 'x'",
                     "DELETE FROM access_log", "DELETE FROM subject", "UPDATE wave SET label = 'x'"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), conn.begin():
                conn.exec_driver_sql(stmt)
        if conn.dialect.name == "postgresql":
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), conn.begin():
                conn.exec_driver_sql("TRUNCATE record")


def test_the_database_holds_no_raw_id(tmp_path, archive_answers):
    path = tmp_path / "district.sqlite"
    arch = sc.open_archive(path, key=KEY, actor="psych01")
    arch.add(screen(archive_answers), wave="w1", on="2025-09-10", ids=archive_answers["student_id"])
    arch.history(archive_answers["student_id"].head(3))
    arch.record_action(archive_answers["student_id"].head(2), kind="interview", on="2025-09-12")
    arch.close()  # the last connection checkpoints the WAL; any -wal/-shm file left is read too
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("district.sqlite"))
    assert len(blob) > 10_000
    ids = archive_answers["student_id"].tolist()
    assert all(len(i) >= 15 for i in ids)
    assert [i for i in ids if i.encode() in blob or i.encode("utf-16-le") in blob] == []
    assert KEY.secret not in blob
    assert sc.pseudonymise(ids[:1], KEY).iloc[0].encode() in blob  # the pseudonym is what is stored


def test_the_wrong_key_finds_nobody_and_writes_nothing(archive_target, archive_answers):
    a = sc.open_archive(archive_target, key=KEY, actor="psych01")
    a.add(screen(archive_answers), wave="w1", on="2025-09-10", ids=archive_answers["student_id"])
    before = table_rows(a)
    a.close()
    wrong = sc.load_key(OTHER_KEY.secret, version=KEY.version)
    b = sc.open_archive(archive_target, key=wrong, actor="intruder")
    assert not b.key_matches
    assert b.history(archive_answers["student_id"].head(5)).empty
    after_read = table_rows(b)
    with pytest.raises(ArchiveError, match="wrong_key"):
        b.add(screen(archive_answers), wave="w2", on="2026-03-02", ids=archive_answers["student_id"])
    assert table_rows(b)["record"] == before["record"] and table_rows(b) == after_read
    b.close()


def test_access_log_is_a_checkable_hash_chain(arch, two_waves, archive_answers):
    arch.history(archive_answers["student_id"].head(3), purpose="class teacher look-up")
    arch.export("long")
    log = arch.access_log()
    assert log["action"].tolist() == ["add", "add", "read_history", "export_long"]
    assert log.loc[2, "n_subjects"] == 3 and log.loc[2, "purpose"] == "class teacher look-up"
    text = log.to_csv()
    assert not any(i in text for i in archive_answers["student_id"])
    assert arch.verify_log() == 4
    with arch.engine.connect() as conn, conn.begin():  # an intruder with write access to the database itself
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER access_log_no_update")
        else:
            conn.exec_driver_sql("ALTER TABLE access_log DISABLE TRIGGER USER")
        conn.exec_driver_sql("UPDATE access_log SET n_subjects = 1 WHERE seq = 3")
    with pytest.raises(ArchiveError) as err:
        arch.verify_log()
    assert err.value.codes == ["log_tampered"] and "row 3" in str(err.value)


def test_history_one_row_per_wave_in_date_order(arch, two_waves, archive_answers):
    w1, w2, b = two_waves
    sid = archive_answers["student_id"].iloc[[0, 15]]  # 0 left before wave 2, 15 stayed
    h = arch.history(sid)
    assert h.groupby("pseudonym").size().sort_values().tolist() == [1, 2]
    stayed = h[h["pseudonym"] == sc.pseudonymise(sid.iloc[[1]], KEY).iloc[0]]
    assert stayed["wave"].tolist() == ["2025秋", "2026春"]
    assert stayed["phq9.total"].tolist() == [w1.scores["phq9.total"].iloc[15], w2.scores["phq9.total"].iloc[5]]
    assert stayed["tier"].tolist() == [w1.table["tier"].iloc[15], w2.table["tier"].iloc[5]]
    assert stayed["period"].iloc[1] == "开学"


def test_transitions_count_every_student_including_absent(arch, two_waves, archive_answers):
    w1, w2, b = two_waves
    t = arch.transitions("2025秋", "2026春")
    t1 = pd.Series(w1.table["tier"].astype(str).to_numpy(), index=archive_answers["student_id"])
    t2 = pd.Series(w2.table["tier"].astype(str).to_numpy(), index=b["student_id"])
    both = pd.concat([t1.rename("a"), t2.rename("b")], axis=1).fillna("absent")
    want = pd.crosstab(both["a"], both["b"])
    for f in want.index:
        for g in want.columns:
            assert t.loc[f, g] == want.loc[f, g]
    assert t.loc[:, "absent"].sum() == 10 and t.to_numpy().sum() == 200
    by = arch.transitions("2025秋", "2026春", by="school")
    assert by.groupby("school")["group_total"].first().sum() == 200
    small = by["n"].notna() & by["n"].between(1, 9)
    assert not small.any()  # a count below 10 never shows


def test_change_is_jacobson_truax_per_student(arch, two_waves, archive_answers):
    w1, w2, b = two_waves
    c = arch.change("2025秋", "2026春", score="phq9.total")
    assert len(c) == 190
    x1 = pd.Series(w1.scores["phq9.total"].to_numpy(), index=sc.pseudonymise(archive_answers["student_id"], KEY).to_numpy())
    x2 = pd.Series(w2.scores["phq9.total"].to_numpy(), index=sc.pseudonymise(b["student_id"], KEY).to_numpy())
    c = c.set_index("pseudonym")
    np.testing.assert_allclose(c["before"], x1[c.index], equal_nan=True)
    np.testing.assert_allclose(c["after"], x2[c.index], equal_nan=True)
    # S_diff = sqrt(2) * 3.5 * sqrt(1 - 0.86) = 1.8520 (PHQ-9 change: block)
    np.testing.assert_allclose(c["rci"], (c["after"] - c["before"]) / 1.8520259177452136, equal_nan=True)
    assert c.attrs["change"]["rc"] == pytest.approx(3.63, abs=1e-3)
    assert set(c.loc[c["rci"] < -1.96, "reliable"]) <= {"improved"}
    assert (c["reliable"].isna() == c["rci"].isna()).all()
    rec = c[(c["before"] >= 10) & (c["after"] < 10) & (c["rci"] < -1.96)]
    assert (rec["clinical"] == "recovered").all()
    own = arch.change("2025秋", "2026春", score="phq9.total", reliability=0.5, sd=10.0)
    np.testing.assert_allclose(own["rci"].dropna(), (own["difference"] / (np.sqrt(2) * 10 * np.sqrt(0.5))).dropna())


def test_due_list_urgent_first_and_fulfilled_items_leave(arch, two_waves, archive_answers):
    w1, w2, b = two_waves
    d = arch.due(on="2026-06-30")
    # each student's latest wave: wave 2, or wave 1 for the 10 who left before it
    gone = w1.table.iloc[:10].assign(pseudonym=sc.pseudonymise(archive_answers["student_id"].iloc[:10], KEY).to_numpy())
    latest = w2.table.assign(pseudonym=sc.pseudonymise(b["student_id"], KEY).to_numpy())
    both = pd.concat([gone, latest])
    nongreen = both[both["tier"].astype(str) != "green"]
    assert set(d.loc[d["item"] == "follow_up", "pseudonym"]) == set(nongreen["pseudonym"])
    assert set(d.loc[d["item"] == "rescreen", "pseudonym"]) == set(both.loc[both["rescreen"], "pseudonym"])
    assert d["urgent"].is_monotonic_decreasing
    assert (d["status"] == "overdue").all()
    early = arch.due(on="2026-03-02")
    # follow_up_days 0 (urgent, or an unanswered crisis item to ask today) → due the day of the screening;
    # older items of the students who left are overdue
    today = latest[(latest["follow_up_days"] == 0) & (latest["tier"].astype(str) != "green")]
    assert set(latest.loc[latest["urgent"], "pseudonym"]) <= set(today["pseudonym"])
    assert set(early["pseudonym"]) == set(today["pseudonym"]) | set(nongreen["pseudonym"]) & set(gone["pseudonym"])
    assert set(early.loc[early["status"] == "due", "pseudonym"]) == set(today["pseudonym"])
    someone = b["student_id"][(w2.table["tier"].astype(str) != "green").to_numpy()].iloc[:1]
    arch.record_action(someone, kind="interview", on="2026-03-05", fulfils="follow_up")
    after = arch.due(on="2026-06-30")
    p = sc.pseudonymise(someone, KEY).iloc[0]
    assert p not in set(after.loc[after["item"] == "follow_up", "pseudonym"])
    assert len(after) == len(d) - 1
    with pytest.raises(ArchiveError, match="unknown_student"):
        arch.record_action(pd.Series(["000000000000000000"]), kind="interview", on="2026-03-05")
    with pytest.raises(ValueError, match="kind"):
        arch.record_action(someone, kind="chat", on="2026-03-05")


def test_watchlist_follows_until_green(arch, archive_answers):
    base = screen(archive_answers)
    t = base.table["tier"].astype(str)
    arch.add(base, wave="w1", on="2025-09-10", ids=archive_answers["student_id"])
    arch.add(base, wave="w2", on="2026-03-02", ids=archive_answers["student_id"])  # the same tiers again
    w = arch.watchlist()
    assert set(w["pseudonym"]) == set(sc.pseudonymise(archive_answers["student_id"][(t != "green").to_numpy()], KEY))
    assert (w["waves_in_tier"] == 2).all() and (w["since_wave"] == "w1").all()
    one = archive_answers["student_id"][(t != "green").to_numpy()].iloc[:1]
    arch.record_action(one, kind="close_watch", on="2026-03-10")
    assert len(arch.watchlist()) == len(w) - 1
    better = later_wave(archive_answers, 3, shift=-3)  # everyone archive_answers 0
    rb = screen(better)
    arch.add(rb, wave="w3", on="2026-09-01", ids=better["student_id"])
    still = rb.table["tier"].astype(str) != "green"
    assert len(arch.watchlist()) == int(still.sum())


def test_watchlist_can_close_only_on_reliable_improvement(arch, archive_answers):
    """close_on="reliable_improvement": a green wave closes an episode only when PHQ-9 fell by more than the
    Jacobson–Truax criterion since the episode's first wave; RC from phq9.yaml's cited change block:
    1.96 · √2 · 3.5 · √(1 − 0.86) ≈ 3.63 points. A missing score never counts as improved."""
    ids = archive_answers["student_id"]
    r1 = screen(archive_answers)
    b = later_wave(archive_answers, 4, shift=-1)
    r2 = screen(b)
    arch.add(r1, wave="w1", on="2025-09-10", ids=ids)
    arch.add(r2, wave="w2", on="2026-03-02", ids=b["student_id"])
    t1, t2 = r1.table["tier"].astype(str).to_numpy(), r2.table["tier"].astype(str).to_numpy()
    x1, x2 = r1.scores["phq9.total"].to_numpy(), r2.scores["phq9.total"].to_numpy()
    s_diff = np.sqrt(2) * 3.5 * np.sqrt(1 - 0.86)
    improved = ((x1 - x2) / s_diff > 1.96)  # NaN on either side -> False
    went_green = (t1 != "green") & (t2 == "green")
    assert went_green.sum() > 5 and (went_green & improved).sum() > 0 and (went_green & ~improved).sum() > 0
    expect_open = ((t1 != "green") & ~(went_green & improved)) | ((t1 == "green") & (t2 != "green"))
    w = arch.watchlist(close_on="reliable_improvement", score="phq9.total")
    assert set(w["pseudonym"]) == set(sc.pseudonymise(ids[expect_open], KEY))
    assert w.attrs["change"]["s_diff"] == pytest.approx(s_diff)
    green_open = w[w["tier"] == "green"]
    assert len(green_open) == int((went_green & ~improved).sum())
    assert not ((green_open["start_score"] - green_open["latest_score"]) / s_diff > 1.96).any()
    # the default rule closes every episode that went green
    assert len(arch.watchlist()) == int((t2 != "green").sum())
    with pytest.raises(InvalidParameterError, match="score"):
        arch.watchlist(close_on="reliable_improvement")
    with pytest.raises(InvalidParameterError, match="close_on"):
        arch.watchlist(close_on="never")


def test_transfer_bundle_is_signed_and_tampering_is_refused(arch, two_waves, archive_answers, tmp_path):
    ids = archive_answers["student_id"].iloc[20:25]
    bundle = arch.export_transfer(ids, tmp_path / "to_senior_school.json", purpose="初升高 心理档案转接")
    text = bundle.read_text(encoding="utf-8")
    assert not any(i in text for i in archive_answers["student_id"])
    other = sc.open_archive(tmp_path / "receiver.sqlite", key=KEY, actor="psych02")
    tampered = tmp_path / "tampered.json"
    doc = json.loads(text)
    doc["body"]["records"][0]["tier"] = "green" if doc["body"]["records"][0]["tier"] != "green" else "orange"
    tampered.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    for bad in (tampered,):
        with pytest.raises(ArchiveError, match="bad_signature"):
            other.import_transfer(bad)
    assert other.waves().empty and other.history(ids).empty
    wrong = sc.open_archive(tmp_path / "elsewhere.sqlite", key=OTHER_KEY, actor="x")
    with pytest.raises(ArchiveError, match="bad_signature"):
        wrong.import_transfer(bundle)
    assert other.import_transfer(bundle) == 5
    h_from, h_to = arch.history(ids), other.history(ids)
    assert len(h_to) == len(h_from) == 10
    assert h_to["tier"].tolist() == h_from["tier"].tolist()
    assert h_to["phq9.total"].tolist() == h_from["phq9.total"].tolist()
    assert h_to["class"].isna().all()  # not sent to the receiving school
    assert other.import_transfer(bundle) == 5 and len(other.history(ids)) == 10  # idempotent
    other.close()
    wrong.close()


def test_erase_removes_the_students_and_logs_without_ids(arch, two_waves, archive_answers):
    gone = archive_answers["student_id"].iloc[[30, 31]]
    arch.record_action(archive_answers["student_id"].iloc[[30, 31, 32]], kind="interview", on="2026-03-05")
    assert arch.erase(gone, actor="principal", reason="PIPL request") == 2
    assert arch.history(gone).empty
    assert arch.waves()["n_students"].tolist() == [198, 188]
    log = arch.access_log()
    row = log[log["action"] == "erase"].iloc[0]
    assert row["n_subjects"] == 2 and row["purpose"] == "PIPL request"
    assert arch.verify_log() == len(log)
    with arch.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"), conn.begin():
        conn.exec_driver_sql("DELETE FROM action")


def test_exports_long_wide_and_parquet(arch, archive_answers, tmp_path):
    arch.add(screen(archive_answers), wave="w1", on="2025-09-10", ids=archive_answers["student_id"])
    no_flags = archive_answers.drop(columns=["bullied"])
    with pytest.warns(UserWarning, match="bullied"):
        w2 = screen(later_wave(no_flags, 4))
    arch.add(w2, wave="w2", on="2026-03-02", ids=no_flags["student_id"])
    long = arch.export("long")
    assert len(long) == 400 and long.groupby("wave").size().tolist() == [200, 200]
    for col in ("pseudonym", "wave", "on", "school", "grade", "class", "sex", "tier", "urgent", "rescreen",
                "phq9.total", "phq9.total.band", "gad7.total", "left_behind", "bullied"):
        assert col in long.columns
    assert str(long["bullied"].dtype) == "boolean"
    assert long.loc[long["wave"] == "w2", "bullied"].isna().all()  # not collected in w2: missing, never False
    assert long.loc[long["wave"] == "w1", "bullied"].notna().all()
    wide = arch.export("wide")
    assert len(wide) == 200 and "w1:phq9.total" in wide.columns and "w2:phq9.total" in wide.columns
    out = arch.export_parquet(tmp_path / "pq")
    assert sorted(p.name for p in out.iterdir()) == ["wave=w1", "wave=w2"]
    back = pd.read_parquet(out)
    assert len(back) == 400


def test_add_chunks_equals_add(archive_target, archive_answers, tmp_path):
    res = screen(archive_answers)
    a = sc.open_archive(archive_target, key=KEY, actor="spark")
    frame = res.to_frame()
    parts = [(frame.iloc[i:i + 70], archive_answers["student_id"].iloc[i:i + 70]) for i in range(0, 200, 70)]
    rep = a.add_chunks(iter(parts), wave="w1", on="2025-09-10")
    assert rep.added == 200
    b = sc.open_archive(tmp_path / "whole.sqlite", key=KEY, actor="spark")
    b.add(res, wave="w1", on="2025-09-10", ids=archive_answers["student_id"])
    pd.testing.assert_frame_equal(a.export("long"), b.export("long"))
    a.close()
    b.close()


def test_merge_links_follow_old_ids(arch, archive_answers):
    res = screen(archive_answers)
    arch.add(res, wave="w1", on="2025-09-10", ids=archive_answers["student_id"])
    typo = archive_answers["student_id"].str.slice(0, -1) + "X"
    arch.add(res, wave="w2", on="2026-03-02", ids=typo)
    assert len(arch.history(archive_answers["student_id"].head(1))) == 1
    arch.link(archive_answers["student_id"].head(1), typo.head(1), actor="registrar", reason="mistyped 学籍号")
    assert len(arch.history(archive_answers["student_id"].head(1))) == 2
    assert len(arch.history(typo.head(1))) == 2
    t = arch.transitions("w1", "w2")
    assert t.loc["absent"].sum() == 199


def test_student_summary_and_trend_chart(arch, archive_answers):
    one = archive_answers.iloc[[0]].copy()
    items9 = [f"phq9_{i}" for i in range(1, 10)]
    one[items9] = [[2, 2, 2, 2, 1, 1, 2, 0, 0]]  # 12: moderate (US Core example archive_answers)
    arch.add(screen(one), wave="2025秋", on="2025-09-10", ids=one["student_id"])
    one[items9] = [[1, 1, 1, 1, 1, 0, 0, 0, 0]]  # 5: mild
    arch.add(screen(one), wave="2026春", on="2026-03-02", ids=one["student_id"])
    s = arch.student_summary(one["student_id"].iloc[0], scores=("phq9.total",))
    t1 = {"green": "绿", "yellow": "黄", "orange": "橙"}[str(screen(archive_answers.iloc[[0]].assign(**dict(zip(items9, [2, 2, 2, 2, 1, 1, 2, 0, 0])))).table["tier"].iloc[0])]
    assert s.startswith(f"2025秋 PHQ-9 12（中度）{t1} → 2026春 5（轻度）")
    assert s.endswith("可靠改善（恢复）")  # RCI = -7/1.852 = -3.78; 12 ≥ 10 > 5
    en = arch.student_summary(one["student_id"].iloc[0], scores=("phq9.total",), lang="en")
    assert en.startswith("2025秋 PHQ-9 12 (Moderate)") and en.endswith("reliable improvement (recovered)")
    svg = arch.trend_svg(one["student_id"].iloc[0], score="phq9.total")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "中度" in svg and "2026春" in svg  # text kept as text (svg.fonttype none), not glyph paths
    assert "DejaVu Sans" in svg


def test_previous_wave_as_rule_inputs(arch, two_waves, archive_answers):
    w1, w2, b = two_waves
    prev = arch.previous(archive_answers["student_id"], before="2026-03-02")
    assert prev.index.equals(archive_answers.index)
    assert prev["prev.tier"].tolist() == w1.table["tier"].astype(str).tolist()
    assert (prev["prev.wave"] == "2025秋").all()
    unknown = arch.previous(pd.Series(["999999999999999999"]))
    assert unknown["prev.tier"].isna().all()


def test_a_frame_with_an_id_column_never_stores_it(arch, archive_answers):
    frame = screen(archive_answers).to_frame().assign(student_id=archive_answers["student_id"].to_numpy(),
                                                      copy_of_id=archive_answers["student_id"].to_numpy())
    arch.add(frame, wave="w1", on="2025-09-10", ids="student_id")
    long = arch.export("long")
    assert "student_id" not in long.columns and "copy_of_id" not in long.columns
    assert len(long) == 200
    with pytest.raises(ArchiveError, match="missing_id"):
        arch.add(frame.assign(student_id=[None] + frame["student_id"].tolist()[1:]), wave="w2", on="2026-03-02", ids="student_id")
    with pytest.raises(ArchiveError, match="duplicate_id"):
        arch.add(frame.assign(student_id=[frame["student_id"].iloc[1]] + frame["student_id"].tolist()[1:]), wave="w2",
                 on="2026-03-02", ids="student_id")
    assert arch.waves()["wave"].tolist() == ["w1"]


def test_erased_students_leave_no_trace_in_the_sqlite_file(tmp_path, archive_answers):
    path = tmp_path / "district.sqlite"
    arch = sc.open_archive(path, key=KEY, actor="psych01")
    arch.add(screen(archive_answers), wave="w1", on="2025-09-10", ids=archive_answers["student_id"])
    gone = archive_answers["student_id"].iloc[[7]]
    p = sc.pseudonymise(gone, KEY).iloc[0].encode()
    arch.erase(gone, actor="principal", reason="PIPL request")
    arch.close()
    blob = b"".join(f.read_bytes() for f in tmp_path.iterdir() if f.name.startswith("district.sqlite"))
    assert p not in blob  # secure_delete: the pseudonym is overwritten, not left in a free page
    assert sc.pseudonymise(archive_answers["student_id"].iloc[[8]], KEY).iloc[0].encode() in blob
