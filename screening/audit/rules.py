"""Audit a rule set before a screening: what share of students each tier, urgent and re-screen would get,
how much of it comes from data quality alone, and the staff hours per month the rule set's actions imply.

    >>> import screening as sc
    >>> rep = sc.audit_rules("default", ["phq9", "gad7"], n=2000, blank_rates=(0.0, 0.01), seed=1)
    >>> list(rep.table.columns[:4])
    ['rules', 'blank_rate', 'students', 'tier.green']

The population is either simulated (:func:`simulate_answers`: one general-distress factor through a
Gaussian copula, so answers within and across scales correlate as in school surveys; chosen blank
rates; risk-group flag rates) or a table of real answers (last term's). With a second rule set
(``compare=``) the report also says how many students change tier and how the workload changes — what
a district needs to know before it changes a cut-off. Staff hours come from
:func:`screening.reports.workload` on the screened result, i.e. from the ``hours_per_month`` the rule
set's actions declare. Nothing here identifies a student: every output is a count or a share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._params import InvalidParameterError
from ..engine.score import OPS
from ..scoring import Scale, load_scale
from ..screener.result import ScreeningResult
from ..tiering.ruleset import RuleSet, load_rules

__all__ = ["simulate_answers", "audit_rules", "AuditReport", "DEFAULT_FLAG_RATES", "DEFAULT_CRITICAL_RATES"]

#: Risk-group flag rates used when none are given: the fidelity review's assumptions (school surveys;
#: replace with your district's own figures).
DEFAULT_FLAG_RATES: dict[str, float] = {
    "left_behind": 0.15, "single_parent": 0.10, "bullied": 0.08, "poverty": 0.10,
    "migrant": 0.08, "disability": 0.01, "bereaved": 0.02, "known_disorder": 0.01,
}


#: Endorsement rates of critical items assumed when none are given (the fidelity review's assumptions;
#: measure them locally before relying on the urgent share).
DEFAULT_CRITICAL_RATES: dict[str, float] = {
    "phq9.item9": 0.12, "phqa.item9": 0.12, "phqa.suicide_month": 0.05, "phqa.suicide_ever": 0.03,
    "scl90.item15": 0.15, "scl90.item59": 0.15, "mht.item85": 0.12, "mht.item97": 0.12, "dsrsc.item10": 0.15,
}


def _item_directions(scale: Scale) -> np.ndarray:
    """Per item: +1 where a higher raw answer means more difficulty, -1 where it means less."""
    spec = scale.spec
    direction = np.ones(len(spec.items))
    ids = spec.item_ids()
    reverse = set(spec.reverse)
    for k, iid in enumerate(ids):
        first = next((s for s in spec.scores if s.items is not None and iid in s.items and s.method != "count"), None)
        d = -1.0 if first is not None and first.direction == "higher_better" else 1.0
        direction[k] = -d if iid in reverse else d
    return direction


def _validity_items(scale: Scale) -> set[str]:
    spec = scale.spec
    score_ids = {v.score for v in spec.validity}
    return {i for s in spec.scores if s.id in score_ids and s.items for i in s.items}


def simulate_answers(
    scales: Sequence[str | Scale],
    n: int = 10_000,
    *,
    blank_rate: float = 0.0,
    loading: float = 0.7,
    severity: float = 1.0,
    flag_rates: Mapping[str, float] | None = None,
    critical_rates: Mapping[str, float] | None = None,
    seed: int = 0,
    latent: np.ndarray | None = None,
) -> pd.DataFrame:
    """A simulated school population: item answers (option values, some blank) and risk-group flags.

    Each student has a general-distress factor ``g`` ~ N(0, 1); item ``k`` reads
    ``z = loading·g + sqrt(1 − loading²)·e``, cut at thresholds that give skewed school-population
    marginals (option ``j`` of ``m``, counted from the benign end, with probability ∝ ``0.4^j``: about
    60 % benign, a PHQ-9 mean near 5 and an SCL-90 GSI near 1.6 as in the fidelity review; ``severity`` > 1
    makes answers worse). Reverse-keyed items and higher-is-better scales get the benign end at the
    top. Critical items fire at ``critical_rates`` (``"phq9.item9": 0.12`` …, default
    :data:`DEFAULT_CRITICAL_RATES`; replace with pilot data), still driven by the same factor. Validity
    (lie) items are answered independently (20 % at the keyed end). Cells are then left blank at random (MCAR) with
    probability ``blank_rate``. ``latent`` (the ``g`` of each student) lets two calls share students.
    """
    if not 0.0 <= blank_rate < 1.0:
        raise InvalidParameterError(f"The 'blank_rate' parameter of simulate_answers must be in [0, 1). Got {blank_rate!r} instead.")
    if not 0.0 <= loading < 1.0:
        raise InvalidParameterError(f"The 'loading' parameter of simulate_answers must be in [0, 1). Got {loading!r} instead.")
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(n) if latent is None else np.asarray(latent, dtype=float)
    n = len(g)
    cols: dict[str, np.ndarray] = {}
    from scipy.stats import norm

    rates_crit = DEFAULT_CRITICAL_RATES if critical_rates is None else critical_rates

    for s in scales:
        sc = load_scale(s)
        cs = sc.compiled
        dirs = _item_directions(sc)
        lie = _validity_items(sc)
        crit = {c.item: c for c in sc.spec.critical if f"{sc.id}.{c.id}" in rates_crit}
        for k, col in enumerate(sc.input_columns()):
            opts = cs.allowed[k]
            m = len(opts)
            iid = sc.spec.items[k].id
            if iid in lie:
                keyed_hi = rng.random(n) < 0.2
                cols[col] = np.where(keyed_hi, opts[-1], opts[0]).astype(float)
                continue
            z = loading * g + np.sqrt(1 - loading**2) * rng.standard_normal(n)
            if iid in crit:
                c = crit[iid]
                fires = OPS[c.op](opts, c.value)
                if fires.any() and not fires.all():
                    rate = float(rates_crit[f"{sc.id}.{c.id}"])
                    on = z > norm.ppf(1.0 - rate)
                    fired_opts, quiet_opts = opts[fires], opts[~fires]
                    # firing: the mildest firing option; not firing: the most benign non-firing one
                    mild = fired_opts[np.argmin(np.abs(fired_opts - c.value))]
                    benign = quiet_opts[0] if dirs[k] > 0 else quiet_opts[-1]
                    cols[col] = np.where(on, mild, benign).astype(float)
                    continue
            p = 0.4 ** (np.arange(m) / severity)
            cum = np.cumsum(p / p.sum())[:-1]
            cuts = norm.ppf(cum)
            level = np.searchsorted(cuts, z)  # 0 = most benign
            idx = level if dirs[k] > 0 else (m - 1 - level)
            cols[col] = opts[idx].astype(float)
    frame = pd.DataFrame(cols)
    if blank_rate > 0:
        blank = rng.random(frame.shape) < blank_rate
        frame = frame.mask(blank)
    rates = DEFAULT_FLAG_RATES if flag_rates is None else flag_rates
    for flag, r in rates.items():
        frame[flag] = rng.random(n) < r
    return frame


@dataclass(frozen=True)
class AuditReport:
    """What :func:`audit_rules` returns.

    ``table``: one row per (rule set, blank rate) with ``students``, ``tier.{id}`` shares, ``urgent``,
    ``rescreen``, ``ask_today`` shares, ``dq_only`` (share whose tier is raised only by the data-quality
    policy), ``up_vs_complete`` / ``down_vs_complete`` (simulated populations: share whose tier differs
    from the same students' complete answers), ``down_silent`` (lower tier or lost ``urgent`` because of
    blanks *and* not on the re-screen / ask list), ``hours.{role}`` and ``hours.total`` (staff hours per
    month, from :func:`screening.reports.workload`). ``changes``: with ``compare=``, one row per blank
    rate: students changing tier (up, down), and the difference in hours per month.
    """

    table: pd.DataFrame
    changes: pd.DataFrame | None

    def to_markdown(self, digits: int = 1) -> str:
        """Both tables as Markdown: shares and blank rates in percent, counts and hours as integers."""
        share_cols = ("blank_rate", "urgent", "rescreen", "ask_today", "dq_only", "changed")
        share_prefix = ("tier.", "up_", "down_", "changed_up", "changed_down")

        def cell(col: str, v: Any) -> str:
            if isinstance(v, (float, np.floating)) and np.isnan(v):
                return "–"
            if col in share_cols or col.startswith(share_prefix):
                return f"{100 * float(v):.{digits}f} %"
            if isinstance(v, (int, np.integer, float, np.floating)):
                return f"{float(v):,.0f}"
            return str(v)

        def fmt(df: pd.DataFrame) -> str:
            cols = [str(c) for c in df.columns]
            lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            for row in df.itertuples(index=False):  # one row per outcome of the audit summary (a handful), not per student
                lines.append("| " + " | ".join(cell(c, v) for c, v in zip(cols, row)) + " |")
            return "\n".join(lines)

        text = fmt(self.table)
        if self.changes is not None:
            text += "\n\n" + fmt(self.changes)
        return text


def _hours(result: ScreeningResult) -> dict[str, float]:
    from ..reports.workload import workload

    wl = workload(result, by=[])
    out = {c.removesuffix(".hours"): float(wl[c].sum()) for c in wl.columns if str(c).endswith(".hours")}
    out["total"] = float(sum(out.values()))
    return out


def _without_dq_tier(rs: RuleSet) -> RuleSet:
    """The same rule set whose data-quality policy sets no tier (to see what data quality alone raises)."""
    if rs.spec.data_quality.insufficient.tier is None and rs.spec.data_quality.invalid.tier is None:
        return rs
    dq = rs.spec.data_quality.model_copy(update={
        "insufficient": rs.spec.data_quality.insufficient.model_copy(update={"tier": None}),
        "invalid": rs.spec.data_quality.invalid.model_copy(update={"tier": None}),
    })
    spec = rs.spec.model_copy(update={"data_quality": dq})
    return RuleSet(spec, rs.conditions, rs.scales, rs.source, rs.content_hash + "-nodq")


def _screen(answers: pd.DataFrame, scales: Sequence[Scale], rs: RuleSet) -> ScreeningResult:
    import warnings

    from ..screener import screen

    flags = [f for f in rs.flags if f in answers.columns]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flags a simulation does not supply are unknown: that is the point
        return screen(answers, scales=list(scales), rules=rs, flags=flags, groups=[], on_invalid="missing")


def _row(label: str, rate: float | None, res: ScreeningResult, rs: RuleSet, complete: ScreeningResult | None,
         scales: Sequence[Scale], answers: pd.DataFrame) -> dict[str, Any]:
    t = res.table
    n = len(t)
    codes = np.asarray(t["tier"].array.codes)
    row: dict[str, Any] = {"rules": label, "blank_rate": rate if rate is not None else np.nan, "students": n}
    for i, tier in enumerate(rs.tiers):
        row[f"tier.{tier}"] = float((codes == i).mean()) if n else np.nan
    for col in ("urgent", "rescreen", "ask_today"):
        row[col] = float(t[col].to_numpy(dtype=bool).mean()) if n else np.nan
    plain = _without_dq_tier(rs)
    if plain is rs:
        row["dq_only"] = 0.0
    else:
        base = np.asarray(_screen(answers, scales, plain).table["tier"].array.codes)
        row["dq_only"] = float((codes > base).mean())
    if complete is not None:
        ref = np.asarray(complete.table["tier"].array.codes)
        row["up_vs_complete"] = float((codes > ref).mean())
        row["down_vs_complete"] = float((codes < ref).mean())
        # lowered by blanks and not on the re-screen / ask list: the case that must not happen silently
        lowered = (codes < ref) | (complete.table["urgent"].to_numpy(dtype=bool) & ~t["urgent"].to_numpy(dtype=bool))
        row["down_silent"] = float((lowered & ~t["rescreen"].to_numpy(dtype=bool)).mean())
    for role, h in _hours(res).items():
        row[f"hours.{role}"] = h
    return row


def audit_rules(
    rules: str | Path | RuleSet,
    scales: Sequence[str | Path | Scale],
    *,
    answers: pd.DataFrame | None = None,
    n: int = 10_000,
    blank_rates: Sequence[float] = (0.0, 0.01, 0.02),
    flag_rates: Mapping[str, float] | None = None,
    critical_rates: Mapping[str, float] | None = None,
    loading: float = 0.7,
    severity: float = 1.0,
    compare: str | Path | RuleSet | None = None,
    seed: int = 0,
) -> AuditReport:
    """Run a rule set over a population and report tier shares, re-screen shares and staff hours.

    Parameters
    ----------
    rules : rule set id, YAML path or RuleSet
    scales : the scales of the battery (e.g. ``["phq9", "gad7"]``)
    answers : DataFrame, optional
        Real answers (one row per student, items as ``phq9_1`` …, risk-group flag columns if known).
        When given, no population is simulated and ``blank_rates`` is ignored (the answers' own blanks count).
    n, blank_rates, flag_rates, critical_rates, loading, severity, seed
        The simulated population (see :func:`simulate_answers`): the same students (same latent distress,
        same answers) at every blank rate, so shares differ only by the blanks.
    compare : rule set, optional
        A second rule set run on the same students: ``changes`` says how many change tier and how the
        staff hours per month change.
    """
    rs = load_rules(rules)
    loaded = [load_scale(s) for s in scales]
    other = load_rules(compare) if compare is not None else None
    if any(not 0.0 <= r < 1.0 for r in blank_rates):
        raise InvalidParameterError(
            f"The 'blank_rates' parameter of audit_rules must hold rates in [0, 1). Got {list(blank_rates)} instead.")
    populations: list[tuple[float | None, pd.DataFrame, pd.DataFrame | None]] = []
    if answers is not None:
        if not isinstance(answers, pd.DataFrame):
            raise InvalidParameterError(
                f"The 'answers' parameter of audit_rules must be a DataFrame. Got {type(answers).__name__} instead.")
        populations.append((None, answers, None))
    else:
        g = np.random.default_rng(seed).standard_normal(n)
        complete = simulate_answers(loaded, blank_rate=0.0, loading=loading, severity=severity, flag_rates=flag_rates,
                                    critical_rates=critical_rates, seed=seed + 1, latent=g)
        blank_rng = np.random.default_rng(seed + 2)
        items = [c for s in loaded for c in s.input_columns()]
        for r in blank_rates:
            df = complete.copy()
            if r > 0:
                mask = blank_rng.random((len(df), len(items))) < r
                df[items] = df[items].mask(mask)
            populations.append((float(r), df, complete))
    rows, change_rows = [], []
    complete_results: dict[str, ScreeningResult] = {}
    sets: list[tuple[str, RuleSet]] = [(rs.id, rs)]
    if other is not None:
        sets.append((other.id if other.id != rs.id else f"{other.id} (compare)", other))
    for rate, df, comp in populations:
        results = {}
        for label, rset in sets:
            res = _screen(df, loaded, rset)
            ref = None
            if comp is not None:
                if label not in complete_results:
                    complete_results[label] = _screen(comp, loaded, rset)
                ref = complete_results[label]
            rows.append(_row(label, rate, res, rset, ref, loaded, df))
            results[label] = (res, rset)
        if other is not None:
            (a, _), (b, _) = results.values()
            ca = np.asarray(a.table["tier"].array.codes)
            cb = np.asarray(b.table["tier"].array.codes)
            ha, hb = _hours(a)["total"], _hours(b)["total"]
            change_rows.append({
                "blank_rate": rate if rate is not None else np.nan, "students": len(ca),
                "changed": float((ca != cb).mean()), "changed_up": float((cb > ca).mean()),
                "changed_down": float((cb < ca).mean()), "changed_n": int((ca != cb).sum()),
                "hours.total.a": ha, "hours.total.b": hb, "hours.difference": hb - ha,
            })
    table = pd.DataFrame(rows)
    changes = pd.DataFrame(change_rows) if other is not None else None
    return AuditReport(table, changes)
