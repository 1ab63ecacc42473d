"""Group summaries along the school hierarchy: counts, proportions with Wilson intervals, band prevalence,
an exact test of each group against the rest, and small-cell suppression (see docs/reports.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.extensions import ExtensionArray

from .. import columns as C
from .._params import Interval, InvalidParameterError, ListOf, Options, check_choice, describe, validate_params
from ..columns import DISCLAIMER
from .stats import adjust_p, exact_greater_p, wilson_interval
from .suppression import suppress

if TYPE_CHECKING:
    from ..screener.result import ScreeningResult

__all__ = ["HIERARCHY", "Block", "count_blocks", "summarise", "group_counts", "summarise_counts", "to_long"]

#: Grouping columns used by default, in hierarchy order (those present in ``result.groups``).
HIERARCHY = ("district", "school", "grade", "class")

_INCLUDE = ("tiers", "urgent", "rescreen", "bands")


@dataclass(frozen=True)
class Block:
    """A set of count columns that are suppressed together.

    ``complete`` blocks partition the group (their counts add up to ``n``).
    """

    name: str
    columns: tuple[str, ...]  # output measure names, e.g. "tier.green"
    indicators: npt.NDArray[np.int8]  # (n_students, n_columns) 0/1 — or (n_groups, n_columns) int64 counts (summarise_counts)
    complete: bool


def resolve_by(result: ScreeningResult, by: Sequence[str] | str | None, func: str = "summarise") -> list[str]:
    """The grouping columns: ``by`` checked against ``result.groups``, or the hierarchy columns present."""
    available = [str(c) for c in result.groups.columns]
    if by is None:
        return [c for c in HIERARCHY if c in available]
    cols = [by] if isinstance(by, str) else list(by)
    bad = [c for c in cols if c not in available]
    if bad or len(set(cols)) != len(cols):
        raise InvalidParameterError(
            f"The 'by' parameter of {func} must name distinct group columns kept by screen() ({available}). "
            f"Got {describe(by)} with {len(bad)} name(s) not among them{' and repeats' if len(set(cols)) != len(cols) else ''} instead."
        )
    return cols


def count_blocks(result: ScreeningResult, include: Sequence[str] = _INCLUDE) -> list[Block]:
    """0/1 indicator blocks for tiers, urgent, re-screen and each banded score (plus 'not scored')."""
    blocks: list[Block] = []
    table = result.table
    if "tiers" in include:
        tiers = result.rules.tiers
        codes = np.asarray(table["tier"].array.codes)
        ind = (codes[:, None] == np.arange(len(tiers))[None, :]).astype(np.int8)
        blocks.append(Block("tiers", tuple(f"tier.{t}" for t in tiers), ind, True))
    for flag in ("urgent", "rescreen"):
        if flag in include:
            ind = table[flag].to_numpy(dtype=bool).astype(np.int8)[:, None]
            blocks.append(Block(flag, (flag,), ind, False))
    if "bands" in include:
        for scale in result.scales:
            for sc in scale.spec.scores:
                col = C.band_col(scale.id, sc.id)
                if sc.bands is None or col not in result.scores.columns:
                    continue
                cat = result.scores[col].array
                codes = np.asarray(cat.codes)
                k = len(cat.categories)
                ind = (codes[:, None] == np.arange(-1, k)[None, :]).astype(np.int8)
                ind = np.concatenate([ind[:, 1:], ind[:, :1]], axis=1)  # 'not scored' last
                names = tuple(f"{col}.{b}" for b in cat.categories) + (f"{C.score_col(scale.id, sc.id)}.unscored",)
                blocks.append(Block(col, names, ind, True))
    return blocks


def _school_order(codes: npt.NDArray[Any], uniques: Any) -> tuple[npt.NDArray[Any], Any]:
    """Re-order a factorised group column in school order (一年级 … 高三; 2班 before 10班); missing stays last."""
    from ..ordering import school_order

    u = pd.Index(uniques)
    known = ~u.isna()
    vals = list(u[known])
    order = school_order(vals)
    if np.array_equal(order, np.arange(len(vals))):
        return codes, uniques
    perm = np.concatenate([np.flatnonzero(known)[order], np.flatnonzero(~known)])  # new position -> old code
    inverse = np.empty(len(perm), dtype=np.int64)
    inverse[perm] = np.arange(len(perm))
    return inverse[codes], uniques.take(perm) if hasattr(uniques, "take") else np.asarray(uniques)[perm]


def _levels(groups: pd.DataFrame, by: list[str]) -> tuple[list[npt.NDArray[np.int64]], list[npt.NDArray[np.int64]],
                                                         list[npt.NDArray[np.int64] | None], list[Any]]:
    """Per level: each student's group row, each group's codes (one column per ``by`` column so far),
    and each group's parent row at the level above."""
    codes, uniques = [], []
    for col in by:
        c, u = pd.factorize(groups[col], sort=True, use_na_sentinel=False)
        c, u = _school_order(c, u)
        codes.append(c.astype(np.int64))
        uniques.append(u)
    n = len(groups)
    rows: list[npt.NDArray[np.int64]] = [np.zeros(n, dtype=np.int64)]
    keys: list[npt.NDArray[np.int64]] = [np.zeros((1, 0), dtype=np.int64)]
    parents: list[npt.NDArray[np.int64] | None] = [None]
    combined = np.zeros(n, dtype=np.int64)
    prev_uniq = np.zeros(1, dtype=np.int64)
    for j in range(len(by)):
        radix = max(len(uniques[j]), 1)
        combined = combined * radix + codes[j]  # mixed radix: outer columns most significant
        uniq, inverse = np.unique(combined, return_inverse=True)
        rows.append(inverse.ravel().astype(np.int64))
        # decode every group's codes back from its combined key
        first = np.zeros(len(uniq), dtype=np.int64)
        first[inverse.ravel()] = np.arange(n)
        keys.append(np.stack([codes[i][first] for i in range(j + 1)], axis=1))
        parents.append(np.searchsorted(prev_uniq, uniq // radix).astype(np.int64))
        prev_uniq = uniq
    return rows, keys, parents, uniques


@validate_params({
    "by": [None, str, ListOf(str, "column names")], "min_cell": [Interval(int, 1, None)],
    "confidence": [Interval(float, 0, 1, "neither")], "include": [ListOf(Options(*_INCLUDE), f"measures {_INCLUDE}")],
    "compare": [bool, np.bool_], "concern": [None, ListOf(str, "tier ids", min_len=1)],
    "correction": [Options("holm", "bh")], "alpha": [Interval(float, 0, 1, "neither")], "rollup": [bool, np.bool_],
})
def summarise(
    result: ScreeningResult,
    by: Sequence[str] | str | None = None,
    *,
    min_cell: int = 10,
    confidence: float = 0.95,
    include: Sequence[str] = _INCLUDE,
    compare: bool = True,
    concern: Sequence[str] | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
    rollup: bool = True,
    long: bool = False,
) -> pd.DataFrame:
    """Counts, proportions and intervals per group, with small cells suppressed.

    ``long=True`` returns the tidy long form (:func:`to_long`): one row per
    group and measure, for plotting libraries, databases and BI tools.

    One row for the whole population and one per group at each level of
    ``by`` (``district → school → grade → class``; a class is a class *within
    its grade and school*), ordered as a tree.

    Parameters
    ----------
    result : ScreeningResult
    by : str or list of str, optional
        Group columns kept by :func:`screening.screen`, outermost first.
        Default: those of ``district, school, grade, class`` present.
    min_cell : int, default 10
        Counts from 1 to ``min_cell - 1`` are suppressed (shown as missing),
        and so are the cells that would let someone compute them from a row
        or column total (complementary suppression; see
        :mod:`screening.reports.suppression`). Proportions, intervals and test
        results of a suppressed cell are suppressed too. ``min_cell=1`` turns
        suppression off (internal use only).
    confidence : float, default 0.95
        Level of the Wilson score intervals.
    include : list
        Any of ``"tiers"``, ``"urgent"``, ``"rescreen"``, ``"bands"``.
    compare : bool, default True
        Test every group against the rest of the population (one-sided exact
        test of a higher rate of ``concern``; see :mod:`screening.reports.stats`),
        p-values adjusted within each level.
    concern : list of tier ids, optional
        The tiers whose rate is compared; default the top tier (which holds
        every urgent student).
    correction : {"holm", "bh"}
        Holm (family-wise error, valid under any dependence — the default) or
        Benjamini–Hochberg (false discovery rate).
    alpha : float
        A group is flagged when its adjusted p-value is below ``alpha``.
    rollup : bool, default True
        Keep the rows of the outer levels; with False only the finest level
        (and the whole population) is returned. Suppression always takes every
        level into account.

    Returns
    -------
    DataFrame
        Columns ``level`` (the deepest group column of the row, ``"all"`` for
        the population), the ``by`` columns (missing above the row's level),
        ``n``, then per measure ``{m}.n`` (nullable integer: ``<NA>`` means
        suppressed), ``{m}.prop``, ``{m}.ci_low``, ``{m}.ci_high`` for the
        measures ``tier.{id}``, ``urgent``, ``rescreen``,
        ``{scale}.{score}.band.{band}`` and ``{scale}.{score}.unscored``;
        then ``compare.ratio`` (group rate / population rate),
        ``compare.p``, ``compare.p_adj``, ``compare.flag``; and
        ``n_suppressed``. Proportions are of all students in the group.
        ``attrs["screening"]`` records the settings, the disclaimer and the provenance.
    """
    func = "summarise"
    cols = resolve_by(result, by, func)
    concern_tiers = _check_options(func, result, min_cell, confidence, correction, include, concern)
    blocks = count_blocks(result, include=tuple(include) + (("tiers",) if compare and "tiers" not in include else ()))
    frame = _summarise_blocks(result, result.groups, None, cols, blocks, min_cell=min_cell, confidence=confidence,
                              include=include, compare=compare, concern_tiers=concern_tiers, correction=correction,
                              alpha=alpha, rollup=rollup)
    return to_long(frame) if long else frame


def _check_options(func: str, result: ScreeningResult, min_cell: Any, confidence: Any, correction: str,
                   include: Sequence[str], concern: Sequence[str] | None) -> list[str]:
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 1:
        raise InvalidParameterError(f"The 'min_cell' parameter of {func} must be an integer >= 1. Got {describe(min_cell)} instead.")
    if not isinstance(confidence, float) or not 0 < confidence < 1:
        raise InvalidParameterError(f"The 'confidence' parameter of {func} must be a float in (0, 1). Got {describe(confidence)} instead.")
    check_choice(func, "correction", correction, ("holm", "bh"))
    for item in include:
        check_choice(func, "include", item, _INCLUDE)
    tiers = result.rules.tiers
    concern_tiers = [tiers[-1]] if concern is None else list(concern)
    bad = [t for t in concern_tiers if t not in tiers]
    if bad or not concern_tiers:
        raise InvalidParameterError(f"The 'concern' parameter of {func} must list tiers of {tiers}. Got {describe(concern)} instead.")
    return concern_tiers


def group_counts(result: ScreeningResult, by: Sequence[str] | str | None = None) -> pd.DataFrame:
    """Phase 1 of a summary: integer counts per finest group, additive across any split of the students.

    One row per distinct combination of the ``by`` columns (a missing key is a group of its own, never
    dropped), with the ``by`` columns (their dtypes kept), ``n`` and one int64 column per measure of
    :func:`count_blocks`. Summing these tables over partitions (on any engine) and passing the sum to
    :func:`summarise_counts` gives exactly :func:`summarise` of the whole population.
    """
    cols = resolve_by(result, by, "group_counts")
    blocks = count_blocks(result)
    rows, keys, _, _ = _levels(result.groups, cols)
    finest = rows[-1]
    n_groups = keys[-1].shape[0]
    first = np.zeros(n_groups, dtype=np.int64)
    first[finest[::-1]] = np.arange(len(finest))[::-1]  # first student of each group: keeps the key dtypes
    out: dict[str, Any] = {c: result.groups[c].iloc[first].reset_index(drop=True) for c in cols}
    out["n"] = np.bincount(finest, minlength=n_groups).astype(np.int64)
    for block in blocks:
        mat = np.zeros((n_groups, len(block.columns)), dtype=np.int64)
        np.add.at(mat, finest, block.indicators)
        out.update({name: mat[:, j] for j, name in enumerate(block.columns)})
    return pd.DataFrame(out)


def summarise_counts(
    layout: ScreeningResult,
    counts: pd.DataFrame,
    by: Sequence[str] | str | None = None,
    *,
    min_cell: int = 10,
    confidence: float = 0.95,
    include: Sequence[str] = _INCLUDE,
    compare: bool = True,
    concern: Sequence[str] | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
    rollup: bool = True,
) -> pd.DataFrame:
    """Phase 3 of a summary, on the driver: :func:`summarise` from summed :func:`group_counts` tables.

    ``layout`` is a (zero-row) result of the same screening: it supplies the rule set, scales, group
    columns and provenance. Intervals, exact tests, Holm/BH and suppression are global, so they run
    here once, never per partition.
    """
    func = "summarise"
    cols = resolve_by(layout, by, func)
    concern_tiers = _check_options(func, layout, min_cell, confidence, correction, include, concern)
    missing = [c for c in [*cols, "n"] if c not in counts.columns]
    if missing:
        raise InvalidParameterError(f"The 'counts' parameter of summarise_counts must have the columns {missing}.")
    blocks = []
    for block in count_blocks(layout, include=tuple(include) + (("tiers",) if compare and "tiers" not in include else ())):
        mat = counts.reindex(columns=list(block.columns), fill_value=0).to_numpy(dtype=np.int64)
        blocks.append(Block(block.name, block.columns, mat, block.complete))
    weights = counts["n"].to_numpy(dtype=np.int64)
    return _summarise_blocks(layout, counts[cols], weights, cols, blocks, min_cell=min_cell, confidence=confidence,
                             include=include, compare=compare, concern_tiers=concern_tiers, correction=correction,
                             alpha=alpha, rollup=rollup)


def _summarise_blocks(result: ScreeningResult, groups: pd.DataFrame, weights: npt.NDArray[np.int64] | None, cols: list[str],
                      blocks: list[Block], *, min_cell: int, confidence: float, include: Sequence[str], compare: bool,
                      concern_tiers: list[str], correction: str, alpha: float, rollup: bool) -> pd.DataFrame:
    """Everything after the counts: roll-up along the levels, suppression, intervals, tests."""
    rows, keys, parents, uniques = _levels(groups, cols)
    n_levels = len(rows)
    n_groups = [keys[lv].shape[0] for lv in range(n_levels)]
    if weights is None:
        sizes = [np.bincount(rows[lv], minlength=n_groups[lv]).astype(np.int64) for lv in range(n_levels)]
    else:  # rows are groups with n students each: integer sums, exact
        sizes = []
        for lv in range(n_levels):
            size = np.zeros(n_groups[lv], dtype=np.int64)
            np.add.at(size, rows[lv], weights)
            sizes.append(size)

    out_cols: dict[str, list[Any] | npt.NDArray[Any] | ExtensionArray] = {}
    hidden_by_measure: dict[str, list[npt.NDArray[np.bool_]]] = {}
    counts_by_measure: dict[str, list[npt.NDArray[np.int64]]] = {}
    for block in blocks:
        counts = []
        for lv in range(n_levels):
            mat = np.zeros((keys[lv].shape[0], block.indicators.shape[1]), dtype=np.int64)
            np.add.at(mat, rows[lv], block.indicators)
            counts.append(mat)
        hidden = suppress(counts, parents, min_cell=int(min_cell), complete=block.complete)
        for j, name in enumerate(block.columns):
            counts_by_measure[name] = [c[:, j] for c in counts]
            hidden_by_measure[name] = [h[:, j] for h in hidden]

    n_all = np.concatenate(sizes)
    level_of_row = np.concatenate([np.full(n_groups[lv], lv) for lv in range(n_levels)])
    code_cols = [np.concatenate([keys[lv][:, j] if lv > j else np.full(n_groups[lv], -1) for lv in range(n_levels)])
                 for j in range(len(cols))]
    out_cols["level"] = [("all" if lv == 0 else cols[lv - 1]) for lv in level_of_row]
    for j, col in enumerate(cols):
        vals = pd.Series(uniques[j]).convert_dtypes().array
        out_cols[col] = vals.take(code_cols[j], allow_fill=True)
    out_cols["n"] = n_all
    shown_measures = [m for b in blocks if b.name != "tiers" or "tiers" in include for m in b.columns]
    n_hidden = np.zeros(len(n_all), dtype=np.int64)
    for m in shown_measures:
        k = np.concatenate(counts_by_measure[m])
        h = np.concatenate(hidden_by_measure[m])
        n_hidden += h
        lo, hi = wilson_interval(k, n_all, confidence)
        with np.errstate(invalid="ignore", divide="ignore"):
            prop = np.where(n_all > 0, k / np.maximum(n_all, 1), np.nan)
        n_arr = pd.array(np.where(h, 0, k), dtype="Int64")
        n_arr[h] = pd.NA
        out_cols[f"{m}.n"] = n_arr
        for stat, v in (("prop", prop), ("ci_low", lo), ("ci_high", hi)):
            arr = pd.array(v, dtype="Float64")
            arr[h | np.isnan(v)] = pd.NA
            out_cols[f"{m}.{stat}"] = arr

    if compare:
        # concern_tiers is never empty (_check_options), so the sum is an array
        k = cast("npt.NDArray[np.int64]", sum(np.concatenate(counts_by_measure[f"tier.{t}"]) for t in concern_tiers))
        h = np.zeros(len(n_all), dtype=bool)
        for t in concern_tiers:
            h |= np.concatenate(hidden_by_measure[f"tier.{t}"])
        K, N = int(k[0]), int(n_all[0])
        p = exact_greater_p(k, n_all, K, N)
        p[level_of_row == 0] = np.nan
        p_adj = np.full(len(p), np.nan)
        for lv in range(1, n_levels):
            sel = level_of_row == lv
            p_adj[sel] = adjust_p(p[sel], correction)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = (k / n_all) / (K / N) if K > 0 else np.full(len(k), np.nan)
        flag = p_adj < alpha
        for name, v in (("compare.ratio", ratio), ("compare.p", p), ("compare.p_adj", p_adj)):
            arr = pd.array(np.asarray(v, dtype=float), dtype="Float64")
            arr[h | np.isnan(v)] = pd.NA
            out_cols[name] = arr
        flag_arr = pd.array(flag, dtype="boolean")
        flag_arr[h | np.isnan(p_adj)] = pd.NA
        out_cols["compare.flag"] = flag_arr
    out_cols["n_suppressed"] = n_hidden

    frame = pd.DataFrame(out_cols)
    # depth-first order: a group, then its children
    order = np.lexsort(tuple(reversed(code_cols))) if code_cols else np.arange(len(frame))
    frame = frame.iloc[order].reset_index(drop=True)
    if not rollup and len(cols) > 1:
        frame = frame[frame["level"].isin(["all", cols[-1]])].reset_index(drop=True)
    frame.attrs["screening"] = {
        "kind": "summary",
        "by": cols,
        "min_cell": int(min_cell),
        "confidence": confidence,
        "interval": "Wilson score",
        "test": "one-sided exact test (Fisher / hypergeometric) of each group against the rest of the population",
        "concern": concern_tiers,
        "correction": {"holm": "Holm", "bh": "Benjamini-Hochberg"}[correction] + " within each level",
        "alpha": alpha,
        "disclaimer": dict(DISCLAIMER),
        "provenance": dict(result.provenance),
    }
    return frame


_STATS = ("n", "prop", "ci_low", "ci_high")


def to_long(summary: pd.DataFrame) -> pd.DataFrame:
    """The tidy long form of a :func:`summarise` table.

    One row per group and measure: the group columns and ``level``,
    ``group_n`` (students in the group), ``measure`` (``tier``, ``urgent``,
    ``rescreen``, or a banded score such as ``phq9.total``), ``category``
    (``green``, ``moderate``, ``unscored`` …; ``""`` for urgent/re-screen),
    then ``n``, ``prop``, ``ci_low``, ``ci_high`` — NA where suppressed, as in
    the wide table. Comparison columns stay with the wide table.
    """
    meta = summary.attrs.get("screening", {})
    by = list(meta.get("by", []))
    keys = ["level", *[c for c in by if c in summary.columns]]
    prefixes = []
    for c in summary.columns:
        if c.endswith(".n") and c != "n" and all(f"{c[:-2]}.{s}" in summary.columns for s in _STATS):
            prefixes.append(c[:-2])
    parts = []
    for pref in prefixes:
        if pref.startswith("tier."):
            measure, category = "tier", pref[len("tier."):]
        elif ".band." in pref:
            measure, category = pref.split(".band.", 1)
        elif pref.endswith(".unscored"):
            measure, category = pref[: -len(".unscored")], "unscored"
        else:
            measure, category = pref, ""
        part = summary[keys].copy()
        part["group_n"] = summary["n"]
        part["measure"] = measure
        part["category"] = category
        for st in _STATS:
            part[st] = summary[f"{pref}.{st}"]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else summary[keys].iloc[:0].copy()
    out.attrs["screening"] = {**meta, "kind": "summary_long"}
    return out
