"""Plain-language reasons for each flag, in Chinese and English, for a district official who is not a statistician.

A suppressed row says that it is flagged and why, never its count or rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["FLAG_NAMES", "LEVEL_NAMES", "explain", "outcome_name"]

FLAG_NAMES = {
    "zh": {"left_behind": "留守儿童", "single_parent": "单亲家庭学生", "bullied": "遭受欺凌的学生", "poverty": "家庭经济困难学生",
           "migrant": "流动儿童", "disability": "残疾学生", "bereaved": "丧亲学生", "known_disorder": "已知有心理障碍的学生"},
    "en": {"left_behind": "left-behind children", "single_parent": "students of single-parent families",
           "bullied": "bullied students", "poverty": "students from poor families", "migrant": "migrant children",
           "disability": "students with a disability", "bereaved": "bereaved students",
           "known_disorder": "students with a known disorder"},
}

LEVEL_NAMES = {"zh": {"district": "区县", "school": "学校", "grade": "年级", "class": "班级", "risk_group": "高危群体"},
               "en": {"district": "district", "school": "school", "grade": "grade", "class": "class", "risk_group": "risk group"}}

_TIER = {"zh": {"green": "绿色", "yellow": "黄色", "orange": "橙色", "red": "红色"},
         "en": {"green": "green", "yellow": "yellow", "orange": "orange", "red": "red"}}


def outcome_name(outcome: str, tiers: Sequence[str], lang: str) -> str:
    """"橙色档案比例" / "share in orange"; "黄色及以上比例" for a tier below the top."""
    if outcome == "urgent":
        return "危机（紧急）学生比例" if lang == "zh" else "share of urgent (crisis) students"
    if outcome == "rescreen":
        return "需重测学生比例" if lang == "zh" else "share needing a re-screen"
    name = _TIER[lang].get(outcome, outcome)
    top = outcome == tiers[-1]
    if lang == "zh":
        return f"{name}档案比例" if top else f"{name}及以上档案比例"
    return f"share in {name}" if top else f"share in {name} or higher"


def _pct(x: object) -> str:
    return "—" if x is None or pd.isna(x) else f"{float(x):.1%}"  # type: ignore[arg-type,call-overload]


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def explain(table: pd.DataFrame, *, level: str, outcome: str, tiers: Sequence[str], persistence: tuple[int, int],
            names: Mapping[str, Mapping[str, str]] | None = None) -> tuple[list[str], list[str]]:
    """One zh and one en sentence per row ("" for rows without a flag)."""
    flagged = table["flag"].fillna("").to_numpy(dtype=object) != ""
    zh = [""] * len(table)
    en = [""] * len(table)
    if not flagged.any():
        return zh, en
    k, m = persistence
    # previous wave's rate of the same group (rows are group-major in wave order)
    same = (table["level"] == table["level"].shift()) & (table["group"] == table["group"].shift())
    prev_rate = table["rate"].shift().where(same)
    prev_wave = table["wave"].shift().where(same)
    out_zh, out_en = outcome_name(outcome, tiers, "zh"), outcome_name(outcome, tiers, "en")
    fnames = {lang: {**FLAG_NAMES[lang], **((names or {}).get(lang, {}))} for lang in ("zh", "en")}
    idx = flagged.nonzero()[0]
    for i, r in zip(idx, table.iloc[idx].to_dict("records")):
        lvl = r["level"]
        hidden = bool(r["suppressed"])
        if lvl == "risk_group":
            who_zh = fnames["zh"].get(r["group"], r["group"])
            who_en = fnames["en"].get(r["group"], r["group"])
        elif lvl == "period":
            who_zh, who_en = f"{r['period_zh']}时段", f"the period '{r['period_en']}'"
        elif lvl == "all":
            who_zh, who_en = "全区", "The district"
        else:
            who_zh = f"{LEVEL_NAMES['zh'].get(level, level)}「{r['group']}」"
            who_en = f"{LEVEL_NAMES['en'].get(level, level)} “{r['group']}”"
        if lvl == "period":
            when_zh = f"（{r['school_year']} 学年，共 {int(r['n']):,} 人次）" if pd.notna(r["school_year"]) else ""
            when_en = f" ({r['school_year']}; {int(r['n']):,} student-screenings)" if pd.notna(r["school_year"]) else ""
        else:
            p_zh = f"，{r['period_zh']}" if pd.notna(r["period_zh"]) else ""
            p_en = f", {r['period_en']}" if pd.notna(r["period_en"]) else ""
            when_zh, when_en = f"（{r['wave']}{p_zh}）", f" ({r['wave']}{p_en})"
        ref_zh = "全部测评" if lvl == "period" else "全区"
        ref_en = "all screenings" if lvl == "period" else "the district"
        s_zh, s_en = [], []
        if hidden:
            s_zh.append(f"{who_zh}{when_zh}已预警（人数较少，具体人数和比例不公布）")
            s_en.append(f"{who_en}{when_en} is flagged (small numbers: the count and rate are not published)")
        else:
            ref_part_zh = "" if lvl == "all" else f"，{ref_zh} {_pct(r['target'])}"
            ref_part_en = "" if lvl == "all" else f", {ref_en} {_pct(r['target'])}"
            s_zh.append(f"{who_zh}{when_zh}{out_zh} {_pct(r['rate'])}（{int(r['events'])}/{int(r['n'])} 人）{ref_part_zh}")
            s_en.append(f"{who_en}{when_en}: {out_en} {_pct(r['rate'])} ({int(r['events'])} of {int(r['n'])}){ref_part_en}")
        if r["above_998"]:
            s_zh.append(f"超出 99.8% 控制上限（{_pct(r['upper998'])}）：这么大的差距几乎不可能是偶然波动，建议优先核查原因")
            s_en.append(f"above the 99.8% control limit ({_pct(r['upper998'])}): a gap this large is very unlikely to be chance; "
                        "look into it first")
        elif r["above_95"]:
            s_zh.append(f"超出 95% 控制上限（{_pct(r['upper95'])}）：可能不只是偶然，值得关注")
            s_en.append(f"above the 95% control limit ({_pct(r['upper95'])}): probably more than chance; worth attention")
        if r["persistent"]:
            s_zh.append(f"最近 {m} 次测评中至少 {k} 次超出 95% 控制上限，属于持续偏高")
            s_en.append(f"above the 95% limit in at least {k} of the last {m} screenings: persistently high")
        if r["rising"]:
            if hidden or pd.isna(prev_rate.iloc[i]):
                s_zh.append("比上一次测评明显上升")
                s_en.append("clearly higher than at the previous screening")
            else:
                s_zh.append(f"比上一次测评（{prev_wave.iloc[i]}：{_pct(prev_rate.iloc[i])}）明显上升，"
                            f"不太可能是偶然（校正后 {_p(float(r['p_change']))}）")
                s_en.append(f"clearly up from the previous screening ({prev_wave.iloc[i]}: {_pct(prev_rate.iloc[i])}); "
                            f"unlikely to be chance (adjusted {_p(float(r['p_change']))})")
        zh[i] = "；".join(s_zh) + "。筛查结果，不是诊断。"
        en[i] = "; ".join(s_en) + ". Screening, not diagnosis."
    return zh, en
