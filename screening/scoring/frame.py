"""The engine entry point: one loaded scale and a table of responses in, the public score frame out.

``_score_one`` maps input columns, parses them, runs the kernel (``engine/``) and builds the frame; the
public :func:`screening.score` (``api.py``), :func:`screening.screen` and the worked-example check that
runs when a scale loads (``examples.py``) all score through it. It takes a :class:`Scale` already
loaded, so this module never loads scale files.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import columns as C
from .._params import InvalidParameterError, describe
from ..engine.norms import apply_norms, group_key
from ..engine.responses import frame_column, parse_column
from ..engine.score import Plan, bad_value_issues, output_columns, run_kernel
from ..errors import Issue, ResponseError, did_you_mean
from .scale import Scale

__all__ = ["ResponseFormat", "OnInvalid", "DEFAULT_CHUNK", "CHUNK_CELLS", "SMALL_FRAME"]

ResponseFormat = Literal["value", "index", "label"]
OnInvalid = Literal["raise", "missing"]

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
    if prefix is None:  # the default columns, built once per scale
        cached = sc.compiled.cache.get("input_columns")
        if cached is None:
            cached = sc.compiled.cache["input_columns"] = sc.input_columns()
        base = cached
    else:
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


def _score_one(responses: pd.DataFrame, sc: Scale, *, stacklevel: int = 2, **options: Any) -> tuple[pd.DataFrame, Any]:
    """:func:`_score_columns` as a frame (same index as ``responses``), with the engine outputs.

    ``options`` are those of :func:`_score_columns` (parameters already checked by :func:`score`).
    """
    data, out = _score_columns(responses, sc, stacklevel=stacklevel + 1, **options)
    return _frame(data, responses.index), out


#: tables up to this many rows are assembled by :func:`_frame`'s short path
SMALL_FRAME = 64
_COLUMN_INDEXES: dict[tuple[str, ...], pd.Index] = {}


def _frame(data: dict[str, Any], index: pd.Index) -> pd.DataFrame:
    """The output frame from name → array columns (arrays the engine built: 1-D, the right length and dtype).

    ``pd.DataFrame(dict)`` checks and converts each column again, ~8 µs a column: more than scoring one
    student (PHQ-9 + GAD-7 make 13 columns). For a few rows the frame is built with pandas'
    ``DataFrame._from_arrays`` where it exists (the arrays as they are, no copies) and a column index kept
    per set of names (an ``Index`` is immutable, so frames may share it); same frame otherwise
    (``tests/test_score.py`` compares the two).
    """
    make = getattr(pd.DataFrame, "_from_arrays", None)
    if make is not None and len(index) <= SMALL_FRAME:
        names = tuple(data)
        columns = _COLUMN_INDEXES.get(names)
        if columns is None:
            if len(_COLUMN_INDEXES) >= 256:  # a bounded cache: option combinations are few
                _COLUMN_INDEXES.clear()
            columns = _COLUMN_INDEXES[names] = pd.Index(list(names))
        try:
            frame = make(list(data.values()), columns=columns, index=index, verify_integrity=False)
        except Exception:  # pragma: no cover - a pandas whose private constructor differs: the public one
            frame = None
        if isinstance(frame, pd.DataFrame):
            return frame
    return pd.DataFrame(data, index=index, copy=False)


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
    sc: Scale,
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
    bounds: str | bool = False,
    stacklevel: int = 2,
    labels: Labels | None = None,
) -> tuple[dict[str, Any], Any]:
    """The output columns of one scale, in schema order (name → array), and the engine outputs.

    :func:`score` of several scales builds one frame from all their columns at once. ``chunk_size`` None
    (the default, also for :func:`screen`): about :data:`CHUNK_CELLS` answers per chunk, at least
    :data:`DEFAULT_CHUNK` rows.
    """
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
    out = run_kernel(plan, parsed, len(responses), chunk_size=rows_per_chunk, n_jobs=n_jobs,
                     default_chunk=chunk_size is None)
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
