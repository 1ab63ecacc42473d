"""Unit tests of score(): keying, missing rules, formats, invalid input, contract columns."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import screening as sc
from screening import columns as C


@pytest.fixture(scope="module")
def fx(fixture_scale_path):
    return sc.load_scale(fixture_scale_path)


def _frame(scale: sc.Scale, rows: list[dict], **kw) -> pd.DataFrame:
    cols = scale.input_columns()
    return pd.DataFrame([[r.get(i) for i in scale.items] for r in rows], columns=cols, dtype="float64", **kw)


def test_phq9_published_examples_and_critical():
    # MII PRO IG example response: every item 'Nearly every day' (LA6571-9 = 3) → 27, severe.
    df = pd.DataFrame({f"phq9_{k}": [3, 0, 1] for k in range(1, 10)})
    df.loc[2, "phq9_9"] = 1  # one student: total 9 with a positive item 9
    out = sc.score(df, "phq9")
    assert out["phq9.total"].tolist() == [27.0, 0.0, 9.0]
    assert out["phq9.total.band"].astype(str).tolist() == ["severe", "minimal", "mild"]
    assert out["phq9.critical"].tolist() == [True, False, True]


def test_index_and_order_preserved_and_input_untouched(fx):
    df = _frame(fx, [dict.fromkeys(fx.items, 0), dict.fromkeys(fx.items, 1)])
    df.index = pd.Index(["s-b", "s-a"], name="key")
    before = df.copy(deep=True)
    out = sc.score(df, fx)
    assert out.index.equals(df.index)
    pd.testing.assert_frame_equal(df, before)


def test_reverse_keys(fx):
    # a2 is reverse keyed on 0..3: raw 0 scores 3
    row = dict.fromkeys(fx.items, 0)
    out = sc.score(_frame(fx, [row]), fx)
    assert out["fixture_full.a"].iloc[0] == 3
    # b3 is reverse keyed on 0..2: mean of 0, 0, 2, 0 = 0.5
    assert out["fixture_full.b"].iloc[0] == 0.5


def test_weighted_count_derived_and_transform(fx):
    row = {"a1": 3, "a2": 3, "a3": 2, "a4": 2, "a5": 0, "b1": 2, "b2": 0, "b3": 2, "b4": 0, "l1": 0, "l2": 0, "l3": 0}
    out = sc.score(_frame(fx, [row]), fx).iloc[0]
    assert out["fixture_full.w"] == 2 * 3 + 0.5 * 2
    assert out["fixture_full.high_count"] == 4  # raw values >= 2: a1, a2, a3, a4
    a = 3 + 0 + 2 + 2 + 0
    b = (2 + 0 + 0 + 0) / 4
    assert out["fixture_full.total"] == (a + b) * 2 + 1


def test_half_up_rounding_of_prorated_sum(fx):
    # answered a1..a4 keyed 1, 2(=3-1), 1, 1 → 5 × 5/4 = 6.25 → 6 ; and 1,3(=3-0),1,1 → 7.5 → 8 (half up, not banker's)
    rows = [
        {"a1": 1, "a2": 1, "a3": 1, "a4": 1},
        {"a1": 1, "a2": 0, "a3": 1, "a4": 1, "a5": None},
        {"a1": 2, "a2": 1, "a3": 1, "a4": 1},  # 2+2+1+1 = 6 → 7.5 → 8
        {"a1": 0, "a2": 3, "a3": 0, "a4": 2},  # 0+0+0+2 = 2 → 2.5 → 3
    ]
    out = sc.score(_frame(fx, rows), fx)
    assert out["fixture_full.a"].tolist() == [6.0, 8.0, 8.0, 3.0]
    assert out["fixture_full.status"].astype(str).tolist() == ["insufficient"] * 4  # other scores lack items


def test_blank_as_zero_only_where_declared(fx):
    row = {"b1": 2, "b2": None, "b3": None, "b4": None}
    out = sc.score(_frame(fx, [row]), fx).iloc[0]
    assert out["fixture_full.bz"] == 2  # blanks add nothing (PSC-17 style), never a keyed value
    assert np.isnan(out["fixture_full.b"])  # mean needs 2 answered


def test_insufficient_is_nan_not_zero():
    df = pd.DataFrame({f"phq9_{k}": [np.nan] for k in range(1, 10)})
    out = sc.score(df, "phq9").iloc[0]
    assert np.isnan(out["phq9.total"])
    assert out["phq9.status"] == "insufficient"
    assert pd.isna(out["phq9.total.band"])
    assert out["phq9.n_missing"] == 9


def test_validity_makes_status_invalid(fx):
    row = dict.fromkeys(fx.items, 0) | {"l1": 1, "l2": 1}
    out = sc.score(_frame(fx, [row]), fx).iloc[0]
    assert out["fixture_full.status"] == "invalid"
    assert out["fixture_full.validity.lie"] is True or out["fixture_full.validity.lie"] == True  # noqa: E712


def test_out_of_range_raises_with_column_rows_counts():
    df = pd.DataFrame({f"phq9_{k}": [0, 1, 2, 3, 0] for k in range(1, 10)}, dtype="float64")
    df.loc[[1, 3], "phq9_4"] = 4
    df.loc[4, "phq9_7"] = 1.5
    df.loc[0, "phq9_2"] = -1
    with pytest.raises(sc.ResponseError) as info:
        sc.score(df, "phq9")
    issues = {i.column: i for i in info.value.issues}
    assert set(issues) == {"phq9_2", "phq9_4", "phq9_7"}
    assert issues["phq9_4"].rows == (1, 3) and issues["phq9_4"].count == 2
    assert issues["phq9_7"].rows == (4,)
    assert "response_format='index'" in issues["phq9_4"].hint
    # values never appear in the message (only counts and positions)
    assert "1.5" not in str(info.value)


def test_on_invalid_missing_marks_rows():
    df = pd.DataFrame({f"phq9_{k}": [1, 1] for k in range(1, 10)})
    df.loc[1, "phq9_3"] = 7
    out = sc.score(df, "phq9", on_invalid="missing")
    assert out["phq9.n_invalid"].tolist() == [0, 1]
    assert out["phq9.total"].tolist() == [9.0, 9.0]  # prorated 8/8*9, never clipped to 3
    assert out["phq9.status"].astype(str).tolist() == ["complete", "prorated"]


def test_unparseable_text_is_reported_not_coerced():
    df = pd.DataFrame({f"phq9_{k}": ["1", "2"] for k in range(1, 10)}, dtype="object")
    df.loc[0, "phq9_5"] = "two"
    df.loc[1, "phq9_6"] = " "  # blank: unanswered, not an error
    with pytest.raises(sc.ResponseError) as info:
        sc.score(df, "phq9")
    (issue,) = info.value.issues
    assert issue.column == "phq9_5" and issue.rows == (0,)
    assert "two" not in str(info.value)


def test_index_format_maps_one_based_positions():
    df = pd.DataFrame({f"phq9_{k}": [1, 4, 2] for k in range(1, 10)})
    out = sc.score(df, "phq9", response_format="index")
    assert out["phq9.total"].tolist() == [0.0, 27.0, 9.0]
    bad = df.copy()
    bad.loc[0, "phq9_1"] = 0
    with pytest.raises(sc.ResponseError):
        sc.score(bad, "phq9", response_format="index")


def test_label_format_zh_en_alias_fullwidth():
    labels = ["完全不会", "Several days", "一半以上的天数", "Ｎｅａｒｌｙ ｅｖｅｒｙ ｄａｙ", " 好几天 ", "没有", "几乎每天",
              "several days", None]
    df = pd.DataFrame({f"phq9_{k}": [labels[k - 1]] for k in range(1, 10)})
    out = sc.score(df, "phq9", response_format="label").iloc[0]
    assert out["phq9.total"] == pytest.approx((0 + 1 + 2 + 3 + 1 + 0 + 3 + 1) * 9 / 8)
    df.loc[0, "phq9_2"] = "sometimes"
    with pytest.raises(sc.ResponseError) as info:
        sc.score(df, "phq9", response_format="label")
    assert info.value.issues[0].column == "phq9_2"
    assert "sometimes" not in str(info.value)


def test_label_alias_with_letter_prefix(fx):
    df = _frame(fx, [dict.fromkeys(fx.items, 0)]).astype(object)
    for c in df.columns:
        df[c] = "从不"
    df["fixture_full_a1"] = "A. 总是"
    for c in ["fixture_full_b1", "fixture_full_b2", "fixture_full_b3", "fixture_full_b4"]:
        df[c] = "不符合"
    for c in ["fixture_full_l1", "fixture_full_l2", "fixture_full_l3"]:
        df[c] = "否"
    out = sc.score(df, fx, response_format="label").iloc[0]
    assert out["fixture_full.a"] == 3 + 3  # a1 'always' = 3; a2 reverse of 0 = 3


def test_missing_and_duplicate_columns_reported_together():
    df = pd.DataFrame({f"phq9_{k}": [0] for k in range(1, 8)})
    df["phq9_1_dup"] = 0
    df.columns = [*df.columns[:-1], "phq9_1"]
    with pytest.raises(sc.ResponseError) as info:
        sc.score(df, "phq9")
    codes = sorted(i.code for i in info.value.issues)
    assert codes == ["duplicate_column", "missing_column", "missing_column"]


def test_columns_and_prefix_mapping():
    df = pd.DataFrame({f"Q{k}": [1] for k in range(1, 10)})
    assert sc.score(df, "phq9", prefix="Q")["phq9.total"].iloc[0] == 9
    df2 = pd.DataFrame({f"phq9_{k}": [1] for k in range(1, 9)} | {"suicide_item": [0]})
    assert sc.score(df2, "phq9", columns={"9": "suicide_item"})["phq9.total"].iloc[0] == 8
    with pytest.raises(ValueError, match="columns"):
        sc.score(df2, "phq9", columns={"10": "x"})


def test_band_set_choice():
    df = pd.DataFrame({f"phq9_{k}": [2, 1] for k in range(1, 10)})
    df.loc[:, "phq9_9"] = 0
    df.loc[0, "phq9_8"] = 0
    out = sc.score(df, "phq9", bands="tsai2014_cn_adolescent")
    assert out["phq9.total"].tolist() == [14.0, 8.0]
    assert out["phq9.total.band"].astype(str).tolist() == ["below_cutoff", "below_cutoff"]
    out = sc.score(df, "phq9", bands={"total": "richardson2010_adolescent"})
    assert out["phq9.total.band"].astype(str).tolist() == ["positive", "below_cutoff"]
    with pytest.raises(ValueError, match="bands"):
        sc.score(df, "phq9", bands="nonexistent")


def test_norms_linear_and_table(fx):
    rows = [dict.fromkeys(fx.items, 0) | {"a1": 3, "a3": 2} for _ in range(3)]  # a = 3 + 3 + 2 = 8
    df = _frame(fx, rows)
    df["sex"] = ["F", "M", None]
    with pytest.warns(UserWarning, match="1 scored row"):
        out = sc.score(df, fx, norms="by_sex")
    t = out["fixture_full.a.t"].tolist()
    assert t[0] == pytest.approx(50 + 10 * (8 - 5) / 2)
    assert t[1] == pytest.approx(50 + 10 * (8 - 4) / 4)
    assert np.isnan(t[2])
    assert out["fixture_full.a.pct"].isna().all()
    out = sc.score(df.drop(columns="sex"), fx, norms="table")
    assert out["fixture_full.a.t"].tolist() == [50.0] * 3 and out["fixture_full.a.pct"].tolist() == [50.0] * 3
    with pytest.raises(sc.ResponseError, match="sex"):
        sc.score(df.drop(columns="sex"), fx, norms="by_sex")
    df["gender"] = df.pop("sex").fillna("F")
    out = sc.score(df, fx, norms="by_sex", norm_columns={"sex": "gender"})
    assert out["fixture_full.a.t"].iloc[0] == pytest.approx(65.0)


def test_output_schema_matches_output(fx):
    df = _frame(fx, [dict.fromkeys(fx.items, 1)])
    out = sc.score(df, fx, keep_items=True)
    schema = sc.output_schema(fx, keep_items=True)
    assert list(schema) == list(out.columns)
    assert [str(d) for d in schema.values()] == [str(d) for d in out.dtypes]
    assert C.item_col("fixture_full", "a1") in out.columns


def test_contract_column_names():
    df = pd.DataFrame({f"phq9_{k}": [1] for k in range(1, 10)})
    out = sc.score(df, "phq9")
    assert list(out.columns) == [
        "phq9.total", "phq9.total.band", "phq9.status", "phq9.n_missing", "phq9.n_invalid",
        "phq9.critical", "phq9.critical.item9",
    ]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"response_format": "values"}, "response_format"), ({"on_invalid": "clip"}, "on_invalid"),
     ({"chunk_size": 0}, "chunk_size"), ({"n_jobs": 0}, "n_jobs")],
)
def test_bad_parameters_use_one_message_shape(kwargs, name):
    df = pd.DataFrame({f"phq9_{k}": [1] for k in range(1, 10)})
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of score must be .* Got .* instead\."):
        sc.score(df, "phq9", **kwargs)


def test_responses_must_be_a_dataframe():
    with pytest.raises(TypeError, match="The 'responses' parameter of score must be a pandas DataFrame"):
        sc.score([[1] * 9], "phq9")  # type: ignore[arg-type]


def test_nullable_int_and_bool_columns():
    df = pd.DataFrame({f"phq9_{k}": pd.array([1, None], dtype="Int64") for k in range(1, 10)})
    out = sc.score(df, "phq9")
    assert out["phq9.total"].iloc[0] == 9 and np.isnan(out["phq9.total"].iloc[1])


def test_empty_frame_and_single_row():
    empty = sc.empty_output("gad7")
    assert len(empty) == 0 and "gad7.total" in empty.columns
    one = sc.score(pd.DataFrame({f"gad7_{k}": [3] for k in range(1, 8)}), "gad7")
    assert one["gad7.total"].iloc[0] == 21


def test_several_scales_side_by_side():
    df = pd.DataFrame({f"phq9_{k}": [1] for k in range(1, 10)} | {f"gad7_{k}": [2] for k in range(1, 8)})
    out = sc.score(df, ["phq9", "gad7"])
    assert out[["phq9.total", "gad7.total"]].iloc[0].tolist() == [9.0, 14.0]


def test_quality_flags_make_status_invalid_and_are_copied():
    df = pd.DataFrame({f"phq9_{k}": [1, 1, 1] for k in range(1, 10)}, index=[7, 8, 9])
    quality = pd.DataFrame(
        {"quality.too_fast": [False, True, False], "phq9.quality.longstring": [False, False, True],
         "gad7.quality.longstring": [True, False, False]},
        index=df.index,
    )
    out = sc.score(df, "phq9", quality=quality)
    assert out["phq9.status"].astype(str).tolist() == ["complete", "invalid", "invalid"]
    assert out["phq9.quality.too_fast"].tolist() == [False, True, False]
    assert "phq9.quality.gad7.longstring" not in out.columns and "gad7.quality.longstring" not in out.columns
    assert out["phq9.total"].tolist() == [9.0, 9.0, 9.0]  # still scored
    with pytest.raises(ValueError, match="same index"):
        sc.score(df, "phq9", quality=quality.iloc[::-1])


def test_sum_if_and_ratio_scores(fx):
    # raw a-values >= 2 are a1=3 and a3=2 → sum 5 over 2 items → mean 2.5; nothing >= 2 → ratio undefined
    rows = [dict.fromkeys(fx.items, 0) | {"a1": 3, "a3": 2, "a2": 3}, dict.fromkeys(fx.items, 0) | {"a2": 3}]
    out = sc.score(_frame(fx, rows), fx)
    assert out["fixture_full.high_count"].tolist() == [3.0, 1.0]  # a2 raw 3 counts too (raw, not keyed)
    assert out["fixture_full.high_sum"].tolist() == [8.0, 3.0]
    assert out["fixture_full.high_mean"].tolist() == pytest.approx([8 / 3, 3.0])
    rows = [dict.fromkeys(fx.items, 0)]
    out = sc.score(_frame(fx, rows), fx).iloc[0]
    assert out["fixture_full.high_count"] == 0 and np.isnan(out["fixture_full.high_mean"])
    assert out["fixture_full.status"] == "complete"  # an undefined ratio is not missing data


def test_scl90_psdi_matches_its_formula():
    # PSDI = (total - number of negative items) / number of positive items, on the 1-5 coding
    rng = np.random.default_rng(7)
    vals = rng.integers(1, 6, size=(50, 90)).astype(float)
    df = pd.DataFrame(vals, columns=[f"scl90_{k}" for k in range(1, 91)])
    out = sc.score(df, "scl90")
    positive = (vals >= 2).sum(axis=1)
    negative = 90 - positive
    expected = (vals.sum(axis=1) - negative) / positive
    np.testing.assert_allclose(out["scl90.psdi"].to_numpy(), expected)


@pytest.mark.parametrize("rows", [0, 1, 3])
@pytest.mark.parametrize("sid", sc.list_scales())
def test_a_few_rows_give_the_frame_the_public_constructor_gives(monkeypatch, sid, rows):
    """Frames of a few rows are built with pandas' DataFrame._from_arrays (one student: ~8 µs a column
    less); with bounds, item values, norms and quality flags, the frame equals pd.DataFrame(dict): same
    columns, dtypes, index and values."""
    from screening.scoring import frame as frame_mod

    scale = sc.load_scale(sid)
    rng = np.random.default_rng(rows)
    cs = scale.compiled
    data = {c: rng.choice(cs.allowed[k], size=rows).astype(float) for k, c in enumerate(scale.input_columns())}
    df = pd.DataFrame(data, index=pd.Index([f"s{i}" for i in range(rows)], dtype=object))
    if rows:
        df.iloc[0, 0] = np.nan
    for col in ("grade", "sex", "age"):
        df[col] = pd.Series(["7", "male", "13"][:1] * rows, index=df.index, dtype=object)
    quality = pd.DataFrame({"quality.straightlining": np.arange(rows) == 1}, index=df.index)
    kw = dict(bounds=True, keep_items=True, quality=quality)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows that match no norm group (T-scores NaN) warn; not the point here
        fast = sc.score(df, [scale], **kw)
        one = sc.score(df, scale, **kw)
        monkeypatch.setattr(frame_mod, "SMALL_FRAME", -1)  # the public constructor
        slow = sc.score(df, [scale], **kw)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    pd.testing.assert_frame_equal(one, slow, check_exact=True)
    assert list(fast.dtypes) == list(slow.dtypes) and fast.columns.dtype == slow.columns.dtype
    assert fast.index.equals(df.index)
