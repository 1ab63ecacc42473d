"""The ``screening`` command (also ``python -m screening``).

Sub-commands are registered in :data:`COMMANDS`; each module that adds one
defines ``add_parser(subparsers)`` and a handler. Exit codes: 0 success,
1 a problem with the data or a file (all problems printed), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from ._params import InvalidParameterError
from .errors import Issue, ScreeningError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["build_parser", "main", "read_table", "write_table"]

EPILOG = """\
Examples / 示例 (screening, not diagnosis / 筛查结果，不是诊断):
  screening report examples/data/sample_school.csv --scales phq9,gad7 --rules default --lang zh -o out/
        screen a school and write out/report.html (charts and tables, no student names)
        测评一所学校并生成报告 out/report.html（只有汇总，不含学生姓名）
  screening screen answers.xlsx --scales phq9,gad7 -o tiers.csv --identifiable
        one row per student with tier, reasons and actions (with student ids: keep it confidential)
        每名学生一行：档案等级、原因、措施（含学号，须保密）
  screening list                                  show the built-in scales / 查看内置量表
  screening show phq9                             what a scale scores and its cut-offs / 量表计分与分界
  screening validate my_rules.yaml                check a scale or rule file / 检查量表或规则文件
  screening score answers.xlsx --scale phq9 -o scores.csv
  screening keygen secret.key                     make a key for pseudonyms / 生成化名密钥
"""

#: Column names taken as the student id when --id-column is not given.
ID_CANDIDATES = ("student_id", "学籍号", "学号", "id", "respondent_id")

SOURCE_HELP = (
    "where the file comes from: table (default: item columns already named phq9_1 …), auto (detect), "
    "wjx (问卷星 download), qualtrics, redcap, spss, csv, excel, parquet; anything but table reads the export "
    "through screening.read_responses, which maps question numbers and option text to the scale "
    "/ 文件来源，如 wjx（问卷星导出）"
)


def _comment_lines(path: Path, encoding: str) -> int:
    """Leading lines starting with '#' (the disclaimer and provenance this tool writes above a CSV header)."""
    n = 0
    with open(path, encoding=encoding) as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            n += 1
    return n


def read_table(path: str, *, id_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read CSV, Excel or Parquet by extension; ID-like columns stay text."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise ScreeningError([Issue("file_not_found", "no such file", file=str(p))], title="cannot read the input")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        head = ""
        with open(p, "rb") as fh:
            for raw in fh:
                head = raw.decode("utf-8-sig", errors="replace")
                if not head.startswith("#"):
                    break
        names = [c.strip() for c in head.split(",")]
        wanted = [c for c in (*id_columns, *ID_CANDIDATES) if c in names]
        dtype = dict.fromkeys(wanted, "string")
        for enc in ("utf-8-sig", "gb18030"):
            try:
                skip = _comment_lines(p, enc)
                return pd.read_csv(p, dtype=dtype or None, encoding=enc, skiprows=skip)
            except UnicodeDecodeError:
                continue
        raise ScreeningError(title=f"cannot read {p.name}: the file is neither UTF-8 nor GB18030 text")
    if suffix in (".xlsx", ".xls", ".xlsm"):
        dtype = dict.fromkeys((*id_columns, *ID_CANDIDATES), "string")
        return pd.read_excel(p, dtype=dtype)
    if suffix == ".parquet":
        return pd.read_parquet(p)
    raise ScreeningError([Issue("bad_format", f"cannot read {p.name}", file=str(p),
                                hint="use a .csv, .xlsx, .xls or .parquet file")], title="cannot read the input")


def write_table(frame: pd.DataFrame, path: str, provenance: Any = None) -> None:
    """Write CSV (UTF-8 with BOM, so Excel shows Chinese correctly), Excel, Parquet, JSON or HTML,
    labelled "screening, not diagnosis" and stamped with the provenance."""
    from .reports.export import write_frame

    write_frame(frame, path, provenance=provenance)


def _lang(args: argparse.Namespace, default: str) -> str:
    return getattr(args, "sub_lang", None) or args.lang or default


def _cmd_list(args: argparse.Namespace) -> int:
    from .catalog import list_scales, load_scale

    lang = _lang(args, "en")
    for sid in list_scales():
        s = load_scale(sid).spec
        print(f"{sid:8s} {len(s.items):4d} items  {s.license.verdict:12s} {s.title.get(lang)}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .catalog import load_scale

    s = load_scale(args.scale).spec
    lang = _lang(args, "en")
    print(f"{s.title.get(lang)}  [{s.id} v{s.version}]")
    print(f"form: {s.form}")
    print(f"items: {len(s.items)}; reverse-keyed: {', '.join(s.reverse) or 'none'}; licence: {s.license.verdict}")
    for sc in s.scores:
        parts = len(sc.items or sc.scores or ())
        print(f"  score {sc.id}: {sc.label.get(lang)} ({sc.method} of {parts})")
        if sc.bands is not None:
            bset = sc.bands.sets[sc.bands.default]
            for b in bset.bands:
                lo = f">= {b.ge:g}" if b.ge is not None else (f"> {b.gt:g}" if b.gt is not None else "")
                hi = f"<= {b.le:g}" if b.le is not None else (f"< {b.lt:g}" if b.lt is not None else "")
                print(f"      {b.id:18s} {lo:>7s} {hi:>7s}  {b.label.get(lang)}")
    for c in s.critical:
        print(f"  critical {c.id}: item {c.item} {c.op} {c.value:g} — {c.label.get(lang)}")
    for v in s.validity:
        print(f"  validity {v.id}: {v.score} {v.op} {v.value:g} — {v.label.get(lang)}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .catalog import load_scale
    from .loading import read_yaml
    from .tiering.ruleset import load_rules

    failed = 0
    for path in args.files:
        try:
            if not Path(path).is_file():
                raise ScreeningError([Issue("file_not_found", "no such file", file=path)], title=f"cannot read {path}")
            data, issues = read_yaml(path)
            if issues:
                raise ScreeningError(issues, title=f"cannot read {path}")
            kind = data.get("kind") if isinstance(data, dict) else None
            if kind == "rules":
                load_rules(Path(path))
            else:
                load_scale(Path(path))
            print(f"OK   {path}")
        except ScreeningError as exc:
            failed += 1
            print(f"FAIL {exc}", file=sys.stderr)
    return 1 if failed else 0


def _read_input(args: argparse.Namespace, scales: Sequence[str], id_columns: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """The input table and the response format to score it with.

    ``--source table`` reads the file as it is (item columns already named
    ``phq9_1`` …). Any other source goes through :func:`screening.read_responses`,
    which maps questions and option text to the scales and returns option values.
    """
    if args.source == "table":
        return read_table(args.input, id_columns=id_columns), args.response_format
    from .intake import read_responses

    fmt = None if args.response_format == "value" else args.response_format
    frame = read_responses(args.input, source=args.source, scales=list(scales), response_format=fmt,
                           on_invalid=args.on_invalid, start=_start(args.start))
    return frame, "value"


def _start(text: str | None) -> int | str | dict[str, int | str] | None:
    """``--start 3`` → 3; ``--start phq9=3,gad7=12`` → {"phq9": 3, "gad7": 12}; a column name stays text."""
    if not text:
        return None

    def one(v: str) -> int | str:
        v = v.strip()
        return int(v) if v.isdigit() else v

    if "=" not in text:
        return one(text)
    return {k.strip(): one(v) for k, v in (part.split("=", 1) for part in text.split(",") if part.strip())}


def _cmd_score(args: argparse.Namespace) -> int:
    import pandas as pd

    from .scoring import score

    frame, fmt = _read_input(args, args.scale, args.id_column or ())
    scored = score(frame, args.scale, response_format=fmt, on_invalid=args.on_invalid)
    keep = [c for c in (args.id_column or []) if c in frame.columns]
    out = pd.concat([frame[keep], scored], axis=1) if keep else scored
    write_table(out, args.output)
    print(f"scored {len(out)} rows × {len(args.scale)} scale(s) → {args.output}")
    return 0


def _scales(values: Sequence[str]) -> list[str]:
    out = [s.strip() for v in values for s in v.split(",") if s.strip()]
    if not out:
        raise InvalidParameterError("The '--scales' option must name at least one scale, e.g. phq9,gad7. Got nothing instead.")
    return out


def _key(args: argparse.Namespace) -> Any:
    if args.key_file and args.key_env:
        raise InvalidParameterError("The '--key-file' and '--key-env' options must not be used together. Got both instead.")
    if not (args.key_file or args.key_env):
        return None
    from .reports.privacy import load_key

    return load_key(file=args.key_file, env=args.key_env, version=args.key_version)


def _id_column(args: argparse.Namespace, frame: pd.DataFrame) -> str | None:
    if args.id_column:
        if args.id_column not in frame.columns:
            raise ScreeningError([Issue("missing_column", "id column not found", column=args.id_column)],
                                 title="cannot read student ids")
        return str(args.id_column)
    return next((c for c in ID_CANDIDATES if c in frame.columns), None)


def _run_screen(args: argparse.Namespace, lang: str) -> tuple[Any, pd.DataFrame, str | None]:
    from .screen import screen

    _say(args, f"reading {args.input} …")
    frame, fmt = _read_input(args, _scales(args.scales), [args.id_column] if args.id_column else ())
    id_col = _id_column(args, frame)
    groups = [g.strip() for g in args.group.split(",")] if args.group else None
    _say(args, f"screening {len(frame):,} students with {', '.join(_scales(args.scales))} and rules {args.rules} …")
    result = screen(frame, scales=_scales(args.scales), rules=args.rules, groups=groups, lang=lang,  # type: ignore[arg-type]
                    response_format=fmt, on_invalid=args.on_invalid)
    return result, frame, id_col


def _say(args: argparse.Namespace, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


def _ids_for(args: argparse.Namespace, frame: pd.DataFrame, id_col: str | None, key: Any) -> Any:
    if not (args.identifiable or key is not None):
        return None
    if id_col is None:
        raise ScreeningError([Issue("missing_column", "no student id column found",
                                    hint=f"name it with --id-column (looked for {', '.join(ID_CANDIDATES)})")],
                             title="cannot list students by id")
    return frame[id_col].astype("string")


def _cmd_screen(args: argparse.Namespace) -> int:
    import pandas as pd

    from .reports._common import identify

    lang = _lang(args, "zh")
    key = _key(args)
    result, frame, id_col = _run_screen(args, lang)
    ids = _ids_for(args, frame, id_col, key)
    ident = identify(result, ids, args.identifiable, key, "screening screen")
    t = result.table
    out = pd.concat([ident, result.groups, result.flags, result.scores,
                     t[["tier", "urgent", "rescreen", "follow_up_days", "reasons", "actions", "rules_fired"]]], axis=1)
    write_table(out.reset_index(drop=True), args.output, result.provenance)
    counts = ", ".join(f"{k} {v}" for k, v in result.tier_counts().items())
    print(f"screened {len(result):,} students ({counts}; urgent {int(t['urgent'].sum())}) → {args.output}")
    if ids is None:
        print("note: students are named by row number only (0 = first data row); add --identifiable for ids "
              "or --key-file for pseudonyms", file=sys.stderr)
    if args.summary:
        write_table(result.summary(by=None, min_cell=args.min_cell), args.summary)
        print(f"group summary → {args.summary}")
    return 0


def _staff(args: argparse.Namespace) -> pd.DataFrame | None:
    return read_table(args.staff) if args.staff else None


def _capacity(values: Sequence[str] | None) -> dict[str, float] | None:
    if not values:
        return None
    out = {}
    for v in values:
        role, sep, hours = v.partition("=")
        try:
            out[role.strip()] = float(hours)
        except ValueError:
            sep = ""
        if not sep:
            raise InvalidParameterError(
                f"The '--capacity' option must look like ROLE=HOURS (e.g. psychology_teacher=40). Got {v!r} instead.")
    return out


def _cmd_report(args: argparse.Namespace) -> int:
    from .reports._progress import progress_iter
    from .reports.export import write_frame
    from .reports.lists import follow_up_list, group_lists, warning_list
    from .reports.report import write_report
    from .reports.workload import workload

    lang = _lang(args, "zh")
    key = _key(args)
    day = args.date or dt.date.today().isoformat()
    out = Path(args.output)
    fmt = "." + args.format
    result, frame, id_col = _run_screen(args, lang)
    ids = _ids_for(args, frame, id_col, key)
    by = [g.strip() for g in args.by.split(",")] if args.by else None
    staff = _staff(args)
    capacity = _capacity(args.capacity)
    written: list[Path] = []
    steps = ["report", "summary", "workload"] + (["lists"] if (ids is not None or args.lists) else [])
    for step in progress_iter(steps, total=len(steps), desc="screening report", progress=None if not args.quiet else False):
        if step == "report":
            _say(args, "drawing charts and writing the report …")
            written.append(write_report(
                result, out / "report.html", by=by, lang=lang, min_cell=args.min_cell, screening_date=day, title=args.title,
                staff=staff, capacity_hours=capacity, norms=args.norm or (), students=args.students and ids is not None,
                ids=ids if args.students else None, identifiable=args.identifiable and args.students,
                key=key if args.students else None))
        elif step == "summary":
            written.append(write_frame(result.summary(by=by, min_cell=args.min_cell), out / f"summary{fmt}"))
        elif step == "workload":
            written.append(write_frame(workload(result, staff=staff, capacity_hours=capacity, norms=args.norm or ()),
                                       out / f"workload{fmt}"))
        else:
            written.append(write_frame(warning_list(result, ids, identifiable=args.identifiable, key=key),
                                       out / f"warning_list{fmt}"))
            written.append(write_frame(follow_up_list(result, day, ids, identifiable=args.identifiable, key=key),
                                       out / f"follow_up{fmt}"))
            for flag, lst in group_lists(result, ids, identifiable=args.identifiable, key=key).items():
                written.append(write_frame(lst, out / f"group_{flag}{fmt}"))
    counts = ", ".join(f"{k} {v}" for k, v in result.tier_counts().items())
    print(f"screened {len(result):,} students ({counts}; urgent {int(result.table['urgent'].sum())})")
    for p in written:
        print(f"wrote {p}")
    if ids is None and not args.lists:
        print("note: no student lists written (they name students): add --identifiable (ids) or --key-file "
              "(pseudonyms), or --lists (row numbers only)", file=sys.stderr)
    return 0


def _cmd_keygen(args: argparse.Namespace) -> int:
    from .reports.privacy import generate_key

    generate_key(args.keyfile)
    print(f"wrote a new key to {args.keyfile} — keep it apart from the data; lose it and pseudonyms cannot be matched again")
    return 0


Handler = Callable[[argparse.Namespace], int]
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []  # type: ignore[type-arg]


def _screen_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="answers: .csv, .xlsx, .xls or .parquet, one row per student "
                                 "(items as phq9_1 … phq9_9) / 作答数据，每名学生一行")
    p.add_argument("--scales", action="append", required=True, metavar="IDS",
                   help="scales to score, comma-separated, e.g. phq9,gad7 / 量表，逗号分隔")
    p.add_argument("--source", default="table",
                   choices=["table", "auto", "csv", "excel", "parquet", "spss", "wjx", "qualtrics", "redcap"],
                   help=SOURCE_HELP)
    p.add_argument("--start", metavar="Q",
                   help="with --source: question number (or column) where the scale begins, e.g. 3; for several "
                        "scales phq9=3,gad7=12 / 量表从第几题开始")
    p.add_argument("--rules", default="default",
                   help="rule set: built-in id (default, four_level) or a YAML file (default: default) / 分级规则")
    p.add_argument("--lang", dest="sub_lang", choices=["zh", "en"], default=None,
                   help="language of reasons, actions and the report (default zh) / 语言")
    p.add_argument("--group", metavar="COLS", help="group columns to keep, comma-separated "
                                                  "(default: district,school,grade,class,sex present) / 分组列")
    p.add_argument("--id-column", metavar="COL",
                   help=f"student id column (default: the first of {', '.join(ID_CANDIDATES)} present) / 学号列")
    p.add_argument("--identifiable", action="store_true",
                   help="write real student ids in student lists (confidential!) / 名单中写入学号（须保密）")
    p.add_argument("--key-file", metavar="FILE", help="key file for pseudonyms instead of ids (see keygen) / 化名密钥文件")
    p.add_argument("--key-env", metavar="VAR", help="environment variable holding the pseudonym key / 存放密钥的环境变量")
    p.add_argument("--key-version", default="k1", help="label put before every pseudonym (default k1)")
    p.add_argument("--response-format", choices=["value", "index", "label"], default="value",
                   help="value: option scores (PHQ-9 0-3); index: option numbers from 1 (问卷星 按选项序号); label: option text")
    p.add_argument("--on-invalid", choices=["raise", "missing"], default="raise",
                   help="raise (default): stop and list invalid answers; missing: treat them as unanswered")
    p.add_argument("--min-cell", type=int, default=10,
                   help="hide group counts below this (default 10) and the cells that would reveal them / 小格隐藏阈值")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="screening",
        description="Score school mental-health screening scales and sort students into tiers "
        "(green/yellow/orange). Screening, not diagnosis.\n"
        "学生心理健康测评计分与三色分级。筛查结果，不是诊断。",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"screening {__version__}")
    parser.add_argument("--lang", choices=["zh", "en"], default=None, help="language of labels (default en for "
                        "list/show, zh for screen/report)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list the built-in scales / 内置量表")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("show", help="show a scale's scores, cut-offs and critical items / 量表详情")
    p.add_argument("scale", help="built-in id (e.g. phq9) or a YAML file")
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("validate", help="check scale or rule files; prints every problem, exit 1 if any / 检查文件")
    p.add_argument("files", nargs="+", help="YAML files (kind: scale or kind: rules)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("score", help="score scales for every row of a CSV/Excel/Parquet file / 计分")
    p.add_argument("input", help="responses: .csv, .xlsx, .xls or .parquet, one row per student")
    p.add_argument("--scale", action="append", required=True, help="scale id or YAML file (repeat for several)")
    p.add_argument("--source", default="table",
                   choices=["table", "auto", "csv", "excel", "parquet", "spss", "wjx", "qualtrics", "redcap"],
                   help=SOURCE_HELP)
    p.add_argument("--start", metavar="Q",
                   help="with --source: question number (or column) where the scale begins, e.g. 3; for several "
                        "scales phq9=3,gad7=12 / 量表从第几题开始")
    p.add_argument("-o", "--output", required=True, help="where to write: .csv, .xlsx, .parquet, .json or .html")
    p.add_argument("--id-column", action="append", help="column(s) to keep as text and copy to the output")
    p.add_argument("--response-format", choices=["value", "index", "label"], default="value",
                   help="value: option scores (PHQ-9 0-3); index: option numbers from 1 (问卷星 按选项序号); label: option text")
    p.add_argument("--on-invalid", choices=["raise", "missing"], default="raise",
                   help="raise (default): stop and list invalid answers; missing: treat them as unanswered")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser(
        "screen", help="score and sort every student into a tier, with reasons and actions / 计分并分级",
        description="Score the scales and place every student in a tier (e.g. green/yellow/orange) with the reasons "
        "and the actions the rule set names. Writes one row per student. Students are named by row number unless "
        "you add --identifiable (real ids: keep the file confidential) or --key-file (pseudonyms).\n"
        "计分并为每名学生分级（绿/黄/橙），写出原因与措施。默认只写行号；加 --identifiable 写入学号（须保密），"
        "或加 --key-file 写入化名。",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _screen_options(p)
    p.add_argument("-o", "--output", required=True, help="result file: .csv, .xlsx, .parquet or .json / 结果文件")
    p.add_argument("--summary", metavar="FILE", help="also write the suppressed group summary here / 同时写出分组汇总")
    p.set_defaults(func=_cmd_screen)

    p = sub.add_parser(
        "report", help="screen and write an HTML report plus summary tables / 生成报告",
        description="Screen the students and write to the output folder: report.html (self-contained, opens offline: "
        "tier distribution, group comparison, score histograms, risk groups, workload), summary and workload "
        "tables. Group counts below --min-cell are hidden. Student lists (warning list, follow-up, three lists) "
        "only with --identifiable, --key-file/--key-env or --lists.\n"
        "测评并在输出文件夹写出 report.html（离线可打开）以及汇总表、工作量表。人数少于 --min-cell 的格子隐藏。"
        "学生名单（预警名单、跟进名单、三个清单）只有在加 --identifiable、--key-file 或 --lists 时才写出。",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _screen_options(p)
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder / 输出文件夹")
    p.add_argument("--by", metavar="COLS", help="group levels to compare, outermost first (default "
                                                "district,school,grade,class present) / 比较的层级")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="screening date, for follow-up dates (default today) / 测评日期")
    p.add_argument("--title", help="report title / 报告标题")
    p.add_argument("--format", choices=["csv", "xlsx", "json", "parquet"], default="csv",
                   help="format of the tables (default csv, opens in Excel) / 表格格式")
    p.add_argument("--lists", action="store_true", help="write student lists even without ids (row numbers only)")
    p.add_argument("--students", action="store_true",
                   help="add confidential per-student pages to the report (needs --identifiable or a key) / 学生个案页")
    p.add_argument("--staff", metavar="FILE", help="staff per school: columns school, psychology_teacher, "
                                                   "class_teacher, school_leader[, enrolment] / 师资表")
    p.add_argument("--capacity", action="append", metavar="ROLE=HOURS",
                   help="hours per month one person can give, e.g. psychology_teacher=40 (repeatable) / 每人每月可用小时")
    p.add_argument("--norm", action="append", choices=["one_per_school", "ganzhou_1_800", "jinan_500"],
                   help="staffing norm to check (repeatable) / 核对配备标准")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("keygen", help="make a new random key file for pseudonyms / 生成化名密钥")
    p.add_argument("keyfile", help="where to write the key (never overwritten; keep it apart from the data)")
    p.set_defaults(func=_cmd_keygen)

    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except InvalidParameterError as exc:  # before ScreeningError, its base class
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ScreeningError as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
