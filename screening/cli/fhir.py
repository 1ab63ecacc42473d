"""``screening referral`` and ``screening fhir``: the FHIR sub-commands (registered in :mod:`screening.cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parsers"]


def _screen(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    from . import commands as cli

    lang = cli._lang(args, "zh")
    key = cli._key(args)
    result, frame, id_col = cli._run_screen(args, lang)
    ids = None
    if id_col is not None:
        ids = frame[id_col].astype("string")
    return result, frame, ids, key


def _cmd_referral(args: argparse.Namespace) -> int:
    from ..errors import Issue, ScreeningError
    from ..fhir.referral import referral

    result, frame, ids, key = _screen(args)
    student: int | str = args.student
    if args.row:
        student = int(args.student)
    elif ids is None:
        raise ScreeningError([Issue("missing_column", "no student id column found",
                                    hint="name it with --id-column, or give a row number with --row")],
                             title="cannot find the student")
    ref = referral(result, student, ids=ids if (key is not None or args.identifiable or not args.row) else None,
                   key=key, identifiable=args.identifiable, responses=frame,
                   referrer=args.referrer, to=args.to, actions_taken=args.action or (), on=args.date)
    paths = ref.write(args.output, stem=args.stem)
    print(f"referral ({ref.meta['tier']}{', urgent' if ref.meta['urgent'] else ''}) → "
          + ", ".join(str(p) for p in paths))
    if key is None and not args.identifiable:
        print("note: without --key-file the student is named by row number only; the receiving institution needs "
              "the pseudonym (--key-file) or the id (--identifiable) to match the referral", file=sys.stderr)
    return 0


def _cmd_fhir(args: argparse.Namespace) -> int:
    from ..fhir.write import to_fhir

    result, frame, ids, key = _screen(args)
    subjects = None
    if key is None and not args.identifiable:
        subjects = [{"display": f"row {i}"} for i in range(len(result))]
    bundle = to_fhir(result, ids=ids if subjects is None else None, key=key, identifiable=args.identifiable,
                     subjects=subjects, responses=frame, effective=args.date, bundle_type=args.bundle_type)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(bundle, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(bundle['entry']):,} FHIR resources for {len(result):,} students → {args.output}")
    return 0


def _with_fhir_source(p: argparse.ArgumentParser) -> None:
    """Let ``--source`` of these commands also take ``fhir`` (QuestionnaireResponse JSON / Bundle / NDJSON)."""
    for action in p._actions:
        if action.dest == "source" and action.choices is not None and "fhir" not in action.choices:
            action.choices = [*action.choices, "fhir"]
            action.help = (action.help or "") + "; fhir: QuestionnaireResponse JSON, Bundle or NDJSON (docs/fhir.md)"


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``referral`` and ``fhir`` (called from :data:`screening.cli.COMMANDS`)."""
    from .commands import _screen_options

    p = sub.add_parser(
        "referral", help="a printable referral (转介单) and its FHIR Bundle for one student / 转介单",
        description="Screen the file and write, for one student, referral.html (bilingual, one A4 page, under a "
        "confidentiality banner: tier, the rules that fired and their sources, scores and bands, risk groups, "
        "actions) and referral.fhir.json (FHIR R4 Bundle). The student is named by keyed pseudonym with "
        "--key-file, by id only with --identifiable.\n"
        "为一名学生写出转介单 referral.html（中英双语，一页A4，含保密提示）及 FHIR 资源包 referral.fhir.json。",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _screen_options(p)
    _with_fhir_source(p)
    p.add_argument("--student", required=True, help="the student's id (in the id column), or a row number with --row "
                                                    "/ 学生学号")
    p.add_argument("--row", action="store_true", help="--student is a 0-based row number / 按行号")
    p.add_argument("--referrer", help="who refers, e.g. '王老师 心理健康教师 第一中学' / 转介人")
    p.add_argument("--to", help="receiving institution / 接收机构")
    p.add_argument("--action", action="append", metavar="TEXT", help="an action already taken (repeatable) / 已采取措施")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="date of the referral (default today) / 日期")
    p.add_argument("--stem", default="referral", help="file name stem (default referral)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder / 输出文件夹")
    p.set_defaults(func=_cmd_referral)

    p = sub.add_parser(
        "fhir", help="screen and write every student as FHIR Observations + RiskAssessment (Bundle JSON) / 导出FHIR",
        description="Screen the file and write one FHIR R4 Bundle: per student and scale a QuestionnaireResponse, "
        "Observations per score (LOINC where the scale declares codes) and critical item, a panel Observation, and "
        "a RiskAssessment with the tier and reasons. Subjects are keyed pseudonyms with --key-file.")
    _screen_options(p)
    _with_fhir_source(p)
    p.add_argument("--date", metavar="YYYY-MM-DD", help="when the screening took place / 测评日期")
    p.add_argument("--bundle-type", choices=["collection", "transaction"], default="collection")
    p.add_argument("-o", "--output", required=True, help="the Bundle file (.json)")
    p.set_defaults(func=_cmd_fhir)
