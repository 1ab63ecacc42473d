"""T-scores and percentiles from a scale's norm table (never from the data being scored)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..specs.scale import NormSet

__all__ = ["group_key", "apply_norms"]


def _as_text(v: object) -> str:
    # 7, 7.0 and "7" name the same group; YAML match values are text
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (np.floating,)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def group_key(
    columns: Sequence[pd.Series], groups: Sequence[dict[str, str]], by: Sequence[str], n: int
) -> npt.NDArray[np.intp]:
    """For each row, the index of its norm group in ``groups`` (-1 when none matches or a value is missing).

    Works on factorised codes: text conversion happens once per distinct value.
    """
    if not by:
        return np.zeros(n, dtype=np.intp) if len(groups) == 1 else np.full(n, -1, dtype=np.intp)
    wanted = {tuple(g[b] for b in by): gi for gi, g in enumerate(groups)}
    combined = np.zeros(n, dtype=np.int64)
    radix_uniques: list[list[str]] = []
    missing = np.zeros(n, dtype=bool)
    for col in columns:
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        missing |= codes < 0
        radix_uniques.append([_as_text(u) for u in uniques])
        combined = combined * (len(uniques) + 1) + np.where(codes < 0, 0, codes)
    # decode each distinct combined code once
    out = np.full(n, -1, dtype=np.intp)
    distinct, inverse = np.unique(combined, return_inverse=True)
    lookup = np.full(len(distinct), -1, dtype=np.intp)
    for d_i, code in enumerate(distinct):
        parts = []
        rem = int(code)
        for uniq in reversed(radix_uniques):
            base = len(uniq) + 1
            parts.append(uniq[rem % base] if rem % base < len(uniq) else "")
            rem //= base
        lookup[d_i] = wanted.get(tuple(reversed(parts)), -1)
    out[:] = lookup[inverse.ravel()]
    out[missing] = -1
    return out


def apply_norms(
    norm: NormSet, x: npt.NDArray[np.float64], gid: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """T-score and percentile for scores ``x`` in groups ``gid`` (NaN where no norm applies).

    ``linear``: T = 50 + 10·(x − mean)/sd, percentile NaN (a linear T does not
    give one without assuming normality). ``table``: the row with the largest
    raw ≤ x; scores below the first row get NaN.
    """
    t = np.full(x.shape, np.nan)
    pct = np.full(x.shape, np.nan)
    for gi, g in enumerate(norm.groups):
        sel = gid == gi
        if not sel.any():
            continue
        xs = x[sel]
        if norm.method == "linear" and g.mean is not None and g.sd is not None:
            t[sel] = 50.0 + 10.0 * (xs - g.mean) / g.sd
        elif g.rows:
            rows = np.asarray(g.rows, dtype=float)
            pos = np.searchsorted(rows[:, 0], xs, side="right") - 1
            ok = (pos >= 0) & ~np.isnan(xs)
            tt = np.full(xs.shape, np.nan)
            pp = np.full(xs.shape, np.nan)
            tt[ok] = rows[pos[ok], 1]
            pp[ok] = rows[pos[ok], 2]
            t[sel] = tt
            pct[sel] = pp
    return t, pct
