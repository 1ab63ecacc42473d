"""Dask: sc.screen on a Dask DataFrame gives the single-machine answers (values, dtypes, summaries)."""

from __future__ import annotations

import itertools
import operator

import dask
import dask.dataframe as dd
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from scaleout_cases import BY, SCALES, assert_same, assert_same_summary, reference, sample_with_blanks, synthetic

import screening as sc
from screening.scaleout import DistributedScreening, ScreeningPlan


@pytest.fixture(scope="session")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")  # any free port: two pytest-xdist workers may each start one
    with Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return sample_with_blanks()


@pytest.fixture(scope="module")
def sample_ref(sample):
    return reference(sample)


def _uneven(df: pd.DataFrame) -> dd.DataFrame:
    """Seven partitions of very different sizes, three of them empty."""
    cuts = [0, 0, 5, 5, 600, 601, 601, len(df)]
    parts = [dask.delayed(df.iloc[a:b].copy()) for a, b in itertools.pairwise(cuts)]
    return dd.from_delayed(parts, meta=df.iloc[:0])


@pytest.mark.parametrize("convert_string", [True, False])
@pytest.mark.parametrize("partitions", [1, 3, 7, "uneven"])
def test_dask_screen_equals_pandas(client, sample, sample_ref, partitions, convert_string):
    with dask.config.set({"dataframe.convert-string": convert_string}):
        ddf = _uneven(sample) if partitions == "uneven" else dd.from_pandas(sample, npartitions=partitions)
        if partitions == "uneven":
            assert ddf.map_partitions(len).compute().tolist() == [0, 5, 0, 595, 1, 0, 606]
        res = sc.screen(ddf, SCALES)
        assert isinstance(res, DistributedScreening) and res.engine == "dask"
        assert_same(sample_ref, res.to_pandas())
        # the hierarchy school → grade → class rolls up to every level (and the whole population) in one summary
        assert_same_summary(sample_ref, lambda by: res.summary(by=by), bys=[BY])


def test_dask_partition_dtypes_are_the_declared_meta(client, sample):
    """Every partition has the declared dtypes (Dask does not check meta itself)."""
    with dask.config.set({"dataframe.convert-string": True}):
        res = sc.screen(dd.from_pandas(sample, npartitions=3), SCALES)
        meta = res.plan.meta()
        for part in res.frame.to_delayed():
            got = part.compute()
            assert list(got.columns) == list(meta.columns)
            for c in meta.columns:
                assert got[c].dtype == meta[c].dtype, c
        # data-dependent text travels as strings; fixed categories are those of the specs
        assert meta["reasons"].dtype == "str" and meta["rules_fired"].dtype == "str"
        assert list(meta["tier"].cat.categories) == ["green", "yellow", "orange"] and meta["tier"].cat.ordered
        # the parts of the result, as lazy column selections with the single-machine columns
        ref = reference(sample.iloc[:50])
        for part in ("table", "scores", "flags", "groups"):
            assert list(getattr(res, part).columns) == list(getattr(ref, part).columns)


def test_dask_synthetic_blank_keys_counted(client):
    df = synthetic()
    ref = reference(df)
    with dask.config.set({"dataframe.convert-string": True}):
        res = sc.screen(dd.from_pandas(df, npartitions=4), SCALES)
        assert_same(ref, res.to_pandas())
        assert_same_summary(ref, lambda by: res.summary(by=by))
        summ = res.summary(by=["school"], min_cell=1)
    schools = summ[summ["level"] == "school"]
    assert schools["n"].sum() == len(df)
    assert schools["school"].isna().sum() == 1 and (schools["school"] == "").sum() == 1  # blank and empty are different groups
    assert int(schools.loc[schools["school"].isna(), "n"].iloc[0]) == int(df["school"].isna().sum())


def test_dask_groupby_alone_would_drop_blank_keys(client, sample):
    """The pitfall the unknown level guards against, measured on this data."""
    ddf = dd.from_pandas(sample, npartitions=3)
    assert int(ddf.groupby("class").size().sum().compute()) == len(sample) - 25


def test_dask_score_returns_lazy_frame(client, sample):
    with dask.config.set({"dataframe.convert-string": True}):
        ddf = dd.from_pandas(sample, npartitions=3)
        out = sc.score(ddf, SCALES)
        assert isinstance(out, dd.DataFrame)
        got = out.compute()
    want = sc.score(sample, SCALES)
    pd.testing.assert_frame_equal(want, got, check_exact=True)
    pd.testing.assert_frame_equal(sc.empty_output(SCALES), out._meta)


def test_dask_iter_partitions_streams_one_partition_at_a_time(client, sample, sample_ref):
    res = sc.scaleout.screen_distributed(_uneven(sample), SCALES, key="row")
    chunks = list(res.plan.iter_partitions(res))
    assert [len(c) for c in chunks] == [5, 595, 1, 606]  # empty partitions skipped, order kept
    assert all(isinstance(c, sc.ScreeningResult) for c in chunks)
    glued = pd.concat([c.table for c in chunks])
    pd.testing.assert_frame_equal(glued.astype(object), sample_ref.table.astype(object))
    with_keys = list(res.iter_partitions(with_keys=True))
    keys = pd.concat([k for _, k in with_keys])
    assert keys.tolist() == sample["row"].tolist()


def test_dask_error_names_row_key_not_cells(client, sample):
    bad = sample.copy()
    bad["row"] = [f"r{i:05d}" for i in range(len(bad))]
    bad.loc[[700, 701], "phq9_3"] = 7  # not an option of PHQ-9 (0–3)
    res = sc.scaleout.screen_distributed(dd.from_pandas(bad, npartitions=3), SCALES, key="row")
    with pytest.raises(sc.ResponseError) as info:
        res.to_pandas()
    text = str(info.value)
    assert "r00700" in text and "r00701" in text and "phq9_3" in text
    assert "7.0" not in text and "row positions" not in text


def test_plan_travels_small(client, sample):
    import pickle

    res = sc.screen(dd.from_pandas(sample, npartitions=2), SCALES)
    blob = pickle.dumps(res.plan)
    assert len(blob) < 100_000
    assert isinstance(pickle.loads(blob), ScreeningPlan)
    # a worker process unpickles it and gets the same declared output
    assert client.submit(operator.attrgetter("columns"), res.plan).result() == res.plan.columns


def test_dask_result_streams_into_the_archive_partition_by_partition(client, sample, tmp_path):
    """Archive at scale: a Dask result goes into the archive one partition at a time (never collected whole)
    and the archive then holds exactly what a single-machine add would have written."""
    from archive_fixtures import KEY

    df = sample.assign(student_id=[f"4401{i:014d}" for i in range(len(sample))])
    res = sc.scaleout.screen_distributed(dd.from_pandas(df, npartitions=4), SCALES, key="student_id")
    streamed = sc.open_archive(tmp_path / "streamed.sqlite", key=KEY, actor="it01")
    rep = streamed.add_chunks(res.iter_partitions(with_keys=True), wave="2026春", on="2026-03-02")
    assert rep.added == len(df)
    whole = sc.open_archive(tmp_path / "whole.sqlite", key=KEY, actor="it01")
    whole.add(sc.screen(df, scales=SCALES), wave="2026春", on="2026-03-02", ids=df["student_id"])
    a = streamed.export("long").sort_values("pseudonym").reset_index(drop=True)
    b = whole.export("long").sort_values("pseudonym").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    streamed.close()
    whole.close()
