"""A teacher's 问卷星 export read with no hand-mapping: scales by options and wording, group and risk-group
questions by wording, every id-like column checked for Excel precision, grades in school order.

The exports are written by ``examples/wjx_export.py`` (synthetic, seeded): Q1-4 学校/年级/班级/性别,
Q5-7 留守/单亲/欺凌, Q8-16 PHQ-9, Q17-23 GAD-7, Q24 学籍号 (row 0: the 19-digit 4401062011234567819).
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import screening as sc
from screening.intake import ReadError, read_responses
from screening.intake.groups import grade_rank, recognise, school_order, stem

ROOT = Path(__file__).resolve().parent.parent
WJX = runpy.run_path(str(ROOT / "examples" / "wjx_export.py"), run_name="wjx_export")
ITEMS = [f"phq9_{k}" for k in range(1, 10)] + [f"gad7_{k}" for k in range(1, 8)]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    d = tmp_path_factory.mktemp("wjx")
    return {(kind, suf): WJX["write_export"](d / f"e_{kind}{suf}", n=60, kind=kind)
            for kind in ("text", "index") for suf in (".xlsx", ".csv")}


@pytest.mark.parametrize("kind", ["text", "index"])
@pytest.mark.parametrize("suf", [".xlsx", ".csv"])
def test_scales_groups_and_flags_found_without_mapping(exports, kind, suf):
    t = read_responses(exports[(kind, suf)], scales=["phq9", "gad7"])
    cells = WJX["make_export"](60, kind=kind)
    # the items equal what start= gives, and equal the option positions written (index: minus 1)
    given = read_responses(exports[(kind, suf)], scales=["phq9", "gad7"], start={"phq9": 8, "gad7": 17})
    pd.testing.assert_frame_equal(t[ITEMS], given[ITEMS])
    raw = cells.iloc[:, 13:29]
    expect = raw.apply(pd.to_numeric, errors="coerce") - 1 if kind == "index" else \
        raw.replace({"完全不会": 0, "好几天": 1, "一半以上的天数": 2, "几乎每天": 3, "(跳过)": np.nan})
    np.testing.assert_array_equal(t[ITEMS].to_numpy(), expect.where(expect >= 0).to_numpy(dtype=float))
    mapping = {m["what"]: m for m in t.attrs["screening"]["mapping"]}
    assert mapping["phq9"]["columns"].startswith("Q8–Q16") and mapping["gad7"]["columns"].startswith("Q17–Q23")
    assert ("option numbers" if kind == "index" else "option text") in mapping["phq9"]["how"]
    # groups under canonical names, originals kept; yes/no questions as booleans (index: 1 = 是, 2 = 否)
    assert {"school", "grade", "class", "sex", "1、您的学校"} <= set(t.columns)
    for flag, header in zip(["left_behind", "single_parent", "bullied"], WJX["FLAGS"], strict=True):
        assert t[flag].dtype == "boolean"
        yes = cells[header].isin(["是", "1"]).to_numpy()
        np.testing.assert_array_equal(t[flag].to_numpy(dtype=bool), yes)
    assert "1 = 是" in mapping["left_behind"]["how"] if kind == "index" else "是 / 否" in mapping["left_behind"]["how"]
    assert t["student_id"].iloc[0] == "4401062011234567819"  # 19 digits, exact


def test_a_19_digit_id_stored_as_a_number_is_an_error_never_rounded(tmp_path):
    p = WJX["write_export"](tmp_path / "num.xlsx", n=20, numeric_ids=True)
    with pytest.raises(ReadError) as e:
        read_responses(p, scales=["phq9", "gad7"])
    (issue,) = e.value.issues
    assert issue.code == "id_precision_lost" and issue.column == "24、学籍号" and issue.count == 20
    assert "4401062011234567" not in str(e.value)  # never the cell contents


def test_every_id_like_column_gets_the_precision_check(tmp_path):
    # the id is 序号 (问卷星's default); a second id column (身份证号) stored as numbers must still fail
    frame = WJX["make_export"](12)
    frame["25、身份证号"] = np.int64(440106201101011234)
    frame.loc[1, "25、身份证号"] = 440106201101015678
    p = tmp_path / "two_ids.xlsx"
    frame.to_excel(p, index=False)
    with pytest.raises(ReadError) as e:
        read_responses(p, scales=["phq9", "gad7"])
    assert [i.column for i in e.value.issues] == ["25、身份证号"]
    # in a CSV written by Excel in scientific notation the digits are gone too
    frame = WJX["make_export"](12)
    frame[WJX["ID_HEADER"]] = "4.40106E+18"
    frame.to_csv(tmp_path / "sci.csv", index=False)
    with pytest.raises(ReadError, match="id_precision_lost"):
        read_responses(tmp_path / "sci.csv", scales=["phq9", "gad7"])


def test_two_equal_candidates_ask_for_start_in_cli_terms(tmp_path):
    frame = WJX["make_export"](12, kind="index")
    frame.columns = [c if "、" not in c else c.split("、")[0] + "、题目" for c in frame.columns]  # wording says nothing
    p = tmp_path / "bare.csv"
    frame.to_csv(p, index=False)
    with pytest.raises(ReadError) as e:
        read_responses(p, scales=["gad7"])
    assert e.value.codes == ["scale_ambiguous"] and "--start gad7=" in e.value.issues[0].hint


def test_group_and_flag_wording():
    assert stem("1、您的学校") == "学校" and stem("3. 请填写你所在的班级：") == "班级"
    got = {r.column: r.name for r in recognise(["1、您的学校", "2、年级", "3、班级", "4、性别", "5、学段",
                                                 "6、你是留守儿童吗？", "7、是否单亲家庭", "8、被同学欺凌过吗",
                                                 "9、学籍号", "10、你喜欢学校吗"])}
    assert got == {"1、您的学校": "school", "2、年级": "grade", "3、班级": "class", "4、性别": "sex", "5、学段": "stage",
                   "6、你是留守儿童吗？": "left_behind", "7、是否单亲家庭": "single_parent", "8、被同学欺凌过吗": "bullied",
                   "9、学籍号": "id"}


def test_grades_sort_in_school_order():
    grades = ["初三", "高一", "初一", "七年级", "二年级", "初二", "高三", "一年级"]
    assert [grades[i] for i in school_order(grades)] == ["一年级", "二年级", "初一", "七年级", "初二", "初三", "高一", "高三"]
    assert grade_rank("初一") == grade_rank("七年级") == 7 and np.isnan(grade_rank("1班"))
    assert [["10班", "2班", "1班"][i] for i in school_order(["10班", "2班", "1班"])] == ["1班", "2班", "10班"]


def test_summary_lists_grades_in_school_order(exports):
    t = read_responses(exports[("text", ".csv")], scales=["phq9", "gad7"])
    with pytest.warns(UserWarning, match="flags not supplied"):  # poverty, migrant … were not asked
        res = sc.screen(t, scales=["phq9", "gad7"], rules="default")
    summ = res.summary(by=["grade"], min_cell=1)
    assert list(summ.loc[summ["level"] == "grade", "grade"]) == ["初一", "初二", "初三"]
