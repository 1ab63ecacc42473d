"""From raw answers to the report a school acts on (screening, not diagnosis).

    python examples/school_report.py [OUTPUT_DIR]

1. read the answers (one row per student; ids read as text);
2. screen with PHQ-9 and GAD-7 and the default three-colour rules;
3. group summary with small cells suppressed;
4. the early-warning list and the risk-group lists, with keyed pseudonyms
   instead of student ids (the key is made once and kept apart from the data);
5. workload against the staff the schools have;
6. the self-contained HTML report (opens offline).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import screening as sc
from screening.reports import generate_key, group_lists, load_key, warning_list, workload, write_frame, write_report

HERE = Path(__file__).parent


def main(out: Path) -> None:
    answers = pd.read_csv(HERE / "data" / "sample_school.csv", dtype={"student_id": str})
    result = sc.screen(answers, scales=["phq9", "gad7"], rules="default", lang="zh")
    print(result)

    summary = result.summary(by=["district", "school", "grade"])  # counts below 10 hidden, with their complements
    write_frame(summary, out / "summary.csv")

    key_file = out / "pseudonym.key"  # in real use: somewhere else, never next to the data
    if not key_file.exists():
        generate_key(key_file)
    key = load_key(file=key_file)
    write_frame(warning_list(result, answers["student_id"], key=key), out / "warning_list.csv")
    for flag, students in group_lists(result, answers["student_id"], key=key).items():
        write_frame(students, out / f"group_{flag}.csv")

    staff = pd.DataFrame({"school": ["第一中学", "实验中学", "城南中学", "山区中学"],
                          "psychology_teacher": [1, 1, 2, 0], "school_leader": [3, 3, 3, 1]})
    load = workload(result, staff=staff, capacity_hours={"psychology_teacher": 40, "class_teacher": 6, "school_leader": 8},
                    norms=["one_per_school", "ganzhou_1_800"])
    write_frame(load, out / "workload.csv")

    report = write_report(result, out / "report.html", screening_date="2026-03-02", staff=staff,
                          capacity_hours={"psychology_teacher": 40, "class_teacher": 6, "school_leader": 8},
                          norms=["one_per_school", "ganzhou_1_800"])
    print(f"wrote {report} and the tables in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "out")
