"""Tier transitions between two waves, counted per student and suppressed like every other aggregate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._params import InvalidParameterError
from ..reports.suppression import suppress
from .data import as_long

__all__ = ["ABSENT", "tier_transitions"]

#: Row / column of students screened in only one of the two waves.
ABSENT = "absent"


def tier_transitions(data: Any, from_wave: str | None = None, to_wave: str | None = None, *, min_cell: int = 10,
                     tiers: Any = None) -> pd.DataFrame:
    """Students by tier at ``from_wave`` (rows) and ``to_wave`` (columns), with ``absent`` for those in one wave only.

    Default: the last two waves. Needs a student key in the data (``student``,
    ``pseudonym`` … see :mod:`screening.warning.data`). Cells from 1 to
    ``min_cell - 1`` are suppressed with the cells that would reveal them
    through the published row and column totals; suppressed cells are ``<NA>``.
    A student with an unknown tier in a wave counts as ``absent`` there.
    """
    long = as_long(data, tiers=tiers)
    if long.key is None:
        raise InvalidParameterError("The 'data' parameter of tier_transitions must carry a student key column "
                                    "(student, pseudonym, subject_id …) to follow students between waves. Got none instead.")
    waves = long.waves["wave"].tolist()
    if len(waves) < 2 and (from_wave is None or to_wave is None):
        raise InvalidParameterError(f"The 'data' parameter of tier_transitions must hold two waves. Got {waves} instead.")
    w0 = from_wave if from_wave is not None else waves[-2]
    w1 = to_wave if to_wave is not None else waves[-1]
    for name, w in (("from_wave", w0), ("to_wave", w1)):
        if w not in waves:
            raise InvalidParameterError(f"The {name!r} parameter of tier_transitions must be one of {waves}. Got {w!r} instead.")
    f = long.frame
    labels = [*long.tiers, ABSENT]
    k = len(long.tiers)
    key = f[long.key].astype("string")
    a = f[f["wave"] == w0]
    b = f[f["wave"] == w1]
    ka, kb = key[a.index], key[b.index]
    if ka.duplicated().any() or kb.duplicated().any():
        raise InvalidParameterError("The 'data' parameter of tier_transitions must hold one row per student and wave. "
                                    "Got repeated student keys instead.")
    ca = pd.Series(np.where(np.asarray(a["tier"].array.codes) >= 0, np.asarray(a["tier"].array.codes), k), index=ka.to_numpy())
    cb = pd.Series(np.where(np.asarray(b["tier"].array.codes) >= 0, np.asarray(b["tier"].array.codes), k), index=kb.to_numpy())
    both = ca.index.union(cb.index)
    fa = ca.reindex(both, fill_value=k).to_numpy()
    fb = cb.reindex(both, fill_value=k).to_numpy()
    mat = np.bincount(fa * (k + 1) + fb, minlength=(k + 1) ** 2).reshape(k + 1, k + 1).astype(np.int64)
    mat[k, k] = 0
    # published: row totals (tiers at the first wave) and column totals (at the second)
    hidden = suppress([mat.sum(axis=0)[None, :], mat], [None, np.zeros(k + 1, dtype=np.int64)], min_cell=min_cell,
                      complete=True)[1]
    out = pd.DataFrame({c: pd.array(mat[:, j], dtype="Int64") for j, c in enumerate(labels)}, index=pd.Index(labels, name=str(w0)))
    for j, c in enumerate(labels):
        out.loc[hidden[:, j], c] = pd.NA
    out.columns.name = str(w1)
    out.attrs["screening"] = {"kind": "tier_transitions", "from_wave": str(w0), "to_wave": str(w1), "min_cell": int(min_cell),
                              "row_totals": mat.sum(axis=1).tolist(), "column_totals": mat.sum(axis=0).tolist()}
    return out
