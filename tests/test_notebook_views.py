"""Notebook and importing systems: HTML views of result objects, the tidy long summary, dir(screening)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import screening as sc

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "data" / "sample_school.csv"


@pytest.fixture(scope="module")
def res():
    df = pd.read_csv(SAMPLE, dtype={"student_id": "string"})
    return df, sc.screen(df, scales=["phq9", "gad7"], rules="default")


def test_long_summary_matches_the_wide_table(res):
    _, r = res
    wide = r.summary(by=["school"])
    long = r.summary(by=["school"], long=True)
    assert set(long.columns) >= {"level", "school", "group_n", "measure", "category", "n", "prop", "ci_low", "ci_high"}
    # every (row, measure, category) cell of the wide table appears once, with the same value (NA where suppressed)
    got = long[(long["measure"] == "tier") & (long["category"] == "orange")].reset_index(drop=True)
    pd.testing.assert_series_equal(got["n"], wide["tier.orange.n"], check_names=False)
    pd.testing.assert_series_equal(got["ci_high"], wide["tier.orange.ci_high"], check_names=False)
    band = long[(long["measure"] == "phq9.total") & (long["category"] == "moderate")].reset_index(drop=True)
    pd.testing.assert_series_equal(band["prop"], wide["phq9.total.band.moderate.prop"], check_names=False)
    assert set(long["measure"]) == {"tier", "urgent", "rescreen", "phq9.total", "gad7.total"}
    n_cells = sum(c.endswith(".ci_high") for c in wide.columns)
    assert len(long) == n_cells * len(wide)
    assert long["n"].isna().any() == wide.filter(like=".n").isna().to_numpy().any()


def test_result_objects_have_html_views(res):
    df, r = res
    items = df[[f"phq9_{k}" for k in range(1, 10)]]
    rel = sc.research.reliability(items.rename(columns=lambda c: c), scale="phq9", score="total")
    html = rel._repr_html_()
    assert "Reliability" in html and "alpha" in html and "<table" in html
    assert f"{rel.alpha:.3f}" in html
    norms = sc.research.build_norms(df, scale="phq9", score="total", min_group_n=10)
    assert "NormsBuild" in norms._repr_html_() and "<table" in norms._repr_html_()
    crit = (r.scores["phq9.total"] >= 10).to_numpy()
    ev = sc.research.evaluate_cutoffs(r.scores["gad7.total"], crit, cutoffs=[5, 10])
    assert "AUC" in ev._repr_html_()
    assert "<table" in r._repr_html_() and not any(i in r._repr_html_() for i in df["student_id"].head(50))
    assert np.isfinite(rel.alpha)


def test_dir_lists_lazily_loaded_names():
    names = dir(sc)
    for n in ("research", "reports", "render_report", "write_report", "warning_list", "screen", "read_responses"):
        assert n in names
