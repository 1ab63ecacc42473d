"""A result carries the band sets it was scored with; reports read them from the result, not the file default.

Reproducer from issue 12: screen(..., bands={"phq9": "richardson2010_adolescent"}) then the notebook view or the
report raised KeyError 'phq9.total.band.minimal.n'; score(df, [..], bands=...) ignored bands for a list.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import screening as sc
from screening._params import InvalidParameterError

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "data" / "sample_school.csv"


@pytest.fixture(scope="module")
def answers():
    return pd.read_csv(SAMPLE, dtype={"student_id": str})


def test_non_default_band_set_flows_to_repr_and_report(answers):
    res = sc.screen(answers, scales=["phq9", "gad7"], bands={"phq9": "richardson2010_adolescent"})
    assert res.provenance["band_sets"]["phq9.total"] == "richardson2010_adolescent"
    assert res.provenance["band_sets"]["gad7.total"] == sc.load_scale("gad7").spec.score("total").bands.default
    chosen = res.band_set("phq9", "total")
    assert [b.id for b in chosen.bands] == list(res.scores["phq9.total.band"].cat.categories)
    html = res._repr_html_()
    report = sc.render_report(res, lang="en")
    for b in chosen.bands:  # the chosen set's labels, not Kroenke's five bands
        assert b.label.get("en") in report
        assert b.label.get("zh") in html or b.label.get("en") in html
    positive = int((res.scores["phq9.total.band"] == "positive").sum())
    assert positive == int((res.scores["phq9.total"] >= 11).sum())  # Richardson 2010: ≥ 11 for adolescents


def test_score_of_several_scales_applies_bands_per_scale(answers):
    out = sc.score(answers, ["phq9", "gad7"], bands={"phq9": "richardson2010_adolescent"})
    assert list(out["phq9.total.band"].cat.categories) == ["below_cutoff", "positive"]
    default = sc.score(answers, "gad7")
    pd.testing.assert_series_equal(out["gad7.total.band"], default["gad7.total.band"])
    with pytest.raises(InvalidParameterError, match="bands"):
        sc.score(answers, ["phq9", "gad7"], bands="richardson2010_adolescent")
    with pytest.raises(InvalidParameterError, match="bands"):
        sc.score(answers, ["phq9", "gad7"], bands={"k10": "abs"})
