"""Warning list, risk-group lists, follow-up list, workload, exports."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import screening as sc
from screening.columns import DISCLAIMER
from screening.reports import follow_up_list, group_lists, warning_list, workload, write_frame
from screening.reports.privacy import Key

FLAGS = ["left_behind", "single_parent", "bullied", "poverty", "migrant", "disability", "bereaved", "known_disorder"]


def phq(total: int, item9: int = 0) -> list[int]:
    rest = total - item9
    return [min(3, max(0, rest - 3 * k)) for k in range(8)] + [item9]


def frame(rows: list[dict]) -> pd.DataFrame:
    out = []
    for r in rows:
        items = phq(r.get("phq", 0), r.get("item9", 0))
        rec = {"student_id": r["id"], "school": r.get("school", "S"), "class": r.get("class", "1"),
               **{f"phq9_{k + 1}": items[k] for k in range(9)}, **{f"gad7_{k + 1}": r.get("gad", 0) // 7 + (k < r.get("gad", 0) % 7) for k in range(7)},
               **{f: r.get(f, False) for f in FLAGS}}
        out.append(rec)
    df = pd.DataFrame(out)
    df["student_id"] = df["student_id"].astype("string")
    return df


@pytest.fixture
def data():
    df = frame([
        {"id": "A", "phq": 0},
        {"id": "B", "phq": 12},                        # yellow
        {"id": "C", "phq": 17},                        # orange
        {"id": "D", "phq": 3, "item9": 1},             # urgent (critical item)
        {"id": "E", "phq": 22},                        # orange, more severe than C
        {"id": "F", "phq": 0, "left_behind": True},    # green, left-behind
        {"id": "G", "phq": 13, "single_parent": True},  # yellow + risk group → orange by escalation
        {"id": "H", "phq": 11},                        # yellow, less severe than B? no: 11 < 12
    ])
    return df, sc.screen(df, scales=["phq9", "gad7"], rules="default")


def test_warning_list_order_and_content(data):
    df, res = data
    wl = warning_list(res)
    # urgent first, then orange by severity (E 22 > G 13? G is orange by escalation with phq 13; C 17), then yellow
    assert wl["row"].tolist() == [3, 4, 2, 6, 1, 7]
    assert wl["urgent"].tolist()[0] is True or wl["urgent"].iloc[0]
    assert "student_id" not in wl.columns and "pseudonym" not in wl.columns
    assert wl.loc[0, "responsible"] == "校级领导、班主任、心理健康教师、家长"
    assert bool(wl.loc[0, "contact_parents"]) and bool(wl.loc[0, "referral"])
    assert wl.loc[wl["row"] == 1, "responsible"].item() == "班主任、心理健康教师"
    assert wl["severity"].iloc[1] == pytest.approx(22 / 27)
    assert wl.attrs["screening"]["disclaimer"] == DISCLAIMER


def test_identifiable_only_on_request(data):
    df, res = data
    with pytest.raises(ValueError, match="The 'identifiable' parameter of warning_list must be True"):
        warning_list(res, df["student_id"])
    wl = warning_list(res, df["student_id"], identifiable=True, lang="en")
    assert wl["student_id"].tolist() == ["D", "E", "C", "G", "B", "H"]
    assert wl.attrs["screening"]["identifiable"] is True
    key = Key(b"0123456789abcdef0123456789abcdef")
    pl = warning_list(res, df["student_id"], key=key)
    assert "student_id" not in pl.columns
    assert pl["pseudonym"].str.match(r"^k1-[0-9a-f]{16}$").all()
    assert pl.attrs["screening"]["identifiable"] is False
    with pytest.raises(ValueError, match="same index"):
        warning_list(res, df["student_id"].iloc[::-1], identifiable=True)


def test_group_lists_three_lists_first_with_current_tier(data):
    df, res = data
    lists = group_lists(res, lang="en")
    assert list(lists)[:3] == ["left_behind", "single_parent", "known_disorder"]
    assert set(lists) == set(FLAGS)
    assert lists["left_behind"]["row"].tolist() == [5]
    assert lists["left_behind"]["tier"].astype(str).tolist() == ["green"]
    assert lists["single_parent"]["tier"].astype(str).tolist() == ["orange"]
    assert lists["left_behind"]["flag_label"].iloc[0] == "Left-behind child"
    assert len(lists["bullied"]) == 0


def test_follow_up_dates(data):
    df, res = data
    fu = follow_up_list(res, "2026-03-02")
    by_row = fu.set_index("row")
    assert str(by_row.loc[3, "due"]) == "2026-03-02" and by_row.loc[3, "what"] == "immediate"
    assert str(by_row.loc[2, "due"]) == "2026-03-16"  # orange: 14 days
    assert str(by_row.loc[1, "due"]) == "2026-04-01"  # yellow: 30 days
    assert 0 not in by_row.index  # green, nothing to follow up
    assert fu["row"].iloc[0] == 3
    with pytest.raises(ValueError, match="The 'screening_date' parameter of follow_up_list"):
        follow_up_list(res, "next monday")


def test_rescreen_listed_with_due_date():
    df = frame([{"id": "A", "phq": 0}, {"id": "B", "phq": 0}])
    df.loc[1, [f"phq9_{k}" for k in range(2, 9)]] = np.nan  # item 9 answered: a blank item 9 means "ask today"
    res = sc.screen(df, scales=["phq9", "gad7"], rules="default")
    fu = follow_up_list(res, "2026-03-02")
    assert fu["row"].tolist() == [1] and fu["what"].tolist() == ["rescreen"]
    assert str(fu["due"].iloc[0]) == "2026-03-16"


def test_workload_two_and_three_adults(data):
    df, res = data
    staff = pd.DataFrame({"school": ["S"], "psychology_teacher": [1], "school_leader": [2]})
    wl = workload(res, staff=staff, capacity_hours={"psychology_teacher": 10}, norms=["ganzhou_1_800", "jinan_500"])
    r = wl.iloc[0]
    # 2 yellow (2 h each), 3 orange (4 h), 1 urgent orange (6 + 4 h), per role (tiering_rules/default.yaml)
    assert r["class_teacher.students"] == 6 and r["school_leader.students"] == 4
    assert r["psychology_teacher.hours"] == pytest.approx(2 * 2 + 3 * 4 + 10)
    assert r["school_leader.hours"] == pytest.approx(3 * 4 + 10)
    assert r["class_teacher.staff"] == 1  # one class in the data → one class teacher assumed
    assert r["psychology_teacher.shortfall"] == pytest.approx(26 - 10)
    assert r["norm.ganzhou_1_800.required"] == 1 and bool(r["norm.ganzhou_1_800.met"])
    assert r["norm.jinan_500.required"] == 0
    assert "parents.hours" not in wl.columns  # parents are not staff
    with pytest.raises(ValueError, match="The 'norms' parameter of workload"):
        workload(res, norms=["1:800"])


def test_exports_are_labelled(tmp_path, data):
    df, res = data
    s = res.summary(by="school", min_cell=1)
    for suffix in (".csv", ".json", ".xlsx", ".parquet", ".html"):
        write_frame(s, tmp_path / f"s{suffix}")
    text = (tmp_path / "s.csv").read_text(encoding="utf-8-sig")
    assert text.startswith("level,") and "#" not in text.splitlines()[0]  # header on Excel's row 1
    side = (tmp_path / "s.provenance.json").read_text(encoding="utf-8")
    assert DISCLAIMER["zh"] in side and DISCLAIMER["en"] in side and "sha256:" in side and '"file": "s.csv"' in side
    back = pd.read_csv(tmp_path / "s.csv")
    assert back["n"].tolist() == s["n"].tolist()
    js = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert js["disclaimer"]["en"] == DISCLAIMER["en"] and js["meta"]["provenance"]["rules"]["id"] == "default"
    assert len(js["data"]) == len(s)
    about = pd.read_excel(tmp_path / "s.xlsx", sheet_name="provenance")
    assert DISCLAIMER["zh"] in about["value"].tolist()
    pq = pd.read_parquet(tmp_path / "s.parquet")
    assert pq.attrs["screening"]["disclaimer"]["en"] == DISCLAIMER["en"]
    assert DISCLAIMER["en"] in (tmp_path / "s.html").read_text(encoding="utf-8")
