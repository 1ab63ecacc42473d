"""The engine agrees bit for bit with the plain pandas scorer in tests/reference_scorer.py.

On every built-in scale (between them: sum, mean, count, sum_if, ratio, scores of scores, reverse keys,
prorating, blanks as zero, transforms, rounding, bands, critical items, validity checks that void the
scores) and on random variants of them (other reverse keys and missing-data rules), with random
answers and many blanks, with score bounds; through the numpy front and the compiled (numba) front,
in one chunk and in several.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import screening as sc
from screening.engine import fused
from screening.engine import score as engine_score
from screening.engine.compile import compile_scale
from screening.loading.resources import builtin_dir
from screening.loading.scale_checks import parse_scale
from screening.scoring import Scale, content_hash
from tests.reference_scorer import reference_score
from tests.strategies import random_scale_docs, response_frames

BUILTIN = sc.list_scales()


@functools.cache
def _raw(sid: str) -> dict:
    with open(builtin_dir("scales") / f"{sid}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _same(got: pd.Series, want: pd.Series, name: str) -> None:
    if isinstance(want.dtype, pd.CategoricalDtype):
        assert list(got.cat.categories) == list(want.cat.categories), name
        assert np.array_equal(got.cat.codes.to_numpy(), want.cat.codes.to_numpy()), name
        return
    if want.dtype == "boolean" or got.dtype == "boolean":
        g, w = got.astype("boolean"), want.astype("boolean")
        assert np.array_equal(g.isna().to_numpy(), w.isna().to_numpy()), name
        assert np.array_equal(g.fillna(False).to_numpy(dtype=bool), w.fillna(False).to_numpy(dtype=bool)), name
        return
    g, w = got.to_numpy(dtype=np.float64), want.to_numpy(dtype=np.float64)
    # bit for bit: same NaNs, and every other value exactly equal (not merely close)
    assert np.array_equal(np.isnan(g), np.isnan(w)), name
    assert np.array_equal(g.view(np.int64)[~np.isnan(g)], w.view(np.int64)[~np.isnan(w)]), name


def check(df: pd.DataFrame, scale: Scale, **kw) -> None:
    want = reference_score(df, scale, bounds=True)
    got = sc.score(df, scale, norms=None, bounds=True, **kw)
    assert got.index.equals(want.index)
    for col in want.columns:
        _same(got[col], want[col], col)


@pytest.fixture(params=["numpy", "numpy-small", "fused"])
def front(request, monkeypatch):
    """Which front of the kernel runs: the numpy one (as for large chunks, or with the small-chunk gather of
    count/sum_if items), or the compiled one on every table (when numba is there)."""
    if request.param == "fused":
        if fused._get_kernel() is None:  # numba is in the test extra; without it both params test numpy
            monkeypatch.setenv("SCREENING_FUSED", "0")
        monkeypatch.setattr(fused, "MIN_ROWS", 0)
        monkeypatch.setattr(fused, "STEP", 5)  # the kernel's tail takes a chunk's rows 5 at a time: several runs per chunk
    else:
        monkeypatch.setenv("SCREENING_FUSED", "0")
        if request.param == "numpy":  # these test tables are small: take the large-chunk path anyway
            monkeypatch.setattr(engine_score, "SMALL_CHUNK", 0)
    return request.param


@pytest.mark.parametrize("sid", BUILTIN)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), chunk=st.sampled_from([3, 8192]), missing=st.sampled_from([0.02, 0.3]))
def test_builtin_scales_match_reference(sid, front, data, chunk, missing):
    scale = sc.load_scale(sid)
    df = data.draw(response_frames(scale, min_rows=1, max_rows=30, missing=missing))
    check(df, scale, chunk_size=chunk)


@st.composite
def variants(draw: st.DrawFn) -> Scale:
    """A built-in scale with other reverse keys and missing-data rules (examples not checked: they change)."""
    sid = draw(st.sampled_from(BUILTIN))
    data = copy.deepcopy(_raw(sid))
    item_ids = [str(it["id"]) for it in data["items"]]
    data["reverse"] = [i for i in item_ids if draw(st.booleans())] if draw(st.booleans()) else data.get("reverse", [])
    opt_sets = {str(it.get("options", "default")) for it in data["items"]}
    if len(opt_sets) > 1:  # reverse keys within one option set only, as the loader requires
        data["reverse"] = [str(r) for r in _raw(sid).get("reverse", [])]
    for s in data["scores"]:
        parts = s.get("items") or s.get("scores")
        impute = draw(st.sampled_from(["none", "prorate", "zero"]))
        if s.get("method") in ("count", "sum_if", "ratio") or s.get("scores"):
            impute = draw(st.sampled_from(["none", "zero"]))
        s["missing"] = {"impute": impute, "min_answered": draw(st.integers(1, len(parts)))}
        if impute == "none":
            s["missing"].pop("min_answered")
    spec, issues = parse_scale(data, file="<variant>", stem=sid)
    assume(spec is not None)
    return Scale(spec=spec, compiled=compile_scale(spec), source="<variant>", content_hash=content_hash(spec))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), chunk=st.sampled_from([4, 8192]), jobs=st.sampled_from([1, 2]))
def test_random_variants_match_reference(front, data, chunk, jobs):
    scale = data.draw(variants())
    df = data.draw(response_frames(scale, min_rows=1, max_rows=25, missing=data.draw(st.sampled_from([0.05, 0.4]))))
    check(df, scale, chunk_size=chunk, n_jobs=jobs)


def _random_scale(doc: dict) -> Scale:
    spec, issues = parse_scale(doc, file="<random>", stem=None)
    assert spec is not None and not issues, [i.code for i in issues]  # the generator writes only valid documents
    return Scale(spec=spec, compiled=compile_scale(spec), source="<random>", content_hash=content_hash(spec))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), chunk=st.sampled_from([3, 8192]), missing=st.sampled_from([0.05, 0.4]))
def test_random_scales_match_reference(front, data, chunk, missing):
    """Scales written from scratch (every method: sum, mean, weighted_sum, count, sum_if, ratio, sums and means
    of scores; reverse keys; none/prorate/zero with random min_answered; transforms with negative multipliers;
    every rounding; open and closed band edges; critical items; validity checks that void), scored with
    bounds on random answers with blanks: the engine equals the reference bit for bit, on both fronts."""
    scale = _random_scale(data.draw(random_scale_docs(_raw("k6"))))
    df = data.draw(response_frames(scale, min_rows=1, max_rows=25, missing=missing))
    check(df, scale, chunk_size=chunk)


def test_reference_scorer_is_not_the_engine():
    """The reference computes from the spec, so it disagrees where the engine would be wrong: a check of the check."""
    scale = sc.load_scale("phq9")
    df = pd.DataFrame({c: [3.0, np.nan] for c in scale.input_columns()})
    want = reference_score(df, scale, bounds=True)
    # PHQ-9: all nine items at 3 = 27; all blank = unscored, bounds 0..27
    assert want["phq9.total"].iloc[0] == 27.0
    assert np.isnan(want["phq9.total"].iloc[1])
    assert want[sc.columns.lower_col("phq9", "total")].iloc[1] == 0.0
    assert want[sc.columns.upper_col("phq9", "total")].iloc[1] == 27.0


@pytest.mark.parametrize("bad", [7.0, 1.5, np.inf, -1.0])
def test_a_bad_answer_in_a_compiled_chunk_is_reported_as_by_the_numpy_front(monkeypatch, bad):
    """A chunk with an answer that is not an option is redone by the numpy front: same error, same rows."""
    scale = sc.load_scale("phq9")
    rng = np.random.default_rng(3)
    df = pd.DataFrame({c: rng.integers(0, 4, 100).astype(float) for c in scale.input_columns()})
    df.iloc[50, 2] = bad
    df.iloc[7, 0] = np.nan
    results = {}
    for name, env in (("numpy", "0"), ("fused", "1")):
        monkeypatch.setenv("SCREENING_FUSED", env)
        monkeypatch.setattr(fused, "MIN_ROWS", 0)
        with pytest.raises(sc.ResponseError) as exc:
            sc.score(df, scale, chunk_size=16)
        (issue,) = exc.value.issues
        assert issue.column == "phq9_3" and issue.rows == (50,)
        results[name] = sc.score(df, scale, chunk_size=16, on_invalid="missing", bounds=True)
    pd.testing.assert_frame_equal(results["numpy"], results["fused"], check_exact=True)
    assert results["fused"]["phq9.n_invalid"].iloc[50] == 1


# --- found by test_random_scales_match_reference -------------------------------------------------------------


def test_an_unscored_validity_check_does_not_fire(front):
    """``phq9.total != 0`` as a validity check: a student with 3 of 9 PHQ-9 items blank has no total
    (min_answered 7), so the check is unknown (NA) and the status is insufficient, not invalid; with
    the total scored, it fires as usual."""
    data = copy.deepcopy(_raw("phq9"))
    data["validity"] = [{"id": "nonzero", "score": "total", "op": "!=", "value": 0, "label": {"en": "x"},
                         "source": {"ref": "test"}, "void_scores": True}]
    scale = _random_scale(data)
    df = pd.DataFrame({c: [np.nan if k < 3 else 1.0, 1.0] for k, c in enumerate(scale.input_columns())})
    out = sc.score(df, scale, norms=None, bounds=True)
    assert list(out["phq9.status"].astype(str)) == ["insufficient", "invalid"]
    assert out["phq9.validity.nonzero"].isna().iloc[0] and bool(out["phq9.validity.nonzero"].iloc[1])
    check(df, scale)


def test_a_rounded_ratio_with_an_unbounded_range_loads():
    """A ratio whose denominator can be 0 has an unbounded range; rounding it for the band check used to
    raise decimal.InvalidOperation out of the loader."""
    from screening.specs.derive import round_value
    from screening.specs.scale import Rounding

    assert round_value(float("inf"), Rounding(method="half_up")) == float("inf")
    data = copy.deepcopy(_raw("scl90"))
    psdi = next(s for s in data["scores"] if s["id"] == "psdi")
    psdi["rounding"] = {"method": "half_up", "digits": 2}
    psdi["bands"] = {"default": "x", "sets": {"x": {"source": {"ref": "test"}, "bands": [
        {"id": "low", "label": {"en": "low"}, "lt": 2}, {"id": "high", "label": {"en": "high"}, "ge": 2}]}}}
    spec, issues = parse_scale(data, file="<test>", stem="scl90")
    assert spec is not None and not issues


def _sparse_run(df: pd.DataFrame, scale: Scale, **kw):
    from screening.scoring.frame import _score_columns

    data, out = _score_columns(df, scale, norms=None, keep_items=True, bounds="sparse", **kw)
    return data, out.sparse_bounds(len(scale.compiled.scores))


@pytest.mark.parametrize("sid", ["phq9", "scl90", "mht", "sdq", "who5"])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), chunk=st.sampled_from([4, 8192]), jobs=st.sampled_from([1, 2]))
def test_the_screen_steps_scoring_is_the_same_on_both_kernels(monkeypatch, sid, data, chunk, jobs):
    """What screen() asks of the engine (item values, and bounds only for the rows with a blank) is the same,
    bit for bit, from the compiled kernel (tail in runs of 3 rows) as from the numpy kernel."""
    scale = sc.load_scale(sid)
    df = data.draw(response_frames(scale, min_rows=1, max_rows=30, missing=data.draw(st.sampled_from([0.02, 0.3]))))
    monkeypatch.setenv("SCREENING_FUSED", "0")
    want, (w_rows, w_lo, w_hi) = _sparse_run(df, scale, chunk_size=chunk, n_jobs=jobs)
    if fused._get_kernel() is None:  # numba is in the test extra; without it there is one kernel only
        return
    monkeypatch.setenv("SCREENING_FUSED", "1")
    monkeypatch.setattr(fused, "MIN_ROWS", 0)
    monkeypatch.setattr(fused, "STEP", 3)
    got, (g_rows, g_lo, g_hi) = _sparse_run(df, scale, chunk_size=chunk, n_jobs=jobs)
    assert list(got) == list(want)
    assert any(c.startswith(f"{sid}.item") for c in got)  # item values were asked for, and written
    for col in want:
        _same(pd.Series(got[col]), pd.Series(want[col]), col)
    assert np.array_equal(g_rows, w_rows)
    assert np.array_equal(np.isnan(g_lo), np.isnan(w_lo)) and np.array_equal(np.isnan(g_hi), np.isnan(w_hi))
    for g, w in ((g_lo, w_lo), (g_hi, w_hi)):
        ok = ~np.isnan(w)
        assert np.array_equal(g[ok].view(np.int64), w[ok].view(np.int64))
