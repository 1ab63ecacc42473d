"""Prototype of a faster scoring kernel (benchmark material, not part of the package).

It computes what ``screening.score`` computes for scales whose scores are
plain item ``sum``/``mean`` scores over disjoint item sets (each item in at
most one score: subscales, the common case), and builds the engine's own
output frame (through ``screening.engine.score.to_frame``), so the two can be
compared cell by cell (``bench_fast.py`` does). What it changes against the
current ``_chunk``:

1. **Items-major chunk buffer** ``(n_items, m)``: item ``k`` of the chunk is
   one contiguous run, so filling it is ``buf[r] = col[a:b]`` (a plain
   contiguous copy, about the cost of reading the input once) instead of the
   strided ``X[:, k] = col[a:b]`` writes into a row-major chunk, which were
   ~20% of the kernel. (``np.take(block, rows, axis=0, out=buf)`` on the
   frame's 2-D block is no faster, and with the default ``mode='raise'`` it is
   ~15× slower because ``out`` is then buffered.)
2. **Rows ordered by score**: the forward-keyed items of score 1, of score
   2, ..., then items in no score, then the reverse-keyed items of score 1,
   score 2, ... Each score's sum is then a sum over contiguous rows, and when
   the scores have equally many forward (or reverse) items all of them are
   one ``buf.reshape(k, size, m).sum(axis=1)``. No matrix product, so no
   BLAS: OpenBLAS's own threads compete for the 2 cores here and made the
   engine's run time vary 2-3× from run to run.
3. **Validity by reductions**: ``np.fmin.reduce``/``np.fmax.reduce`` along
   each item row give its smallest and largest answer ignoring NaN;
   ``trunc`` and one ``!=`` check whole numbers (on raw values: after
   keying, ``4 - 1e-20`` would already be the whole number 4). No per-cell
   boolean mask is built unless a chunk fails, and then only to report rows:
   that path is the engine's current code and is not repeated here (the
   prototype raises).
4. **Reverse keys on the sums, not the cells**: a blank becomes 0 in a
   forward row and ``c = lo + hi`` in a reverse row (one
   ``np.copyto(buf, fill, where=N)``, 4× faster than ``np.fmax(buf, 0)`` and
   faster than ``buf[N] = 0``), so the keyed sum of a score's reverse items
   is ``n_rev * c - (sum of its reverse rows)``: no per-cell ``x * sign +
   offset`` pass.
5. **Answered counts as uint8 sums of the blank mask** per score (and
   ``n_missing`` from them plus the items in no score), instead of
   ``(~N).astype(float64) @ members``.
6. **The per-score tail vectorised across scores** (``sums / got`` for all
   scores at once, written straight into the output rows; ``got >=
   min_answered`` as one comparison with a column vector; band codes for all
   banded scores with the same number of edges at once).
7. **float64 columns are used as they are** (a view); ``parse_column``'s
   ``isinf`` pass is not needed because ``inf`` fails the range check.

Chunks are scored on ``n_jobs`` threads, each thread taking a contiguous run
of chunks with its own buffers.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from screening.engine.responses import ParsedColumn, parse_column
from screening.engine.score import OPS, Outputs, Plan, _round, to_frame
from screening.scoring import load_scale


@dataclass(frozen=True)
class FastPlan:
    cs: Any
    order: np.ndarray  # item (scale position) held by each buffer row
    row_of: np.ndarray  # buffer row of each item
    lo: np.ndarray  # (n_items,) in buffer order
    hi: np.ndarray
    fwd_sizes: tuple[int, ...]  # forward-keyed items of each score, rows [0, n_fwd) score by score
    n_fwd: int
    rev_start: int  # rows [n_fwd, rev_start): items in no score; [rev_start, end): reverse-keyed, score by score
    rev_sizes: tuple[int, ...]  # reverse-keyed items of each score in rev_scores
    rev_scores: np.ndarray  # scores that have reverse-keyed items
    rev_c: np.ndarray  # (k, 1): lo + hi of those items (one value per score)
    rev_const: np.ndarray  # (k, 1): (number of those items) * (lo + hi)
    rev_all: bool  # every score has reverse-keyed items (rev_scores is 0..n_scores-1)
    fill: np.ndarray  # (n_items, 1): what a blank becomes in each buffer row
    n: np.ndarray  # (n_scores, 1) items per score
    min_answered: np.ndarray  # (n_scores, 1); == n when impute is none
    is_mean: np.ndarray  # (n_scores,)
    impute: tuple[str, ...]
    band_groups: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]  # (out rows, score rows, edges, strict)
    tails: tuple[int, ...]  # scores needing a transform or rounding


def make_plan(scale: Any) -> FastPlan:
    cs = scale.compiled
    if any(s.kind != "items" or s.method not in ("sum", "mean") for s in cs.scores):
        raise NotImplementedError("prototype: item-based sum/mean scores only (the engine's product path covers the rest)")
    member = cs.members[:, :-1]
    if (member.sum(axis=1) > 1).any() or (cs.weights[member > 0] != 1).any():
        raise NotImplementedError("prototype: each item in at most one score")
    if not cs.contiguous.all():
        raise NotImplementedError("prototype: integer options lo..hi")
    rev = cs.sign < 0
    fwd_rows: list[int] = []
    rev_rows: list[int] = []
    fwd_sizes, rev_sizes, rev_scores, rev_c = [], [], [], []
    for i, s in enumerate(cs.scores):
        items = np.flatnonzero(member[:, s.column])
        f, r = items[~rev[items]], items[rev[items]]
        fwd_rows.extend(f)
        fwd_sizes.append(len(f))
        if len(r):
            c = cs.lo[r] + cs.hi[r]
            if (c != c[0]).any():
                raise NotImplementedError("prototype: reverse-keyed items of one score share their option range")
            rev_rows.extend(r)
            rev_sizes.append(len(r))
            rev_scores.append(i)
            rev_c.append(c[0])
    unscored = np.flatnonzero(member.sum(axis=1) == 0)
    if rev[unscored].any():
        raise NotImplementedError("prototype: reverse-keyed items outside every score")
    order_a = np.array([*fwd_rows, *unscored, *rev_rows], dtype=np.intp)
    row_of = np.empty_like(order_a)
    row_of[order_a] = np.arange(len(order_a))
    n = np.array([[s.n_parts] for s in cs.scores], dtype=float)
    min_answered = np.array([[s.n_parts if s.impute == "none" else s.min_answered] for s in cs.scores], dtype=float)
    # bands: group banded scores by number of edges so each group is scored at once
    groups: dict[int, list[tuple[int, int]]] = {}
    for j, sid in enumerate(cs.default_bands):
        i = cs.score_index(sid)
        groups.setdefault(len(cs.bands[sid][cs.default_bands[sid]].edges), []).append((j, i))
    band_groups = []
    for members in groups.values():
        js = np.array([j for j, _ in members], dtype=np.intp)
        iss = np.array([i for _, i in members], dtype=np.intp)
        sets = [cs.bands[cs.scores[i].id][cs.default_bands[cs.scores[i].id]] for i in iss]
        band_groups.append((js, iss, np.array([b.edges for b in sets]), np.array([b.strict for b in sets])))
    return FastPlan(
        cs=cs,
        order=order_a,
        row_of=row_of,
        lo=cs.lo[order_a],
        hi=cs.hi[order_a],
        fwd_sizes=tuple(fwd_sizes),
        n_fwd=len(fwd_rows),
        rev_start=len(fwd_rows) + len(unscored),
        rev_sizes=tuple(rev_sizes),
        rev_scores=np.array(rev_scores, dtype=np.intp),
        rev_c=np.array(rev_c, dtype=float)[:, None],
        rev_const=(np.array(rev_sizes, dtype=float) * np.array(rev_c, dtype=float))[:, None],
        rev_all=rev_scores == list(range(len(cs.scores))),
        fill=np.concatenate([np.zeros(len(order_a) - len(rev_rows)), (cs.lo + cs.hi)[rev_rows]])[:, None],
        n=n,
        min_answered=min_answered,
        is_mean=np.array([s.method == "mean" for s in cs.scores]),
        impute=tuple(s.impute for s in cs.scores),
        band_groups=tuple(band_groups),
        tails=tuple(i for i, s in enumerate(cs.scores) if s.multiply != 1.0 or s.add != 0.0 or s.rounding != "none"),
    )


def _group_sum(A: np.ndarray, sizes: tuple[int, ...], out: np.ndarray) -> None:
    """Sum consecutive row groups of ``A`` (sizes given) into the rows of ``out``; one call when sizes are equal."""
    if len(set(sizes)) == 1 and sizes[0] > 0:
        A.reshape(len(sizes), sizes[0], A.shape[1]).sum(axis=1, out=out)
        return
    o = 0
    for i, size in enumerate(sizes):
        A[o:o + size].sum(axis=0, out=out[i])
        o += size


class _Buffers:
    """Per-thread scratch arrays, handed out as C-contiguous ``(n_items, m)`` views.

    Never ``buf[:, :m]``: numpy 2.4.6's ``np.isnan(x, out=b)`` writes wrong
    values into a non-contiguous bool ``b`` (e.g. the short last chunk of
    one row: ``b = np.zeros(180, bool)[::2]; np.isnan(x, out=b)`` with 90
    values marks 27 of them wrongly).
    """

    def __init__(self, n_items: int, chunk: int):
        self.n_items = n_items
        self._F = np.empty(n_items * chunk)
        self._G = np.empty(n_items * chunk)
        self._N = np.empty(n_items * chunk, dtype=bool)
        self._B = np.empty(n_items * chunk, dtype=bool)

    def view(self, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        size, shape = self.n_items * m, (self.n_items, m)
        return (self._F[:size].reshape(shape), self._G[:size].reshape(shape),
                self._N[:size].reshape(shape), self._B[:size].reshape(shape))


def _score_chunk(fp: FastPlan, src: list[np.ndarray], a: int, b: int, w: _Buffers, out: Outputs) -> None:
    cs = fp.cs
    m = b - a
    F, G, N, B = w.view(m)
    for r, col in enumerate(src):
        F[r] = col[a:b]
    np.isnan(F, out=N)
    with np.errstate(invalid="ignore"):
        # NaN-ignoring extremes per item; an all-blank item gives NaN, which fails neither comparison
        bad_range = (np.fmin.reduce(F, axis=1) < fp.lo).any() or (np.fmax.reduce(F, axis=1) > fp.hi).any()
    if bad_range:
        raise ValueError("prototype: out-of-range cells; the engine's per-cell path would find and report them")
    # blanks: 0 in forward-keyed rows, lo + hi in reverse-keyed rows (where their keyed value c - x is 0)
    np.copyto(F, fp.fill, where=N)
    # whole numbers, checked on raw values (4 - 1e-20 would round to a whole number after keying)
    np.trunc(F, out=G)
    if np.not_equal(F, G, out=B).any():
        raise ValueError("prototype: non-integer cells; the engine's per-cell path would find and report them")
    n_scores = len(fp.fwd_sizes)
    sums = np.empty((n_scores, m))
    miss = np.empty((n_scores, m), dtype=np.uint8)
    Nu = N.view(np.uint8)
    _group_sum(F[:fp.n_fwd], fp.fwd_sizes, sums)
    _group_sum(Nu[:fp.n_fwd], fp.fwd_sizes, miss)
    if len(fp.rev_scores):
        # reverse keys without touching cells: blanks of reverse-keyed rows were filled with c = lo + hi,
        # so the sum of keyed values (c - x) over answered cells is n_rev * c - (sum of the filled rows)
        k = len(fp.rev_scores)
        rev_sums = np.empty((k, m))
        rev_miss = np.empty((k, m), dtype=np.uint8)
        _group_sum(F[fp.rev_start:], fp.rev_sizes, rev_sums)
        _group_sum(Nu[fp.rev_start:], fp.rev_sizes, rev_miss)
        if fp.rev_all:
            np.subtract(sums, rev_sums, out=sums)
            sums += fp.rev_const
            miss += rev_miss
        else:
            sums[fp.rev_scores] += fp.rev_const - rev_sums
            miss[fp.rev_scores] += rev_miss
    n_missing = miss.sum(axis=0, dtype=np.int16)
    if fp.rev_start > fp.n_fwd:
        n_missing += Nu[fp.n_fwd:fp.rev_start].sum(axis=0, dtype=np.int16)
    out.n_missing[a:b] = n_missing

    got = fp.n - miss  # float (n_scores, m)
    sufficient = got >= fp.min_answered
    vals = out.scores[:, a:b]
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(sums, got, out=vals)
    # sums: prorated to n items (mean of answered × n), or kept as they are when blanks count as 0
    for i, imp in enumerate(fp.impute):
        if fp.is_mean[i]:
            if imp == "zero":
                np.divide(sums[i], fp.n[i, 0], out=vals[i])
        elif imp == "prorate":
            vals[i] *= fp.n[i, 0]
        else:
            vals[i] = sums[i]
    insufficient = ~sufficient
    np.copyto(vals, np.nan, where=insufficient)
    for i in fp.tails:
        s = cs.scores[i]
        v = vals[i] * s.multiply + s.add if (s.multiply != 1.0 or s.add != 0.0) else vals[i]
        vals[i] = _round(v, s.rounding, s.digits)
    for js, iss, edges, strict in fp.band_groups:
        v = vals[iss]
        codes = np.zeros(v.shape, dtype=np.int8)
        for e in range(edges.shape[1]):
            col = edges[:, e:e + 1]
            hit = (v > col) if strict[:, e].all() else (v >= col) if not strict[:, e].any() else np.where(
                strict[:, e:e + 1], v > col, v >= col)
            codes += hit.view(np.int8)
        np.copyto(codes, -1, where=insufficient[iss])
        out.bands[js, a:b] = codes
    status = (sufficient & (got < fp.n)).any(axis=0).view(np.int8).copy()
    status[~sufficient.all(axis=0)] = 2
    out.status[a:b] = status
    for j, (_, k, op, value) in enumerate(cs.critical):
        r = fp.row_of[k]
        raw = src[r][a:b]
        fired = OPS[op](raw, value).astype(np.int8)
        fired[N[r]] = -1
        out.critical[j, a:b] = fired


def _columns(df: pd.DataFrame, cols: list[str], cs: Any) -> list[np.ndarray]:
    """float64 columns as they are (a view, no pass over the data); anything else through the engine's parser.

    ``inf`` needs no separate check: it fails the range check like any value above ``hi``.
    """
    out = []
    for k, c in enumerate(cols):
        s = df[c]
        if s.dtype == np.float64:
            out.append(s.to_numpy())
        else:
            p: ParsedColumn = parse_column(s, k, cs, "value")
            if p.bad is not None:
                raise ValueError("prototype: unreadable cells")
            out.append(p.values)
    return out


def score_fast(df: pd.DataFrame, scale: Any, *, chunk_size: int = 8192, n_jobs: int = 1) -> pd.DataFrame:
    """Score ``df`` like ``screening.score(df, scale)`` (default bands, no norms, value format)."""
    sc = load_scale(scale)
    fp = make_plan(sc)
    cs = fp.cs
    if cs.validity:
        raise NotImplementedError("prototype: no validity checks")
    values = _columns(df, sc.input_columns(), cs)
    src = [values[k] for k in fp.order]
    n = len(df)
    out = Outputs(
        scores=np.empty((len(cs.scores), n)),
        bands=np.empty((len(cs.default_bands), n), dtype=np.int8),
        status=np.empty(n, dtype=np.int8),
        n_missing=np.empty(n, dtype=np.int16),
        n_invalid=np.zeros(n, dtype=np.int16),
        critical=np.empty((len(cs.critical), n), dtype=np.int8),
        validity=np.empty((0, n), dtype=np.int8),
        items=None,
        bad_count=np.zeros(cs.n_items, dtype=np.int64),
        bad_rows=[[] for _ in range(cs.n_items)],
    )
    bounds = [(a, min(a + chunk_size, n)) for a in range(0, n, chunk_size)]

    def run(part: list[tuple[int, int]]) -> None:
        w = _Buffers(cs.n_items, chunk_size)
        for a, b in part:
            _score_chunk(fp, src, a, b, w, out)

    if n_jobs > 1 and len(bounds) > 1:
        parts = [bounds[i * len(bounds) // n_jobs:(i + 1) * len(bounds) // n_jobs] for i in range(n_jobs)]
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            list(pool.map(run, parts))
    else:
        run(bounds)
    plan = Plan(cs=cs, band_sets=dict(cs.default_bands), keep_items=False, on_invalid="raise")
    return to_frame(plan, out, df.index)
