"""Early warning: cost on a city archive, and what over-dispersion does to true and false flags.

Usage (from the repository root)::

    /work/venv/bin/python benchmarks/bench_warning.py                  # time: 130,000 students x 8 waves
    /work/venv/bin/python benchmarks/bench_warning.py --study          # simulation study (docs/early-warning.md)
    /work/venv/bin/python benchmarks/bench_warning.py --study --seeds 5 --json out.json

The timing builds a simulated city (150 schools, 130,000 students, 8 waves =
1,040,000 student-waves, in memory as the long table an archive exports) and
times ``early_warning`` on all of it (best of ``--repeat``). The study draws
districts from :func:`screening.warning.simulate.simulate_district` (100
schools, 30 to 3,000 students each, 6 waves, 4 schools and the bullied
students with a real excess) under two scenarios — real between-school
variation (school SD 0.3 on the log-odds scale) and none at all — and counts
flags with each over-dispersion option.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from screening.warning import early_warning
from screening.warning.simulate import simulate_district

METHODS = ("none", "multiplicative", "additive")


def timing(students: int, waves: int, schools: int, repeat: int) -> dict[str, float]:
    t0 = time.perf_counter()
    sim = simulate_district(n_schools=schools, n_waves=waves, n_students=students, seed=1)
    build = time.perf_counter() - t0
    early_warning(sim.frame.head(2000))  # imports and first-call costs
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        table = early_warning(sim.frame)
        times.append(time.perf_counter() - t0)
    return {"rows": len(sim.frame), "students": students, "waves": waves, "schools": schools, "simulate_s": build,
            "best_s": min(times), "median_s": float(np.median(times)), "table_rows": len(table)}


def study(seeds: int, n_schools: int = 100, n_waves: int = 6) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for scenario, school_sd in (("between-school variation (SD 0.3)", 0.3), ("no between-school variation", 0.0)):
        acc: dict[str, dict[str, list[float]]] = {m: {} for m in METHODS}
        for seed in range(seeds):
            sim = simulate_district(n_schools=n_schools, n_waves=n_waves, excess_schools=4, excess_or=2.5, group_or=2.0,
                                    school_sd=school_sd, seed=100 + seed)
            truth = set(sim.excess_schools)
            for m in METHODS:
                t = early_warning(sim.frame, overdispersion=m)  # type: ignore[arg-type]
                s = t[t["level"] == "school"]
                true = s["group"].isin(truth).to_numpy()
                last = (s["wave"] == t.attrs["screening"]["waves"][-1]).to_numpy()
                r = t[t["level"] == "risk_group"]
                bullied = (r["group"] == "bullied").to_numpy()
                vals = {
                    "true_95": s["above_95"].to_numpy(dtype=bool)[true].mean(),
                    "true_998": s["above_998"].to_numpy(dtype=bool)[true].mean(),
                    "false_95_per_wave": s["above_95"].to_numpy(dtype=bool)[~true].sum() / n_waves,
                    "false_998_per_wave": s["above_998"].to_numpy(dtype=bool)[~true].sum() / n_waves,
                    "true_persistent_last": s["persistent"].to_numpy(dtype=bool)[true & last].sum(),
                    "false_persistent_last": s["persistent"].to_numpy(dtype=bool)[~true & last].sum(),
                    "bullied_998": r["above_998"].to_numpy(dtype=bool)[bullied].mean(),
                    "other_groups_95_per_wave": r["above_95"].to_numpy(dtype=bool)[~bullied].sum() / n_waves,
                }
                for k, v in vals.items():
                    acc[m].setdefault(k, []).append(float(v))
        out[scenario] = {m: {k: float(np.mean(v)) for k, v in d.items()} for m, d in acc.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=130_000)
    ap.add_argument("--waves", type=int, default=8)
    ap.add_argument("--schools", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--study", action="store_true", help="run the simulation study instead of the timing")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if args.study:
        res: dict = study(args.seeds)
        for scenario, by_method in res.items():
            print(f"\n{scenario} — mean over {args.seeds} simulated districts (100 schools, 6 waves, 4 with a real excess)")
            keys = list(next(iter(by_method.values())))
            print("| measure | " + " | ".join(METHODS) + " |")
            print("|---|" + "---:|" * len(METHODS))
            for k in keys:
                print(f"| {k} | " + " | ".join(f"{by_method[m][k]:.3f}" for m in METHODS) + " |")
    else:
        res = timing(args.students, args.waves, args.schools, args.repeat)
        print(f"early_warning on {res['rows']:,} student-waves ({res['students']:,} students x {res['waves']} waves, "
              f"{res['schools']} schools): best {res['best_s']:.2f} s, median {res['median_s']:.2f} s "
              f"({res['table_rows']:,} table rows)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
