"""``score()``: one table of responses in, one table of scores out (same index, same order).

The public functions load their scales (``catalog.py``) and score each one through the engine entry
point ``_score_one`` (``frame.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from .. import columns as C
from .._params import ENGINE_FRAME, Check, Interval, InvalidParameterError, ListOf, Options, check, is_engine_frame, validate_params
from ..errors import ResponseError
from .catalog import load_scale
from .frame import OnInvalid, ResponseFormat, _frame, _labels, _norm_plan, _score_columns, _score_one
from .scale import Scale

__all__ = ["score", "output_schema", "empty_output"]

ScaleLike = str | Path | Scale | Mapping[str, Any]


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
        that a short scale does not pay the per-chunk overhead thousands of times; at least 65,536 rows
        when the compiled kernel runs (numba installed, 50,000 rows or more).
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
        from ..scaleout import score_distributed  # a Dask or Spark DataFrame: a lazy frame of the same engine

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
                                            bounds="dense" if bounds else False, stacklevel=4, labels=labels)[0])
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
        return _frame(data, responses.index)

    # one scale here (a str is a Sequence too, so isinstance above cannot narrow the type)
    frame, _ = _score_one(responses, load_scale(cast("ScaleLike", scale)), columns=columns, prefix=prefix, response_format=response_format,
                          on_invalid=on_invalid, bands=bands, norms=norms, norm_columns=norm_columns,
                          keep_items=keep_items, quality=quality, chunk_size=chunk_size, n_jobs=n_jobs,
                          bounds="dense" if bounds else False, stacklevel=4)  # past validate_params to the caller
    return frame


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
