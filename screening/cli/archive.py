"""``screening archive add|waves|history|transitions|due`` (registered in :data:`screening.cli.COMMANDS`).

Every command opens the archive with the pseudonym key (``--key-file`` or ``--key-env``); ids typed on the
command line are turned into pseudonyms at once and never written anywhere.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_parser"]


def _open(args: argparse.Namespace) -> Any:
    from ..archive import open_archive
    from ..reports.privacy import load_key

    if bool(args.key_file) == bool(args.key_env):
        from .._params import InvalidParameterError

        raise InvalidParameterError("The '--key-file' and '--key-env' options of screening archive must be given "
                                    "exactly one at a time. Got " + ("both" if args.key_file else "neither") + " instead.")
    key = load_key(file=args.key_file, env=args.key_env, version=args.key_version)
    return open_archive(args.archive, key=key, actor=args.actor)


def _show(frame: Any, args: argparse.Namespace) -> None:
    if getattr(args, "output", None):
        from .commands import write_table

        write_table(frame, args.output)
        print(f"{len(frame):,} rows → {args.output}", file=sys.stderr)
    else:
        print(frame.to_string())


def _cmd_add(args: argparse.Namespace) -> int:
    from . import commands as cli

    arch = _open(args)
    result, frame, id_col = cli._run_screen(args, cli._lang(args, "zh"))
    if id_col is None:
        from ..errors import Issue, ScreeningError

        raise ScreeningError([Issue("missing_column", "no student id column found", hint="name it with --id-column")],
                             title="cannot archive without student ids")
    rep = arch.add(result, wave=args.wave, on=args.on, ids=frame[id_col].astype("string"), period=args.period,
                   replace=args.replace)
    print(f"wave {rep.wave}: added {rep.added:,}, unchanged {rep.unchanged:,}, superseded {rep.superseded:,}")
    arch.close()
    return 0


def _cmd_waves(args: argparse.Namespace) -> int:
    arch = _open(args)
    _show(arch.waves(), args)
    arch.close()
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    import pandas as pd

    arch = _open(args)
    ids = list(args.ids or [])
    if args.ids_file:
        with open(args.ids_file, encoding="utf-8-sig") as fh:
            ids += [line.strip() for line in fh if line.strip()]
    _show(arch.history(pd.Series(ids, dtype="string"), purpose=args.purpose), args)
    arch.close()
    return 0


def _cmd_transitions(args: argparse.Namespace) -> int:
    arch = _open(args)
    by = [b.strip() for b in args.by.split(",")] if args.by else None
    _show(arch.transitions(args.from_wave, args.to_wave, by=by, min_cell=args.min_cell), args)
    arch.close()
    return 0


def _cmd_due(args: argparse.Namespace) -> int:
    arch = _open(args)
    _show(arch.due(on=args.on, within=args.within), args)
    arch.close()
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("archive", help="archive: a SQLite file or a postgresql+psycopg:// URL / 档案库")
    p.add_argument("--key-file", metavar="FILE", help="pseudonym key file (the region's key) / 化名密钥文件")
    p.add_argument("--key-env", metavar="VAR", help="environment variable holding the key / 存放密钥的环境变量")
    p.add_argument("--key-version", default="k1", help="key label (default k1)")
    p.add_argument("--actor", help="who is working, for the access log (default: login name) / 操作人")


def add_parser(sub: Any) -> None:
    """Register ``screening archive …``."""
    p = sub.add_parser("archive", help="the student archive across waves (一生一档) / 学生心理档案库",
                       description="Keep every screening wave of the same students in one archive (SQLite file or "
                       "PostgreSQL), follow yellow/orange students until green, list what is due. 多次测评纵向档案。")
    asub = p.add_subparsers(dest="archive_command", metavar="ACTION", required=True)

    from .commands import _screen_options

    a = asub.add_parser("add", help="screen a file and add it to the archive as one wave / 测评并存入一个批次")
    a.add_argument("archive", help="archive: a SQLite file or a postgresql+psycopg:// URL / 档案库")
    _screen_options(a)
    a.add_argument("--wave", required=True, help="wave label, e.g. 2026春 / 批次名称")
    a.add_argument("--on", required=True, metavar="YYYY-MM-DD", help="screening date / 测评日期")
    a.add_argument("--period", help="period label, e.g. 开学 / 考试季 / 时段")
    a.add_argument("--replace", action="store_true", help="supersede stored rows that differ / 覆盖（保留旧记录）")
    a.add_argument("--actor", help="who is working, for the access log / 操作人")
    a.set_defaults(func=_cmd_add)

    w = asub.add_parser("waves", help="the waves stored / 已存批次")
    _common(w)
    w.add_argument("-o", "--output", help="write a table instead of printing")
    w.set_defaults(func=_cmd_waves)

    h = asub.add_parser("history", help="one student's (or several) results over the waves / 学生历次结果")
    _common(h)
    h.add_argument("--ids", nargs="+", metavar="ID", help="student ids / 学号")
    h.add_argument("--ids-file", metavar="FILE", help="a text file with one id per line")
    h.add_argument("--purpose", help="why (recorded in the access log) / 查阅目的")
    h.add_argument("-o", "--output", help="write a table instead of printing")
    h.set_defaults(func=_cmd_history)

    t = asub.add_parser("transitions", help="tier × tier counts between two waves / 两批次分级转移表")
    _common(t)
    t.add_argument("from_wave")
    t.add_argument("to_wave")
    t.add_argument("--by", help="school, grade, class or sex (comma-separated) / 分组")
    t.add_argument("--min-cell", type=int, default=10, help="hide groups with a count below this (default 10)")
    t.add_argument("-o", "--output", help="write a table instead of printing")
    t.set_defaults(func=_cmd_transitions)

    d = asub.add_parser("due", help="follow-ups and re-screens due or overdue, urgent first / 到期随访与复测")
    _common(d)
    d.add_argument("--on", metavar="YYYY-MM-DD", help="as of this date (default today)")
    d.add_argument("--within", type=int, default=0, help="also items due in the next N days")
    d.add_argument("-o", "--output", help="write a table instead of printing")
    d.set_defaults(func=_cmd_due)
