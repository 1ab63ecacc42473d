"""Internal consistency of a score: alpha with a confidence interval, λ6, omega total and item statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from .._params import InvalidParameterError, check_choice
from ._inputs import ItemBlock, ScaleLike, resolve_items
from ._result import frame_text
from ._stats import alpha_stats, cov2cor, pairwise_cor, pairwise_cov, smc
from .factor import omega_total

__all__ = ["Reliability", "check_level", "keyed_matrix", "reliability"]

FloatArray = npt.NDArray[np.float64]
NanPolicy = Literal["pairwise", "listwise"]


@dataclass(frozen=True, repr=False)
class Reliability:
    """Result of :func:`reliability`.

    Attributes
    ----------
    summary : DataFrame
        One row (indexed by the score) with ``n_items``, ``n_obs`` (rows with
        at least one answer, or complete rows with ``nan_policy="listwise"``),
        ``n_complete``, ``alpha``, ``alpha_ci_low``, ``alpha_ci_high``,
        ``alpha_se`` (Duhachek's asymptotic standard error), ``alpha_std``,
        ``lambda6``, ``omega_total``, ``average_r``, ``median_r``,
        ``signal_noise``, ``mean`` and ``sd`` (of each person's mean keyed item score).
    items : DataFrame
        One row per item: ``key`` (+1, or −1 for reverse-keyed), ``n``,
        ``mean`` and ``sd`` (keyed), ``r_total`` (psych ``raw.r``), ``r_std``
        (``std.r``), ``r_cor`` (``r.cor``), ``r_rest`` (item–rest correlation,
        psych ``r.drop``), and ``alpha_if_deleted``, ``alpha_std_if_deleted``,
        ``lambda6_if_deleted``, ``average_r_if_deleted``, ``median_r_if_deleted``.
    nan_policy, ci, ci_method, omega_factors
        The options used.
    notes : tuple of str
        Anything the reader should know (e.g. why omega is missing).
    """

    score: str
    summary: pd.DataFrame
    items: pd.DataFrame
    nan_policy: str
    ci: float
    ci_method: str
    omega_factors: int | None
    notes: tuple[str, ...] = ()

    @property
    def alpha(self) -> float:
        return float(self.summary["alpha"].iloc[0])

    @property
    def alpha_ci(self) -> tuple[float, float]:
        row = self.summary.iloc[0]
        return float(row["alpha_ci_low"]), float(row["alpha_ci_high"])

    @property
    def lambda6(self) -> float:
        return float(self.summary["lambda6"].iloc[0])

    @property
    def omega_total(self) -> float:
        return float(self.summary["omega_total"].iloc[0])

    def __repr__(self) -> str:
        row = self.summary.iloc[0]
        lo, hi = self.alpha_ci
        head = (
            f"<Reliability {self.score}: {int(row['n_items'])} items, n = {int(row['n_obs'])} ({self.nan_policy})\n"
            f"  alpha = {row['alpha']:.3f} [{lo:.3f}, {hi:.3f}] ({self.ci:.0%} {self.ci_method}), "
            f"standardised = {row['alpha_std']:.3f}, lambda6 = {row['lambda6']:.3f}, "
            f"omega_total = {row['omega_total']:.3f}, mean r = {row['average_r']:.3f}"
        )
        notes = "".join(f"\n  note: {n}" for n in self.notes)
        return f"{head}{notes}\n{frame_text(self.items)}>"

    def _repr_html_(self) -> str:
        """Notebook view: the summary line, notes and the item table."""
        from ._result import html_view

        row = self.summary.iloc[0]
        lo, hi = self.alpha_ci
        lines = [f"{int(row['n_items'])} items, n = {int(row['n_obs'])} ({self.nan_policy}); alpha = {row['alpha']:.3f} "
                 f"[{lo:.3f}, {hi:.3f}] ({self.ci:.0%} {self.ci_method}); lambda6 = {row['lambda6']:.3f}; "
                 f"omega_total = {row['omega_total']:.3f}", *(f"note: {n}" for n in self.notes)]
        return html_view(f"Reliability {self.score}", lines, [("summary", self.summary), ("items", self.items)])


def check_level(func: str, ci: object) -> float:
    if isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0 < float(ci) < 1:
        raise InvalidParameterError(
            f"The 'ci' parameter of {func} must be a confidence level between 0 and 1 (e.g. 0.95). Got {ci!r} instead."
        )
    return float(ci)


def keyed_matrix(func: str, block: ItemBlock, nan_policy: str) -> tuple[FloatArray, int, int]:
    """Keyed item values with the rows ``nan_policy`` keeps; also n_obs and the number of complete rows."""
    x = block.keyed
    answered = ~np.isnan(x)
    complete = answered.all(axis=1)
    n_complete = int(complete.sum())
    if nan_policy == "listwise":
        x = x[complete]
        n_obs = n_complete
    else:
        x = x[answered.any(axis=1)]
        n_obs = len(x)
    if n_obs < 3:
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a table with at least 3 rows answering {block.label} "
            f"({'complete rows, as nan_policy is listwise' if nan_policy == 'listwise' else 'any item answered'}). "
            f"Got {n_obs} instead."
        )
    return x, n_obs, n_complete


def _check_items(func: str, block: ItemBlock, c: FloatArray) -> None:
    var = np.diag(c)
    flat = [block.items[k] for k in np.flatnonzero(~(var > 0))]
    if flat:
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a table in which every item of {block.label} varies "
            f"(leave constant items out). Got items {flat} with a single value (or no answers) instead."
        )
    if np.isnan(c).any():
        i, j = np.argwhere(np.isnan(c))[0]
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a table with at least 2 rows answering each pair of items "
            f"of {block.label}. "
            f"Got too few rows answering both {block.items[i]!r} and {block.items[j]!r} instead."
        )


def reliability(
    data: pd.DataFrame,
    scale: ScaleLike | None = None,
    score: str | None = None,
    *,
    reverse: Sequence[str] | None = None,
    nan_policy: NanPolicy = "pairwise",
    ci: float = 0.95,
    ci_method: Literal["feldt", "duhachek"] = "feldt",
    omega_factors: int | None = 3,
    columns: Mapping[str, str] | None = None,
    prefix: str | None = None,
    response_format: Literal["value", "index", "label"] = "value",
    on_invalid: Literal["raise", "missing"] = "raise",
) -> Reliability:
    """Internal consistency of one score: Cronbach's alpha (with a CI), λ6, ω total and item statistics.

    Parameters
    ----------
    data : DataFrame
        Responses, one row per person. With ``scale`` and ``score`` the items
        are read as :func:`screening.score` reads them (column
        ``f"{scale}_{item}"`` unless ``columns``/``prefix`` say otherwise) and
        reverse keys come from the scale file. Without a scale, every column
        is an item.
    scale : str, path, Scale or mapping, optional
        The scale whose score to analyse.
    score : str, optional
        Score id within ``scale`` (a ``sum`` or ``mean`` score; a score built
        from other scores uses all their items).
    reverse : list of str, optional
        Without a scale: the reverse-keyed columns, keyed as ``min + max − x``
        with the smallest and largest value in the table (as psych).
    nan_policy : {"pairwise", "listwise"}
        ``pairwise`` (psych's default): each covariance uses every row that
        answers both items; ``n_obs`` counts rows with at least one answer.
        ``listwise``: only rows answering every item are used.
    ci : float
        Confidence level of the alpha interval.
    ci_method : {"feldt", "duhachek"}
        ``feldt``: the F-distribution interval psych reports (Feldt, Woodruff
        & Salih 1987); ``duhachek``: alpha ± z·SE with the asymptotic SE of
        Duhachek & Iacobucci (2004), psych's "Duhachek" line.
    omega_factors : int or None
        Number of group factors of the minres solution behind ω total
        (psych::omega's ``nfactors``, default 3). ``None`` skips omega. It
        must be smaller than the number of items, otherwise ω is NaN.
    columns, prefix, response_format, on_invalid
        As in :func:`screening.score` (scale mode only).

    Returns
    -------
    Reliability
        ``.summary`` (one row) and ``.items`` (one row per item) DataFrames.

    Raises
    ------
    InvalidParameterError
        On a bad argument, an item without variance, or a pair of items never answered together.

    Notes
    -----
    With ``C`` the covariance and ``R`` the correlation matrix of the keyed
    items (``R = cov2cor(C)``), ``k`` items and ``n`` observations:

    - alpha ``α = k/(k−1) · (1 − tr C / ΣC)``; standardised ``α_s = k/(k−1) · (1 − k/ΣR)``;
    - Guttman's ``λ6 = 1 − (k − Σ smc_i)/ΣR``, ``smc_i = 1 − 1/(R⁻¹)_ii`` (psych ``G6(smc)``);
    - mean inter-item correlation ``r̄ = (ΣR − k)/(k(k−1))``;
    - item–rest ``r_rest,i = (Σ_j C_ij − C_ii)/√(C_ii · ΣC₋ᵢ)`` (psych ``r.drop``);
    - Feldt CI: ``1 − (1−α)·F_{1−p/2}(n−1, (n−1)(k−1))`` to ``1 − (1−α)·F_{p/2}(…)``;
    - Duhachek SE: ``√(Q/n)``, ``Q = 2k²/((k−1)²(ΣC)³) · (ΣC(tr C² + (tr C)²) − 2 tr C · Σ(C²))``;
    - ω total ``= (ΣR − Σ(1 − h²_i))/ΣR`` from a minres factor analysis with
      ``omega_factors`` factors (see :mod:`screening.research.factor`), on
      the pairwise correlation matrix ``cor(x, use = "pairwise")`` as psych::omega.

    Results agree with psych 2.2.9 to better than 1e-9 on the bfi data (the
    tests compare against values recorded from R). psych counts every row of
    the data in ``n`` (``nrow(x)``); here a row with no answer to any item of
    the score is not an observation. The two agree whenever no row is blank.

    References
    ----------
    Cronbach (1951) Psychometrika 16:297. Guttman (1945) Psychometrika 10:255.
    McDonald (1999) Test Theory: A Unified Treatment. Feldt, Woodruff & Salih
    (1987) Appl Psychol Meas 11:93. Duhachek & Iacobucci (2004) J Appl Psychol
    89:792. Revelle (2024) psych: Procedures for Psychological, Psychometric,
    and Personality Research (``alpha``, ``omega``).

    Examples
    --------
    The R equivalent is ``psych::alpha(x, keys = ...)`` plus
    ``psych::omega(x, key = ..., nfactors = 3)$omega.tot``.

    >>> import pandas as pd
    >>> import screening.research as rs
    >>> x = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [5, 4, 3, 2, 2]})
    >>> res = rs.reliability(x, reverse=["c"], omega_factors=None)
    >>> round(res.alpha, 3)
    0.979
    """
    func = "reliability"
    check_choice(func, "nan_policy", nan_policy, ("pairwise", "listwise"))
    check_choice(func, "ci_method", ci_method, ("feldt", "duhachek"))
    level = check_level(func, ci)
    if omega_factors is not None and (
        isinstance(omega_factors, bool) or not isinstance(omega_factors, int) or omega_factors < 1
    ):
        raise InvalidParameterError(
            f"The 'omega_factors' parameter of {func} must be a positive int or None. Got {omega_factors!r} instead."
        )
    block = resolve_items(
        func,
        data,
        scale,
        score,
        reverse=reverse,
        columns=columns,
        prefix=prefix,
        response_format=response_format,
        on_invalid=on_invalid,
    )
    return _reliability(func, block, nan_policy, level, ci_method, omega_factors)


def _reliability(
    func: str, block: ItemBlock, nan_policy: str, level: float, ci_method: str, omega_factors: int | None
) -> Reliability:
    x, n_obs, n_complete = keyed_matrix(func, block, nan_policy)
    k = x.shape[1]
    c = pairwise_cov(x)
    _check_items(func, block, c)
    r = cov2cor(c)
    total = alpha_stats(c, r)
    notes: list[str] = []

    p = 1.0 - level
    if ci_method == "feldt":
        df1, df2 = n_obs - 1, (n_obs - 1) * (k - 1)
        lo = 1.0 - (1.0 - total.raw_alpha) * stats.f.ppf(1.0 - p / 2, df1, df2)
        hi = 1.0 - (1.0 - total.raw_alpha) * stats.f.ppf(p / 2, df1, df2)
    # Q can be negative when a pairwise covariance matrix is not positive semi-definite
    se = float(np.sqrt(total.q / n_obs)) if total.q >= 0 else np.nan
    if np.isnan(se):
        notes.append("the asymptotic SE of alpha is undefined here (Q < 0: the pairwise covariance matrix is not "
                     "positive semi-definite)")
    if ci_method == "duhachek":
        z = stats.norm.ppf(1.0 - p / 2)
        lo, hi = total.raw_alpha - z * se, total.raw_alpha + z * se

    omega = np.nan
    if omega_factors is not None:
        if omega_factors < k:
            omega, fit = omega_total(pairwise_cor(x), omega_factors)
            if not fit.converged:
                notes.append(f"the minres fit behind omega did not converge ({fit.message})")
        else:
            notes.append(f"omega needs more items than factors ({k} items, omega_factors={omega_factors})")

    with np.errstate(invalid="ignore"):
        answered = ~np.isnan(x)
        person_mean = np.where(answered, x, 0.0).sum(axis=1) / answered.sum(axis=1)
    summary = pd.DataFrame(
        {
            "n_items": [k],
            "n_obs": [n_obs],
            "n_complete": [n_complete],
            "alpha": [total.raw_alpha],
            "alpha_ci_low": [float(lo)],
            "alpha_ci_high": [float(hi)],
            "alpha_se": [se],
            "alpha_std": [total.std_alpha],
            "lambda6": [total.lambda6],
            "omega_total": [float(omega)],
            "average_r": [total.average_r],
            "median_r": [total.median_r],
            "signal_noise": [total.signal_noise],
            "mean": [float(np.mean(person_mean))],
            "sd": [float(np.std(person_mean, ddof=1))],
        },
        index=pd.Index([block.label], name="score"),
    )
    items = _item_table(block, x, c, r, k)
    return Reliability(block.label, summary, items, nan_policy, level, ci_method, omega_factors, tuple(notes))


def item_rest(c: FloatArray) -> FloatArray:
    """psych ``r.drop``: each item's correlation with the sum of the other items, from the covariance matrix."""
    colsum = c.sum(axis=0)
    diag = np.diag(c)
    rest_var = c.sum() - 2.0 * colsum + diag  # Σ of C without row and column i
    return np.asarray((colsum - diag) / np.sqrt(diag * rest_var))


def _item_table(block: ItemBlock, x: FloatArray, c: FloatArray, r: FloatArray, k: int) -> pd.DataFrame:
    drop: dict[str, list[float]] = {
        "alpha_if_deleted": [],
        "alpha_std_if_deleted": [],
        "lambda6_if_deleted": [],
        "average_r_if_deleted": [],
        "median_r_if_deleted": [],
    }
    for i in range(k):  # one small k×k matrix per item, not a loop over rows
        if k > 2:
            keep = np.arange(k) != i
            s = alpha_stats(c[np.ix_(keep, keep)], r[np.ix_(keep, keep)])
            vals = (s.raw_alpha, s.std_alpha, s.lambda6, s.average_r, s.median_r)
        else:  # alpha of one item is undefined
            vals = (np.nan,) * 5
        for key, v in zip(drop, vals, strict=True):
            drop[key].append(float(v))
    answered = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        person_mean = np.where(answered, x, 0.0).sum(axis=1) / answered.sum(axis=1)
    r_total = pairwise_cor(np.column_stack([person_mean, x]))[0, 1:]
    rc = r.copy()
    np.fill_diagonal(rc, smc(r))
    n = answered.sum(axis=0)
    mean = np.where(answered, x, 0.0).sum(axis=0) / n
    sd = np.sqrt(np.diag(c))
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN where a sum of correlations is not positive
        r_std = r.sum(axis=0) / np.sqrt(r.sum())
        r_cor = rc.sum(axis=0) / np.sqrt(rc.sum())
        r_rest = item_rest(c)
    return pd.DataFrame(
        {
            "key": block.keys.astype(int),
            "n": n.astype(int),
            "mean": mean,
            "sd": sd,
            "r_total": r_total,
            "r_std": r_std,
            "r_cor": r_cor,
            "r_rest": r_rest,
            **drop,
        },
        index=pd.Index(list(block.items), name="item"),
    )
