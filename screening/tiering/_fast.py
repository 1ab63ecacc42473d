"""Grouping students by the pattern of what fired for them, in one pass (optional numba kernel).

Every source that fired for someone (a rule, a critical-item policy, a data-quality policy) is one
bit of a small unsigned integer per student; the distinct integers are the patterns. They are
numbered in order of first appearance, with the empty pattern always 0 — the order
``pd.factorize`` gives over the students for whom something fired, so the category order of the
``reasons`` columns does not depend on which path ran. With numba (the ``fast`` extra, already used
by the engine) the numbering is one read of the packed integers through a lookup table; without it,
``pd.factorize`` does the same in a few passes. numba is used only for tables of at least
:data:`MIN_ROWS` rows (as in :mod:`screening.engine.fused`), so a one-student call never loads it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..engine.fused import MIN_ROWS

__all__ = ["pack_bits", "pattern_codes", "frame_of", "empty_frame"]

#: patterns of at most this many sources are numbered through a dense lookup table (2**bits entries)
_LUT_BITS = 20

#: at most this many students are numbered in plain Python
_SMALL = 64

_kernel: Any = None
_failed = False


def _compile() -> Any:
    import numba

    @numba.njit(nogil=True, cache=True, boundscheck=False)
    def kernel(masks: Any, lut: Any, codes: Any, uniq: Any) -> int:  # pragma: no cover - compiled
        n = len(codes)
        word = np.zeros(n, np.uint32)
        for b in range(len(masks)):  # one bit per source (branch-free, vectorised)
            m = masks[b]
            bit = np.uint32(1) << np.uint32(b)
            for i in range(n):
                word[i] |= bit if m[i] else np.uint32(0)
        lut[0] = 0
        uniq[0] = 0
        k = 1
        for i in range(n):  # number the patterns in order of first appearance
            w = word[i]
            c = lut[w]
            if c < 0:
                c = k
                lut[w] = k
                uniq[k] = w
                k += 1
            codes[i] = c
        return k

    return kernel


def _get_kernel() -> Any:
    global _kernel, _failed
    if _kernel is None and not _failed and os.environ.get("SCREENING_FUSED", "1") != "0":
        try:
            _kernel = _compile()
        except ImportError:  # no numba: the pandas path below gives the same numbering
            _failed = True
    return _kernel


def pack_bits(masks: Sequence[npt.NDArray[np.bool_]], n: int) -> npt.NDArray[Any]:
    """One unsigned integer per student, bit ``b`` set where ``masks[b]`` is true (at most 64 masks)."""
    k = len(masks)
    dtype = np.uint8 if k <= 8 else np.uint16 if k <= 16 else np.uint32 if k <= 32 else np.uint64
    word: npt.NDArray[Any] = np.zeros(n, dtype=dtype)
    one = dtype(1)
    tmp = np.empty(n, dtype=dtype)
    for bit, m in enumerate(masks):
        np.multiply(m.view(np.uint8), one << dtype(bit), out=tmp, casting="unsafe")  # 0 or the bit, one pass
        word |= tmp
    return word


def pattern_codes(masks: Sequence[npt.NDArray[np.bool_]], n: int) -> tuple[npt.NDArray[np.integer[Any]], list[int]]:
    """Codes of the distinct bit patterns of ``masks`` (at most 64) in order of first appearance, 0 always
    the empty pattern; and the patterns by code, as integers (bit ``b``: ``masks[b]``)."""
    if not masks:
        return np.zeros(n, dtype=np.int8), [0]
    kernel = _get_kernel() if n >= MIN_ROWS and len(masks) <= _LUT_BITS else None
    if kernel is not None:
        import numba.typed

        lst = numba.typed.List()
        for m in masks:
            lst.append(np.ascontiguousarray(m, dtype=np.bool_))
        bits = len(masks)
        lut = np.full(1 << bits, -1, dtype=np.int32)
        codes32 = np.empty(n, dtype=np.int32)
        uniq = np.empty((1 << bits) + 1, dtype=np.uint64)
        k = kernel(lst, lut, codes32, uniq)
        return codes32, [int(w) for w in uniq[:k]]
    word = pack_bits(masks, n)
    if n <= _SMALL:  # a few students (an importing system's one submission): plain Python beats factorize
        seen: dict[int, int] = {0: 0}
        small = [seen.setdefault(w, len(seen)) for w in word.tolist()]
        return np.asarray(small, dtype=np.intp), list(seen)
    wcodes, wuniq = pd.factorize(word, sort=False)
    values = [int(w) for w in wuniq]
    if 0 in values:
        zero = values.index(0)
        order = [zero, *(i for i in range(len(values)) if i != zero)]
    else:
        order = list(range(len(values)))
    remap = np.empty(len(values), dtype=np.intp)
    remap[order] = np.arange(len(order)) + (0 if 0 in values else 1)
    codes = remap[wcodes] if len(values) else np.zeros(n, dtype=np.intp)
    uniq_values = ([] if 0 in values else [0]) + [values[i] for i in order]
    return codes, uniq_values


@functools.lru_cache(maxsize=256)
def _column_index(names: tuple[str, ...]) -> pd.Index:
    return pd.Index(list(names))


def frame_of(columns: Mapping[str, Any], index: pd.Index) -> pd.DataFrame:
    """A DataFrame of whole columns (1-D arrays or Categoricals of ``len(index)``), built without the
    per-column checks of the dict constructor (a one-student call builds several small frames; the
    checks cost more than the data). Same frame as ``pd.DataFrame(columns, index=index, copy=False)``."""
    names = tuple(columns)
    build = getattr(pd.DataFrame, "_from_arrays", None)
    if columns and build is not None and all(len(a) == len(index) for a in columns.values()):
        try:
            out: pd.DataFrame = build(list(columns.values()), columns=_column_index(names), index=index,
                                      verify_integrity=False)
            return out
        except TypeError:  # another pandas: the public constructor below
            pass
    return pd.DataFrame(dict(columns), index=index, copy=False)


def empty_frame(columns: pd.Index, index: pd.Index) -> pd.DataFrame:
    """``pd.DataFrame(index=index, columns=columns)`` for an empty ``columns`` (a third of the time)."""
    build = getattr(pd.DataFrame, "_from_arrays", None)
    if build is not None and not len(columns):
        try:
            out: pd.DataFrame = build([], columns=columns, index=index, verify_integrity=False)
            return out
        except TypeError:  # another pandas: the public constructor below
            pass
    return pd.DataFrame(index=index, columns=columns)
