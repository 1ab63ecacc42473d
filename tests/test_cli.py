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
from screening.result import DISCLAIMER

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
