"""Spark: sc.screen on a Spark DataFrame gives a Spark DataFrame with the single-machine answers."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import SparkSession
from scaleout_cases import BY, SCALES, assert_same, assert_same_summary, reference, sample_with_blanks

import screening as sc
from screening.scaleout import DistributedScreening, screen_distributed

# PySpark 4 warns on every pandas conversion that it does not yet fully support pandas 3; what these tests
# check is that the conversions the library uses give exactly the single-machine result
# (and its pandas conversions still pass pandas 3's deprecated copy= keyword)
pytestmark = [pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning")]


@pytest.fixture(scope="session")
def spark():
    # Spark's Python workers run `python3` from PATH unless told otherwise: without an activated venv that is
    # an interpreter without pandas. Run them on this interpreter (a user's own setting wins).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("screening-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return sample_with_blanks()


@pytest.fixture(scope="module")
def sample_ref(sample):
    return reference(sample)


def _collect(res: DistributedScreening, key: str = "row") -> sc.ScreeningResult:
    """The whole output on the driver in the input's row order (Spark has no index)."""
    pdf = res.frame.toPandas()
    name = key if key in pdf.columns else sc.scaleout.spark_name(key)
    pdf = pdf.sort_values(name, kind="stable").reset_index(drop=True)
    return res.plan.to_result(pdf)


def test_spark_screen_equals_pandas(spark, sample, sample_ref):
    sdf = spark.createDataFrame(sample)
    res = sc.screen(sdf, SCALES)  # the public entry point delegates on a Spark DataFrame
    assert isinstance(res, DistributedScreening) and res.engine == "spark"
    assert type(res.frame).__module__.startswith("pyspark")
    # the plain hook keeps no row key; the same plan with key= lets the test put the rows back in order
    keyed = screen_distributed(sdf, SCALES, key="row")
    assert_same(sample_ref, _collect(keyed))
    assert_same_summary(sample_ref, lambda by: res.summary(by=by), bys=[BY])


def test_spark_safe_names_arrow_and_empty_partitions(spark, sample):
    """mapInArrow with Spark-safe names, four partitions of which at least two are empty."""
    from pyspark.sql import functions as F

    sub = sample[sample["row"] < 300].reset_index(drop=True)
    ref = reference(sub)
    sdf = spark.createDataFrame(sub).repartition(4, F.when(F.col("row") < 40, 0).otherwise(1))
    sizes = sdf.rdd.glom().map(len).collect()
    assert sum(sizes) == 300 and len(sizes) == 4 and sizes.count(0) >= 2
    res = screen_distributed(sdf, SCALES, key="row", names="spark", arrow=True)
    assert not any("." in c for c in res.frame.columns)
    assert res.plan.spark_names()["phq9.total.band"] == "phq9__total__band"
    # a Spark-safe result can be fed to a second pandas-UDF stage (dotted names cannot)
    chained = res.frame.select("row", "phq9__total").mapInPandas(lambda it: (b.assign(x=b["phq9__total"] * 2) for b in it),
                                                                 "row bigint, phq9__total double, x double")
    assert chained.count() == 300
    assert_same(ref, _collect(res))
    assert_same_summary(ref, lambda by: res.summary(by=by), bys=[BY])


def test_spark_score_and_restore(spark, sample):
    sdf = spark.createDataFrame(sample)
    out = sc.score(sdf, SCALES)
    assert type(out).__module__.startswith("pyspark") and "phq9.total" in out.columns
    keyed = sc.scaleout.score_distributed(sdf, SCALES, key="row")
    pdf = keyed.toPandas().sort_values("row").reset_index(drop=True)
    # what Spark hands back: ordered bands as plain strings, nullable booleans as objects
    assert not isinstance(pdf["phq9.total.band"].dtype, pd.CategoricalDtype)
    plan = sc.scaleout.ScreeningPlan(SCALES, input_meta=sc.scaleout.input_meta(sdf), mode="score", key="row")
    got = plan.restore(pdf)[plan.segments()["scores"]]
    pd.testing.assert_frame_equal(sc.score(sample, SCALES), got, check_exact=True)


def test_spark_iter_partitions_streams(spark, sample, sample_ref):
    res = screen_distributed(spark.createDataFrame(sample).repartition(2), SCALES, key="row")
    chunks = list(res.iter_partitions(with_keys=True, batch_rows=400))
    assert [len(r) for r, _ in chunks] == [400, 400, 400, 7]
    keys = np.concatenate([k.to_numpy() for _, k in chunks])
    order = np.argsort(keys, kind="stable")
    assert np.array_equal(keys[order], sample["row"].to_numpy())
    tiers = pd.concat([r.table["tier"] for r, _ in chunks], ignore_index=True).iloc[order].reset_index(drop=True)
    pd.testing.assert_series_equal(tiers, sample_ref.table["tier"].reset_index(drop=True))


def test_spark_error_names_row_key_not_cells(spark, sample):
    bad = sample.copy()
    bad["row"] = [f"r{i:05d}" for i in range(len(bad))]
    bad.loc[[700], "gad7_2"] = 9.0  # not an option of GAD-7 (0–3)
    res = screen_distributed(spark.createDataFrame(bad), SCALES, key="row")
    with pytest.raises(Exception, match="r00700") as info:
        res.frame.select("tier").collect()
    text = str(info.value)
    assert "gad7_2" in text and "9.0" not in text.split("ResponseError", 1)[-1]
