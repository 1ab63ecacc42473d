"""The compiled front of the kernel: one read of each answer per chunk (optional, needs numba).

The numpy front of :func:`screening.engine.score._chunk` makes about seven passes over a chunk
(copy into the buffer, ``isnan``, two reductions for the range check, blank fill, whole-number
test, block sums) plus one gather per ``count``/``sum_if`` score. This front reads each answer
once, straight from the input column, and in that one read checks it (range and whole number),
adds it to its block's sum (a blank adds the block's fill value, so reverse keying stays a
per-score constant, exactly as in the numpy front), counts the blank, and updates the
``count``/``sum_if`` scores the item belongs to. Everything after (the per-score arithmetic:
weights, prorating, bounds, derived scores, transforms, rounding, validity, bands) is the shared
numpy tail, which works on per-score arrays ~10× smaller than the chunk.

Results are bit-identical to the numpy front: the fused front is used only when every item's
options are the whole numbers lo..hi, so every block sum is a sum of whole numbers below 2**53,
exact in any order. A chunk holding any answer that is not an option is redone by the numpy
front, which finds and reports the bad cells. numba is imported only for tables of at least
:data:`MIN_ROWS` rows, so a one-student call never pays for it.

Install with ``pip install "screening[fast]"``; without numba the numpy front runs (same results).
Set ``SCREENING_FUSED=0`` to switch the compiled front off.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .compile import ScoreMethod

__all__ = ["MIN_ROWS", "FusedFront", "get_front"]

#: tables with fewer rows use the numpy front (importing and loading numba costs ~0.3 s once)
MIN_ROWS = 50_000

#: per operator: does it hold when the value is below, equal to, above the threshold
OP_WANT = {">=": (False, True, True), ">": (False, False, True), "<=": (True, True, False), "<": (True, False, False),
           "==": (False, True, False), "!=": (True, False, True)}

_kernel: Any = None
_failed = False


def _compile() -> Any:
    import numba

    @numba.njit(nogil=True, cache=True, boundscheck=False)
    def front(srcs: Sequence[npt.NDArray[np.float64]], a: int, m: int, row_block: npt.NDArray[np.intp],
              fill: npt.NDArray[np.float64], lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64],
              cnt_ptr: npt.NDArray[np.intp], cnt_slot: npt.NDArray[np.intp], cnt_want: npt.NDArray[np.bool_],
              cnt_val: npt.NDArray[np.float64], cnt_sumif: npt.NDArray[np.bool_], block_sum: npt.NDArray[np.float64],
              block_miss: npt.NDArray[np.int16], counts: npt.NDArray[np.float64]) -> bool:  # pragma: no cover - compiled
        # (the annotations are for readers and mypy; numba infers its own types from the arguments)
        block_sum[:, :] = 0.0
        block_miss[:, :] = 0
        counts[:, :] = 0.0
        ok = True
        for r in range(len(srcs)):
            x = srcs[r][a:a + m]
            blk = row_block[r]
            f = fill[r]
            lo_r = lo[r]
            hi_r = hi[r]
            bs = block_sum[blk]
            bm = block_miss[blk]
            bad = False
            # branch-free, so that the loop vectorises: a blank adds the block's fill value and counts
            # as blank; it is checked as if it held lo (always an option)
            for i in range(m):
                v = x[i]
                blank = v != v
                bs[i] += f if blank else v
                bm[i] += blank
                c = lo_r if blank else v
                bad |= (c < lo_r) | (c > hi_r) | (np.trunc(c) != c)
            if bad:
                ok = False
            for e in range(cnt_ptr[r], cnt_ptr[r + 1]):
                acc = counts[cnt_slot[e]]
                val = cnt_val[e]
                # any comparison is (below and want_lt) or (equal and want_eq) or (above and want_gt):
                # branch-free, and a blank (NaN) is none of the three, so it never meets the condition
                want_lt, want_eq, want_gt = cnt_want[e, 0], cnt_want[e, 1], cnt_want[e, 2]
                if cnt_sumif[e]:
                    for i in range(m):
                        v = x[i]
                        hit = ((v < val) & want_lt) | ((v == val) & want_eq) | ((v > val) & want_gt)
                        acc[i] += v if hit else 0.0
                else:
                    for i in range(m):
                        v = x[i]
                        acc[i] += ((v < val) & want_lt) | ((v == val) & want_eq) | ((v > val) & want_gt)
        return ok

    return front


def _get_kernel() -> Any:
    global _kernel, _failed
    if _kernel is None and not _failed:
        try:
            _kernel = _compile()
        except ImportError:
            _failed = True
    return _kernel


class FusedFront:
    """Per-scale constants for the compiled front, and the value arrays of one table."""

    def __init__(self, kernel: Any, cs: Any, src: list[npt.NDArray[np.float64]]):
        import numba.typed

        L = cs.layout
        n_items = cs.n_items
        self.kernel = kernel
        lst = numba.typed.List()
        for arr in src:
            v = np.ascontiguousarray(arr, dtype=np.float64).view()
            v.flags.writeable = False  # one numba type for every column (pandas hands out read-only views)
            lst.append(v)
        self.srcs = lst
        row_block = np.empty(n_items, dtype=np.intp)
        for blk, (s, e) in enumerate(L.bounds):
            row_block[s:e] = blk
        self.row_block = row_block
        self.fill = np.ascontiguousarray(L.fill[:, 0], dtype=np.float64)
        self.lo = np.ascontiguousarray(L.lo[:, 0], dtype=np.float64)
        self.hi = np.ascontiguousarray(L.hi[:, 0], dtype=np.float64)
        # count / sum_if scores: per buffer row, the (slot, op, value, is sum_if) entries it feeds
        self.count_slot: dict[int, int] = {}
        entries: list[list[tuple[int, tuple[bool, bool, bool], float, bool]]] = [[] for _ in range(n_items)]
        for i, s in enumerate(cs.scores):
            if s.count_items is not None:
                slot = self.count_slot[i] = len(self.count_slot)
                for k in s.count_items:
                    entries[int(L.row_of[k])].append((slot, OP_WANT[s.count_op or ">="], float(s.count_value),
                                                     s.method is ScoreMethod.SUM_IF))
        flat = [e for row in entries for e in row]
        self.cnt_ptr = np.cumsum([0] + [len(row) for row in entries]).astype(np.intp)
        self.cnt_slot = np.array([e[0] for e in flat], dtype=np.intp)
        self.cnt_want = np.array([e[1] for e in flat], dtype=np.bool_).reshape(len(flat), 3)
        self.cnt_val = np.array([e[2] for e in flat], dtype=np.float64)
        self.cnt_sumif = np.array([e[3] for e in flat], dtype=np.bool_)
        self.n_counts = len(self.count_slot)

    def run(self, a: int, m: int, block_sum: npt.NDArray[np.float64], block_miss: npt.NDArray[np.int16],
            counts: npt.NDArray[np.float64]) -> bool:
        """Fill block sums, blank counts and count scores of rows a..a+m; False if any answer is not an option."""
        return bool(self.kernel(self.srcs, a, m, self.row_block, self.fill, self.lo, self.hi, self.cnt_ptr,
                                self.cnt_slot, self.cnt_want, self.cnt_val, self.cnt_sumif, block_sum, block_miss,
                                counts))


def get_front(cs: Any, cols: list[Any], src: list[npt.NDArray[np.float64]], n_rows: int,
              keep_items: bool, min_rows: int | None = None) -> FusedFront | None:
    """The compiled front for this table, or None where the numpy front must (or had better) run."""
    if os.environ.get("SCREENING_FUSED", "1") == "0":
        return None
    if n_rows < (MIN_ROWS if min_rows is None else min_rows) or keep_items:
        return None
    if not cs.layout.integral.all() or any(c.bad is not None for c in cols):
        return None
    if any(v.dtype != np.float64 for v in src):
        return None
    kernel = _get_kernel()
    if kernel is None:
        return None
    return FusedFront(kernel, cs, src)
