"""Early-warning charts (SVG, text kept as text, no CJK font needed), the report section, transitions and the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from screening.cli import main
from screening.warning import early_warning, render_warning_section, tier_transitions
from screening.warning.plots import figure_svg, funnel_plot, transition_flow, trend_multiples
from screening.warning.simulate import simulate_district


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return simulate_district(n_schools=15, n_waves=3, excess_schools=1, excess_or=4.0, group_or=3.0, seed=7).frame


@pytest.fixture(scope="module")
def table(sim: pd.DataFrame) -> pd.DataFrame:
    return early_warning(sim)


def test_transitions_count_students_and_suppress(sim: pd.DataFrame) -> None:
    tr = tier_transitions(sim, min_cell=1)
    w2, w3 = sim[sim["wave"] == "W2"], sim[sim["wave"] == "W3"]
    expected = pd.crosstab(w2.set_index("student")["tier"], w3.set_index("student")["tier"])
    assert tr.index.name == "W2" and tr.columns.name == "W3"
    for a in ("green", "yellow", "orange"):
        for b in ("green", "yellow", "orange"):
            assert tr.loc[a, b] == expected.loc[a, b]
    # a student seen only in W3 is "absent" in W2
    part = sim[~((sim["wave"] == "W2") & (sim["student"] < 5))]
    tr2 = tier_transitions(part, min_cell=1)
    assert tr2.loc["absent"].sum() == 5
    hidden = tier_transitions(sim[sim["school"] == sim["school"].iloc[0]], min_cell=10)
    vals = hidden.to_numpy(dtype=float, na_value=np.nan)
    shown = vals[~np.isnan(vals)]
    assert ((shown == 0) | (shown >= 10)).all()
    assert np.isnan(vals).sum() != 1
    with pytest.raises(ValueError, match="student key"):
        tier_transitions(sim.drop(columns=["student"]))


def test_svg_keeps_text_and_needs_no_cjk_font(table: pd.DataFrame) -> None:
    svg = figure_svg(funnel_plot(table, lang="zh"))
    assert svg.startswith("<svg") and "<text" in svg
    assert "漏斗图" in svg  # Chinese stays text, for the browser's own Chinese font
    assert re.search(r"font-family: [^;]*'DejaVu Sans'", svg)
    assert "'Noto Sans CJK SC'" in svg


def test_funnel_plot_draws_only_published_points(table: pd.DataFrame) -> None:
    fig = funnel_plot(table, lang="en")
    ax = fig.axes[0]
    last = table[(table["level"] == "school") & (table["wave"] == "W3")]
    n_points = sum(len(c.get_offsets()) for c in ax.collections)
    assert n_points == int(last["rate"].notna().sum())


def test_trend_multiples_one_panel_per_group(table: pd.DataFrame) -> None:
    groups = table[table["level"] == "school"]["group"].unique()[:4].tolist()
    fig = trend_multiples(table, groups, lang="en")
    assert [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()] == groups


def test_transition_flow_draws(sim: pd.DataFrame) -> None:
    fig = transition_flow(tier_transitions(sim), lang="en")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("green") for t in texts) and any(t.startswith("orange") for t in texts)


def test_section_lists_flags_with_reasons(table: pd.DataFrame, sim: pd.DataFrame) -> None:
    html = render_warning_section(table, lang="zh", transitions=tier_transitions(sim))
    assert html.startswith("<section") and html.rstrip().endswith("</section>")
    assert html.count("<svg") == 4  # funnel, school trends, risk-group trends, tier flows
    flagged = table[(table["wave"] == "W3") & (table["flag"] != "") & (table["level"] == "school")]
    assert len(flagged)
    for text in flagged["explanation_zh"]:
        assert text.replace("「", "&quot;") in html or text in html
    text_only = render_warning_section(table, lang="en", charts=False)
    assert "<svg" not in text_only and "Screening, not diagnosis" in text_only
    assert "student" not in text_only.lower().replace("students", "")


def test_cli_warn_prints_flags_and_writes(tmp_path: Path, sim: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "long.csv"
    sim.to_csv(src, index=False)
    rc = main(["--lang", "en", "warn", str(src), "-o", str(tmp_path / "t.csv"), "--html", str(tmp_path / "w.html")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Early warning (W3" in out and "[school]" in out and "bullied students" in out
    assert (tmp_path / "w.html").read_text(encoding="utf-8").count("<svg") == 4  # funnel, trends, risk groups, tier flows
    back = pd.read_csv(tmp_path / "t.csv", comment="#")
    assert {"group", "wave", "n", "events", "rate", "ci_low", "ci_high", "z", "upper95", "upper998", "flag"} <= set(back.columns)
    assert main(["warn", str(src), "--persistence", "x"]) == 2
    assert main(["warn", str(tmp_path / "missing.csv")]) == 1
