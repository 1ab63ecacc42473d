"""Scale-out benchmark: screen and summarise by school on Dask and Spark vs one process (issue 16).

    python benchmarks/bench_scaleout.py [--rows 1000000 3000000 10000000] [--engines pandas dask spark]
                                        [--data /tmp/screening_bench_scaleout] [--json out.json] [--verify]

Data: PHQ-9 + GAD-7 answers drawn from a latent distress score and the eight risk-group flags
(``bench_tiering.make``), ~0.5% blank cells, plus ``school`` (2,000 schools), ``grade``, ``class``
(~1% blank) and a row number, written as Parquet files of 500,000 rows. Each engine runs in its own
process, freshly started, and does the same thing: read the Parquet files, ``sc.screen(…,
["phq9", "gad7"])``, ``.summary(by="school")``.

- pandas: ``pd.read_parquet`` + ``sc.screen`` + ``result.summary`` in one process.
- Dask: ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``, ``dd.read_parquet``
  (one partition per file); the summary is the three-step count reduction.
- Spark: ``local[2]``, ``spark.read.parquet``, ``mapInPandas`` + ``groupBy().sum()``, Arrow batches of 100,000 rows.

Measured: wall time of read + screen + summary; peak resident memory of the process (pandas), of
each Dask worker (``ru_maxrss`` read on the worker), of each Spark Python worker (polled) and of the
Spark JVM. Every engine's summary is compared with the single-process one (exact frame equality);
with ``--verify`` a per-student checksum of tier, urgent, re-screen and the fired rules is compared too
(an extra pass, not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

FILE_ROWS = 500_000
SCALES = ["phq9", "gad7"]


def make_data(rows: int, folder: Path) -> Path:
    from bench_tiering import make

    out = folder / f"rows_{rows}"
    done = out / "_done"
    if done.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    for i, start in enumerate(range(0, rows, FILE_ROWS)):
        n = min(FILE_ROWS, rows - start)
        df = make(n, seed=1000 + i)
        rng = np.random.default_rng(2000 + i)
        df["school"] = pd.array([f"S{k:04d}" for k in rng.integers(0, 2000, n)], dtype="str")
        df["grade"] = rng.integers(7, 10, n).astype(np.int64)
        cls = np.char.add(rng.integers(1, 9, n).astype(str), "班").astype(object)
        cls[rng.random(n) < 0.01] = None
        df["class"] = pd.array(cls, dtype="str")
        df.insert(0, "row", np.arange(start, start + n, dtype=np.int64))
        df.to_parquet(out / f"part_{i:04d}.parquet", index=False)
    done.touch()
    return out


def _checksum(table: pd.DataFrame, rows: np.ndarray) -> int:
    """Order-independent digest of every student's tier, urgent, re-screen and fired rules."""
    fired = pd.util.hash_pandas_object(table["rules_fired"].astype(str), index=False).to_numpy()
    codes = np.asarray(table["tier"].array.codes, dtype=np.uint64)
    mix = (rows.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ fired ^ (codes << np.uint64(1))
    mix ^= table["urgent"].to_numpy(dtype=np.uint64) << np.uint64(5)
    mix ^= table["rescreen"].to_numpy(dtype=np.uint64) << np.uint64(7)
    return int(np.bitwise_xor.reduce(mix)) if len(mix) else 0


def _maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm() -> None:
    """Load the scales and rule set and import the summary code, so no engine's timing pays for them."""
    import screening as sc

    folder = _DATA or Path(os.environ["SCREENING_BENCH_DATA"])
    df = pd.read_parquet(sorted(folder.glob("part_*.parquet"))[0]).head(50)
    sc.screen(df, SCALES).summary(by="school")


_DATA: Path | None = None


def run_pandas(path: Path, verify: bool) -> dict:
    import screening as sc

    _warm()
    t = time.perf_counter()
    df = pd.read_parquet(path)
    res = sc.screen(df, SCALES)
    summ = res.summary(by="school")
    wall = time.perf_counter() - t
    out = {"wall_s": wall, "peak_mb": {"process": _maxrss_mb()}, "summary": summ}
    if verify:
        out["checksum"] = _checksum(res.table, df["row"].to_numpy())
    return out


def run_dask(path: Path, verify: bool) -> dict:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import screening as sc

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           memory_limit="8GiB")
    with Client(cluster) as client:
        _warm()
        client.run(_warm)  # the same on the workers: library imported, specs loaded, before timing
        t = time.perf_counter()
        ddf = dd.read_parquet(str(path))
        res = sc.screen(ddf, SCALES)
        summ = res.summary(by="school")
        wall = time.perf_counter() - t
        peaks = client.run(_maxrss_mb)
        out = {"wall_s": wall, "partitions": ddf.npartitions,
               "peak_mb": {f"worker{i}": v for i, v in enumerate(peaks.values())}, "summary": summ}
        if verify:
            plan = res.plan

            def digest(part: pd.DataFrame) -> pd.Series:
                table = plan.restore(part, columns=["tier", "urgent", "rescreen", "rules_fired"])
                # uint64 explicitly: a Series of one small int would be int64, and int64 + uint64 concatenate as float
                return pd.Series(np.array([_checksum(table, part["row"].to_numpy())], dtype=np.uint64))

            res_k = sc.scaleout.screen_distributed(ddf, SCALES, key="row")
            plan = res_k.plan
            parts = res_k.frame.map_partitions(digest, meta=(None, "uint64")).compute()
            out["checksum"] = int(np.bitwise_xor.reduce(parts.to_numpy(dtype=np.uint64)))
    cluster.close()
    return out


class _Poller(threading.Thread):
    """Peak RSS of the Spark JVM and of every Python worker it forks, polled every 0.2 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peaks: dict[str, float] = {}

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.stop.is_set():
            for p in me.children(recursive=True):
                try:
                    cmd = " ".join(p.cmdline())
                    rss = p.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                if "java" in cmd:
                    key = "jvm"
                elif "pyspark" in cmd or "daemon" in cmd or "worker" in cmd:
                    key = f"python_worker_{p.pid}"
                else:
                    continue
                self.peaks[key] = max(self.peaks.get(key, 0.0), rss)
            time.sleep(0.2)


def run_spark(path: Path, verify: bool) -> dict:
    import warnings

    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    import screening as sc

    poller = _Poller()
    poller.start()
    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.driver.memory", "4g").config("spark.sql.execution.arrow.pyspark.enabled", "true")
             # Arrow batches of 100,000 rows (default 10,000): fewer, larger calls of the partition function
             .config("spark.sql.execution.arrow.maxRecordsPerBatch", "100000")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    _warm()
    # start the JVM and warm the Python workers (they are reused) with a tiny screening before timing
    tiny = spark.createDataFrame(pd.read_parquet(next(iter(sorted(path.glob("part_*.parquet"))))).head(200)).repartition(2)
    sc.screen(tiny, SCALES).summary(by="school")
    t = time.perf_counter()
    sdf = spark.read.parquet(str(path))
    res = sc.screen(sdf, SCALES)
    summ = res.summary(by="school")
    wall = time.perf_counter() - t
    out = {"wall_s": wall, "partitions": sdf.rdd.getNumPartitions(), "summary": summ}
    if verify:
        from pyspark.sql import functions as F

        res_k = sc.scaleout.screen_distributed(sdf, SCALES, key="row")
        plan = res_k.plan

        def digest(batches):
            for part in batches:
                table = plan.restore(part, columns=["tier", "urgent", "rescreen", "rules_fired"])
                yield pd.DataFrame({"d": [np.int64(np.uint64(_checksum(table, part["row"].to_numpy())).view(np.int64))]})

        ds = res_k.frame.select("row", "tier", "urgent", "rescreen", "rules_fired").mapInPandas(digest, "d bigint")
        vals = ds.agg(F.collect_list("d")).collect()[0][0]
        out["checksum"] = int(np.bitwise_xor.reduce(np.array(vals, dtype=np.int64).view(np.uint64))) if vals else 0
    poller.stop.set()
    poller.join()
    peaks = dict(poller.peaks)
    workers = sorted((v for k, v in peaks.items() if k.startswith("python_worker")), reverse=True)
    out["peak_mb"] = {"jvm": peaks.get("jvm", float("nan")), **{f"python_worker{i}": v for i, v in enumerate(workers[:4])}}
    spark.stop()
    return out


def child(engine: str, rows: int, data: Path, verify: bool, summary_out: Path) -> None:
    global _DATA
    path = make_data(rows, data)
    _DATA = path
    os.environ["SCREENING_BENCH_DATA"] = str(path)  # for the Dask workers' warm-up
    fn = {"pandas": run_pandas, "dask": run_dask, "spark": run_spark}[engine]
    out = fn(path, verify)
    out.pop("summary").to_pickle(summary_out)
    print("RESULT " + json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    ap.add_argument("--engines", nargs="+", default=["pandas", "dask", "spark"], choices=["pandas", "dask", "spark"])
    ap.add_argument("--data", type=Path, default=Path("/tmp/screening_bench_scaleout"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--child", nargs=3, metavar=("ENGINE", "ROWS", "SUMMARY_PICKLE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.data, args.verify, Path(args.child[2]))
        return

    results = []
    for rows in args.rows:
        t = time.perf_counter()
        make_data(rows, args.data)
        print(f"data {rows:,} rows ready ({time.perf_counter() - t:.0f} s)", flush=True)
        summaries = {}
        for engine in args.engines:
            pkl = args.data / f"summary_{engine}_{rows}.pkl"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--data", str(args.data), "--child", engine, str(rows), str(pkl)]
            if args.verify:
                cmd.append("--verify")
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
            line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode or not line:
                print(proc.stdout[-3000:], proc.stderr[-5000:], file=sys.stderr)
                raise SystemExit(f"{engine} failed at {rows} rows")
            rec = json.loads(line[0][7:]) | {"engine": engine, "rows": rows}
            summaries[engine] = pd.read_pickle(pkl)
            results.append(rec)
            print(f"{rows:>11,} {engine:<7} {rec['wall_s']:8.1f} s  peak MB {json.dumps({k: round(v) for k, v in rec['peak_mb'].items()})}",
                  flush=True)
        base = [r for r in results if r["rows"] == rows and r["engine"] == "pandas"]
        for engine, summ in summaries.items():
            if "pandas" in summaries and engine != "pandas":
                pd.testing.assert_frame_equal(summaries["pandas"], summ, check_exact=True)
                rec = next(r for r in results if r["rows"] == rows and r["engine"] == engine)
                rec["summary_identical"] = True
                if base:
                    rec["overhead_ratio"] = rec["wall_s"] / base[0]["wall_s"]
                if args.verify:
                    rec["checksum_identical"] = rec["checksum"] == base[0]["checksum"]
                    assert rec["checksum_identical"], f"{engine}: per-student results differ at {rows} rows"
        print("  summaries identical to single-process: " + ", ".join(e for e in summaries if e != "pandas"), flush=True)

    print("\n| rows | engine | wall s | overhead × | peak MB per worker | summary identical |")
    print("|---:|---|---:|---:|---|---|")
    for r in results:
        peaks = ", ".join(f"{k} {v:,.0f}" for k, v in r["peak_mb"].items())
        ratio = f"{r['overhead_ratio']:.2f}" if "overhead_ratio" in r else "1"
        print(f"| {r['rows']:,} | {r['engine']} | {r['wall_s']:.1f} | {ratio} | {peaks} | {r.get('summary_identical', '—')} |")
    if args.json:
        meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                "load_avg_at_end": os.getloadavg()}
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))


if __name__ == "__main__":
    main()
