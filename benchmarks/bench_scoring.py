"""Scoring benchmark: the engine against row-wise pandas, vectorised pandas and a numpy floor.

Run from the repository root::

    /work/venv/bin/python benchmarks/bench_scoring.py                 # 1,000,000 rows, ~5 minutes
    /work/venv/bin/python benchmarks/bench_scoring.py --rows 100000   # quick run
    /work/venv/bin/python benchmarks/bench_scoring.py --json results.json

Two cases, each on freshly generated data (uniform answers, ~1% blank cells,
float64 columns with NaN):

(a) PHQ-9 (built-in ``phq9``: 9 items, one prorated sum, 5 bands, a critical item);
(b) ``benchmarks/bench90.yaml``: 90 items, 10 mean subscales with reverse keys,
    ``min_answered: 6`` and prorating, 3 bands each.

See ``benchmarks/README.md`` for what each baseline is and the figures measured.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# measure the checkout this file belongs to, not some installed copy
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "prototypes"))

if __name__ == "__main__" and "--blas-threads" in sys.argv:
    # OpenBLAS reads this when numpy is first imported, so it is set before that
    _n = sys.argv[sys.argv.index("--blas-threads") + 1]
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = _n

import baselines as B  # noqa: E402
import fast_kernel  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import screening as sc  # noqa: E402

CASES = {
    "a": ("phq9", "PHQ-9 (9 items, sum, prorate, 5 bands, critical item)"),
    "b": (str(HERE / "bench90.yaml"), "bench90 (90 items, 10 mean subscales, reverse keys, prorate, bands)"),
}
TARGET_SPEEDUP_VS_VECTORISED = 5.0
TARGET_SECONDS_PER_MILLION = 0.35


# ---------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas: dict[str, Any] = {}
    try:
        cfg = np.show_config(mode="dicts")
        dep = cfg.get("Build Dependencies", {}).get("blas", {})
        blas = {k: dep.get(k) for k in ("name", "version", "openblas configuration")}
    except (TypeError, AttributeError):  # numpy < 1.25 has no mode=
        blas = {"name": "unknown"}
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "mem_gib": mem_gib,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "blas": blas,
        "blas_threads_env": {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ},
    }


# ---------------------------------------------------------------------------- timing and memory


CPU_OF_BEST: list[float] = [0.0]  # process CPU seconds of the last best_of's fastest run (all threads)


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls (garbage collected before each) and the last result.

    The process CPU time of the fastest run is left in ``CPU_OF_BEST``: with
    one thread, CPU well below wall time means the machine was busy.
    """
    best = float("inf")
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        wall = time.perf_counter() - t
        if wall < best:
            best, CPU_OF_BEST[0] = wall, time.process_time() - c
    return best, result


def traced_peak(fn: Callable[[], Any]) -> tuple[int, int]:
    """Peak bytes allocated (numpy and Python) during ``fn()`` above what was live before, and the result's size."""
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    out = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = int(out.memory_usage(deep=True).sum()) if isinstance(out, pd.DataFrame) else 0
    return peak - base, size


def _status_kib() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmHWM", "VmRSS")):
            out[line.split(":")[0]] = int(line.split()[1])
    return out


def rss_child(case: str, rows: int, impl: str) -> dict[str, Any]:
    """Run one call in a fresh interpreter and read its peak RSS growth (VmHWM after resetting it)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_rss-child", case, str(rows), impl]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _rss_child_main(case: str, rows: int, impl: str) -> None:
    scale = sc.load_scale(CASES[case][0])
    key = B.key_from_scale(scale)
    df = B.make_responses(key, rows)
    fns: dict[str, Callable[[pd.DataFrame], Any]] = {
        "engine": lambda d: sc.score(d, scale),
        "pandas_vectorised": lambda d: B.pandas_vectorised(d, key),
        "prototype_kernel": lambda d: fast_kernel.score_fast(d, scale),
    }
    call = fns[impl]
    call(df.iloc[:1000])  # warm up on a small slice so imports and caches are not counted
    fn: Callable[[], Any] = lambda: call(df)  # noqa: E731
    gc.collect()
    try:
        # writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0)
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    before = _status_kib()
    out = fn()
    after = _status_kib()
    print(
        json.dumps(
            {
                "hwm_reset": reset,
                "rss_before_mib": before["VmRSS"] / 1024,
                "peak_extra_mib": (after["VmHWM"] - before["VmRSS"]) / 1024 if reset else None,
                "rss_after_mib": after["VmRSS"] / 1024,
                "output_mib": int(out.memory_usage(deep=True).sum()) / 2**20,
            }
        )
    )


# ---------------------------------------------------------------------------- one case


def run_case(case: str, args: argparse.Namespace) -> dict[str, Any]:
    path, label = CASES[case]
    n = args.rows
    scale = sc.load_scale(path)
    key = B.key_from_scale(scale)
    print(f"\n=== ({case}) {label}: {n:,} rows × {len(key.cols)} items")
    t = time.perf_counter()
    df = B.make_responses(key, n, seed=args.seed)
    print(f"data generated in {time.perf_counter() - t:.1f} s")
    input_bytes = int(df.memory_usage(deep=True).sum())
    res: dict[str, Any] = {"case": case, "scale": scale.id, "rows": n, "items": len(key.cols), "input_mib": input_bytes / 2**20}

    def record(name: str, seconds: float, extrapolated_from: int | None = None) -> None:
        cpu = CPU_OF_BEST[0] * (n / extrapolated_from if extrapolated_from else 1)
        res[name] = {"seconds": seconds, "rows_per_s": n / seconds, "cpu_seconds": cpu}
        if extrapolated_from is not None:
            res[name]["extrapolated_from_rows"] = extrapolated_from
        extra = f" (extrapolated from {extrapolated_from:,} rows)" if extrapolated_from else ""
        print(f"  {name:<22} {seconds:9.3f} s  {n / seconds:14,.0f} rows/s   cpu {cpu:8.3f} s{extra}")

    sc.score(df.iloc[:1000], scale)  # warm-up: imports, compiled scale cache
    t_eng, out = best_of(lambda: sc.score(df, scale), args.repeat)
    record("engine", t_eng)
    engine_result = B.result_from_engine(out, key)
    del out

    t_vec, vec = best_of(lambda: B.pandas_vectorised(df, key), args.repeat)
    record("pandas_vectorised", t_vec)
    B.compare(engine_result, B.result_from_frame(vec, key), "engine vs pandas_vectorised")
    del vec
    print("  pandas_vectorised agrees with the engine on every row (scores to 1e-9; bands, status, n_missing, critical exactly)")

    t_conv, _ = best_of(df.to_numpy, args.repeat)
    arr = df.to_numpy()
    fp = B.floor_plan(key)
    t_np, floor = best_of(lambda: B.numpy_floor(arr, fp), args.repeat)
    record("numpy_floor", t_np)
    res["numpy_floor"]["df_to_numpy_seconds"] = t_conv
    res["numpy_floor"]["input_layout"] = "F" if arr.flags.f_contiguous else ("C" if arr.flags.c_contiguous else "strided")
    B.compare(engine_result, floor, "engine vs numpy_floor")
    del floor  # arr is a view of df, no copy
    print(f"  numpy_floor agrees with the engine (df.to_numpy() before it: {t_conv:.4f} s)")

    if args.prototype:
        try:
            t_fast, fast = best_of(lambda: fast_kernel.score_fast(df, scale), args.repeat)
        except NotImplementedError as e:
            print(f"  prototype: not applicable ({e})")
        else:
            record("prototype_kernel", t_fast)
            B.compare(engine_result, B.result_from_engine(fast, key), "engine vs prototype")
            del fast
            print("  prototype_kernel (benchmarks/prototypes/fast_kernel.py) agrees with the engine")

    if args.sample > 0:
        m = min(args.sample, n)
        sample = df.iloc[:m]
        t_row, rw = best_of(lambda: B.pandas_rowwise(sample, key), args.rowwise_repeat)
        record("pandas_rowwise", t_row * n / m, extrapolated_from=m)
        B.compare(B.result_from_engine(sc.score(sample, scale), key), B.result_from_frame(rw, key), "engine vs rowwise")
        print(f"  pandas_rowwise agrees with the engine on the {m:,}-row sample")

    res["ratios"] = {
        "pandas_vectorised_over_engine": t_vec / t_eng,
        "engine_over_numpy_floor": t_eng / t_np,
    }
    if "prototype_kernel" in res:
        res["ratios"]["pandas_vectorised_over_prototype"] = t_vec / res["prototype_kernel"]["seconds"]
    if "pandas_rowwise" in res:
        res["ratios"]["pandas_rowwise_over_engine"] = res["pandas_rowwise"]["seconds"] / t_eng
    print("  ratios: " + ", ".join(f"{k} = {v:,.1f}×" for k, v in res["ratios"].items()))

    # memory: traced numpy/Python allocations, then peak RSS in a fresh process
    peak, out_bytes = traced_peak(lambda: sc.score(df, scale))
    vpeak, _ = traced_peak(lambda: B.pandas_vectorised(df, key))
    res["memory"] = {
        "input_mib": input_bytes / 2**20,
        "engine_traced_peak_mib": peak / 2**20,
        "engine_output_mib": out_bytes / 2**20,
        "pandas_vectorised_traced_peak_mib": vpeak / 2**20,
    }
    if "prototype_kernel" in res:
        ppeak, _ = traced_peak(lambda: fast_kernel.score_fast(df, scale))
        res["memory"]["prototype_kernel_traced_peak_mib"] = ppeak / 2**20
    if not args.no_rss:
        for impl in ("engine", "pandas_vectorised", "prototype_kernel"):
            if impl != "prototype_kernel" or "prototype_kernel" in res:
                res["memory"][f"{impl}_rss"] = rss_child(case, n, impl)
    mem = res["memory"]
    line = f"  memory: input {mem['input_mib']:.0f} MiB; engine traced peak {mem['engine_traced_peak_mib']:.0f} MiB"
    line += f" (output {mem['engine_output_mib']:.0f} MiB)"
    if "engine_rss" in mem and mem["engine_rss"].get("peak_extra_mib") is not None:
        line += f", RSS peak growth {mem['engine_rss']['peak_extra_mib']:.0f} MiB"
    line += f"; pandas_vectorised traced peak {mem['pandas_vectorised_traced_peak_mib']:.0f} MiB"
    if "pandas_vectorised_rss" in mem and mem["pandas_vectorised_rss"].get("peak_extra_mib") is not None:
        line += f" (RSS peak growth {mem['pandas_vectorised_rss']['peak_extra_mib']:.0f} MiB)"
    if "prototype_kernel_traced_peak_mib" in mem:
        line += f"; prototype traced peak {mem['prototype_kernel_traced_peak_mib']:.0f} MiB"
    print(line)

    # chunk_size × n_jobs
    sweep = []
    for n_jobs in args.n_jobs:
        for chunk in args.chunk_sizes:
            t, _ = best_of(lambda c=chunk, j=n_jobs: sc.score(df, scale, chunk_size=c, n_jobs=j), args.repeat)
            sweep.append({"chunk_size": chunk, "n_jobs": n_jobs, "seconds": t, "rows_per_s": n / t})
            print(f"  sweep chunk_size={chunk:>7} n_jobs={n_jobs}: {t:7.3f} s  {n / t:14,.0f} rows/s")
    best = min(sweep, key=lambda r: r["seconds"])
    res["sweep"] = sweep
    res["sweep_best"] = best
    print(f"  best: chunk_size={best['chunk_size']}, n_jobs={best['n_jobs']} ({best['seconds']:.3f} s)")
    return res


def check_targets(res: dict[str, Any]) -> dict[str, Any]:
    """The targets for case (b), scaled to the number of rows run."""
    limit = TARGET_SECONDS_PER_MILLION * res["rows"] / 1e6
    best_engine = min(res["engine"]["seconds"], res["sweep_best"]["seconds"])
    mem = res["memory"]
    rss = mem.get("engine_rss", {}).get("peak_extra_mib")
    peak = max(mem["engine_traced_peak_mib"], rss or 0.0)
    checks = {
        "speedup_vs_pandas_vectorised": {
            "target": f">= {TARGET_SPEEDUP_VS_VECTORISED}×",
            "measured": res["ratios"]["pandas_vectorised_over_engine"],
            "met": res["ratios"]["pandas_vectorised_over_engine"] >= TARGET_SPEEDUP_VS_VECTORISED,
        },
        "seconds_default_settings": {
            "target": f"<= {limit:.3f} s",
            "measured": res["engine"]["seconds"],
            "met": res["engine"]["seconds"] <= limit,
        },
        "seconds_best_settings": {"target": f"<= {limit:.3f} s", "measured": best_engine, "met": best_engine <= limit},
        "peak_extra_memory_vs_input": {
            "target": f"<= {mem['input_mib']:.0f} MiB",
            "measured": peak,
            "met": peak <= mem["input_mib"],
        },
    }
    if "prototype_kernel" in res:
        t = res["prototype_kernel"]["seconds"]
        ratio = res["ratios"]["pandas_vectorised_over_prototype"]
        ppeak = max(mem.get("prototype_kernel_traced_peak_mib", 0.0),
                    mem.get("prototype_kernel_rss", {}).get("peak_extra_mib") or 0.0)
        checks["prototype_speedup_vs_pandas_vectorised"] = {
            "target": f">= {TARGET_SPEEDUP_VS_VECTORISED}×", "measured": ratio, "met": ratio >= TARGET_SPEEDUP_VS_VECTORISED}
        checks["prototype_seconds"] = {"target": f"<= {limit:.3f} s", "measured": t, "met": t <= limit}
        checks["prototype_peak_extra_memory_vs_input"] = {
            "target": f"<= {mem['input_mib']:.0f} MiB", "measured": ppeak, "met": ppeak <= mem["input_mib"]}
    return checks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="students per case (default 1,000,000)")
    p.add_argument("--sample", type=int, default=10_000, help="rows the row-wise baseline is timed on (0: skip it)")
    p.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    p.add_argument("--rowwise-repeat", type=int, default=1, help="best of N for the row-wise baseline (default 1)")
    p.add_argument("--cases", default="ab", help="which cases to run: a, b or ab (default)")
    p.add_argument("--chunk-sizes", type=int, nargs="+", default=[2048, 8192, 32768, 131072])
    p.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-rss", action="store_true", help="skip the fresh-process RSS measurement")
    p.add_argument("--no-prototype", dest="prototype", action="store_false",
                   help="skip the prototype kernel of benchmarks/prototypes/fast_kernel.py")
    p.add_argument("--blas-threads", type=int, help="set OPENBLAS_NUM_THREADS (read before numpy is imported)")
    p.add_argument("--json", type=Path, help="write all figures to this JSON file")
    p.add_argument("--check", action="store_true", help="exit 1 when a target for case (b) is not met")
    p.add_argument("--_rss-child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._rss_child:
        case, rows, impl = args._rss_child
        _rss_child_main(case, int(rows), impl)
        return 0

    info = machine()
    info["load_average_start"] = os.getloadavg()
    print(f"{info['date']} · {info['cpu']} · nproc {info['nproc']} · {info['mem_gib']} GiB · Python {info['python']}"
          f" · load average {info['load_average_start'][0]:.2f}")
    print(f"numpy {info['numpy']} · pandas {info['pandas']} · BLAS {info['blas']} {info['blas_threads_env']}")
    results: dict[str, Any] = {"machine": info, "args": {k: (str(v) if isinstance(v, Path) else v)
                                                         for k, v in vars(args).items() if not k.startswith("_")}}
    for case in args.cases:
        results[case] = run_case(case, args)

    info["load_average_end"] = os.getloadavg()
    print(f"\nload average at the end: {info['load_average_end'][0]:.2f} (1 min), {info['load_average_end'][1]:.2f} (5 min)")
    ok = True
    if "b" in results:
        checks = check_targets(results["b"])
        results["targets_b"] = checks
        print("\n=== targets for (b)")
        for name, c in checks.items():
            print(f"  {'MET ' if c['met'] else 'MISS'} {name}: {c['measured']:.3f} (target {c['target']})")
        ok = all(c["met"] for name, c in checks.items() if not name.startswith("prototype"))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nfigures written to {args.json}")
    return 1 if (args.check and not ok) else 0


if __name__ == "__main__":
    raise SystemExit(main())
