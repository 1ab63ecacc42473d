"""The scoring kernel's own targets (issue 13, task kernel2): bounds cost, screen's scoring, one student.

    python benchmarks/bench_kernel.py                       # 1,000,000 students, 7 interleaved rounds
    python benchmarks/bench_kernel.py --rows 100000 --rounds 5 --scales phq9 gad7

On the same frames as ``bench_all.py`` (``make``: answers uniform over the options, ~1% blank, float64):

- per scale: ``sc.score(df, scale)`` and ``sc.score(df, scale, bounds=True)`` in interleaved rounds
  (median and best), and their ratio; both with the compiled kernel (numba) and with it switched off
  (``SCREENING_FUSED=0``, the numpy kernel); beside them, allocating and filling two fresh float arrays of
  the bounds' size (what the extra output costs as memory alone: the operating system zeroes new pages);
- PHQ-9 + GAD-7 together: the scoring ``screen()`` does (``_score_columns`` with ``bounds="sparse"`` and the
  item values the default rules read) beside plain scoring of the two scales;
- one student, PHQ-9 + GAD-7, warm: ``sc.score(df, [phq9, gad7])`` (median and best of many calls).

The machine is shared: compare ratios from the same run, and run it twice.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import screening as sc  # noqa: E402
from benchmarks.bench_all import make  # noqa: E402
from screening.scoring.frame import _labels, _score_columns  # noqa: E402


def _rounds(fns: dict, rounds: int) -> dict[str, tuple[float, float]]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return {k: (statistics.median(v), min(v)) for k, v in times.items()}


class _Numpy:
    def __enter__(self) -> None:
        os.environ["SCREENING_FUSED"] = "0"

    def __exit__(self, *exc: object) -> None:
        os.environ.pop("SCREENING_FUSED", None)


def bench_bounds(ids: list[str], n: int, rounds: int) -> None:
    print(f"\n### `score` and `score(bounds=True)`, {n:,} students, median (best) of {rounds} interleaved rounds\n")
    print("| scale | score s | bounds s | bounds ÷ score | fresh memory of the bounds columns s | numpy score s | "
          "numpy bounds s | numpy bounds ÷ score |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for sid in ids:
        scale = sc.load_scale(sid)
        df = make(scale, n)
        sc.score(df, scale)  # compile / load the kernel, fault in the allocator
        sc.score(df, scale, bounds=True)

        def numpy_score(df: pd.DataFrame = df, scale: sc.Scale = scale, bounds: bool = False) -> None:
            with _Numpy():
                sc.score(df, scale, bounds=bounds)

        n_scores = len(scale.compiled.scores)

        def fresh(n_scores: int = n_scores) -> None:  # what the two bound columns per score cost as memory alone
            lower, upper = np.empty((n_scores, n)), np.empty((n_scores, n))
            lower.fill(0.0)
            upper.fill(0.0)

        med = _rounds({
            "fresh": fresh,
            "score": lambda df=df, scale=scale: sc.score(df, scale),
            "bounds": lambda df=df, scale=scale: sc.score(df, scale, bounds=True),
            "np_score": numpy_score,
            "np_bounds": lambda: numpy_score(bounds=True),
        }, rounds)
        s, b, ns, nb, fr = (med[k] for k in ("score", "bounds", "np_score", "np_bounds", "fresh"))
        print(f"| {sid} | {s[0]:.3f} ({s[1]:.3f}) | {b[0]:.3f} ({b[1]:.3f}) | {b[0] / s[0]:.2f} | {fr[0]:.3f} | "
              f"{ns[0]:.3f} ({ns[1]:.3f}) | {nb[0]:.3f} ({nb[1]:.3f}) | {nb[0] / ns[0]:.2f} |", flush=True)


def bench_screen_scoring(n: int, rounds: int) -> None:
    scales = [sc.load_scale("phq9"), sc.load_scale("gad7")]
    df = pd.concat([make(s, n, seed=3 + i) for i, s in enumerate(scales)], axis=1)
    labels = _labels(df)

    def screen_scoring() -> None:  # what screen() asks of the engine for the default rules (item 9 read)
        for s in scales:
            _, out = _score_columns(df, s, keep_items=s.id == "phq9", bounds="sparse", labels=labels)
            out.sparse_bounds(len(s.compiled.scores))

    def plain() -> None:
        sc.score(df, scales)

    screen_scoring()
    plain()
    med = _rounds({"plain": plain, "screen": screen_scoring}, rounds)
    print(f"\n### PHQ-9 + GAD-7, {n:,} students: `score` {med['plain'][0]:.3f} s; the scoring `screen` does "
          f"(sparse bounds, item values) {med['screen'][0]:.3f} s; ratio {med['screen'][0] / med['plain'][0]:.2f}")


def bench_one(calls: int) -> None:
    scales = [sc.load_scale("phq9"), sc.load_scale("gad7")]
    cols = {c: [1.0] for s in scales for c in s.input_columns()}
    df = pd.DataFrame(cols)
    for _ in range(200):
        sc.score(df, scales)
    ts = []
    for _ in range(calls):
        t = time.perf_counter()
        sc.score(df, scales)
        ts.append(time.perf_counter() - t)
    print(f"\n### one student, PHQ-9 + GAD-7, warm `score`: median {np.median(ts) * 1e3:.3f} ms, "
          f"best {min(ts) * 1e3:.3f} ms ({calls} calls)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--scales", nargs="+", default=["phq9", "gad7", "scl90", "mht"])
    ap.add_argument("--calls", type=int, default=3000)
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"## bench_kernel — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load[0]:.1f}")
    bench_bounds(args.scales, args.rows, args.rounds)
    bench_screen_scoring(args.rows, args.rounds)
    bench_one(args.calls)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
