"""Every built-in scale, from the file to the tiers, side by side with the ways people do it otherwise.

    python benchmarks/bench_all.py                 # 1,000,000 students (issue 13's table)
    python benchmarks/bench_all.py --quick         # 100,000 students, fewer rounds (iteration)
    python benchmarks/bench_all.py --scales phq9 scl90 mht sdq --rounds 5 --json out.json

Per built-in scale, on the same in-memory float64 frame (answers uniform over the options, ~1% blank),
in interleaved rounds (each round runs every implementation once; medians reported):

- ``sc.score(df, scale)`` (defaults: one thread; the compiled front when numba is installed);
- ``numpy``: the same call with the compiled front switched off (``SCREENING_FUSED=0``): the engine's
  own tight numpy pass, same outputs;
- ``pandas``: ``tests/reference_scorer.py``, idiomatic pandas computing the same rules (keyed copy,
  ``notna().sum``, ``sum(axis=1)``, masks, bands, status, critical items, validity) — the scorer the
  engine is tested against bit for bit;
- ``probe``: a fused compiled kernel (numba, one loop over students × items) computing only the
  item-based sums/means with their missing rules: what one compiled pass costs, as a floor;
- ``sc.screen(df, [scale], rules="default")``;
- R ``psych::scoreFast`` (one run) / ``psych::scoreItems`` (on the first 100,000 rows, scaled to n:
  it takes minutes per million) on the same rows (when R with psych is installed), in a subprocess,
  timed inside R; they compute the item-based sum/mean scales only (no prorating rules, bands,
  status or critical items).

Then: ``read_responses`` + ``screen`` of a 1M PHQ-9 + GAD-7 CSV and Parquet file (with a long
numeric student id kept as text) against pandas' fastest reader of the same file with the same dtypes;
peak extra memory of ``screen`` on 10M PHQ-9 + GAD-7 students (tracemalloc, in a subprocess);
warm latency of one student; cold start (a fresh interpreter: import + load + screen one student),
beside the import of pandas alone. The load average is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import screening as sc  # noqa: E402
from screening.engine import fused  # noqa: E402
from tests.reference_scorer import reference_score  # noqa: E402

PY = sys.executable


def make(scale: sc.Scale, n: int, seed: int = 0, missing: float = 0.01) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cs = scale.compiled
    data = {}
    for k, col in enumerate(scale.input_columns()):
        v = rng.choice(cs.allowed[k], size=n).astype(np.float64)
        v[rng.random(n) < missing] = np.nan
        data[col] = v
    return pd.DataFrame(data)


# ------------------------------------------------------------------ the compiled probe

_probe = None


def probe_kernel():
    global _probe
    if _probe is None:
        import numba

        @numba.njit(nogil=True, cache=True)
        def kern(X, lo, hi, sign, off, ptr, idx, n_items, mean, min_ans, prorate, out):  # pragma: no cover
            # X: (students, items) in Fortran order (a view of the frame's block): each item contiguous
            n = X.shape[0]
            ch = 8192
            tot = np.empty(ch)
            got = np.empty(ch)
            for c0 in range(0, n, ch):
                m = min(ch, n - c0)
                for s in range(len(ptr) - 1):
                    tot[:m] = 0.0
                    got[:m] = 0.0
                    for e in range(ptr[s], ptr[s + 1]):
                        k = idx[e]
                        sg = sign[k]
                        of = off[k]
                        for i in range(m):
                            v = X[c0 + i, k]
                            ok = v == v
                            tot[i] += (v * sg + of) if ok else 0.0
                            got[i] += ok
                    for i in range(m):
                        g = got[i]
                        if g < min_ans[s]:
                            out[c0 + i, s] = np.nan
                        elif mean[s]:
                            out[c0 + i, s] = tot[i] / g
                        elif prorate[s]:
                            out[c0 + i, s] = tot[i] * n_items[s] / g
                        else:
                            out[c0 + i, s] = tot[i]
            return out

        _probe = kern
    return _probe


def probe_args(scale: sc.Scale):
    cs = scale.compiled
    ptr, idx, n_items, mean, min_ans, prorate = [0], [], [], [], [], []
    for s in cs.scores:
        if s.kind != "items" or s.method not in ("sum", "mean"):
            continue
        items = np.flatnonzero(cs.members[:, s.column])
        idx.extend(items.tolist())
        ptr.append(len(idx))
        n_items.append(float(len(items)))
        mean.append(s.method == "mean")
        min_ans.append(s.n_parts if s.impute == "none" else s.min_answered)
        prorate.append(s.impute == "prorate")
    return (cs.lo, cs.hi, cs.sign, cs.offset, np.array(ptr, np.intp), np.array(idx, np.intp), np.array(n_items),
            np.array(mean), np.array(min_ans, np.int64), np.array(prorate))


def run_probe(df: pd.DataFrame, args) -> np.ndarray:
    X = df.to_numpy()  # a view of the frame's one float64 block (items × students, Fortran order as rows × items)
    out = np.empty((len(df), len(args[4]) - 1))
    return probe_kernel()(X, *args[:5], args[5], args[6], args[7], args[8], args[9], out)


# ------------------------------------------------------------------ R psych

R_SCRIPT = r"""
suppressMessages(library(psych))
a <- commandArgs(TRUE)
n <- as.integer(a[2]); k <- as.integer(a[3])
con <- file(a[1], "rb"); x <- readBin(con, "double", n * k); close(con)
X <- matrix(x, nrow = n, ncol = k)
colnames(X) <- paste0("V", 1:k)
keys <- eval(parse(text = a[4]))
lo <- as.numeric(a[6]); hi <- as.numeric(a[7]); m <- as.integer(a[8])
tf <- c()
for (r in 1:as.integer(a[5])) tf <- c(tf, system.time(s1 <- scoreFast(keys, X, totals = FALSE, min = lo, max = hi))[["elapsed"]])
# scoreItems (alpha, correlations, ...) takes minutes on 1M rows: timed on the first m rows, scaled to n
Xs <- X[1:m, , drop = FALSE]
ti <- system.time(s2 <- scoreItems(keys, Xs, impute = "none", min = lo, max = hi))[["elapsed"]] * n / m
cat(median(tf), ti, "\n")
"""


def r_available() -> bool:
    try:
        r = subprocess.run(["Rscript", "-e", "suppressMessages(library(psych))"], capture_output=True, timeout=60)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_r(scale: sc.Scale, df: pd.DataFrame, rounds: int, tmp: Path) -> tuple[float, float] | None:
    cs = scale.compiled
    keys = []
    for s in cs.scores:
        if s.kind != "items" or s.method not in ("sum", "mean"):
            continue
        items = np.flatnonzero(cs.members[:, s.column]) + 1
        keyed = [f"'{'-' if cs.sign[k - 1] < 0 else ''}V{k}'" for k in items]
        keys.append(f"{s.id}=c({','.join(keyed)})")
    if not keys:
        return None
    X = df.to_numpy(dtype=np.float64)
    path = tmp / f"{scale.id}.bin"
    np.asfortranarray(X).T.tofile(path)  # column-major, as R's matrix()
    cmd = ["Rscript", "-e", R_SCRIPT, str(path), str(len(df)), str(X.shape[1]), f"list({','.join(keys)})", str(rounds),
           str(float(cs.lo.min())), str(float(cs.hi.max())), str(min(len(df), 100_000))]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    path.unlink()
    if r.returncode != 0:
        print(f"  R failed for {scale.id}: {r.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    fast_t, items_t = (float(x) for x in r.stdout.split())
    return fast_t, items_t


# ------------------------------------------------------------------ helpers


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def interleaved(fns: dict, rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            times[k].append(timed(fn))
    return {k: statistics.median(v) for k, v in times.items()}


class FusedOff:
    def __enter__(self):
        os.environ["SCREENING_FUSED"] = "0"

    def __exit__(self, *exc):
        os.environ.pop("SCREENING_FUSED", None)


def score_numpy(df, scale):
    with FusedOff():
        return sc.score(df, scale)


def fmt_ratio(x: float) -> str:
    return f"{x:.1f}×" if x >= 1 else f"1/{1 / x:.1f}"


# ------------------------------------------------------------------ sections


def bench_scales(ids, n, rounds, pandas_rounds, with_r, tmp, r_scales=()):
    rows = []
    for sid in ids:
        scale = sc.load_scale(sid)
        df = make(scale, n)
        args = probe_args(scale)
        sc.score(df.iloc[:1000], scale)
        fns = {
            "score": lambda df=df, scale=scale: sc.score(df, scale),
            "numpy": lambda df=df, scale=scale: score_numpy(df, scale),
            "screen": lambda df=df, scale=scale: sc.screen(df, [scale], rules="default"),
        }
        if len(args[4]) > 1:
            run_probe(df.iloc[:100], args)
            fns["probe"] = lambda df=df, args=args: run_probe(df, args)
        med = interleaved(fns, rounds)
        med["pandas"] = statistics.median(timed(lambda df=df, scale=scale: reference_score(df, scale))
                                          for _ in range(pandas_rounds))
        if with_r and sid in r_scales:
            r = run_r(scale, df, 1, tmp)
            if r is not None:
                med["r_scorefast"], med["r_scoreitems"] = r
        med["scale"] = sid
        med["items"] = scale.compiled.n_items
        rows.append(med)
        print(f"  {sid}: " + ", ".join(f"{k} {v:.3f}" for k, v in med.items() if isinstance(v, float)), flush=True)
    return rows


def phq_gad(n: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = pd.array((rng.integers(10**17, 10**18, n)).astype(str), dtype="string")  # 18-digit ids: text, never float
    parts = [pd.DataFrame({"student_id": ids})]
    for sid in ("phq9", "gad7"):
        parts.append(make(sc.load_scale(sid), n, seed=seed + len(parts)))
    return pd.concat(parts, axis=1)


def bench_files(n, rounds, tmp, excel_rows=100_000):
    df = phq_gad(n)
    csv, pq, xl = tmp / "phq_gad.csv", tmp / "phq_gad.parquet", tmp / "phq_gad.xlsx"
    df.to_csv(csv, index=False)
    df.to_parquet(pq, index=False)
    item_cols = [c for c in df.columns if c != "student_id"]
    dtypes = {"student_id": "string", **dict.fromkeys(item_cols, "float64")}
    scales = ["phq9", "gad7"]

    def pandas_csv():
        return pd.read_csv(csv, engine="pyarrow", dtype=dtypes)

    def pandas_pq():
        return pd.read_parquet(pq)

    res = {}
    sc.read_responses(csv, scales=scales, id_column="student_id")
    for name, path, pd_fn in (("csv", csv, pandas_csv), ("parquet", pq, pandas_pq)):
        fns = {
            "pandas_read": pd_fn,
            "read_responses": lambda p=path: sc.read_responses(p, scales=scales, id_column="student_id"),
            "read_screen": lambda p=path: sc.screen(sc.read_responses(p, scales=scales, id_column="student_id"), scales),
        }
        for fn in fns.values():  # one untimed call each: the first read of a process or of a freshly written file
            fn()                 # pays one-time costs (page cache, thread pools, imports) that are not the reader's
        med = interleaved(fns, max(rounds, 5))
        res[name] = med
        print(f"  {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in med.items()), flush=True)
    # Excel: a smaller sheet (writing a million-row workbook takes minutes); pandas reads it with the engine
    # read_responses itself uses (calamine when python-calamine is installed, else openpyxl), ids as text
    if excel_rows:
        engine = "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"
        df.iloc[:excel_rows].to_excel(xl, index=False, engine="openpyxl")
        fns = {
            "pandas_read": lambda: pd.read_excel(xl, engine=engine, dtype={"student_id": str}),
            "read_responses": lambda: sc.read_responses(xl, scales=scales, id_column="student_id"),
            "read_screen": lambda: sc.screen(sc.read_responses(xl, scales=scales, id_column="student_id"), scales),
        }
        med = interleaved(fns, max(1, min(rounds, 2)))
        res["excel"] = {**med, "rows": excel_rows, "engine": engine}
        print("  excel: " + ", ".join(f"{k} {v:.3f}" for k, v in med.items()), flush=True)
    mem = df.memory_usage(deep=True).sum()
    res["screen_in_memory"] = statistics.median(timed(lambda: sc.screen(df, scales)) for _ in range(rounds))
    res["score_in_memory"] = statistics.median(timed(lambda: sc.score(df, scales)) for _ in range(rounds))
    res["table_mib"] = mem / 2**20
    return res


MEM_CHILD = r"""
import sys, tracemalloc, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/benchmarks")
import numpy as np, pandas as pd, screening as sc
from bench_all import make
n = int(sys.argv[2])
parts = [make(sc.load_scale(s), n, seed=i) for i, s in enumerate(("phq9", "gad7"))]
df = pd.concat(parts, axis=1)
df["left_behind"] = np.random.default_rng(0).random(n) < 0.1
sc.screen(df.iloc[:70000], ["phq9", "gad7"])
tracemalloc.start()
base = tracemalloc.get_traced_memory()[0]
t = time.perf_counter()
res = sc.screen(df, ["phq9", "gad7"])
el = time.perf_counter() - t
peak = tracemalloc.get_traced_memory()[1] - base
int8 = n * 16
print(el, peak, int8, df.memory_usage().sum())
"""


def bench_memory(n):
    r = subprocess.run([PY, "-c", MEM_CHILD, str(ROOT), str(n)], capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        print("  memory run failed:", r.stderr[-500:], file=sys.stderr)
        return None
    el, peak, int8, table = (float(x) for x in r.stdout.split())
    return {"rows": n, "seconds": el, "peak_extra_mib": peak / 2**20, "int8_table_mib": int8 / 2**20,
            "float_table_mib": table / 2**20}


STREAM_MAKE = r"""
import sys
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/benchmarks")
import numpy as np, pyarrow as pa, pyarrow.parquet as pq, screening as sc
from bench_all import phq_gad
n, path, step = int(sys.argv[2]), sys.argv[3], 1_000_000
writer = None
for k in range(0, n, step):  # written a million rows at a time: making the file must not need the memory either
    part = phq_gad(min(step, n - k), seed=5 + k)
    table = pa.Table.from_pandas(part, preserve_index=False)
    writer = writer or pq.ParquetWriter(path, table.schema)
    writer.write_table(table, row_group_size=250_000)
writer.close()
"""

STREAM_CHILD = r"""
import os, sys, time, tracemalloc, warnings
sys.path.insert(0, sys.argv[1])
import numpy as np, pandas as pd, screening as sc
warnings.simplefilter("ignore", UserWarning)
path, out, chunk = sys.argv[2], sys.argv[3], int(sys.argv[4])
import pyarrow.parquet as pq
n = pq.ParquetFile(path).metadata.num_rows
head = pd.read_parquet(path).iloc[:1000] if n <= 1000 else next(pq.ParquetFile(path).iter_batches(1000)).to_pandas()
sc.screen(head, ["phq9", "gad7"])  # warm: scales, rules and code loaded before measuring
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
def hwm():  # peak RSS since the reset below (getrusage's ru_maxrss is not used: on Linux it survives fork+exec,
    # so a child started by a big benchmark process reports its parent's size)
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:"))
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak-RSS mark to the current RSS
base_rss = rss()
tracemalloc.start()
base = tracemalloc.get_traced_memory()[0]
t = time.perf_counter()
res = sc.screen_file(path, ["phq9", "gad7"], out=out, chunksize=chunk, id_column="student_id")
el = time.perf_counter() - t
peak = tracemalloc.get_traced_memory()[1] - base
peak_rss = hwm() - base_rss
print(el, peak, peak_rss, n * 16, res.rows)
"""


def bench_stream_memory(n, chunk=100_000):
    """``screen_file`` of an n-row Parquet file: peak extra memory (tracemalloc, and peak RSS) in a fresh process."""
    with tempfile.TemporaryDirectory() as td:
        path, out = Path(td) / "big.parquet", Path(td) / "tiers.parquet"
        r = subprocess.run([PY, "-c", STREAM_MAKE, str(ROOT), str(n), str(path)], capture_output=True, text=True,
                           timeout=3600)
        if r.returncode != 0:
            print("  streaming file failed:", r.stderr[-500:], file=sys.stderr)
            return None
        r = subprocess.run([PY, "-c", STREAM_CHILD, str(ROOT), str(path), str(out), str(chunk)], capture_output=True,
                           text=True, timeout=7200)
        if r.returncode != 0:
            print("  streaming run failed:", r.stderr[-500:], file=sys.stderr)
            return None
        el, peak, peak_rss, int8, rows = (float(x) for x in r.stdout.split())
    return {"rows": int(rows), "chunk": chunk, "seconds": el, "peak_extra_mib": peak / 2**20,
            "peak_rss_extra_mib": peak_rss / 2**20, "int8_table_mib": int8 / 2**20}


COLD = r"""
import sys, time
t0 = time.perf_counter()
import pandas as pd
t1 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
import screening as sc
df = pd.DataFrame([{**{f"phq9_{i}": 1.0 for i in range(1, 10)}, **{f"gad7_{i}": 2.0 for i in range(1, 8)}}])
res = sc.screen(df, ["phq9", "gad7"])
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def bench_latency(rounds):
    df = pd.DataFrame([{**{f"phq9_{i}": 1.0 for i in range(1, 10)}, **{f"gad7_{i}": 2.0 for i in range(1, 8)}}])
    for _ in range(20):
        sc.screen(df, ["phq9", "gad7"])
    warm_screen = statistics.median(timed(lambda: sc.screen(df, ["phq9", "gad7"])) for _ in range(200))
    warm_score = statistics.median(timed(lambda: sc.score(df, ["phq9", "gad7"])) for _ in range(200))
    colds = []
    for _ in range(rounds):
        r = subprocess.run([PY, "-c", COLD, str(ROOT)], capture_output=True, text=True, timeout=600)
        colds.append(tuple(float(x) for x in r.stdout.split()))
    return {"warm_screen": warm_screen, "warm_score": warm_score,
            "cold_pandas_import": statistics.median(c[0] for c in colds),
            "cold_beyond_pandas": statistics.median(c[1] for c in colds)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="100,000 rows, 3 rounds, 1M rows for memory")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pandas-rounds", type=int, default=1)
    ap.add_argument("--scales", nargs="*", default=None)
    ap.add_argument("--mem-rows", type=int, default=10_000_000)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--excel-rows", type=int, default=100_000, help="rows of the Excel file (0: no Excel)")
    ap.add_argument("--r-scales", nargs="*", default=["phq9", "scl90", "mht", "sdq"],
                    help="scales R psych also scores (about a minute each per million rows on this machine)")
    ap.add_argument("--skip", nargs="*", default=[], choices=["scales", "files", "memory", "latency"])
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore", UserWarning)  # "risk-group flags not supplied": the benchmark data has none
    if a.quick:
        a.rows, a.mem_rows, a.excel_rows = 100_000, 1_000_000, min(a.excel_rows, 20_000)
    ids = a.scales or sc.list_scales()
    with_r = not a.no_r and r_available()
    info = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rows": a.rows, "rounds": a.rounds,
            "python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
            "fused_available": fused._get_kernel() is not None, "r_psych": with_r, "nproc": os.cpu_count(),
            "load_before": os.getloadavg()}
    print(f"bench_all: {a.rows:,} rows, {a.rounds} interleaved rounds, load {info['load_before']}", flush=True)
    results: dict = {"info": info}
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        if "scales" not in a.skip:
            results["scales"] = bench_scales(ids, a.rows, a.rounds, a.pandas_rounds, with_r, tmp, a.r_scales)
        if "files" not in a.skip:
            results["files"] = bench_files(a.rows, a.rounds, tmp, a.excel_rows)
    if "memory" not in a.skip:
        results["memory"] = bench_memory(a.mem_rows)
        results["stream_memory"] = bench_stream_memory(a.mem_rows)
    if "latency" not in a.skip:
        results["latency"] = bench_latency(a.rounds)
    info["load_after"] = os.getloadavg()
    report(results)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1, default=float))


def report(res):
    info = res["info"]
    n = info["rows"]
    print(f"\n## bench_all — {info['when']}, {n:,} students, medians of {info['rounds']} interleaved rounds, "
          f"load average {info['load_before'][0]:.1f} → {info['load_after'][0]:.1f} ({info['nproc']} cores)\n")
    if "scales" in res:
        print("| scale | items | `sc.score` s | numpy front s | compiled probe s | score ÷ probe | pandas ÷ score "
              "| `sc.screen` s | screen ÷ score | R scoreFast ÷ score | R scoreItems ÷ score |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in res["scales"]:
            s = r["score"]
            probe = f"{r['probe']:.3f}" if "probe" in r else "—"
            sp = fmt_ratio(s / r["probe"]) if "probe" in r else "—"
            rf = fmt_ratio(r["r_scorefast"] / s) if "r_scorefast" in r else "—"
            ri = fmt_ratio(r["r_scoreitems"] / s) if "r_scoreitems" in r else "—"
            print(f"| {r['scale']} | {r['items']} | {s:.3f} | {r['numpy']:.3f} | {probe} | {sp} | "
                  f"{fmt_ratio(r['pandas'] / s)} | {r['screen']:.3f} | {r['screen'] / s:.2f} | {rf} | {ri} |")
    if "files" in res:
        f = res["files"]
        print(f"\nPHQ-9 + GAD-7, {n:,} students with an 18-digit id (in memory: score {f['score_in_memory']:.3f} s, "
              f"screen {f['screen_in_memory']:.3f} s)\n")
        print("| file | rows | pandas' reader s | `read_responses` s | ÷ pandas | read + screen s |")
        print("|---|---:|---:|---:|---:|---:|")
        readers = {"csv": "read_csv(engine='pyarrow')", "parquet": "read_parquet"}
        for k in ("csv", "parquet", "excel"):
            if k not in f:
                continue
            m = f[k]
            rows = m.get("rows", n)
            reader = readers.get(k) or f"read_excel(engine='{m.get('engine')}')"
            print(f"| {k} (`{reader}`) | {rows:,} | {m['pandas_read']:.3f} | {m['read_responses']:.3f} | "
                  f"{m['read_responses'] / m['pandas_read']:.2f}× | {m['read_screen']:.3f} |")
    if res.get("memory"):
        m = res["memory"]
        print(f"\nMemory: `screen` of {m['rows']:,} PHQ-9 + GAD-7 students: {m['seconds']:.2f} s, peak extra "
              f"{m['peak_extra_mib']:.0f} MiB (tracemalloc) = {m['peak_extra_mib'] / m['int8_table_mib']:.2f}× the "
              f"answers as int8 ({m['int8_table_mib']:.0f} MiB; the float64 input is {m['float_table_mib']:.0f} MiB)")
    if res.get("stream_memory"):
        m = res["stream_memory"]
        print(f"\nStreaming: `screen_file` of a {m['rows']:,}-row PHQ-9 + GAD-7 Parquet file in chunks of "
              f"{m['chunk']:,} (tiers written to Parquet): {m['seconds']:.1f} s, peak extra {m['peak_extra_mib']:.0f} MiB "
              f"(tracemalloc) = {m['peak_extra_mib'] / m['int8_table_mib']:.2f}× the answers as int8; peak RSS "
              f"+{m['peak_rss_extra_mib']:.0f} MiB = {m['peak_rss_extra_mib'] / m['int8_table_mib']:.2f}× "
              f"(includes Arrow's buffers, which tracemalloc does not see)")
    if "latency" in res:
        lt = res["latency"]
        print(f"\nOne student (PHQ-9 + GAD-7): warm `screen` {lt['warm_screen'] * 1e3:.2f} ms, warm `score` "
              f"{lt['warm_score'] * 1e3:.2f} ms; cold start: import pandas {lt['cold_pandas_import']:.2f} s, then "
              f"import screening + load + screen {lt['cold_beyond_pandas']:.2f} s")


if __name__ == "__main__":
    main()
