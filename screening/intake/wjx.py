"""问卷星 (wjx.cn) downloads: 按选项文本 (option text) and 按选项序号 (1-based option index).

Layout (.xlsx, .xls or .csv): metadata columns ``序号, 提交答卷时间, 所用时间,
来源, 来源详情, 来自IP`` (and ``总分`` on 测评 questionnaires), then one column
per question headed ``1、题干`` (or ``1.``/``1：``), matrix rows as
``第N题(行标签)``. ``所用时间`` is text such as ``123秒`` or ``2分3秒``. The index
download writes -2/-3 for skipped / not-shown questions (text download:
``(跳过)``); both are unanswered here (reportgen maps them to NaN the same
way: https://github.com/gasongjian/reportgen, ``wenjuanxing()``).

``总分`` is the platform's own total under its own option scores: it is
dropped and never used; ``score()`` recomputes every score from the YAML.
``来自IP`` (IP address and city) is dropped for privacy.
"""

from __future__ import annotations

from . import meta as M
from .grid import Grid
from .source import Extract, from_grid

__all__ = ["SKIP_CODES", "extract", "looks_like_wjx"]

SKIP_CODES = frozenset({"-2", "-3", "(跳过)", "（跳过）", "跳过", "(空)", "（空）"})
_TOTALS = frozenset({"总分", "总得分"})


def looks_like_wjx(columns: list[str]) -> bool:
    """True when the header has 问卷星's metadata columns."""
    cols = set(columns)
    return "提交答卷时间" in cols or {"序号", "所用时间"} <= cols


def extract(grid: Grid) -> Extract:
    """An :class:`Extract` of a 问卷星 download (text or index form; the form is decided per column)."""
    ex = from_grid(grid, "wjx")
    cols = set(ex.frame.columns)
    for name, canonical in (("序号", M.RESPONDENT_ID), ("提交答卷时间", M.SUBMITTED_AT), ("所用时间", M.DURATION_S)):
        if name in cols:
            ex.meta_cols[canonical] = name
    ex.consumed |= {c for c in cols if c in _TOTALS}
    ex.numeric_means = "index"
    ex.missing_codes = SKIP_CODES
    ex.derive_start = True
    return ex
