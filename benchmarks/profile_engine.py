"""Where the engine's time goes: stage timings of ``score()`` and statement timings inside ``_chunk``.

Run from the repository root::

    /work/venv/bin/python benchmarks/profile_engine.py                    # case (b), 1,000,000 rows
    /work/venv/bin/python benchmarks/profile_engine.py --case a --rows 200000
    /work/venv/bin/python benchmarks/profile_engine.py --blas-threads 1   # OPENBLAS_NUM_THREADS=1
    /work/venv/bin/python benchmarks/profile_engine.py --prototype        # also the prototype kernel
    /work/venv/bin/python benchmarks/profile_engine.py --cprofile         # also a cProfile listing

Nothing under ``screening/`` is edited. The stages of ``score()`` are timed
by wrapping the functions ``screening.scoring.frame`` calls. The chunk function is
timed statement by statement through a copy compiled at run time from its
current source, with a clock read after each top-level statement (a loop or
an ``if`` counts as one statement, with everything inside it), swapped into
its module for the run; so the copy cannot go stale, and it is checked to
give exactly the engine's output.
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
    p.add_argument("--repeat", type=int, default=5, help="runs; the fastest is reported")
    p.add_argument("--chunk-size", type=int, default=None, help="default: the engine's default")
    p.add_argument("--blas-threads", type=int, default=None, help="set OPENBLAS_NUM_THREADS/OMP_NUM_THREADS")
    p.add_argument("--prototype", action="store_true",
                   help="also time each statement of the prototype kernel (benchmarks/prototypes/fast_kernel.py)")
    p.add_argument("--cprofile", action="store_true", help="print a cProfile listing of one score() call")
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
import inspect  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from typing import Any  # noqa: E402

import baselines as B  # noqa: E402
import fast_kernel  # noqa: E402
import pandas as pd  # noqa: E402

import screening as sc  # noqa: E402
import screening.engine.score as engine_score  # noqa: E402
import screening.scoring.frame as scoring  # noqa: E402

_clock = time.perf_counter


def statement_timer(module: Any, name: str, clock: Any, totals: dict[str, float]) -> Any:
    """A copy of ``module.name`` that adds the time of each top-level statement of its body to ``totals``.

    Built from the function's current source; loops and ``if`` blocks count as
    one statement (their whole time). Labels are the statement's line within
    the function and its first line of code.
    """
    src = inspect.getsource(getattr(module, name))
    tree = ast.parse(src)
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef):
        raise TypeError(f"{name} is not a plain function")
    body: list[ast.stmt] = [ast.parse("_t = _clock()").body[0]]
    for stmt in fn.body:
        body.append(stmt)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # the docstring
        label = f"L{stmt.lineno - fn.lineno:03d} " + ast.unparse(stmt).splitlines()[0][:72]
        body.extend(ast.parse(f"_t2 = _clock(); _totals[{label!r}] += _t2 - _t; _t = _t2").body)
    fn.body = body
    ns = dict(vars(module))
    ns["_clock"] = clock
    ns["_totals"] = totals
    code = compile(ast.fix_missing_locations(tree), f"<timed {module.__name__}.{name}>", "exec")
    # the module's own source, recompiled with timers (no input from any file or user)
    exec(code, ns)
    return ns[name]


def timed_runs(call: Any, module: Any, name: str, repeat: int) -> tuple[float, dict[str, float], dict[str, float], Any]:
    """Run ``call()`` ``repeat`` times with ``module.name`` and the score() stages timed; return the fastest run."""
    steps: dict[str, float] = defaultdict(float)
    stages: dict[str, float] = defaultdict(float)
    timed = statement_timer(module, name, time.thread_time, steps)
    original = getattr(module, name)
    wrapped = {n: getattr(scoring, n) for n in ("parse_column", "run_kernel", "bad_value_issues", "to_frame")}

    def stage(label: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t = _clock()
            try:
                return fn(*a, **k)
            finally:
                stages[label] += _clock() - t

        return wrapper

    best: tuple[float, dict[str, float], dict[str, float], Any] | None = None
    setattr(module, name, timed)
    for n, fn in wrapped.items():
        setattr(scoring, n, stage(n, fn))
    try:
        for _ in range(repeat):
            steps.clear()
            stages.clear()
            out = None
            gc.collect()
            t = _clock()
            out = call()
            wall = _clock() - t
            if best is None or wall < best[0]:
                best = (wall, dict(stages), dict(steps), out)
    finally:
        setattr(module, name, original)
        for n, fn in wrapped.items():
            setattr(scoring, n, fn)
    if best is None:
        raise ValueError("repeat must be at least 1")
    return best


def report(title: str, wall: float, stages: dict[str, float], steps: dict[str, float]) -> None:
    print(f"\n{title}: {wall:.3f} s wall (instrumented, fastest run)")
    if stages:
        print("  stages of score()                                   wall s   share")
        done = 0.0
        for n in ("parse_column", "run_kernel", "bad_value_issues", "to_frame"):
            v = stages.get(n, 0.0)
            done += v
            print(f"    {n:<48} {v:7.3f}  {v / wall:6.1%}")
        print(f"    {'rest (argument checks, load_scale, frame)':<48} {wall - done:7.3f}  {(wall - done) / wall:6.1%}")
    inside = sum(steps.values())
    print(f"  statements of the chunk function (thread CPU s, summed over chunks; total {inside:.3f} s):")
    for label in sorted(steps):
        if steps[label] >= 0.001:
            print(f"    {steps[label]:7.3f}  {steps[label] / inside:6.1%}  {label}")


def main() -> int:
    args = ARGS if ARGS is not None else _args()
    path = "phq9" if args.case == "a" else str(HERE / "bench90.yaml")
    scale = sc.load_scale(path)
    key = B.key_from_scale(scale)
    df = B.make_responses(key, args.rows)
    kw: dict[str, Any] = {} if args.chunk_size is None else {"chunk_size": args.chunk_size}
    chunk = kw.get("chunk_size", scoring.DEFAULT_CHUNK)
    rev = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h", "--", "screening/engine"],
                         capture_output=True, text=True, check=False).stdout.strip()
    print(f"case ({args.case}) {scale.id}: {args.rows:,} rows × {len(key.cols)} items, chunk_size {chunk}, n_jobs 1, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"engine at commit {rev or '?'} (plus uncommitted changes, if any), load average {os.getloadavg()[0]:.2f}")
    sc.score(df.iloc[:1000], scale)

    plain = []
    reference = None
    for _ in range(args.repeat):
        reference = None
        gc.collect()
        t = _clock()
        reference = sc.score(df, scale, **kw)
        plain.append(_clock() - t)
    print(f"uninstrumented score(): best {min(plain):.3f} s, median {sorted(plain)[len(plain) // 2]:.3f} s")

    wall, stages, steps, got = timed_runs(lambda: sc.score(df, scale, **kw), engine_score, "_chunk", args.repeat)
    pd.testing.assert_frame_equal(got, reference)  # the instrumented copy computes exactly what the engine does
    del got
    report("engine score()", wall, stages, steps)

    if args.prototype:
        wall, _, steps, got = timed_runs(lambda: fast_kernel.score_fast(df, scale, **kw), fast_kernel, "_score_chunk",
                                         args.repeat)
        pd.testing.assert_frame_equal(got, reference)
        del got
        report("prototype score_fast()", wall, {}, steps)

    if args.cprofile:
        prof = cProfile.Profile()
        gc.collect()
        prof.enable()
        sc.score(df, scale, **kw)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
        print("\ncProfile of score() (tottime; ufuncs called through operators count in their caller's own time):")
        print(buf.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
