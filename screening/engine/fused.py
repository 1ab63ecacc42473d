"""The compiled kernel of a chunk (optional, needs numba): one call from the raw answers to the outputs.

The numpy kernel of :func:`screening.engine.score._chunk` makes about seven passes over a chunk
(copy into the buffer, ``isnan``, two reductions for the range check, blank fill, whole-number
test, block sums), then a dozen numpy calls per score on per-score arrays (totals, bounds, the
missing-data rule, transforms, status, validity, bands), each a pass of its own. The compiled
kernel (:func:`screening.engine.onepass.score_chunk`) reads each answer once, straight from the
input column, and does the rest in the same call, score by score over the chunk's rows, on small
arrays that stay in cache: a chunk is one call.

Results are bit-identical to the numpy kernel: the same floating-point operations in the same order
(``tests/test_reference_scorer.py`` runs both against the reference scorer). The compiled kernel is
used only when every item's options are the whole numbers lo..hi, so every block sum is a sum of
whole numbers below 2**53, exact in any order. A chunk holding any answer that is not an option is
redone by the numpy kernel, which finds and reports the bad cells. numba is imported only for tables
of at least :data:`MIN_ROWS` rows, so a one-student call never pays for it.

What the kernel needs from a scale and a choice of bands (index arrays, operators as triples) is
built once and cached on the compiled scale (:attr:`CompiledScale.cache`).

Install with ``pip install "screening[fast]"``; without numba the numpy kernel runs (same results).
Set ``SCREENING_FUSED=0`` to switch the compiled kernel off.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from .compile import CompiledScale, Rounding, ScoreKind, ScoreMethod

__all__ = ["FUSED_CHUNK", "MIN_ROWS", "OP_WANT", "STEP", "FusedFront", "get_front"]

#: tables with fewer rows use the numpy kernel (importing and loading numba costs ~0.3 s once)
MIN_ROWS = 50_000

#: fewest rows per chunk for the compiled kernel when the caller did not choose a chunk size (measured on
#: SCL-90 and MHT at 1M rows: 15-25% faster than chunks of half a million answers, ~6,000 rows)
FUSED_CHUNK = 65_536

#: rows the compiled kernel's tail takes at a time within a chunk: its per-score scratch arrays stay in cache
STEP = 2048

#: per operator: does it hold when the value is below, equal to, above the threshold
OP_WANT = {">=": (False, True, True), ">": (False, False, True), "<=": (True, True, False), "<": (True, False, False),
           "==": (False, True, False), "!=": (True, False, True)}

ROUND_CODE = {Rounding.NONE: 0, Rounding.HALF_UP: 1, Rounding.HALF_EVEN: 2, Rounding.FLOOR: 3, Rounding.CEIL: 4}

_kernel: Any = None
_failed = False


def _get_kernel() -> Any:
    """:func:`screening.engine.onepass.score_chunk`, or None without numba."""
    global _kernel, _failed
    if _kernel is None and not _failed:
        try:
            import numba  # noqa: F401  (the import that can fail; onepass compiles with it)
        except ImportError:
            _failed = True
            return None
        from . import onepass

        _kernel = onepass.score_chunk
    return _kernel


def _want(ops: list[str]) -> npt.NDArray[np.bool_]:
    return np.array([OP_WANT[op] for op in ops], dtype=np.bool_).reshape(len(ops), 3)


def _ip(x: list[int]) -> npt.NDArray[np.intp]:
    return np.array(x, dtype=np.intp)


def _f8(x: list[float]) -> npt.NDArray[np.float64]:
    return np.array(x, dtype=np.float64)


def _b(x: list[bool]) -> npt.NDArray[np.bool_]:
    return np.array(x, dtype=np.bool_)


def _scale_tables(cs: CompiledScale) -> tuple[Any, ...]:
    """What the kernel needs from the scale alone: (front, item scores, scores of scores, slots of count scores)."""
    L = cs.layout
    T = cs.item_tail
    n_items = cs.n_items
    row_block = np.empty(n_items, dtype=np.intp)
    for blk, (r0, r1) in enumerate(L.bounds):
        row_block[r0:r1] = blk
    # count / sum_if scores: per buffer row, the (slot, op, value, is sum_if) entries it feeds
    count_slot: dict[int, int] = {}
    entries: list[list[tuple[int, str, float, bool]]] = [[] for _ in range(n_items)]
    for i, s in enumerate(cs.scores):
        if s.count_items is not None:
            slot = count_slot[i] = len(count_slot)
            for k in s.count_items:
                entries[int(L.row_of[k])].append((slot, s.count_op or ">=", float(s.count_value or 0.0),
                                                 s.method is ScoreMethod.SUM_IF))
    flat = [e for row in entries for e in row]
    front_t = (row_block, np.ascontiguousarray(L.fill[:, 0], dtype=np.float64),
               np.ascontiguousarray(L.lo[:, 0], dtype=np.float64), np.ascontiguousarray(L.hi[:, 0], dtype=np.float64),
               np.cumsum([0] + [len(row) for row in entries]).astype(np.intp), _ip([e[0] for e in flat]),
               _want([e[1] for e in flat]), _f8([e[2] for e in flat]), _b([e[3] for e in flat]),
               np.ascontiguousarray(L.order, dtype=np.intp))

    # item-based scores, in the order of the item tail (score.py: _item_totals, _item_bounds, _missing_rule)
    term_ptr: list[int] = [0]
    term_blk: list[int] = []
    slots: list[int] = []
    rounds: list[int] = []
    term_wt: list[float] = []
    term_blo: list[float] = []
    term_bhi: list[float] = []
    consts: list[float] = []
    mults: list[float] = []
    adds: list[float] = []
    scales: list[float] = []
    means: list[bool] = []
    transformed: list[bool] = []
    for row, i in enumerate(T.index):
        s = cs.scores[int(i)]
        signed = L.signed[s.column]
        for e, (blk, _w) in enumerate(L.terms[s.column]):
            term_blk.append(blk)
            term_wt.append(signed[e].weight)
            term_blo.append(float(T.blank_lo[row, blk]))
            term_bhi.append(float(T.blank_hi[row, blk]))
        term_ptr.append(len(term_blk))
        slots.append(count_slot.get(int(i), -1))
        means.append(s.method is ScoreMethod.MEAN)
        consts.append(float(L.const[s.column]))
        transformed.append(s.transformed)
        mults.append(s.multiply)
        adds.append(s.add)
        rounds.append(ROUND_CODE[s.rounding])
        scales.append(10.0**s.digits)
    # a score whose blocks all add the same whole number per blank (items on one option range, weight 1)
    # adds it times its blank count: exact, so the same bits as the sum over its blocks (NaN: not so)
    uni_lo: list[float] = []
    uni_hi: list[float] = []
    for row in range(len(T.index)):
        for vals, uni in ((term_blo, uni_lo), (term_bhi, uni_hi)):
            part = vals[term_ptr[row]:term_ptr[row + 1]]
            same = len(set(part)) == 1 and float(part[0]).is_integer() and abs(part[0]) < 2.0**20
            uni.append(float(part[0]) if same else float("nan"))
    item_t = (np.ascontiguousarray(T.index, dtype=np.intp), _ip(slots), _b(means), _ip(term_ptr), _ip(term_blk),
              _f8(term_wt), _f8(term_blo), _f8(term_bhi), _f8(consts), _f8(list(T.n)), _f8(list(T.mul)),
              _f8(list(T.den_const)), _b(list(T.use_got)), _f8(list(T.min_answered)), _b(transformed), _f8(mults),
              _f8(adds), _ip(rounds), _f8(scales), _f8(uni_lo), _f8(uni_hi))

    # scores of scores, in score order (score.py: _derived_scores, _parts_bounds)
    d_score: list[int] = []
    d_method: list[int] = []
    d_impute: list[int] = []
    part_ptr: list[int] = [0]
    part_idx: list[int] = []
    d_round: list[int] = []
    d_n: list[float] = []
    d_min: list[float] = []
    d_mult: list[float] = []
    d_add: list[float] = []
    d_scale: list[float] = []
    d_tf: list[bool] = []
    for i, s in enumerate(cs.scores):
        if s.kind is not ScoreKind.SCORES:
            continue
        d_score.append(i)
        d_method.append({ScoreMethod.MEAN: 1, ScoreMethod.RATIO: 2}.get(s.method, 0))
        d_impute.append({"none": 0, "prorate": 1, "zero": 2}[str(s.impute)])
        part_idx.extend(s.parts)
        part_ptr.append(len(part_idx))
        d_n.append(float(s.n_parts))
        d_min.append(float(s.min_answered))
        d_tf.append(s.transformed)
        d_mult.append(s.multiply)
        d_add.append(s.add)
        d_round.append(ROUND_CODE[s.rounding])
        d_scale.append(10.0**s.digits)
    der_t = (_ip(d_score), _ip(d_method), _ip(d_impute), _ip(part_ptr), _ip(part_idx), _f8(d_n), _f8(d_min), _b(d_tf),
             _f8(d_mult), _f8(d_add), _ip(d_round), _f8(d_scale))
    return front_t, item_t, der_t, len(count_slot)


def _check_tables(cs: CompiledScale, band_sets: dict[str, str]) -> tuple[Any, ...]:
    """Validity checks, bands (of the chosen sets, in the plan's order) and critical items, for the kernel."""
    keep = np.zeros(len(cs.scores), dtype=np.bool_)
    for check in cs.validity:
        if check.void:
            keep[check.score] = True
    b_score: list[int] = []
    b_ptr: list[int] = [0]
    b_edge: list[float] = []
    b_strict: list[bool] = []
    for score_id, set_name in band_sets.items():
        bset = cs.bands[score_id][set_name]
        b_score.append(cs.score_index(score_id))
        b_edge.extend(float(e) for e in bset.edges)
        b_strict.extend(bool(s) for s in bset.strict)
        b_ptr.append(len(b_edge))
    return (_ip([v.score for v in cs.validity]), _want([v.op for v in cs.validity]), _f8([v.value for v in cs.validity]),
            _b([v.void for v in cs.validity]), keep, _ip(b_score), _ip(b_ptr), _f8(b_edge), _b(b_strict),
            _ip([int(cs.layout.row_of[c.item]) for c in cs.critical]), _want([c.op for c in cs.critical]),
            _f8([c.value for c in cs.critical]))


class FusedFront:
    """The compiled kernel with the constants of one scale and band choice, and the value arrays of one table."""

    def __init__(self, kernel: Any, cs: CompiledScale, src: list[npt.NDArray[np.float64]], band_sets: dict[str, str]):
        import numba.typed

        self.kernel = kernel
        self.cs = cs
        lst = numba.typed.List()
        for arr in src:
            v = np.ascontiguousarray(arr, dtype=np.float64).view()
            v.flags.writeable = False  # one numba type for every column (pandas hands out read-only views)
            lst.append(v)
        self.srcs = lst
        cache = cs.cache
        tables = cache.get("onepass")
        if tables is None:
            tables = cache["onepass"] = _scale_tables(cs)
        self.front_t, self.item_t, self.der_t, self.n_counts = tables
        key = ("onepass-checks", tuple(band_sets.items()))
        checks = cache.get(key)
        if checks is None:
            checks = cache[key] = _check_tables(cs, band_sets)
        self.check_t = checks
        self.sizes = np.ascontiguousarray(cs.layout.sizes, dtype=np.float64)
        self._none2 = np.zeros((0, 0))
        self._no_flags = np.zeros((0, 0), dtype=np.bool_)

    def score(self, out: Any, w: Any, a: int, m: int, keep_items: bool, bounds: str | bool) -> bool:
        """Score rows a..a+m into ``out`` (an :class:`~screening.engine.score.Outputs`); False if an answer
        is not an option (the numpy kernel then redoes the chunk and reports it)."""
        cs = self.cs
        n_scores = len(cs.scores)
        n_blocks = len(cs.layout.starts)
        step = min(m, STEP)
        lb, ub = w.get("op_lb", n_scores, step), w.get("op_ub", n_scores, step)
        if bounds == "sparse":
            lower, upper, off = w.get("op_lower", n_scores, m), w.get("op_upper", n_scores, m), 0
        elif bounds and out.lower is not None and out.upper is not None:
            lower, upper, off = out.lower, out.upper, a
        else:
            lower, upper, off = self._none2, self._none2, 0
        items = out.items if keep_items and out.items is not None else self._none2
        ok = bool(self.kernel(
            self.srcs, a, m, self.front_t, self.item_t, self.der_t, self.check_t, self.sizes, items is not self._none2,
            bool(bounds), w.get("op_block_sum", n_blocks, m), w.get("op_block_miss", n_blocks, m, np.int16),
            w.get("op_counts", max(self.n_counts, 1), m), w.get("op_tot", 1, step)[0], w.get("op_got", 1, step)[0],
            w.get("op_flags", 4, step, np.bool_), lb, ub, out.scores, out.bands, out.status, out.n_missing, out.critical,
            out.critical_flags if out.critical_flags is not None else self._no_flags, out.validity, items, lower, upper,
            off))
        if ok and bounds == "sparse" and out.sparse is not None:
            rows = np.flatnonzero(out.n_missing[a:a + m])
            if len(rows):
                out.sparse.append((rows + a, lower[:, rows], upper[:, rows]))  # atomic: safe from worker threads
        return ok


def get_front(cs: CompiledScale, cols: list[Any], src: list[npt.NDArray[np.float64]], n_rows: int,
              band_sets: dict[str, str], min_rows: int | None = None) -> FusedFront | None:
    """The compiled kernel for this table, or None where the numpy kernel must (or had better) run."""
    if os.environ.get("SCREENING_FUSED", "1") == "0":
        return None
    if n_rows < (MIN_ROWS if min_rows is None else min_rows):
        return None
    if not cs.layout.integral.all() or any(c.bad is not None for c in cols):
        return None
    if any(v.dtype != np.float64 for v in src):
        return None
    kernel = _get_kernel()
    if kernel is None:
        return None
    return FusedFront(kernel, cs, src, band_sets)
