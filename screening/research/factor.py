"""Minimum-residual factor analysis and McDonald's omega total, computed the way psych computes them.

psych::omega (psych 2.2.9) runs ``schmid()``, which calls ``fa(r, nfactors,
fm = "minres", rotate = "varimax")`` and then rotates obliquely (oblimin) and
applies the Schmid–Leiman transformation. Omega total is

    ω_t = (ΣR − Σ u²) / ΣR,   u² = 1 − h²,   h² = diag(L Lᵀ)

with ``L`` the varimax loadings of that minres solution (``schmid``:
``h2 <- diag(orth.load %*% t(orth.load))``). An orthogonal rotation leaves
``diag(L Lᵀ)`` unchanged, and the oblimin and Schmid–Leiman steps only
redistribute the same communalities between the general and group factors,
so ω_t depends on the minres communalities alone: this module reproduces
psych's minres fit exactly (same start, objective, gradient, bounds, scaling
and L-BFGS-B settings as ``optim`` in R) and does not need the rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from ._stats import smc

__all__ = ["MinresFit", "minres", "omega_total"]

FloatArray = npt.NDArray[np.float64]
_EPS = float(np.finfo(np.float64).eps)
# R's optim(method = "L-BFGS-B") defaults that psych leaves alone, and the
# parscale psych sets: lmm = 5, factr = 1e7, pgtol = 0, maxit = 100.
_PARSCALE = 0.01
_OPTIM = {"maxcor": 5, "ftol": 1e7 * _EPS, "gtol": 0.0, "maxiter": 100}


@dataclass(frozen=True)
class MinresFit:
    """A minres solution: unrotated loadings, the uniquenesses found, and the optimiser's report."""

    loadings: FloatArray
    uniquenesses: FloatArray
    communalities: FloatArray  # diag(L Lᵀ), what schmid/omega use as h²
    converged: bool
    message: str
    iterations: int


def _descending_eigh(a: FloatArray) -> tuple[FloatArray, FloatArray]:
    w, v = np.linalg.eigh(a)
    return w[::-1], v[:, ::-1]


def _objective(psi: FloatArray, s: FloatArray, nf: int) -> float:
    # psych fac() "fit.residuals", fm = "minres": squared off-diagonal residuals
    # of the reduced matrix (diagonal 1 − ψ) against its first nf principal axes.
    a = s.copy()
    np.fill_diagonal(a, 1.0 - psi)
    w, v = _descending_eigh(a)
    w = np.where(w < _EPS, 100.0 * _EPS, w)
    load = v[:, :nf] * np.sqrt(w[:nf])
    res = (a - load @ load.T)[np.tril_indices(len(psi), -1)]
    return float(np.sum(res**2))


def _gradient(psi: FloatArray, s: FloatArray, nf: int) -> FloatArray:
    # psych "FAgr.minres": the diagonal of L Lᵀ + Ψ − S (not the exact gradient
    # of the objective above; kept as psych has it, since it steers the path).
    w, v = _descending_eigh(s - np.diag(psi))
    load = v[:, :nf] * np.sqrt(np.maximum(w[:nf], 0.0))
    g = load @ load.T + np.diag(psi) - s
    return np.asarray(np.diag(g).copy())


def _loadings(psi: FloatArray, s: FloatArray, nf: int) -> FloatArray:
    # psych "FAout.wls"
    a = s.copy()
    np.fill_diagonal(a, np.diag(s) - psi)
    w, v = _descending_eigh(a)
    return np.asarray(v[:, :nf] * np.sqrt(np.maximum(w[:nf], 0.0)))


def minres(r: FloatArray, nfactors: int) -> MinresFit:
    """Minimum-residual (unweighted least squares) factor analysis of a correlation matrix, as psych::fa.

    Starts at ψ = 1 − SMC, bounds ψ to [0.005, max(SMC, 1)], and minimises with
    L-BFGS-B on ψ/0.01 (psych's ``parscale``), with R's default tolerances.
    """
    r = np.asarray(r, dtype=np.float64)
    s_smc = smc(r)
    start = np.diag(r) - s_smc
    upper = max(float(s_smc.max()), 1.0)
    res = minimize(
        lambda y: _objective(y * _PARSCALE, r, nfactors),
        start / _PARSCALE,
        jac=lambda y: _gradient(y * _PARSCALE, r, nfactors) * _PARSCALE,
        method="L-BFGS-B",
        bounds=[(0.005 / _PARSCALE, upper / _PARSCALE)] * len(start),
        options=_OPTIM,
    )
    psi = np.asarray(res.x, dtype=np.float64) * _PARSCALE
    load = _loadings(psi, r, nfactors)
    return MinresFit(
        loadings=load,
        uniquenesses=psi,
        communalities=np.sum(load**2, axis=1),
        converged=bool(res.success),
        message=str(res.message),
        iterations=int(res.nit),
    )


def omega_total(r: FloatArray, nfactors: int = 3) -> tuple[float, MinresFit]:
    """McDonald's ω_t of a keyed correlation matrix, as ``psych::omega(..., nfactors)``'s ``omega.tot``."""
    fit = minres(r, nfactors)
    vt = float(np.sum(r))
    u2 = np.diag(r) - fit.communalities
    return (vt - float(u2.sum())) / vt, fit
