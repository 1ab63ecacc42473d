"""Small, vectorised statistics for group summaries: Wilson intervals, an exact one-sided test, p-value corrections.

References
----------
- Wilson EB. Probable inference, the law of succession, and statistical
  inference. J Am Stat Assoc 1927;22:209-212. (Interval recommended over the
  Wald interval for small n and proportions near 0 or 1 by Brown, Cai &
  DasGupta, Stat Sci 2001;16:101-133.)
- Fisher's exact test, one-sided: for a group of ``n`` students with ``k``
  in the concern tier, out of a population of ``N`` with ``K`` such students,
  the p-value of "the group's rate is above the rest's" is
  ``P(X >= k)`` with ``X ~ Hypergeometric(N, K, n)`` (the conditional test of
  the 2×2 table group vs rest).
- Holm S. A simple sequentially rejective multiple test procedure. Scand J
  Stat 1979;6:65-70 (valid under any dependence between the tests).
- Benjamini Y, Hochberg Y. Controlling the false discovery rate. J R Stat Soc B
  1995;57:289-300.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = ["adjust_p", "exact_greater_p", "wilson_interval"]

FloatArray = npt.NDArray[np.float64]


def wilson_interval(k: npt.ArrayLike, n: npt.ArrayLike, confidence: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for ``k`` successes out of ``n`` (NaN where ``n == 0``).

    Examples
    --------
    >>> lo, hi = wilson_interval([3], [8])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.1368, 0.6943)
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        lo = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        hi = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    # exact ends: the interval of 0/n starts at 0 and of n/n ends at 1 (rounding can miss by 1e-17)
    lo = np.where((k == 0) & (n > 0), 0.0, lo)
    hi = np.where((k == n) & (n > 0), 1.0, hi)
    return lo, hi


def exact_greater_p(k: npt.ArrayLike, n: npt.ArrayLike, k_total: int, n_total: int) -> FloatArray:
    """One-sided exact p-value that a group's rate ``k/n`` is above the rest of the population's.

    ``k_total`` and ``n_total`` are the whole population's counts (the group
    included). Equivalent to ``scipy.stats.fisher_exact([[k, n-k], [K-k, N-n-(K-k)]],
    alternative="greater")`` for each group. NaN where the group is empty or is
    the whole population (nothing to compare with).
    """
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    p = stats.hypergeom.sf(k - 1, n_total, k_total, n)
    return np.where((n > 0) & (n < n_total), np.clip(p, 0.0, 1.0), np.nan)


def adjust_p(p: npt.ArrayLike, method: str = "holm") -> FloatArray:
    """Adjusted p-values (``"holm"`` or ``"bh"``); NaN entries stay NaN and are not counted as tests.

    Examples
    --------
    >>> adjust_p([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p([0.01, 0.04, 0.03], "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    q = p[ok]
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bh":
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * ranked[::-1])[::-1]
    else:
        raise ValueError(f"unknown correction {method!r}")
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out
