"""Property tests of the research tools (hypothesis): invariances that any correct implementation keeps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import screening as sc
import screening.research as rs
from screening.research.norms import percentile_rank
from tests.strategies import response_frames

PHQ9 = sc.load_scale("phq9")


def _varied(df: pd.DataFrame) -> bool:
    x = df.to_numpy(float)
    counts = (~np.isnan(x)).sum(axis=0)
    with np.errstate(invalid="ignore"):
        sd = np.nanstd(x, axis=0) if (counts >= 2).all() else np.zeros(x.shape[1])
    both = (~np.isnan(x)).astype(float)
    return bool((sd > 0).all() and ((both.T @ both) >= 3).all() and (both.any(axis=1).sum() >= 3))


@given(response_frames(PHQ9, min_rows=8, max_rows=40), st.randoms(use_true_random=False))
def test_alpha_ignores_row_and_item_order(df, rnd):
    if not _varied(df):
        return
    a = rs.reliability(df, PHQ9, "total", omega_factors=None)
    rows = list(range(len(df)))
    rnd.shuffle(rows)
    cols = list(df.columns)
    rnd.shuffle(cols)
    b = rs.reliability(df.iloc[rows][cols], PHQ9, "total", omega_factors=None)
    assert b.alpha == pytest.approx(a.alpha, abs=1e-10)
    assert b.lambda6 == pytest.approx(a.lambda6, abs=1e-10)
    pd.testing.assert_frame_equal(b.items, a.items, atol=1e-10, rtol=0)


@given(st.lists(st.integers(0, 27), min_size=2, max_size=60), st.lists(st.integers(0, 27), min_size=1, max_size=10))
def test_percentile_rank_is_mid_rank_and_monotone(sample, at):
    x = np.array(sample, dtype=float)
    a = np.array(sorted(at), dtype=float)
    pr = percentile_rank(x, a)
    expect = [stats.percentileofscore(x, v, kind="mean") for v in a]
    np.testing.assert_allclose(pr, expect, atol=1e-9)
    assert (np.diff(pr) >= 0).all()


@given(
    st.lists(st.tuples(st.integers(0, 10), st.booleans()), min_size=4, max_size=80).filter(
        lambda rows: 2 <= sum(c for _, c in rows) <= len(rows) - 2
    )
)
def test_auc_is_mann_whitney_and_counts_add_up(rows):
    scores = np.array([s for s, _ in rows], dtype=float)
    crit = np.array([c for _, c in rows])
    ev = rs.evaluate_cutoffs(scores, crit)
    u = stats.mannwhitneyu(scores[crit], scores[~crit]).statistic
    assert ev.auc == pytest.approx(u / (ev.n_cases * ev.n_controls), abs=1e-12)
    t = ev.table
    assert ((t["tp"] + t["fn"]) == ev.n_cases).all()
    assert ((t["fp"] + t["tn"]) == ev.n_controls).all()
    assert (np.diff(t["sensitivity"]) <= 0).all()  # a stricter cut-off never finds more cases
    assert ((t["sensitivity_low"] <= t["sensitivity"]) & (t["sensitivity"] <= t["sensitivity_high"])).all()
    assert 0.0 <= ev.auc_ci[0] <= ev.auc <= ev.auc_ci[1] <= 1.0
