"""``screening archive add|waves|history|transitions|due`` end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

from archive_fixtures import ROOT

from screening.cli import main


def test_archive_commands(archive_target, tmp_path, capsys):
    key = tmp_path / "district.key"
    assert main(["keygen", str(key)]) == 0
    src = tmp_path / "answers.csv"
    src.write_text("\n".join((ROOT / "examples" / "data" / "sample_school.csv").read_text(encoding="utf-8").splitlines()[:61]) + "\n",
                   encoding="utf-8")
    k = ["--key-file", str(key)]
    assert main(["archive", "add", archive_target, str(src), "--scales", "phq9,gad7", "--wave", "2025秋",
                 "--on", "2025-09-10", "-q", *k]) == 0
    assert "added 60" in capsys.readouterr().out
    assert main(["archive", "add", archive_target, str(src), "--scales", "phq9,gad7", "--wave", "2026春",
                 "--on", "2026-03-02", "--period", "开学", "-q", *k]) == 0
    capsys.readouterr()
    assert main(["archive", "waves", archive_target, *k]) == 0
    out = capsys.readouterr().out
    assert "2025秋" in out and "2026春" in out and "开学" in out
    first_id = src.read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    assert main(["archive", "history", archive_target, "--ids", first_id, "--purpose", "班主任查阅", *k]) == 0
    out = capsys.readouterr().out
    assert out.count("k1-") == 2 and first_id not in out
    assert main(["archive", "transitions", archive_target, "2025秋", "2026春", *k]) == 0
    assert "absent" in capsys.readouterr().out
    due = tmp_path / "due.csv"
    assert main(["archive", "due", archive_target, "--on", "2026-06-01", "-o", str(due), *k]) == 0
    lines = [ln for ln in due.read_text(encoding="utf-8-sig").splitlines() if not ln.startswith("#")]
    assert lines[0].startswith("pseudonym,wave,item,due_on") and len(lines) > 1
    assert main(["archive", "waves", archive_target]) == 2  # no key: usage error


def test_three_wave_example_runs(tmp_path, capsys):
    import runpy

    mod = runpy.run_path(str(ROOT / "examples" / "archive_three_waves.py"), run_name="example")
    mod["main"](tmp_path)
    out = capsys.readouterr().out
    for part in ("== waves ==", "absent", "Jacobson–Truax", "== due on 2026-10-15", "== one student's history ==",
                 "hash chain intact", "no student id inside"):
        assert part in out
    assert (tmp_path / "trend_phq9.svg").read_text(encoding="utf-8").count("<svg") == 1
