"""The early-warning table: funnel comparison, trends, persistence, risk groups and periods (高发学校、高危群体、高危时段)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._params import InvalidParameterError, check_choice
from ..reports.stats import adjust_p, exact_greater_p, wilson_interval
from ..reports.suppression import suppress
from ..screener.result import DISCLAIMER
from .data import FLAGS, as_long
from .explain import explain
from .funnel import P95, P998, exact_limits, funnel
from .periods import PERIODS, label_periods

__all__ = ["COLUMNS", "early_warning"]

#: Output columns, in order (a contract: documented in docs/early-warning.md).
COLUMNS = (
    "level", "group", "wave", "on", "period", "period_zh", "period_en", "school_year",
    "n", "events", "rate", "ci_low", "ci_high", "target", "z",
    "lower95", "upper95", "lower998", "upper998",
    "above_95", "above_998", "persistent", "rising", "p_change", "flag", "suppressed",
    "explanation_zh", "explanation_en",
)

HIERARCHY = ("district", "school", "grade", "class")

FUNC = "early_warning"

IntArray = npt.NDArray[np.int64]


def _outcome_events(frame: pd.DataFrame, tiers: tuple[str, ...], outcome: str) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    """Per row: 1 if the outcome happened, 0 if not; and whether it is known."""
    if outcome in ("urgent", "rescreen"):
        if outcome not in frame.columns:
            raise InvalidParameterError(f"The 'outcome' parameter of {FUNC} is {outcome!r}, but the data have no {outcome!r} column. "
                                        f"Got {outcome!r} instead.")
        col = frame[outcome]
        known = col.notna().to_numpy()
        return col.fillna(False).to_numpy(dtype=bool).astype(np.int8), known
    codes = np.asarray(frame["tier"].array.codes)
    rank = tiers.index(outcome)
    return (codes >= rank).astype(np.int8), codes >= 0


def _group_codes(frame: pd.DataFrame, cols: list[str]) -> tuple[IntArray, pd.DataFrame]:
    """A code per row for the combination of ``cols`` (missing keys are their own group) and one row per code."""
    combined = np.zeros(len(frame), dtype=np.int64)
    uniques = []
    codes = []
    for col in cols:
        c, u = pd.factorize(frame[col], sort=True, use_na_sentinel=False)
        codes.append(c.astype(np.int64))
        uniques.append(u)
        combined = combined * max(len(u), 1) + c
    inverse, uniq = pd.factorize(combined, sort=True)  # hashing: faster than np.unique's sort on a million rows
    first = np.zeros(len(uniq), dtype=np.int64)
    first[inverse] = np.arange(len(frame))
    keys = pd.DataFrame({col: pd.Series(uniques[j]).take(codes[j][first]).reset_index(drop=True) for j, col in enumerate(cols)})
    return inverse.ravel().astype(np.int64), keys


def _labels(keys: pd.DataFrame) -> list[str]:
    parts = [keys[c].astype("string").fillna("?") for c in keys.columns]
    if not parts:
        return []
    out = parts[0]
    for p in parts[1:]:
        out = out + " / " + p
    return out.tolist()


def _counts(group: IntArray, wave: IntArray, e: npt.NDArray[np.int8], known: npt.NDArray[np.bool_], n_groups: int,
            n_waves: int) -> tuple[IntArray, IntArray]:
    """(groups × waves) known students and events."""
    idx = group * n_waves + wave
    n = np.bincount(idx[known], minlength=n_groups * n_waves).reshape(n_groups, n_waves)
    k = np.bincount(idx[known], weights=e[known], minlength=n_groups * n_waves).reshape(n_groups, n_waves)
    return n.astype(np.int64), np.rint(k).astype(np.int64)


def _trend(k: IntArray, n: IntArray, above: npt.NDArray[np.bool_], persistence: tuple[int, int],
           correction: str, alpha: float) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Per (group, wave): persistent (above the 95% limit in >= k of the last m waves), p of a rise since the
    previous wave (one-sided exact test; adjusted within each wave) and whether that rise is significant."""
    need, window = persistence
    csum = np.cumsum(above.astype(np.int64), axis=1)
    shifted = np.concatenate([np.zeros((above.shape[0], window), dtype=np.int64), csum], axis=1)[:, : above.shape[1]]
    persistent = (csum - shifted) >= need
    p = np.full(k.shape, np.nan)
    if k.shape[1] > 1:
        k1, n1, k0, n0 = k[:, 1:], n[:, 1:], k[:, :-1], n[:, :-1]
        ok = (n1 > 0) & (n0 > 0)
        pr = np.full(k1.shape, np.nan)
        if ok.any():
            # the later wave as the 'group' of a 2×2 table against both waves: Fisher's one-sided test
            pr[ok] = exact_greater_p(k1[ok], n1[ok], (k1 + k0)[ok], (n1 + n0)[ok])  # type: ignore[arg-type]
        p[:, 1:] = pr
    p_adj = np.column_stack([adjust_p(p[:, j], correction) for j in range(k.shape[1])]) if p.size else p
    rising = np.nan_to_num(p_adj, nan=1.0) < alpha
    return persistent, p_adj, rising


def early_warning(
    data: Any,
    level: str = "school",
    *,
    outcome: str | None = None,
    tiers: Sequence[str] | None = None,
    risk_groups: Sequence[str] | None = None,
    overdispersion: Literal["additive", "multiplicative", "none"] = "additive",
    target: float | None = None,
    persistence: tuple[int, int] = (2, 3),
    alpha: float = 0.05,
    correction: Literal["holm", "bh"] = "holm",
    min_cell: int = 10,
    confidence: float = 0.95,
    periods: pd.DataFrame | None = None,
    dates: Mapping[Any, Any] | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
    min_units: int = 10,
) -> pd.DataFrame:
    """Regional early warning: which schools, risk groups and periods stand out, wave by wave.

    For every wave, each group at ``level`` (a school; a grade within its
    school …) is compared with the district on a funnel plot: its rate of
    ``outcome`` against its size, with 95% and 99.8% control limits,
    over-dispersion handled as in Spiegelhalter (2005) (see
    :mod:`screening.warning.funnel`). Across waves it adds persistence
    (above the 95% limit in ``k`` of the last ``m`` waves), the change since
    the group's previous wave (one-sided exact test, adjusted within the
    wave), the risk groups' rates per wave (高危群体) and the rates per
    school-calendar period pooled over years (高危时段). Everything is an
    aggregate, with small cells suppressed as in
    :func:`screening.reports.summarise`.

    Parameters
    ----------
    data
        A long DataFrame (one row per student and wave), an archive (anything
        with ``.export(kind="long")``), a ``{wave: ScreeningResult}`` mapping or
        one result; see :mod:`screening.warning.data`.
    level : str, default "school"
        The group column compared; the outer hierarchy columns present
        (``district`` → ``school`` → ``grade`` → ``class``) are kept, so a grade
        is a grade within its school.
    outcome : str, optional
        A tier id, meaning "this tier or higher" (``"yellow"`` = yellow or
        orange), or ``"urgent"`` / ``"rescreen"``. Default: the top tier.
        Students whose outcome is unknown are left out of ``n``, never counted as "no".
    tiers : list, optional
        Tier ids lowest first, when the ``tier`` column is not an ordered categorical
        (default green, yellow, orange).
    risk_groups : list, optional
        Flag columns to follow (default those of :data:`~screening.warning.data.FLAGS` present).
        Only students known to be in the group count; unknown is not "no".
    overdispersion : {"additive", "multiplicative", "none"}, default "additive"
        How the school funnels allow for real between-school variation (see
        docs/early-warning.md for the simulation behind the default). Risk groups
        and periods are single comparisons with the district and use exact
        binomial limits.
    target : float, optional
        The rate compared with (default each wave's district rate).
    persistence : (k, m), default (2, 3)
        Persistent = above the 95% limit in at least ``k`` of the last ``m`` waves.
    alpha, correction
        A rise since the previous wave is flagged when its one-sided exact p-value,
        adjusted within the wave across groups (Holm or Benjamini–Hochberg), is below ``alpha``.
    min_cell : int, default 10
        Counts from 1 to ``min_cell - 1`` are suppressed, with the cells that would
        reveal them (:mod:`screening.reports.suppression`); a suppressed row keeps its
        ``n``, limits and flags, but not its count, rate, interval, z or p-value.
    confidence : float, default 0.95
        Level of the Wilson intervals.
    periods : DataFrame, optional
        The date → period calendar (default :data:`~screening.warning.periods.PERIODS`).
    dates : mapping, optional
        ``{wave: date}`` for waves whose rows carry no ``on`` date.
    names : mapping, optional
        ``{"zh": {...}, "en": {...}}`` display names of risk-group flags for the explanations.
    min_units : int, default 10
        Over-dispersion is allowed for only when a wave has at least this many
        groups (with fewer, the 10%/90% winsorisation trims nobody and one
        outlying school would hide itself); otherwise the exact limits are used.

    Returns
    -------
    DataFrame
        One row per (level, group, wave) with the columns :data:`COLUMNS`:
        ``level`` is ``"all"`` (the whole district per wave), the ``level``
        argument, ``"risk_group"`` or ``"period"`` (one row per period, pooled
        over waves and years, ``wave`` missing); ``flag`` lists
        ``above_99.8``, ``above_95``, ``persistent``, ``rising`` (comma-separated);
        ``explanation_zh`` / ``explanation_en`` say in plain words why a row is
        flagged. The group columns of ``level`` follow. ``attrs["screening"]``
        holds the settings and, per wave, the over-dispersion estimate (φ, τ², test).
    """
    _check_params(overdispersion, correction, min_cell, confidence, persistence, target)
    long = as_long(data, tiers=tiers, dates=dates)
    frame, tiers_t = long.frame, long.tiers
    outcome = tiers_t[-1] if outcome is None else outcome
    check_choice(FUNC, "outcome", outcome, (*tiers_t, "urgent", "rescreen"))
    cols, flags = _group_columns(frame, level, risk_groups)

    e, known = _outcome_events(frame, tiers_t, outcome)
    wave = np.asarray(frame["wave"].array.codes, dtype=np.int64)
    waves = long.waves
    n_waves = len(waves)
    labels = _wave_periods(waves, periods)

    # the district per wave, the groups at the level, the risk groups: counts of known outcomes and events
    n_all, k_all = _counts(np.zeros(len(frame), dtype=np.int64), wave, e, known, 1, n_waves)
    gcode, gkeys = _group_codes(frame, cols)
    n_g, k_g = _counts(gcode, wave, e, known, len(gkeys), n_waves)
    rk, rn = _risk_counts(frame, flags, wave, e, known, n_waves)

    t_all = np.where(n_all[0] > 0, k_all[0] / np.maximum(n_all[0], 1), np.nan) if target is None else np.full(n_waves, float(target))
    nan_w = np.full((1, n_waves), np.nan)
    blocks: list[dict[str, Any]] = [
        # district rows: compared with nothing (target is itself)
        _block("all", ["all"], k_all, n_all, {"target": t_all[None, :], "z": nan_w, "lower95": nan_w, "upper95": nan_w,
                                              "lower998": nan_w, "upper998": nan_w}),
    ]
    st, dispersion_info = _level_funnels(k_g, n_g, waves, target, overdispersion, min_units)
    blocks.append(_block(level, _labels(gkeys), k_g, n_g, st, gkeys))
    if flags:
        blocks.append(_block("risk_group", flags, rk, rn, _risk_limits(rk, rn, t_all)))
    for b in blocks:
        _add_trends(b, persistence, correction, alpha)

    # periods: pooled over waves (and years) against the pooled rate
    period_ids = labels["period"]
    p_names = [str(p) for p in pd.unique(period_ids.dropna())]
    p_of_wave = np.array([p_names.index(p) if pd.notna(p) else len(p_names) for p in period_ids], dtype=np.int64)
    pk = np.bincount(p_of_wave, weights=k_all[0], minlength=len(p_names) + 1).astype(np.int64)
    pn = np.bincount(p_of_wave, weights=n_all[0], minlength=len(p_names) + 1).astype(np.int64)

    hid_p = _suppress_blocks(blocks, pk, pn, p_of_wave, k_all, n_all, k_g, n_g, rk, rn, bool(flags), int(min_cell))
    out_parts = [_frame(b, waves, labels, confidence) for b in blocks]
    if p_names:
        out_parts.append(_period_part(p_names, pk, pn, hid_p, k_all, n_all, labels, confidence))

    table = pd.concat(out_parts, ignore_index=True)
    for c in cols:
        if c not in table.columns:
            table[c] = pd.NA
    table["flag"] = _flag_text(table)
    zh, en = explain(table, level=level, outcome=outcome, tiers=tiers_t, persistence=persistence, names=names)
    table["explanation_zh"] = pd.array(zh, dtype="string")
    table["explanation_en"] = pd.array(en, dtype="string")
    table = table[[*COLUMNS, *[c for c in cols if c not in COLUMNS]]]
    table.attrs["screening"] = {
        "kind": "early_warning",
        "level": level,
        "by": cols,
        "outcome": outcome,
        "tiers": list(tiers_t),
        "overdispersion": overdispersion,
        "min_units": min_units,
        "dispersion": dispersion_info,
        "limits": "exact binomial (interpolated) without over-dispersion; normal with inflated variance otherwise "
                  "(Spiegelhalter, Stat Med 2005;24:1185 and Qual Saf Health Care 2005;14:347)",
        "persistence": list(persistence),
        "change_test": "one-sided exact test (Fisher) of each group's wave against its previous wave, "
                       + {"holm": "Holm", "bh": "Benjamini-Hochberg"}[correction] + " within each wave",
        "alpha": alpha,
        "min_cell": int(min_cell),
        "confidence": confidence,
        "interval": "Wilson score",
        "waves": waves["wave"].tolist(),
        "key": long.key,
        "disclaimer": dict(DISCLAIMER),
    }
    return table


def _check_params(overdispersion: str, correction: str, min_cell: Any, confidence: Any, persistence: Any, target: Any) -> None:
    """The argument checks that need no data."""
    check_choice(FUNC, "overdispersion", overdispersion, ("additive", "multiplicative", "none"))
    check_choice(FUNC, "correction", correction, ("holm", "bh"))
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 1:
        raise InvalidParameterError(f"The 'min_cell' parameter of {FUNC} must be an integer >= 1. Got {min_cell!r} instead.")
    if not isinstance(confidence, float) or not 0 < confidence < 1:
        raise InvalidParameterError(f"The 'confidence' parameter of {FUNC} must be a float in (0, 1). Got {confidence!r} instead.")
    if (not isinstance(persistence, (tuple, list)) or len(persistence) != 2
            or not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in persistence)
            or not 1 <= persistence[0] <= persistence[1]):
        raise InvalidParameterError(f"The 'persistence' parameter of {FUNC} must be (k, m) with 1 <= k <= m. Got {persistence!r} instead.")
    if target is not None and not (isinstance(target, (float, int)) and 0 < float(target) < 1):
        raise InvalidParameterError(f"The 'target' parameter of {FUNC} must be a rate in (0, 1). Got {target!r} instead.")


def _group_columns(frame: pd.DataFrame, level: str, risk_groups: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The group columns of ``level`` (outer hierarchy first) and the risk-group flags followed."""
    if level not in frame.columns:
        raise InvalidParameterError(f"The 'level' parameter of {FUNC} must name a group column of the data "
                                    f"({[c for c in frame.columns if c not in ('wave', 'on', 'tier', 'urgent', 'rescreen', *FLAGS)]}). "
                                    f"Got {level!r} instead.")
    cols = [c for c in HIERARCHY[: HIERARCHY.index(level)] if c in frame.columns] + [level] if level in HIERARCHY else [level]
    flags = [f for f in FLAGS if f in frame.columns] if risk_groups is None else list(risk_groups)
    bad = [f for f in flags if f not in frame.columns or not pd.api.types.is_bool_dtype(frame[f].dtype)]
    if bad:
        raise InvalidParameterError(f"The 'risk_groups' parameter of {FUNC} must name boolean flag columns of the data. Got {bad} instead.")
    return cols, flags


def _wave_periods(waves: pd.DataFrame, periods: pd.DataFrame | None) -> pd.DataFrame:
    """Each wave's school-calendar period, from its date or as the wave names it."""
    labels = label_periods(waves["on"], periods)
    override = waves["period"].notna().to_numpy()
    if override.any():
        labels.loc[override, "period"] = waves.loc[override, "period"].to_numpy()
        calendar = PERIODS if periods is None else periods
        for c in ("period_kind", "period_zh", "period_en"):
            lookup = dict(zip(calendar["period"], calendar[{"period_kind": "kind", "period_zh": "zh", "period_en": "en"}[c]]))
            labels.loc[override, c] = [lookup.get(p, p if c != "period_kind" else pd.NA) for p in waves.loc[override, "period"]]
    return labels


def _risk_counts(frame: pd.DataFrame, flags: list[str], wave: IntArray, e: npt.NDArray[np.int8], known: npt.NDArray[np.bool_],
                 n_waves: int) -> tuple[IntArray, IntArray]:
    """Events and known outcomes per risk group and wave; only students known to be in the group count."""
    rk = np.zeros((len(flags), n_waves), dtype=np.int64)
    rn = np.zeros((len(flags), n_waves), dtype=np.int64)
    for i, f in enumerate(flags):
        member = frame[f].to_numpy(dtype=bool, na_value=False) & known
        rn[i] = np.bincount(wave[member], minlength=n_waves)
        rk[i] = np.bincount(wave[member], weights=e[member], minlength=n_waves).round().astype(np.int64)
    return rk, rn


def _block(level_name: str, group: list[str], k: IntArray, n: IntArray, stats: Mapping[str, npt.NDArray[Any]],
           keys: pd.DataFrame | None = None) -> dict[str, Any]:
    return {"level": level_name, "group": group, "k": k, "n": n, **stats, "keys": keys}


def _level_funnels(k_g: IntArray, n_g: IntArray, waves: pd.DataFrame, target: float | None,
                   overdispersion: Literal["additive", "multiplicative", "none"],
                   min_units: int) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
    """One funnel per wave for the groups at the level; and per wave the over-dispersion estimate."""
    G, n_waves = k_g.shape
    st = {name: np.full((G, n_waves), np.nan) for name in ("target", "z", "lower95", "upper95", "lower998", "upper998")}
    dispersion_info: dict[str, Any] = {}
    for w in range(n_waves):
        present = n_g[:, w] > 0
        if not present.any():
            continue
        res, disp, tgt = funnel(k_g[present, w], n_g[present, w], target=None if target is None else float(target),
                                overdispersion=overdispersion, min_units=min_units)
        st["target"][present, w] = tgt
        for name, v in res.items():
            st[name][present, w] = v
        inflated = ((disp.tau2 > 0 if overdispersion == "additive" else disp.phi > 1) and overdispersion != "none"
                    and disp.units >= min_units)
        dispersion_info[str(waves["wave"].iloc[w])] = {**disp.as_dict(), "target": tgt, "applied": overdispersion if inflated else "none"}
    return st, dispersion_info


def _risk_limits(rk: IntArray, rn: IntArray, t_all: npt.NDArray[np.float64]) -> dict[str, npt.NDArray[Any]]:
    """Risk groups: exact binomial limits against the district rate of the wave."""
    n_flags, n_waves = rk.shape
    rs = {name: np.full((n_flags, n_waves), np.nan) for name in ("target", "z", "lower95", "upper95", "lower998", "upper998")}
    for w in range(n_waves):
        tgt = t_all[w]
        rs["target"][:, w] = tgt
        if not 0 < tgt < 1:
            continue
        n_w = rn[:, w].astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.sqrt(tgt * (1 - tgt) / np.maximum(n_w, 1))
            rs["z"][:, w] = np.where(n_w > 0, (rk[:, w] / np.maximum(n_w, 1) - tgt) / se, np.nan)
        for name, p in (("95", P95), ("998", P998)):
            rs[f"upper{name}"][:, w] = np.clip(exact_limits(n_w, tgt, p), 0, 1)
            rs[f"lower{name}"][:, w] = np.clip(exact_limits(n_w, tgt, 1 - p), 0, 1)
    return rs


def _add_trends(b: dict[str, Any], persistence: tuple[int, int], correction: str, alpha: float) -> None:
    """Rates, flags beyond the limits, persistence and the change since the previous wave (not for the district)."""
    k, n = b["k"], b["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    above95 = np.nan_to_num(rate - b["upper95"], nan=-1.0) > 0
    above998 = np.nan_to_num(rate - b["upper998"], nan=-1.0) > 0
    persistent, p_change, rising = _trend(k, n, above95, persistence, correction, alpha)
    if b["level"] == "all":
        persistent = np.zeros_like(persistent)
        above95 = np.zeros_like(above95)
        above998 = np.zeros_like(above998)
    b.update(rate=rate, above95=above95, above998=above998, persistent=persistent, p_change=p_change, rising=rising)


def _suppress_blocks(blocks: list[dict[str, Any]], pk: IntArray, pn: IntArray, p_of_wave: IntArray, k_all: IntArray,
                     n_all: IntArray, k_g: IntArray, n_g: IntArray, rk: IntArray, rn: IntArray, has_flags: bool,
                     min_cell: int) -> npt.NDArray[np.bool_]:
    """Small-cell suppression: periods → district waves → groups as one set of relations; risk groups apart.

    Marks ``hidden`` on each block and returns the periods' marks."""
    G, n_waves = k_g.shape
    dist = np.stack([k_all[0], n_all[0] - k_all[0]], axis=1)
    grp = np.stack([k_g.T.ravel(), (n_g - k_g).T.ravel()], axis=1)  # wave-major rows
    keep = grp.sum(axis=1) > 0
    grp_rows = np.flatnonzero(keep)
    parents_grp = grp_rows // G
    hidden = suppress([np.stack([pk, pn - pk], axis=1), dist, grp[keep]], [None, p_of_wave, parents_grp],
                      min_cell=min_cell, complete=True)
    hid_g = np.zeros(G * n_waves, dtype=bool)
    hid_g[grp_rows] = hidden[2].any(axis=1)
    blocks[0]["hidden"] = np.asarray(hidden[1].any(axis=1))[None, :]
    blocks[1]["hidden"] = hid_g.reshape(n_waves, G).T
    if has_flags:
        hr = suppress([np.stack([rk.T.ravel(), (rn - rk).T.ravel()], axis=1)], [None], min_cell=min_cell, complete=True)[0]
        blocks[2]["hidden"] = hr.any(axis=1).reshape(n_waves, rk.shape[0]).T
    return np.asarray(hidden[0].any(axis=1))


def _period_part(p_names: list[str], pk: IntArray, pn: IntArray, hid_p: npt.NDArray[np.bool_], k_all: IntArray,
                 n_all: IntArray, labels: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """One row per period, pooled over waves and years, with exact limits against the pooled rate."""
    total_k, total_n = int(k_all.sum()), int(n_all.sum())
    tgt = total_k / total_n if total_n else np.nan
    pk_, pn_ = pk[: len(p_names)], pn[: len(p_names)]
    with np.errstate(invalid="ignore", divide="ignore"):
        prate = np.where(pn_ > 0, pk_ / np.maximum(pn_, 1), np.nan)
        zp = (prate - tgt) / np.sqrt(tgt * (1 - tgt) / np.maximum(pn_, 1)) if 0 < tgt < 1 else np.full(len(pn_), np.nan)
    up95 = exact_limits(pn_, tgt, P95) if 0 < tgt < 1 else np.full(len(pn_), np.nan)
    up998 = exact_limits(pn_, tgt, P998) if 0 < tgt < 1 else np.full(len(pn_), np.nan)
    lo95 = exact_limits(pn_, tgt, 1 - P95) if 0 < tgt < 1 else np.full(len(pn_), np.nan)
    lo998 = exact_limits(pn_, tgt, 1 - P998) if 0 < tgt < 1 else np.full(len(pn_), np.nan)
    lab = labels.drop_duplicates("period").set_index("period")
    years = labels.groupby("period")["school_year"].apply(lambda s: ", ".join(sorted(s.dropna().unique())))
    n_p = len(p_names)
    pb = {"level": "period", "group": p_names, "k": pk_[:, None], "n": pn_[:, None], "rate": prate[:, None],
          "target": np.full((n_p, 1), tgt), "z": zp[:, None], "lower95": np.clip(lo95, 0, 1)[:, None],
          "upper95": np.clip(up95, 0, 1)[:, None], "lower998": np.clip(lo998, 0, 1)[:, None],
          "upper998": np.clip(up998, 0, 1)[:, None], "above95": (np.nan_to_num(prate - up95, nan=-1) > 0)[:, None],
          "above998": (np.nan_to_num(prate - up998, nan=-1) > 0)[:, None], "persistent": np.zeros((n_p, 1), bool),
          "p_change": np.full((n_p, 1), np.nan), "rising": np.zeros((n_p, 1), bool), "hidden": np.asarray(hid_p)[:n_p, None],
          "keys": None}
    pwaves = pd.DataFrame({"wave": [pd.NA], "on": [pd.NaT], "period": [pd.NA]})
    part = _frame(pb, pwaves, None, confidence)
    part["period"] = pd.array(p_names, dtype="string")
    part["period_zh"] = pd.array([str(lab.loc[p, "period_zh"]) for p in p_names], dtype="string")
    part["period_en"] = pd.array([str(lab.loc[p, "period_en"]) for p in p_names], dtype="string")
    part["school_year"] = pd.array([years.get(p, pd.NA) or pd.NA for p in p_names], dtype="string")
    return part


def _frame(b: Mapping[str, Any], waves: pd.DataFrame, labels: pd.DataFrame | None, confidence: float) -> pd.DataFrame:
    """A block of (groups × waves) arrays as tidy rows, group-major."""
    k, n = b["k"], b["n"]
    n_groups, n_waves = k.shape
    hidden = b["hidden"]
    gi = np.repeat(np.arange(n_groups), n_waves)
    wi = np.tile(np.arange(n_waves), n_groups)
    present = n.ravel() > 0
    if b["level"] == "period":
        present = np.ones_like(present)
    flat = {name: np.asarray(b[name]).ravel() for name in ("target", "z", "lower95", "upper95", "lower998", "upper998",
                                                            "rate", "p_change")}
    h = hidden.ravel()
    lo, hi = wilson_interval(k.ravel(), n.ravel(), confidence)
    out: dict[str, Any] = {"level": np.full(len(gi), b["level"], dtype=object),
                           "group": pd.array(np.asarray(b["group"], dtype=object)[gi], dtype="string")}
    out["wave"] = pd.array(waves["wave"].to_numpy(dtype=object)[wi], dtype="string")
    out["on"] = pd.to_datetime(waves["on"].to_numpy()[wi])
    for c in ("period", "period_zh", "period_en", "school_year"):
        vals = labels[c].to_numpy(dtype=object)[wi] if labels is not None else [pd.NA] * len(wi)
        out[c] = pd.array(vals, dtype="string")
    out["n"] = pd.array(n.ravel(), dtype="Int64")
    ev = pd.array(k.ravel(), dtype="Int64")
    ev[h] = pd.NA
    out["events"] = ev
    for name, v in (("rate", flat["rate"]), ("ci_low", lo), ("ci_high", hi)):
        arr = pd.array(np.asarray(v, dtype=float), dtype="Float64")
        arr[h | np.isnan(v)] = pd.NA
        out[name] = arr
    for name in ("target", "z", "lower95", "upper95", "lower998", "upper998", "p_change"):
        v = flat[name]
        arr = pd.array(v, dtype="Float64")
        mask = np.isnan(v) | (h if name in ("z", "p_change") else np.zeros_like(h))
        arr[mask] = pd.NA
        out[name] = arr
    out["above_95"] = pd.array(np.asarray(b["above95"]).ravel(), dtype="boolean")
    out["above_998"] = pd.array(np.asarray(b["above998"]).ravel(), dtype="boolean")
    out["persistent"] = pd.array(np.asarray(b["persistent"]).ravel(), dtype="boolean")
    out["rising"] = pd.array(np.asarray(b["rising"]).ravel(), dtype="boolean")
    out["suppressed"] = h
    keys = b.get("keys")
    if keys is not None:
        for c in keys.columns:
            out[c] = keys[c].take(gi).reset_index(drop=True).to_numpy()
    result: pd.DataFrame = pd.DataFrame(out)[present].reset_index(drop=True)
    return result


def _flag_text(table: pd.DataFrame) -> Any:
    parts = []
    for col, code in (("above_998", "above_99.8"), ("above_95", "above_95"), ("persistent", "persistent"), ("rising", "rising")):
        parts.append(np.where(table[col].fillna(False).to_numpy(dtype=bool), code, ""))
    # above_99.8 implies above_95: list only the stronger one
    parts[1] = np.where(parts[0] != "", "", parts[1])
    joined = [",".join(p for p in row if p) for row in zip(*parts)]
    return pd.array(joined, dtype="string")
