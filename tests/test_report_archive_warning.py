"""The report with the archive's longitudinal section, per-student history, and the early-warning page."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from archive_fixtures import KEY, later_wave, screen

import screening as sc
from screening.warning.transitions import tier_transitions


@pytest.fixture
def three_waves(tmp_path, archive_answers):
    arch = sc.open_archive(tmp_path / "a.sqlite", key=KEY, actor="psych01")
    b = later_wave(archive_answers, 1, drop=10)
    c = later_wave(b, 2, drop=5)
    for ans, wave, on in ((archive_answers, "2025秋", "2025-09-10"), (b, "2026春", "2026-03-02"), (c, "2026秋", "2026-09-08")):
        arch.add(screen(ans), wave=wave, on=on, ids=ans["student_id"])
    yield arch, c
    arch.close()


def test_report_shows_transitions_between_the_last_two_waves(three_waves):
    arch, c = three_waves
    res = screen(c)
    html = sc.render_report(res, archive=arch, lang="zh")
    assert "纵向追踪" in html
    sec = html[html.index("纵向追踪"):]
    sec = sec[: sec.index("</section>")]
    tab = arch.transitions("2026春", "2026秋", min_cell=10)
    # every visible count of the archive's (suppressed) table is printed, and hidden ones as —
    for v in tab.to_numpy().ravel():
        if pd.isna(v):
            assert "—" in sec
        else:
            assert f">{int(v):,}<" in sec
    assert "2026春" in sec and "2026秋" in sec


def test_student_pages_carry_history_and_a_trend_chart_without_other_ids(three_waves):
    arch, c = three_waves
    res = screen(c)
    html = sc.render_report(res, archive=arch, students=True, ids=c["student_id"], identifiable=True, lang="zh")
    listed = sc.reports.warning_list(res, c["student_id"], identifiable=True)
    assert len(listed) > 0
    assert html.count("历次筛查（档案）") == len(listed)
    assert html.count("<svg") >= len(listed)  # at least one trend chart (PHQ-9 total) per listed student
    one = listed["student_id"].iloc[0]
    line = arch.student_summary(one, lang="zh")
    assert "PHQ-9" in line and line in html


def test_early_warning_page_in_the_district_report(three_waves):
    arch, c = three_waves
    res = screen(c)
    table = sc.early_warning(arch, level="school")
    flows = tier_transitions(arch)
    html = sc.render_report(res, early_warning=table, transitions=flows, lang="zh")
    assert "class='early-warning'" in html
    assert len(re.findall(r"<svg", html)) >= 2
    # a district report never carries a raw id
    assert not any(str(i) in html for i in c["student_id"])
