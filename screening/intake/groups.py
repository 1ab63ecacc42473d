"""Group and risk-group questions found by their wording, and school order for grades.

A 问卷星 questionnaire asks ``1、您的学校`` / ``2、年级`` / ``3、班级`` / ``4、性别``
and yes/no questions such as ``5、你是留守儿童吗？``. :func:`recognise` maps
such headers to the canonical group columns (``school``, ``grade``, ``class``,
``sex``, ``stage``) and risk-group flags (``left_behind``, ``single_parent``,
``bullied`` …, the flag ids of the bundled rule sets) with the synonym lists
below (documented in docs/intake.md). A header is matched on its stem (the
question number and punctuation removed); a header that matches two entries
is left alone. Only columns that are not scale items are considered.

Yes/no answers: text downloads give 是/否 (有/没有 …); 问卷星's index
download (按选项序号) gives the option position, and the position is read
as 1 = 是, 2 = 否, the order in which 问卷星 lists the options of a yes/no
question by default. A risk-group column holding any other number is left
as it is and reported by ``screen``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "FLAG_SYNONYMS",
    "GROUP_SYNONYMS",
    "ID_SYNONYMS",
    "Recognised",
    "grade_rank",
    "recognise",
    "school_order",
    "stem",
]

#: Canonical group column → words a header's stem may be (exactly, after removing 您的/你的/所在/请填写 …).
GROUP_SYNONYMS: dict[str, tuple[str, ...]] = {
    "district": ("区县", "县区", "区", "县", "所在区县", "district"),
    "school": ("学校", "学校名称", "就读学校", "所在学校", "校名", "school"),
    "stage": ("学段", "就读学段", "stage"),
    "grade": ("年级", "就读年级", "所在年级", "grade"),
    "class": ("班级", "班", "所在班级", "班别", "class"),
    "sex": ("性别", "sex", "gender"),
}

#: Risk-group flag → words one of which the header must contain (yes/no questions).
FLAG_SYNONYMS: dict[str, tuple[str, ...]] = {
    "left_behind": ("留守",),
    "single_parent": ("单亲", "父母离异", "离异家庭"),
    "bullied": ("欺凌", "霸凌", "欺负"),
    "poverty": ("经济困难", "贫困", "建档立卡", "低保"),
    "migrant": ("流动儿童", "随迁", "外来务工"),
    "disability": ("残疾",),
    "bereaved": ("丧亲", "亲人去世", "父母去世", "失去亲人"),
    "known_disorder": ("心理障碍", "心理疾病", "精神疾病", "确诊"),
}

#: Headers that hold a student id (each gets the Excel-precision check; the first found is the id).
ID_SYNONYMS: tuple[str, ...] = ("学籍号", "学生学籍号", "全国学籍号", "学号", "考号", "身份证号", "身份证", "身份证号码",
                                "student_id", "学生编号")

_PREFIX = re.compile(r"^\s*(?:第\s*)?\d+\s*(?:题)?\s*[、.:：．]?\s*")
_FILLER = re.compile(r"^(?:请(?:填写|选择|输入)?|您的|你的|您所在的?|你所在的?|所在的?|就读的?)+")
_TAIL = re.compile(r"[（(].*?[)）]|[：:？?。*＊\s]+")

_YES = frozenset({"是", "有", "是的", "yes", "y", "true", "1"})
_NO = frozenset({"否", "无", "没有", "不是", "no", "n", "false", "0"})


def stem(header: str) -> str:
    """A header without its question number, filler words (您的, 请填写 …), brackets and punctuation."""
    h = unicodedata.normalize("NFKC", str(header)).strip()
    h = _PREFIX.sub("", h)
    h = _TAIL.sub("", h)
    h = _FILLER.sub("", h)
    return h.casefold()


@dataclass(frozen=True)
class Recognised:
    """A column recognised by its wording: ``kind`` is ``group``, ``flag`` or ``id``."""

    column: str
    name: str
    kind: str
    note: str = ""


def _group_of(s: str) -> str | None:
    hits = [g for g, words in GROUP_SYNONYMS.items() if s in {w.casefold() for w in words}]
    return hits[0] if len(hits) == 1 else None


def _flag_of(header: str) -> str | None:
    h = unicodedata.normalize("NFKC", str(header))
    hits = [f for f, words in FLAG_SYNONYMS.items() if any(w in h for w in words)]
    return hits[0] if len(hits) == 1 else None


def recognise(columns: Sequence[str], taken: set[str] | frozenset[str] = frozenset()) -> list[Recognised]:
    """Columns whose header names a group, a risk group or a student id (at most one column per name)."""
    out: list[Recognised] = []
    seen: set[str] = set(taken)
    for col in columns:
        s = stem(col)
        if not s:
            continue
        name = _group_of(s)
        kind = "group"
        if name is None and s in {w.casefold() for w in ID_SYNONYMS}:
            name, kind = "id", "id"
        if name is None:
            name = _flag_of(col)
            kind = "flag"
        if name is None or name in seen:
            continue
        seen.add(name)
        out.append(Recognised(str(col), name, kind))
    return out


def yes_no(s: pd.Series, *, index_download: bool) -> tuple[pd.Series, str] | None:
    """A yes/no column as nullable booleans, or None if its cells are not all yes/no answers.

    Text: 是/否, 有/没有 …; index download (``index_download=True``): 1 = 是, 2 = 否.
    """
    text = s.astype("string").str.strip().str.casefold()
    uniq = [u for u in text.dropna().unique() if u != ""]
    if index_download and uniq and set(uniq) <= {"1", "2", "-2", "-3"}:
        out = pd.array([pd.NA] * len(s), dtype="boolean")
        v = np.asarray(text.astype(object).where(text.notna(), None))
        out[np.asarray(v == "1", dtype=bool)] = True
        out[np.asarray(v == "2", dtype=bool)] = False
        return pd.Series(out, index=s.index, name=s.name), "1 = 是, 2 = 否"
    if uniq and set(uniq) <= (_YES | _NO) and any(not u.isdigit() for u in uniq):
        out = pd.array([pd.NA] * len(s), dtype="boolean")
        v = np.asarray(text.astype(object).where(text.notna(), None))
        out[np.isin(v, list(_YES))] = True
        out[np.isin(v, list(_NO))] = False
        return pd.Series(out, index=s.index, name=s.name), "是 / 否"
    return None


# --- school order: in screening/ordering.py (reports sort groups the same way, without importing intake) ---
from ..ordering import grade_rank, school_order  # noqa: E402  (re-exported: part of this module's __all__)
