"""Funnel-plot control limits for proportions, with over-dispersion (Spiegelhalter 2005).

A unit (school, grade …) with ``n`` students of whom ``r`` are in the concern
group has the proportion ``y = r / n``. Against a target ``θ₀`` (the district
rate) its standard error under the null is ``s = √(θ₀(1 − θ₀)/n)`` and its
z-score ``z = (y − θ₀)/s``. Everything here is on the proportion scale.

Limits
------
*Exact binomial* (no over-dispersion), Spiegelhalter (2005a) Appendix A.1:
for the one-sided probability ``p`` (0.975 for the 95% funnel, 0.999 for the
99.8% funnel) let ``r_p`` be the smallest integer with
``F(r_p) = P(R ≤ r_p) ≥ p`` for ``R ~ Binomial(n, θ₀)``, and interpolate

    α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)),    y_p = (r_p − α) / n,

which gives smooth funnels; the lower limit uses ``1 − p``.

*Normal* (used once the variance is inflated): ``θ₀ ± z_p · s``.

Over-dispersion (Spiegelhalter 2005b)
-------------------------------------
Real schools differ for reasons the binomial does not know (catchment,
survey conditions), so with many large schools most of them would be
"outside the limits". Over-dispersion is estimated from the units' z-scores
after *winsorising* them at their 10th and 90th percentiles (so the units under
suspicion do not inflate it):

- multiplicative: ``φ̂ = (1/I) Σ zᵢ²`` (winsorised ``z``); limits
  ``θ₀ ± z_p √φ̂ · s`` when ``φ̂ > 1``;
- additive random effects (DerSimonian–Laird style, the paper's preferred
  option): with ``wᵢ = 1/sᵢ²``,

      τ̂² = (I φ̂ − (I − 1)) / (Σ wᵢ − Σ wᵢ² / Σ wᵢ)     (0 when I φ̂ ≤ I − 1),

  limits ``θ₀ ± z_p √(sᵢ² + τ̂²)`` and z-scores ``(y − θ₀)/√(sᵢ² + τ̂²)``.

``I φ̂`` is compared with a χ² on ``I − 1`` degrees of freedom as the test of
over-dispersion.

References
----------
- Spiegelhalter DJ. Funnel plots for comparing institutional performance.
  Stat Med 2005;24:1185-1202, doi:10.1002/sim.1970 (2005a).
- Spiegelhalter DJ. Handling over-dispersion of performance indicators.
  Qual Saf Health Care 2005;14:347-351, doi:10.1136/qshc.2005.013755 (2005b).
- DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin
  Trials 1986;7:177-188.
- The same winsorisation (R ``quantile`` type 7, values clamped) and τ²
  formula are used by the R package FunnelPlotR (Mainey et al.,
  ``R/od_adjustment.R``), which works on transformed scales; the values
  here are checked against an independent R implementation on the proportion
  scale, ``tests/fixtures/warning/funnel_reference.R`` (see
  ``tests/test_warning_funnel.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = ["Dispersion", "dispersion", "exact_limits", "funnel", "normal_limits", "winsorise"]

FloatArray = npt.NDArray[np.float64]

#: One-sided probabilities of the two funnels: 95% and 99.8% two-sided.
P95, P998 = 0.975, 0.999

Method = Literal["additive", "multiplicative", "none"]


def exact_limits(n: npt.ArrayLike, target: float, p: float) -> FloatArray:
    """Interpolated exact binomial limit (proportion) at one-sided probability ``p`` for each ``n``.

    ``p > 0.5`` gives an upper limit, ``p < 0.5`` a lower one. NaN where ``n == 0``.

    Examples
    --------
    >>> round(float(exact_limits([100], 0.1, 0.975)[0]), 6)
    0.157719
    """
    n = np.asarray(n, dtype=float)
    ok = n > 0
    nn = np.where(ok, n, 1.0)
    r = stats.binom.ppf(p, nn, target)  # smallest r with F(r) >= p
    f_r = stats.binom.cdf(r, nn, target)
    f_r1 = stats.binom.cdf(r - 1, nn, target)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(f_r > f_r1, (f_r - p) / (f_r - f_r1), 0.0)
    return np.where(ok, (r - alpha) / nn, np.nan)


def normal_limits(n: npt.ArrayLike, target: float, p: float, *, phi: float = 1.0, tau2: float = 0.0) -> FloatArray:
    """``θ₀ + z_p √(φ s² + τ²)`` with ``s² = θ₀(1−θ₀)/n`` (NaN where ``n == 0``)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = np.where(n > 0, target * (1 - target) / n, np.nan)
    return target + float(stats.norm.ppf(p)) * np.sqrt(phi * s2 + tau2)


def winsorise(z: npt.ArrayLike, fraction: float = 0.1) -> FloatArray:
    """``z`` clamped to its ``fraction`` and ``1 − fraction`` quantiles (linear interpolation, R type 7)."""
    z = np.asarray(z, dtype=float)
    if not z.size:
        return z
    lo, hi = np.quantile(z, [fraction, 1 - fraction])
    return np.asarray(np.clip(z, lo, hi), dtype=float)


@dataclass(frozen=True)
class Dispersion:
    """Over-dispersion estimated from the units of one comparison.

    Attributes
    ----------
    units : int
        Units used (``n > 0``).
    phi : float
        Winsorised dispersion ratio ``φ̂`` (about 1 without over-dispersion).
    tau2 : float
        Additive between-unit variance ``τ̂²`` on the proportion scale.
    p_value : float
        Test of over-dispersion: ``P(χ²_{I−1} ≥ I φ̂)``.
    """

    units: int
    phi: float
    tau2: float
    p_value: float

    def as_dict(self) -> dict[str, float | int]:
        return {"units": self.units, "phi": self.phi, "tau2": self.tau2, "p_value": self.p_value}


def dispersion(events: npt.ArrayLike, n: npt.ArrayLike, target: float, *, winsor: float = 0.1) -> Dispersion:
    """φ̂ and τ̂² of Spiegelhalter (2005b) from the winsorised z-scores of the units with ``n > 0``."""
    k = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    ok = n > 0
    k, n = k[ok], n[ok]
    units = int(n.size)
    if units < 2 or not 0 < target < 1:
        return Dispersion(units, float("nan"), 0.0, float("nan"))
    s2 = target * (1 - target) / n
    z = (k / n - target) / np.sqrt(s2)
    zw = winsorise(z, winsor)
    phi = float(np.mean(zw**2))
    w = 1 / s2
    denom = float(w.sum() - (w**2).sum() / w.sum())
    tau2 = max(0.0, (units * phi - (units - 1)) / denom) if denom > 0 else 0.0
    p_value = float(stats.chi2.sf(units * phi, units - 1))
    return Dispersion(units, phi, tau2, p_value)


def funnel(
    events: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    target: float | None = None,
    overdispersion: Method = "additive",
    winsor: float = 0.1,
    min_units: int = 10,
) -> tuple[dict[str, FloatArray], Dispersion, float]:
    """z-scores and 95% / 99.8% limits of every unit against ``target`` (default the pooled rate).

    Returns
    -------
    columns : dict
        ``z``, ``lower95``, ``upper95``, ``lower998``, ``upper998`` (proportions).
        Without over-dispersion (``"none"``, or when the estimate is ``τ̂² = 0``
        / ``φ̂ ≤ 1``) the limits are exact binomial and ``z`` is the plain
        z-score; otherwise normal limits with the inflated variance and the
        matching z-score.
    dispersion : Dispersion
    target : float

    With fewer than ``min_units`` units (default 10) the limits are never
    widened: winsorising at 10% and 90% trims nobody below ten units, so one
    outlying unit would make its own over-dispersion and hide itself.
    """
    k = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    if target is None:
        total = float(n.sum())
        target = float(k.sum() / total) if total > 0 else float("nan")
    disp = dispersion(k, n, target, winsor=winsor)
    phi, tau2 = 1.0, 0.0
    if disp.units < min_units:
        pass
    elif overdispersion == "additive":
        tau2 = disp.tau2
    elif overdispersion == "multiplicative" and disp.phi > 1:
        phi = disp.phi
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = np.where(n > 0, target * (1 - target) / n, np.nan)
        z = np.where(n > 0, (k / np.where(n > 0, n, 1) - target) / np.sqrt(phi * s2 + tau2), np.nan)
    out: dict[str, FloatArray] = {"z": z}
    for name, p in (("95", P95), ("998", P998)):
        if phi == 1.0 and tau2 == 0.0 and 0 < target < 1:
            up, lo = exact_limits(n, target, p), exact_limits(n, target, 1 - p)
        else:
            up = normal_limits(n, target, p, phi=phi, tau2=tau2)
            lo = normal_limits(n, target, 1 - p, phi=phi, tau2=tau2)
        out[f"lower{name}"] = np.clip(lo, 0.0, 1.0)
        out[f"upper{name}"] = np.clip(up, 0.0, 1.0)
    return out, disp, target
