"""Readers: every source format gives the canonical table, and the same answers give the same scores.

The fixtures are synthetic (tests/fixtures/intake/make_fixtures.py); ``truth_phq9.csv``
holds the option values every export was written from, so each test compares the
reader's output with values that did not pass through any reader.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import screening as sc
from screening.errors import ResponseError
from screening.intake import ReadError, read_responses
from screening.intake import meta as M
from screening.intake.encoding import decode_bytes
from screening.intake.mapping import parse_questions
from screening.intake.options import option_key

FIX = Path(__file__).resolve().parent / "fixtures" / "intake"
ITEMS = [f"phq9_{k}" for k in range(1, 10)]
LONG_ID = "4401061234567890123"


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(FIX / "truth_phq9.csv", dtype={"respondent_id": str})


@pytest.fixture(scope="module")
def truth_scores(truth: pd.DataFrame) -> pd.DataFrame:
    return sc.score(truth[ITEMS], "phq9")


def _same_answers(table: pd.DataFrame, truth: pd.DataFrame) -> None:
    got = table[ITEMS].to_numpy(dtype=float)
    want = truth[ITEMS].to_numpy(dtype=float)
    np.testing.assert_array_equal(got, want)  # NaN == NaN here: skipped questions stay unanswered
    assert table["respondent_id"].tolist() == truth["respondent_id"].tolist()


# ---------------------------------------------------------------- 问卷星


def test_wjx_text_and_index_exports_give_identical_scores(truth, truth_scores):
    text = read_responses(FIX / "wjx_phq9_text.xlsx", scales="phq9", start=3, id_column=1)
    index = read_responses(FIX / "wjx_phq9_index.xlsx", scales="phq9", start=3, id_column=1)
    _same_answers(text, truth)
    _same_answers(index, truth)
    s_text, s_index = sc.score(text, "phq9"), sc.score(index, "phq9")
    pd.testing.assert_frame_equal(s_text, s_index)
    pd.testing.assert_frame_equal(s_text, truth_scores)
    # the skip codes are unanswered, not zero: row 3 skipped one question and is prorated
    assert s_text["phq9.status"].iloc[3] == "prorated"
    assert s_text["phq9.total"].iloc[3] == pytest.approx(np.nansum(truth.loc[3, ITEMS].astype(float)) * 9 / 8)


def test_wjx_metadata_privacy_and_platform_total(truth):
    t = read_responses(FIX / "wjx_phq9_text.xlsx", scales="phq9", start=3, id_column=1)
    assert list(t.columns[:6]) == list(M.META_COLUMNS)
    assert t["source"].eq("wjx").all()
    # 所用时间 '123秒' and '2分3秒' are both 123 s; 提交答卷时间 parsed; start = submit − duration
    assert t["duration_s"].tolist()[:4] == [123.0, 123.0, 65.0, 9.0]
    assert t["submitted_at"].iloc[0] == pd.Timestamp("2024-03-05 09:00:10")
    assert t["started_at"].iloc[0] == pd.Timestamp("2024-03-05 09:00:10") - pd.Timedelta(seconds=123)
    assert "来自IP" not in t.columns  # IP and city dropped
    assert "总分" not in t.columns  # the platform's total (999 in the fixture) is never kept or trusted
    assert "序号" in t.columns  # id_column took the 学籍号 question, so 序号 is an ordinary column
    assert "2、您的性别" in t.columns and t["2、您的性别"].iloc[1] == "男"
    assert t["respondent_id"].iloc[0] == LONG_ID
    assert t["respondent_id"].iloc[5] == "0012345678901234567"  # leading zero kept


def test_wjx_default_id_is_the_row_number_column():
    t = read_responses(FIX / "wjx_phq9_index.xlsx", scales="phq9", start=3)
    assert t["respondent_id"].tolist() == [str(i) for i in range(1, 13)]
    assert "1、您的学籍号" in t.columns and t["1、您的学籍号"].iloc[0] == LONG_ID  # still text, not a float


def test_wjx_legacy_xls_reads_like_xlsx(truth):
    t = read_responses(FIX / "wjx_phq9_index.xls", scales="phq9", start=3, id_column=1)
    _same_answers(t, truth)
    assert t["source"].eq("wjx").all()


def test_wjx_matrix_question_gb18030_csv_with_messy_labels(truth):
    t = read_responses(FIX / "wjx_phq9_matrix_gb18030.csv", scales="phq9", start=3, id_column=1)
    _same_answers(t, truth)
    assert "4、您的班级" in t.columns and t["4、您的班级"].iloc[0] == "7年级1班"  # no mojibake


def test_wjx_explicit_column_mapping_equals_start(truth):
    by_number = read_responses(FIX / "wjx_phq9_text.xlsx", scales="phq9", columns=list(range(3, 12)), id_column=1)
    by_dict = read_responses(FIX / "wjx_phq9_matrix_gb18030.csv", scales="phq9",
                             columns={"phq9": [(3, k) for k in range(1, 10)]}, id_column=1)
    _same_answers(by_number, truth)
    _same_answers(by_dict, truth)


def test_wjx_start_at_the_wrong_question_is_reported():
    with pytest.raises(ReadError) as e:
        read_responses(FIX / "wjx_phq9_text.xlsx", scales="phq9", start=4, id_column=1)
    assert "item_count" in e.value.codes  # only 8 questions follow question 4
    with pytest.raises(ReadError) as e:
        read_responses(FIX / "wjx_phq9_text.xlsx", scales="phq9", start=2, id_column=1)
    # question 2 (性别) is text that is no PHQ-9 option: reported per column with a count, not the cells
    assert "unknown_label" in e.value.codes
    issue = next(i for i in e.value.issues if i.code == "unknown_label")
    assert issue.column == "2、您的性别" and issue.count == 12
    assert "男" not in str(e.value) and "女" not in str(e.value)
    with pytest.raises(ReadError) as e:
        read_responses(FIX / "wjx_phq9_text.xlsx", scales="phq9", start=30)
    assert e.value.codes == ["no_question"]


def test_wjx_matrix_with_more_rows_than_items(tmp_path):
    cols = {"序号": [1], "提交答卷时间": ["2024/3/5 9:00:00"], "所用时间": ["100秒"]}
    for k in range(1, 11):
        cols[f"第3题(row {k})"] = ["1"]
    path = tmp_path / "m.csv"
    pd.DataFrame(cols).to_csv(path, index=False)
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9", start=3)
    assert e.value.codes == ["item_count"]
    assert "10 rows" in str(e.value)


def test_wjx_index_beyond_the_options_is_an_option_count_error(tmp_path):
    cols = {"序号": [1, 2], "提交答卷时间": ["2024/3/5 9:00:00"] * 2, "所用时间": ["100秒"] * 2}
    for k in range(3, 12):
        cols[f"{k}、q"] = [1, 5 if k == 4 else 2]  # question 4 had five options on this form
    path = tmp_path / "five.csv"
    pd.DataFrame(cols).to_csv(path, index=False)
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9", start=3)
    assert e.value.codes == ["option_count"]
    assert e.value.issues[0].column == "4、q" and e.value.issues[0].rows == (1,)


def test_wjx_extra_labels(tmp_path):
    frame = pd.read_excel(FIX / "wjx_phq9_text.xlsx", dtype=object, engine="openpyxl").replace({"完全不会": "从来没有"})
    out = tmp_path / "renamed_option.csv"
    frame.to_csv(out, index=False)
    with pytest.raises(ReadError) as e:
        read_responses(out, scales="phq9", start=3)
    assert set(e.value.codes) == {"unknown_label"}
    t = read_responses(out, scales="phq9", start=3, labels={"phq9": {"从来没有": 0}})
    assert t["phq9_1"].notna().sum() == 12


# ---------------------------------------------------------------- Qualtrics, REDCap, SPSS, Parquet


def test_qualtrics_three_header_rows(truth):
    t = read_responses(FIX / "qualtrics_phq9.csv", scales="phq9", start="Q2_1", id_column="Q1")
    _same_answers(t, truth)
    assert t["source"].eq("qualtrics").all()
    assert t["duration_s"].tolist()[:3] == [300.0, 301.0, 302.0]
    assert t["complete"].tolist()[:3] == [True, True, False]  # Finished
    assert t["started_at"].iloc[0] == pd.Timestamp("2024-03-05 10:00:00")
    assert not {"IPAddress", "LocationLatitude", "LocationLongitude"} & set(t.columns)
    assert "ResponseId" in t.columns  # the id came from Q1, so ResponseId is an ordinary column
    # items may also be mapped by the stable ImportIds, and by start= on the question number
    by_import = read_responses(FIX / "qualtrics_phq9.csv", scales="phq9",
                               columns=[f"QID2_{k}" for k in range(1, 10)], id_column="Q1")
    by_number = read_responses(FIX / "qualtrics_phq9.csv", scales="phq9", start=2, id_column="Q1")
    pd.testing.assert_frame_equal(by_import, t)
    pd.testing.assert_frame_equal(by_number, t)


def test_qualtrics_numeric_export_needs_the_format_said(tmp_path):
    raw = pd.read_csv(FIX / "qualtrics_phq9.csv", header=None, dtype=str, keep_default_na=False)
    en = {"Not at all": "1", "Several days": "2", "More than half the days": "3", "Nearly every day": "4"}
    body = raw.iloc[3:].replace(en)
    path = tmp_path / "numeric.csv"
    pd.concat([raw.iloc[:3], body]).to_csv(path, header=False, index=False)
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9", start=2, id_column="Q1")
    assert set(e.value.codes) == {"ambiguous_format"}
    t = read_responses(path, scales="phq9", start=2, id_column="Q1", response_format="index")
    text = read_responses(FIX / "qualtrics_phq9.csv", scales="phq9", start=2, id_column="Q1")
    pd.testing.assert_frame_equal(t[ITEMS], text[ITEMS])


@pytest.mark.parametrize("name", ["redcap_phq9_raw.csv", "redcap_phq9_labels.csv"])
def test_redcap_raw_and_label_exports_with_dictionary(name, truth):
    # the project coded PHQ-9 as 1-4: codes go code -> choice label -> YAML value 0-3
    t = read_responses(FIX / name, scales="phq9", start="phq_1", id_column="student_no",
                       dictionary=FIX / "redcap_dictionary.csv")
    _same_answers(t, truth)
    assert t["source"].eq("redcap").all()
    assert t["complete"].tolist()[3:6] == [True, False, True]  # phq9_complete == 2 (Complete)
    assert pd.isna(t["submitted_at"].iloc[4])  # '[not completed]'
    assert t["submitted_at"].iloc[0] == pd.Timestamp("2024-03-05 11:00:00")
    assert "phq9_timestamp" not in t.columns and "phq9_complete" not in t.columns


def test_redcap_raw_without_dictionary_is_read_as_values_and_fails_loudly():
    with pytest.raises(ReadError) as e:
        read_responses(FIX / "redcap_phq9_raw.csv", source="redcap", scales="phq9", start="phq_1")
    assert set(e.value.codes) == {"invalid_value"}  # code 4 is no PHQ-9 value: never clipped to 3


def test_redcap_dictionary_label_that_is_no_option(tmp_path):
    dd = pd.read_csv(FIX / "redcap_dictionary.csv", dtype=str, keep_default_na=False)
    col = "Choices, Calculations, OR Slider Labels"
    dd.loc[dd["Variable / Field Name"] == "phq_3", col] = "1, Never | 2, Sometimes | 3, Often | 4, Always"
    path = tmp_path / "dd.csv"
    dd.to_csv(path, index=False)
    with pytest.raises(ReadError) as e:
        read_responses(FIX / "redcap_phq9_raw.csv", scales="phq9", start="phq_1", dictionary=path)
    assert e.value.codes == ["label_mismatch"] and e.value.issues[0].column == "phq_3"


def test_spss_value_labels_map_codes_and_user_missing(truth):
    # coded 1-4 with Chinese labels; 9 = 未作答 is a user-missing code
    t = read_responses(FIX / "spss_phq9.sav", scales="phq9")
    _same_answers(t, truth)
    assert t["source"].eq("spss").all()
    assert t["respondent_id"].iloc[0] == LONG_ID  # 学籍号 string variable taken as the id


def test_spss_label_mismatch_names_the_column(tmp_path):
    import pyreadstat  # the io extra; a missing install fails the test rather than skipping it
    frame = pd.DataFrame({f"phq9_{k}": [1.0, 2.0] for k in range(1, 10)})
    labels = {f"phq9_{k}": {1.0: "完全不会", 2.0: "好几天", 3.0: "一半以上的天数", 4.0: "几乎每天"} for k in range(1, 10)}
    labels["phq9_6"] = {1.0: "从不", 2.0: "有时", 3.0: "经常", 4.0: "总是"}  # another scale's options
    path = tmp_path / "x.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels)
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert e.value.codes == ["label_mismatch"] and e.value.issues[0].column == "phq9_6"


def test_spss_partial_labels_shift_consistently(tmp_path):
    import pyreadstat
    frame = pd.DataFrame({f"phq9_{k}": [1.0, 2.0, 3.0, 4.0] for k in range(1, 10)})
    labels = {f"phq9_{k}": {1.0: "完全不会", 4.0: "几乎每天"} for k in range(1, 10)}  # only the ends labelled
    path = tmp_path / "ends.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels)
    t = read_responses(path, scales="phq9")
    assert t["phq9_1"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_parquet_round_trip_of_the_canonical_table(tmp_path, truth):
    t = read_responses(FIX / "wjx_phq9_text.xlsx", scales="phq9", start=3, id_column=1)
    path = tmp_path / "canon.parquet"
    t.to_parquet(path)
    back = read_responses(path, scales="phq9")
    _same_answers(back, truth)
    assert back["source"].eq("wjx").all()  # the source column of a saved table is kept
    assert back["duration_s"].tolist() == t["duration_s"].tolist()
    csv_path = tmp_path / "canon.csv"
    t.to_csv(csv_path, index=False)
    again = read_responses(csv_path, scales="phq9")
    _same_answers(again, truth)
    assert again["submitted_at"].tolist() == t["submitted_at"].tolist()


# ---------------------------------------------------------------- ids, encodings, labels, headers


def test_long_student_id_survives_excel_and_csv(tmp_path):
    ids = [LONG_ID, "0012345678901234567", "20230101"]
    frame = pd.DataFrame({"学籍号": ids, **{c: [0, 1, 2] for c in ITEMS}})
    xlsx = tmp_path / "ids.xlsx"
    frame.to_excel(xlsx, index=False)  # strings are written as text cells, as a careful export would
    csv = tmp_path / "ids.csv"
    csv.write_text(frame.to_csv(index=False), encoding="utf-8")
    for path in (xlsx, csv):
        t = read_responses(path, scales="phq9")
        assert t["respondent_id"].tolist() == ids, path.suffix
        assert t["respondent_id"].dtype == object or pd.api.types.is_string_dtype(t["respondent_id"].dtype)
    # also as an ordinary (non-id) column of a CSV: kept as text, since a float would change it
    other = read_responses(csv, scales="phq9", id_column=None, meta={"respondent_id": "学籍号"}, keep_other=True)
    assert other["respondent_id"].iloc[0] == LONG_ID


def test_long_id_stored_as_an_excel_number_is_an_error(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["学籍号", *ITEMS])
    ws.append([4401061234567890123.0, *[0] * 9])  # already rounded by Excel: 4401061234567890000 or so
    ws.append([20230101, *[1] * 9])  # small numeric ids are exact and fine
    path = tmp_path / "numeric_id.xlsx"
    wb.save(path)
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert e.value.codes == ["id_precision_lost"]
    assert e.value.issues[0].rows == (0,) and e.value.issues[0].count == 1


def test_passthrough_columns_get_lossless_types(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("student_id,grade,class,code,bullied,score_note\n"
                    f"{LONG_ID},7,7年级1班,0012,True,1.5\n2,8,8年级2班,0013,False,2\n", encoding="utf-8")
    # no items read: this only checks the passthrough typing
    t = read_responses(path)
    assert t["grade"].tolist() == [7, 8] and pd.api.types.is_integer_dtype(t["grade"].dtype)
    assert t["code"].tolist() == ["0012", "0013"]
    assert t["bullied"].tolist() == [True, False]
    assert t["score_note"].tolist() == [1.5, 2.0]
    assert t["respondent_id"].tolist() == [LONG_ID, "2"]


def test_gb18030_csv_with_chinese_headers_reads_without_mojibake(tmp_path):
    frame = pd.DataFrame({"学籍号": ["1", "2"], "姓名": ["张㛃", "李四"], "班级": ["七年级（1）班", "七年级（2）班"],
                          **{c: [0, 3] for c in ITEMS}})
    path = tmp_path / "gbk.csv"
    path.write_bytes(frame.to_csv(index=False).encode("gb18030"))  # '㛃' is not in GBK: GB18030 needed
    t = read_responses(path, scales="phq9")
    assert t["姓名"].tolist() == ["张㛃", "李四"]
    assert t["班级"].iloc[0] == "七年级（1）班"
    assert t["phq9_1"].tolist() == [0.0, 3.0]


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b"")])
def test_utf8_with_and_without_bom_and_utf16_with_bom(tmp_path, encoding, bom):
    text = "学籍号," + ",".join(ITEMS) + "\n1," + ",".join(["2"] * 9) + "\n"
    path = tmp_path / "enc.csv"
    path.write_bytes(bom + text.encode(encoding))  # Python's utf-16 codec writes its BOM itself
    t = read_responses(path, scales="phq9")
    assert t["respondent_id"].tolist() == ["1"]
    assert "学籍号" not in t.columns and t["phq9_9"].tolist() == [2.0]


def test_unknown_encoding_fails_with_a_clear_message(tmp_path):
    path = tmp_path / "cp1252.csv"
    path.write_bytes("name,phq9_1\nCafé €,1\n".encode("cp1252"))  # 0x80 is not valid UTF-8 or GB18030
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert e.value.codes == ["unknown_encoding"]
    assert str(path) in str(e.value) and "neither UTF-8 nor GB18030" in str(e.value)
    # forcing the right encoding works; forcing a wrong one is still strict
    assert decode_bytes("é€".encode("cp1252"), "x", "cp1252")[0] == "é€"
    with pytest.raises(ReadError):
        decode_bytes("é€".encode("cp1252"), "x", "utf-8")


def test_option_key_folds_width_space_and_letter_prefixes():
    for text in ["完全不会", " 完全不会 ", "Ａ．完全不会", "A.完全不会", "A、完全不会", "(A)完全不会", "A. 完全 不会", "ａ)完全不会"]:
        assert option_key(text) == option_key("完全不会"), text
    assert option_key("Not  at all") == option_key("not at all")
    assert option_key("A lot") != option_key("lot")  # a word starting with A is not a prefix


def test_question_header_patterns():
    q = parse_questions(["序号", "1、学籍号", "2.性别", "3：年级", "４．全角", "第5题(行一)", "第5题(行二)", "6(行)", "Q7", "Q8_1", "Q8_2", "phq9_1"])
    assert {c: (v.number, v.matrix, v.row) for c, v in q.items()} == {
        "1、学籍号": (1, False, 1), "2.性别": (2, False, 1), "3：年级": (3, False, 1), "４．全角": (4, False, 1),
        "第5题(行一)": (5, True, 1), "第5题(行二)": (5, True, 2), "6(行)": (6, True, 1), "Q7": (7, False, 1),
        "Q8_1": (8, True, 1), "Q8_2": (8, True, 2)}


def test_title_row_above_the_header_is_skipped(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2024年春季心理筛查 PHQ-9"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=10)
    ws.append(["学籍号", *ITEMS])
    ws.append(["1", *[1] * 9])
    path = tmp_path / "title.xlsx"
    wb.save(path)
    t = read_responses(path, scales="phq9")
    assert len(t) == 1 and t["phq9_1"].iloc[0] == 1.0
    explicit = read_responses(path, scales="phq9", header_row=1)
    pd.testing.assert_frame_equal(explicit, t)


def test_two_scales_from_one_questionnaire(tmp_path):
    cols = {"序号": [1, 2], "提交答卷时间": ["2024/3/5 9:00:00"] * 2, "所用时间": ["3分"] * 2, "1、学籍号": ["a", "b"]}
    for k in range(9):
        cols[f"{k + 2}、phq"] = ["好几天", "几乎每天"]
    for k in range(7):
        cols[f"第11题(gad {k})"] = ["2", "1"]
    path = tmp_path / "two.csv"
    pd.DataFrame(cols).to_csv(path, index=False)
    with pytest.raises(ReadError):  # one file, one format: the phq9 part is text, the gad7 part numbers
        read_responses(path, scales=["phq9", "gad7"], start={"phq9": 2, "gad7": 11}, response_format="label")
    t = read_responses(path, scales=["phq9", "gad7"], start={"phq9": 2, "gad7": 11}, id_column=1)
    assert t["duration_s"].tolist() == [180.0, 180.0]
    assert t["phq9_1"].tolist() == [1.0, 3.0]
    assert t["gad7_1"].tolist() == [1.0, 0.0]  # index 2 -> value 1, index 1 -> value 0
    out = sc.score(t, ["phq9", "gad7"])
    assert out["phq9.total"].tolist() == [9.0, 27.0] and out["gad7.total"].tolist() == [7.0, 0.0]


def test_error_is_a_response_error_and_lists_every_problem(tmp_path):
    frame = pd.DataFrame({"学籍号": ["1", "2", "3"], **{c: [0, 1, 2] for c in ITEMS}})
    frame["phq9_2"] = ["0", "x", "y"]
    frame["phq9_7"] = [0, 9, 1]
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ResponseError) as e:
        read_responses(path, scales="phq9")
    assert sorted(e.value.codes) == ["invalid_value", "not_a_number"]
    by_code = {i.code: i for i in e.value.issues}
    assert by_code["not_a_number"].column == "phq9_2" and by_code["not_a_number"].rows == (1, 2)
    assert by_code["invalid_value"].column == "phq9_7" and by_code["invalid_value"].count == 1
    assert all(i.file == str(path) for i in e.value.issues)
    frame_out = e.value.to_frame()
    assert set(frame_out["code"]) == {"invalid_value", "not_a_number"}


def test_qualtrics_utf16_tsv(tmp_path, truth):
    raw = pd.read_csv(FIX / "qualtrics_phq9.csv", header=None, dtype=str, keep_default_na=False)
    path = tmp_path / "export.tsv"
    path.write_bytes(raw.to_csv(sep="\t", header=False, index=False).encode("utf-16"))  # BOM + UTF-16 LE
    t = read_responses(path, scales="phq9", start="Q2_1", id_column="Q1")
    _same_answers(t, truth)
    assert t["source"].eq("qualtrics").all()


LABELS = ["完全不会", "好几天", "一半以上的天数", "几乎每天"]


@settings(max_examples=25)  # each example writes and reads a file
@given(st.lists(st.lists(st.sampled_from([0, 1, 2, 3, None]), min_size=9, max_size=9), min_size=1, max_size=15),
       st.sampled_from(["text", "index"]))
def test_any_answers_round_trip_through_a_wjx_download(rows, form):
    values = np.array([[np.nan if v is None else float(v) for v in r] for r in rows])
    cols: dict[str, list[object]] = {"序号": list(range(1, len(rows) + 1)),
                                      "提交答卷时间": ["2024/3/5 9:00:00"] * len(rows), "所用时间": ["1分"] * len(rows)}
    for k in range(9):
        v = values[:, k]
        if form == "text":
            cols[f"{k + 1}、q"] = [LABELS[int(x)] if not np.isnan(x) else "(跳过)" for x in v]
        else:
            cols[f"{k + 1}、q"] = [int(x) + 1 if not np.isnan(x) else -2 for x in v]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "wjx.csv"
        pd.DataFrame(cols).to_csv(path, index=False)
        t = read_responses(path, scales="phq9", start=1)
    np.testing.assert_array_equal(t[ITEMS].to_numpy(dtype=float), values)
    assert len(t) == len(rows)


def test_a_file_saved_with_two_byte_order_marks_keeps_its_id_column(tmp_path):
    """Excel re-saving a UTF-8-with-BOM export can leave a second BOM inside the first header cell; the column
    is still the student id (kept as text, 19 digits exact), whole or in chunks."""
    import pandas as pd

    import screening as sc
    from screening.intake.stream import iter_responses

    p = tmp_path / "twice.csv"
    p.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbfstudent_id,phq9_1,phq9_2,phq9_3,phq9_4,phq9_5,phq9_6,phq9_7,phq9_8,phq9_9\n"
                  b"4401060000000000123,0,1,2,3,,0,1,2,3\n4401060000000000124,3,3,3,3,3,3,3,3,3\n")
    whole = sc.read_responses(p, scales="phq9")
    chunks = pd.concat(list(iter_responses(p, scales="phq9", chunksize=1)))
    for t in (whole, chunks):
        assert t["respondent_id"].tolist() == ["4401060000000000123", "4401060000000000124"]
        assert not any("\ufeff" in str(c) for c in t.columns)
    assert sc.score(whole, "phq9")["phq9.n_missing"].tolist() == [1, 0]
