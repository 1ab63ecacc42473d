"""Matrix statistics shared by the research tools, written to agree with R (``cov``, ``cor``) and psych.

Every function takes a float matrix with NaN for missing cells and works on
whole matrices (no loop over rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["AlphaStats", "alpha_stats", "cov2cor", "pairwise_cor", "pairwise_cov", "pairwise_moments", "smc"]

FloatArray = npt.NDArray[np.float64]
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class _Moments:
    n: FloatArray  # pairs answered together
    cov: FloatArray  # pairwise-complete covariance (R: cov(x, use = "pairwise"))
    var_i: FloatArray  # var of column i over the rows where j is answered too
    var_j: FloatArray


def pairwise_moments(x: FloatArray) -> _Moments:
    """Pairwise-complete moments of the columns of ``x`` (NaN = missing).

    For each pair (i, j) only rows answering both are used, with their own
    means and ``n_ij − 1`` in the denominator, as R's ``cov(use="pairwise")``.
    The columns are centred first so that the one-pass sums do not cancel.
    """
    x = np.asarray(x, dtype=np.float64)
    m = (~np.isnan(x)).astype(np.float64)
    counts = m.sum(axis=0)
    centre = np.where(m > 0, x, 0.0).sum(axis=0) / np.maximum(counts, 1.0)
    z = np.where(m > 0, x - centre, 0.0)
    n = m.T @ m
    s = z.T @ m  # s[i, j]: sum of column i over rows where j is answered
    p = z.T @ z
    q = (z * z).T @ m
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = n - 1.0
        cov = (p - s * s.T / n) / denom
        var_i = (q - s * s / n) / denom
    bad = n < 2
    cov[bad] = np.nan
    var_i[bad] = np.nan
    var_j = var_i.T.copy()
    return _Moments(n=n, cov=cov, var_i=var_i, var_j=var_j)


def pairwise_cov(x: FloatArray) -> FloatArray:
    """R's ``cov(x, use = "pairwise")``."""
    return pairwise_moments(x).cov


def pairwise_cor(x: FloatArray) -> FloatArray:
    """R's ``cor(x, use = "pairwise")``: each pair's covariance over that pair's own standard deviations."""
    mo = pairwise_moments(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = mo.cov / np.sqrt(mo.var_i * mo.var_j)
    np.fill_diagonal(r, 1.0)
    return r


def cov2cor(c: FloatArray) -> FloatArray:
    """R's ``cov2cor``: scale by the diagonal (with pairwise input, not the same as a pairwise correlation)."""
    d = 1.0 / np.sqrt(np.diag(c))
    r = c * np.outer(d, d)
    np.fill_diagonal(r, 1.0)
    return np.asarray(r)


def smc(r: FloatArray) -> FloatArray:
    """Squared multiple correlations ``1 − 1/diag(R⁻¹)`` as psych::smc (pseudo-inverse, clipped to [0, 1])."""
    # psych::Pinv keeps singular values above sqrt(eps) × the largest one.
    inv = np.linalg.pinv(r, rcond=float(np.sqrt(_EPS)))
    out = 1.0 - 1.0 / np.diag(inv)
    return np.asarray(np.clip(out, 0.0, 1.0))


@dataclass(frozen=True)
class AlphaStats:
    """psych's ``alpha.1``: the internal-consistency statistics of one covariance/correlation pair."""

    raw_alpha: float
    std_alpha: float
    lambda6: float
    average_r: float
    median_r: float
    signal_noise: float
    q: float  # Duhachek & Iacobucci's asymptotic variance × n (psych's Q)


def alpha_stats(c: FloatArray, r: FloatArray) -> AlphaStats:
    """Alpha, standardised alpha, Guttman's λ6, mean and median inter-item r, S/N and Q.

    Same formulas, in the same order, as psych's ``alpha.1`` (psych 2.2.9):
    ``raw = (1 − tr C/ΣC)·k/(k−1)``, ``std = (1 − k/ΣR)·k/(k−1)``,
    ``λ6 = 1 − (k − Σ smc(R))/ΣR``, ``r̄ = (ΣR − k)/(k(k−1))``.
    """
    k = c.shape[0]
    sum_c = float(c.sum())
    tr_c = float(np.trace(c))
    sum_r = float(r.sum())
    raw = (1.0 - tr_c / sum_c) * (k / (k - 1))
    std = (1.0 - k / sum_r) * (k / (k - 1))
    lam6 = 1.0 - (k - float(smc(r).sum())) / sum_r
    av_r = (sum_r - k) / (k * (k - 1))
    lower = r[np.tril_indices(k, -1)]
    med_r = float(np.median(lower))
    sn = k * av_r / (1.0 - av_r)
    cc = c @ c
    q = (2.0 * k**2 / ((k - 1) ** 2 * sum_c**3)) * (
        sum_c * (float(np.trace(cc)) + tr_c**2) - 2.0 * (tr_c * float(cc.sum()))
    )
    return AlphaStats(raw, std, lam6, av_r, med_r, sn, q)
