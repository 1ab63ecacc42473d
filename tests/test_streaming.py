"""Streaming intake and screening (issue 13): a file read or screened chunk by chunk gives the whole-file result.

Also: the fast CSV path (Arrow reads every cell as text, item columns of plain numbers are parsed by Arrow)
gives exactly what the strict text path gives, cell for cell, on messy files — including the files it
refuses (bad cells, skip codes, padding, ``nan``), whose errors must be the same.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import screening as sc
from screening._params import InvalidParameterError
from screening.intake import ReadError, grid, iter_responses, read_responses
from screening.intake import meta as M
from tests.strategies import csv_bytes

FIX = Path(__file__).resolve().parent / "fixtures" / "intake"
PHQ = [f"phq9_{k}" for k in range(1, 10)]
GAD = [f"gad7_{k}" for k in range(1, 8)]


def _messy_table(n: int, seed: int = 3) -> pd.DataFrame:
    """PHQ-9 + GAD-7 answers as a school's CSV holds them: blanks, 19-digit ids (some with a leading 0),
    a class column, a yes/no risk-group column, borderline totals and skipped crisis items."""
    rng = np.random.default_rng(seed)
    ids = [f"{rng.integers(10**17, 10**18)}{k % 10}" for k in range(n)]
    ids[1] = "0" + ids[1][1:]  # a 学籍号 with a leading zero stays text
    ids[4] = ""  # no id
    df = pd.DataFrame({"student_id": ids, "class": [f"{k % 3 + 1}班" for k in range(n)],
                       "left_behind": rng.choice(["是", "否", ""], n)})
    for c in PHQ + GAD:
        v = rng.integers(0, 4, n).astype(float)
        v[rng.random(n) < 0.08] = np.nan
        df[c] = v
    df.loc[2, PHQ] = [3, 3, 3, 3, 3, 3, 3, 3, np.nan]  # item 9 skipped: unknown, never "not fired"
    df.loc[3, PHQ] = [1, 1, 1, 1, 1, 1, 1, 2, 0]  # total 9: just below the moderate cut-off 10
    return df


def _write_csv(df: pd.DataFrame, path: Path, trailing_blank: int = 0) -> Path:
    text = df.to_csv(index=False, float_format="%g")
    path.write_text(text + "\n" * trailing_blank, encoding="utf-8")
    return path


@pytest.mark.parametrize("chunksize", [1, 7, 25, 1000])
def test_csv_chunks_equal_the_whole_file(tmp_path, chunksize):
    p = _write_csv(_messy_table(60), tmp_path / "answers.csv", trailing_blank=3)
    whole = read_responses(p, scales=["phq9", "gad7"], id_column="student_id")
    chunks = list(iter_responses(p, scales=["phq9", "gad7"], id_column="student_id", chunksize=chunksize))
    assert sum(len(c) for c in chunks) == len(whole) == 60  # trailing blank lines are not students
    assert all(len(c) <= max(chunksize, grid.HEADER_SCAN + 3) for c in chunks)
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)
    assert whole["respondent_id"].iloc[1].startswith("0") and pd.isna(whole["respondent_id"].iloc[4])


def test_blank_rows_inside_the_file_stay_rows_across_chunk_edges(tmp_path):
    df = _messy_table(40)
    lines = df.to_csv(index=False, float_format="%g").splitlines()
    lines[25:25] = ["", ""]  # two blank rows in the middle: two students who answered nothing
    p = tmp_path / "gaps.csv"
    p.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    whole = read_responses(p, scales=["phq9", "gad7"], id_column="student_id")
    assert len(whole) == 42
    for size in (23, 24, 25):  # the blank rows at, across and after a chunk's end
        pd.testing.assert_frame_equal(pd.concat(iter_responses(p, scales=["phq9", "gad7"], id_column="student_id",
                                                               chunksize=size)), whole)


def test_wjx_export_in_chunks(tmp_path):
    # the 问卷星 GB18030 CSV fixture: question numbers, matrix rows, skip codes, text durations
    src = FIX / "wjx_phq9_matrix_gb18030.csv"
    whole = read_responses(src, scales="phq9")
    chunks = list(iter_responses(src, scales="phq9", chunksize=2))
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)
    assert whole["source"].eq("wjx").all()


def test_parquet_and_excel_in_chunks(tmp_path):
    df = _messy_table(50)
    pq = tmp_path / "a.parquet"
    df.to_parquet(pq, index=False)
    whole = read_responses(pq, scales=["phq9", "gad7"], id_column="student_id")
    pd.testing.assert_frame_equal(pd.concat(iter_responses(pq, scales=["phq9", "gad7"], id_column="student_id",
                                                           chunksize=8)), whole)
    xl = FIX / "wjx_phq9_text.xlsx"
    whole = read_responses(xl, scales="phq9", start=3, id_column=1)
    chunks = pd.concat(iter_responses(xl, scales="phq9", start=3, id_column=1, chunksize=3))
    core = [*M.META_COLUMNS, *PHQ]
    pd.testing.assert_frame_equal(chunks[core], whole[core])
    assert list(chunks.columns) == list(whole.columns)
    # other columns stay text in chunks (a type guessed per chunk could differ between chunks): 序号 1, 2, …
    assert chunks["序号"].tolist() == whole["序号"].astype(str).tolist()


def test_a_bad_answer_in_a_later_chunk_names_its_row_in_the_file(tmp_path):
    df = _messy_table(40).astype(dict.fromkeys(PHQ, object))
    df.loc[33, "phq9_4"] = 77  # not an option of PHQ-9
    p = _write_csv(df, tmp_path / "bad.csv")
    with pytest.raises(ReadError) as whole:
        read_responses(p, scales=["phq9", "gad7"], id_column="student_id")
    with pytest.raises(ReadError) as chunked:
        list(iter_responses(p, scales=["phq9", "gad7"], id_column="student_id", chunksize=10))
    assert [i.rows for i in chunked.value.issues] == [i.rows for i in whole.value.issues] == [(33,)]
    assert "77" not in str(chunked.value).replace(str(p), "")  # the cell's value is never echoed


def test_screen_file_writes_what_screen_gives_on_the_whole_file(tmp_path):
    p = _write_csv(_messy_table(80), tmp_path / "answers.csv")
    out = tmp_path / "result.csv"
    with pytest.warns(UserWarning, match="not supplied") as caught:
        got = sc.screen_file(p, ["phq9", "gad7"], out=out, chunksize=9, id_column="student_id", identifiable=True)
    assert sum("not supplied" in str(w.message) for w in caught) == 1  # said once, not once per chunk
    table = read_responses(p, scales=["phq9", "gad7"], id_column="student_id")
    with pytest.warns(UserWarning, match="not supplied"):
        res = sc.screen(table, ["phq9", "gad7"])
    t = res.table
    want = pd.concat([pd.DataFrame({"row": np.arange(len(t)), "respondent_id": table["respondent_id"].to_numpy()}),
                      res.groups, res.flags, res.scores,
                      t[["tier", "urgent", "rescreen", "follow_up_days", "reasons", "actions", "rules_fired"]]], axis=1)
    buf = io.StringIO()
    want.to_csv(buf, index=False, lineterminator="\n")
    assert out.read_text(encoding="utf-8-sig") == buf.getvalue()  # byte for byte, ids and blanks included
    assert got.rows == 80 and sum(got.tier_counts.values()) == 80
    assert got.tier_counts == {k: int(v) for k, v in res.tier_counts().items()}
    assert (got.urgent, got.rescreen) == (int(t["urgent"].sum()), int(t["rescreen"].sum()))
    assert got.rescreen > 0  # the messy table has blanks that could change outcomes: the count is not a constant
    assert (tmp_path / "result.provenance.json").exists()
    assert "respondent_id" not in repr(got) and table["respondent_id"].iloc[0] not in repr(got)


def test_screen_file_without_ids_names_rows_only(tmp_path):
    p = _write_csv(_messy_table(30), tmp_path / "answers.csv")
    with pytest.warns(UserWarning, match="not supplied"):
        sc.screen_file(p, ["phq9", "gad7"], out=tmp_path / "r.csv", chunksize=12, id_column="student_id")
    head = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert head[0] == "row" and "respondent_id" not in head and "student_id" not in head


def test_screen_file_refuses_other_outputs(tmp_path):
    p = _write_csv(_messy_table(5), tmp_path / "answers.csv")
    with pytest.raises(InvalidParameterError, match="csv"):
        sc.screen_file(p, ["phq9"], out=tmp_path / "r.xlsx")


# ---------------------------------------------------------------- fast CSV path == strict text path

CELLS = ["", " ", "0", "1", "2", "3", "2.0", "1e0", "+1", " 2", "-3", "-2", "nan", "inf", "7", "1.5", "x", "从不",
         "(跳过)", "0012", "3 "]


def _both_paths(p: Path, monkeypatch: pytest.MonkeyPatch, **kw):
    def run():
        try:
            return read_responses(p, **kw)
        except ReadError as e:
            return [(i.code, i.column, i.rows, i.count) for i in e.issues]

    fast = run()
    with monkeypatch.context() as m:
        m.setattr(grid, "_arrow_cells", lambda *a, **k: None)  # force the strict text path
        m.setattr(grid, "_arrow_layout", lambda *a, **k: None)  # (the typed CSV path starts there too)
        strict = run()
    return fast, strict


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.sampled_from(CELLS), min_size=9, max_size=9), min_size=1, max_size=12),
       fmt=st.sampled_from([None, "value", "index"]), on_invalid=st.sampled_from(["raise", "missing"]))
def test_fast_csv_path_equals_the_strict_text_path(tmp_path, monkeypatch, cells, fmt, on_invalid):
    rows = [",".join(["id", *PHQ])] + [",".join([f"{k:019d}", *r]) for k, r in enumerate(cells)]
    p = tmp_path / "cells.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    fast, strict = _both_paths(p, monkeypatch, scales="phq9", id_column="id", response_format=fmt,
                               on_invalid=on_invalid)
    if isinstance(strict, list):
        assert fast == strict
    else:
        pd.testing.assert_frame_equal(fast, strict)


def test_fast_csv_path_hands_irregular_files_to_the_strict_path(tmp_path, monkeypatch):
    cases = {
        "title.csv": "PHQ-9 screening, spring\n" + _messy_table(5).to_csv(index=False),  # a title row above
        "quoted.csv": _messy_table(5).assign(**{"class": '"1,2"班'}).to_csv(index=False),  # quotes and commas
        "open_quote.csv": 'student_id,phq9_1\n1,"2\n',  # an unclosed quote: a library error either way
        "gbk.csv": None,
    }
    (tmp_path / "gbk.csv").write_bytes(_messy_table(5).to_csv(index=False).encode("gb18030"))
    for name, text in cases.items():
        p = tmp_path / name
        if text is not None:
            p.write_text(text, encoding="utf-8")
        fast, strict = _both_paths(p, monkeypatch, scales="phq9", start="phq9_1" if name == "open_quote.csv" else None,
                                   columns=None)
        if isinstance(strict, list):
            assert fast == strict, name
        else:
            pd.testing.assert_frame_equal(fast, strict)


def test_cli_screen_in_chunks_writes_the_same_file(tmp_path, capsys):
    from screening.cli import main

    p = _write_csv(_messy_table(45), tmp_path / "answers.csv")
    common = ["screen", str(p), "--scales", "phq9,gad7", "--no-quality", "-q"]
    with pytest.warns(UserWarning, match="not supplied"):
        assert main([*common, "-o", str(tmp_path / "whole.csv")]) == 0
    with pytest.warns(UserWarning, match="not supplied"):
        assert main([*common, "-o", str(tmp_path / "chunked.csv"), "--chunksize", "10"]) == 0
    assert (tmp_path / "chunked.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert main(["screen", str(p), "--scales", "phq9", "-o", str(tmp_path / "x.csv"), "--chunksize", "10"]) == 2
    assert "--no-quality" in capsys.readouterr().err


def test_screen_file_to_parquet_keeps_every_row_and_value(tmp_path):
    p = _write_csv(_messy_table(50), tmp_path / "answers.csv")
    with pytest.warns(UserWarning, match="not supplied"):
        got = sc.screen_file(p, ["phq9", "gad7"], out=tmp_path / "r.parquet", chunksize=6, id_column="student_id")
    table = read_responses(p, scales=["phq9", "gad7"], id_column="student_id")
    with pytest.warns(UserWarning, match="not supplied"):
        res = sc.screen(table, ["phq9", "gad7"])
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert got.rows == len(back) == 50 and back["row"].tolist() == list(range(50))
    for c in [*res.scores.columns, "tier", "urgent", "reasons", "actions"]:
        want = res.scores[c] if c in res.scores.columns else res.table[c]
        assert back[c].astype(object).where(back[c].notna(), None).tolist() == \
            want.astype(object).where(want.notna(), None).tolist(), c


@example(data=b"\xef\xbb\xbf\xef\xbb\xbfstudent_id,k6_1,k6_2,k6_3,k6_4,k6_5,k6_6", scales=())  # a BOM twice, no rows
@example(data=b"?\r\rstudent_id\tk6_1\tk6_2\tk6_3\tk6_4\tk6_5\tk6_6\n0\t0\t0\t0\t0\t0\t\xacO", scales=())
@example(data=b"?\rstudent_id\r\tk6_1\tk6_2\tk6_3\tk6_4\tk6_5\tk6_6\n0\t0\t0\t0\t0\t0\t\xacO", scales=())
# a yes/no column with a blank: a nullable boolean column, once turned into objects with <NA> (found by this test)
@example(data=b"student_id,k6_1,k6_2,k6_3,k6_4,k6_5,k6_6\n0,0,,0,0,0,0\n0,0,TRUE,0,0,0,0", scales=())
@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
@given(data=csv_bytes(["student_id", *sc.load_scale("k6").input_columns()]), scales=st.sampled_from(((), "k6")))
def test_fuzz_chunks_only_library_errors_and_whole_file_results(tmp_path, data, scales):
    from screening.errors import ScreeningError

    raw = data
    p = tmp_path / "fuzz.csv"
    p.write_bytes(raw)

    def outcome(call):
        try:
            return call(), None
        except ScreeningError as exc:
            return None, exc

    whole, err = outcome(lambda: read_responses(p, scales=scales))
    chunks, cerr = outcome(lambda: pd.concat(list(iter_responses(p, scales=scales, chunksize=2))))
    assert (err is None) == (cerr is None)
    if err is None:
        assert list(chunks.columns) == list(whole.columns)
        core = [c for c in whole.columns if c in M.META_COLUMNS or (scales and c.startswith("k6_"))]
        pd.testing.assert_frame_equal(chunks[core], whole[core])
        for c in whole.columns.difference(core):  # other columns: chunks keep the text, whole files may type it
            if pd.api.types.is_string_dtype(whole[c].dtype):
                assert chunks[c].tolist() == whole[c].tolist()
    else:
        assert cerr.issues and all(i.file in ("", str(p)) for i in cerr.issues)
