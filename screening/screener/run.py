"""``screen()``: responses + risk-group flags → scores → tiers, reasons, actions and provenance."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from .._params import ENGINE_FRAME, Check, Interval, InvalidParameterError, ListOf, Options, is_engine_frame, validate_params
from .._version import __version__
from ..engine.responses import as_text
from ..errors import Issue, ResponseError
from ..scoring import Scale, load_scale
from ..scoring.frame import _band_plan, _labels, _score_columns
from ..tiering._fast import empty_frame, frame_of
from ..tiering.assign import assign_tiers
from ..tiering.condition import PREV_TIER, PREV_WAVES
from ..tiering.inputs import flags_read, rule_inputs, rules_reading_absent_scales, scales_needing_items
from ..tiering.ruleset import RuleSet, load_rules
from .result import ScreeningResult

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
            map_true = np.array([u in _TRUE for u in uniques], dtype=bool)  # dtype: a 0-row partition has no uniques
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


def _flag_columns(responses: pd.DataFrame, rules: RuleSet, flags: Any) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    """Resolve the ``flags`` argument; returns the flags frame, the rule-set flags not supplied and the
    supplied flags' arrays (nullable booleans) by flag id."""
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
    given = {f: parsed[f] for f in parsed if f not in not_given}  # the others are unknown for everyone
    return frame_of({f: parsed[f] for f in order}, responses.index), not_given, given


def _previous_frame(previous: pd.DataFrame | None, responses: pd.DataFrame, tiers: Sequence[str]) -> pd.DataFrame | None:
    """``previous`` checked and typed: ``prev.tier`` as the rule set's ordered tiers, ``prev.waves_in_tier`` as float."""
    if previous is None:
        return None
    if not isinstance(previous, pd.DataFrame):
        raise InvalidParameterError(
            "The 'previous' parameter of screen must be a DataFrame (e.g. Archive.previous(ids)). "
            f"Got {type(previous).__name__} instead.")
    if len(previous) != len(responses) or not previous.index.equals(responses.index):
        raise InvalidParameterError(
            "The 'previous' parameter of screen must have the same index, in the same order, as 'responses'. "
            f"Got {len(previous)} rows for {len(responses)} instead.")
    out = pd.DataFrame(index=responses.index)
    if PREV_TIER in previous.columns:
        raw = previous[PREV_TIER].astype("string")
        bad = raw.notna() & ~raw.isin(list(tiers))
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            raise ResponseError([Issue("unknown_tier", f"{int(bad.sum())} value(s) are not tiers of this rule set "
                                       f"({', '.join(tiers)})", column=PREV_TIER, rows=tuple(int(r) for r in rows[:10]))],
                                title="cannot read the previous wave")
        out[PREV_TIER] = pd.Categorical(raw.astype(object).where(raw.notna(), None), categories=list(tiers), ordered=True)
    if PREV_WAVES in previous.columns:
        out[PREV_WAVES] = pd.to_numeric(previous[PREV_WAVES], errors="coerce").astype(float)
    return out


_SCALE = Check(lambda v: isinstance(v, (str, Path, Scale)), "a scale id, a path or a Scale")


@validate_params({
    "responses": [pd.DataFrame, ENGINE_FRAME],
    "scales": [ListOf(_SCALE, "scale ids, paths or Scales", min_len=1)],
    "rules": [str, Path, RuleSet],
    "flags": [None, ListOf(str, "column names"), Mapping, pd.DataFrame],
    "groups": [None, ListOf(str, "column names")],
    "quality": [None, pd.DataFrame],
    "lang": [Options("zh", "en")],
    "response_format": [Options("value", "index", "label")], "on_invalid": [Options("raise", "missing")],
    "bands": [None, Mapping], "n_jobs": [Interval(int, 1, None)], "previous": [None, pd.DataFrame],
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
    previous: pd.DataFrame | None = None,
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
    previous : DataFrame, optional
        The student's previous screening, same index as ``responses``: columns
        ``prev.tier`` (a tier id of the rule set) and ``prev.waves_in_tier``, as
        :meth:`screening.archive.Archive.previous` returns them. Rules can then
        read them (``prev.tier >= "yellow" and prev.waves_in_tier >= 2``: still
        yellow after two terms). A student with no earlier wave has them unknown,
        so such a rule does not fire for that student; without ``previous`` they
        are unknown for everyone.

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
    if is_engine_frame(responses):
        from ..scaleout import screen_distributed  # a Dask or Spark DataFrame: the same screening, run by that engine

        if previous is not None:
            raise InvalidParameterError("The 'previous' parameter of screen is not supported on a Dask or Spark DataFrame "
                                        "(join the previous wave's columns into the frame's partitions instead). Got a DataFrame instead.")
        # a lazy DistributedScreening stands in for the ScreeningResult (the return type describes pandas input)
        return cast("ScreeningResult", screen_distributed(
            responses, scales, rules, flags=flags, groups=groups, quality=quality, lang=lang,
            response_format=response_format, on_invalid=on_invalid, bands=bands, n_jobs=n_jobs))
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
                stacklevel=3,  # past validate_params to the caller
            )

    need_items = scales_needing_items(rs)
    bands = dict(bands or {})
    columns: dict[str, Any] = {}
    sparse = {}
    labels = _labels(responses)  # column labels read once for every scale
    for s in loaded:
        # the engine also returns each score's bounds over the answers to blank items, for the rows with a blank
        data, out = _score_columns(responses, s, response_format=response_format, on_invalid=on_invalid,
                                   bands=bands.get(s.id), keep_items=s.id in need_items, quality=quality, n_jobs=n_jobs,
                                   bounds="sparse", labels=labels, stacklevel=4)
        columns.update(data)
        sparse[s.id] = out.sparse_bounds(len(s.compiled.scores))
    scores = frame_of(columns, responses.index)  # one frame for every scale, no concat
    flag_frame, not_given, flag_arrays = _flag_columns(responses, rs, flags)
    n = len(responses)
    warn: list[str] = []
    used_flags = flags_read(rs)
    missing_used = [f for f in not_given if f in used_flags]
    if missing_used:
        msg = f"risk-group flags not supplied, treated as unknown for every student: {', '.join(missing_used)}"
        warnings.warn(msg, stacklevel=3)
        warn.append(msg)

    prev = _previous_frame(previous, responses, rs.spec.tier_ids())
    # the rules read the engine's arrays themselves (no frame lookups: they cost more than the data for one student)
    inputs = rule_inputs(rs, columns, screened, flags=flag_arrays, quality=quality, previous=prev, sparse=sparse, n=n)
    table, action_codes = assign_tiers(rs, inputs.values, n, screened, inputs.statuses, inputs.critical,
                                       responses.index, lang=lang, bounds=inputs.bounds, maybe=inputs.maybe,
                                       read_scales=inputs.read_scales)

    inactive = rules_reading_absent_scales(rs, screened)
    if groups is None:
        group_cols = [c for c in DEFAULT_GROUP_COLUMNS if c in responses.columns]
    else:
        absent = [g for g in groups if g not in responses.columns]
        if absent:
            raise ResponseError([Issue("missing_column", "group column not found", column=g) for g in absent],
                                title="cannot keep group columns")
        group_cols = list(groups)
    kept = (responses[group_cols].copy() if group_cols
            else empty_frame(responses.columns[:0], responses.index))  # (nothing to copy)
    provenance = {
        "library": "screening",
        "version": __version__,
        "rules": {"id": rs.id, "version": rs.spec.version, "hash": rs.content_hash},
        "scales": {s.id: {"version": s.spec.version, "hash": s.content_hash} for s in loaded},
        "options": {"response_format": response_format, "on_invalid": on_invalid, "bands": bands, "lang": lang},
        # the band set of every banded score, as scored: reports read these, not the files' defaults
        "band_sets": {f"{s.id}.{sid}": name for s in loaded for sid, name in _band_plan(s, bands.get(s.id)).items()},
        "rules_reading_unscreened_scales": inactive,
        "flags_not_supplied": not_given,
        "warnings": warn,
    }
    return ScreeningResult(
        table=table,
        scores=scores,
        flags=flag_frame,
        groups=kept,
        rules=rs,
        scales=tuple(loaded),
        provenance=provenance,
        action_codes=action_codes,
    )
