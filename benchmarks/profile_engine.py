"""Where the engine's time goes: stage timings of ``score()`` and step timings inside ``_chunk``.

Run from the repository root::

    /work/venv/bin/python benchmarks/profile_engine.py                    # case (b), 1,000,000 rows
    /work/venv/bin/python benchmarks/profile_engine.py --case a --rows 200000
    /work/venv/bin/python benchmarks/profile_engine.py --blas-threads 1   # OPENBLAS_NUM_THREADS=1
    /work/venv/bin/python benchmarks/profile_engine.py --cprofile         # also a cProfile listing

Nothing under ``screening/`` is edited. ``_chunk`` is timed through an
instrumented copy (below) that is swapped into ``screening.engine.score`` for
the run; the copy is only used while ``_chunk``'s source still hashes to the
version it was copied from, so a changed engine is never profiled through a
stale copy. The stages of ``score()`` are timed by wrapping the functions
``screening.scoring`` calls.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", choices=["a", "b"], default="b")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5, help="runs; the run with the least total time is reported")
    p.add_argument("--chunk-size", type=int, default=None, help="default: the engine's default")
    p.add_argument("--blas-threads", type=int, default=None, help="set OPENBLAS_NUM_THREADS/OMP_NUM_THREADS")
    p.add_argument("--cprofile", action="store_true", help="print a cProfile listing of one score() call")
    p.add_argument("--force", action="store_true", help="profile even when _chunk changed since the copy below")
    p.add_argument("--prototype", action="store_true",
                   help="also time each statement of the prototype kernel (benchmarks/prototypes/fast_kernel.py)")
    return p.parse_args()


ARGS = _args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.blas_threads is not None:
    # must be set before numpy loads OpenBLAS
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(ARGS.blas_threads)

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "prototypes"))

import ast  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import hashlib  # noqa: E402
import inspect  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from typing import Any  # noqa: E402

import baselines as B  # noqa: E402
import fast_kernel  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import screening as sc  # noqa: E402
import screening.engine.score as engine_score  # noqa: E402
import screening.scoring as scoring  # noqa: E402
from screening.engine.score import MAX_ROWS_REPORTED, OPS, _round  # noqa: E402

#: sha256 (first 16 hex) of ``inspect.getsource(screening.engine.score._chunk)`` the copy below was made from
COPIED_FROM = "e7e8caf03f45297a"

STEPS: dict[str, float] = defaultdict(float)
_clock = time.perf_counter


def _chunk_timed(plan, cols, a, b, out):  # type: ignore[no-untyped-def]
    """``screening.engine.score._chunk`` with a clock read between steps (same statements, same order)."""
    t0 = _clock()
    cs = plan.cs
    m = b - a
    X = np.empty((m, cs.n_items))
    for k, col in enumerate(cols):
        X[:, k] = col.values[a:b]
    t1 = _clock()
    STEPS["01 copy columns into chunk matrix"] += t1 - t0

    N = np.isnan(X)
    t2 = _clock()
    STEPS["02 isnan"] += t2 - t1
    bad = (cs.lo > X) | (cs.hi < X)
    t3 = _clock()
    STEPS["03 range check (< lo | > hi)"] += t3 - t2
    frac = np.floor(X)
    np.not_equal(frac, X, out=frac)
    cont = cs.contiguous
    if cont.all():
        bad |= (frac != 0) & ~N
    else:
        bad[:, cont] |= (frac[:, cont] != 0) & ~N[:, cont]
        for k in np.flatnonzero(~cont):
            if not cols[k].checked:
                bad[:, k] = ~np.isin(X[:, k], cs.allowed[k]) & ~N[:, k]
    t4 = _clock()
    STEPS["04 integer check (floor, !=, & ~N)"] += t4 - t3
    for k, col in enumerate(cols):
        if col.bad is not None:
            bad[:, k] |= col.bad[a:b]
    found: list[tuple[int, int, list[int]]] = []
    if bad.any():
        per_col = bad.sum(axis=0)
        for k in np.flatnonzero(per_col):
            rows = np.flatnonzero(bad[:, k])[:MAX_ROWS_REPORTED] + a
            found.append((int(k), int(per_col[k]), rows.tolist()))
        if plan.on_invalid == "missing":
            X[bad] = np.nan
            N |= bad
            out.n_invalid[a:b] = bad.sum(axis=1)
    t5 = _clock()
    STEPS["05 parse-bad merge + bad.any()"] += t5 - t4

    if out.items is not None:
        out.items[:, a:b] = X.T

    for j, (_, k, op, value) in enumerate(cs.critical):
        v = X[:, k]
        fired = OPS[op](v, value).astype(np.int8)
        fired[N[:, k]] = -1
        out.critical[j, a:b] = fired
    counts: dict[int, Any] = {}
    for i, s in enumerate(cs.scores):
        if s.method == "count" and s.count_items is not None:
            sub = X[:, s.count_items]
            counts[i] = (OPS[s.count_op or ">="](sub, s.count_value) & ~N[:, s.count_items]).sum(axis=1, dtype=np.float64)
    t6 = _clock()
    STEPS["06 keep_items, critical items, count scores"] += t6 - t5

    K = X
    np.multiply(K, cs.sign, out=K)
    K += cs.offset
    t7 = _clock()
    STEPS["07 keying: K = X*sign + offset"] += t7 - t6
    K[N] = 0.0
    t8 = _clock()
    STEPS["08 keying: K[N] = 0 (boolean-mask assignment)"] += t8 - t7
    answered = (~N).astype(np.float64)
    t9 = _clock()
    STEPS["09 answered = (~N).astype(float64)"] += t9 - t8
    sums = K @ cs.weights
    t10 = _clock()
    STEPS["10 matmul sums = K @ weights"] += t10 - t9
    cnt = answered @ cs.members
    t11 = _clock()
    STEPS["11 matmul counts = answered @ members"] += t11 - t10
    out.n_missing[a:b] = cs.n_items - cnt[:, -1].astype(np.int16)
    t12 = _clock()
    STEPS["12 n_missing"] += t12 - t11

    n_scores = len(cs.scores)
    vals = np.empty((m, n_scores))
    sufficient = np.ones((m, n_scores), dtype=bool)
    imputed = np.zeros((m, n_scores), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, s in enumerate(cs.scores):
            if s.kind == "items":
                got = cnt[:, s.column]
                total = counts[i] if s.method == "count" else sums[:, s.column]
                n = float(s.n_parts)
            else:
                parts = vals[:, list(s.parts)]
                ok = ~np.isnan(parts)
                got = ok.sum(axis=1).astype(np.float64)
                total = np.where(ok, parts, 0.0).sum(axis=1)
                n = float(s.n_parts)
            if s.method == "mean":
                v = total / (n if s.impute == "zero" else got)
            elif s.impute == "prorate":
                v = total * n / got
            else:
                v = total.copy()
            suff = got >= s.min_answered
            if s.impute == "none":
                suff &= got == n
            v[~suff] = np.nan
            if s.multiply != 1.0 or s.add != 0.0:
                v = v * s.multiply + s.add
            v = _round(v, s.rounding, s.digits)
            vals[:, i] = v
            sufficient[:, i] = suff
            imputed[:, i] = suff & (got < n)
    t13 = _clock()
    STEPS["13 per-score loop (divide, mask, transform, round)"] += t13 - t12

    status = np.where(imputed.any(axis=1), 1, 0).astype(np.int8)
    status[~sufficient.all(axis=1)] = 2
    invalid = np.zeros(m, dtype=bool)
    void_rows = np.zeros(m, dtype=bool)
    keep_cols = np.zeros(n_scores, dtype=bool)
    for j, (_, si, op, value) in enumerate(cs.validity):
        v = vals[:, si]
        fired = OPS[op](v, value)
        invalid |= fired
        if cs.void[j]:
            void_rows |= fired
            keep_cols[si] = True
        f8 = fired.astype(np.int8)
        f8[np.isnan(v)] = -1
        out.validity[j, a:b] = f8
    status[invalid] = 3
    out.status[a:b] = status
    if void_rows.any():
        vals[np.ix_(void_rows, ~keep_cols)] = np.nan
    t14 = _clock()
    STEPS["14 status + validity (+ void)"] += t14 - t13

    out.scores[:, a:b] = vals.T
    t15 = _clock()
    STEPS["15 write scores (transpose into out)"] += t15 - t14
    for j, score_id in enumerate(plan.band_sets):
        bset = cs.bands[score_id][plan.band_sets[score_id]]
        out.bands[j, a:b] = bset.codes(vals[:, cs.score_index(score_id)])
    t16 = _clock()
    STEPS["16 bands"] += t16 - t15
    return found


def _source_hash() -> str:
    return hashlib.sha256(inspect.getsource(engine_score._chunk).encode()).hexdigest()[:16]


STAGES: dict[str, float] = defaultdict(float)


def _timed(name: str, fn: Any) -> Any:
    def wrapper(*a: Any, **k: Any) -> Any:
        t = _clock()
        try:
            return fn(*a, **k)
        finally:
            STAGES[name] += _clock() - t

    return wrapper


def statement_timer(module: Any, name: str, clock: Any, totals: dict[str, float]) -> Any:
    """A copy of ``module.name`` that adds the time of each top-level statement of its body to ``totals``.

    Built from the function's current source, so it cannot go stale; loops
    count as one statement (their whole time).
    """
    src = inspect.getsource(getattr(module, name))
    tree = ast.parse(src)
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef):
        raise TypeError(f"{name} is not a plain function")
    body: list[ast.stmt] = [ast.parse("_t = _clock()").body[0]]
    first = fn.body[0].lineno
    for stmt in fn.body:
        body.append(stmt)
        if isinstance(stmt, ast.Expr) and isinstance(getattr(stmt, "value", None), ast.Constant):
            continue  # the docstring
        label = f"L{stmt.lineno - first + 1:03d} " + ast.unparse(stmt).splitlines()[0][:70]
        body.extend(ast.parse(f"_t2 = _clock(); _totals[{label!r}] += _t2 - _t; _t = _t2").body)
    fn.body = body
    ns = dict(vars(module))
    ns["_clock"] = clock
    ns["_totals"] = totals
    code = compile(ast.fix_missing_locations(tree), f"<timed {name}>", "exec")
    exec(code, ns)
    return ns[name]


def profile_prototype(df: Any, scale: Any, repeat: int, chunk_size: int) -> None:
    """Per-statement times of the prototype's chunk function (thread CPU time, summed over chunks)."""
    totals: dict[str, float] = defaultdict(float)
    timed = statement_timer(fast_kernel, "_score_chunk", time.thread_time, totals)
    original = fast_kernel._score_chunk
    best: tuple[float, dict[str, float], float] | None = None
    fast_kernel._score_chunk = timed
    try:
        for _ in range(repeat):
            totals.clear()
            gc.collect()
            t = _clock()
            fast_kernel.score_fast(df, scale, chunk_size=chunk_size)
            wall = _clock() - t
            if best is None or wall < best[0]:
                best = (wall, dict(totals), sum(totals.values()))
    finally:
        fast_kernel._score_chunk = original
    assert best is not None
    wall, steps, inside = best
    print(f"\nprototype kernel, chunk_size {chunk_size}: {wall:.3f} s wall (instrumented), "
          f"{inside:.3f} s CPU inside _score_chunk")
    for label in sorted(steps):
        if steps[label] >= 0.002:
            print(f"  {steps[label]:7.3f}  {label}")


def main() -> int:
    args = ARGS if ARGS is not None else _args()
    h = _source_hash()
    if h != COPIED_FROM and not args.force:
        print(f"screening.engine.score._chunk changed (source hash {h}, copy made from {COPIED_FROM}); "
              "update _chunk_timed in this file, or pass --force for stage timings only", file=sys.stderr)
        return 2
    path = "phq9" if args.case == "a" else str(HERE / "bench90.yaml")
    scale = sc.load_scale(path)
    key = B.key_from_scale(scale)
    df = B.make_responses(key, args.rows)
    kw: dict[str, Any] = {} if args.chunk_size is None else {"chunk_size": args.chunk_size}
    chunk = kw.get("chunk_size", scoring.DEFAULT_CHUNK)
    print(f"case ({args.case}) {scale.id}: {args.rows:,} rows × {len(key.cols)} items, chunk_size {chunk}, "
          f"n_jobs 1, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.2f}")
    sc.score(df.iloc[:1000], scale)

    # plain timing first (no instrumentation)
    plain = []
    for _ in range(args.repeat):
        reference = None
        gc.collect()
        t = _clock()
        reference = sc.score(df, scale, **kw)
        plain.append(_clock() - t)
    print(f"uninstrumented score(): best {min(plain):.3f} s, median {sorted(plain)[len(plain) // 2]:.3f} s")

    originals = {n: getattr(scoring, n) for n in ("parse_column", "run_kernel", "bad_value_issues", "to_frame")}
    orig_chunk = engine_score._chunk
    if h == COPIED_FROM:
        engine_score._chunk = _chunk_timed
    for n, fn in originals.items():
        setattr(scoring, n, _timed(n, fn))
    runs = []
    try:
        for _ in range(args.repeat):
            STEPS.clear()
            STAGES.clear()
            got = None
            gc.collect()
            t = _clock()
            got = sc.score(df, scale, **kw)
            total = _clock() - t
            runs.append((total, dict(STAGES), dict(STEPS)))
    finally:
        engine_score._chunk = orig_chunk
        for n, fn in originals.items():
            setattr(scoring, n, fn)
    # the instrumented copy must compute exactly what the engine computes
    pd.testing.assert_frame_equal(got, reference)
    del got, reference
    total, stages, steps = min(runs, key=lambda r: r[0])
    print(f"\ninstrumented score(): {total:.3f} s (least of {args.repeat} runs)")
    print("\nstages of score()                                  seconds   share")
    stage_sum = 0.0
    for n in ("parse_column", "run_kernel", "bad_value_issues", "to_frame"):
        v = stages.get(n, 0.0)
        stage_sum += v
        print(f"  {n:<46} {v:8.3f}  {v / total:6.1%}")
    print(f"  {'rest of score() (checks, load_scale, ...)':<46} {total - stage_sum:8.3f}  {(total - stage_sum) / total:6.1%}")
    if steps:
        k_total = stages.get("run_kernel", 0.0)
        print("\nsteps inside _chunk (summed over chunks)            seconds   share of run_kernel")
        step_sum = 0.0
        for n in sorted(steps):
            step_sum += steps[n]
            print(f"  {n:<50} {steps[n]:8.3f}  {steps[n] / k_total:6.1%}")
        rest = k_total - step_sum
        print(f"  {'(chunk loop, thread pool, merge of bad cells)':<50} {rest:8.3f}  {rest / k_total:6.1%}")

    if args.prototype:
        profile_prototype(df, scale, args.repeat, args.chunk_size or 8192)

    if args.cprofile:
        prof = cProfile.Profile()
        gc.collect()
        prof.enable()
        sc.score(df, scale, **kw)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
        print("\ncProfile (tottime; numpy ufunc calls made with operators run inside _chunk's own time):")
        print(buf.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
