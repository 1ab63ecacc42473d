"""The HTML report and the charts: self-contained, suppressed, Chinese font, student pages only on request."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.text import Text

import screening as sc
from screening.columns import DISCLAIMER
from screening.reports import render_report, score_histogram, tier_bars
from screening.reports.fonts import CJK_FONTS, NoChineseFontWarning, cjk_font
from screening.reports.plots import figure_png

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
    assert html.count("<svg ") >= 4 + 2 and "data:image" not in html  # 4 group levels + 2 histograms, inline SVG
    assert "<text " in html and any("山区中学" in x for x in re.findall(r"<svg .*?</svg>", html, re.S))  # text kept as text
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


@pytest.fixture
def fonts_installed(monkeypatch):
    """Pretend the machine has exactly the given font families (no test depends on the real fonts)."""
    from screening.reports import fonts

    def use(names):
        monkeypatch.setattr(fonts, "installed_font_names", lambda: set(names))
        fonts.cjk_font.cache_clear()

    yield use
    fonts.cjk_font.cache_clear()


def _resolved_first_font(text):
    from matplotlib import font_manager

    return Path(font_manager.fontManager._find_fonts_by_props(text.get_fontproperties())[0]).name


def test_figures_without_a_chinese_font_warn_once_and_keep_a_latin_font(sample, fonts_installed):
    _, res = sample
    fonts_installed({"DejaVu Sans"})
    with pytest.warns(NoChineseFontWarning, match="apt-get install fonts-wqy-microhei"):
        fig = tier_bars(res, by=["school"], lang="zh", title="各校档案分布")
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert texts and all(t.get_fontfamily() == ["DejaVu Sans"] for t in texts)
    # digits and % are drawn with DejaVu Sans, never boxes; the list stays with the figure after rc_context
    assert all(_resolved_first_font(t) == "DejaVuSans.ttf" for t in texts)
    assert any(t.get_text().endswith("%") for t in texts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = figure_png(fig)  # already warned once: drawing adds no per-glyph warnings
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_with_a_chinese_font_list_it_after_the_latin_font(sample, fonts_installed):
    _, res = sample
    fonts_installed({"DejaVu Sans", "WenQuanYi Micro Hei", "Noto Sans CJK SC"})
    assert cjk_font() == "Noto Sans CJK SC" and cjk_font() in CJK_FONTS  # first of the preference list
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no font warning when a Chinese font is there
        fig = tier_bars(res, by=["school"], lang="zh", title="各校档案分布")
        hist = score_histogram(res, "phq9", lang="zh")
    for f in (fig, hist):
        texts = [t for t in f.findobj(Text) if t.get_text()]
        assert all(t.get_fontfamily() == ["DejaVu Sans", "Noto Sans CJK SC"] for t in texts)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(lab.startswith("全体") for lab in labels)
    assert any(p.get_hatch() == "///" for p in ax.patches)  # suppressed cells are hatched
    assert all(t.get_fontfamily()[0] == "DejaVu Sans" for t in ax.get_yticklabels() + ax.get_xticklabels())


@pytest.mark.parametrize("names", [{"DejaVu Sans"}, {"DejaVu Sans", "Noto Sans CJK SC"}])
def test_report_charts_are_svg_text_with_or_without_a_server_font(sample, fonts_installed, names):
    _, res = sample
    fonts_installed(names)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the report needs no font on the server: no warning either way
        html = render_report(res, by=["school"], lang="zh")
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 1 + 1 + 2  # schools, by sex, two histograms
    assert "各校" not in svgs[0] and "全体" in svgs[0] and "%" in svgs[0]
    assert all("<path d=\"M" in s and "font-family: 'DejaVu Sans', 'Noto Sans CJK SC'" in s for s in svgs)
    assert "xmlns" not in html and "<?xml" not in html


def test_histogram_hides_small_bins(sample, fonts_installed):
    _, res = sample
    fonts_installed({"DejaVu Sans", "Noto Sans CJK SC"})
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


# ---------------------------------------------------------------- school (internal) and district (shared) reports


@pytest.fixture(scope="module")
def teacher():
    import runpy

    wjx = runpy.run_path(str(ROOT / "examples" / "wjx_export.py"), run_name="wjx_export")
    frame = sc.read_responses(_export(wjx), scales=["phq9", "gad7"])
    with pytest.warns(UserWarning, match="flags not supplied"):
        res = sc.screen(frame, scales=["phq9", "gad7"], rules="default")
    return frame, res


def _export(wjx):
    import tempfile

    d = Path(tempfile.mkdtemp())
    return wjx["write_export"](d / "wjx.csv", n=150)


def test_school_report_shows_actual_counts_lists_and_due_dates(teacher, fonts_installed):
    frame, res = teacher
    fonts_installed({"DejaVu Sans"})
    n_urgent = int(res.table["urgent"].sum())
    assert 0 < n_urgent < 10  # a count the shared report must hide
    import pandas as pd

    staff = pd.DataFrame({"school": ["城东中学"], "psychology_teacher": [1]})
    html = render_report(res, audience="school", ids=frame["student_id"], identifiable=True, screening_date="2026-03-02",
                         students=True, responses=frame, staff=staff, capacity_hours={"psychology_teacher": 40}, lang="zh")
    assert "校内报告（内部工作用）" in html and "保密" in html.split("一、总体情况")[0]
    overview = html.split("二、分组比较")[0]
    assert re.search(rf'<div class="num">{n_urgent}</div><div class="lab">需立即干预（危机）', overview)
    for title in ("预警名单", "需重新测评名单", "跟进名单与到期日", "清单：留守儿童", "清单：单亲家庭", "清单：有心理障碍"):
        assert title in html
    assert "2026-03-02" in html and "2026-03-16" in html  # crisis today, orange in 14 days
    assert "未采集" in html and "0 (0" not in html.split("四、重点群体")[1].split("五、")[0]
    assert "按性别" in html and "男" in html
    assert re.search(r"心理健康教师需要 \d+\.\d 人的工作量（按每人每月 40 小时），现有 1 人", html)
    pages = html.split("六、学生个案页")[1]
    assert "PHQ-9 第9题" in pages and "好几天 (1)" in pages and "重点群体" in pages
    assert not re.search(r"\b(moderate|mild|severe|minimal)\b", pages)  # bands in Chinese on Chinese pages
    assert all(i in html for i in frame.loc[res.table["urgent"].to_numpy(), "student_id"])


def test_district_report_suppresses_and_names_nobody(teacher, fonts_installed):
    frame, res = teacher
    fonts_installed({"DejaVu Sans"})
    html = render_report(res, lang="zh")
    assert "区域共享报告：人数少于 10 的格子已隐去" in html and "校内报告" not in html
    overview = html.split("二、分组比较")[0]
    assert '<div class="num">—</div><div class="lab">需立即干预（危机）' in overview
    assert "预警名单（" not in html and not any(i in html for i in frame["student_id"])
    with pytest.raises(ValueError, match="The 'audience' parameter of render_report"):
        render_report(res, audience="everyone")
