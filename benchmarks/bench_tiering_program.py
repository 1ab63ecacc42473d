"""The compiled rule program against the column-wise path, on the same inputs (issue 13, `rules2`).

    python benchmarks/bench_tiering_program.py [--rows 1000000] [--rounds 12] [--scales phq9 gad7]

Data: uniform answers with ~1% blank cells (as ``bench_all.py``), an 18-digit id, no risk-group flags.
``screen(rules="default")`` runs once with ``assign_tiers`` wrapped to capture its inputs; then, in
interleaved rounds (minimum of each): ``score`` of the scales, ``assign_tiers(path="columns")`` (the
column-wise evaluator), ``assign_tiers(path="program")`` (one compiled pass per student) and
``run_program`` alone (the kernel and its set-up, without the pandas table). Both paths are checked to
give the same table first. The shared machine is noisy: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import screening as sc
import screening.screener.run as run_mod
import screening.tiering.assign as assign_mod
from screening.tiering import program


def make(scales: list[str], n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {}
    for sid in scales:
        spec = sc.load_scale(sid).spec
        for it in spec.items:
            opts = np.array(sorted({o.value for o in spec.option_sets[it.options]}), dtype=float)
            x = rng.choice(opts, n)
            x[rng.random(n) < 0.01] = np.nan
            cols[f"{sid}_{it.id}"] = x
    df = pd.DataFrame(cols)
    df.index = pd.Index([str(10**17 + i) for i in range(n)], name="student_id")
    return df


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--scales", nargs="*", default=["phq9", "gad7"])
    args = ap.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # flags not supplied: unknown for everyone
    df = make(args.scales, args.rows)
    captured: dict = {}
    real = run_mod.assign_tiers

    def spy(*a, **k):
        captured["a"], captured["k"] = a, k
        return real(*a, **k)

    run_mod.assign_tiers = spy
    sc.screen(df, args.scales)
    run_mod.assign_tiers = real
    a, k = captured["a"], captured["k"]
    cols, prog = real(*a, **k, path="columns"), real(*a, **k, path="program")
    pd.testing.assert_frame_equal(prog.table, cols.table)
    cases = {
        "score": lambda: [sc.score(df, s) for s in args.scales],
        "columns": lambda: real(*a, **k, path="columns"),
        "program": lambda: real(*a, **k, path="program"),
        "kernel": lambda: program.run_program(a[0], a[1], a[2], a[3], a[4], a[5], bounds=k["bounds"], maybe=k["maybe"],
                                              read_scales=k["read_scales"], scale_reason=assign_mod._scale_reason,
                                              possible_text=assign_mod._possible_text, force=True),
    }
    times: dict[str, list[float]] = {c: [] for c in cases}
    for _ in range(args.rounds):
        for c, f in cases.items():
            t0 = time.perf_counter()
            f()
            times[c].append(time.perf_counter() - t0)
    best = {c: min(v) for c, v in times.items()}
    print(f"{' + '.join(args.scales)}, {args.rows:,} students, min of {args.rounds} interleaved rounds:")
    for c, v in best.items():
        print(f"  {c:8s} {v * 1e3:8.1f} ms   {v / best['score']:.2f}× score")


if __name__ == "__main__":
    main()
