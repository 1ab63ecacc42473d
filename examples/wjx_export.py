"""A synthetic 问卷星 (wjx.cn) export of one junior secondary school, as a teacher downloads it.

Layout (as 问卷星 writes it; see docs/intake.md): metadata columns ``序号,
提交答卷时间, 所用时间, 来源, 来源详情, 来自IP``, then one column per question
headed ``N、题干``:

====  =====================================================================
Q1-4  学校 / 年级 / 班级 / 性别 (group questions)
Q5-7  留守 / 单亲 / 欺凌 yes/no questions (risk groups)
Q8-16 PHQ-9 (options 完全不会 / 好几天 / 一半以上的天数 / 几乎每天)
Q17-23 GAD-7 (same options)
Q24   学籍号 (19 characters: 'G' + 身份证-like digits; here digits only, the hard case)
====  =====================================================================

``kind="text"`` is the 按选项文本 download, ``kind="index"`` the 按选项序号
download (options as 1-based numbers, so 是/否 arrive as 1/2). Skipped
questions are ``(跳过)`` / ``-2``. With ``numeric_ids=True`` the 学籍号 cells
are numbers in the workbook (what Excel does when the column is not formatted
as text), so their last digits are lost and reading must fail.

Every answer is random (seeded): the numbers mean nothing clinically. Two
students are speeders who answered 完全不会 to everything in 18–40 seconds; one
student answers PHQ-9 item 9 (thoughts of death) "好几天".

Run ``python examples/wjx_export.py out.xlsx`` to write one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

PHQ9 = ["做事时提不起劲或没有兴趣", "感到心情低落、沮丧或绝望", "入睡困难、睡不安稳或睡眠过多", "感觉疲倦或没有活力",
        "食欲不振或吃太多", "觉得自己很糟，或觉得自己很失败，或让自己或家人失望", "对事物专注有困难，例如阅读报纸或看电视时",
        "动作或说话速度缓慢到别人已经觉察？或正好相反，烦躁或坐立不安、动来动去的情况更胜于平常",
        "有不如死掉或用某种方式伤害自己的念头"]
GAD7 = ["感觉紧张、焦虑或急切", "不能够停止或控制担忧", "对各种各样的事情担忧过多", "很难放松下来", "由于不安而无法静坐",
        "变得容易烦恼或急躁", "感到似乎将有可怕的事情发生而害怕"]
OPTIONS = ["完全不会", "好几天", "一半以上的天数", "几乎每天"]
GROUPS = ["1、您的学校", "2、您所在的年级", "3、班级", "4、性别"]
FLAGS = ["5、你是留守儿童吗？（父母双方或一方外出务工）", "6、你是否来自单亲家庭？", "7、本学期你是否在学校被欺凌（被欺负）过？"]
ID_HEADER = "24、学籍号"


def make_export(n: int = 150, *, kind: str = "text", seed: int = 11) -> pd.DataFrame:
    """The export as a DataFrame of cells (text, or option numbers for ``kind="index"``)."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(["初一", "初二", "初三"], n)
    klass = rng.choice(["1班", "2班", "10班"], n)
    sex = rng.choice(["男", "女"], n)
    severity = rng.gamma(1.2, 0.45, n)  # per-student tendency; a few high
    answers = np.clip(np.round(rng.normal(severity[:, None], 0.7, (n, 16))), 0, 3).astype(int)
    answers[:, 8] = np.where(rng.random(n) < 0.94, 0, answers[:, 8])  # item 9 mostly 0
    seconds = rng.integers(120, 600, n)
    speeders = [3, 4]
    answers[speeders] = 0
    seconds[speeders] = [18, 40]
    answers[7, 8] = 1  # one student with thoughts of death on several days
    flags = rng.random((n, 3)) < [0.2, 0.12, 0.06]
    ids = [f"44010620{rng.integers(10**10, 10**11 - 1):011d}" for _ in range(n)]
    ids[0] = "4401062011234567819"  # 19 digits: a float keeps only ~16 of them
    submitted = pd.Timestamp("2026-03-02 08:10:00") + pd.to_timedelta(rng.integers(0, 6 * 3600, n), unit="s")
    cols: dict[str, object] = {
        "序号": np.arange(1, n + 1).astype(str),
        "提交答卷时间": submitted.strftime("%Y/%m/%d %H:%M:%S"),
        "所用时间": [f"{s // 60}分{s % 60}秒" if s >= 60 else f"{s}秒" for s in seconds],
        "来源": "微信", "来源详情": "N/A", "来自IP": "113.0.0.1(广东-广州)",
    }
    index = kind == "index"
    cols[GROUPS[0]] = "1" if index else "城东中学"
    cols[GROUPS[1]] = pd.Series(grade).map({"初一": "1", "初二": "2", "初三": "3"}).to_numpy() if index else grade
    cols[GROUPS[2]] = pd.Series(klass).map({"1班": "1", "2班": "2", "10班": "3"}).to_numpy() if index else klass
    cols[GROUPS[3]] = np.where(sex == "男", "1", "2") if index else sex
    for k, header in enumerate(FLAGS):
        cols[header] = np.where(flags[:, k], "1", "2") if index else np.where(flags[:, k], "是", "否")
    for k, text in enumerate(PHQ9 + GAD7):
        q = 8 + k
        a = answers[:, k]
        cells = (a + 1).astype(str) if index else np.array(OPTIONS, dtype=object)[a]
        cols[f"{q}、{text}"] = cells
    frame = pd.DataFrame(cols)
    skip = "-2" if index else "(跳过)"
    frame.iloc[5, 6 + 4 + 3 + 1] = skip  # one skipped PHQ-9 item 2
    frame[ID_HEADER] = ids
    return frame


def write_export(path: str | Path, n: int = 150, *, kind: str = "text", numeric_ids: bool = False,
                 seed: int = 11) -> Path:
    """Write :func:`make_export` as .xlsx (openpyxl) or .csv (UTF-8 with BOM, as 问卷星 does)."""
    p = Path(path)
    frame = make_export(n, kind=kind, seed=seed)
    if p.suffix.lower() == ".csv":
        frame.to_csv(p, index=False, encoding="utf-8-sig")
        return p
    if numeric_ids:
        frame[ID_HEADER] = frame[ID_HEADER].astype("int64")  # what Excel does to an unformatted id column
    if kind == "index":
        for c in frame.columns[6:-1]:
            frame[c] = pd.to_numeric(frame[c])  # 问卷星 writes option numbers as numbers
    frame.to_excel(p, index=False, sheet_name="Sheet1")
    return p


if __name__ == "__main__":  # pragma: no cover
    print(write_export(sys.argv[1] if len(sys.argv) > 1 else "wjx_export.xlsx"))
