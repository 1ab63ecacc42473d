"""The malformed inputs users produce, fed to every reader and to score().

Each case ends in a clear error (a code, the file, the column, row positions
and a count, never cell contents) or in an explicit per-row status, and the
number of rows out always equals the number of data rows in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import screening as sc
from screening.errors import ResponseError
from screening.intake import ReadError, read_responses
from screening.intake import meta as M
from screening.intake.quality import check_quality

FIX = Path(__file__).resolve().parent / "fixtures" / "intake"
ITEMS = [f"phq9_{k}" for k in range(1, 10)]
SECRET = "张三的秘密"  # free text that must never appear in an error


def _csv(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _plain(rows: list[list[object]], header: list[str] | None = None) -> str:
    header = header or ["学籍号", *ITEMS]
    return "\n".join(",".join(map(str, r)) for r in [header, *rows]) + "\n"


def _no_secret(err: BaseException) -> None:
    assert SECRET not in str(err)
    if isinstance(err, ResponseError):
        assert SECRET not in err.to_frame().to_string()


# ---------------------------------------------------------------- encodings and empty files


@pytest.mark.parametrize("source", ["auto", "csv", "wjx", "qualtrics", "redcap"])
def test_wrong_encoding_every_text_reader(tmp_path, source):
    path = tmp_path / "latin.csv"
    path.write_bytes("id,phq9_1\n1,Café €\n".encode("cp1252"))  # 0x80 (€) is neither UTF-8 nor GB18030
    with pytest.raises(ReadError) as e:
        read_responses(path, source=source, scales="phq9")
    assert e.value.codes == ["unknown_encoding"] and e.value.issues[0].file == str(path)


def test_utf16_without_bom_is_named_not_misread(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("id,phq9_1\n1,2\n".encode("utf-16-le"))
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert e.value.codes == ["binary_file"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".xls", ".sav", ".parquet"])
def test_empty_file_every_format(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert len(e.value.issues) == 1 and e.value.issues[0].file == str(path)
    assert e.value.codes[0] in {"empty_file", "unreadable_sav", "unreadable_parquet"}


def test_blank_lines_only_is_an_empty_file(tmp_path):
    with pytest.raises(ReadError) as e:
        read_responses(_csv(tmp_path, "\n\n  \n"), scales="phq9")
    assert e.value.codes == ["empty_file"]


def test_header_only_gives_zero_rows_and_score_gives_zero_rows(tmp_path):
    t = read_responses(_csv(tmp_path, _plain([])), scales="phq9")
    assert len(t) == 0 and list(t.columns[:6]) == list(M.META_COLUMNS) and set(ITEMS) <= set(t.columns)
    out = sc.score(t, "phq9")
    assert len(out) == 0 and "phq9.status" in out.columns
    assert len(check_quality(t, "phq9")) == 0


def test_single_row(tmp_path):
    t = read_responses(_csv(tmp_path, _plain([["7", *[1] * 9]])), scales="phq9")
    assert len(t) == 1 and t["respondent_id"].iloc[0] == "7"
    assert sc.score(t, "phq9")["phq9.total"].iloc[0] == 9.0


def test_not_really_a_workbook(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("this is text, not a workbook", encoding="utf-8")
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert e.value.codes == ["unreadable_workbook"] and e.value.issues[0].file == str(path)


def test_unknown_suffix_and_missing_file(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert e.value.codes == ["unknown_format"]
    with pytest.raises(ReadError) as e:
        read_responses(tmp_path / "nope.csv", scales="phq9")
    assert e.value.codes == ["file_not_found"]


def test_corrupt_sav_and_parquet(tmp_path):
    for name, code in (("x.sav", "unreadable_sav"), ("x.parquet", "unreadable_parquet")):
        path = tmp_path / name
        path.write_bytes(b"\x01\x02not a real file\xff" * 10)
        with pytest.raises(ReadError) as e:
            read_responses(path, scales="phq9")
        assert e.value.codes == [code]


def test_unknown_sheet(tmp_path):
    path = tmp_path / "one.xlsx"
    pd.DataFrame({"学籍号": ["1"], **{c: [0] for c in ITEMS}}).to_excel(path, index=False)
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9", sheet="第二页")
    assert e.value.codes == ["unreadable_workbook"]


# ---------------------------------------------------------------- headers


def test_merged_header_cells_in_excel(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["学籍号", "PHQ-9", None, None, None, None, None, None, None, None])
    ws.merge_cells(start_row=1, start_column=2, end_row=1, end_column=10)  # one header over nine answer columns
    ws.append(["1", *[1] * 9])
    ws.append(["2", *[2] * 9])
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert set(e.value.codes) == {"empty_header"}
    assert [i.column for i in e.value.issues] == list("CDEFGHIJ")
    assert all(i.count == 2 for i in e.value.issues)
    assert "merged" in str(e.value)


def test_data_wider_than_the_header_in_csv(tmp_path):
    text = _plain([["1", *[1] * 9, "extra"], ["2", *[1] * 9]])
    with pytest.raises(ReadError) as e:
        read_responses(_csv(tmp_path, text), scales="phq9")
    assert e.value.codes == ["empty_header"] and e.value.issues[0].column == "K"


def test_duplicate_item_columns(tmp_path):
    header = ["学籍号", *ITEMS, "phq9_3"]
    with pytest.raises(ReadError) as e:
        read_responses(_csv(tmp_path, _plain([["1", *[1] * 10]], header)), scales="phq9")
    assert e.value.codes == ["duplicate_column"] and e.value.issues[0].column == "phq9_3"
    # score() on a frame with a duplicated column reports it too
    frame = pd.DataFrame([[1] * 10], columns=[*ITEMS, "phq9_3"])
    with pytest.raises(ResponseError) as e2:
        sc.score(frame, "phq9")
    assert "duplicate_column" in e2.value.codes


def test_duplicate_unused_columns_are_kept_apart(tmp_path):
    header = ["学籍号", *ITEMS, "备注", "备注"]
    t = read_responses(_csv(tmp_path, _plain([["1", *[1] * 9, "a", "b"]], header)), scales="phq9")
    assert t["备注"].iloc[0] == "a" and t["备注.1"].iloc[0] == "b"


def test_missing_item_columns_are_all_listed(tmp_path):
    header = ["学籍号", *ITEMS[:6]]
    with pytest.raises(ReadError) as e:
        read_responses(_csv(tmp_path, _plain([["1", *[1] * 6]], header)), scales="phq9")
    assert e.value.codes == ["missing_column"] * 3
    assert [i.column for i in e.value.issues] == ITEMS[6:]
    with pytest.raises(ResponseError) as e2:
        sc.score(pd.DataFrame({c: [1] for c in ITEMS[:6]}), "phq9")
    assert [i.column for i in e2.value.issues] == ITEMS[6:]


def test_a_wjx_export_needs_no_start_its_scale_is_found_by_options_and_wording(tmp_path):
    found = read_responses(FIX / "wjx_phq9_text.xlsx", scales="phq9")
    given = read_responses(FIX / "wjx_phq9_text.xlsx", scales="phq9", start=3)
    items = [f"phq9_{k}" for k in range(1, 10)]
    pd.testing.assert_frame_equal(found[items], given[items])
    (row,) = [m for m in found.attrs["screening"]["mapping"] if m["what"] == "phq9"]
    assert row["columns"].startswith("Q3–Q11") and "option text" in row["how"]


def test_no_item_columns_at_all_says_how_to_map(tmp_path):
    path = _csv(tmp_path, "学籍号,1、班级,2、性别\n1,1班,男\n")
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert e.value.codes == ["scale_not_found"] and "--start phq9=" in e.value.issues[0].hint


# ---------------------------------------------------------------- blank rows and row counts


def test_blank_rows_before_between_and_after(tmp_path):
    rows = "\n".join(["", ",,,,,,,,,,", "学籍号," + ",".join(ITEMS), "1," + ",".join(["1"] * 9),
                      ",,,,,,,,,", "", "2," + ",".join(["2"] * 9), "", ",,,,,,,,,", ""])
    path = _csv(tmp_path, rows + "\n")
    t = read_responses(path, scales="phq9")
    # leading blank rows are not the header; blank rows between answers are kept (flagged, never dropped);
    # blank rows after the last answer are not rows
    assert len(t) == 4
    assert t["respondent_id"].tolist()[0] == "1" and t["respondent_id"].tolist()[3] == "2"
    flags = check_quality(t, "phq9")
    assert flags["quality.empty"].tolist() == [False, True, True, False]
    out = sc.score(t, "phq9", quality=flags)
    assert out["phq9.status"].tolist() == ["complete", "invalid", "invalid", "complete"]
    assert "nothing answered" in flags["quality_reasons"].iloc[1]


def test_blank_rows_in_excel(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["学籍号", *ITEMS])
    ws.append(["1", *[0] * 9])
    ws.append([None] * 10)
    ws.append(["3", *[3] * 9])
    ws.append([None] * 10)
    path = tmp_path / "blank.xlsx"
    wb.save(path)
    t = read_responses(path, scales="phq9")
    assert len(t) == 3 and pd.isna(t["respondent_id"].iloc[1])
    assert sc.score(t, "phq9")["phq9.status"].tolist() == ["complete", "insufficient", "complete"]


# ---------------------------------------------------------------- bad cells


def test_text_in_numeric_columns(tmp_path):
    rows = [["1", *[1] * 9], ["2", "x", *[1] * 8], ["3", SECRET, *[1] * 8], ["4", "", *[1] * 8]]
    path = _csv(tmp_path, _plain(rows))
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert e.value.codes == ["not_a_number"]
    issue = e.value.issues[0]
    assert (issue.column, issue.rows, issue.count) == ("phq9_1", (1, 2), 2)
    _no_secret(e.value)
    # explicit per-row status instead: unreadable cells become missing, counted, flagged, status invalid
    t = read_responses(path, scales="phq9", on_invalid="missing")
    assert len(t) == 4
    assert t[M.unreadable_col("phq9")].tolist() == [0, 1, 1, 0]
    flags = check_quality(t, "phq9")
    out = sc.score(t, "phq9", quality=flags)
    assert out["phq9.status"].tolist() == ["complete", "invalid", "invalid", "prorated"]
    assert out["phq9.quality.unreadable"].tolist() == [False, True, True, False]
    _no_secret(ValueError(flags["quality_reasons"].str.cat()))


def test_values_out_of_range(tmp_path):
    rows = [["1", *[1] * 9], ["2", 4, *[1] * 8], ["3", -1, *[1] * 8], ["4", 1.5, *[1] * 8]]
    path = _csv(tmp_path, _plain(rows))
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9")
    assert e.value.codes == ["invalid_value"] and e.value.issues[0].rows == (1, 2, 3)
    t = read_responses(path, scales="phq9", on_invalid="missing")
    assert t["phq9_1"].isna().tolist() == [False, True, True, True]  # never clipped to 3 or 0
    # score() on raw out-of-range values: an error, or per-row n_invalid with on_invalid="missing"
    raw = pd.DataFrame({c: [1, 1] for c in ITEMS})
    raw.loc[1, "phq9_2"] = 7
    with pytest.raises(ResponseError) as e2:
        sc.score(raw, "phq9")
    assert e2.value.issues[0].column == "phq9_2" and e2.value.issues[0].rows == (1,)
    assert sc.score(raw, "phq9", on_invalid="missing")["phq9.n_invalid"].tolist() == [0, 1]


def test_index_export_with_bad_positions(tmp_path):
    cols = {"序号": [1, 2, 3, 4], "提交答卷时间": ["2024/3/5 9:00:00"] * 4, "所用时间": ["100秒"] * 4}
    for k in range(3, 12):
        cols[f"{k}、q"] = [1, 2, 3, 4]
    cols["3、q"] = [1, 0, 2.5, -3]  # 0 and 2.5 are no positions; -3 is 问卷星's 'not shown'
    path = tmp_path / "idx.csv"
    pd.DataFrame(cols).to_csv(path, index=False)
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9", start=3)
    assert e.value.codes == ["invalid_index"] and e.value.issues[0].rows == (1, 2)
    t = read_responses(path, scales="phq9", start=3, on_invalid="missing")
    assert t["phq9_1"].tolist()[0] == 0.0 and t["phq9_1"].isna().tolist() == [False, True, True, True]
    assert t[M.unreadable_col("phq9")].tolist() == [0, 1, 1, 0]  # the skip code is unanswered, not unreadable


def test_unparseable_metadata(tmp_path):
    cols = {"序号": [1, 2], "提交答卷时间": ["2024/3/5 9:00:00", "昨天下午"], "所用时间": ["100秒", "很久"]}
    for k in range(3, 12):
        cols[f"{k}、q"] = [1, 2]
    path = tmp_path / "meta.csv"
    pd.DataFrame(cols).to_csv(path, index=False)
    with pytest.raises(ReadError) as e:
        read_responses(path, scales="phq9", start=3)
    assert sorted(e.value.codes) == ["unparseable_duration", "unparseable_time"]
    assert all(i.rows == (1,) for i in e.value.issues)
    assert "昨天" not in str(e.value) and "很久" not in str(e.value)


def test_every_problem_in_one_error(tmp_path):
    header = ["学籍号", *ITEMS[:8], "备注", "备注"]
    rows = [["1", "x", 9, *[1] * 6, "a", "b"]]
    with pytest.raises(ReadError) as e:
        read_responses(_csv(tmp_path, _plain(rows, header)), scales="phq9")
    assert e.value.codes == ["missing_column"]  # mapping problems are reported before cell problems
    t_rows = [["1", "x", 9, *[1] * 7]]
    with pytest.raises(ReadError) as e:
        read_responses(_csv(tmp_path, _plain(t_rows), "b.csv"), scales="phq9")
    assert sorted(e.value.codes) == ["invalid_value", "not_a_number"]


def test_qualtrics_without_import_id_row(tmp_path):
    path = _csv(tmp_path, _plain([["1", *[1] * 9]]))
    with pytest.raises(ReadError) as e:
        read_responses(path, source="qualtrics", scales="phq9")
    assert e.value.codes == ["not_qualtrics"]


def test_redcap_dictionary_without_field_columns(tmp_path):
    dd = _csv(tmp_path, "name,label\nphq_1,x\n", "dd.csv")
    with pytest.raises(ReadError) as e:
        read_responses(FIX / "redcap_phq9_raw.csv", scales="phq9", start="phq_1", dictionary=dd)
    assert e.value.codes == ["bad_dictionary"]


@pytest.mark.parametrize(("kwargs", "name"), [
    (dict(source="xml"), "source"),
    (dict(response_format="text"), "response_format"),
    (dict(on_invalid="drop"), "on_invalid"),
    (dict(scales=["phq9", "phq9"]), "scales"),
    (dict(scales=["phq9", "gad7"], start=3), "start"),
    (dict(meta={"begin": "x"}), "meta"),
])
def test_bad_parameters_use_one_message_shape(tmp_path, kwargs, name):
    path = _csv(tmp_path, _plain([["1", *[1] * 9]]))
    kw = {"scales": "phq9", **kwargs}
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of read_responses must .* Got .* instead"):
        read_responses(path, **kw)


# ---------------------------------------------------------------- a million rows


def _million_row_csv(path: Path, n: int) -> np.ndarray:
    """A CSV of n rows: a 19-digit id and nine PHQ-9 values, built as bytes (no per-row Python)."""
    rng = np.random.default_rng(1)
    values = rng.integers(0, 4, size=(n, 9), dtype=np.uint8)
    ids = np.uint64(4401060000000000000) + np.arange(n, dtype=np.uint64)
    digits = np.empty((n, 19), dtype=np.uint8)
    rest = ids.copy()
    for j in range(18, -1, -1):
        digits[:, j] = (rest % np.uint64(10)).astype(np.uint8) + ord("0")
        rest //= np.uint64(10)
    line = np.empty((n, 19 + 18 + 1), dtype=np.uint8)
    line[:, :19] = digits
    line[:, 19:37:2] = ord(",")
    line[:, 20:38:2] = values + ord("0")
    line[:, 37] = ord("\n")
    header = ("学籍号," + ",".join(ITEMS) + "\n").encode("utf-8")
    path.write_bytes(header + line.tobytes())
    return values


def test_a_million_rows_in_equals_rows_out(tmp_path):
    n = 10**6
    path = tmp_path / "million.csv"
    values = _million_row_csv(path, n)
    table = read_responses(path, scales="phq9")
    out = sc.score(table, "phq9")
    assert len(table) == n and len(out) == n
    assert table["respondent_id"].iloc[-1] == str(4401060000000000000 + n - 1)
    np.testing.assert_array_equal(out["phq9.total"].to_numpy(), values.sum(axis=1).astype(float))
    assert (out["phq9.status"] == "complete").all()
    # speed is measured in benchmarks/bench_all.py (files section), not asserted here
