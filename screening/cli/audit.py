"""``screening audit``: run a rule set over a simulated or real population before screening (:mod:`screening.audit`)."""

from __future__ import annotations

import argparse
from typing import Any

from .._params import InvalidParameterError

__all__ = ["add_parser"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "audit", help="audit a rule set on a simulated or real population before screening / 规则集审核",
        description="Run a rule set over a simulated school population (or last term's answers) and print the "
        "share of students per tier, urgent and re-screen, the share whose tier comes only from data quality, and "
        "the staff hours per month the actions imply; with --compare, how many students change tier.\n"
        "在模拟（或上学期真实）数据上运行分级规则：各档案比例、危机与重测比例、仅因数据质量升档的比例、每月工作量。",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rules", default="default", help="rule set id or YAML file (default: default)")
    p.add_argument("--scales", action="append", required=True, metavar="IDS", help="battery, comma-separated, e.g. phq9,gad7")
    p.add_argument("--compare", metavar="RULES", help="a second rule set to compare with")
    p.add_argument("--answers", metavar="FILE", help="real answers (.csv/.xlsx/.parquet) instead of a simulation")
    p.add_argument("-n", "--students", type=int, default=10_000, help="simulated students (default 10,000)")
    p.add_argument("--blanks", default="0,0.01,0.02", help="blank-cell rates, comma-separated (default 0,0.01,0.02)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", metavar="FILE", help="also write the table (.csv/.xlsx/.parquet/.json)")
    p.set_defaults(func=_cmd_audit)


def _cmd_audit(args: argparse.Namespace) -> int:
    from ..audit import audit_rules
    from .commands import read_table, write_table

    scales = [s.strip() for v in args.scales for s in v.split(",") if s.strip()]
    try:
        rates = [float(x) for x in args.blanks.split(",") if x.strip()]
    except ValueError:
        raise InvalidParameterError(
            f"The '--blanks' option must be comma-separated rates, e.g. 0,0.01. Got {args.blanks!r} instead.") from None
    answers = read_table(args.answers) if args.answers else None
    rep = audit_rules(args.rules, scales, answers=answers, n=args.students, blank_rates=rates, compare=args.compare,
                      seed=args.seed)
    print(rep.to_markdown())
    if args.output:
        write_table(rep.table, args.output)
    return 0
