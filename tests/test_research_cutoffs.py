"""evaluate_cutoffs(): ROC/AUC against pROC, intervals against base R, Bayes predictive values.

Reference values: tests/fixtures/research/psych_reference.json ("roc"), written
by tests/fixtures/research/make_psych_fixtures.R with pROC 1.18.0 and R 4.2.2
(prop.test / binom.test) on a demonstration criterion from the bfi data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import screening.research as rs
from screening.research.cutoffs import delong_se, hanley_mcneil_se

ROOT = Path(__file__).resolve().parent.parent
REF = json.loads((ROOT / "tests" / "fixtures" / "research" / "psych_reference.json").read_text(encoding="utf-8"))["roc"]
TOL = 1e-10


@pytest.fixture(scope="module")
def demo():
    bfi = pd.read_csv(ROOT / "examples" / "data" / "bfi.csv")
    cc = bfi.dropna(subset=["N1", "N2", "N3", "N4", "N5"])
    return cc["N1"] + cc["N2"], (cc["N3"] + cc["N4"] + cc["N5"]) >= 14


def test_counts_auc_and_delong_match_proc(demo):
    scores, crit = demo
    ev = rs.evaluate_cutoffs(scores, crit)
    assert (ev.n_cases, ev.n_controls, ev.n_excluded) == (REF["n_pos"], REF["n_neg"], 0)
    assert ev.table["cutoff"].tolist() == REF["cutoffs"]
    assert ev.table["tp"].tolist() == REF["tp"]
    assert ev.table["fp"].tolist() == REF["fp"]
    assert ev.auc == pytest.approx(REF["auc"], abs=TOL)
    assert ev.auc_se == pytest.approx(REF["auc_se_delong"], abs=TOL)
    np.testing.assert_allclose(ev.auc_ci, REF["auc_ci_delong"], rtol=0, atol=TOL)


def test_auc_is_the_mann_whitney_probability(demo):
    scores, crit = demo
    ev = rs.evaluate_cutoffs(scores, crit)
    u = stats.mannwhitneyu(scores[crit], scores[~crit], alternative="two-sided").statistic
    assert ev.auc == pytest.approx(u / (ev.n_cases * ev.n_controls), abs=1e-12)
    assert u == pytest.approx(REF["wilcox_W"])
    # and the trapezoidal area under the returned curve
    assert np.trapezoid(ev.roc["tpr"], ev.roc["fpr"]) == pytest.approx(ev.auc, abs=1e-12)


def test_roc_points_match_proc_coords(demo):
    scores, crit = demo
    ev = rs.evaluate_cutoffs(scores, crit)
    # pROC's thresholds are midpoints (plus ±Inf); positive when score > threshold
    # ⇔ score ≥ the next observed value, i.e. our cut-offs.
    # jsonlite writes R's ±Inf as the strings "Inf"/"-Inf"
    proc = pd.DataFrame(
        {
            "thr": [float(t) for t in REF["proc_thresholds"]],
            "se": REF["proc_sensitivity"],
            "sp": REF["proc_specificity"],
        }
    )
    proc = proc[np.isfinite(proc["thr"])]
    for thr, se, sp in proc.itertuples(index=False):
        row = ev.table[ev.table["cutoff"] == np.ceil(thr)].iloc[0]
        assert row["sensitivity"] == pytest.approx(se, abs=TOL)
        assert row["specificity"] == pytest.approx(sp, abs=TOL)


def test_wilson_and_clopper_pearson_match_base_r(demo):
    scores, crit = demo
    w = rs.evaluate_cutoffs(scores, crit).table
    np.testing.assert_allclose(w["sensitivity_low"], REF["sens_wilson_lower"], rtol=0, atol=TOL)
    np.testing.assert_allclose(w["sensitivity_high"], REF["sens_wilson_upper"], rtol=0, atol=TOL)
    np.testing.assert_allclose(w["specificity_low"], REF["spec_wilson_lower"], rtol=0, atol=TOL)
    np.testing.assert_allclose(w["specificity_high"], REF["spec_wilson_upper"], rtol=0, atol=TOL)
    cp = rs.evaluate_cutoffs(scores, crit, ci_method="clopper_pearson").table
    np.testing.assert_allclose(cp["sensitivity_low"], REF["sens_exact_lower"], rtol=0, atol=TOL)
    np.testing.assert_allclose(cp["sensitivity_high"], REF["sens_exact_upper"], rtol=0, atol=TOL)


def test_youden_optimum(demo):
    scores, crit = demo
    ev = rs.evaluate_cutoffs(scores, crit)
    j = ev.table["sensitivity"] + ev.table["specificity"] - 1
    assert ev.youden["youden"] == pytest.approx(j.max())
    assert ev.youden["cutoff"] == ev.table.loc[j.idxmax(), "cutoff"]
    assert "Youden optimum: cut-off 9" in repr(ev)


def test_bayes_predictive_values_by_hand():
    # 10 cases, 10 controls; cut-off 5: Se = 8/10, Sp = 9/10.
    scores = [5, 6, 7, 8, 9, 9, 9, 9, 1, 2, 1, 1, 2, 2, 3, 3, 4, 4, 4, 6]
    crit = [1] * 10 + [0] * 10
    ev = rs.evaluate_cutoffs(scores, crit, cutoffs=[5], prevalence=0.1)
    row = ev.table.iloc[0]
    assert (row["sensitivity"], row["specificity"]) == (0.8, 0.9)
    # Bayes: PPV = .8·.1 / (.8·.1 + .1·.9) = .08/.17 ; NPV = .9·.9 / (.9·.9 + .2·.1) = .81/.83
    assert row["ppv_at_prevalence"] == pytest.approx(0.08 / 0.17)
    assert row["npv_at_prevalence"] == pytest.approx(0.81 / 0.83)
    # Mercaldo et al. (2007) logit interval, written out
    z = stats.norm.ppf(0.975)
    lp = np.log(0.8 * 0.1 / (0.1 * 0.9))
    v = 0.2 / (0.8 * 10) + 0.9 / (0.1 * 10)
    assert row["ppv_at_prevalence_low"] == pytest.approx(1 / (1 + np.exp(-(lp - z * np.sqrt(v)))))
    assert row["ppv_at_prevalence_low"] < row["ppv_at_prevalence"] < row["ppv_at_prevalence_high"]
    # sample PPV is simply tp / (tp + fp) = 8 / 9
    assert row["ppv"] == pytest.approx(8 / 9)


def test_low_scores_positive_mirror_high():
    rng = np.random.default_rng(5)
    crit = rng.integers(0, 2, 300)
    scores = rng.normal(size=300) + crit
    hi = rs.evaluate_cutoffs(scores, crit)
    lo = rs.evaluate_cutoffs(-scores, crit, positive="low")
    assert lo.auc == pytest.approx(hi.auc, abs=1e-12)
    np.testing.assert_allclose(lo.table["sensitivity"].to_numpy()[::-1], hi.table["sensitivity"].to_numpy())


def test_hanley_mcneil_formula_and_closeness_to_delong():
    rng = np.random.default_rng(11)
    cases, controls = rng.normal(1.0, 1.0, 400), rng.normal(0.0, 1.0, 600)
    a = float(np.mean(cases[:, None] > controls[None, :]))
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    by_hand = np.sqrt((a * (1 - a) + 399 * (q1 - a * a) + 599 * (q2 - a * a)) / (400 * 600))
    assert hanley_mcneil_se(a, 400, 600) == pytest.approx(by_hand)
    # for binormal data with equal variances the two standard errors are close
    assert hanley_mcneil_se(a, 400, 600) == pytest.approx(delong_se(cases, controls), rel=0.1)
    ev = rs.evaluate_cutoffs(np.r_[cases, controls], np.r_[np.ones(400), np.zeros(600)], auc_ci_method="hanley_mcneil")
    assert ev.auc_se == pytest.approx(by_hand)


def test_missing_rows_are_excluded_and_counted():
    scores = pd.Series([1, 2, np.nan, 4, 5, 6, 7])
    crit = pd.Series([0, 0, 1, np.nan, 1, 0, 1])
    ev = rs.evaluate_cutoffs(scores, crit)
    assert (ev.n_cases, ev.n_controls, ev.n_excluded) == (2, 3, 2)


def test_parameter_errors():
    s, c = [1, 2, 3, 4], [0, 1, 0, 1]
    pattern = r"The '{}' parameter of evaluate_cutoffs must be .* Got .* instead\."
    for name, kw in [
        ("positive", {"positive": "up"}),
        ("ci_method", {"ci_method": "wald"}),
        ("auc_ci_method", {"auc_ci_method": "boot"}),
        ("prevalence", {"prevalence": 1.5}),
        ("ci", {"ci": 0}),
    ]:
        with pytest.raises(ValueError, match=pattern.format(name)):
            rs.evaluate_cutoffs(s, c, **kw)
    with pytest.raises(ValueError, match=pattern.format("criterion")):
        rs.evaluate_cutoffs(s, [0, 1, 2, 1])
    with pytest.raises(ValueError, match=pattern.format("criterion")):
        rs.evaluate_cutoffs(s, [0, 1])
    with pytest.raises(ValueError, match=pattern.format("criterion")):
        rs.evaluate_cutoffs(s, [0, 0, 0, 1])
    with pytest.raises(ValueError, match=pattern.format("scores")):
        rs.evaluate_cutoffs(["a", 2, 3, 4], c)
    with pytest.raises(ValueError, match=pattern.format("cutoffs")):
        rs.evaluate_cutoffs(s, c, cutoffs=[])
    with pytest.raises(ValueError, match=pattern.format("criterion")):
        rs.evaluate_cutoffs(pd.Series(s), pd.Series(c, index=[9, 8, 7, 6]))
