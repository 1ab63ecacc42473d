"""School order for group labels: 一年级 … 六年级, 初一 … 初三 / 七年级 … 九年级, 高一 … 高三; classes
naturally (2班 before 10班). Used by intake (recognising grade questions) and by reports (sorting groups),
so it lives below both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

__all__ = ["grade_rank", "school_order"]

_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
           "十一": 11, "十二": 12}
_GRADE_RX = (
    (re.compile(r"^(?:小学)?([一二三四五六]|[1-6])年级$"), 0),  # 一年级 … 六年级 → 1 … 6
    (re.compile(r"^(?:初中)?([七八九]|[7-9])年级$"), 0),  # 七年级 … 九年级 → 7 … 9
    (re.compile(r"^初([一二三四]|[1-4])$"), 6),  # 初一 … 初三 → 7 … 9 (初四 in 五四制 → 10)
    (re.compile(r"^高([一二三]|[1-3])$"), 9),  # 高一 … 高三 → 10 … 12
    (re.compile(r"^高中([一二三]|[1-3])年级$"), 9),
    (re.compile(r"^(?:grade|g)\s*(\d{1,2})$"), 0),
)
_STAGE = {"小学": 1, "初中": 7, "高中": 10, "中职": 10, "职高": 10}


def grade_rank(value: object) -> float:
    """Position of a grade in school order (一年级 = 1 … 九年级/初三 = 9, 高一 = 10 … 高三 = 12); NaN if not a grade."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    t = unicodedata.normalize("NFKC", str(value)).strip().casefold().replace(" ", "")
    for rx, offset in _GRADE_RX:
        m = rx.match(t)
        if m:
            g = m.group(1)
            return float((_CN_NUM.get(g) or int(g)) + offset)
    if t in _STAGE:
        return float(_STAGE[t])
    return np.nan


_DIGITS = re.compile(r"(\d+)")


def _natural(value: object) -> tuple[object, ...]:
    parts = _DIGITS.split(unicodedata.normalize("NFKC", str(value)))
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def school_order(values: Sequence[object]) -> np.ndarray:
    """Positions that sort ``values`` in school order: grades by :func:`grade_rank` when every value is a
    grade, otherwise naturally (``2班`` before ``10班``); numbers by value. Stable."""
    vals = list(values)
    if not vals:
        return np.arange(0)
    ranks = np.array([grade_rank(v) for v in vals], dtype=float)
    if not np.isnan(ranks).any():
        return np.argsort(ranks, kind="stable")
    if all(isinstance(v, (int, float, np.integer, np.floating)) for v in vals):
        return np.argsort(np.asarray(vals, dtype=float), kind="stable")
    keys = [_natural(v) for v in vals]
    return np.array(sorted(range(len(vals)), key=lambda i: keys[i]), dtype=np.int64)
