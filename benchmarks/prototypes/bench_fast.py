"""Time the prototype kernel against the engine on the benchmark data, and check they agree.

Run from the repository root::

    /work/venv/bin/python benchmarks/prototypes/bench_fast.py [--rows 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import baselines as B  # noqa: E402
import fast_kernel as FK  # noqa: E402
import numpy as np  # noqa: E402

import screening as sc  # noqa: E402


def timed(fn, repeat):  # type: ignore[no-untyped-def]
    walls, cpus = [], []
    for _ in range(repeat):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(walls), sorted(walls)[len(walls) // 2], min(cpus)


def must_raise(fn, what: str) -> None:  # type: ignore[no-untyped-def]
    try:
        fn()
    except ValueError:
        print(f"  rejects {what}: yes")
        return
    raise AssertionError(f"prototype accepted {what}")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--chunk-sizes", type=int, nargs="+", default=[2048, 4096, 8192, 16384])
    p.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    for path in (str(HERE.parent / "bench90.yaml"), "phq9"):
        scale = sc.load_scale(path)
        key = B.key_from_scale(scale)
        df = B.make_responses(key, args.rows)
        print(f"\n{scale.id}: {args.rows:,} rows × {len(key.cols)} items")
        ref = B.result_from_engine(sc.score(df, scale), key)
        for chunk in args.chunk_sizes:
            for n_jobs in args.n_jobs:
                got = B.result_from_engine(FK.score_fast(df, scale, chunk_size=chunk, n_jobs=n_jobs), key)
                B.compare(ref, got, f"prototype chunk {chunk} n_jobs {n_jobs}")
        print("  prototype output equals the engine's on every row for every setting below")
        w, med, c = timed(lambda d=df, s=scale: sc.score(d, s), args.repeat)
        print(f"  engine (defaults)            wall best {w:.3f} s  median {med:.3f} s  cpu {c:.3f} s"
              f"  {args.rows / w:12,.0f} rows/s")
        for chunk in args.chunk_sizes:
            for n_jobs in args.n_jobs:
                w, med, c = timed(
                    lambda d=df, s=scale, ch=chunk, j=n_jobs: FK.score_fast(d, s, chunk_size=ch, n_jobs=j), args.repeat
                )
                print(f"  prototype chunk {chunk:>6} jobs {n_jobs}  wall best {w:.3f} s  median {med:.3f} s  cpu {c:.3f} s"
                      f"  {args.rows / w:12,.0f} rows/s")
        # invalid cells are still caught
        small = df.iloc[:5000].copy()
        rev_col = key.cols[int(np.flatnonzero(key.reverse)[0])] if key.reverse.any() else key.cols[0]
        for what, col, value in [("a value above the options", key.cols[0], key.hi[0] + 1),
                                 ("a value below the options", key.cols[-1], key.lo[-1] - 1),
                                 ("a fractional value", key.cols[1], 1.5),
                                 ("1e-20 in a reverse-keyed item", rev_col, 1e-20),
                                 ("inf", key.cols[2], np.inf)]:
            bad = small.copy()
            bad.iloc[1234, bad.columns.get_loc(col)] = value
            must_raise(lambda b=bad, s=scale: FK.score_fast(b, s, chunk_size=1024), what)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
