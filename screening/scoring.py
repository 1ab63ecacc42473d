"""``score()``: one table of responses in, one table of scores out (same index, same order)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from . import columns as C
from ._params import (
    ENGINE_FRAME,
    Check,
    Interval,
    InvalidParameterError,
    ListOf,
    Options,
    check,
    describe,
    is_engine_frame,
    validate_params,
)
from .catalog import Scale, load_scale
from .engine.norms import apply_norms, group_key
from .engine.responses import frame_column, parse_column
from .engine.score import Plan, bad_value_issues, output_columns, run_kernel
from .errors import Issue, ResponseError, did_you_mean

__all__ = ["score", "output_schema", "empty_output"]

ResponseFormat = Literal["value", "index", "label"]
OnInvalid = Literal["raise", "missing"]
ScaleLike = str | Path | Scale | Mapping[str, Any]

DEFAULT_CHUNK = 8192  # fewest rows per chunk by default
CHUNK_CELLS = 2**19  # answers per chunk by default (a 4 MiB float buffer: fits the L2/L3 of common CPUs)


def _resolve_columns(
    sc: Scale, columns: Mapping[str, str] | None, prefix: str | None
) -> list[str]:
    items = sc.items
    mapping = dict(columns or {})
    unknown = [k for k in mapping if str(k) not in items]
    if unknown:
        hint = did_you_mean(str(unknown[0]), items)
        raise InvalidParameterError(
            f"The 'columns' parameter of score must map item ids of {sc.id} ({items}) to columns. "
            f"Got a mapping with {len(unknown)} other key(s) instead" + (f" ({hint})" if hint else "") + "."
        )
    mapping = {str(k): v for k, v in mapping.items()}
    base = sc.input_columns(prefix)
    return [str(mapping.get(i, base[k])) for k, i in enumerate(items)]


def _band_plan(sc: Scale, bands: str | Mapping[str, str] | None) -> dict[str, str]:
    cs = sc.compiled
    plan = dict(cs.default_bands)
    if bands is None:
        return plan
    if isinstance(bands, str):
        hits = [sid for sid, sets in cs.bands.items() if bands in sets]
        if not hits:
            names = sorted({n for sets in cs.bands.values() for n in sets})
            raise InvalidParameterError(
                f"The 'bands' parameter of score must name a band set of {sc.id} ({names}). Got {describe(bands)} instead."
            )
        for sid in hits:
            plan[sid] = bands
        return plan
    for sid, name in bands.items():
        if sid not in cs.bands or name not in cs.bands[sid]:
            options = {k: sorted(v) for k, v in cs.bands.items()}
            raise InvalidParameterError(
                f"The 'bands' parameter of score must map score ids to their band sets {options}. "
                f"Got a mapping with a key or value not among them ({describe(sid)}: {describe(name)}) instead."
            )
        plan[sid] = name
    return plan


def _norm_plan(sc: Scale, norms: str | None) -> str | None:
    spec_norms = sc.spec.norms
    if norms is None:
        return None
    if norms == "default":
        return spec_norms.default if spec_norms is not None else None
    if spec_norms is None or norms not in spec_norms.sets:
        names = sorted(spec_norms.sets) if spec_norms is not None else []
        raise InvalidParameterError(
            f"The 'norms' parameter of score must be None, 'default' or a norm set of {sc.id} ({names}). Got {describe(norms)} instead."
        )
    return norms


_SCALE = Check(lambda v: isinstance(v, (str, Path, Scale, Mapping)), "a scale id, a path, a Scale or a mapping")


@validate_params({
    "responses": [pd.DataFrame, ENGINE_FRAME],
    "scale": [_SCALE, ListOf(_SCALE, "scale ids, paths or Scales")],
    "columns": [None, Mapping], "prefix": [None, str],
    "response_format": [Options("value", "index", "label")], "on_invalid": [Options("raise", "missing")],
    "bands": [None, str, Mapping], "norms": [None, str], "norm_columns": [None, Mapping],
    "keep_items": [bool, np.bool_], "quality": [None, pd.DataFrame],
    "chunk_size": [None, Interval(int, 1, None)], "n_jobs": [Interval(int, 1, None)],
})
def score(
    responses: pd.DataFrame,
    scale: ScaleLike | Sequence[ScaleLike],
    *,
    columns: Mapping[str, str] | None = None,
    prefix: str | None = None,
    response_format: ResponseFormat = "value",
    on_invalid: OnInvalid = "raise",
    bands: str | Mapping[str, str] | None = None,
    norms: str | None = "default",
    norm_columns: Mapping[str, str] | None = None,
    keep_items: bool = False,
    quality: pd.DataFrame | None = None,
    chunk_size: int | None = None,
    n_jobs: int = 1,
    bounds: bool = False,
) -> pd.DataFrame:
    """Score one scale (or several) for every row of ``responses``.

    Parameters
    ----------
    responses : DataFrame
        One row per student. Item ``k`` of scale ``s`` is read from column
        ``f"{s}_{k}"`` unless ``columns`` or ``prefix`` say otherwise. Never modified.
    scale : str, path, Scale, or a list of them
        Built-in id (``"phq9"``), a YAML file, or a loaded :class:`Scale`.
        With a list, the outputs of each scale are placed side by side.
    columns : mapping, optional
        Item id → input column, for items whose column is not the default.
    prefix : str, optional
        Input columns are ``f"{prefix}{item}"`` (e.g. ``"Q"`` for ``Q1…Q9``).
    response_format : {"value", "index", "label"}
        ``value``: cells hold option values (PHQ-9: 0–3). ``index``: 1-based
        option positions, as 问卷星 "按选项序号" and most survey tools export.
        ``label``: option labels (Chinese or English or a declared alias).
    on_invalid : {"raise", "missing"}
        A cell that is not an option of its item is never clipped or coerced.
        ``raise`` (default): raise :class:`ResponseError` listing every column,
        its first row positions and the count. ``missing``: treat such cells as
        unanswered and count them per row in ``{scale}.n_invalid``.
    bands : str or mapping, optional
        Band set to use instead of each score's default: a set name for every
        score that has it, or ``{score_id: set_name}``.
    norms : str or None
        ``"default"`` applies the scale's default norm set if it has one; a
        set name applies that one; ``None`` skips norms. Norm group variables
        are read from columns of the same name unless ``norm_columns`` maps them.
    keep_items : bool
        Add each item's response value as ``{scale}.item{k}`` (used by rule
        conditions such as ``phq9.item9 >= 1``).
    quality : DataFrame, optional
        Response-quality flags (see :func:`screening.check_quality`): boolean
        columns named ``quality.{check}`` (whole response) or
        ``{scale}.quality.{check}`` (this scale), same index as ``responses``.
        The flags that concern this scale are copied to the output as
        ``{scale}.quality.{check}`` and make its status ``invalid`` where True
        (scores are still computed, so a rule can send the student to re-screening).
    chunk_size, n_jobs : int
        Rows per chunk, and threads to score chunks on. Results do not depend on either. By default a
        chunk holds about half a million answers (8192 rows of a 90-item scale, 58,254 of PHQ-9), so
        that a short scale does not pay the per-chunk overhead thousands of times.
    bounds : bool
        Also return ``{s}.{score}.lower`` and ``{s}.{score}.upper``: the score that the best and the
        worst options of the blank items would give (the complete-data score lies between them; both
        equal the score when nothing is blank; NaN where the scale is void). :func:`screen` uses them
        to tell *possibly true* rules from definitely true ones (see docs/tiering.md).

    Returns
    -------
    DataFrame
        Same index and row order as ``responses``. Columns, per scale (see
        :mod:`screening.columns`): ``{s}.{score}`` (float), ``{s}.{score}.band``
        (categorical), ``{s}.{score}.t`` / ``.pct`` when norms apply,
        ``{s}.status``, ``{s}.n_missing``, ``{s}.n_invalid``, ``{s}.critical``,
        ``{s}.critical.{id}`` (nullable boolean, NA when the item is
        unanswered), ``{s}.validity.{id}``.

    Examples
    --------
    >>> import pandas as pd, screening as sc
    >>> df = pd.DataFrame({f"phq9_{k}": [1] for k in range(1, 10)})
    >>> out = sc.score(df, "phq9")
    >>> row = out.iloc[0]
    >>> float(row["phq9.total"]), str(row["phq9.total.band"]), bool(row["phq9.critical"])
    (9.0, 'mild', True)
    """
    if is_engine_frame(responses):
        from .scaleout import score_distributed  # a Dask or Spark DataFrame: a lazy frame of the same engine

        # a lazy Dask or Spark frame stands in for the pandas one (the return type describes pandas input)
        return cast("pd.DataFrame", score_distributed(responses, scale, response_format=response_format, on_invalid=on_invalid, bands=bands,
                                 norms=norms, keep_items=keep_items, columns=columns, prefix=prefix, norm_columns=norm_columns,
                                 quality=quality))
    if isinstance(scale, (list, tuple)):
        if columns is not None or prefix is not None:
            raise InvalidParameterError(
                "The 'columns' and 'prefix' parameters of score apply to one scale; score several scales one by one to use them."
            )
        if isinstance(bands, str):
            raise InvalidParameterError(
                "The 'bands' parameter of score must map scale ids to their band choice when several scales are "
                "scored (e.g. {'phq9': 'richardson2010_adolescent'}). Got a str instead.")
        loaded = [s if isinstance(s, Scale) else load_scale(s) for s in scale]
        unknown = sorted(set(bands or {}) - {s.id for s in loaded})
        if unknown:
            raise InvalidParameterError(
                f"The 'bands' parameter of score must name scales being scored ({[s.id for s in loaded]}). "
                f"Got a mapping with {len(unknown)} other key(s) instead.")
        parts: list[dict[str, Any]] = []
        problems: list[ResponseError] = []
        labels = _labels(responses)
        for s in loaded:  # every scale's problems are reported together, not only the first one's
            choice = (bands or {}).get(s.id)
            check("score", "bands", choice, None, str, Mapping)
            try:
                parts.append(_score_columns(responses, s, response_format=response_format, on_invalid=on_invalid,
                                            bands=choice, norms=norms, norm_columns=norm_columns, keep_items=keep_items,
                                            quality=quality, chunk_size=chunk_size, n_jobs=n_jobs,
                                            bounds="dense" if bounds else False, stacklevel=2, labels=labels)[0])
            except ResponseError as exc:
                problems.append(exc)
        if problems:
            raise ResponseError([i for exc in problems for i in exc.issues],
                                title="; ".join(exc.title for exc in problems))
        data: dict[str, Any] = {}
        for cols in parts:
            data.update(cols)
        if len(data) < sum(len(cols) for cols in parts):  # a scale listed twice: side by side, as before
            return pd.concat([pd.DataFrame(cols, index=responses.index, copy=False) for cols in parts], axis=1)
        # one frame built once from every scale's columns (no per-scale frames, no concat)
        return pd.DataFrame(data, index=responses.index, copy=False)

    # one scale here (a str is a Sequence too, so isinstance above cannot narrow the type)
    frame, _ = _score_one(responses, cast("ScaleLike", scale), columns=columns, prefix=prefix, response_format=response_format,
                          on_invalid=on_invalid, bands=bands, norms=norms, norm_columns=norm_columns,
                          keep_items=keep_items, quality=quality, chunk_size=chunk_size, n_jobs=n_jobs,
                          bounds="dense" if bounds else False)
    return frame


def _score_one(
    responses: pd.DataFrame,
    scale: ScaleLike,
    *,
    columns: Mapping[str, str] | None = None,
    prefix: str | None = None,
    response_format: ResponseFormat = "value",
    on_invalid: OnInvalid = "raise",
    bands: str | Mapping[str, str] | None = None,
    norms: str | None = "default",
    norm_columns: Mapping[str, str] | None = None,
    keep_items: bool = False,
    quality: pd.DataFrame | None = None,
    chunk_size: int | None = DEFAULT_CHUNK,
    n_jobs: int = 1,
    bounds: str | bool = False,
) -> tuple[pd.DataFrame, Any]:
    """Score one scale (parameters checked by :func:`score`); also return the engine outputs, whose
    ``sparse_bounds`` :func:`screening.screen` reads when ``bounds="sparse"``."""
    data, out = _score_columns(responses, scale, columns=columns, prefix=prefix, response_format=response_format,
                               on_invalid=on_invalid, bands=bands, norms=norms, norm_columns=norm_columns,
                               keep_items=keep_items, quality=quality, chunk_size=chunk_size, n_jobs=n_jobs,
                               bounds=bounds, stacklevel=3)
    return pd.DataFrame(data, index=responses.index, copy=False), out


Labels = tuple[dict[str, int], dict[str, int]]


def _labels(responses: pd.DataFrame) -> Labels:
    """Each column label as text → how often it occurs, and → its first position.

    Column labels are compared as text (an integer label 1 is the column "1"); 1 and "1" together are a
    duplicate. Plain Python over the labels: building a pandas Index of them costs more than scoring one
    row. Computed once per call and shared by every scale scored from the same frame.
    """
    pos: dict[str, int] = {}
    seen: dict[str, int] = {}
    for i, c in enumerate(responses.columns.tolist()):
        name = str(c)
        seen[name] = seen.get(name, 0) + 1
        pos.setdefault(name, i)
    return seen, pos


def _column_checks(sc: Scale, labels: Labels, input_cols: list[str]) -> list[Issue]:
    """Problems with the input columns of one scale: duplicated, reused for two items, missing."""
    seen, pos = labels
    issues: list[Issue] = []
    wanted = set(input_cols)
    for col in sorted(c for c, k in seen.items() if k > 1 and c in wanted):
        issues.append(Issue("duplicate_column", f"column appears {seen[col]} times", column=col,
                            hint="rename or drop the extra copies; which one holds the answers cannot be guessed"))
    if len(wanted) < len(input_cols):
        for col in sorted({c for c in input_cols if input_cols.count(c) > 1}):
            items = [i for i, c in zip(sc.items, input_cols) if c == col]
            issues.append(Issue("column_reused", f"the column is mapped to {len(items)} items of {sc.id} ({', '.join(items)})",
                                column=col, hint="each item needs its own column"))
    for c in input_cols:
        if c not in pos:
            issues.append(Issue("missing_column", f"the responses have no column for an item of {sc.id}", column=c,
                                hint=did_you_mean(c, set(pos)) or "pass columns={item: column} or prefix= to map items to your columns"))
    return issues


def _score_columns(
    responses: pd.DataFrame,
    scale: ScaleLike,
    *,
    columns: Mapping[str, str] | None = None,
    prefix: str | None = None,
    response_format: ResponseFormat = "value",
    on_invalid: OnInvalid = "raise",
    bands: str | Mapping[str, str] | None = None,
    norms: str | None = "default",
    norm_columns: Mapping[str, str] | None = None,
    keep_items: bool = False,
    quality: pd.DataFrame | None = None,
    chunk_size: int | None = DEFAULT_CHUNK,
    n_jobs: int = 1,
    bounds: str | bool = False,
    stacklevel: int = 2,
    labels: Labels | None = None,
) -> tuple[dict[str, Any], Any]:
    """The output columns of one scale, in schema order (name → array), and the engine outputs.

    :func:`score` of several scales builds one frame from all their columns at once.
    """
    sc = load_scale(scale)
    input_cols = _resolve_columns(sc, columns, prefix)
    band_plan = _band_plan(sc, bands)
    norm_name = _norm_plan(sc, norms)

    labels = labels if labels is not None else _labels(responses)
    pos = labels[1]
    issues = _column_checks(sc, labels, input_cols)
    norm_cols: list[str] = []
    if norm_name is not None and sc.spec.norms is not None:
        ns = sc.spec.norms.sets[norm_name]
        rename = dict(norm_columns or {})
        norm_cols = [str(rename.get(b, b)) for b in ns.by]
        for b, c in zip(ns.by, norm_cols):
            if c not in pos:
                issues.append(Issue("missing_column", f"norm set {norm_name!r} groups by {b!r}, but there is no such column",
                                    column=c, hint="pass norm_columns={'" + b + "': 'your column'} or norms=None"))
    if issues:
        raise ResponseError(issues, title=f"cannot score {sc.id}")

    cs = sc.compiled
    parsed = [parse_column(frame_column(responses, pos[c]), k, cs, response_format) for k, c in enumerate(input_cols)]
    plan = Plan(cs=cs, band_sets=band_plan, keep_items=keep_items, on_invalid=on_invalid, bounds=bounds)
    rows_per_chunk = chunk_size if chunk_size is not None else max(DEFAULT_CHUNK, CHUNK_CELLS // max(cs.n_items, 1))
    out = run_kernel(plan, parsed, len(responses), chunk_size=rows_per_chunk, n_jobs=n_jobs)
    bad = bad_value_issues(plan, out, input_cols, response_format)
    if bad and on_invalid == "raise":
        raise ResponseError(bad, title=f"invalid responses for {sc.id}")

    extra: dict[str, Any] | None = None
    if norm_name is not None and sc.spec.norms is not None:
        ns = sc.spec.norms.sets[norm_name]
        gid = group_key([responses.iloc[:, pos[c]] for c in norm_cols], [g.match for g in ns.groups], ns.by, len(responses))
        x = out.scores[cs.score_index(ns.score)]
        t, pct = apply_norms(ns, x, gid)
        unmatched = int(((gid < 0) & ~np.isnan(x)).sum())
        if unmatched:
            warnings.warn(
                f"{unmatched} scored row(s) of {sc.id} match no group of norm set {norm_name!r}; their T-scores are NaN",
                stacklevel=stacklevel,
            )
        extra = {C.t_col(sc.id, ns.score): t, C.pct_col(sc.id, ns.score): pct}
    flags = _quality_flags(sc.id, quality, responses.index)
    for flag in flags.values():
        out.status[flag] = C.STATUS_VALUES.index("invalid")
    data = output_columns(plan, out, len(responses), extra)
    data.update(flags)
    return data, out


def _quality_flags(scale_id: str, quality: pd.DataFrame | None, index: pd.Index) -> dict[str, np.ndarray]:
    """The quality flags that concern one scale, as ``{scale}.quality.{check}`` → bool array."""
    if quality is None:
        return {}
    if not isinstance(quality, pd.DataFrame):
        raise InvalidParameterError(
            f"The 'quality' parameter of score must be a pandas DataFrame or None. Got {type(quality).__name__} instead."
        )
    if not quality.index.equals(index):
        raise InvalidParameterError(
            "The 'quality' parameter of score must have the same index, in the same order, as 'responses'. "
            "Got a different index instead."
        )
    own = f"{scale_id}.{C.QUALITY_PREFIX}"
    flags: dict[str, np.ndarray] = {}
    for col in quality.columns:
        name = str(col)
        if name.startswith(C.QUALITY_PREFIX):
            check = name[len(C.QUALITY_PREFIX):]
        elif name.startswith(own):
            check = name[len(own):]
        else:
            continue
        values = quality[col]
        if values.isna().any() or not (pd.api.types.is_bool_dtype(values.dtype)):
            raise ResponseError(
                [Issue("invalid_flag", "a quality flag column must be boolean without missing values", column=name)],
                title=f"cannot score {scale_id}",
            )
        flags[C.quality_col(scale_id, check)] = values.to_numpy(dtype=bool)
    return flags


def empty_output(
    scale: ScaleLike | Sequence[ScaleLike],
    *,
    bands: str | Mapping[str, str] | None = None,
    norms: str | None = "default",
    norm_columns: Mapping[str, str] | None = None,
    keep_items: bool = False,
    quality_checks: Sequence[str] = (),
) -> pd.DataFrame:
    """A zero-row frame with exactly the columns and dtypes ``score`` returns (e.g. Dask ``meta``).

    ``scale`` is one scale or a list of them, as for :func:`score`.
    """
    if isinstance(scale, (list, tuple)):
        parts = [empty_output(s, bands=None, norms=norms, norm_columns=norm_columns, keep_items=keep_items,
                              quality_checks=quality_checks) for s in scale]
        if bands is not None:  # as score(): a band choice applies to one scale
            raise InvalidParameterError(
                "The 'bands' parameter of empty_output applies to one scale; build the outputs one by one to use it."
            )
        return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=pd.RangeIndex(0))
    sc = load_scale(scale)  # type: ignore[arg-type]
    cols: dict[str, Any] = {c: pd.Series([], dtype="float64") for c in sc.input_columns()}
    norm_name = _norm_plan(sc, norms)
    if norm_name is not None and sc.spec.norms is not None:
        rename = dict(norm_columns or {})
        for b in sc.spec.norms.sets[norm_name].by:
            cols[rename.get(b, b)] = pd.Series([], dtype="object")
    frame = pd.DataFrame(cols)
    quality = pd.DataFrame({C.quality_col(None, q): pd.Series([], dtype=bool) for q in quality_checks}) if quality_checks else None
    return score(frame, sc, bands=bands, norms=norms, norm_columns=norm_columns, keep_items=keep_items, quality=quality)


def output_schema(
    scale: ScaleLike | Sequence[ScaleLike],
    *,
    bands: str | Mapping[str, str] | None = None,
    norms: str | None = "default",
    norm_columns: Mapping[str, str] | None = None,
    keep_items: bool = False,
    quality_checks: Sequence[str] = (),
) -> dict[str, Any]:
    """Column name → dtype of what ``score`` returns for these options, known before scoring.

    ``scale`` is one scale or a list of them, as for :func:`score`. Use it to declare the output
    of a partition-wise run: Dask
    ``ddf.map_partitions(sc.score, scale, meta=sc.empty_output(scale))``,
    Spark ``mapInPandas`` with a schema built from it.
    """
    frame = empty_output(scale, bands=bands, norms=norms, norm_columns=norm_columns, keep_items=keep_items,
                         quality_checks=quality_checks)
    return {str(c): t for c, t in frame.dtypes.items()}
