"""Tiering benchmark: how much time `screen()` adds on top of scoring, for 1,000,000 students.

    python benchmarks/bench_tiering.py [--rows 1000000] [--json out.json]

Data: PHQ-9 and GAD-7 answers drawn from a latent distress score (so tiers are
spread realistically), ~0.5% unanswered cells, the eight risk-group flags
(~2-12% each). Timed (best of N): (1) scoring both scales with `sc.score`,
(2) `sc.screen(..., rules="default")`, which scores and tiers. Tiering time =
(2) − (1). Target (issue 4): tiering adds at most about half the scoring time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd

import screening as sc

FLAGS = {"left_behind": 0.12, "single_parent": 0.10, "bullied": 0.06, "poverty": 0.08,
         "migrant": 0.07, "disability": 0.02, "bereaved": 0.02, "known_disorder": 0.02}


def make(n: int, seed: int = 1, with_mht: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(0, 1, n)
    data: dict[str, np.ndarray] = {}
    if with_mht:  # 100 yes/no items; lie items answered "yes" rarely
        x = 0.6 * latent[:, None] + rng.normal(0, 1, (n, 100))
        yes = (x > 0.8).astype(float)
        yes[:, 81::2] = rng.random((n, 10)) < 0.15
        yes[:, [84, 96]] = rng.random((n, 2)) < 0.03  # items 85 and 97 (thoughts of death) are rare
        yes[rng.random((n, 100)) < 0.002] = np.nan
        for j in range(100):
            data[f"mht_{j + 1}"] = yes[:, j]
    for sid, k in (("phq9", 9), ("gad7", 7)):
        x = 0.8 * latent[:, None] + rng.normal(0, 1, (n, k))
        vals = (x > 0.9).astype(float) + (x > 1.9) + (x > 2.7)
        if sid == "phq9":  # item 9 (thoughts of death) is much rarer than the other symptoms
            vals[:, 8] = (x[:, 8] > 2.6).astype(float) + (x[:, 8] > 3.2)
        vals[rng.random((n, k)) < 0.005] = np.nan
        for j in range(k):
            data[f"{sid}_{j + 1}"] = vals[:, j]
    for f, p in FLAGS.items():
        data[f] = rng.random(n) < p
    return pd.DataFrame(data)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--with-mht", action="store_true", help="screen PHQ-9 + GAD-7 + MHT (116 items) instead of PHQ-9 + GAD-7")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    scales = ["phq9", "gad7", "mht"] if args.with_mht else ["phq9", "gad7"]
    df = make(args.rows, with_mht=args.with_mht)
    rules = sc.load_rules("default")
    warnings.simplefilter("ignore")  # flags are all supplied; nothing expected
    t_score = best(lambda: sc.score(df, scales), args.repeat)
    t_screen = best(lambda: sc.screen(df, scales=scales, rules=rules), args.repeat)
    res = sc.screen(df, scales=scales, rules=rules)
    t_tier = t_screen - t_score
    figures = {
        "rows": args.rows,
        "scales": scales,
        "score_s": round(t_score, 4),
        "screen_s": round(t_screen, 4),
        "tiering_s": round(t_tier, 4),
        "tiering_over_scoring": round(t_tier / t_score, 3),
        "tiers": {k: int(v) for k, v in res.tier_counts().items()},
        "urgent": int(res.table["urgent"].sum()),
        "distinct_reason_patterns": int(res.table["rules_fired"].nunique()),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, numpy {np.__version__}, pandas {pd.__version__}",
    }
    print(f"rows                 {args.rows:,}")
    print(f"score {'+'.join(scales):14s} {t_score:.3f} s  ({args.rows / t_score:,.0f} rows/s)")
    print(f"screen (score+tier)  {t_screen:.3f} s")
    print(f"tiering alone        {t_tier:.3f} s  = {t_tier / t_score:.2f} × scoring  (target ≤ ~0.5)")
    print(f"tiers                {figures['tiers']}, urgent {figures['urgent']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=1)


if __name__ == "__main__":
    main()
