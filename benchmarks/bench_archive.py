"""City-scale archive benchmark: 130,000 students × 8 waves on SQLite and PostgreSQL.

    python benchmarks/bench_archive.py [--students 130000] [--waves 8] [--postgres URL] [--sqlite-only]

Per backend: time to add each wave (one transaction), then ``transitions`` and ``change`` between the last
two waves, ``due`` for the whole city, ``watchlist``, and one student's ``history`` (median of 50 look-ups);
for SQLite the file size per student-wave. The waves are the sample district screened once, repeated to the
city size with new ids, then moved a little per wave (scores re-banded, tiers re-drawn) — realistic shapes,
not realistic epidemiology. PostgreSQL uses a fresh database named ``bench_archive_<pid>``, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import screening as sc  # noqa: E402

KEY = sc.load_key(b"benchmark key, 32 bytes long!!!!")


def city(n: int) -> tuple[pd.DataFrame, pd.Series]:
    a = pd.read_csv(ROOT / "examples" / "data" / "sample_school.csv", dtype={"student_id": str})
    frame = sc.screen(a, scales=["phq9", "gad7"], rules="default", lang="zh").to_frame()
    reps = -(-n // len(frame))
    big = pd.concat([frame] * reps, ignore_index=True).iloc[:n]
    ids = pd.Series([f"44{i:016d}" for i in range(n)], name="student_id")
    return big, ids


def wave_frame(base: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The base frame with PHQ-9/GAD-7 totals moved by -2..+2, bands and tiers re-drawn to match."""
    rng = np.random.default_rng(seed)
    f = base.copy()
    for s, cuts in (("phq9", [5, 10, 15, 20]), ("gad7", [5, 10, 15])):
        x = np.clip(f[f"{s}.total"].to_numpy() + rng.integers(-2, 3, len(f)), 0, 27 if s == "phq9" else 21)
        f[f"{s}.total"] = x
        labels = ["minimal", "mild", "moderate", "moderately_severe", "severe"][: len(cuts) + 1]
        f[f"{s}.total.band"] = pd.Categorical(np.array(labels)[np.searchsorted(cuts, x, side="right")], categories=labels)
    worst = np.maximum(f["phq9.total"], f["gad7.total"])
    tier = np.where(worst >= 15, "orange", np.where(worst >= 10, "yellow", "green"))
    f["tier"] = pd.Categorical(tier, categories=["green", "yellow", "orange"])
    f["follow_up_days"] = np.where(tier == "orange", 14.0, np.where(tier == "yellow", 30.0, np.nan))
    return f


CPU: dict[str, float] = {}


def timed(fn, *a, **k):
    """Wall-clock seconds; the process CPU seconds of the same call go to CPU[fn name] (the machine is shared)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn(*a, **k)
    CPU[getattr(fn, "__name__", "?")] = time.process_time() - c
    return out, time.perf_counter() - t


def run(target: str, label: str, base: pd.DataFrame, ids: pd.Series, waves: int) -> dict[str, object]:
    arch = sc.open_archive(target, key=KEY, actor="bench")
    adds = []
    for w in range(waves):
        rep, t = timed(arch.add, wave_frame(base, w), wave=f"w{w + 1}", on=f"20{25 + w // 2}-{3 if w % 2 else 9:02d}-01", ids=ids)
        adds.append(t)
        print(f"  {label}: add wave {w + 1} ({rep.added:,} students) {t:.2f} s", flush=True)
    last, prev = f"w{waves}", f"w{waves - 1}"
    res: dict[str, object] = {"backend": label, "students": len(ids), "waves": waves,
                              "add_first_s": adds[0], "add_last_s": adds[-1], "add_median_s": statistics.median(adds)}
    res["add_last_cpu_s"] = CPU["add"]
    _, res["transitions_s"] = timed(arch.transitions, prev, last)
    res["transitions_cpu_s"] = CPU["transitions"]
    _, res["change_s"] = timed(arch.change, prev, last, score="phq9.total")
    res["change_cpu_s"] = CPU["change"]
    due, res["due_s"] = timed(arch.due, on="2030-01-01")
    res["due_cpu_s"] = CPU["due"]
    wl, res["watchlist_s"] = timed(arch.watchlist)
    look, look_cpu = [], []
    for i in range(50):
        _, t = timed(arch.history, ids.iloc[[i * 997 % len(ids)]])
        look.append(t)
        look_cpu.append(CPU["history"])
    res["history_ms"] = 1000 * statistics.median(look)
    res["history_cpu_ms"] = 1000 * statistics.median(look_cpu)
    _, res["export_long_s"] = timed(arch.export, "long")
    res["due_rows"] = len(due)
    res["watchlist_rows"] = len(wl)
    arch.close()
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=130_000)
    ap.add_argument("--waves", type=int, default=8)
    ap.add_argument("--postgres", default=os.environ.get("SCREENING_TEST_POSTGRES_URL"))
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    base, ids = city(args.students)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city.sqlite"
        r = run(str(path), "SQLite", base, ids, args.waves)
        size = sum(p.stat().st_size for p in Path(tmp).glob("city.sqlite*"))
        r["file_mb"] = size / 1e6
        r["bytes_per_student_wave"] = size / (args.students * args.waves)
        rows.append(r)
    if args.postgres and not args.sqlite_only:
        url = sa.engine.make_url(args.postgres)
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        name = f"bench_archive_{os.getpid()}"
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            target = url.set(database=name).render_as_string(hide_password=False)
            r = run(target, "PostgreSQL", base, ids, args.waves)
            eng = sa.create_engine(target)
            with eng.connect() as c:
                r["file_mb"] = c.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() / 1e6
            eng.dispose()
            r["bytes_per_student_wave"] = r["file_mb"] * 1e6 / (args.students * args.waves)
            rows.append(r)
        finally:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    out = pd.DataFrame(rows).set_index("backend").T
    print(out.to_string(float_format=lambda v: f"{v:,.3f}"))
    print(f"load average during the run: {os.getloadavg()}; CPUs: {os.cpu_count()}")


if __name__ == "__main__":
    main()
