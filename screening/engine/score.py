"""The vectorised scoring kernel.

A table is scored in row chunks. Each chunk is copied into one items-major
float buffer (item × student, each item row contiguous) that stays in cache.
Answers are validated with per-item reductions (NaN-ignoring min and max, and
one whole-number test), without building a per-cell mask unless a chunk holds
a bad answer. Items that enter the same scores in the same way form blocks of
adjacent rows (see :class:`~screening.engine.compile.Layout`); each block is
summed once along its rows, reverse keying is applied to block sums,
and each score is a short sum of block sums. No Python code runs per student,
and no BLAS call is made (its own threads fight the workers for the cores).
Chunks are independent, so results do not depend on chunk size or row order,
and runs of chunks may go to threads (numpy releases the GIL).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import columns as C
from ..errors import Issue
from .cats import from_codes
from .compile import CompiledScale, CompiledScore, MissingRule, Rounding, ScoreKind, ScoreMethod, Status
from .fused import FUSED_CHUNK, FusedFront, get_front
from .responses import ParsedColumn

__all__ = ["Plan", "Outputs", "run_kernel", "OPS", "output_columns", "to_frame"]

OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}

MAX_ROWS_REPORTED = 10

#: chunks of at most this many rows gather the items of a count/sum_if score at once (small copies)
SMALL_CHUNK = 512


@dataclass
class Plan:
    """What to compute for one scale: chosen band sets and whether to keep item values."""

    cs: CompiledScale
    band_sets: dict[str, str]  # score id -> band set name
    keep_items: bool
    on_invalid: str  # "raise" | "missing"
    # also compute each score's lower and upper bound over the possible answers to its blanks: "dense" (a full
    # column each, for score(bounds=True)) or "sparse" (only the rows with a blank, for screen())
    bounds: str | bool = False


@dataclass
class Outputs:
    """Preallocated result arrays that chunks write into (column-major)."""

    scores: npt.NDArray[np.float64]
    bands: npt.NDArray[np.int8]
    status: npt.NDArray[np.int8]
    n_missing: npt.NDArray[np.int16]
    n_invalid: npt.NDArray[np.int16]
    critical: npt.NDArray[np.int8]
    validity: npt.NDArray[np.int8]
    items: npt.NDArray[np.float64] | None
    bad_count: npt.NDArray[np.int64]
    bad_rows: list[list[int]] = field(default_factory=list)
    lower: npt.NDArray[np.float64] | None = None  # per score: the value the best answers to the blanks would give
    upper: npt.NDArray[np.float64] | None = None  # ... and the worst (both NaN where no answers could score it)
    sparse: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]]] | None = None
    # the critical columns as the frame holds them (written by the compiled kernel, and then by the numpy
    # one too): per critical item fired (False where unknown), then per item unknown, then fired for any
    critical_flags: npt.NDArray[np.bool_] | None = None

    def sparse_bounds(self, n_scores: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(rows with a blank, lower (score × row), upper) in row order, from the chunks' sparse bounds."""
        parts = sorted(self.sparse or [], key=lambda p: int(p[0][0]) if len(p[0]) else -1)
        if not parts:
            return np.zeros(0, dtype=np.intp), np.zeros((n_scores, 0)), np.zeros((n_scores, 0))
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts], axis=1),
                np.concatenate([p[2] for p in parts], axis=1))


def _round(x: npt.NDArray[np.float64], method: Rounding, digits: int) -> npt.NDArray[np.float64]:
    if method is Rounding.NONE:
        return x
    scale = 10.0**digits
    y = x * scale
    if method is Rounding.HALF_UP:
        # away from zero at .5, with a tiny tolerance so 2.675*100 = 267.49999… still rounds up
        y = np.sign(y) * np.floor(np.abs(y) + 0.5 + 1e-9)
    elif method is Rounding.HALF_EVEN:
        y = np.round(y)
    elif method is Rounding.FLOOR:
        y = np.floor(y + 1e-9)
    else:
        y = np.ceil(y - 1e-9)
    return y / scale


class _Buffers:
    """Scratch arrays of one worker thread, reused from chunk to chunk.

    Reuse matters: a fresh array of a megabyte is fresh memory from the operating
    system, and touching it the first time costs more than the arithmetic on it.
    Every array handed out is C-contiguous (n_rows, m), also for a short last
    chunk: numpy 2.4's ``np.isnan(x, out=b)`` writes wrong values when ``b`` is a
    strided bool view such as ``buf[:, :m]`` (seen here: 10 of 66 NaNs marked).
    """

    def __init__(self, chunk: int):
        self.chunk = chunk
        self._flat: dict[str, npt.NDArray[Any]] = {}

    def get(self, name: str, rows: int, m: int, dtype: Any = np.float64) -> npt.NDArray[Any]:
        flat = self._flat.get(name)
        if flat is None:
            flat = self._flat[name] = np.empty(rows * self.chunk, dtype=dtype)
        return flat[: rows * m].reshape(rows, m)


def _bad_cells(plan: Plan, cols: list[ParsedColumn], F: npt.NDArray[np.float64], N: npt.NDArray[np.bool_],
               a: int, b: int) -> npt.NDArray[np.bool_]:
    """Per-cell mask of answered values that are not options (the slow path, only for chunks that fail)."""
    L = plan.cs.layout
    bad = ((L.lo > F) | (L.hi < F)) & ~N
    with np.errstate(invalid="ignore"):
        bad |= (np.trunc(F) != F) & ~N & L.integral[:, None]
    for r in np.flatnonzero(~L.integral):
        k = L.order[r]
        if not cols[k].checked:
            bad[r] = ~np.isin(F[r], plan.cs.allowed[k]) & ~N[r]
    return bad


def _front(plan: Plan, cols: list[ParsedColumn], src: list[npt.NDArray[np.float64]], a: int, b: int, out: Outputs,
           w: _Buffers, whole_rows: npt.NDArray[np.bool_], block_sum: npt.NDArray[np.float64],
           block_miss: npt.NDArray[np.int16], counts: dict[int, npt.NDArray[np.float64]]) -> list[tuple[int, int, list[int]]]:
    """The numpy front of a chunk: validate, fill blanks, count and sum blocks (into the arrays passed)."""
    cs = plan.cs
    L = cs.layout
    m = b - a
    n_items = cs.n_items
    F, G = w.get("F", n_items, m), w.get("G", n_items, m)
    N, B = w.get("N", n_items, m, bool), w.get("B", n_items, m, bool)
    for row, values in enumerate(src):
        F[row] = values[a:b]
    np.isnan(F, out=N)

    # validity of answers without a per-cell mask: NaN-ignoring extremes per item ...
    with np.errstate(invalid="ignore"):
        suspect = (np.fmin.reduce(F, axis=1, keepdims=True) < L.lo) | (np.fmax.reduce(F, axis=1, keepdims=True) > L.hi)
    suspect = suspect.ravel()
    if not L.integral.all() or any(col.bad is not None for col in cols):
        suspect |= ~L.integral
        suspect |= np.array([cols[k].bad is not None and bool(cols[k].bad[a:b].any()) for k in L.order])
    # ... then blanks become 0 (forward) or lo + hi (reverse: its keyed value c - x is then 0), which are
    # whole numbers, so one trunc-and-compare over the buffer checks that every answer is a whole number
    np.copyto(F, L.fill, where=N)
    if whole_rows.all():
        np.trunc(F, out=G)
        whole_ok = not np.not_equal(G, F, out=B).any()
    elif whole_rows.any():
        whole_ok = bool(np.array_equal(np.trunc(F[whole_rows]), F[whole_rows]))
    else:
        whole_ok = True
    found: list[tuple[int, int, list[int]]] = []
    if suspect.any() or not whole_ok:
        np.copyto(F, np.nan, where=N)
        bad = _bad_cells(plan, cols, F, N, a, b)
        for k, col in enumerate(cols):
            if col.bad is not None:
                bad[L.row_of[k]] |= col.bad[a:b]
        per_row = bad.sum(axis=1)
        for r in np.flatnonzero(per_row):
            rows_ = np.flatnonzero(bad[r])[:MAX_ROWS_REPORTED] + a
            found.append((int(L.order[r]), int(per_row[r]), rows_.tolist()))
        if plan.on_invalid == "missing":
            N |= bad
            out.n_invalid[a:b] = bad.sum(axis=0)
        np.copyto(F, L.fill, where=N)

    if out.items is not None:
        out.items[L.order, a:b] = np.where(N, np.nan, F)
    # critical items and count scores look at raw (unkeyed) answers; blanks never fire
    for j, crit in enumerate(cs.critical):
        r = L.row_of[crit.item]
        fired = OPS[crit.op](F[r], crit.value).astype(np.int8)
        fired[N[r]] = -1
        out.critical[j, a:b] = fired
        if out.critical_flags is not None:
            n_crit = len(cs.critical)
            np.equal(fired, 1, out=out.critical_flags[j, a:b])
            np.copyto(out.critical_flags[n_crit + j, a:b], N[r])
            if j == 0:
                np.copyto(out.critical_flags[2 * n_crit, a:b], out.critical_flags[j, a:b])
            else:
                out.critical_flags[2 * n_crit, a:b] |= out.critical_flags[j, a:b]
    for i, s in enumerate(cs.scores):
        if s.count_items is not None:
            acc = counts[i] = w.get(f"count{i}", 1, m)[0]
            compare = OPS[s.count_op or ">="]
            if m <= SMALL_CHUNK:
                # a few rows (one student): one gather of the items instead of a dozen calls per item; the
                # running sum (cumsum) adds in item order, as the loop below does, so the bits are the same
                item_rows = L.row_of[s.count_items]
                X = F[item_rows]
                meets = compare(X, s.count_value) & ~N[item_rows]
                if s.method is ScoreMethod.COUNT:
                    np.copyto(acc, meets.sum(axis=0))
                else:
                    np.add(np.cumsum(np.where(meets, X, 0.0), axis=0)[-1], 0.0, out=acc)
                continue
            # one item row at a time (a gather F[rows] of all the items copies and compares the buffer twice)
            acc.fill(0.0)
            for k in s.count_items:
                r = L.row_of[k]
                meets = compare(F[r], s.count_value)
                meets &= ~N[r]
                if s.method is ScoreMethod.COUNT:
                    acc += meets
                else:  # sum_if: the raw values of the items that meet the condition
                    acc += np.where(meets, F[r], 0.0)
    # one sum per block; reverse blocks: keyed sum = size * (lo + hi) - raw sum (blanks were filled with lo + hi)
    Nu = N.view(np.uint8)
    for b0, k, size, r0 in L.runs:
        # row sums of equal-sized neighbouring blocks in one call (np.add.reduceat along axis 0 is much slower)
        rows = slice(r0, r0 + k * size)
        F[rows].reshape(k, size, m).sum(axis=1, out=block_sum[b0:b0 + k])
        Nu[rows].reshape(k, size, m).sum(axis=1, dtype=np.int16, out=block_miss[b0:b0 + k])
    return found


class Front(NamedTuple):
    """What the front of a chunk hands on: per block, the sum of its (filled) answers and its blank count;
    per ``count``/``sum_if`` score, its value; and the bad cells found as (item, count, first rows)."""

    block_sum: npt.NDArray[np.float64]
    block_miss: npt.NDArray[np.int16]
    counts: dict[int, npt.NDArray[np.float64]]
    found: list[tuple[int, int, list[int]]]


class Bounds(NamedTuple):
    """Lower and upper bounds (score × row) of the rows of a chunk that have a blank (``rows``, chunk
    positions), or of every row of the chunk (``rows`` None)."""

    rows: npt.NDArray[np.intp] | None
    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]


def _chunk(plan: Plan, cols: list[ParsedColumn], src: list[npt.NDArray[np.float64]], a: int, b: int, out: Outputs,
           w: _Buffers, whole_rows: npt.NDArray[np.bool_], fused: FusedFront | None = None) -> list[tuple[int, int, list[int]]]:
    """Score rows a..b into ``out``; return the bad cells found as (item, count, first rows).

    ``src``: the value arrays in buffer-row order; ``whole_rows``: buffer rows whose answers still
    need the whole-number test. ``fused``: the compiled kernel (:mod:`screening.engine.fused`), which
    does every phase below in one call, with the same arithmetic; a chunk where it finds an answer that
    is not an option is redone here. The phases, in order (each a function below):

    1. :func:`_read_answers`: check every answer, count blanks, sum each block, count ``count``/``sum_if``;
       critical items.
    2. :func:`_item_totals`: each item-based score's keyed total (reverse keys, weights) and answered count.
    3. :func:`_item_bounds` (only rows with a blank): the totals the best and worst answers would give.
    4. :func:`_missing_rule`: prorating, means, and "too few answered" for item-based scores.
    5. :func:`_derived_scores`: transforms and rounding, and scores built from earlier scores.
    6. :func:`_status_and_validity`: status per row, validity checks, voided scores.
    7. :func:`_write_bounds` and :func:`_write_bands`.
    """
    cs = plan.cs
    m = b - a
    if fused is not None and fused.score(out, w, a, m, plan.keep_items, plan.bounds):
        return []  # the compiled kernel did every phase (a chunk with a bad answer is redone below)
    n_scores = len(cs.scores)
    front = _read_answers(plan, cols, src, a, b, out, w, whole_rows)
    out.n_missing[a:b] = front.block_miss.sum(axis=0, dtype=np.int16)
    vals = out.scores[:, a:b]  # written in place: each row is a contiguous run of the output
    # bounds are computed only for the rows that have a blank (usually a few percent), in small arrays;
    # every other row's bounds are its values
    bounds = None
    if plan.bounds:
        rows = np.flatnonzero(out.n_missing[a:b])
        if plan.bounds != "sparse" and len(rows) * 4 > m:
            # most rows have a blank (a long scale: 1% blank cells leave 60% of SCL-90 rows with one):
            # every row's bounds, computed in place, cost less than gathering and scattering those rows
            bounds = Bounds(None, w.get("lower", n_scores, m), w.get("upper", n_scores, m))
        elif len(rows):
            bounds = Bounds(rows, np.empty((n_scores, len(rows))), np.empty((n_scores, len(rows))))
    sufficient = w.get("sufficient", n_scores, m, bool)
    sufficient.fill(True)
    imputed = w.get("imputed", n_scores, m, bool)
    imputed.fill(False)
    if len(cs.item_tail.index):
        v, got = _item_totals(cs, front, vals, w, m)
        if bounds is not None and bounds.rows is None:
            _item_bounds(cs, v, got, front.block_miss, bounds.lower, bounds.upper)
        elif bounds is not None:
            _item_bounds(cs, v[:, bounds.rows], got[:, bounds.rows], front.block_miss[:, bounds.rows],
                         bounds.lower, bounds.upper)
        _missing_rule(cs, v, got, vals, sufficient, imputed)
    _derived_scores(cs, vals, bounds, sufficient, imputed)
    void_rows, keep = _status_and_validity(cs, vals, sufficient, imputed, out, a, b)
    if plan.bounds:
        _write_bounds(plan, out, vals, bounds, void_rows, keep, a, b)
    _write_bands(plan, vals, out, a, b)
    return front.found


def _read_answers(plan: Plan, cols: list[ParsedColumn], src: list[npt.NDArray[np.float64]], a: int, b: int,
                  out: Outputs, w: _Buffers, whole_rows: npt.NDArray[np.bool_]) -> Front:
    """Phase 1: check the answers of rows a..b, sum blocks, count blanks and ``count``/``sum_if`` scores.

    The numpy front; it also finds and reports the bad cells. Critical items are written here, from
    the raw answers.
    """
    cs = plan.cs
    L = cs.layout
    m = b - a
    n_blocks = len(L.starts)
    block_sum = w.get("block_sum", n_blocks, m)
    block_miss = w.get("block_miss", n_blocks, m, np.int16)
    counts: dict[int, npt.NDArray[np.float64]] = {}
    found = _front(plan, cols, src, a, b, out, w, whole_rows, block_sum, block_miss, counts)
    return Front(block_sum, block_miss, counts, found)


def _item_totals(cs: CompiledScale, front: Front, vals: npt.NDArray[np.float64], w: _Buffers,
                 m: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Phase 2: every item-based score's keyed total over its answered items, and how many it has answered.

    Totals are short sums of block sums: a reverse block enters as ``size * (lo + hi) - raw sum`` (its
    blanks were filled with ``lo + hi``), i.e. with weight -1 and a per-score constant. ``count`` and
    ``sum_if`` scores take the counts of phase 1. Returns (totals, answered), one row per item-based
    score; the totals are written into the output rows when those scores come first.
    """
    L = cs.layout
    T = cs.item_tail
    n_blocks = len(L.starts)
    block_got = w.get("block_got", n_blocks, m)
    np.subtract(L.sizes[:, None], front.block_miss, out=block_got)
    got = w.get("got", len(T.index), m)
    v = vals[:len(T.index)] if T.leading else w.get("v", len(T.index), m)
    block_sum = front.block_sum
    for row, i in enumerate(T.index):
        s = cs.scores[i]
        terms = L.terms[s.column]
        g = got[row]
        np.copyto(g, block_got[terms[0].block])
        for term in terms[1:]:
            g += block_got[term.block]
        t = v[row]
        if s.method.counts:
            np.copyto(t, front.counts[i])
            continue
        (blk, wt), *rest = L.signed[s.column]
        if wt == 1.0:
            np.copyto(t, block_sum[blk])
        else:
            np.multiply(block_sum[blk], wt, out=t)
        for blk, wt in rest:
            if wt == 1.0:
                t += block_sum[blk]
            elif wt == -1.0:
                t -= block_sum[blk]
            else:
                t += block_sum[blk] * wt
        if L.const[s.column]:
            t += L.const[s.column]
    return v, got


def _missing_rule(cs: CompiledScale, v: npt.NDArray[np.float64], got: npt.NDArray[np.float64],
                  vals: npt.NDArray[np.float64], sufficient: npt.NDArray[np.bool_], imputed: npt.NDArray[np.bool_]) -> None:
    """Phase 4: the missing-data arithmetic of docs/scale-format.md, for all item-based scores at once.

    ``value = total * mul / den`` (``den``: the number answered, or a constant), NaN where fewer than
    ``min_answered`` items are answered; a score with blanks that is still scored is imputed (prorated).
    """
    T = cs.item_tail
    with np.errstate(divide="ignore", invalid="ignore"):
        if T.any_mul:
            v *= T.mul[:, None]
        if T.all_use_got:
            v /= got
        else:
            v /= np.where(T.use_got[:, None], got, T.den_const[:, None])
    suff = got >= T.min_answered[:, None]
    np.copyto(v, np.nan, where=~suff)
    if not T.leading:
        vals[T.index] = v
    sufficient[T.index] = suff
    imputed[T.index] = suff & (got < T.n[:, None])


def _derived_scores(cs: CompiledScale, vals: npt.NDArray[np.float64], bounds: Bounds | None,
                    sufficient: npt.NDArray[np.bool_], imputed: npt.NDArray[np.bool_]) -> None:
    """Phase 5: transforms and rounding of item-based scores; scores of earlier scores (sum, mean, ratio).

    Bounds follow the same arithmetic (a negative multiplier swaps them).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, s in enumerate(cs.scores):
            if s.kind is ScoreKind.ITEMS:
                if s.transformed or s.rounding is not Rounding.NONE:
                    v_i = vals[i] * s.multiply + s.add if s.transformed else vals[i]
                    vals[i] = _round(v_i, s.rounding, s.digits)
                    if bounds is not None:
                        b_lo = _round(bounds.lower[i] * s.multiply + s.add, s.rounding, s.digits)
                        b_hi = _round(bounds.upper[i] * s.multiply + s.add, s.rounding, s.digits)
                        np.fmin(b_lo, b_hi, out=bounds.lower[i])
                        np.fmax(b_lo, b_hi, out=bounds.upper[i])
                continue
            if bounds is not None:
                _parts_bounds(s, bounds.lower, bounds.upper, i)
            n = float(s.n_parts)
            parts = vals[list(s.parts)]
            ok = ~np.isnan(parts)
            got_i = ok.sum(axis=0).astype(np.float64)
            total_i = np.where(ok, parts, 0.0).sum(axis=0)
            if s.method is ScoreMethod.RATIO:
                den = parts[1]
                v_i = np.where(den != 0, parts[0] / np.where(den != 0, den, 1.0), np.nan)
            elif s.method is ScoreMethod.MEAN:
                v_i = total_i / (n if s.impute is MissingRule.ZERO else got_i)
            elif s.impute is MissingRule.PRORATE:
                v_i = total_i * n / got_i
            else:
                v_i = total_i
            suff_i = got_i >= s.min_answered
            if s.impute is MissingRule.NONE:
                suff_i &= got_i == n
            v_i[~suff_i] = np.nan
            if s.transformed:
                v_i = v_i * s.multiply + s.add
            vals[i] = _round(v_i, s.rounding, s.digits)
            sufficient[i] = suff_i
            imputed[i] = suff_i & (got_i < n)


def _status_and_validity(cs: CompiledScale, vals: npt.NDArray[np.float64], sufficient: npt.NDArray[np.bool_],
                         imputed: npt.NDArray[np.bool_], out: Outputs, a: int,
                         b: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Phase 6: each row's status (:class:`Status`), the validity checks, and voided scores.

    A validity check that fires makes the status invalid; one that voids the scale leaves only the
    validity scores (the manual says such a questionnaire is not scored at all). Returns the voided
    rows and the scores kept on them.
    """
    m = b - a
    status = cast("npt.NDArray[np.int8]", imputed.any(axis=0).astype(np.int8))  # COMPLETE or PRORATED
    status[~sufficient.all(axis=0)] = Status.INSUFFICIENT
    void_rows = np.zeros(m, dtype=bool)
    keep = np.zeros(len(cs.scores), dtype=bool)
    if cs.validity:
        invalid = np.zeros(m, dtype=bool)
        for j, check in enumerate(cs.validity):
            v = vals[check.score]
            unknown = np.isnan(v)
            with np.errstate(invalid="ignore"):
                fired = OPS[check.op](v, check.value)
            fired &= ~unknown  # an unscored check never fires (NaN != x is True in numpy)
            invalid |= fired
            if check.void:
                void_rows |= fired
                keep[check.score] = True
            f8 = fired.astype(np.int8)
            f8[unknown] = -1
            out.validity[j, a:b] = f8
        status[invalid] = Status.INVALID
        if void_rows.any():
            vals[np.ix_(~keep, void_rows)] = np.nan
    out.status[a:b] = status
    return void_rows, keep


def _write_bounds(plan: Plan, out: Outputs, vals: npt.NDArray[np.float64], bounds: Bounds | None,
                  void_rows: npt.NDArray[np.bool_], keep: npt.NDArray[np.bool_], a: int, b: int) -> None:
    """Phase 7a: the bounds of the chunk's rows: sparse (rows with a blank only) or dense (every row).

    A scored value stays inside its bounds (a prorated score is one of the possible completions' mean):
    ``fmin``/``fmax`` with the value, where a NaN value (not scored) keeps the bound. Voided rows have none.
    """
    if plan.bounds == "sparse":
        if bounds is None or bounds.rows is None or out.sparse is None:
            return
        vb = vals[:, bounds.rows]
        bl, bh = np.fmin(bounds.lower, vb), np.fmax(bounds.upper, vb)
        if void_rows.any():
            void_b = void_rows[bounds.rows]
            bl[np.ix_(~keep, void_b)] = np.nan
            bh[np.ix_(~keep, void_b)] = np.nan
        out.sparse.append((bounds.rows + a, bl, bh))  # list.append is atomic: safe from the worker threads
        return
    if out.lower is None or out.upper is None:
        return
    lo_, hi_ = out.lower[:, a:b], out.upper[:, a:b]
    if bounds is not None and bounds.rows is None:
        np.fmin(bounds.lower, vals, out=lo_)
        np.fmax(bounds.upper, vals, out=hi_)
        complete = out.n_missing[a:b] == 0  # their bounds are their values, bit for bit
        np.copyto(lo_, vals, where=complete)
        np.copyto(hi_, vals, where=complete)
        if void_rows.any():
            lo_[np.ix_(~keep, void_rows)] = np.nan
            hi_[np.ix_(~keep, void_rows)] = np.nan
        return
    np.copyto(lo_, vals)
    np.copyto(hi_, vals)
    if bounds is not None and bounds.rows is not None:
        cols = bounds.rows
        vb = vals[:, cols]
        lo_[:, cols] = np.fmin(bounds.lower, vb)
        hi_[:, cols] = np.fmax(bounds.upper, vb)
        if void_rows.any():
            void_b = void_rows[cols]
            lo_[np.ix_(~keep, cols[void_b])] = np.nan
            hi_[np.ix_(~keep, cols[void_b])] = np.nan


def _write_bands(plan: Plan, vals: npt.NDArray[np.float64], out: Outputs, a: int, b: int) -> None:
    """Phase 7b: the band of each banded score, from the chosen band set."""
    cs = plan.cs
    for j, (score_id, set_name) in enumerate(plan.band_sets.items()):
        out.bands[j, a:b] = cs.bands[score_id][set_name].codes(vals[cs.score_index(score_id)])


def _item_bounds(cs: CompiledScale, v: npt.NDArray[np.float64], got: npt.NDArray[np.float64],
                 block_miss: npt.NDArray[np.int16], lower: npt.NDArray[np.float64], upper: npt.NDArray[np.float64]) -> None:
    """Bounds of every item-based score over the possible answers to its blank items (before transforms).

    ``v`` holds the keyed sums of the answered items (counts for count scores). The complete-data score
    adds, per blank item, a keyed value between the block's lowest and highest option; a mean divides by
    all its items. Only blocks that hold a blank add anything, and only in chunks that have one.
    """
    L = cs.layout
    T = cs.item_tail
    miss = block_miss.astype(np.float64)
    if v.shape[1] <= SMALL_CHUNK:
        # a few rows: all scores at once, block by block (adding the zeros of blocks outside a score and
        # multiplying in the same order as below, so the bits are the same)
        add_lo = np.zeros_like(v)
        add_hi = np.zeros_like(v)
        for blk in range(miss.shape[0]):
            add_lo += T.blank_lo[:, blk, None] * miss[blk]
            add_hi += T.blank_hi[:, blk, None] * miss[blk]
        lo_t, hi_t = v + add_lo, v + add_hi
        mean = np.array([cs.scores[i].method is ScoreMethod.MEAN for i in T.index])
        lo_t[mean] /= T.n[mean, None]
        hi_t[mean] /= T.n[mean, None]
        lower[T.index] = lo_t
        upper[T.index] = hi_t
        return
    for row, i in enumerate(T.index):
        s = cs.scores[i]
        t = v[row]
        if s.method is ScoreMethod.COUNT:
            np.copyto(lower[i], t)
            np.add(t, T.n[row] - got[row], out=upper[i])  # each blank could meet the condition
            continue
        add_lo = np.zeros_like(t)
        add_hi = np.zeros_like(t)
        for blk, wt in L.terms[s.column]:
            if s.method is ScoreMethod.SUM_IF:
                add_hi += miss[blk] * max(L.block_hi[blk], 0.0)
                continue
            a_, b_ = wt * L.block_lo[blk], wt * L.block_hi[blk]
            add_lo += miss[blk] * min(a_, b_)
            add_hi += miss[blk] * max(a_, b_)
        np.add(t, add_lo, out=lower[i])
        np.add(t, add_hi, out=upper[i])
        if s.method is ScoreMethod.MEAN:
            lower[i] /= T.n[row]
            upper[i] /= T.n[row]


def _parts_bounds(s: CompiledScore, lower: npt.NDArray[np.float64], upper: npt.NDArray[np.float64], i: int) -> None:
    """Bounds of a score built from earlier scores, from theirs (complete-data arithmetic)."""
    lo_p, hi_p = lower[list(s.parts)], upper[list(s.parts)]
    if s.method is ScoreMethod.RATIO:
        den_pos = lo_p[1] > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            lo_i = np.where(den_pos, np.minimum(lo_p[0] / hi_p[1], lo_p[0] / lo_p[1]), np.nan)
            hi_i = np.where(den_pos, np.maximum(hi_p[0] / lo_p[1], hi_p[0] / hi_p[1]), np.nan)
    else:
        lo_i, hi_i = lo_p.sum(axis=0), hi_p.sum(axis=0)
        if s.method is ScoreMethod.MEAN:
            lo_i, hi_i = lo_i / s.n_parts, hi_i / s.n_parts
    if s.transformed:
        lo_i, hi_i = lo_i * s.multiply + s.add, hi_i * s.multiply + s.add
        if s.multiply < 0:
            lo_i, hi_i = hi_i, lo_i
    lower[i] = _round(lo_i, s.rounding, s.digits)
    upper[i] = _round(hi_i, s.rounding, s.digits)


def run_kernel(
    plan: Plan, cols: list[ParsedColumn], n_rows: int, *, chunk_size: int, n_jobs: int, default_chunk: bool = False
) -> Outputs:
    """Score all rows, chunk by chunk; with ``n_jobs > 1`` each thread takes a contiguous run of chunks.

    ``default_chunk``: ``chunk_size`` is the default (not the caller's), so the compiled kernel may take
    chunks of at least :data:`~screening.engine.fused.FUSED_CHUNK` rows (its scratch per chunk is small;
    longer runs of each column read faster).
    """
    cs = plan.cs
    L = cs.layout
    src = [cols[k].values for k in L.order]
    fused = get_front(cs, cols, src, n_rows, plan.band_sets)
    if fused is not None and default_chunk:
        chunk_size = max(chunk_size, FUSED_CHUNK)
    out = Outputs(
        scores=np.empty((len(cs.scores), n_rows)),
        bands=np.empty((len(plan.band_sets), n_rows), dtype=np.int8),
        status=np.empty(n_rows, dtype=np.int8),
        n_missing=np.empty(n_rows, dtype=np.int16),
        n_invalid=np.zeros(n_rows, dtype=np.int16),
        critical=np.empty((len(cs.critical), n_rows), dtype=np.int8),
        validity=np.empty((len(cs.validity), n_rows), dtype=np.int8),
        items=np.empty((cs.n_items, n_rows)) if plan.keep_items else None,
        bad_count=np.zeros(cs.n_items, dtype=np.int64),
        bad_rows=[[] for _ in range(cs.n_items)],
        lower=np.empty((len(cs.scores), n_rows)) if plan.bounds and plan.bounds != "sparse" else None,
        upper=np.empty((len(cs.scores), n_rows)) if plan.bounds and plan.bounds != "sparse" else None,
        sparse=[] if plan.bounds == "sparse" else None,
    )
    bounds = [(a, min(a + chunk_size, n_rows)) for a in range(0, n_rows, chunk_size)]
    size = min(chunk_size, max(n_rows, 1))
    whole_rows = np.array([bool(L.integral[r]) and not (cols[k].checked or cols[k].whole) for r, k in enumerate(L.order)],
                          dtype=bool)
    if fused is not None and len(cs.critical):
        out.critical_flags = np.empty((2 * len(cs.critical) + 1, n_rows), dtype=bool)

    def run(part: list[tuple[int, int]]) -> list[list[tuple[int, int, list[int]]]]:
        w = _Buffers(size)
        # huge out-of-range cells (1e307) may overflow sums; they are reported as invalid, never scored
        with np.errstate(over="ignore"):
            return [_chunk(plan, cols, src, a, b, out, w, whole_rows, fused) for a, b in part]

    if n_jobs > 1 and len(bounds) > 1:
        k = min(n_jobs, len(bounds))
        parts = [bounds[i * len(bounds) // k:(i + 1) * len(bounds) // k] for i in range(k)]
        with ThreadPoolExecutor(max_workers=k) as pool:
            found = [f for chunk_found in pool.map(run, parts) for f in chunk_found]
    else:
        found = run(bounds)
    # merged in chunk order, so the report is the same however the chunks ran
    for chunk_found in found:
        for k, count, rows in chunk_found:
            out.bad_count[k] += count
            kept = out.bad_rows[k]
            kept.extend(rows[: MAX_ROWS_REPORTED - len(kept)])
    return out


def bad_value_issues(plan: Plan, out: Outputs, input_columns: list[str], response_format: str) -> list[Issue]:
    """One issue per column holding values that are not options of the item."""
    cs = plan.cs
    issues = []
    for k in np.flatnonzero(out.bad_count):
        lo = cs.lo[k]
        if response_format == "index":
            expect = f"option positions 1..{len(cs.option_values[k])}"
        elif response_format == "label":
            expect = "one of the option labels in the scale file"
        else:
            expect = f"option values {_fmt_values(cs.allowed[k])}"
        hint = ""
        if response_format == "value" and lo == 0:
            hint = "if the export numbers options from 1 (问卷星 按选项序号), pass response_format='index'"
        issues.append(
            Issue(
                "out_of_range",
                f"{int(out.bad_count[k])} response(s) to item {cs.item_ids[k]!r} of {cs.id} are not {expect}",
                column=input_columns[k],
                rows=tuple(out.bad_rows[k]),
                count=int(out.bad_count[k]),
                hint=hint,
            )
        )
    return issues


def _fmt_values(vals: npt.NDArray[np.float64]) -> str:
    txt = [f"{v:g}" for v in vals]
    return "{" + ", ".join(txt) + "}"


def to_frame(plan: Plan, out: Outputs, index: pd.Index, extra: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Assemble the output arrays into the documented columns, in schema order."""
    return pd.DataFrame(output_columns(plan, out, len(index), extra), index=index, copy=False)


def output_columns(plan: Plan, out: Outputs, n_rows: int, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The documented output columns of one scale, in schema order, as name → array (no frame built yet)."""
    cs = plan.cs
    data: dict[str, Any] = {}
    band_pos = {sid: j for j, sid in enumerate(plan.band_sets)}
    for i, s in enumerate(cs.scores):
        data[C.score_col(cs.id, s.id)] = out.scores[i]
        if s.id in band_pos:
            bset = cs.bands[s.id][plan.band_sets[s.id]]
            data[C.band_col(cs.id, s.id)] = from_codes(out.bands[band_pos[s.id]], bset.ids, ordered=True)
        if out.lower is not None and out.upper is not None:
            data[C.lower_col(cs.id, s.id)] = out.lower[i]
            data[C.upper_col(cs.id, s.id)] = out.upper[i]
        if extra is not None:
            for name in (C.t_col(cs.id, s.id), C.pct_col(cs.id, s.id)):
                if name in extra:
                    data[name] = extra[name]
    data[C.status_col(cs.id)] = from_codes(out.status, C.STATUS_VALUES, ordered=True)
    data[C.n_missing_col(cs.id)] = out.n_missing
    data[C.n_invalid_col(cs.id)] = out.n_invalid
    n_crit = len(cs.critical)
    flags = out.critical_flags
    if flags is not None:
        data[C.critical_col(cs.id)] = flags[2 * n_crit]
    else:
        data[C.critical_col(cs.id)] = (out.critical == 1).any(axis=0) if n_crit else np.zeros(n_rows, dtype=bool)
    for j, crit in enumerate(cs.critical):
        data[C.critical_col(cs.id, crit.id)] = (pd.arrays.BooleanArray(flags[j], flags[n_crit + j]) if flags is not None
                                                else pd.arrays.BooleanArray(out.critical[j] == 1, out.critical[j] == -1))
    for j, check in enumerate(cs.validity):
        data[C.validity_col(cs.id, check.id)] = pd.arrays.BooleanArray(out.validity[j] == 1, out.validity[j] == -1)
    if out.items is not None:
        for k, iid in enumerate(cs.item_ids):
            data[C.item_col(cs.id, iid)] = out.items[k]
    return data
