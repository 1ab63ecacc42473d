"""``screening warn``: the regional early warning from the command line (高发学校、高危群体、高危时段)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "cmd_warn"]

DESCRIPTION = """\
Compare every school (or grade, class) with the district, wave by wave, on a funnel plot with 95% and 99.8% control
limits allowing for over-dispersion (Spiegelhalter 2005); follow it over time (persistently high, clearly rising);
and show risk groups (bullied, left-behind …) and school-calendar periods that stand out. Prints the flags with
their reasons; writes the whole table and an HTML page on request. Aggregates only; small counts suppressed.

INPUT is a long table (.csv, .xlsx, .parquet: one row per student and wave with wave, on, school, tier, … and the
risk-group flags), or an archive (a .sqlite file or a database URL, with --key-file) when screening.archive is
installed.

按学校（或年级、班级）逐次与全区比较（漏斗图，95% 与 99.8% 控制限，考虑过度离散），跟踪持续偏高与明显上升，
并列出高危群体与高危时段。只输出汇总数据，人数少的格子隐藏。"""


def add_parser(sub: Any) -> None:
    """Register ``warn`` on the sub-parsers of the ``screening`` command."""
    p = sub.add_parser("warn", help="regional early warning: schools, risk groups and periods that stand out / 区域预警",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="long table (.csv/.xlsx/.parquet) or an archive (.sqlite or database URL) / 输入")
    p.add_argument("--level", default="school", help="group column compared (default school; grade, class …) / 比较层级")
    p.add_argument("--outcome", help="tier id meaning 'this tier or higher' (default the top tier), or urgent / rescreen")
    p.add_argument("--overdispersion", choices=["additive", "multiplicative", "none"], default="additive",
                   help="how limits allow for real differences between schools (default additive, see docs/early-warning.md)")
    p.add_argument("--persistence", default="2/3", metavar="K/M", help="persistent = above the 95%% limit in K of the last M waves")
    p.add_argument("--min-cell", type=int, default=10, help="hide counts below this (default 10) / 小格隐藏阈值")
    p.add_argument("--wave", help="the wave whose flags are printed (default the last)")
    p.add_argument("--tiers", metavar="T1,T2,…", help="tier ids lowest first, when not green,yellow,orange (e.g. four levels)")
    p.add_argument("--key-file", help="key of an archive (pseudonyms) / 档案密钥文件")
    p.add_argument("-o", "--output", help="write the whole table: .csv, .xlsx, .parquet, .json or .html")
    p.add_argument("--html", metavar="FILE", help="write the early-warning page (charts and flags) as a standalone HTML file")
    p.add_argument("--lang", dest="sub_lang", choices=["zh", "en"], help="language of the printed reasons (default zh)")
    p.set_defaults(func=cmd_warn)


def _read(args: argparse.Namespace) -> Any:
    from ..errors import Issue, ScreeningError

    src = str(args.input)
    if "://" in src or Path(src).suffix.lower() in (".sqlite", ".sqlite3", ".db"):
        try:
            from .. import open_archive
        except ImportError:
            raise ScreeningError([Issue("no_archive", "reading an archive needs screening.archive", file=src,
                                        hint="export the archive as a long table and give that file instead")],
                                 title="cannot read the input") from None
        from ..reports.privacy import load_key

        if not args.key_file:
            raise ScreeningError([Issue("no_key", "opening an archive needs its key", file=src, hint="add --key-file KEY")],
                                 title="cannot read the input")
        return open_archive(src, key=load_key(file=args.key_file))  # type: ignore[operator]
    from .commands import read_table

    return read_table(src)


def _persistence(text: str) -> tuple[int, int]:
    from .._params import InvalidParameterError

    k, _sep, m = text.partition("/")
    try:
        return int(k), int(m)
    except ValueError:
        raise InvalidParameterError(f"The '--persistence' option must look like K/M (e.g. 2/3). Got {text!r} instead.") from None


def cmd_warn(args: argparse.Namespace) -> int:
    """Print the flags of one wave with their reasons; write the table and the page on request."""
    from ..reports.export import write_frame
    from ..warning.data import as_long
    from ..warning.table import early_warning

    lang = getattr(args, "sub_lang", None) or getattr(args, "lang", None) or "zh"
    tiers = [t.strip() for t in args.tiers.split(",")] if args.tiers else None
    long = as_long(_read(args), tiers=tiers)  # read once (an archive export is logged): the table and the flows share it
    frame = long.frame
    if long.waves["period"].notna().any():
        frame = frame.assign(period=frame["wave"].map(dict(zip(long.waves["wave"], long.waves["period"]))).astype("string"))
    table = early_warning(frame, level=args.level, outcome=args.outcome, overdispersion=args.overdispersion,
                          persistence=_persistence(args.persistence), min_cell=args.min_cell, tiers=tiers)
    meta = table.attrs["screening"]
    wave = args.wave or meta["waves"][-1]
    flagged = table[(table["flag"] != "") & ((table["wave"] == wave) | (table["level"] == "period"))]
    head = {"zh": f"预警（{wave}，{len(meta['waves'])} 次测评，比较层级 {args.level}）：", "en": f"Early warning ({wave}; "
            f"{len(meta['waves'])} waves; level {args.level}):"}[lang]
    print(head)
    if not len(flagged):
        print("  —" + (" 无预警" if lang == "zh" else " nothing flagged"))
    for lvl, rows in flagged.groupby("level", sort=False):
        print(f"[{lvl}]")
        for text in rows[f"explanation_{lang}"]:
            print(f"  - {text}")
    disp = meta["dispersion"].get(str(wave))
    if disp:
        print(("过度离散" if lang == "zh" else "over-dispersion") + f": phi={disp['phi']:.2f}, tau2={disp['tau2']:.3g}, "
              f"p={disp['p_value']:.3g}, limits: {disp['applied']}")
    if args.output:
        print(f"wrote {write_frame(table, args.output)}")
    if args.html:
        from ..warning.report import render_warning_section
        from ..warning.transitions import tier_transitions

        flows = tier_transitions(frame, min_cell=args.min_cell, tiers=tiers) if long.key and len(meta["waves"]) > 1 else None
        page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>early warning</title></head><body>"
                + render_warning_section(table, lang=lang, wave=wave, transitions=flows) + "</body></html>")
        Path(args.html).parent.mkdir(parents=True, exist_ok=True)
        Path(args.html).write_text(page, encoding="utf-8")
        print(f"wrote {args.html}")
    sys.stdout.flush()
    return 0
