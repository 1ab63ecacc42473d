"""Cut-off validation against a criterion: ROC/AUC, sensitivity, specificity and predictive values with intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from .._params import InvalidParameterError, check_choice
from ._result import frame_text
from .reliability import check_level

__all__ = [
    "CutoffEvaluation",
    "clopper_pearson_interval",
    "delong_se",
    "evaluate_cutoffs",
    "hanley_mcneil_se",
    "wilson_interval",
]

FloatArray = npt.NDArray[np.float64]


def wilson_interval(x: npt.ArrayLike, n: npt.ArrayLike, level: float) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval without continuity correction (R: ``prop.test(x, n, correct = FALSE)``)."""
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    z = stats.norm.ppf(1.0 - (1.0 - level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # as prop.test: exactly 0 / 1 at the boundaries (the formula can miss them by rounding)
    lo = np.where(p <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(p >= 1, 1.0, np.clip(centre + half, 0.0, 1.0))
    return lo, hi


def clopper_pearson_interval(x: npt.ArrayLike, n: npt.ArrayLike, level: float) -> tuple[FloatArray, FloatArray]:
    """Exact Clopper–Pearson interval (R: ``binom.test(x, n)$conf.int``)."""
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    a = (1.0 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(x > 0, stats.beta.ppf(a, x, n - x + 1), 0.0)
        hi = np.where(x < n, stats.beta.ppf(1 - a, x + 1, n - x), 1.0)
    bad = ~(n > 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def _placements(cases: FloatArray, controls: FloatArray) -> tuple[FloatArray, FloatArray]:
    """DeLong placement values: for each case the share of controls below it (ties ½), and vice versa."""
    ctrl = np.sort(controls)
    cas = np.sort(cases)
    v10 = (np.searchsorted(ctrl, cases, side="left") + np.searchsorted(ctrl, cases, side="right")) / (2.0 * len(ctrl))
    v01 = 1.0 - (np.searchsorted(cas, controls, side="left") + np.searchsorted(cas, controls, side="right")) / (
        2.0 * len(cas)
    )
    return v10, v01


def delong_se(cases: FloatArray, controls: FloatArray) -> float:
    """DeLong, DeLong & Clarke-Pearson (1988) standard error of the AUC (as pROC's ``var(roc, method = "delong")``)."""
    v10, v01 = _placements(cases, controls)
    return float(np.sqrt(np.var(v10, ddof=1) / len(cases) + np.var(v01, ddof=1) / len(controls)))


def hanley_mcneil_se(auc: float, n_cases: int, n_controls: int) -> float:
    """Hanley & McNeil (1982) standard error of the AUC from the AUC and the group sizes."""
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    var = (auc * (1 - auc) + (n_cases - 1) * (q1 - auc**2) + (n_controls - 1) * (q2 - auc**2)) / (n_cases * n_controls)
    return float(np.sqrt(var))


@dataclass(frozen=True, repr=False)
class CutoffEvaluation:
    """Result of :func:`evaluate_cutoffs`.

    Attributes
    ----------
    table : DataFrame
        One row per cut-off: ``cutoff``, ``tp``, ``fp``, ``fn``, ``tn``,
        ``sensitivity``, ``specificity``, ``ppv``, ``npv`` (each with ``_low``
        and ``_high`` interval ends), ``youden`` (J = sensitivity + specificity − 1),
        and with a ``prevalence``: ``ppv_at_prevalence``, ``npv_at_prevalence`` with intervals.
    roc : DataFrame
        The empirical ROC curve: ``threshold``, ``fpr``, ``tpr`` from (0, 0) to (1, 1).
    auc, auc_se : float
        Area under the ROC curve and its standard error.
    auc_ci : tuple of float
        Confidence interval of the AUC.
    youden : Series
        The table row with the largest Youden J.
    n_cases, n_controls, n_excluded : int
        Criterion-positive and -negative rows used, and rows left out (a missing score or criterion).
    """

    table: pd.DataFrame
    roc: pd.DataFrame
    auc: float
    auc_se: float
    auc_ci: tuple[float, float]
    youden: pd.Series
    n_cases: int
    n_controls: int
    n_excluded: int
    positive: str
    ci: float
    ci_method: str
    auc_ci_method: str
    prevalence: float | None

    def _repr_html_(self) -> str:
        """Notebook view: AUC, the Youden optimum and the cut-off table."""
        from ._result import html_view

        lo, hi = self.auc_ci
        lines = [f"{self.n_cases} cases, {self.n_controls} controls ({self.n_excluded} excluded)",
                 f"AUC = {self.auc:.3f} [{lo:.3f}, {hi:.3f}] ({self.ci:.0%} {self.auc_ci_method}); Youden optimum: "
                 f"cut-off {self.youden['cutoff']:g}"]
        cols = ["cutoff", "tp", "fp", "fn", "tn", "sensitivity", "specificity", "ppv", "npv", "youden"]
        return html_view("CutoffEvaluation", lines, [("cut-offs", self.table[[c for c in cols if c in self.table]])])

    def __repr__(self) -> str:
        lo, hi = self.auc_ci
        sign = ">=" if self.positive == "high" else "<="
        head = (
            f"<CutoffEvaluation: {self.n_cases} cases, {self.n_controls} controls ({self.n_excluded} excluded); "
            f"positive when score {sign} cut-off\n  AUC = {self.auc:.3f} [{lo:.3f}, {hi:.3f}] "
            f"({self.ci:.0%} {self.auc_ci_method}); Youden optimum: cut-off {self.youden['cutoff']:g} "
            f"(sensitivity {self.youden['sensitivity']:.3f}, specificity {self.youden['specificity']:.3f})"
        )
        cols = ["cutoff", "tp", "fp", "fn", "tn", "sensitivity", "specificity", "ppv", "npv", "youden"]
        if self.prevalence is not None:
            cols += ["ppv_at_prevalence", "npv_at_prevalence"]
        return f"{head}\n{frame_text(self.table[cols].set_index('cutoff'))}>"


def _as_float(func: str, name: str, values: object) -> FloatArray:
    if isinstance(values, pd.DataFrame):
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} must be one column (a Series or 1-d array). Got a DataFrame instead."
        )
    arr = pd.Series(values) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_bool_dtype(arr.dtype):
        return arr.to_numpy(dtype=np.float64, na_value=np.nan)
    num = pd.to_numeric(arr, errors="coerce")
    bad = arr.notna().to_numpy() & num.isna().to_numpy()
    if bad.any():
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} must be numbers (NaN for missing). "
            f"Got {int(bad.sum())} value(s) that are not numbers, at row positions "
            f"{np.flatnonzero(bad)[:10].tolist()}, instead."
        )
    return num.to_numpy(dtype=np.float64, na_value=np.nan)


def _expit(v: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-v)))


def _mercaldo(sens: FloatArray, spec: FloatArray, n1: int, n0: int, prev: float, z: float) -> tuple[FloatArray, ...]:
    """PPV and NPV at prevalence ``prev`` with logit intervals (Mercaldo, Lau & Zhou 2007)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ppv = sens * prev / (sens * prev + (1 - spec) * (1 - prev))
        npv = spec * (1 - prev) / (spec * (1 - prev) + (1 - sens) * prev)
        logit_ppv = np.log(sens * prev / ((1 - spec) * (1 - prev)))
        var_ppv = (1 - sens) / (sens * n1) + spec / ((1 - spec) * n0)
        logit_npv = np.log(spec * (1 - prev) / ((1 - sens) * prev))
        var_npv = sens / ((1 - sens) * n1) + (1 - spec) / (spec * n0)
        inner = (sens > 0) & (sens < 1) & (spec > 0) & (spec < 1)
        ppv_lo = np.where(inner, _expit(logit_ppv - z * np.sqrt(var_ppv)), np.nan)
        ppv_hi = np.where(inner, _expit(logit_ppv + z * np.sqrt(var_ppv)), np.nan)
        npv_lo = np.where(inner, _expit(logit_npv - z * np.sqrt(var_npv)), np.nan)
        npv_hi = np.where(inner, _expit(logit_npv + z * np.sqrt(var_npv)), np.nan)
    return ppv, ppv_lo, ppv_hi, npv, npv_lo, npv_hi


def evaluate_cutoffs(
    scores: pd.Series | Sequence[float] | FloatArray,
    criterion: pd.Series | Sequence[float] | FloatArray,
    *,
    cutoffs: Sequence[float] | None = None,
    positive: Literal["high", "low"] = "high",
    prevalence: float | None = None,
    ci: float = 0.95,
    ci_method: Literal["wilson", "clopper_pearson"] = "wilson",
    auc_ci_method: Literal["delong", "hanley_mcneil"] = "delong",
) -> CutoffEvaluation:
    """ROC analysis and the accuracy of every candidate cut-off of a score against a criterion.

    Parameters
    ----------
    scores : Series or array
        The screening score (e.g. ``out["phq9.total"]``); NaN rows are left out.
    criterion : Series or array
        The reference standard, 1/True for a case and 0/False for a non-case
        (e.g. a clinical interview diagnosis); NaN rows are left out.
    cutoffs : list of float, optional
        Cut-offs to tabulate; default every distinct score in the data.
    positive : {"high", "low"}
        ``high``: a score ≥ the cut-off screens positive (scores where higher
        is worse); ``low``: a score ≤ the cut-off screens positive.
    prevalence : float, optional
        Prevalence of the condition in the population the screen will be used
        in. Adds PPV and NPV recomputed for it with Bayes' theorem.
    ci : float
        Confidence level of every interval.
    ci_method : {"wilson", "clopper_pearson"}
        Interval for sensitivity, specificity and the sample PPV and NPV:
        Wilson score (no continuity correction) or exact Clopper–Pearson.
    auc_ci_method : {"delong", "hanley_mcneil"}
        Standard error of the AUC: DeLong's nonparametric one (default, as
        pROC) or Hanley & McNeil's formula; the interval is AUC ± z·SE, clipped to [0, 1].

    Returns
    -------
    CutoffEvaluation
        ``.table`` (one row per cut-off), ``.roc``, ``.auc``, ``.auc_ci``, ``.youden``.

    Notes
    -----
    - AUC: the Mann–Whitney probability ``P(X_case > X_control) + ½·P(X_case = X_control)``
      (the trapezoidal area under the empirical ROC curve).
    - DeLong SE: ``√(s²(V10)/m + s²(V01)/n)`` with the placement values
      ``V10_i`` (share of controls below case i, ties ½) and ``V01_j``.
    - Hanley–McNeil SE: ``√((A(1−A) + (m−1)(Q1−A²) + (n−1)(Q2−A²))/(mn))``,
      ``Q1 = A/(2−A)``, ``Q2 = 2A²/(1+A)``.
    - Youden's J = sensitivity + specificity − 1; the optimum is the cut-off
      with the largest J (among ties, the one with the higher sensitivity).
    - ``ppv``/``npv`` are the proportions in this sample, and only describe a
      population with the sample's prevalence. At another prevalence ``p``:
      ``PPV = Se·p/(Se·p + (1−Sp)(1−p))``, ``NPV = Sp(1−p)/(Sp(1−p) + (1−Se)p)``,
      with the logit intervals of Mercaldo, Lau & Zhou (2007) (NaN when Se or
      Sp is 0 or 1, where the logit is undefined).

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL (1988) Biometrics 44:837. Hanley JA,
    McNeil BJ (1982) Radiology 143:29. Wilson EB (1927) JASA 22:209. Clopper CJ,
    Pearson ES (1934) Biometrika 26:404. Youden WJ (1950) Cancer 3:32.
    Mercaldo ND, Lau KF, Zhou XH (2007) Stat Med 26:2170.

    Examples
    --------
    R equivalent: ``pROC::roc(criterion, scores, direction = "<")``,
    ``pROC::ci.auc(r, method = "delong")``, ``prop.test(tp, n, correct = FALSE)$conf.int``.

    >>> import screening.research as rs
    >>> ev = rs.evaluate_cutoffs([1, 2, 3, 4, 5, 6], [0, 0, 1, 0, 1, 1])
    >>> round(ev.auc, 3), float(ev.youden["cutoff"])
    (0.889, 3.0)
    """
    func = "evaluate_cutoffs"
    check_choice(func, "positive", positive, ("high", "low"))
    check_choice(func, "ci_method", ci_method, ("wilson", "clopper_pearson"))
    check_choice(func, "auc_ci_method", auc_ci_method, ("delong", "hanley_mcneil"))
    level = check_level(func, ci)
    if prevalence is not None and (
        isinstance(prevalence, bool) or not isinstance(prevalence, (int, float)) or not 0 < prevalence < 1
    ):
        raise InvalidParameterError(
            f"The 'prevalence' parameter of {func} must be a proportion strictly between 0 and 1 or None. "
            f"Got {prevalence!r} instead."
        )
    x = _as_float(func, "scores", scores)
    y = _as_float(func, "criterion", criterion)
    if len(x) != len(y):
        raise InvalidParameterError(
            f"The 'criterion' parameter of {func} must be one value per score ({len(x)}). Got {len(y)} instead."
        )
    if isinstance(scores, pd.Series) and isinstance(criterion, pd.Series) and not scores.index.equals(criterion.index):
        raise InvalidParameterError(
            f"The 'criterion' parameter of {func} must be indexed like 'scores' (rows are matched by position). "
            "Got a different index instead."
        )
    if np.isinf(x).any():
        raise InvalidParameterError(
            f"The 'scores' parameter of {func} must be finite or NaN. Got infinite values instead."
        )
    bad_y = ~np.isnan(y) & (y != 0) & (y != 1)
    if bad_y.any():
        raise InvalidParameterError(
            f"The 'criterion' parameter of {func} must be 0/1 or False/True (NaN for unknown). "
            f"Got {int(bad_y.sum())} other value(s), e.g. {float(y[bad_y][0])!r}, instead."
        )
    keep = ~np.isnan(x) & ~np.isnan(y)
    n_excluded = int((~keep).sum())
    x, y = x[keep], y[keep]
    signed = x if positive == "high" else -x
    cases, controls = signed[y == 1], signed[y == 0]
    m, n = len(cases), len(controls)
    if m < 2 or n < 2:
        raise InvalidParameterError(
            f"The 'criterion' parameter of {func} must be 1 for at least 2 and 0 for at least 2 of the scored rows. "
            f"Got {m} case(s) and {n} non-case(s) instead."
        )

    if cutoffs is None:
        cuts = np.unique(x)
    else:
        cuts = np.asarray(_as_float(func, "cutoffs", list(cutoffs)), dtype=np.float64)
        if np.isnan(cuts).any() or len(cuts) == 0:
            raise InvalidParameterError(
                f"The 'cutoffs' parameter of {func} must be a non-empty list of numbers. Got {cutoffs!r} instead."
            )
        cuts = np.unique(cuts)
    sc_cases, sc_ctrl = np.sort(cases), np.sort(controls)
    thr = cuts if positive == "high" else -cuts
    tp = m - np.searchsorted(sc_cases, thr, side="left")
    fp = n - np.searchsorted(sc_ctrl, thr, side="left")
    fn, tn = m - tp, n - fp
    interval = wilson_interval if ci_method == "wilson" else clopper_pearson_interval
    with np.errstate(invalid="ignore", divide="ignore"):
        sens, spec = tp / m, tn / n
        ppv, npv = tp / (tp + fp), tn / (tn + fn)
    table = pd.DataFrame({"cutoff": cuts, "tp": tp, "fp": fp, "fn": fn, "tn": tn})
    for name, est, (lo, hi) in (
        ("sensitivity", sens, interval(tp, np.full(len(tp), m), level)),
        ("specificity", spec, interval(tn, np.full(len(tn), n), level)),
        ("ppv", ppv, interval(tp, tp + fp, level)),
        ("npv", npv, interval(tn, tn + fn, level)),
    ):
        table[name], table[f"{name}_low"], table[f"{name}_high"] = est, lo, hi
    table["youden"] = sens + spec - 1.0
    z = float(stats.norm.ppf(1.0 - (1.0 - level) / 2))
    if prevalence is not None:
        p_ppv, p_lo, p_hi, p_npv, n_lo, n_hi = _mercaldo(sens, spec, m, n, float(prevalence), z)
        table["ppv_at_prevalence"], table["ppv_at_prevalence_low"], table["ppv_at_prevalence_high"] = p_ppv, p_lo, p_hi
        table["npv_at_prevalence"], table["npv_at_prevalence_low"], table["npv_at_prevalence_high"] = p_npv, n_lo, n_hi

    # AUC by the Mann–Whitney identity, from mid-ranks of the pooled scores
    ranks = stats.rankdata(np.concatenate([cases, controls]))
    auc = float((ranks[:m].sum() - m * (m + 1) / 2.0) / (m * n))
    se = delong_se(cases, controls) if auc_ci_method == "delong" else hanley_mcneil_se(auc, m, n)
    auc_ci = (max(0.0, auc - z * se), min(1.0, auc + z * se))

    # ROC curve over every distinct score, strictest threshold first
    levels = np.unique(signed)[::-1]
    tpr = (m - np.searchsorted(sc_cases, levels, side="left")) / m
    fpr = (n - np.searchsorted(sc_ctrl, levels, side="left")) / n
    shown = levels if positive == "high" else -levels
    roc = pd.DataFrame(
        {
            "threshold": np.concatenate([[np.inf if positive == "high" else -np.inf], shown]),
            "fpr": np.concatenate([[0.0], fpr]),
            "tpr": np.concatenate([[0.0], tpr]),
        }
    )

    order = np.lexsort((-table["sensitivity"].to_numpy(), -table["youden"].to_numpy()))
    youden = table.iloc[int(order[0])]
    return CutoffEvaluation(
        table=table,
        roc=roc,
        auc=auc,
        auc_se=se,
        auc_ci=auc_ci,
        youden=youden,
        n_cases=m,
        n_controls=n,
        n_excluded=n_excluded,
        positive=positive,
        ci=level,
        ci_method=ci_method,
        auc_ci_method=auc_ci_method,
        prevalence=None if prevalence is None else float(prevalence),
    )
