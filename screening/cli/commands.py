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

from .. import __version__
from .._params import InvalidParameterError
from ..errors import Issue, ScreeningError

if TYPE_CHECKING:
    import pandas as pd

    from ..scoring import ResponseFormat

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
    "where the file comes from: auto (default: detect 问卷星/Qualtrics/…, or a plain table), table (read as it is, "
    "item columns already named phq9_1 …), "
    "wjx (问卷星 download), qualtrics, redcap, spss, csv, excel, parquet; anything but table reads the export "
    "through screening.read_responses, which maps question numbers and option text to the scale "
    "/ 文件来源，如 wjx（问卷星导出）"
)


# --- messages in the user's language, errors and hints in CLI terms -----------------------------------------

MESSAGES = {
    "en": {
        "reading": "reading {file} …",
        "screening": "screening {n} students with {scales} and rules {rules} …",
        "mapping": "columns used (check them; change with --start / --flags / --id-column):",
        "quality": "quality checks: {checks} → {n} student(s) flagged, {rescreen} of them sent to re-screening "
                   "(turn off with --no-quality)",
        "error": "error",
        "warning": "warning",
        "start_needs_scales": "--start must name each scale when several are read, e.g. --start phq9=8,gad7=17 "
                              "(scales: {scales})",
        "flags_syntax": "--flags must look like left_behind=5,single_parent=6 (flag=question number or header); got {got!r}",
        "flags_no_question": "--flags {flag}={q}: the file has no question {q}",
        "flags_no_column": "--flags {flag}={col}: the file has no column {col!r}",
        "staff_syntax": "--staff must be a file or ROLE=N pairs, e.g. psych=1,class_teacher=12; got {got!r}",
        "problems": "{n} problem(s)",
        "hint": "hint",
        "rows": "row positions (0 = first data row)",
        "column": "column",
    },
    "zh": {
        "reading": "正在读取 {file} …",
        "screening": "正在测评 {n} 名学生（量表 {scales}，规则 {rules}）…",
        "mapping": "使用的列（请核对；可用 --start / --flags / --id-column 更改）：",
        "quality": "作答质量检查：{checks} → 共 {n} 名学生被标记，其中 {rescreen} 名列为需重新测评（关闭：--no-quality）",
        "error": "错误",
        "warning": "警告",
        "start_needs_scales": "读取多个量表时 --start 须写明每个量表，例如 --start phq9=8,gad7=17（量表：{scales}）",
        "flags_syntax": "--flags 的写法是 left_behind=5,single_parent=6（重点群体=题号或列名），现在是 {got!r}",
        "flags_no_question": "--flags {flag}={q}：文件中没有第 {q} 题",
        "flags_no_column": "--flags {flag}={col}：文件中没有列 {col!r}",
        "staff_syntax": "--staff 须为师资表文件，或 角色=人数，例如 psych=1,class_teacher=12；现在是 {got!r}",
        "problems": "{n} 个问题",
        "hint": "提示",
        "rows": "行号（0 = 第一行数据）",
        "column": "列",
    },
}

#: Issue code → its meaning in Chinese (the English message is kept after it).
ISSUE_ZH = {
    "file_not_found": "找不到文件", "missing_column": "缺少列", "scale_not_found": "文件中找不到该量表的题目",
    "scale_ambiguous": "无法确定量表从第几题开始", "id_precision_lost": "学籍号等编号以数字存储，末几位已丢失",
    "unknown_label": "有无法识别的选项文字", "invalid_value": "有不是有效选项的数值", "invalid_index": "有无效的选项序号",
    "option_count": "选项序号超出该题的选项数", "not_a_number": "应为数字处出现文字", "item_count": "题目数量不符",
    "question_gap": "量表题目不连续", "no_question": "没有该题号", "duplicate_column": "列名重复",
    "unknown_format": "无法判断文件格式", "ambiguous_format": "无法判断作答是选项序号还是分值",
    "invalid_flag": "重点群体一栏不是 是/否", "unparseable_duration": "作答时长无法识别",
    "unparseable_time": "提交时间无法识别", "empty_file": "文件为空", "missing_dependency": "缺少依赖包",
}

_HINT_RULES: tuple[tuple[str, str], ...] = (
    (r"\s*\(Python: [^)]*\)", ""),
    (r"say where the scale is: start=<number of its first question> \(e\.g\. start=3\), start='<first column>', "
     r"or columns=\[\.\.\.\] in item order", "add --start phq9=8,gad7=17 (the number of each scale's first question)"),
    (r"pass start= with the number of the scale's first question, or columns=", "add --start <scale>=<first question>"),
    (r"check start= and", "check --start and"),
    (r"\(start=/columns=\)", "(--start)"),
    (r"pass response_format='index' \(按选项序号\) or 'label' \(按选项文本\)",
     "add --response-format index (按选项序号) or --response-format label (按选项文本)"),
    (r"pass response_format='(\w+)'", r"add --response-format \1"),
    (r"pass response_format=", "add --response-format"),
    (r"pass source= \(([^)]*)\)", r"add --source wjx (or \1)"),
    (r"labels=\{'(\w+)': \{'<label>': <value>\}\}", r"the Python API's labels= (not in the CLI)"),
    (r"id_column=", "--id-column "),
    (r"on_invalid='missing'", "--on-invalid missing"),
    (r"map the items explicitly with columns=\[\.\.\.\]", "use the Python API's columns=[...]"),
)

_HINT_ZH: tuple[tuple[str, str], ...] = (
    (r"^say where it starts: --start (\S+)", r"加 --start \1 写明量表从第几题开始"),
    (r"^add --start (\S+).*$", r"加 --start \1（每个量表第一题的题号）"),
    (r"^add --response-format index \(按选项序号\) or --response-format label \(按选项文本\)$",
     "加 --response-format index（按选项序号下载）或 --response-format label（按选项文本下载）"),
    (r"^add --source wjx.*$", "加 --source wjx（问卷星导出）"),
    (r"^in Excel, format the (?:id )?column as Text.*$",
     "在 Excel 中把该列设为“文本”格式后重新录入编号，或从问卷星下载 CSV 格式"),
)


def _msg(lang: str, key: str, **kw: Any) -> str:
    table = MESSAGES.get(lang, MESSAGES["en"])
    return table.get(key, MESSAGES["en"][key]).format(**kw)


def cli_hint(hint: str, lang: str = "en") -> str:
    """A library hint rewritten in command-line terms (``--start phq9=8``), in Chinese under ``lang='zh'``."""
    import re

    out = hint
    for rx, repl in _HINT_RULES:
        out = re.sub(rx, repl, out)
    if lang == "zh":
        for rx, repl in _HINT_ZH:
            out = re.sub(rx, repl, out)
    return out


def cli_error(exc: BaseException, lang: str = "en") -> str:
    """An exception as the command line shows it: each problem on its own lines, hints as options to add."""
    import re

    if isinstance(exc, ScreeningError) and exc.issues:
        lines = [f"{_msg(lang, 'error')}: {exc.title} — {_msg(lang, 'problems', n=len(exc.issues))}"]
        for k, i in enumerate(exc.issues, 1):
            what = f"{ISSUE_ZH[i.code]}（{i.message}）" if lang == "zh" and i.code in ISSUE_ZH else i.message
            where = ", ".join(x for x in (Path(i.file).name if i.file else "",
                                           f"{_msg(lang, 'column')} {i.column!r}" if i.column else "") if x)
            rows = ""
            if i.rows:
                shown = ", ".join(str(r) for r in i.rows)  # 0 = first data row, as in the lists' `row` column
                rows = f"; {_msg(lang, 'rows')} [{shown}]" + (f" (… {i.count})" if i.count > len(i.rows) else "")
            lines.append(f"  {k}. [{i.code}] {where + ': ' if where else ''}{what}{rows}")
            if i.hint:
                lines.append(f"     {_msg(lang, 'hint')}: {cli_hint(i.hint, lang)}")
        return "\n".join(lines)
    text = str(exc)
    m = re.match(r"The '(\w+)' parameter of (\w+) (.*)", text, re.S)
    if m:
        text = f"--{m.group(1).replace('_', '-')} {m.group(3)}"
    return f"{_msg(lang, 'error')}: {text}"


class CliUsageError(Exception):
    """Wrong use of an option: the message is written in CLI terms (exit code 2)."""

    def __init__(self, key: str, **kw: Any) -> None:
        super().__init__(key)
        self.key, self.kw = key, kw

    def render(self, lang: str) -> str:
        return f"{_msg(lang, 'error')}: {_msg(lang, self.key, **self.kw)}"


_WARN_ZH = (
    (r"^risk-group flags not supplied, treated as unknown for every student: (.*)$",
     r"以下重点群体未采集，所有学生按“未知”处理（报告中显示“未采集”）：\1"),
)


def _one_line_warnings(lang: str) -> Any:
    """Format warnings as one line each (no Python source line), translated where known; returns the old formatter."""
    import re
    import warnings

    def fmt(message: Warning | str, category: type[Warning], filename: str, lineno: int,
            line: str | None = None) -> str:
        text = " ".join(str(message).split())
        if lang == "zh":
            for rx, repl in _WARN_ZH:
                text = re.sub(rx, repl, text)
        return f"{_msg(lang, 'warning')}: {text}\n"

    previous = warnings.formatwarning
    warnings.formatwarning = fmt
    return previous


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
    from ..reports.export import write_frame

    write_frame(frame, path, provenance=provenance)


def _lang(args: argparse.Namespace, default: str) -> str:
    return getattr(args, "sub_lang", None) or args.lang or default


def _cmd_list(args: argparse.Namespace) -> int:
    from ..scoring import list_scales, load_scale

    lang = _lang(args, "en")
    for sid in list_scales():
        s = load_scale(sid).spec
        print(f"{sid:8s} {len(s.items):4d} items  {s.license.verdict:12s} {s.title.get(lang)}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from ..scoring import load_scale

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
    from ..loading import read_yaml
    from ..scoring import load_scale
    from ..tiering.ruleset import load_rules

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


def _read_input(args: argparse.Namespace, scales: Sequence[str], id_columns: Sequence[str]
                ) -> tuple[pd.DataFrame, ResponseFormat]:
    """The input table and the response format to score it with.

    ``--source table`` reads the file as it is (item columns already named
    ``phq9_1`` …). Any other source goes through :func:`screening.read_responses`,
    which maps questions and option text to the scales and returns option values.
    """
    if args.source == "table":
        return read_table(args.input, id_columns=id_columns), args.response_format or "value"
    from ..intake import read_responses

    fmt = args.response_format  # None: decided from the cells (问卷星 numbers are option positions, text is option text)
    start = _start(args.start)
    if start is not None and not isinstance(start, dict) and len(scales) > 1:
        raise CliUsageError("start_needs_scales", scales=",".join(scales))
    id_arg = getattr(args, "id_column", None)
    id_col: str | int | None = None
    if isinstance(id_arg, str) and id_arg.strip().isdigit():
        id_col = int(id_arg)  # a question number: the 学籍号 question
    frame = read_responses(args.input, source=args.source, scales=list(scales), response_format=fmt,
                           on_invalid=args.on_invalid, start=start, id_column=id_col)
    if id_col is not None:
        args.id_column = "respondent_id"
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

    from ..scoring import score

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
    from ..reports.privacy import load_key

    return load_key(file=args.key_file, env=args.key_env, version=args.key_version)


def _id_column(args: argparse.Namespace, frame: pd.DataFrame) -> str | None:
    if args.id_column:
        if args.id_column not in frame.columns:
            raise ScreeningError([Issue("missing_column", "id column not found", column=args.id_column)],
                                 title="cannot read student ids")
        return str(args.id_column)
    return next((c for c in ID_CANDIDATES if c in frame.columns), None)


def _run_screen(args: argparse.Namespace, lang: str) -> tuple[Any, pd.DataFrame, str | None]:
    from ..screener import screen

    scales = _scales(args.scales)
    _say(args, _msg(lang, "reading", file=args.input))
    frame, fmt = _read_input(args, scales, [args.id_column] if args.id_column and not args.id_column.isdigit() else ())
    _print_mapping(args, frame, lang)
    id_col = _id_column(args, frame)
    groups = [g.strip() for g in args.group.split(",")] if args.group else None
    flags = _flags(args.flags, frame)
    quality = _quality(args, frame, scales, id_col, lang) if args.quality else None
    _say(args, _msg(lang, "screening", n=f"{len(frame):,}", scales=", ".join(scales), rules=args.rules))
    result = screen(frame, scales=scales, rules=args.rules, groups=groups, lang=lang,  # type: ignore[arg-type]
                    response_format=fmt, on_invalid=args.on_invalid, flags=flags, quality=quality)
    if quality is not None:
        _print_quality_effect(args, quality, result, lang, frame, id_col)
    return result, frame, id_col


def _print_mapping(args: argparse.Namespace, frame: pd.DataFrame, lang: str) -> None:
    """The columns the reader chose, as a table the teacher can check (stderr)."""
    rows = frame.attrs.get("screening", {}).get("mapping", [])
    if not rows or getattr(args, "quiet", False):
        return
    heads = ("what", "kind", "columns", "how") if lang == "en" else ("内容", "类型", "所在列", "识别方式")
    how_zh = (("found by option text", "按选项文字识别"), ("found by option numbers", "按选项序号识别"),
              ("found by option values", "按分值识别"), ("wording match", "题干相似度"), ("wording; exact text", "按题干识别；原样文本"),
              ("wording", "按题干识别"), ("option numbers (按选项序号: 1 = first option)", "选项序号（1 = 第一个选项）"),
              ("column names", "列名"))
    kinds_zh = {"scale": "量表", "group": "分组", "flag": "重点群体", "id": "学号"}

    def tr(text: str, pairs: Any) -> str:
        if lang == "zh":
            for a, b in pairs:
                text = text.replace(a, b)
        return text

    table = [heads] + [(r["what"], kinds_zh.get(r["kind"], r["kind"]) if lang == "zh" else r["kind"],
                        _short(r["columns"]), tr(r["how"], how_zh)) for r in rows]
    widths = [max(_width(str(r[k])) for r in table) for k in range(4)]
    print(_msg(lang, "mapping"), file=sys.stderr)
    for r in table:
        print("  " + "  ".join(str(c) + " " * (w - _width(str(c))) for c, w in zip(r, widths)).rstrip(), file=sys.stderr)


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _flags(text: str | None, frame: pd.DataFrame) -> dict[str, str] | None:
    """``--flags left_behind=5,single_parent=6`` → {flag: column}; a value is a question number or a header."""
    if not text:
        return None
    from ..intake.mapping import parse_questions

    questions = parse_questions([str(c) for c in frame.columns])
    out: dict[str, str] = {}
    for part in text.split(","):
        flag, sep, where = part.partition("=")
        flag, where = flag.strip(), where.strip()
        if not sep or not flag or not where:
            raise CliUsageError("flags_syntax", got=part)
        if where.isdigit():
            hits = [q.column for q in questions.values() if q.number == int(where)]
            if len(hits) != 1:
                raise CliUsageError("flags_no_question", flag=flag, q=where)
            where = hits[0]
        elif where not in frame.columns:
            raise CliUsageError("flags_no_column", flag=flag, col=where)
        out[flag] = where
    return out


def _quality(args: argparse.Namespace, frame: pd.DataFrame, scales: Sequence[str], id_col: str | None,
             lang: str) -> pd.DataFrame | None:
    """Response-quality flags (too fast, long strings, duplicate ids, …): every check whose input is present."""
    from ..intake.quality import check_quality

    n_q = frame.attrs.get("screening", {}).get("n_questions") or None
    return check_quality(frame, scales, n_questions=n_q, seconds_per_item=args.seconds_per_item,
                         id_column=id_col or "respondent_id")


def _print_quality_effect(args: argparse.Namespace, quality: pd.DataFrame, result: Any, lang: str,
                          frame: pd.DataFrame, id_col: str | None) -> None:
    if getattr(args, "quiet", False):
        return
    # a check whose input is unknown for every student was not really run: say so instead of "0"
    known = {"too_fast": "duration_s", "incomplete": "complete", "duplicate_id": id_col or "respondent_id"}
    not_run = {c for c, col in known.items() if col not in frame.columns or not frame[col].notna().any()}
    if (id_col or "respondent_id") in frame.columns and frame[id_col or "respondent_id"].astype("string").isin(
            ["nan", "", "<NA>"]).all():
        not_run.add("duplicate_id")
    cols = [c for c in quality.columns if c != "quality_reasons" and quality[c].dtype == bool]
    counts = {c: int(quality[c].sum()) for c in cols}
    flagged = quality[cols].any(axis=1).to_numpy() if cols else None
    names = {"zh": {"too_fast": "作答过快", "empty": "未作答", "duplicate_id": "学号重复", "incomplete": "未完成",
                    "longstring": "连续相同作答", "inconsistent": "前后矛盾", "unreadable": "无法识别的作答"},
             "en": {}}[lang]
    parts = []
    unknown = "未检查（无数据）" if lang == "zh" else "not checked (no data)"
    for c, k in counts.items():
        check = c.rsplit(".", 1)[-1]
        parts.append(f"{names.get(check, check)}{'' if lang == 'zh' else ':'} {unknown if check in not_run else k}")
    n_flagged = int(flagged.sum()) if flagged is not None else 0
    rescreen = int(result.table["rescreen"].to_numpy(dtype=bool)[flagged].sum()) if n_flagged else 0
    print(_msg(lang, "quality", checks="; ".join(parts) or "—", n=n_flagged, rescreen=rescreen), file=sys.stderr)


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

    from ..reports._common import identify

    if getattr(args, "chunksize", None) is not None:
        return _cmd_screen_chunked(args)
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
    print(f"screened {len(result):,} students ({counts}; urgent {int(t['urgent'].sum())}; "
          f"re-screen / ask {int(t['rescreen'].sum())}) → {args.output}")
    if ids is None:
        print("note: students are named by row number only (0 = first data row); add --identifiable for ids "
              "or --key-file for pseudonyms", file=sys.stderr)
    if args.summary:
        write_table(result.summary(by=None, min_cell=args.min_cell), args.summary)
        print(f"group summary → {args.summary}")
    return 0


def _cmd_screen_chunked(args: argparse.Namespace) -> int:
    """``screen --chunksize N``: :func:`screening.screen_file`, one chunk of students in memory at a time."""
    from ..screener.streaming import screen_file

    lang = _lang(args, "zh")
    if args.chunksize < 1:
        raise CliUsageError("chunks_size", got=args.chunksize)
    if args.quality:
        raise CliUsageError("chunks_quality")
    if args.key_file or args.key_env or args.flags or args.summary:
        raise CliUsageError("chunks_options")
    if not str(args.output).lower().endswith(".csv"):
        raise CliUsageError("chunks_csv")
    scales = _scales(args.scales)
    start = _start(args.start)
    if start is not None and not isinstance(start, dict) and len(scales) > 1:
        raise CliUsageError("start_needs_scales", scales=",".join(scales))
    id_arg = args.id_column
    id_col: str | int | None = int(id_arg) if isinstance(id_arg, str) and id_arg.strip().isdigit() else id_arg
    groups = [g.strip() for g in args.group.split(",")] if args.group else None
    _say(args, _msg(lang, "reading", file=args.input))
    done = screen_file(args.input, scales, args.rules, out=args.output, chunksize=args.chunksize,
                       identifiable=bool(args.identifiable), lang=lang,  # type: ignore[arg-type]
                       groups=groups, on_invalid=args.on_invalid,
                       source="auto" if args.source == "table" else args.source, start=start,
                       response_format=args.response_format, id_column=id_col)
    counts = ", ".join(f"{k} {v}" for k, v in done.tier_counts.items())
    print(f"screened {done.rows:,} students ({counts}; urgent {done.urgent}; re-screen / ask {done.rescreen}) → {args.output}")
    return 0


#: Short names accepted by ``--staff ROLE=N``.
ROLE_ALIASES = {"psych": "psychology_teacher", "psychology": "psychology_teacher", "心理教师": "psychology_teacher",
                "class": "class_teacher", "班主任": "class_teacher", "leader": "school_leader",
                "校领导": "school_leader"}


def _staff(args: argparse.Namespace, result: Any = None) -> pd.DataFrame | None:
    """``--staff staff.csv`` (one row per school) or ``--staff psych=1,class=12`` (the same for every school)."""
    import pandas as pd

    if not args.staff:
        return None
    if "=" not in args.staff or Path(args.staff).is_file():
        return read_table(args.staff)
    counts: dict[str, float] = {}
    for part in args.staff.split(","):
        role, sep, n = part.partition("=")
        role = ROLE_ALIASES.get(role.strip(), role.strip())
        try:
            counts[role] = float(n)
        except ValueError:
            sep = ""
        if not sep or not role:
            raise CliUsageError("staff_syntax", got=part)
    if result is not None and "school" in result.groups.columns:
        schools = pd.Series(result.groups["school"].dropna().unique())
        return pd.DataFrame({"school": schools, **counts})
    return pd.DataFrame({r: [v] for r, v in counts.items()})


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
    from ..reports._progress import progress_iter
    from ..reports.export import write_frame
    from ..reports.lists import follow_up_list, group_lists, warning_list
    from ..reports.report import write_report
    from ..reports.workload import workload

    lang = _lang(args, "zh")
    key = _key(args)
    out = Path(args.output)
    fmt = "." + args.format
    result, frame, id_col = _run_screen(args, lang)
    day = args.date or _screening_date(frame) or dt.date.today().isoformat()
    if args.internal and not (args.identifiable or key is not None):
        _say(args, "note: --internal without --identifiable or --key-file names students by row number")
    ids = _ids_for(args, frame, id_col, key)
    by = [g.strip() for g in args.by.split(",")] if args.by else None
    staff = _staff(args, result)
    capacity = _capacity(args.capacity)
    written: list[Path] = []
    steps = ["report", "summary", "workload"] + (["lists"] if (ids is not None or args.lists) else [])
    for step in progress_iter(steps, total=len(steps), desc="screening report", progress=None if not args.quiet else False):
        if step == "report":
            _say(args, "drawing charts and writing the report …")
            pages = args.students and (ids is not None or args.internal)
            named = pages or args.internal
            written.append(write_report(
                result, out / ("report_internal.html" if args.internal else "report.html"), by=by, lang=lang,
                min_cell=args.min_cell, screening_date=day, title=args.title, staff=staff, capacity_hours=capacity,
                norms=args.norm or (), students=pages, ids=ids if named else None,
                identifiable=args.identifiable and named, key=key if named else None,
                audience="school" if args.internal else "district", responses=frame))
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
            not_collected = set(result.provenance.get("flags_not_supplied", ()))
            for flag, lst in group_lists(result, ids, identifiable=args.identifiable, key=key).items():
                if flag in not_collected:
                    continue  # not asked: no list at all, rather than an empty one that reads as "none"
                written.append(write_frame(lst, out / f"group_{flag}{fmt}"))
    counts = ", ".join(f"{k} {v}" for k, v in result.tier_counts().items())
    print(f"screened {len(result):,} students ({counts}; urgent {int(result.table['urgent'].sum())}; "
          f"re-screen / ask {int(result.table['rescreen'].sum())})")
    for p in written:
        print(f"wrote {p}")
    if ids is None and not args.lists:
        print("note: no student lists written (they name students): add --identifiable (ids) or --key-file "
              "(pseudonyms), or --lists (row numbers only)", file=sys.stderr)
    return 0


def _screening_date(frame: pd.DataFrame) -> str | None:
    """The screening date from the export's submission times (问卷星 提交答卷时间): the first day answered."""
    import pandas as pd

    if "submitted_at" not in frame.columns:
        return None
    days = pd.to_datetime(frame["submitted_at"], errors="coerce").dropna()
    return None if days.empty else days.min().date().isoformat()


def _cmd_keygen(args: argparse.Namespace) -> int:
    from ..reports.privacy import generate_key

    generate_key(args.keyfile)
    print(f"wrote a new key to {args.keyfile} — keep it apart from the data; lose it and pseudonyms cannot be matched again")
    return 0


Handler = Callable[[argparse.Namespace], int]
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []  # type: ignore[type-arg]


def _fhir_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from .fhir import add_parsers  # `screening referral`, `screening fhir` (docs/fhir.md)

    add_parsers(sub)


COMMANDS.append(_fhir_commands)


def _add_warn(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from .warning import add_parser  # the regional early warning (screening/warning/)

    add_parser(sub)


COMMANDS.append(_add_warn)


def _add_audit(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`screening audit` (issue 10): defined in cli/audit.py over screening/audit/."""
    from .audit import add_parser

    add_parser(sub)


COMMANDS.append(_add_audit)


def _add_archive(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``screening archive …`` (needs the archive extra; see cli/archive.py)."""
    from .archive import add_parser

    add_parser(sub)


COMMANDS.append(_add_archive)


def _screen_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="answers: .csv, .xlsx, .xls or .parquet, one row per student "
                                 "(items as phq9_1 … phq9_9) / 作答数据，每名学生一行")
    p.add_argument("--scales", action="append", required=True, metavar="IDS",
                   help="scales to score, comma-separated, e.g. phq9,gad7 / 量表，逗号分隔")
    p.add_argument("--source", default="auto",
                   choices=["table", "auto", "csv", "excel", "parquet", "spss", "wjx", "qualtrics", "redcap"],
                   help=SOURCE_HELP)
    p.add_argument("--start", metavar="Q",
                   help="question number (or column) where the scale begins, e.g. 8; for several scales "
                        "phq9=8,gad7=17 (default: found by the options and wording) / 量表从第几题开始（默认自动识别）")
    p.add_argument("--flags", metavar="FLAG=Q,…",
                   help="risk-group questions, e.g. left_behind=5,single_parent=6,bullied=7 (question numbers or "
                        "headers; default: recognised by wording, see docs/intake.md) / 重点群体题目，如 left_behind=5")
    p.add_argument("--quality", action=argparse.BooleanOptionalAction, default=True,
                   help="response-quality checks: too fast, long strings, duplicate ids, incomplete (default on; "
                        "flagged students are re-screened, never dropped) / 作答质量检查（默认开启）")
    p.add_argument("--seconds-per-item", type=float, default=2.0,
                   help="too fast below this many seconds per question of the whole form (default 2) / 每题最少秒数")
    p.add_argument("--rules", default="default",
                   help="rule set: built-in id (default, four_level) or a YAML file (default: default) / 分级规则")
    p.add_argument("--lang", dest="sub_lang", choices=["zh", "en"], default=None,
                   help="language of reasons, actions and the report (default zh) / 语言")
    p.add_argument("--group", metavar="COLS", help="group columns to keep, comma-separated "
                                                  "(default: district,school,grade,class,sex present) / 分组列")
    p.add_argument("--id-column", metavar="COL",
                   help=f"student id column or question number, e.g. 24 (default: a 学籍号/学号 question, else the first "
                        f"of {', '.join(ID_CANDIDATES)} present) / 学号列或题号")
    p.add_argument("--identifiable", action="store_true",
                   help="write real student ids in student lists (confidential!) / 名单中写入学号（须保密）")
    p.add_argument("--key-file", metavar="FILE", help="key file for pseudonyms instead of ids (see keygen) / 化名密钥文件")
    p.add_argument("--key-env", metavar="VAR", help="environment variable holding the pseudonym key / 存放密钥的环境变量")
    p.add_argument("--key-version", default="k1", help="label put before every pseudonym (default k1)")
    p.add_argument("--response-format", choices=["value", "index", "label"], default=None,
                   help="value: option scores (PHQ-9 0-3); index: option numbers from 1 (问卷星 按选项序号); label: option "
                        "text (default: decided from the cells for survey exports, value for plain tables)")
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
    p.add_argument("--response-format", choices=["value", "index", "label"], default=None,
                   help="value: option scores (PHQ-9 0-3); index: option numbers from 1 (问卷星 按选项序号); label: option "
                        "text (default: decided from the cells for survey exports, value for plain tables)")
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
    p.add_argument("--chunksize", type=int, metavar="N",
                   help="files larger than memory: read and screen N students at a time, appending to the .csv "
                        "output (needs --no-quality: duplicate ids span chunks) / 分块读取与测评（大文件）")
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
    p.add_argument("--date", metavar="YYYY-MM-DD", help="screening date, for follow-up dates (default: the first day "
                   "in the export's submission times, e.g. 问卷星 提交答卷时间, else today) / 测评日期")
    p.add_argument("--internal", action="store_true",
                   help="the school's internal report (report_internal.html): actual counts incl. crisis and re-screen, "
                        "warning / re-screen / follow-up lists and the three lists, under a confidentiality banner; "
                        "without it the report is the shared one with small cells hidden / 校内报告（含名单，保密）")
    p.add_argument("--title", help="report title / 报告标题")
    p.add_argument("--format", choices=["csv", "xlsx", "json", "parquet"], default="csv",
                   help="format of the tables (default csv, opens in Excel) / 表格格式")
    p.add_argument("--lists", action="store_true", help="write student lists even without ids (row numbers only)")
    p.add_argument("--students", action="store_true",
                   help="add confidential per-student pages to the report (needs --identifiable or a key) / 学生个案页")
    p.add_argument("--staff", metavar="FILE|ROLE=N", help="staff the school has: psych=1[,class=12,leader=2], or a "
                   "file with columns school, psychology_teacher, class_teacher, school_leader[, enrolment] / 现有师资，"
                   "如 psych=1")
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
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    lang = getattr(args, "sub_lang", None) or args.lang or "en"
    previous = _one_line_warnings(lang)
    try:
        return int(args.func(args))
    except CliUsageError as exc:
        print(exc.render(lang), file=sys.stderr)
        return 2
    except InvalidParameterError as exc:  # before ScreeningError, its base class
        print(cli_error(exc, lang), file=sys.stderr)
        return 2
    except ScreeningError as exc:
        print(cli_error(exc, lang), file=sys.stderr)
        return 1
    finally:
        warnings.formatwarning = previous


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


# issue 13: `screen --chunksize N` (files larger than memory)
MESSAGES["en"].update({
    "chunks_size": "--chunksize must be a positive number of students; got {got}",
    "chunks_quality": "--chunksize screens the file in parts, so the quality checks (duplicate ids across the file) "
                      "cannot run: add --no-quality, or check quality on the whole file first",
    "chunks_options": "--chunksize writes one .csv as it goes: --key-file/--key-env, --flags and --summary need the "
                      "whole table (leave them out, or screen without --chunksize)",
    "chunks_csv": "--chunksize appends rows to a .csv output file (-o result.csv)",
})
MESSAGES["zh"].update({
    "chunks_size": "--chunksize 须为正整数（每块学生数），现在是 {got}",
    "chunks_quality": "--chunksize 分块测评，无法检查整个文件的作答质量（如重复学号）：请加 --no-quality，或先对整个文件做质量检查",
    "chunks_options": "--chunksize 边读边写一个 .csv：--key-file/--key-env、--flags、--summary 需要整张表（请去掉，或不分块）",
    "chunks_csv": "--chunksize 只能写 .csv 结果文件（-o result.csv）",
})
