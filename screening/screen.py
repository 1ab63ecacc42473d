"""``screen()``: responses + risk-group flags → scores → tiers, reasons, actions and provenance."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import columns as C
from ._params import Check, Interval, InvalidParameterError, ListOf, Options, validate_params
from ._version import __version__
from .catalog import Scale, load_scale
from .engine.responses import as_text
from .errors import Issue, ResponseError
from .result import ScreeningResult
from .scoring import score
from .tiering.assign import assign_tiers
from .tiering.condition import UNKNOWN, Symbol
from .tiering.ruleset import RuleSet, load_rules

__all__ = ["screen", "DEFAULT_GROUP_COLUMNS", "parse_flags"]

#: Grouping columns kept for summaries when present, in hierarchy order.
DEFAULT_GROUP_COLUMNS = ("district", "school", "grade", "class", "sex")

_TRUE = {"1", "true", "t", "yes", "y", "是", "有", "√", "✓"}
_FALSE = {"0", "false", "f", "no", "n", "否", "无", "没有", "×", "✗"}


def parse_flags(frame: pd.DataFrame, columns: Mapping[str, str]) -> dict[str, Any]:
    """Risk-group flags as nullable booleans (NA = unknown). Text such as 是/否, yes/no, 1/0 is read;
    anything else is an error naming the column and row positions (never the cell contents)."""
    out: dict[str, Any] = {}
    issues: list[Issue] = []
    for flag, col in columns.items():
        s = frame[col]
        if s.dtype == bool:
            out[flag] = pd.arrays.BooleanArray(s.to_numpy(), np.zeros(len(s), dtype=bool))
            continue
        if pd.api.types.is_bool_dtype(s.dtype):
            out[flag] = s.astype("boolean").array
            continue
        if pd.api.types.is_numeric_dtype(s.dtype):
            arr = s.to_numpy(dtype=float, na_value=np.nan)
            bad = ~np.isnan(arr) & ~np.isin(arr, (0.0, 1.0))
            vals, known = arr == 1.0, ~np.isnan(arr)
        else:
            text = as_text(s).str.strip().str.lower()
            uniques, codes = np.unique(text.fillna("").to_numpy(dtype=str), return_inverse=True)
            map_true = np.array([u in _TRUE for u in uniques], dtype=bool)
            map_false = np.array([u in _FALSE for u in uniques], dtype=bool)
            blank = np.array([u == "" for u in uniques], dtype=bool)
            codes = codes.ravel()
            vals = map_true[codes]
            known = vals | map_false[codes]
            bad = ~known & ~blank[codes]
        if bad.any():
            rows = np.flatnonzero(bad)
            issues.append(Issue("invalid_flag", f"risk-group flag {flag!r}: {int(bad.sum())} value(s) are not yes/no",
                                column=col, rows=tuple(rows[:10].tolist()), count=int(bad.sum()),
                                hint="use true/false, 1/0, 是/否 or leave the cell empty when unknown"))
            continue
        out[flag] = pd.arrays.BooleanArray(vals & known, ~known)
    if issues:
        raise ResponseError(issues, title="invalid risk-group flags")
    return out


def _flag_columns(responses: pd.DataFrame, rules: RuleSet, flags: Any) -> tuple[pd.DataFrame, list[str]]:
    """Resolve the ``flags`` argument; returns the flags frame and the rule-set flags not supplied."""
    wanted = rules.flags
    if isinstance(flags, pd.DataFrame):
        if not flags.index.equals(responses.index):
            raise InvalidParameterError(
                "The 'flags' parameter of screen must have the same index, in the same order, as 'responses'. "
                "Got a different index instead."
            )
        source, mapping = flags, {str(c): str(c) for c in flags.columns}
    elif flags is None:
        source, mapping = responses, {f: f for f in wanted if f in responses.columns}
    elif isinstance(flags, Mapping):
        source, mapping = responses, {str(k): str(v) for k, v in flags.items()}
    elif isinstance(flags, (list, tuple)):
        source, mapping = responses, {str(f): str(f) for f in flags}
    else:
        raise InvalidParameterError(
            "The 'flags' parameter of screen must be None, a list of columns, a mapping flag → column or a DataFrame. "
            f"Got {type(flags).__name__} instead."
        )
    unknown = [f for f in mapping if f not in wanted]
    if unknown:
        raise InvalidParameterError(
            f"The 'flags' parameter of screen names flags {unknown} that rule set {rules.id!r} does not use. "
            f"Its flags are {wanted}."
        )
    missing_cols = [c for c in mapping.values() if c not in source.columns]
    if missing_cols:
        raise ResponseError([Issue("missing_column", "risk-group flag column not found", column=c) for c in missing_cols],
                            title="cannot read risk-group flags")
    names = [str(c) for c in source.columns]
    dup = sorted({c for c in mapping.values() if names.count(c) > 1})
    if dup:
        raise ResponseError([Issue("duplicate_column", f"column appears {names.count(c)} times", column=c,
                                   hint="rename or drop the extra copies; which one holds the flag cannot be guessed")
                             for c in dup], title="cannot read risk-group flags")
    parsed = parse_flags(source, mapping)
    not_given = [f for f in wanted if f not in mapping]
    n = len(source)
    for f in not_given:
        parsed[f] = pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    order = wanted or list(parsed)
    return pd.DataFrame({f: parsed[f] for f in order}, index=responses.index, copy=False), not_given


def _symbol_values(sym: Symbol, scores: pd.DataFrame, flags: pd.DataFrame, quality: pd.DataFrame | None, n: int) -> Any:
    """The arrays a condition reads for one symbol (views where possible); UNKNOWN when its source is absent."""
    if sym.source == "flags":
        col = flags[sym.name] if sym.name in flags.columns else None
    elif sym.source == "quality":
        col = quality[sym.column] if quality is not None and sym.column in quality.columns else None
    else:
        col = scores[sym.column] if sym.column in scores.columns else None
    if col is None:
        return UNKNOWN
    if sym.kind == "number":
        if col.dtype == np.float64:
            return col.to_numpy()  # a view: no copy of a million floats
        return col.to_numpy(dtype=float, na_value=np.nan)
    if sym.kind == "bool":
        arr = col.array
        if isinstance(arr, pd.arrays.BooleanArray):
            known = ~np.asarray(arr.isna())
            return (arr.to_numpy(dtype=bool, na_value=False), known) if known.any() else UNKNOWN
        return col.to_numpy(dtype=bool), np.True_
    # band or status: categorical codes (int8, -1 missing), no copy
    cat = col.array
    return np.asarray(cat.codes), tuple(str(c) for c in cat.categories)


_SCALE = Check(lambda v: isinstance(v, (str, Path, Scale)), "a scale id, a path or a Scale")


@validate_params({
    "responses": [pd.DataFrame],
    "scales": [ListOf(_SCALE, "scale ids, paths or Scales", min_len=1)],
    "rules": [str, Path, RuleSet],
    "flags": [None, ListOf(str, "column names"), Mapping, pd.DataFrame],
    "groups": [None, ListOf(str, "column names")],
    "quality": [None, pd.DataFrame],
    "lang": [Options("zh", "en")],
    "response_format": [Options("value", "index", "label")], "on_invalid": [Options("raise", "missing")],
    "bands": [None, Mapping], "n_jobs": [Interval(int, 1, None)],
})
def screen(
    responses: pd.DataFrame,
    scales: Sequence[str | Path | Scale],
    rules: str | Path | RuleSet = "default",
    *,
    flags: Sequence[str] | Mapping[str, str] | pd.DataFrame | None = None,
    groups: Sequence[str] | None = None,
    quality: pd.DataFrame | None = None,
    lang: Literal["zh", "en"] = "zh",
    response_format: Literal["value", "index", "label"] = "value",
    on_invalid: Literal["raise", "missing"] = "raise",
    bands: Mapping[str, str | Mapping[str, str]] | None = None,
    n_jobs: int = 1,
) -> ScreeningResult:
    """Score the scales, then place every student in a tier with reasons and actions.

    Parameters
    ----------
    responses : DataFrame
        One row per student (never modified). Item columns as for :func:`score`.
    scales : list
        Scale ids, YAML paths or :class:`Scale` objects to score (e.g. ``["phq9", "gad7"]``).
        Conditions on scales not screened are unknown (they fire only through
        another branch of an ``or``); such rules are listed in
        ``provenance["rules_reading_unscreened_scales"]``.
    rules : str, path or RuleSet
        Built-in rule set id (``"default"``, ``"four_level"``) or a YAML file.
    flags : optional
        Risk-group flags: by default the columns of ``responses`` named like the
        rule set's flags (``left_behind``, ``bullied`` …); or a list of such
        columns, a mapping flag → column, or a DataFrame with the same index.
        Values: booleans, 1/0 or yes/no text (是/否); empty = unknown. Flags the
        rule set uses but that are not supplied are unknown for everyone (a
        warning says which).
    groups : list of str, optional
        Columns kept for group summaries; default: those of
        :data:`DEFAULT_GROUP_COLUMNS` present.
    quality : DataFrame, optional
        Response-quality flags (see :func:`screening.check_quality`), passed to :func:`score`.
    lang : {"zh", "en"}
        Language of the ``reasons`` and ``actions`` columns (both languages are
        always in ``reasons_zh``/``reasons_en``/``actions_zh``/``actions_en``).
    response_format, on_invalid, n_jobs
        As for :func:`score`.
    bands : mapping, optional
        Scale id → band choice for that scale (as ``score(bands=...)``).

    Returns
    -------
    ScreeningResult
        ``.table`` (tier, urgent, reasons, actions …; same index as ``responses``),
        ``.scores``, ``.flags``, ``.groups``, ``.provenance``.

    Examples
    --------
    >>> import pandas as pd, screening as sc
    >>> df = pd.DataFrame({**{f"phq9_{k}": [0, 2] for k in range(1, 10)},
    ...                    **{f"gad7_{k}": [0, 1] for k in range(1, 8)}, "bullied": [False, True]})
    >>> res = sc.screen(df, scales=["phq9", "gad7"], rules="default")
    >>> res.table["tier"].tolist(), res.table["urgent"].tolist()
    (['green', 'orange'], [False, True])
    """
    rs = load_rules(rules)
    loaded = [load_scale(s) for s in scales]
    ids = [s.id for s in loaded]
    if len(set(ids)) != len(ids):
        raise InvalidParameterError(f"The 'scales' parameter of screen must not repeat a scale. Got {ids} instead.")  # ids of loaded scales
    screened = {s.id: s for s in loaded}
    for s in loaded:
        known = rs.scales.get(s.id)
        if known is not None and known.content_hash != s.content_hash:
            warnings.warn(
                f"scale {s.id!r} given to screen differs from the definition rule set {rs.id!r} was checked against",
                stacklevel=2,
            )

    symbols = {sym.name: sym for cond in rs.conditions for sym in cond.symbols}
    need_items = {sym.scale for sym in symbols.values() if sym.needs_items}
    bands = dict(bands or {})
    parts = [
        score(responses, s, response_format=response_format, on_invalid=on_invalid, bands=bands.get(s.id),
              keep_items=s.id in need_items, quality=quality, n_jobs=n_jobs)
        for s in loaded
    ]
    scores = pd.concat(parts, axis=1)
    flag_frame, not_given = _flag_columns(responses, rs, flags)
    n = len(responses)
    warn: list[str] = []
    used_flags = {sym.name for sym in symbols.values() if sym.source == "flags"}
    missing_used = [f for f in not_given if f in used_flags]
    if missing_used:
        msg = f"risk-group flags not supplied, treated as unknown for every student: {', '.join(missing_used)}"
        warnings.warn(msg, stacklevel=2)
        warn.append(msg)

    values = {name: _symbol_values(sym, scores, flag_frame, quality, n) for name, sym in symbols.items()}
    statuses = {sid: np.asarray(scores[C.status_col(sid)].array.codes, dtype=np.int8) for sid in screened}
    critical = {sid: scores[C.critical_col(sid)].to_numpy(dtype=bool) for sid in screened}
    table = assign_tiers(rs, values, n, screened, statuses, critical, responses.index, lang=lang)

    inactive = [
        r.id for r, cond in zip(rs.spec.rules, rs.conditions)
        if any(sym.scale is not None and sym.scale not in screened for sym in cond.symbols)
    ]
    if groups is None:
        group_cols = [c for c in DEFAULT_GROUP_COLUMNS if c in responses.columns]
    else:
        absent = [g for g in groups if g not in responses.columns]
        if absent:
            raise ResponseError([Issue("missing_column", "group column not found", column=g) for g in absent],
                                title="cannot keep group columns")
        group_cols = list(groups)
    provenance = {
        "library": "screening",
        "version": __version__,
        "rules": {"id": rs.id, "version": rs.spec.version, "hash": rs.content_hash},
        "scales": {s.id: {"version": s.spec.version, "hash": s.content_hash} for s in loaded},
        "options": {"response_format": response_format, "on_invalid": on_invalid, "bands": bands, "lang": lang},
        "rules_reading_unscreened_scales": inactive,
        "flags_not_supplied": not_given,
        "warnings": warn,
    }
    return ScreeningResult(
        table=table,
        scores=scores,
        flags=flag_frame,
        groups=responses[group_cols].copy(),
        rules=rs,
        scales=tuple(loaded),
        provenance=provenance,
    )
