"""End to end on the sample district: three waves screened from examples/data/sample_school.csv, one school made
worse in the later waves (synthetic), then the API, the long table written for `screening warn`, and the page.
Plus a property test of the table's invariants on random districts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import screening as sc
from screening.cli import main
from screening.warning import as_long, early_warning, render_warning_section, tier_transitions

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "sample_school.csv"
DATES = {"2025秋": "2025-09-03", "2026寒假前": "2026-01-08", "2026春": "2026-03-02"}


@pytest.fixture(scope="module")
def waves() -> dict[str, sc.ScreeningResult]:
    base = pd.read_csv(SAMPLE, dtype={"student_id": "string"}).set_index("student_id")
    items = [f"phq9_{i}" for i in range(1, 9)]
    out = {}
    for w, wave in enumerate(DATES):
        df = base.copy()
        if w > 0:  # synthetic later waves: 实验中学 gets worse; everybody else as before
            sel = df["school"] == "实验中学"
            df.loc[sel, items] = np.minimum(df.loc[sel, items] + 1, 3)
        out[wave] = sc.screen(df, scales=["phq9", "gad7"], rules="default", groups=["district", "school", "grade", "class"])
    return out


def test_three_waves_flag_the_school_that_got_worse(waves: dict[str, sc.ScreeningResult]) -> None:
    t = sc.early_warning(waves, dates=DATES, outcome="yellow")
    s = t[t["level"] == "school"].set_index(["group", "wave"])
    key = next(g for g in s.index.get_level_values(0) if g.endswith("实验中学"))
    raw = sc.early_warning(waves, dates=DATES, outcome="yellow", min_cell=1)  # unsuppressed, to check the rates
    r = raw[raw["level"] == "school"].set_index(["group", "wave"])["rate"]
    assert r[(key, "2026寒假前")] > r[(key, "2025秋")] + 0.2
    assert s.loc[(key, "2026寒假前"), "above_998"] and s.loc[(key, "2026春"), "above_998"]
    assert s.loc[(key, "2026寒假前"), "rising"] and s.loc[(key, "2026春"), "persistent"]
    assert t.attrs["screening"]["by"] == ["district", "school"]
    assert t[t["level"] == "all"]["period"].tolist() == ["autumn_term_start", "autumn_finals", "spring_term_start"]


def test_cli_on_the_three_wave_long_table(waves: dict[str, sc.ScreeningResult], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    long = as_long(waves, dates=DATES).frame
    assert {"student", "wave", "on", "tier", "school", "bullied"} <= set(long.columns)
    path = tmp_path / "waves.parquet"
    long.drop(columns=["student"]).to_parquet(path)
    assert main(["warn", str(path), "--outcome", "yellow", "--html", str(tmp_path / "w.html")]) == 0
    out = capsys.readouterr().out
    assert "实验中学" in out and "超出 99.8% 控制上限" in out and "明显上升" not in out.split("[school]")[0]
    assert "筛查结果，不是诊断" in out


def test_page_with_tier_flows(waves: dict[str, sc.ScreeningResult]) -> None:
    t = sc.early_warning(waves, dates=DATES, outcome="yellow")
    tr = tier_transitions(waves)
    assert tr.index.name == "2026寒假前" and tr.columns.name == "2026春"
    assert int(tr.attrs["screening"]["row_totals"][-1]) == 0  # the same students in both waves: nobody absent
    html = render_warning_section(t, transitions=tr)
    assert html.count("<svg") == 4 and "实验中学" in html  # funnel, school trends, risk-group trends, tier flows
    assert not any(sid in html for sid in waves["2025秋"].table.index[:50])  # no student id on the page


@st.composite
def districts(draw: st.DrawFn) -> pd.DataFrame:
    n_schools = draw(st.integers(2, 6))
    n_waves = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    parts = []
    for w in range(n_waves):
        for s in range(n_schools):
            n = int(rng.integers(1, 80))
            tiers = rng.choice(["green", "yellow", "orange", None], size=n, p=[0.7, 0.15, 0.1, 0.05])
            parts.append(pd.DataFrame({"wave": f"W{w}", "on": f"202{5 + w}-03-0{1 + s % 5}", "school": f"S{s}", "tier": tiers,
                                       "bullied": pd.array(rng.choice([True, False, None], size=n), dtype="boolean")}))
    return pd.concat(parts, ignore_index=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts(), st.sampled_from(["additive", "multiplicative", "none"]), st.integers(1, 12))
def test_table_invariants(data: pd.DataFrame, method: str, min_cell: int) -> None:
    t = early_warning(data, overdispersion=method, min_cell=min_cell)  # type: ignore[arg-type]
    vis = t[t["events"].notna()]
    ev = vis["events"].astype(int)
    rest = (vis["n"] - vis["events"]).astype(int)
    # nothing published in 1 .. min_cell - 1, neither a count nor its complement
    assert not ((ev > 0) & (ev < min_cell)).any()
    assert not ((rest > 0) & (rest < min_cell)).any()
    assert (t["suppressed"] == t["events"].isna()).all()
    assert t.loc[t["suppressed"], "rate"].isna().all() and t.loc[t["suppressed"], "z"].isna().all()
    # the rate lies in its interval; 99.8% implies 95%; the flag text matches the booleans
    r = vis.dropna(subset=["rate"])
    assert ((r["ci_low"] <= r["rate"] + 1e-12) & (r["rate"] <= r["ci_high"] + 1e-12)).all()
    assert not (t["above_998"] & ~t["above_95"]).any()
    assert ((t["flag"] != "") == (t["above_95"] | t["persistent"] | t["rising"])).all()
    # limits bracket the target; n only counts known tiers
    lim = t.dropna(subset=["upper95"])
    assert ((lim["lower998"] <= lim["lower95"] + 1e-12) & (lim["upper95"] <= lim["upper998"] + 1e-12)).all()
    all_rows = t[t["level"] == "all"]
    assert all_rows["n"].sum() == int(data["tier"].notna().sum())
