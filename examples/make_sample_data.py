"""Generate the bundled synthetic school data set (no real student is in it).

    python examples/make_sample_data.py

writes ``examples/data/sample_school.csv``: two districts; three schools of
3 grades × 3 classes and one small rural school (two small classes, so that
reports show small-cell suppression), about 1,200 students, with risk-group
flags and PHQ-9 and GAD-7 answers drawn from a latent distress score (so the
scales correlate as they do in real data), a few unanswered items, a few
students who left most of a scale blank (they must be re-screened) and a few
positive PHQ-9 item 9 answers.
Student ids are random 19-digit strings shaped like a 学籍号.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "data" / "sample_school.csv"


def make(seed: int = 20261122) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    schools = {"第一中学": ("东城区", 0.0), "实验中学": ("东城区", 0.25), "城南中学": ("南湖区", -0.15)}
    for school, (district, school_shift) in schools.items():
        for grade in (7, 8, 9):
            for klass in (1, 2, 3):
                n = int(rng.integers(38, 50))
                for _ in range(n):
                    rows.append((district, school, grade, f"{grade}年级{klass}班", school_shift + 0.1 * (grade - 7)))
    # a small rural school: two small classes, so that summaries must suppress cells
    for klass, n in ((1, 12), (2, 8)):
        for _ in range(n):
            rows.append(("南湖区", "山区中学", 8, f"8年级{klass}班", 0.3))
    df = pd.DataFrame(rows, columns=["district", "school", "grade", "class", "shift"])
    n = len(df)
    df.insert(0, "student_id", [f"44010{int(x):014d}" for x in rng.integers(0, 10**14, n)])
    df.insert(1, "sex", rng.choice(["F", "M"], n))
    df = df[["student_id", "sex", "district", "school", "grade", "class", "shift"]]
    flags = {
        "left_behind": 0.12,
        "single_parent": 0.10,
        "bullied": 0.06,
        "poverty": 0.08,
        "migrant": 0.07,
        "disability": 0.02,
        "bereaved": 0.02,
        "known_disorder": 0.02,
    }
    for flag, p in flags.items():
        df[flag] = rng.random(n) < p
    latent = rng.normal(df["shift"].to_numpy(), 1.0) + 0.45 * df["bullied"].to_numpy() + 0.25 * df["left_behind"].to_numpy()

    def answers(k: int, loadings: float, thresholds: tuple[float, ...]) -> np.ndarray:
        noise = rng.normal(0, 1, (n, k))
        x = loadings * latent[:, None] + noise
        out = np.zeros((n, k))
        for t in thresholds:
            out += x > t
        return out

    phq = answers(9, 0.8, (0.9, 1.9, 2.7))
    phq[:, 8] = (latent + rng.normal(0, 0.8, n) > 2.6).astype(float) + (latent > 3.2)
    gad = answers(7, 0.8, (0.9, 1.9, 2.7))
    missing = rng.random((n, 16)) < 0.006
    both = np.hstack([phq, gad])
    both[missing] = np.nan
    # a few students who left most of PHQ-9 blank: too little to score, so they are re-screened
    blank = rng.random(n) < 0.006
    both[np.ix_(blank, np.arange(2, 9))] = np.nan
    for k in range(9):
        df[f"phq9_{k + 1}"] = both[:, k]
    for k in range(7):
        df[f"gad7_{k + 1}"] = both[:, 9 + k]
    return df.drop(columns=["shift"])


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    frame = make()
    frame.to_csv(OUT, index=False, encoding="utf-8", float_format="%.0f")
    print(f"wrote {len(frame)} students to {OUT}")
