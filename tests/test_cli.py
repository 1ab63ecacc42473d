"""The command line: screen, report, validate (rule files too), keygen — in-process and once as `python -m screening`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from screening.cli import main, read_table
from screening.columns import DISCLAIMER

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "data" / "sample_school.csv"
DEFAULT_RULES = ROOT / "tiering_rules" / "default.yaml"


def test_main_command_from_the_readme_as_a_subprocess(tmp_path):
    """The README's main command: screen the bundled sample school, write an offline HTML report."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "screening", "report", str(SAMPLE), "--scales", "phq9,gad7", "--rules", "default",
         "--lang", "zh", "-o", str(out)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},  # this checkout
    )
    assert proc.returncode == 0, proc.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"https?://", html)
    assert "学生心理健康筛查报告" in html and DISCLAIMER["zh"] in html
    summary = pd.read_csv(out / "summary.csv", comment="#")
    assert summary.loc[0, "n"] == len(pd.read_csv(SAMPLE))
    assert "wrote" in proc.stdout and "no student lists written" in proc.stderr
    assert not list(out.glob("warning_list*"))  # no list naming students unless asked


def test_report_with_pseudonyms_writes_lists_without_ids(tmp_path):
    key = tmp_path / "k.key"
    assert main(["keygen", str(key)]) == 0
    out = tmp_path / "out"
    code = main(["report", str(SAMPLE), "--scales", "phq9", "--scales", "gad7", "--key-file", str(key), "-o", str(out),
                 "--date", "2026-03-02", "--format", "json", "--by", "school", "--norm", "ganzhou_1_800", "-q"])
    assert code == 0
    wl = pd.read_json(out / "warning_list.json", typ="series")
    data = pd.DataFrame(wl["data"])
    assert data["pseudonym"].str.match(r"^k1-[0-9a-f]{16}$").all() and "student_id" not in data.columns
    ids = set(pd.read_csv(SAMPLE, dtype={"student_id": str})["student_id"])
    for f in out.iterdir():
        text = f.read_text(encoding="utf-8")
        assert not any(i in text for i in list(ids)[:300]), f.name
    assert (out / "group_left_behind.json").exists() and (out / "follow_up.json").exists()


def test_screen_identifiable_and_read_back(tmp_path, capsys):
    out = tmp_path / "tiers.csv"
    assert main(["screen", str(SAMPLE), "--scales", "phq9,gad7", "-o", str(out), "--identifiable", "--lang", "en",
                 "--summary", str(tmp_path / "summary.xlsx"), "-q"]) == 0
    back = read_table(str(out))  # the '#' disclaimer lines are skipped
    sample = pd.read_csv(SAMPLE, dtype={"student_id": str})
    assert back["student_id"].tolist() == sample["student_id"].tolist()
    assert back["reasons"].dropna().str.contains("PHQ-9 total|GAD-7 total|Crisis|Risk-group|re-screen|Known psychological", regex=True).all()
    assert "screened 1,207 students" in capsys.readouterr().out
    assert (tmp_path / "summary.xlsx").exists()


def test_validate_broken_rule_file_prints_every_problem(tmp_path, capsys):
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    broken = (text.replace("tier: orange\n", "tier: purple\n", 1)
                  .replace("phq9.total >= 15", "phq9.totl >= 15")
                  .replace("roles: [class_teacher, psychology_teacher]", "roles: [class_teacher, psych_teacher]"))
    path = tmp_path / "default.yaml"
    path.write_text(broken, encoding="utf-8")
    code = main(["validate", str(path), str(DEFAULT_RULES)])
    err = capsys.readouterr()
    assert code == 1
    assert "unknown tier 'purple'" in err.err and "phq9.totl" in err.err and "psych_teacher" in err.err
    assert "did you mean 'phq9.total'" in err.err and "did you mean 'psychology_teacher'" in err.err
    assert f"OK   {DEFAULT_RULES}" in err.out
    assert main(["validate", str(DEFAULT_RULES)]) == 0


def test_validate_unreadable_and_missing_files(tmp_path, capsys):
    bad = tmp_path / "dup.yaml"
    bad.write_text("kind: rules\nid: a\nid: b\n", encoding="utf-8")
    assert main(["validate", str(bad), str(tmp_path / "none.yaml")]) == 1
    err = capsys.readouterr().err
    assert "dup.yaml" in err and "none.yaml" in err and err.count("FAIL") == 2


def test_data_problems_exit_1_and_usage_problems_exit_2(tmp_path, capsys):
    df = pd.read_csv(SAMPLE, dtype={"student_id": str}).head(30)
    df.loc[3, "phq9_2"] = 7
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    assert main(["screen", str(bad), "--scales", "phq9,gad7", "-o", str(tmp_path / "x.csv"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "phq9_2" in err and "[3]" in err
    assert df.loc[3, "student_id"] not in err
    assert main(["report", str(SAMPLE), "--scales", "phq9", "--by", "nope", "-o", str(tmp_path / "o"), "-q"]) == 2
    assert main([]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["report", "--help"])
    assert exc.value.code == 0
    help_text = capsys.readouterr().out
    assert "--min-cell" in help_text and "报告" in help_text


def test_survey_exports_through_the_cli(tmp_path):
    """A 问卷星 download in option-text form and in option-index form give the same tiers from the CLI."""
    from pathlib import Path

    import pandas as pd

    from screening.cli import main

    fixtures = Path(__file__).parent / "fixtures" / "intake"
    outs = []
    for name in ("wjx_phq9_text.xlsx", "wjx_phq9_index.xlsx"):
        out = tmp_path / f"{name}.csv"
        with pytest.warns(UserWarning, match="flags not supplied"):  # the export has no risk-group columns
            code = main(["screen", str(fixtures / name), "--scales", "phq9", "--source", "wjx", "--start", "3",
                         "-o", str(out), "-q"])
        assert code == 0
        outs.append(pd.read_csv(out, comment="#"))
    assert len(outs[0]) == 12
    pd.testing.assert_series_equal(outs[0]["tier"], outs[1]["tier"])
    pd.testing.assert_series_equal(outs[0]["phq9.total"], outs[1]["phq9.total"])
    # without --start the scale is found by its options and wording: same scores
    assert main(["score", str(fixtures / "wjx_phq9_text.xlsx"), "--scale", "phq9", "--source", "wjx",
                 "-o", str(tmp_path / "x.csv")]) == 0
    pd.testing.assert_series_equal(pd.read_csv(tmp_path / "x.csv", comment="#")["phq9.total"], outs[0]["phq9.total"])


# ---------------------------------------------------------------- a teacher's 问卷星 export, one command

WJX = None


def _wjx():
    global WJX
    if WJX is None:
        import runpy

        WJX = runpy.run_path(str(ROOT / "examples" / "wjx_export.py"), run_name="wjx_export")
    return WJX


@pytest.mark.parametrize("kind", ["text", "index"])
def test_teacher_export_to_lists_in_one_command_with_quality_checks(tmp_path, capsys, kind):
    export = _wjx()["write_export"](tmp_path / f"wjx_{kind}.xlsx", n=80, kind=kind)
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="flags not supplied"):
        code = main(["report", str(export), "--scales", "phq9,gad7", "--lang", "zh", "-o", str(out), "--identifiable",
                     "--internal", "--staff", "psych=1", "--capacity", "psychology_teacher=40"])
    assert code == 0
    err = capsys.readouterr().err
    assert "Q8–Q16" in err and "Q17–Q23" in err and "left_behind" in err  # the mapping table
    assert "作答过快 2" in err and "需重新测评" in err  # the two speeders (18 s and 40 s for 24 questions)
    wl = read_table(str(out / "warning_list.csv"))
    ids = wl["student_id"].astype(str)
    assert ids.str.fullmatch(r"\d{19}").all()  # exact 19-digit 学籍号, never rounded
    assert set(ids) <= set(pd.read_excel(export, dtype=str)["24、学籍号"])
    raw = pd.read_excel(export, dtype=str)
    assert raw.loc[7, "24、学籍号"] in set(ids)  # row 7 answered PHQ-9 item 9 (thoughts of death): on the list
    assert len(read_table(str(out / "follow_up.csv"))) >= 2
    assert (out / "group_left_behind.csv").exists() and not (out / "group_poverty.csv").exists()  # not collected
    html = (out / "report_internal.html").read_text(encoding="utf-8")
    assert "测评日期：2026-03-02" in html  # from 提交答卷时间, not today
    assert re.search(r"心理健康教师需要 \d+\.\d 人的工作量（按每人每月 40 小时），现有 1 人", html)
    assert "校内报告（内部工作用）" in html and "预警名单" in html


def test_flags_and_id_column_by_question_number(tmp_path, capsys):
    export = _wjx()["write_export"](tmp_path / "wjx.csv", n=40)
    out = tmp_path / "tiers.csv"
    with pytest.warns(UserWarning, match="flags not supplied"):
        assert main(["screen", str(export), "--scales", "phq9,gad7", "--flags", "left_behind=5,single_parent=6,bullied=7",
                     "--id-column", "24", "--identifiable", "-o", str(out), "-q"]) == 0
    t = read_table(str(out))
    raw = pd.read_csv(export, dtype=str)
    assert list(t["student_id"].astype(str)) == list(raw["24、学籍号"])
    assert list(t["left_behind"].astype(bool)) == list(raw[_wjx()["FLAGS"][0]].eq("是"))
    assert main(["screen", str(export), "--scales", "phq9,gad7", "--flags", "left_behind=99", "-o", str(out),
                 "--lang", "zh", "-q"]) == 2
    assert "文件中没有第 99 题" in capsys.readouterr().err


def test_errors_speak_cli_and_chinese_and_warnings_are_one_line(tmp_path, capsys):
    export = _wjx()["write_export"](tmp_path / "num.xlsx", n=12, numeric_ids=True)
    assert main(["screen", str(export), "--scales", "phq9,gad7", "-o", str(tmp_path / "x.csv"), "--lang", "zh", "-q"]) == 1
    err = capsys.readouterr().err
    assert "学籍号等编号以数字存储" in err and "设为“文本”格式" in err and "Traceback" not in err
    assert main(["screen", str(export), "--scales", "phq9,gad7", "--start", "8", "-o", str(tmp_path / "x.csv"),
                 "--lang", "zh", "-q"]) == 2
    err = capsys.readouterr().err
    assert "--start phq9=8,gad7=17" in err and "parameter of read_responses" not in err
    # a scale that is not in the file: the hint is an option to add
    frame = _wjx()["make_export"](12)
    frame = frame[[c for c in frame.columns if not c[:2].rstrip("、").isdigit() or int(c.split("、")[0]) < 8
                   or int(c.split("、")[0]) > 16]]
    frame.to_csv(tmp_path / "nophq.csv", index=False)
    assert main(["screen", str(tmp_path / "nophq.csv"), "--scales", "phq9", "-o", str(tmp_path / "x.csv"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "--start phq9=" in err and "start={" not in err


def test_warnings_print_one_line_without_source(tmp_path):
    export = _wjx()["write_export"](tmp_path / "wjx.csv", n=30)
    proc = subprocess.run(
        [sys.executable, "-m", "screening", "screen", str(export), "--scales", "phq9,gad7", "-o", str(tmp_path / "t.csv"),
         "--lang", "zh", "-q"], capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )
    assert proc.returncode == 0, proc.stderr
    warn_lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("警告")]
    assert warn_lines and all("未采集" in ln for ln in warn_lines)
    assert "warnings.warn" not in proc.stderr and ".py:" not in proc.stderr
