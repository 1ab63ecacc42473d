"""The compiled plan on its own (pandas only): pure, picklable, declared output, restore, three-step summaries."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scaleout_cases import BY, SCALES, assert_same, reference, sample_with_blanks, synthetic

import screening as sc
from screening.scaleout import DATA_TEXT_COLUMNS, ScreeningPlan, engine_of, spark_name


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return sample_with_blanks()


@pytest.fixture(scope="module")
def sample_ref(sample):
    return reference(sample)


@pytest.fixture(scope="module")
def plan(sample) -> ScreeningPlan:
    return ScreeningPlan(SCALES, input_meta=sample.iloc[:0], key="row")


def _splits(df: pd.DataFrame) -> list[pd.DataFrame]:
    cuts = [0, 0, 1, 300, 300, 1000, len(df)]
    return [df.iloc[a:b] for a, b in itertools.pairwise(cuts)]


def test_partitions_glue_back_to_the_single_machine_result(plan, sample, sample_ref):
    parts = [plan(p) for p in _splits(sample)]
    meta = plan.meta()
    for p in parts:  # the same dtypes in every partition, empty ones included: they concatenate without object fallback
        assert list(p.columns) == list(meta.columns)
        assert (p.dtypes == meta.dtypes).all()
    glued = pd.concat(parts)
    assert (glued.dtypes == meta.dtypes).all()
    assert_same(sample_ref, plan.to_result(glued))
    assert glued["row"].tolist() == sample["row"].tolist()  # rows and order kept, key passed through


def test_raw_screen_partitions_do_not_glue(sample):
    """Why the plan exists: screen()'s reasons are categoricals whose categories depend on the partition."""
    a, b = (sc.screen(p, SCALES).table["rules_fired"] for p in (sample.iloc[:600], sample.iloc[600:]))
    assert list(a.cat.categories) != list(b.cat.categories)
    assert not isinstance(pd.concat([a, b]).dtype, pd.CategoricalDtype)  # the categorical is lost on concatenation


def test_plan_pickles_small_without_data(plan, sample):
    plan(sample)  # used once: nothing of the data may stay on it
    blob = pickle.dumps(plan)
    assert len(blob) < 100_000
    for value in (str(sample["row"].iloc[-1]), "第一中学"):
        assert value.encode() not in blob
    again = pickle.loads(blob)
    pd.testing.assert_frame_equal(again(sample.iloc[:50]), plan(sample.iloc[:50]))


def test_declared_schemas(plan):
    ddl = plan.spark_ddl()
    assert "`phq9.total` double" in ddl and "`phq9.n_missing` smallint" in ddl
    assert "`phq9.critical.item9` boolean" in ddl and "`tier` string" in ddl and "`row` bigint" in ddl
    schema = plan.arrow_schema()
    assert schema.names == plan.columns
    assert pa.types.is_dictionary(schema.field("tier").type) and schema.field("reasons").type in (pa.string(), pa.large_string())
    safe = ScreeningPlan(SCALES, input_meta=sample_with_blanks().iloc[:0], names="spark")
    assert not any("." in f.name for f in safe.arrow_schema())
    assert safe.spark_names()["phq9.critical.item9"] == spark_name("phq9.critical.item9") == "phq9__critical__item9"
    assert "`phq9__total` double" in safe.spark_ddl()


def test_restore_after_a_spark_like_round_trip(plan, sample, sample_ref):
    """What Spark hands back: plain strings for bands/tiers, objects for nullable booleans, int32 for int16, safe names."""
    out = plan(sample)
    back = {}
    for c in out.columns:
        s = out[c]
        if isinstance(s.dtype, (pd.CategoricalDtype, pd.StringDtype, pd.BooleanDtype)):
            s = s.astype(object).where(s.notna(), None)
        elif s.dtype == np.int16:
            s = s.astype(np.int32)
        back[spark_name(c)] = s
    spark_like = pd.DataFrame(back)
    assert spark_like["phq9__critical__item9"].dtype == object and spark_like["phq9__n_missing"].dtype == np.int32
    assert_same(sample_ref, plan.to_result(spark_like))


def test_restore_rejects_values_outside_the_spec(plan, sample):
    out = plan(sample.iloc[:20])
    out["tier"] = out["tier"].astype(object)
    out.loc[out.index[3], "tier"] = "purple"
    with pytest.raises(sc.ResponseError) as info:
        plan.restore(out)
    assert info.value.issues[0].column == "tier" and "purple" not in str(info.value)
    out = plan(sample.iloc[:20])
    out["urgent"] = out["urgent"].astype(object)
    out.loc[out.index[0], "urgent"] = None
    with pytest.raises(sc.ResponseError, match="urgent"):
        plan.restore(out)


def test_three_step_summary_in_pandas(plan, sample, sample_ref):
    counts = pd.concat([plan.count(p, BY) for p in _splits(sample)], ignore_index=True)
    assert list(counts.columns[:6]) == plan.count_keys(BY)
    assert counts["n"].sum() == len(sample)
    assert counts.loc[counts["u2"] == 1, "n"].sum() == 25  # the blank classes: an explicit unknown level
    assert counts["n"].dtype == np.int64 and (counts.dtypes[6:] == np.int64).all()
    for by in (BY, "class", [], ["grade"]):
        c = pd.concat([plan.count(p, by) for p in _splits(sample)], ignore_index=True)
        pd.testing.assert_frame_equal(sample_ref.summary(by=by), plan.finish(c, by), check_exact=True)
    # options are those of summary(), applied once on the driver
    c = pd.concat([plan.count(p, "school") for p in _splits(sample)], ignore_index=True)
    pd.testing.assert_frame_equal(sample_ref.summary(by="school", min_cell=5, correction="bh"),
                                  plan.finish(c, "school", min_cell=5, correction="bh"), check_exact=True)


def test_counts_from_the_screened_output_equal_fused_counts(plan, sample):
    out = plan(sample)
    pd.testing.assert_frame_equal(plan.count(out, BY, screened=True), plan.count(sample, BY))


def test_blank_and_empty_keys_are_different_groups():
    df = synthetic()
    ref = reference(df)
    plan = ScreeningPlan(SCALES, input_meta=df.iloc[:0])
    c = pd.concat([plan.count(p, "school") for p in (df.iloc[:100], df.iloc[100:101], df.iloc[101:101], df.iloc[101:])], ignore_index=True)
    summ = plan.finish(c, "school", min_cell=1)
    pd.testing.assert_frame_equal(ref.summary(by="school", min_cell=1), summ, check_exact=True)
    schools = summ[summ["level"] == "school"]
    assert schools["n"].sum() == len(df) and schools["school"].isna().sum() == 1 and (schools["school"] == "").sum() == 1


def test_partition_errors_name_the_row_key_never_cells(sample):
    bad = sample.copy()
    bad["row"] = [f"k1-{i:06d}" for i in range(len(bad))]
    bad.loc[[5, 6], "phq9_2"] = 4  # not an option of PHQ-9
    plan = ScreeningPlan(SCALES, input_meta=bad.iloc[:0], key="row")
    with pytest.raises(sc.ResponseError) as info:
        plan(bad.iloc[4:10])
    text = str(info.value)
    assert "k1-000005" in text and "k1-000006" in text and "phq9_2" in text
    assert "row positions" not in text and "4.0" not in text
    unkeyed = ScreeningPlan(SCALES, input_meta=bad.iloc[:0])
    with pytest.raises(sc.ResponseError, match="pass key="):
        unkeyed(bad.iloc[4:10])


def test_plan_checks_its_arguments_on_the_driver(sample):
    with pytest.raises(sc.ResponseError, match="no_such"):
        ScreeningPlan(SCALES, input_meta=sample.iloc[:0], key="no_such")
    with pytest.raises(sc.ResponseError):
        ScreeningPlan(SCALES, input_meta=sample.iloc[:0].drop(columns=["phq9_3"]))
    with pytest.raises(sc.scaleout.plan.InvalidParameterError, match="names"):
        ScreeningPlan(SCALES, input_meta=sample.iloc[:0], names="sql")
    with pytest.raises(sc.scaleout.plan.InvalidParameterError, match="flags"):
        ScreeningPlan(SCALES, input_meta=sample.iloc[:0], flags=sample.iloc[:0])


def test_score_mode_and_empty_output_take_a_list(sample):
    plan = ScreeningPlan(SCALES, input_meta=sample.iloc[:0], mode="score")
    out = pd.concat([plan(p) for p in _splits(sample)])
    pd.testing.assert_frame_equal(plan.restore(out), sc.score(sample, SCALES), check_exact=True)
    pd.testing.assert_frame_equal(sc.empty_output(SCALES), sc.score(sample.iloc[:0], SCALES))
    assert sc.output_schema(SCALES) == dict(sc.score(sample, SCALES).dtypes.items())
    assert set(DATA_TEXT_COLUMNS) <= set(sc.screen(sample.iloc[:5], SCALES).table.columns)


def test_pandas_input_is_not_an_engine(sample):
    assert engine_of(sample) is None
    assert isinstance(sc.screen(sample.iloc[:5], SCALES), sc.ScreeningResult)


def test_integer_group_column_with_blanks_from_an_engine(sample, sample_ref):
    """Spark declares a nullable bigint; its batches bring float with NaN where the grade is blank."""
    plan = ScreeningPlan(SCALES, input_meta=sample.iloc[:0], key="row")  # grade: int64
    batch = sample.astype({"grade": "float64"})
    batch.loc[[1, 2], "grade"] = np.nan
    out = plan(batch)
    assert out["grade"].dtype == "Int64" and out["grade"].isna().sum() == 2
    assert plan.restore(plan(sample))["grade"].dtype == np.int64  # no blanks: the exact input dtype
    c = plan.count(batch, "grade")
    summ = plan.finish(c, "grade", min_cell=1)
    grades = summ[summ["level"] == "grade"]
    assert grades["n"].sum() == len(sample) and grades.loc[grades["grade"].isna(), "n"].tolist() == [2]
