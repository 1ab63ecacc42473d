"""What the rules read: each symbol's values from the scores, flags, quality checks and the previous wave;
where blank items leave a number or band uncertain (its bounds); which critical items are unanswered.

:func:`screening.screen` scores, then hands the frames here; everything that knows the kinds and sources
of rule symbols lives in ``tiering/``, not in the screen step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import columns as C
from ..scoring import Scale
from .assign import CriticalMasks
from .condition import UNKNOWN, Codes, Numbers, Symbol, SymbolKind, SymbolSource, Truths, Value
from .program import compiled_pass_runs
from .ruleset import RuleSet

__all__ = ["RuleInputs", "flags_read", "rule_inputs", "rules_reading_absent_scales", "scales_needing_items"]


@dataclass(frozen=True)
class RuleInputs:
    """Everything :func:`~screening.tiering.assign.assign_tiers` reads besides the rule set."""

    values: dict[str, Value]
    bounds: dict[str, Any]
    maybe: dict[str, npt.NDArray[np.intp]]
    critical: dict[str, CriticalMasks]
    statuses: dict[str, npt.NDArray[np.int8]]
    read_scales: list[str]


def flags_read(rs: RuleSet) -> set[str]:
    """The risk-group flags some rule reads."""
    return {sym.name for sym in rs.symbols.values() if sym.source == SymbolSource.FLAGS}


def scales_needing_items(rs: RuleSet) -> set[str | None]:
    """Scales whose item answers some rule reads (they are scored with ``keep_items``)."""
    return {sym.scale for sym in rs.symbols.values() if sym.needs_items}


def rules_reading_absent_scales(rs: RuleSet, screened: Mapping[str, Scale]) -> list[str]:
    """Ids of rules that read a scale not screened (they can never fire here)."""
    return [r.id for r, cond in zip(rs.spec.rules, rs.conditions)
            if any(sym.scale is not None and sym.scale not in screened for sym in cond.symbols)]


def rule_inputs(rs: RuleSet, scores: pd.DataFrame | Mapping[str, Any], screened: Mapping[str, Scale], *,
                flags: Mapping[str, Any], quality: pd.DataFrame | None, previous: pd.DataFrame | None,
                sparse: Mapping[str, Any], n: int | None = None) -> RuleInputs:
    """The values, blank-item bounds, possibly-fired critical items, critical masks and statuses the rules read.

    ``scores``: the score table, or its columns by name (arrays and categoricals, as the engine returns
    them: no frame lookups, which cost more than the data for one student; then ``n`` is the number of
    students); ``flags``: the risk-group flags' nullable boolean arrays by flag id; ``sparse``: per scale,
    the engine's ``(rows, lower, upper)`` score bounds for the rows with a blank item.
    """
    if n is None:
        n = len(scores)
    symbols = rs.symbols
    # a symbol of a scale not screened has no column to read: unknown, without asking the frames
    values = {name: _symbol_values(sym, scores, flags, quality, n, previous) if sym.scale is None or sym.scale in screened
              else UNKNOWN for name, sym in symbols.items()}
    promote = rs.spec.critical_items.promote
    critical = {sid: _critical_masks(screened[sid], scores, promote, n) for sid in screened}
    bounds_of: dict[str, Any] = {}
    maybe: dict[str, npt.NDArray[np.intp]] = {}
    # the compiled pass judges a point interval exactly as the value: it takes the engine's bounds as they are
    points = not compiled_pass_runs(n)
    for name, sym in symbols.items():
        b = _blank_bounds(sym, values[name], sparse, screened, drop_points=points)
        if b is not None:
            bounds_of[name] = b
        if sym.kind == SymbolKind.BOOL and sym.source == SymbolSource.SCORES and sym.scale is not None \
                and sym.scale in screened and ".critical" in name:
            if name.endswith(".critical"):
                # as the item origins in the scale file say (the rule set's promotions aside)
                promoted = any(p.split(".")[0] == sym.scale for p in promote)
                cm = _critical_masks(screened[sym.scale], scores, (), n) if promoted else critical[sym.scale]
                m = cm.manual_blank | cm.project_blank
            else:
                m = _critical_blank(scores, sym.column)
            if m.any():
                maybe[name] = np.flatnonzero(m)
    statuses = {sid: np.asarray(_array(scores[C.status_col(sid)]).codes, dtype=np.int8) for sid in screened}
    read = {sym.scale for sym in symbols.values() if sym.scale is not None} | {
        sid for sid, s in screened.items() if s.spec.critical}
    return RuleInputs(values=values, bounds=bounds_of, maybe=maybe, critical=critical, statuses=statuses,
                      read_scales=sorted(read))


def _array(col: Any) -> Any:
    """The array of a column (a Series' ``.array``; an array as it is)."""
    return col.array if isinstance(col, pd.Series) else col


def _symbol_values(sym: Symbol, scores: pd.DataFrame | Mapping[str, Any], flags: Mapping[str, Any],
                   quality: pd.DataFrame | None, n: int, previous: pd.DataFrame | None = None) -> Value:
    """The arrays a condition reads for one symbol (views where possible); UNKNOWN when its source is absent.
    ``flags``: the risk-group flags' nullable boolean arrays by flag id."""
    if sym.source == SymbolSource.FLAGS:
        flag = flags.get(sym.name)
        return UNKNOWN if flag is None else _truths(flag)
    if sym.source == SymbolSource.PREVIOUS:
        col = previous[sym.column] if previous is not None and sym.column in previous.columns else None
    elif sym.source == SymbolSource.QUALITY:
        col = quality[sym.column] if quality is not None and sym.column in quality.columns else None
    else:
        col = scores.get(sym.column)
    if col is None:
        return UNKNOWN
    arr = _array(col)
    if sym.kind == SymbolKind.NUMBER:
        if isinstance(arr, np.ndarray):
            return Numbers(arr if arr.dtype == np.float64 else arr.astype(np.float64))  # float64: a view, no copy
        return Numbers(arr.to_numpy(dtype=float, na_value=np.nan))
    if sym.kind == SymbolKind.BOOL:
        return _truths(arr)
    # band or status: categorical codes (int8, -1 missing), no copy
    return Codes(np.asarray(arr.codes), tuple(str(c) for c in arr.categories))


def _truths(arr: Any) -> Value:
    """A true/false column's values and where they are known; UNKNOWN when known for nobody."""
    if isinstance(arr, pd.arrays.BooleanArray):
        known = ~np.asarray(arr.isna())
        return Truths(arr.to_numpy(dtype=bool, na_value=False), known) if known.any() else UNKNOWN
    return Truths(np.asarray(arr, dtype=bool), np.True_)


def _blank_bounds(sym: Symbol, value: Value, sparse: Mapping[str, Any], screened: Mapping[str, Scale], *,
                  drop_points: bool = True) -> Any:
    """(rows, lower, upper) of a number or band symbol: the students whose value blank items leave uncertain,
    and its bounds there over the possible answers to the blanks; None where there are none. ``drop_points``:
    leave out the rows where the bounds are the value itself (the column-wise path then looks at fewer rows;
    the compiled pass takes the engine's arrays as they are, without the gathers)."""
    if sym.source != SymbolSource.SCORES or sym.scale not in screened:
        return None
    if isinstance(value, Numbers) and sym.needs_items:  # an item: a blank could be any of its options
        rows = np.flatnonzero(np.isnan(value.values))
        return (rows, np.full(len(rows), sym.lo), np.full(len(rows), sym.hi)) if len(rows) else None
    scale = sym.scale
    if sym.kind not in (SymbolKind.NUMBER, SymbolKind.BAND) or not isinstance(value, (Numbers, Codes)) \
            or scale is None or scale not in sparse:
        return None
    score_id = sym.name.split(".")[1]
    cs = screened[scale].compiled
    try:
        i = cs.score_index(score_id)
    except KeyError:
        return None
    if isinstance(value, Numbers) and sym.name != f"{scale}.{score_id}":
        return None  # .t / .pct: norms of a bound are not computed
    rows, lower, upper = sparse[scale]
    if not len(rows):
        return None
    lo, hi = lower[i], upper[i]
    if isinstance(value, Codes):
        codes, cats = value.codes, value.categories
        bset = next((b for b in cs.bands.get(score_id, {}).values() if tuple(b.ids) == tuple(cats)), None)
        if bset is None:
            return None
        lo, hi = bset.codes(lo).astype(float), bset.codes(hi).astype(float)
        lo[lo < 0] = np.nan
        hi[hi < 0] = np.nan
        v = np.where(codes[rows] >= 0, codes[rows], np.nan)
    else:
        if not drop_points:
            return rows, lo, hi
        v = value.values[rows]
    with np.errstate(invalid="ignore"):
        keep = ~((lo == v) & (hi == v))
    if not keep.any():
        return None
    return rows[keep], lo[keep], hi[keep]


def _critical_blank(scores: pd.DataFrame | Mapping[str, Any], column: str) -> Any:
    return np.asarray(_array(scores[column]).isna())


def _critical_masks(scale: Scale, scores: pd.DataFrame | Mapping[str, Any], promote: Sequence[str], n: int) -> CriticalMasks:
    """Fired and unanswered critical items of one scale, split into crisis (manual or promoted) and project-choice."""
    masks = {k: np.zeros(n, dtype=bool) for k in ("mf", "mb", "pf", "pb")}
    for c in scale.spec.critical:
        arr = _array(scores[C.critical_col(scale.id, c.id)])
        fired = arr.to_numpy(dtype=bool, na_value=False)
        blank = np.asarray(arr.isna())
        manual = c.origin == "manual" or f"{scale.id}.{c.id}" in promote
        masks["mf" if manual else "pf"] |= fired
        masks["mb" if manual else "pb"] |= blank
    mf, pf = masks["mf"], masks["pf"]
    return CriticalMasks(mf, masks["mb"] & ~mf, pf & ~mf, masks["pb"] & ~mf & ~pf)
