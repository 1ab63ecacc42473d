"""Funnel limits and over-dispersion checked against an independent R implementation (to 1e-6).

The reference values in ``tests/fixtures/warning/funnel_units.csv`` and ``funnel_summary.csv`` were written by
``tests/fixtures/warning/funnel_reference.R`` (base R 4.2.2: ``qbinom``/``pbinom`` for the interpolated exact binomial
limits of Spiegelhalter, Stat Med 2005;24:1185, Appendix A.1; ``quantile(type = 7)`` winsorisation, φ, τ² and the χ²
test of Spiegelhalter, Qual Saf Health Care 2005;14:347), run once and committed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from screening.warning.funnel import dispersion, exact_limits, funnel, normal_limits, winsorise

REF = Path(__file__).resolve().parent / "fixtures" / "warning"
UNITS = pd.read_csv(REF / "funnel_units.csv")
SUMMARY = pd.read_csv(REF / "funnel_summary.csv").set_index("set")
LIMITS = ("lower95", "upper95", "lower998", "upper998")


@pytest.mark.parametrize("dataset", ["overdispersed", "binomial"])
def test_dispersion_matches_r(dataset: str) -> None:
    u = UNITS[UNITS["set"] == dataset]
    ref = SUMMARY.loc[dataset]
    theta = u["r"].sum() / u["n"].sum()
    assert theta == pytest.approx(ref["theta"], abs=1e-12)
    d = dispersion(u["r"], u["n"], theta)
    assert d.units == ref["units"]
    assert d.phi == pytest.approx(ref["phi"], abs=1e-9)
    assert d.tau2 == pytest.approx(ref["tau2"], abs=1e-12)
    assert d.p_value == pytest.approx(ref["p_value"], rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("dataset", ["overdispersed", "binomial"])
def test_exact_limits_match_r(dataset: str) -> None:
    u = UNITS[UNITS["set"] == dataset]
    cols, _, target = funnel(u["r"], u["n"], overdispersion="none")
    assert target == pytest.approx(u["theta"].iloc[0], abs=1e-12)
    np.testing.assert_allclose(cols["z"], u["z"], atol=1e-6, rtol=0)
    for name in LIMITS:
        np.testing.assert_allclose(cols[name], u[f"exact_{name}"], atol=1e-6, rtol=0)


@pytest.mark.parametrize(("method", "prefix"), [("additive", "add"), ("multiplicative", "mult")])
def test_overdispersed_limits_match_r(method: str, prefix: str) -> None:
    u = UNITS[UNITS["set"] == "overdispersed"]
    cols, disp, _ = funnel(u["r"], u["n"], overdispersion=method)  # type: ignore[arg-type]
    assert disp.phi > 1 and disp.tau2 > 0
    np.testing.assert_allclose(cols["z"], u[f"{prefix}_z"], atol=1e-6, rtol=0)
    for name in LIMITS:
        np.testing.assert_allclose(cols[name], u[f"{prefix}_{name}"], atol=1e-6, rtol=0)


def test_no_overdispersion_keeps_the_exact_limits() -> None:
    # φ̂ < 1 and τ̂² = 0 in the "binomial" set: the additive option changes nothing (Spiegelhalter 2005b)
    u = UNITS[UNITS["set"] == "binomial"]
    plain, _, _ = funnel(u["r"], u["n"], overdispersion="none")
    for method in ("additive", "multiplicative"):
        cols, disp, _ = funnel(u["r"], u["n"], overdispersion=method)  # type: ignore[arg-type]
        assert disp.tau2 == 0 and disp.phi < 1
        for name in ("z", *LIMITS):
            np.testing.assert_array_equal(cols[name], plain[name])


def test_exact_limit_definition() -> None:
    # the limit is where the interpolated binomial CDF crosses p: F(r_p - 1) < p <= F(r_p)
    n = np.array([20, 57, 300, 2500])
    for p in (0.975, 0.999, 0.025, 0.001):
        y = exact_limits(n, 0.08, p)
        r = np.ceil(y * n)
        assert np.all(stats.binom.cdf(r, n, 0.08) >= p)
        assert np.all(stats.binom.cdf(r - 1, n, 0.08) < p + 1e-12)
    # converges to the normal limit for large n
    assert exact_limits([10**6], 0.08, 0.975)[0] == pytest.approx(normal_limits([10**6], 0.08, 0.975)[0], abs=2e-5)
    assert np.isnan(exact_limits([0], 0.08, 0.975)[0])


def test_winsorise_clamps_to_type7_quantiles() -> None:
    z = np.array([-5.0, -1, 0, 0.5, 1, 1.5, 2, 9])
    lo, hi = np.quantile(z, [0.1, 0.9])
    w = winsorise(z)
    assert w.min() == lo and w.max() == hi
    np.testing.assert_array_equal(w[1:-1], np.clip(z[1:-1], lo, hi))


def test_outlier_does_not_inflate_phi() -> None:
    # winsorising keeps one extreme school from dominating φ̂: its z² alone would be > 100
    rng = np.random.default_rng(3)
    n = np.full(30, 400)
    r = rng.binomial(400, 0.08, 30)
    r[0] = 150
    theta = r.sum() / n.sum()
    z = (r / n - theta) / np.sqrt(theta * (1 - theta) / n)
    raw_phi = float(np.mean(z**2))
    phi = dispersion(r, n, theta).phi
    assert raw_phi > 5 and phi < 2
