"""Item analysis: distribution, missingness and keying of every item of a score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._params import InvalidParameterError
from ._inputs import ItemBlock, ScaleLike, item_blocks
from ._stats import pairwise_cov
from .reliability import item_rest

__all__ = ["item_analysis"]


def item_analysis(
    data: pd.DataFrame,
    scale: ScaleLike | None = None,
    score: str | None = None,
    *,
    reverse: Sequence[str] | None = None,
    min_rest_r: float = 0.0,
    columns: Mapping[str, str] | None = None,
    prefix: str | None = None,
    response_format: Literal["value", "index", "label"] = "value",
    on_invalid: Literal["raise", "missing"] = "raise",
) -> pd.DataFrame:
    """Per-item statistics and a check that every item is keyed in the right direction.

    Parameters
    ----------
    data : DataFrame
        Responses, one row per person (read as in :func:`reliability`).
    scale : str, path, Scale or mapping, optional
        Scale whose items to analyse. Without it, every column of ``data`` is an item.
    score : str, optional
        Score id. With a scale and no score, every ``sum``/``mean`` score of
        the scale is analysed (an item appears once per score it belongs to):
        the way to check all the reverse keys of a YAML file at once.
    reverse : list of str, optional
        Without a scale: the reverse-keyed columns.
    min_rest_r : float
        An item whose keyed item–rest correlation is below this value is
        flagged (default 0: a negative correlation after keying).
    columns, prefix, response_format, on_invalid
        As in :func:`screening.score` (scale mode only).

    Returns
    -------
    DataFrame
        Indexed by (``score``, ``item``), columns: ``key`` (+1 / −1),
        ``n`` (answered), ``missing_rate``, ``mean`` and ``sd`` of the answers
        as given (not keyed), ``floor`` and ``ceiling`` (share of answers at
        the lowest / highest option value: from the scale's option set, or the
        smallest / largest value in the table without a scale), ``r_rest``
        (keyed item–rest correlation, psych ``r.drop``, pairwise), ``r_rest_unkeyed``
        (the same with the item's raw answers: it shows the direction the item
        runs in), ``key_check`` (``"ok"`` or ``"suspect"``) and ``hint``.

    Notes
    -----
    ``r_rest,i = (Σ_j C_ij − C_ii)/√(C_ii · ΣC₋ᵢ)`` on the pairwise covariance
    matrix ``C`` of the keyed items (psych ``alpha()$item.stats$r.drop``). A
    reverse-keyed item must correlate positively with the rest of its scale
    after keying, i.e. negatively before keying. ``key_check`` is
    ``"suspect"`` when ``r_rest < min_rest_r``: a negative value usually means
    the item's entry in ``reverse`` is wrong (missing or superfluous); a value
    near zero means the item does not measure what the others do.

    References
    ----------
    Revelle W. psych: Procedures for Psychological, Psychometric, and
    Personality Research (``alpha``: ``r.drop``; ``check.keys``). Nunnally JC,
    Bernstein IH (1994) Psychometric Theory, 3rd ed., ch. 8 (item analysis).

    Examples
    --------
    R equivalent: ``psych::alpha(x, keys = ...)$item.stats`` and
    ``psych::response.frequencies(x)``.

    >>> import pandas as pd
    >>> import screening.research as rs
    >>> x = pd.DataFrame({"a": [1, 2, 3, 4, 5, 2], "b": [1, 3, 3, 4, 5, 3],
    ...                   "c": [2, 2, 3, 5, 4, 1], "d": [5, 4, 3, 2, 1, 4]})
    >>> rs.item_analysis(x)["key_check"].tolist()
    ['ok', 'ok', 'ok', 'suspect']
    >>> rs.item_analysis(x, reverse=["d"])["key_check"].tolist()
    ['ok', 'ok', 'ok', 'ok']
    """
    func = "item_analysis"
    if isinstance(min_rest_r, bool) or not isinstance(min_rest_r, (int, float)) or not -1 <= min_rest_r <= 1:
        raise InvalidParameterError(
            f"The 'min_rest_r' parameter of {func} must be a number between -1 and 1. Got {min_rest_r!r} instead."
        )
    blocks = item_blocks(
        func,
        data,
        scale,
        score,
        reverse=reverse,
        columns=columns,
        prefix=prefix,
        response_format=response_format,
        on_invalid=on_invalid,
        all_scores=True,
    )
    parts = [_one(b, float(min_rest_r)) for b in blocks]
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def _one(block: ItemBlock, min_rest_r: float) -> pd.DataFrame:
    raw = np.asarray(block.values)  # ItemBlock.values is already a numpy array
    keyed = block.keyed
    n_rows = raw.shape[0]
    answered = ~np.isnan(raw)
    n = answered.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(answered, raw, 0.0).sum(axis=0) / n
        dev = np.where(answered, raw - mean, 0.0)
        sd = np.sqrt((dev**2).sum(axis=0) / (n - 1))
        floor = (answered & (raw == block.lo)).sum(axis=0) / n
        ceiling = (answered & (raw == block.hi)).sum(axis=0) / n
        r_rest = item_rest(pairwise_cov(keyed))
    # the raw answers against the keyed rest: reverse keying (lo + hi − x)
    # only flips the sign of the item's covariances, so r changes sign only
    r_unkeyed = block.keys * r_rest
    suspect = ~(r_rest >= min_rest_r)
    hints = []
    for item, key, s, r in zip(block.items, block.keys, suspect, r_rest, strict=True):
        if not s:
            hints.append("")
        elif np.isnan(r):
            hints.append("no item–rest correlation (no variance or too few answers)")
        elif r < 0:
            hints.append(
                f"correlates negatively with the rest of {block.label} after keying: "
                + (f"is {item} really reverse-keyed?" if key < 0 else f"should {item} be reverse-keyed?")
            )
        else:
            hints.append(f"item–rest correlation {r:.2f} is below {min_rest_r:g}")
    index = pd.MultiIndex.from_arrays([[block.label] * len(block.items), list(block.items)], names=["score", "item"])
    return pd.DataFrame(
        {
            "key": block.keys.astype(int),
            "n": n.astype(int),
            "missing_rate": 1.0 - n / n_rows if n_rows else np.full(len(n), np.nan),
            "mean": mean,
            "sd": sd,
            "floor": floor,
            "ceiling": ceiling,
            "r_rest": r_rest,
            "r_rest_unkeyed": r_unkeyed,
            "key_check": np.where(suspect, "suspect", "ok"),
            "hint": hints,
        },
        index=index,
    )
