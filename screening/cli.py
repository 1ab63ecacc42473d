"""The ``screening`` command (also ``python -m screening``).

Sub-commands are registered in :data:`COMMANDS`; each module that adds one
defines ``add_parser(subparsers)`` and a handler. Exit codes: 0 success,
1 a problem with the data or a file (all problems printed), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .errors import ScreeningError

__all__ = ["main", "build_parser", "read_table", "write_table"]

EPILOG = """\
Examples (screening, not diagnosis):
  screening list                                  show the built-in scales
  screening show phq9                             what a scale scores and its cut-offs
  screening validate my_scale.yaml                check a scale or rule file
  screening score answers.xlsx --scale phq9 -o scores.csv
"""


def read_table(path: str, *, id_columns: Sequence[str] = ()) -> "pd.DataFrame":  # noqa: F821
    """Read CSV, Excel or Parquet by extension; ID-like columns stay text."""
    import pandas as pd

    p = Path(path)
    suffix = p.suffix.lower()
    dtype = {c: "string" for c in id_columns}
    if suffix in (".csv", ".txt"):
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(p, dtype=dtype or None, encoding=enc)
            except UnicodeDecodeError:
                continue
        raise ScreeningError(title=f"cannot read {p.name}: the file is neither UTF-8 nor GB18030 text")
    if suffix in (".xlsx", ".xls", ".xlsm"):
        return pd.read_excel(p, dtype=dtype or None)
    if suffix == ".parquet":
        return pd.read_parquet(p)
    raise ScreeningError(title=f"cannot read {p.name}: use a .csv, .xlsx, .xls or .parquet file")


def write_table(frame: "pd.DataFrame", path: str) -> None:  # noqa: F821
    """Write CSV (UTF-8 with BOM, so Excel shows Chinese correctly), Excel, Parquet or JSON."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(p, index=False, encoding="utf-8-sig")
    elif suffix in (".xlsx",):
        frame.to_excel(p, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(p, index=False)
    elif suffix == ".json":
        frame.to_json(p, orient="records", force_ascii=False, indent=1)
    else:
        raise ScreeningError(title=f"cannot write {p.name}: use .csv, .xlsx, .parquet or .json")


def _cmd_list(args: argparse.Namespace) -> int:
    from .catalog import list_scales, load_scale

    for sid in list_scales():
        s = load_scale(sid).spec
        title = s.title.get("zh" if args.lang == "zh" else "en")
        print(f"{sid:8s} {len(s.items):4d} items  {s.license.verdict:12s} {title}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .catalog import load_scale

    s = load_scale(args.scale).spec
    lang = args.lang
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

    failed = 0
    for path in args.files:
        data, issues = read_yaml(path)
        kind = data.get("kind") if isinstance(data, dict) else None
        try:
            if issues:
                raise ScreeningError(issues, title=f"cannot read {path}")
            if kind == "rules":
                from .rules import load_rules  # type: ignore[attr-defined]

                load_rules(path)
            else:
                load_scale(path)
            print(f"OK   {path}")
        except ScreeningError as exc:
            failed += 1
            print(f"FAIL {exc}", file=sys.stderr)
    return 1 if failed else 0


def _cmd_score(args: argparse.Namespace) -> int:
    import pandas as pd

    from .scoring import score

    frame = read_table(args.input, id_columns=args.id_column or ())
    scored = score(frame, args.scale, response_format=args.response_format, on_invalid=args.on_invalid)
    keep = [c for c in (args.id_column or []) if c in frame.columns]
    out = pd.concat([frame[keep], scored], axis=1) if keep else scored
    write_table(out, args.output)
    print(f"scored {len(out)} rows × {len(args.scale)} scale(s) → {args.output}")
    return 0


Handler = Callable[[argparse.Namespace], int]
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []  # type: ignore[type-arg]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="screening",
        description="Score school mental-health screening scales and sort students into tiers. "
        "Screening, not diagnosis.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"screening {__version__}")
    parser.add_argument("--lang", choices=["zh", "en"], default="en", help="language of labels (default en)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list the built-in scales")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("show", help="show a scale's scores, cut-offs and critical items")
    p.add_argument("scale", help="built-in id (e.g. phq9) or a YAML file")
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("validate", help="check scale or rule files; prints every problem, exit 1 if any")
    p.add_argument("files", nargs="+", help="YAML files")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("score", help="score scales for every row of a CSV/Excel/Parquet file")
    p.add_argument("input", help="responses: .csv, .xlsx, .xls or .parquet, one row per student")
    p.add_argument("--scale", action="append", required=True, help="scale id or YAML file (repeat for several)")
    p.add_argument("-o", "--output", required=True, help="where to write: .csv, .xlsx, .parquet or .json")
    p.add_argument("--id-column", action="append", help="column(s) to keep as text and copy to the output")
    p.add_argument("--response-format", choices=["value", "index", "label"], default="value",
                   help="value: option scores (PHQ-9 0-3); index: option numbers from 1 (问卷星 按选项序号); label: option text")
    p.add_argument("--on-invalid", choices=["raise", "missing"], default="raise",
                   help="raise (default): stop and list invalid answers; missing: treat them as unanswered")
    p.set_defaults(func=_cmd_score)

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
    except ScreeningError as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
