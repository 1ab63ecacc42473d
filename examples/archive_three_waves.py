"""Three screening waves of the same district in one archive (一生一档), followed until green.

    python examples/archive_three_waves.py [OUTPUT_DIR]

1. the sample district is screened in autumn 2025; spring and autumn 2026 are synthetic later waves (answers
   moved a little, some students leaving and new ones arriving) — the same ids, as a real roster would have;
2. each wave goes into one SQLite archive under keyed pseudonyms (no id is stored; the key stays apart);
3. the tier transition table, the follow-up/re-screen due list, the watch list and one student's history
   with its one-line summary and reliable change.

A district server works the same way with a URL: sc.open_archive("postgresql+psycopg://…", key=key).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import screening as sc

HERE = Path(__file__).parent


def later(answers: pd.DataFrame, seed: int, leave: int) -> pd.DataFrame:
    """Some months on: a few answers move by one option; ``leave`` students gone, the same number new."""
    rng = np.random.default_rng(seed)
    out = answers.copy()
    items = [c for c in out.columns if c.startswith(("phq9_", "gad7_"))]
    vals = out[items].to_numpy(dtype=float)
    # most answers stay; a few move one option either way (down a little more often: the clip at 0 would
    # otherwise push a mostly-healthy population upwards wave after wave)
    step = rng.choice([-1, 0, 1], size=vals.shape, p=[0.12, 0.8, 0.08])
    out[items] = np.where(np.isnan(vals), np.nan, np.clip(vals + step, 0, 3))
    new = out.sample(leave, random_state=seed).assign(student_id=[f"44019{seed}{i:013d}" for i in range(leave)])
    return pd.concat([out.iloc[leave:], new], ignore_index=True)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    key_file = out / "district.key"  # in real use: held by the education bureau, never next to the archive
    if not key_file.exists():
        sc.generate_key(key_file)
    key = sc.load_key(file=key_file)
    path = out / "district.sqlite"
    for p in out.glob("district.sqlite*"):
        p.unlink()
    arch = sc.open_archive(path, key=key, actor="psych01")

    autumn = pd.read_csv(HERE / "data" / "sample_school.csv", dtype={"student_id": str})
    spring = later(autumn, 1, leave=40)
    autumn2 = later(spring, 2, leave=60)
    for answers, wave, on, period in ((autumn, "2025秋", "2025-09-10", "开学"), (spring, "2026春", "2026-03-02", "开学"),
                                      (autumn2, "2026秋", "2026-09-08", "开学")):
        result = sc.screen(answers, scales=["phq9", "gad7"], rules="default", lang="zh")
        print(arch.add(result, wave=wave, on=on, ids=answers["student_id"], period=period))

    print("\n== waves ==")
    print(arch.waves().to_string(index=False))
    print("\n== tiers 2026春 → 2026秋 (absent = screened in one wave only) ==")
    print(arch.transitions("2026春", "2026秋"))
    print("\n== PHQ-9 reliable change 2026春 → 2026秋 (Jacobson–Truax) ==")
    change = arch.change("2026春", "2026秋", score="phq9.total")
    print(change["clinical"].value_counts().to_string())
    print(f"(S_diff {change.attrs['change']['s_diff']:.2f}; a change of more than {change.attrs['change']['rc']:.2f} points is reliable)")

    print("\n== due on 2026-10-15, urgent first ==")
    due = arch.due(on="2026-10-15")
    print(due.head(10).to_string(index=False))
    print(f"… {len(due)} items; {int(due['urgent'].sum())} urgent")
    roster = pd.DataFrame({"student_id": autumn2["student_id"], "pseudonym": arch.pseudonyms(autumn2["student_id"])})
    first = roster.merge(due, on="pseudonym")["student_id"].head(1)  # the school matches pseudonyms to its roster
    arch.record_action(first, kind="interview", on="2026-10-16", actor="psych01", fulfils="follow_up")
    print(f"after recording an interview: {len(arch.due(on='2026-10-15'))} items")

    print("\n== watch list (followed until green) ==")
    print(arch.watchlist().head(5).to_string(index=False))

    sid = autumn.loc[autumn["student_id"].isin(autumn2["student_id"]), "student_id"].iloc[0]  # screened in all three
    print("\n== one student's history ==")
    hist = arch.history([sid], purpose="class teacher's look-up")
    print(hist[["wave", "on", "tier", "phq9.total", "phq9.total.band", "gad7.total", "gad7.total.band"]].to_string(index=False))
    print(arch.student_summary(sid))
    print(arch.student_summary(sid, lang="en"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (out / "trend_phq9.svg").write_text(arch.trend_svg(sid, score="phq9.total"), encoding="utf-8")
    print("\n== the district report with the longitudinal section and the early-warning page ==")
    last = sc.screen(autumn2, scales=["phq9", "gad7"], rules="default", lang="zh")
    report = sc.write_report(last, out / "report.html", archive=arch, early_warning=sc.early_warning(arch, level="school"),
                             transitions=sc.warning.tier_transitions(arch), progress=False)
    print(report)
    print(f"\naccess log: {arch.verify_log()} rows, hash chain intact; chart {out / 'trend_phq9.svg'}")
    arch.close()
    print(f"archive {path} ({path.stat().st_size / 1e6:.1f} MB, no student id inside)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "out" / "archive")
