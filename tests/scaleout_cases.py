"""Data and comparisons shared by the scale-out tests (Dask, Spark and the plan itself)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import screening as sc

ROOT = Path(__file__).resolve().parent.parent
SCALES = ["phq9", "gad7"]
BY = ["school", "grade", "class"]


def sample_with_blanks() -> pd.DataFrame:
    """The sample district (1,207 students) with realistic gaps added at fixed positions.

    25 blank classes (as in the measured Dask pitfall), a few blank schools, a skipped crisis item, a
    blank risk flag, a blank grade turns the column float, and a row number as the caller's row key.
    """
    df = pd.read_csv(ROOT / "examples" / "data" / "sample_school.csv")
    df["class"] = df["class"].astype(object)
    df.loc[np.arange(3, 1207, 48)[:25], "class"] = np.nan
    df.loc[[10, 500, 900], "school"] = np.nan
    df.loc[[7, 8, 9, 400], "phq9_9"] = np.nan  # crisis item skipped: unknown, never "no"
    df.loc[[11, 12, 13, 14, 15, 16], ["phq9_1", "phq9_2", "phq9_3", "phq9_4"]] = np.nan  # too many missing: insufficient
    df["bullied"] = df["bullied"].astype(object)
    df.loc[[20, 21, 22], "bullied"] = None
    df["class"] = df["class"].astype("str")
    df["row"] = np.arange(len(df), dtype=np.int64)
    return df


def synthetic(n: int = 400, seed: int = 16) -> pd.DataFrame:
    """Small random data with blank items, blank flags, blank and empty-string group keys."""
    rng = np.random.default_rng(seed)
    p = [0.55, 0.25, 0.12, 0.08]
    items = {f"phq9_{k}": rng.choice(4, n, p=p).astype(float) for k in range(1, 10)}
    items["phq9_9"] = rng.choice(4, n, p=[0.92, 0.04, 0.02, 0.02]).astype(float)  # crisis item: rarely endorsed
    items |= {f"gad7_{k}": rng.choice(4, n, p=p).astype(float) for k in range(1, 8)}
    df = pd.DataFrame(items)
    for col in df.columns:
        df.loc[rng.random(n) < 0.04, col] = np.nan
    school = rng.choice(np.array(["一中", "二中", "实验中学", ""], dtype=object), n)
    school[rng.random(n) < 0.05] = None
    df["school"] = pd.array(school, dtype="str")
    df["grade"] = rng.choice([7, 8, 9], n).astype(np.int64)
    cls = rng.choice(np.array(["1班", "2班"], dtype=object), n)
    cls[rng.random(n) < 0.1] = None
    df["class"] = pd.array(cls, dtype="str")
    for flag in sc.load_rules("default").flags:
        values = (rng.random(n) < 0.15).astype(object)
        values[rng.random(n) < 0.2] = None  # unknown, never "no"
        df[flag] = values
    df["left_behind"] = rng.random(n) < 0.3  # a complete flag stays a plain bool column
    df["row"] = np.arange(n, dtype=np.int64)
    return df


def reference(df: pd.DataFrame) -> sc.ScreeningResult:
    return sc.screen(df, SCALES)


def assert_same(ref: sc.ScreeningResult, got: sc.ScreeningResult) -> None:
    """Values and dtypes of every part equal (data-dependent categories compared as sets, as pandas' dtype == does)."""
    for part in ("table", "scores", "flags", "groups"):
        a, b = getattr(ref, part), getattr(got, part)
        assert list(a.columns) == list(b.columns), part
        pd.testing.assert_index_equal(a.index, b.index)
        for c in a.columns:
            assert a[c].dtype == b[c].dtype, (part, c, a[c].dtype, b[c].dtype)
            pd.testing.assert_series_equal(a[c], b[c], check_category_order=False, check_exact=True, obj=f"{part}.{c}")
    assert got.provenance["rules"] == ref.provenance["rules"]


def assert_same_summary(ref: sc.ScreeningResult, summary_of, bys=(BY, "class", [])) -> None:
    """Summaries by the hierarchy and by one column (blank keys included) equal the single-machine ones exactly."""
    for by in bys:
        want = ref.summary(by=by)
        got = summary_of(by)
        pd.testing.assert_frame_equal(want, got, check_exact=True)
    # blank group keys are a group of their own: every student is counted
    total = len(ref)
    by_class = ref.summary(by="class", min_cell=1)
    assert by_class.loc[by_class["level"] == "class", "n"].sum() == total
