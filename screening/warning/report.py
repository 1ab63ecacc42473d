"""The district early-warning page of the report: an HTML fragment with inline SVG charts and the list of flags."""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from ..columns import DISCLAIMER
from .explain import LEVEL_NAMES

__all__ = ["render_warning_section"]

TEXT = {
    "zh": {"title": "区域心理预警：高发学校、高危群体、高危时段", "groups": "预警{level}", "risk": "高危群体", "periods": "高危时段",
           "none": "本期没有预警。",
           "intro": "每所{level}与全区比较；控制限考虑了人数多少（人数少的波动大），并按 Spiegelhalter (2005) 的方法"
           "考虑各{level}之间本来就存在的差异。超出 99.8% 控制上限几乎不可能是偶然；持续偏高或明显上升同样列出。",
           "hidden": "人数少于 {min_cell} 的格子及可反推出它们的格子不公布；已预警但人数少的单位只写“已预警”。", "flows": "档案等级流向"},
    "en": {"title": "Regional early warning: schools, risk groups and periods", "groups": "Flagged {level}s", "risk": "Risk groups",
           "periods": "Periods", "none": "Nothing flagged in this wave.",
           "intro": "Every {level} is compared with the district; the control limits allow for its size (small units vary more) "
           "and, following Spiegelhalter (2005), for the differences that always exist between {level}s. Beyond the 99.8% "
           "limit is very unlikely to be chance; persistent and clearly rising rates are listed too.",
           "hidden": "Counts below {min_cell}, and those that would reveal them, are not published; a flagged unit with small "
                     "numbers only says that it is flagged.", "flows": "Tier flows"},
}


def _list(rows: pd.DataFrame, lang: str) -> str:
    if not len(rows):
        return ""
    items = "".join(f"<li>{escape(str(e))}</li>" for e in rows[f"explanation_{lang}"])
    return f"<ul class='warning-flags'>{items}</ul>"


def render_warning_section(table: pd.DataFrame, *, lang: str = "zh", wave: str | None = None,
                           transitions: pd.DataFrame | None = None, charts: bool = True, max_trends: int = 12) -> str:
    """HTML fragment (a ``<section>``) for the district report, from :func:`~screening.warning.early_warning`'s table.

    Parameters
    ----------
    table : DataFrame
        The early-warning table (its ``attrs`` carry the level, waves and over-dispersion).
    lang : {"zh", "en"}
    wave : str, optional
        The wave whose flags are listed and whose funnel is drawn (default the last).
    transitions : DataFrame, optional
        :func:`~screening.warning.transitions.tier_transitions` between the last two waves, drawn as a flow chart.
    charts : bool, default True
        Inline SVG charts (need matplotlib, the ``report`` extra); False gives the text only.
    """
    from .._params import check_choice

    check_choice("render_warning_section", "lang", lang, ("zh", "en"))
    meta: dict[str, Any] = dict(table.attrs.get("screening", {}))
    level = str(meta.get("level", "school"))
    waves = meta.get("waves") or table["wave"].dropna().unique().tolist()
    wave = wave if wave is not None else (waves[-1] if waves else None)
    t = TEXT[lang]
    lvl_name = LEVEL_NAMES[lang].get(level, level)
    flagged = table["flag"].fillna("") != ""
    at_wave = table["wave"] == wave
    schools = table[flagged & at_wave & (table["level"] == level)].sort_values("z", ascending=False, na_position="first")
    risk = table[flagged & at_wave & (table["level"] == "risk_group")]
    periods = table[flagged & (table["level"] == "period")]
    parts = [f"<section class='early-warning' lang='{lang}'>", f"<h2>{escape(t['title'])}</h2>",
             f"<p>{escape(t['intro'].format(level=lvl_name))}</p>"]
    if charts:
        from .plots import figure_svg, funnel_plot, transition_flow, trend_multiples

        if (table["level"] == level).any():
            parts.append(f"<figure class='funnel'>{figure_svg(funnel_plot(table, wave, lang=lang))}</figure>")
    parts.append(f"<h3>{escape(t['groups'].format(level=lvl_name))} — {escape(str(wave))}</h3>")
    parts.append(_list(schools, lang) or f"<p>{escape(t['none'])}</p>")
    if charts and len(schools):
        trends = trend_multiples(table, schools["group"].tolist(), lang=lang, max_panels=max_trends)
        parts.append(f"<figure class='trends'>{figure_svg(trends)}</figure>")
    risk_all = table[table["level"] == "risk_group"]
    if len(risk) or (charts and len(risk_all)):
        parts.append(f"<h3>{escape(t['risk'])}</h3>")
        parts.append(_list(risk, lang) or f"<p>{escape(t['none'])}</p>")
    if charts and len(risk_all):
        groups = list(dict.fromkeys(risk_all["group"]))
        fig = trend_multiples(risk_all, groups, level="risk_group", lang=lang, max_panels=8, ncols=4)
        parts.append(f"<figure class='risk-trends'>{figure_svg(fig)}</figure>")
    if len(periods):
        parts += [f"<h3>{escape(t['periods'])}</h3>", _list(periods, lang)]
    if charts and transitions is not None:
        parts += [f"<h3>{escape(t['flows'])}</h3>", f"<figure class='flows'>{figure_svg(transition_flow(transitions, lang=lang))}</figure>"]
    parts.append(f"<p><small>{escape(t['hidden'].format(min_cell=meta.get('min_cell', 10)))} {escape(DISCLAIMER[lang])}</small></p>")
    parts.append("</section>")
    return "\n".join(parts)
