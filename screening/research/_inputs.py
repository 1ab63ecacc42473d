"""Turn the two input forms of the research tools into one block of item values.

- With a scale and a score id, the items (and their reverse keys and option
  ranges) come from the scale YAML, and the responses are read and checked
  exactly as :func:`screening.score` reads them (same columns, same
  ``response_format``, same out-of-range errors).
- Without a scale, every column of ``data`` is an item and ``reverse`` names
  the reverse-keyed columns (the pingouin convention).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import columns as C
from .._params import InvalidParameterError, check_choice
from ..scoring import Scale, load_scale
from ..scoring import score as score_responses

__all__ = ["ItemBlock", "ScaleLike", "check_frame", "item_blocks", "items_of_score", "resolve_items"]

ScaleLike = str | Path | Scale | Mapping[str, Any]
ResponseFormat = Literal["value", "index", "label"]
OnInvalid = Literal["raise", "missing"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ItemBlock:
    """The items of one score as a float matrix (rows as in ``data``, NaN = unanswered).

    ``values`` are the responses as given (option values); ``keys`` is +1 or
    −1 per item; a reverse-keyed value is ``lo + hi − value`` where ``lo``/``hi``
    are the item's lowest and highest option values.
    """

    label: str
    items: tuple[str, ...]
    values: FloatArray
    keys: FloatArray
    lo: FloatArray
    hi: FloatArray
    index: pd.Index

    @property
    def keyed(self) -> FloatArray:
        rev = self.keys < 0
        return np.where(rev, (self.lo + self.hi) - self.values, self.values)

    @property
    def reversed_items(self) -> tuple[str, ...]:
        return tuple(i for i, k in zip(self.items, self.keys, strict=True) if k < 0)


def check_frame(func: str, name: str, value: object) -> pd.DataFrame:
    if not isinstance(value, pd.DataFrame):
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} must be a pandas DataFrame. Got {type(value).__name__} instead."
        )
    return value


def items_of_score(sc: Scale, score_id: str, func: str) -> tuple[str, ...]:
    """The item ids a score is built from; a score made of scores gives the items of its parts."""
    spec = sc.spec
    s = spec.score(score_id)
    if s.method in ("count", "weighted_sum"):
        what = "a count of items over a threshold" if s.method == "count" else "a weighted sum"
        raise InvalidParameterError(
            f"The 'score' parameter of {func} must be a sum or mean score of {sc.id} (the reliability of {what} "
            f"is not what alpha measures). Got {score_id!r}, whose method is {s.method!r}, instead."
        )
    if s.items is not None:
        return tuple(s.items)
    out: list[str] = []
    for part in s.scores or ():
        for item in items_of_score(sc, part, func):
            if item not in out:
                out.append(item)
    return tuple(out)


def _check_score(func: str, sc: Scale, score: object) -> str:
    if not isinstance(score, str):
        raise InvalidParameterError(
            f"The 'score' parameter of {func} must be a score id of {sc.id} ({sc.score_ids}). "
            f"Got {type(score).__name__} instead."
        )
    check_choice(func, "score", score, sc.score_ids)
    return score


def _scale_values(
    func: str,
    data: pd.DataFrame,
    sc: Scale,
    *,
    columns: Mapping[str, str] | None,
    prefix: str | None,
    response_format: ResponseFormat,
    on_invalid: OnInvalid,
) -> pd.DataFrame:
    # score() reads, parses and checks the responses; its keep_items columns
    # hold each item's value (NaN where unanswered or, with
    # on_invalid="missing", invalid), so nothing is read twice differently.
    check_choice(func, "response_format", response_format, ("value", "index", "label"))
    check_choice(func, "on_invalid", on_invalid, ("raise", "missing"))
    return score_responses(
        data,
        sc,
        columns=columns,
        prefix=prefix,
        response_format=response_format,
        on_invalid=on_invalid,
        norms=None,
        keep_items=True,
    )


def item_blocks(
    func: str,
    data: object,
    scale: ScaleLike | None,
    score: str | None,
    *,
    reverse: Sequence[str] | None,
    columns: Mapping[str, str] | None = None,
    prefix: str | None = None,
    response_format: ResponseFormat = "value",
    on_invalid: OnInvalid = "raise",
    all_scores: bool = False,
) -> list[ItemBlock]:
    """One :class:`ItemBlock` per score (several only when ``all_scores`` and ``score`` is None)."""
    frame = check_frame(func, "data", data)
    if scale is None:
        if score is not None:
            raise InvalidParameterError(
                f"The 'score' parameter of {func} must be None when no scale is given "
                f"(then every column of data is an item). Got {score!r} instead."
            )
        if columns is not None or prefix is not None:
            raise InvalidParameterError(
                f"The 'columns' and 'prefix' parameters of {func} map scale items to columns, so they need a scale. "
                "Got a value without a scale instead."
            )
        return [_plain_block(func, frame, reverse)]
    if reverse is not None:
        raise InvalidParameterError(
            f"The 'reverse' parameter of {func} must be None when a scale is given (its reverse keys come from "
            f"the scale file). Got {list(reverse)!r} instead."
        )
    sc = load_scale(scale)
    if score is None:
        if not all_scores:
            raise InvalidParameterError(
                f"The 'score' parameter of {func} must be a score id of {sc.id} ({sc.score_ids}). Got None instead."
            )
        score_ids = [s.id for s in sc.spec.scores if s.method in ("sum", "mean")]
    else:
        score_ids = [_check_score(func, sc, score)]
    item_sets = [(sid, items_of_score(sc, sid, func)) for sid in score_ids]
    out = _scale_values(
        func, frame, sc, columns=columns, prefix=prefix, response_format=response_format, on_invalid=on_invalid
    )
    cs = sc.compiled
    pos = {iid: k for k, iid in enumerate(cs.item_ids)}
    blocks = []
    for sid, items in item_sets:
        ks = [pos[i] for i in items]
        values = np.column_stack([out[C.item_col(sc.id, i)].to_numpy(dtype=np.float64) for i in items])
        blocks.append(
            ItemBlock(
                label=C.score_col(sc.id, sid),
                items=items,
                values=values,
                keys=cs.sign[ks].astype(np.float64),
                lo=cs.lo[ks].astype(np.float64),
                hi=cs.hi[ks].astype(np.float64),
                index=frame.index,
            )
        )
    return blocks


def resolve_items(
    func: str,
    data: object,
    scale: ScaleLike | None,
    score: str | None,
    *,
    reverse: Sequence[str] | None,
    columns: Mapping[str, str] | None = None,
    prefix: str | None = None,
    response_format: ResponseFormat = "value",
    on_invalid: OnInvalid = "raise",
) -> ItemBlock:
    """The single item block of one score (or of a plain item table)."""
    return item_blocks(
        func,
        data,
        scale,
        score,
        reverse=reverse,
        columns=columns,
        prefix=prefix,
        response_format=response_format,
        on_invalid=on_invalid,
    )[0]


def _plain_block(func: str, frame: pd.DataFrame, reverse: Sequence[str] | None) -> ItemBlock:
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a table with unique column names (each column is an item). "
            f"Got duplicated columns {dup} instead."
        )
    if len(names) < 2:
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a table with at least 2 item columns. Got {len(names)} instead."
        )
    bad = [
        n
        for n, dt in zip(names, frame.dtypes, strict=True)
        if not (pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt))
    ]
    if bad:
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a table of numeric item columns only when no scale is given. "
            f"Got non-numeric columns {bad} instead (select the item columns, or pass a scale)."
        )
    if reverse is None:
        rev: list[str] = []
    elif isinstance(reverse, str) or not isinstance(reverse, Sequence):
        raise InvalidParameterError(
            f"The 'reverse' parameter of {func} must be a list of column names of data. Got {reverse!r} instead."
        )
    else:
        rev = [str(r) for r in reverse]
        unknown = [r for r in rev if r not in names]
        if unknown:
            raise InvalidParameterError(
                f"The 'reverse' parameter of {func} must be a list of columns of data ({names}). "
                f"Got unknown names {unknown} instead."
            )
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        cols = [names[k] for k in np.flatnonzero(np.isinf(values).any(axis=0))]
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be finite numbers or NaN. Got infinite values in columns "
            f"{cols} instead."
        )
    # psych reverses with the smallest and largest value found anywhere in the
    # item table (min + max − x); only keyed item means depend on it.
    if np.isnan(values).all():
        lo_v = hi_v = np.nan
    else:
        lo_v, hi_v = float(np.nanmin(values)), float(np.nanmax(values))
    k = len(names)
    return ItemBlock(
        label="items",
        items=tuple(names),
        values=values,
        keys=np.array([-1.0 if n in rev else 1.0 for n in names]),
        lo=np.full(k, lo_v),
        hi=np.full(k, hi_v),
        index=frame.index,
    )
