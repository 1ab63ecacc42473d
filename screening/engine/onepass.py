"""The compiled kernel: one numba call scores a chunk, from the raw answers to every output column.

:func:`score_chunk` does, for rows ``a .. a+m`` of a table, everything :func:`screening.engine.score._chunk`
does in numpy phases, in the same order and with the same floating-point operations, so the results are
bit-identical (``tests/test_reference_scorer.py`` checks both against ``tests/reference_scorer.py``):

1. the *front*: each answer read once, item by item, checked (range and whole number), added to its
   block's sum (a blank adds the block's fill value), blanks counted, ``count``/``sum_if`` scores
   updated, item values copied out when asked for;
2. the *tail*, score by score over the chunk's rows: each item-based score's keyed total and answered
   count, its bounds over the blanks' option ranges, the missing-data rule (prorating, means, too few
   answered), transforms and rounding; then the scores of scores; the status, validity checks and
   voided scores; the written bounds, bands, critical items and blank counts.

Each step is a loop over the chunk's rows without branches that depend on the scale (those are
decided once per score, outside the loop), so the loops vectorise. The per-score work is done on
small per-chunk arrays that stay in cache; the chunk is read once.

The functions are plain Python when numba is not installed; :mod:`screening.engine.fused` then never
calls them (the numpy kernel runs). Operators are encoded as ``(below, equal, above)`` triples
(:data:`screening.engine.fused.OP_WANT`): a comparison with NaN is none of the three, so it never
holds (callers mark unknown values themselves).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np

__all__ = ["AVAILABLE", "score_chunk"]

_F = TypeVar("_F", bound=Callable[..., Any])

try:
    import numba

    _NUMBA: Any = numba
except ImportError:  # pragma: no cover - numba is an optional extra ("fast")
    _NUMBA = None

#: numba is installed (the functions below are compiled on first call)
AVAILABLE = _NUMBA is not None


def _jit(f: _F) -> _F:
    if _NUMBA is None:  # pragma: no cover - without numba these are never called
        return f
    # error_model="numpy": x / 0 is inf or NaN, as in numpy (the numpy kernel divides under errstate(ignore))
    return cast("_F", _NUMBA.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")(f))


@_jit
def _round(x: float, code: int, scale: float) -> float:  # pragma: no cover - compiled
    """``screening.engine.score._round`` of one value (code: 0 none, 1 half_up, 2 half_even, 3 floor, 4 ceil)."""
    if code == 0:
        return x
    y = x * scale
    if code == 1:
        # np.sign: +0.0 for either zero, NaN for NaN
        sgn = 1.0 if y > 0 else (-1.0 if y < 0 else (0.0 if y == 0 else y))
        y = sgn * np.floor(np.abs(y) + 0.5 + 1e-9)
    elif code == 2:
        y = np.rint(y)
    elif code == 3:
        y = np.floor(y + 1e-9)
    else:
        y = np.ceil(y - 1e-9)
    return float(y / scale)


@_jit
def _fmin(a: float, b: float) -> float:  # pragma: no cover - compiled
    """np.fmin: the other value where one is NaN; the first on a tie (as numpy)."""
    return a if (a <= b or b != b) else b


@_jit
def _fmax(a: float, b: float) -> float:  # pragma: no cover - compiled
    return a if (a >= b or b != b) else b


@_jit
def _minimum(a: float, b: float) -> float:  # pragma: no cover - compiled
    """np.minimum: NaN where either is NaN; the second on a tie (as numpy)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a < b else b


@_jit
def _maximum(a: float, b: float) -> float:  # pragma: no cover - compiled
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


@_jit
def _front(srcs: Any, a: int, m: int, front_t: Any, keep_items: bool, items: Any, block_sum: Any,
           block_miss: Any, counts: Any) -> bool:  # pragma: no cover - compiled
    """Phase 1 (items major): block sums, blank counts, count/sum_if scores; False if an answer is not an option."""
    row_block, fill, lo, hi, cnt_ptr, cnt_slot, cnt_want, cnt_val, cnt_sumif, order = front_t
    block_sum[:, :] = 0.0
    block_miss[:, :] = 0
    counts[:, :] = 0.0
    ok = True
    for r in range(len(srcs)):
        x = srcs[r][a:a + m]
        if keep_items:
            it = items[order[r], a:a + m]
            for i in range(m):
                it[i] = x[i]
        blk = row_block[r]
        f = fill[r]
        lo_r = lo[r]
        hi_r = hi[r]
        bs = block_sum[blk]
        bm = block_miss[blk]
        bad = False
        # branch-free, so that the loop vectorises: a blank adds the block's fill value and counts as
        # blank; it is checked as if it held lo (always an option)
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


@_jit
def _item_scores(a: int, m: int, o: int, item_t: Any, sizes: Any, block_sum: Any, block_miss: Any, counts: Any,
                 want_bounds: bool, scores: Any, lb: Any, ub: Any, tot: Any, got: Any,
                 insuff: Any, anyimp: Any) -> None:  # pragma: no cover - compiled
    """Phases 2-5 for item-based scores (score.py: _item_totals, _item_bounds, _missing_rule, transforms)."""
    (it_score, it_slot, it_mean, term_ptr, term_blk, term_wt, term_blo, term_bhi, it_const, it_n, it_mul,
     it_den, it_use_got, it_min, it_transformed, it_mult, it_add, it_round, it_scale, it_uni_lo, it_uni_hi) = item_t
    for row in range(len(it_score)):
        i = it_score[row]
        p0 = term_ptr[row]
        p1 = term_ptr[row + 1]
        # answered items: a short sum of the blocks' answered counts
        blk = term_blk[p0]
        size = sizes[blk]
        bm = block_miss[blk, o:o + m]
        for r in range(m):
            got[r] = size - bm[r]
        for e in range(p0 + 1, p1):
            blk = term_blk[e]
            size = sizes[blk]
            bm = block_miss[blk, o:o + m]
            for r in range(m):
                got[r] += size - bm[r]
        # keyed total: a short sum of block sums (reverse blocks enter with -weight and a constant)
        slot = it_slot[row]
        if slot >= 0:
            cr = counts[slot, o:o + m]
            for r in range(m):
                tot[r] = cr[r]
        else:
            bs = block_sum[term_blk[p0], o:o + m]
            wt = term_wt[p0]
            for r in range(m):
                tot[r] = bs[r] * wt
            for e in range(p0 + 1, p1):
                bs = block_sum[term_blk[e], o:o + m]
                wt = term_wt[e]
                for r in range(m):
                    tot[r] += bs[r] * wt
            const = it_const[row]
            if const != 0.0:
                for r in range(m):
                    tot[r] += const
        n = it_n[row]
        mult = it_mult[row]
        add = it_add[row]
        rnd = it_round[row]
        scale = it_scale[row]
        tf = it_transformed[row]
        xf = tf or rnd != 0
        if want_bounds:
            lbi = lb[i]
            ubi = ub[i]
            u_lo = it_uni_lo[row]
            u_hi = it_uni_hi[row]
            if u_lo == u_lo and u_hi == u_hi:
                # every blank of the score adds the same whole numbers: times its blanks (exact; + 0.0 as
                # the sum from 0.0 gives +0.0 where nothing is added)
                for r in range(m):
                    k = n - got[r]
                    lbi[r] = u_lo * k + 0.0
                    ubi[r] = u_hi * k + 0.0
            else:
                for r in range(m):
                    lbi[r] = 0.0
                    ubi[r] = 0.0
                for e in range(p0, p1):
                    bm = block_miss[term_blk[e], o:o + m]
                    blo = term_blo[e]
                    bhi = term_bhi[e]
                    for r in range(m):
                        mr = np.float64(bm[r])
                        lbi[r] += blo * mr
                        ubi[r] += bhi * mr
            mean = it_mean[row]
            for r in range(m):
                lo_ = tot[r] + lbi[r]
                hi_ = tot[r] + ubi[r]
                if mean:
                    lo_ /= n
                    hi_ /= n
                if xf:
                    b_lo = _round(lo_ * mult + add, rnd, scale)
                    b_hi = _round(hi_ * mult + add, rnd, scale)
                    lo_ = _fmin(b_lo, b_hi)
                    hi_ = _fmax(b_lo, b_hi)
                lbi[r] = lo_
                ubi[r] = hi_
        mul = it_mul[row]
        use_got = it_use_got[row]
        den = it_den[row]
        min_ans = it_min[row]
        out = scores[i, a:a + m]  # views from row 0: indices known >= 0, so the loops vectorise
        for r in range(m):
            g = got[r]
            v = tot[r] * mul
            v = v / (g if use_got else den)
            suff = g >= min_ans
            if not suff:
                v = np.nan
            if xf:
                if tf:
                    v = v * mult + add
                v = _round(v, rnd, scale)
            out[r] = v
            insuff[r] |= not suff
            anyimp[r] |= suff & (g < n)


@_jit
def _derived_scores(a: int, m: int, der_t: Any, want_bounds: bool, scores: Any, lb: Any, ub: Any, tot: Any,
                    got: Any, insuff: Any, anyimp: Any) -> None:  # pragma: no cover - compiled
    """Phase 5 for scores of scores (score.py: _derived_scores, _parts_bounds), in score order."""
    (d_score, d_method, d_impute, part_ptr, part_idx, d_n, d_min, d_transformed, d_mult, d_add, d_round,
     d_scale) = der_t
    for d in range(len(d_score)):
        i = d_score[d]
        q0 = part_ptr[d]
        q1 = part_ptr[d + 1]
        n = d_n[d]
        method = d_method[d]  # 0 sum, 1 mean, 2 ratio
        impute = d_impute[d]  # 0 none, 1 prorate, 2 zero
        min_ans = d_min[d]
        tf = d_transformed[d]
        mult = d_mult[d]
        add = d_add[d]
        rnd = d_round[d]
        scale = d_scale[d]
        out = scores[i]
        if want_bounds:
            lbi = lb[i]
            ubi = ub[i]
            for r in range(m):
                if method == 2:
                    lo0 = lb[part_idx[q0], r]
                    hi0 = ub[part_idx[q0], r]
                    lo1 = lb[part_idx[q0 + 1], r]
                    hi1 = ub[part_idx[q0 + 1], r]
                    if lo1 > 0:
                        lo_ = _minimum(lo0 / hi1, lo0 / lo1)
                        hi_ = _maximum(hi0 / lo1, hi0 / hi1)
                    else:
                        lo_ = np.nan
                        hi_ = np.nan
                else:
                    lo_ = 0.0
                    hi_ = 0.0
                    for q in range(q0, q1):
                        lo_ += lb[part_idx[q], r]
                        hi_ += ub[part_idx[q], r]
                    if method == 1:
                        lo_ = lo_ / n
                        hi_ = hi_ / n
                if tf:
                    lo_ = lo_ * mult + add
                    hi_ = hi_ * mult + add
                    if mult < 0:
                        lo_, hi_ = hi_, lo_
                lbi[r] = _round(lo_, rnd, scale)
                ubi[r] = _round(hi_, rnd, scale)
        # answered parts and their total, part by part (the order numpy's sum over the parts adds in)
        for r in range(m):
            got[r] = 0.0
            tot[r] = 0.0
        for q in range(q0, q1):
            part = scores[part_idx[q], a:a + m]
            for r in range(m):
                p = part[r]
                ok = p == p
                got[r] += ok
                tot[r] += p if ok else 0.0
        num = scores[part_idx[q0], a:a + m]
        dnm = scores[part_idx[q0 + 1], a:a + m] if q1 > q0 + 1 else num
        out = scores[i, a:a + m]
        for r in range(m):
            g = got[r]
            t = tot[r]
            if method == 2:
                den = dnm[r]
                v = num[r] / den if den != 0 else np.nan
            elif method == 1:
                v = t / (n if impute == 2 else g)
            elif impute == 1:
                v = t * n / g
            else:
                v = t
            suff = g >= min_ans
            if impute == 0:
                suff &= g == n
            if not suff:
                v = np.nan
            if tf:
                v = v * mult + add
            out[r] = _round(v, rnd, scale)
            insuff[r] |= not suff
            anyimp[r] |= suff & (g < n)


@_jit
def score_chunk(srcs: Any, a: int, m: int, front_t: Any, item_t: Any, der_t: Any, check_t: Any, sizes: Any,
                keep_items: bool, want_bounds: bool, block_sum: Any, block_miss: Any, counts: Any, tot: Any,
                got: Any, flags: Any, lb: Any, ub: Any, scores: Any, bands: Any, status: Any, n_missing: Any,
                critical: Any, crit_flags: Any, validity: Any, items: Any, lower: Any,
                upper: Any, lb_off: int) -> bool:  # pragma: no cover - compiled
    """Score rows ``a .. a+m`` into the output arrays.

    The front reads the chunk once, item by item (long runs of each column); the tail then takes the
    rows in runs of ``tot.shape[0]`` (the width of the per-score scratch arrays, a few thousand rows, so
    that they stay in cache). ``lower``/``upper`` receive the bounds at columns ``lb_off .. lb_off+m`` (the
    table's rows, or a chunk scratch from which the caller keeps the rows with a blank). Returns False
    (having written nothing but item values) if an answer is not an option.
    """
    if not _front(srcs, a, m, front_t, keep_items, items, block_sum, block_miss, counts):
        return False  # the numpy kernel redoes the chunk (and overwrites the items written)
    step = tot.shape[0]
    for o in range(0, m, step):
        _tail(srcs, a + o, min(step, m - o), o, item_t, der_t, check_t, sizes, want_bounds, block_sum, block_miss,
              counts, tot, got, flags, lb, ub, scores, bands, status, n_missing, critical, crit_flags, validity, lower,
              upper,
              lb_off + o)
    return True


@_jit
def _tail(srcs: Any, a: int, m: int, o: int, item_t: Any, der_t: Any, check_t: Any, sizes: Any, want_bounds: bool,
          block_sum: Any, block_miss: Any, counts: Any, tot: Any, got: Any, flags: Any, lb: Any, ub: Any, scores: Any,
          bands: Any, status: Any, n_missing: Any, critical: Any, crit_flags: Any, validity: Any, lower: Any, upper: Any,
          lb_off: int) -> None:  # pragma: no cover - compiled
    """Phases 2-7 of rows ``a .. a+m`` from the front's block sums, blank counts and count scores (their
    columns ``o .. o+m``)."""
    (v_score, v_want, v_value, v_void, keep, b_score, b_ptr, b_edge, b_strict, c_row, c_want, c_value) = check_t
    n_scores = scores.shape[0]
    insuff = flags[0]
    anyimp = flags[1]
    invalid = flags[2]
    void = flags[3]
    for r in range(m):
        insuff[r] = False
        anyimp[r] = False
        invalid[r] = False
        void[r] = False
    _item_scores(a, m, o, item_t, sizes, block_sum, block_miss, counts, want_bounds, scores, lb, ub, tot, got,
                 insuff, anyimp)
    _derived_scores(a, m, der_t, want_bounds, scores, lb, ub, tot, got, insuff, anyimp)
    # blanks per row
    n_miss = n_missing[a:a + m]  # views from row 0: indices known >= 0, so the loops vectorise
    for r in range(m):
        n_miss[r] = 0
    for blk in range(block_miss.shape[0]):
        bm = block_miss[blk, o:o + m]
        for r in range(m):
            n_miss[r] += bm[r]
    # validity checks read the scores before any is voided; an unscored check never fires
    for j in range(len(v_score)):
        x_ = scores[v_score[j], a:a + m]
        val = v_value[j]
        want_lt, want_eq, want_gt = v_want[j, 0], v_want[j, 1], v_want[j, 2]
        vd = v_void[j]
        out_v = validity[j, a:a + m]
        for r in range(m):
            v = x_[r]
            fired = ((v < val) & want_lt) | ((v == val) & want_eq) | ((v > val) & want_gt)
            invalid[r] |= fired
            if vd:
                void[r] |= fired
            out_v[r] = -1 if v != v else np.int8(fired)
    st_out = status[a:a + m]
    for r in range(m):
        st = 2 if insuff[r] else (1 if anyimp[r] else 0)
        st_out[r] = 3 if invalid[r] else st
    any_void = False
    for r in range(m):
        any_void |= void[r]
    if any_void:
        for s in range(n_scores):
            if not keep[s]:
                out_s = scores[s, a:a + m]
                for r in range(m):
                    if void[r]:
                        out_s[r] = np.nan
    if want_bounds:
        for s in range(n_scores):
            out_s = scores[s, a:a + m]
            lbs = lb[s]
            ubs = ub[s]
            lo_out = lower[s, lb_off:lb_off + m]
            hi_out = upper[s, lb_off:lb_off + m]
            # branch-free (so that it vectorises): a row without a blank has its value as both bounds,
            # any other the bound widened to contain the value (np.fmin / np.fmax: a NaN value keeps it)
            for r in range(m):
                v = out_s[r]
                lo_ = lbs[r]
                hi_ = ubs[r]
                lo_ = lo_ if (lo_ <= v or v != v) else v
                hi_ = hi_ if (hi_ >= v or v != v) else v
                complete = n_miss[r] == 0
                lo_out[r] = v if complete else lo_
                hi_out[r] = v if complete else hi_
            if any_void and not keep[s]:  # a voided row has no bounds
                for r in range(m):
                    if void[r]:
                        lo_out[r] = np.nan
                        hi_out[r] = np.nan
    for j in range(len(b_score)):
        x_ = scores[b_score[j], a:a + m]
        out_b = bands[j, a:a + m]
        e0 = b_ptr[j]
        e1 = b_ptr[j + 1]
        # edge by edge over the rows (a loop over a row's few edges would not vectorise)
        for r in range(m):
            out_b[r] = 0
        for e in range(e0, e1):
            edge = b_edge[e]
            if b_strict[e]:
                for r in range(m):
                    out_b[r] += x_[r] > edge
            else:
                for r in range(m):
                    out_b[r] += x_[r] >= edge
        for r in range(m):
            if x_[r] != x_[r]:
                out_b[r] = -1
    n_crit = len(c_row)
    for j in range(n_crit):
        x = srcs[c_row[j]][a:a + m]
        val = c_value[j]
        want_lt, want_eq, want_gt = c_want[j, 0], c_want[j, 1], c_want[j, 2]
        out_c = critical[j, a:a + m]
        # the output columns too: fired (False where unknown), unknown, and fired for any critical item
        c_fired = crit_flags[j, a:a + m]
        c_unknown = crit_flags[n_crit + j, a:a + m]
        c_any = crit_flags[2 * n_crit, a:a + m]
        for r in range(m):
            v = x[r]
            fired = ((v < val) & want_lt) | ((v == val) & want_eq) | ((v > val) & want_gt)
            unknown = v != v
            out_c[r] = -1 if unknown else np.int8(fired)
            c_fired[r] = fired
            c_unknown[r] = unknown
            if j == 0:
                c_any[r] = fired
            else:
                c_any[r] |= fired

