"""The HTML report and the charts: self-contained, suppressed, Chinese font, student pages only on request."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

import screening as sc
from screening.reports import render_report, score_histogram, tier_bars
from screening.reports.fonts import CJK_FONTS, cjk_font
from screening.reports.plots import figure_png
from screening.result import DISCLAIMER

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = ROOT / "examples" / "data" / "sample_school.csv"


@pytest.fixture(scope="module")
def sample():
    df = pd.read_csv(SAMPLE, dtype={"student_id": "string"})
    return df, sc.screen(df, scales=["phq9", "gad7"], rules="default")


def test_report_is_self_contained_and_labelled(sample):
    df, res = sample
    html = render_report(res, screening_date="2026-03-02")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)  # nothing loaded from the network
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html
    assert html.count("data:image/png;base64,") >= 4 + 2  # 4 group levels + 2 histograms
    assert DISCLAIMER["zh"] in html and DISCLAIMER["en"] in html
    assert res.rules.content_hash in html and res.scales[0].content_hash in html
    assert "三色档案" in html and "山区中学" in html
    # nothing identifying: no student id, no confidential pages
    assert not any(i in html for i in df["student_id"].head(200))
    assert "保密：本页含可识别学生身份的信息" not in html


def test_student_pages_only_on_request_and_suppressed_cells_shown(sample):
    df, res = sample
    with pytest.raises(ValueError, match="The 'students' parameter of render_report must be True"):
        render_report(res, ids=df["student_id"], identifiable=True)
    html = render_report(res, by=["school", "class"], students=True, ids=df["student_id"], identifiable=True,
                         screening_date="2026-03-02", lang="en")
    assert 'class="sup"' in html and "— means suppressed" in html
    assert "Wilson" in html and "Holm" in html
    assert "CONFIDENTIAL" in html
    urgent_ids = df.loc[res.table["urgent"].to_numpy(), "student_id"]
    assert all(i in html for i in urgent_ids)
    assert html.count('class="student"') == int((res.table["tier"] != "green").sum())


def test_text_is_escaped():
    df = pd.DataFrame({"school": ["<script>alert(1)</script>"] * 12, **{f"phq9_{k}": [0] * 12 for k in range(1, 10)},
                       **{f"gad7_{k}": [0] * 12 for k in range(1, 8)}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sc.screen(df, scales=["phq9", "gad7"], rules="default")
    html = render_report(res, title="<b>x</b>")
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "<b>x</b>" not in html


def test_chinese_font_found_and_charts_render(sample):
    _, res = sample
    assert cjk_font() in CJK_FONTS  # fonts-wqy-microhei (or another CJK font) is installed here
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would warn
        fig = tier_bars(res, by=["school"], lang="zh", title="各校档案分布")
        png = figure_png(fig)
        png2 = figure_png(score_histogram(res, "phq9", lang="zh"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png2[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(lab.startswith("全体") for lab in labels)
    assert any(p.get_hatch() == "///" for p in ax.patches)  # suppressed cells are hatched


def test_histogram_hides_small_bins(sample):
    _, res = sample
    fig = score_histogram(res, "phq9", min_cell=10)
    ax = fig.axes[0]
    bars = [p for c in ax.containers for p in c]
    solid = [p for p in bars if p.get_hatch() is None]
    hatched = [p for p in bars if p.get_hatch() == "///"]
    assert hatched and all(p.get_height() == 10 for p in hatched)
    assert all(p.get_height() == 0 or p.get_height() >= 10 for p in solid)
    with pytest.raises(ValueError, match="The 'scale' parameter of score_histogram"):
        score_histogram(res, "cesd")


def test_example_script_runs_from_answers_to_report(tmp_path):
    import runpy

    mod = runpy.run_path(str(ROOT / "examples" / "school_report.py"), run_name="example")
    mod["main"](tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "配备标准核对 1" in html and "每月缺口" in html
    wl = pd.read_csv(tmp_path / "warning_list.csv", comment="#")
    assert wl["pseudonym"].str.startswith("k1-").all() and "student_id" not in wl.columns


def test_progress_only_when_interactive(monkeypatch):
    from screening.reports._progress import progress_iter, want_progress

    assert want_progress(False) is False
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    assert want_progress(None) is False  # pytest's stderr is not a terminal, no notebook here
    assert want_progress(True) is True  # tqdm is installed in the test environment
    assert list(progress_iter(range(3), progress=False)) == [0, 1, 2]
