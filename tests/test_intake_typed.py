"""The typed way in (issue 13): a plain CSV or Parquet file whose items are named is planned on its header and
read once with the item columns as numbers (Arrow), checked column-wise without a copy.

It must give exactly what the text path gives — the same table cell for cell (blanks NaN, never 0; ids exact
text), and on files with bad cells the same errors with the same columns, rows and counts. Each test checks
that the typed path was really taken (or really refused), so a silent fallback cannot make it pass.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from screening.intake import ReadError, _fast, grid, read_responses
from screening.intake import read as R

PHQ = [f"phq9_{k}" for k in range(1, 10)]
GAD = [f"gad7_{k}" for k in range(1, 8)]


def _run(p: Path, **kw):
    try:
        return read_responses(p, **kw)
    except ReadError as e:
        return [(i.code, i.column, i.rows, i.count) for i in e.issues]


def _three_ways(p: Path, monkeypatch: pytest.MonkeyPatch, **kw):
    """(typed path taken?, typed result, Arrow text path, strict text path) of one read."""
    taken = []
    orig = R._typed

    def spy(*a, **k):
        out = orig(*a, **k)
        taken.append(out is not None)
        return out

    with monkeypatch.context() as m:
        m.setattr(R, "_typed", spy)
        typed = _run(p, **kw)
    with monkeypatch.context() as m:
        m.setattr(R, "_typed", lambda *a, **k: None)
        text = _run(p, **kw)
        m.setattr(grid, "_arrow_cells", lambda *a, **k: None)
        strict = _run(p, **kw)
    return taken == [True], typed, text, strict


def _same(a, b):
    if isinstance(a, list) or isinstance(b, list):
        assert a == b
    else:
        pd.testing.assert_frame_equal(a, b)


# cells of plain numbers (the typed path reads them), and some it must refuse or report
NUMBERS = ["", "0", "1", "2", "3", "2.0", "1e0", "+1", " 2", "3 ", "-0", "-3", "7", "1.5", "inf", "300"]
REFUSED = ["nan", " ", "x", "(跳过)"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.sampled_from(NUMBERS), min_size=9, max_size=9), min_size=1, max_size=10),
       fmt=st.sampled_from([None, "value", "index"]), on_invalid=st.sampled_from(["raise", "missing"]),
       title=st.booleans(), trailing=st.sampled_from(["", ",,,,,,,,,,\n", "\n"]))
@example(cells=[["0"] * 9, [""] * 9], fmt=None, on_invalid="raise", title=False, trailing="")
@example(cells=[["1", "2", "3", "0", "1", "2", "3", "0", ""]], fmt="index", on_invalid="raise", title=True,
         trailing=",,,,,,,,,,\n")
def test_typed_csv_equals_the_text_paths(tmp_path, monkeypatch, cells, fmt, on_invalid, title, trailing):
    head = ("PHQ-9 筛查,,,,,,,,,,\n" if title else "") + ",".join(["id", "class", *PHQ]) + "\n"
    body = "".join(",".join([f"{k:019d}", f"{k % 3}班", *r]) + "\n" for k, r in enumerate(cells))
    p = tmp_path / "numbers.csv"
    p.write_text(head + body + trailing, encoding="utf-8")
    taken, typed, text, strict = _three_ways(p, monkeypatch, scales="phq9", id_column="id", response_format=fmt,
                                             on_invalid=on_invalid)
    _same(typed, text)
    _same(typed, strict)
    if trailing != "\n" and not any(c != c.strip() for r in cells for c in r):
        assert taken  # every cell is a plain number or blank: Arrow parses the file as it stands


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.sampled_from(NUMBERS + REFUSED), min_size=9, max_size=9), min_size=1,
                      max_size=8))
def test_typed_csv_refuses_text_cells_and_the_text_path_reports_them(tmp_path, monkeypatch, cells):
    p = tmp_path / "mixed.csv"
    p.write_text(",".join(["id", *PHQ]) + "\n" + "".join(",".join([str(k), *r]) + "\n" for k, r in enumerate(cells)),
                 encoding="utf-8")
    taken, typed, text, strict = _three_ways(p, monkeypatch, scales="phq9", id_column="id")
    _same(typed, text)
    _same(typed, strict)
    if any(c in REFUSED for r in cells for c in r):
        assert not taken  # "nan" is a bad answer to the text path, spaces a blank: Arrow's parser cannot say so


def test_typed_csv_keeps_ids_exact_and_blanks_blank(tmp_path, monkeypatch):
    ids = ["4401061234567890123", "0012", "", "9999999999999999999", "4.40106E+18"]
    rows = [",".join([i, *(["1"] * 8), "" if k == 2 else "3"]) for k, i in enumerate(ids)]
    p = tmp_path / "ids.csv"
    p.write_text("\ufeff" + ",".join(["student_id", *PHQ]) + "\n" + "\n".join(rows[:4]) + "\n", encoding="utf-8")
    taken, typed, text, strict = _three_ways(p, monkeypatch, scales="phq9")
    assert taken
    _same(typed, strict)
    assert typed["respondent_id"].tolist()[:2] == ids[:2] and pd.isna(typed["respondent_id"][2])
    assert typed["respondent_id"][3] == ids[3]
    assert np.isnan(typed["phq9_9"][2]) and typed["phq9_9"][0] == 3.0  # the skipped crisis item stays unknown
    # an id Excel already rounded to scientific notation is still an error on the typed path
    p.write_text(",".join(["student_id", *PHQ]) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    taken, typed, text, strict = _three_ways(p, monkeypatch, scales="phq9")
    assert taken
    _same(typed, strict)
    assert [i[0] for i in typed] == ["id_precision_lost"] and typed[0][2] == (4,)


def test_typed_csv_reports_bad_numbers_by_column_and_row(tmp_path, monkeypatch):
    n = 300
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"student_id": [f"{k:018d}" for k in range(n)],
                       **{c: rng.integers(0, 4, n).astype(float) for c in PHQ + GAD}})
    df.loc[5, "phq9_3"] = 4  # beyond the options
    df.loc[[7, 250], "gad7_2"] = 1.5  # not a whole number
    df.loc[9, "phq9_9"] = np.nan
    p = tmp_path / "bad.csv"
    df.to_csv(p, index=False)
    taken, typed, text, strict = _three_ways(p, monkeypatch, scales=["phq9", "gad7"])
    assert taken
    _same(typed, strict)
    assert sorted(typed) == [("invalid_value", "gad7_2", (7, 250), 2), ("invalid_value", "phq9_3", (5,), 1)]
    taken, typed, _, strict = _three_ways(p, monkeypatch, scales=["phq9", "gad7"], on_invalid="missing")
    assert taken
    _same(typed, strict)
    assert typed["phq9.n_unreadable"].sum() == 1 and typed["gad7.n_unreadable"].sum() == 2


def test_typed_csv_header_rows_quotes_and_platforms(tmp_path, monkeypatch):
    items = ",".join(PHQ)
    body = "".join(f"{k}," + ",".join(str((k + j) % 4) for j in range(9)) + "\n" for k in range(30))
    commas = "," * 9
    cases = {  # name: (text, typed path expected)
        "title.csv": (f"学生心理筛查\n\nstudent_id,{items}\n" + body, False),  # a blank line: strict path
        "title2.csv": (f"学生心理筛查{commas}\nstudent_id,{items}\n" + body, True),
        "quoted_header.csv": (f'student_id,"phq9_1",{items[7:]}\n' + body, True),
        # a line break inside a quoted first cell: the first line is not a row, the strict path sizes the table
        "multiline_title.csv": (f'"筛查\n2024"{commas}\nstudent_id,{items}\n' + body, False),
        "multiline_class.csv": (f'student_id,{items},class\n' + body.replace("\n", ',"1\n班"\n'), True),
        "empty_header.csv": (f"student_id,{items},\n" + body.replace("\n", ",\n"), False),
        "wjx.csv": (f"序号,提交答卷时间,所用时间,{items}\n"
                    + "".join(f"{k},2024/3/1 10:00:00,100秒," + ",".join("1" * 9) + "\n" for k in range(30)), False),
    }
    for name, (text, expect) in cases.items():
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        taken, typed, text_, strict = _three_ways(p, monkeypatch, scales="phq9", response_format="value")
        assert not isinstance(typed, list), name
        _same(typed, strict)
        _same(typed, text_)
        assert taken == expect, name


def test_typed_csv_is_not_used_when_items_are_found_by_their_answers(tmp_path, monkeypatch):
    p = tmp_path / "questions.csv"
    p.write_text("学号,1、做事时提不起劲或没有兴趣,2、感到心情低落\n" + "".join(f"{k},1,2\n" for k in range(5)),
                 encoding="utf-8")
    taken, typed, _, strict = _three_ways(p, monkeypatch, scales="phq9", start=1, response_format="auto")
    _same(typed, strict)
    assert not taken  # response_format="auto" counts the cells: the plan is not the header's alone


def _parquet(path: Path, columns: dict) -> Path:
    pq.write_table(pa.table(columns), path, row_group_size=4)
    return path


ANSWER = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3.0, -0.0]), st.none(),
                   st.sampled_from([np.nan, 4.0, -3.0, 1.5, np.inf, 127.0, 1e10]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cols=st.lists(st.lists(ANSWER, min_size=9, max_size=9), min_size=1, max_size=11),
       ints=st.booleans(), fmt=st.sampled_from([None, "value", "index"]),
       on_invalid=st.sampled_from(["raise", "missing"]), compiled=st.booleans())
def test_typed_parquet_equals_the_pandas_path(tmp_path, monkeypatch, cols, ints, fmt, on_invalid, compiled):
    """Also with the compiled copy-and-check pass (screening.intake._fast) on these few rows."""
    monkeypatch.setattr(_fast, "MIN_ROWS", 1 if compiled else 10**9)
    rows = list(zip(*cols, strict=True))  # 9 columns of len(cols) rows
    columns = {"student_id": pa.array([f"{k:019d}" for k in range(len(cols))])}
    for c, values in zip(PHQ, rows, strict=True):
        if ints and all(v is None or (np.isfinite(v) and v == int(v) and abs(v) < 2**31) for v in values):
            columns[c] = pa.array([None if v is None else int(v) for v in values], type=pa.int32())
        else:
            columns[c] = pa.array(values, type=pa.float64())
    p = _parquet(tmp_path / "answers.parquet", columns)
    taken, typed, text, _ = _three_ways(p, monkeypatch, scales="phq9", response_format=fmt, on_invalid=on_invalid)
    assert taken
    _same(typed, text)


def test_typed_parquet_keeps_other_columns_as_pandas_reads_them(tmp_path, monkeypatch):
    n = 12
    df = pd.DataFrame({"student_id": [f"{k:019d}" for k in range(n)], "score": np.arange(n) / 2,
                       "class": [f"{k % 2}班" for k in range(n)],
                       "submitted_at": pd.date_range("2024-03-01", periods=n, freq="h"),
                       **{c: (np.arange(n) + j) % 4 for j, c in enumerate(PHQ)}},
                      index=pd.Index(np.arange(100, 100 + n), name="row"))
    df.loc[df.index[3], "phq9_9"] = np.nan
    p = tmp_path / "frame.parquet"
    df.to_parquet(p)
    taken, typed, text, _ = _three_ways(p, monkeypatch, scales="phq9")
    assert taken
    _same(typed, text)
    assert typed["score"].dtype == np.float64 and typed["phq9_1"].dtype == np.float64
    assert np.isnan(typed["phq9_9"][3]) and typed["submitted_at"].notna().all()


def test_yes_no_column_with_blanks_is_a_nullable_boolean(tmp_path):
    # a passthrough yes/no column (TRUE/FALSE with a blank) keeps pandas' nullable type, never objects holding <NA>
    p = tmp_path / "flags.csv"
    p.write_text("student_id,left_behind," + ",".join(PHQ) + "\n"
                 + "1,TRUE," + ",".join("1" * 9) + "\n2,," + ",".join("0" * 9) + "\n3,false," + ",".join("2" * 9)
                 + "\n", encoding="utf-8")
    table = read_responses(p, scales="phq9")
    assert str(table["left_behind"].dtype) == "boolean"
    assert table["left_behind"].isna().tolist() == [False, True, False]
    assert table["left_behind"].dropna().tolist() == [True, False]


ID_CELLS = st.one_of(st.none(), st.text(alphabet="0123456789 eE+-.x١２\t", max_size=6),
                     st.text(alphabet="0123456789", min_size=1, max_size=20))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(ID_CELLS, max_size=12), large=st.booleans(), cut=st.integers(0, 3))
def test_id_shortcut_equals_the_full_id_check(monkeypatch, cells, large, cut):
    from screening.intake import fields as F

    arr = pa.array(["pad"] * cut + cells, type=pa.large_string() if large else pa.string()).slice(cut)
    digits = F._all_digits(arr)
    if cells:  # what pyarrow says of each cell: a non-empty run of ASCII digits, and no null
        assert digits == bool(arr.null_count == 0 and pc.all(pc.ascii_is_decimal(arr)).as_py())
    s = pd.Series(pd.array(arr, dtype=str))
    fast = F.id_text(s, file="f.csv", column="id")
    with monkeypatch.context() as m:
        m.setattr(F, "_all_digits", lambda a: False)
        full = F.id_text(s, file="f.csv", column="id")
    pd.testing.assert_series_equal(fast[0], full[0])
    assert [(i.code, i.rows, i.count) for i in fast[1]] == [(i.code, i.rows, i.count) for i in full[1]]


CELL = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3.0, -0.0, np.nan, 4.0, -1.0, 0.5, 2.9999999, np.inf, -np.inf, 1e300]),
                 st.none())


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(CELL, min_size=1, max_size=40), cut=st.integers(0, 10), kind=st.sampled_from(["f8", "f4", "i1", "i4", "i8", "u2"]))
def test_compiled_copy_check_equals_the_numpy_pass(cells, cut, kind):
    """The compiled pass writes the same bits as Arrow's cast + fill_null and says "all options 0..3" exactly
    when the numpy check does, on sliced chunks (a non-zero offset into the buffers) with and without nulls."""
    import pyarrow.compute as pc

    from screening.intake.options import _whole_in_range

    kernel = _fast._get()
    assert kernel is not None  # numba is in the test extra: the compiled pass must be what is tested here
    if kind.startswith(("i", "u")):
        ok_int = [v is None or (np.isfinite(v) and v == int(v) and np.iinfo(kind).min <= v <= np.iinfo(kind).max)
                  for v in cells]
        cells = [v if good else None for v, good in zip(cells, ok_int, strict=True)]
        cells = [None if v is None or np.isnan(v) else int(v) for v in cells]
    arr = pa.array(cells, type=pa.from_numpy_dtype(np.dtype(kind)), from_pandas=False).slice(min(cut, len(cells)))
    out = np.full(len(arr), 7.0)
    got = _fast.copy_checked(kernel, arr, out, 0.0, 3.0)
    want = pc.fill_null(pc.cast(arr, pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    assert got is not None
    assert np.array_equal(out.view(np.int64), np.asarray(want, dtype=np.float64).view(np.int64))  # bit for bit: -0.0, NaN
    assert got == _whole_in_range(want.copy(), 0.0, 3.0)
