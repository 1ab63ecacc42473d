"""The self-contained HTML report for a class, a school or a district (see docs/reports.md).

Aggregates only, suppressed as :func:`~screening.reports.summary.summarise`
does; per-student pages only with ``students=True`` and ids or a key, under a
confidentiality banner. No network: CSS is inline and charts are inline SVG whose
text the reader's browser draws (no Chinese font is needed where the report is made).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import columns as C
from .._params import InvalidParameterError
from ..columns import DISCLAIMER
from ._common import result_lang
from ._deps import require
from ._progress import progress_iter
from ._template import TEMPLATE
from .fonts import browser_text
from .i18n import T
from .lists import follow_up_list, warning_list
from .plots import figure_svg, group_labels, score_histogram, tier_bars
from .summary import resolve_by, summarise
from .suppression import suppress
from .workload import workload

if TYPE_CHECKING:
    from ..screener.result import ScreeningResult
    from .privacy import Key

__all__ = ["render_report", "write_report"]


def _pct(x: Any) -> str:
    return "" if pd.isna(x) else f"{float(x) * 100:.1f}%"


def _cell(n: Any, prop: Any, mark: str) -> dict[str, str]:
    if pd.isna(n):
        return {"text": mark, "cls": "sup"}
    return {"text": f"{int(n):,} ({_pct(prop)})", "cls": ""}


def _svg(fig: Any) -> Any:
    """The chart as inline SVG (text kept as text, drawn by the reader's browser), marked safe for the template."""
    markup = require("markupsafe").Markup(figure_svg(fig))
    fig.clear()
    return markup


def _overview(result: ScreeningResult, summ: pd.DataFrame, lang: str, t: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    row = summ.iloc[0]
    mark = t["suppressed_mark"]
    rows: list[dict[str, Any]] = []
    cards: list[dict[str, Any]] = [{"value": f"{int(row['n']):,}", "label": t["students"], "colour": None}]
    for tier in reversed(result.rules.spec.tiers):
        m = f"tier.{tier.id}"
        hidden = pd.isna(row[f"{m}.n"])
        rows.append({"label": tier.label.get(lang), "colour": tier.colour, "cls": "sup" if hidden else "",
                     "n": mark if hidden else f"{int(row[f'{m}.n']):,}", "prop": mark if hidden else _pct(row[f"{m}.prop"]),
                     "ci": mark if hidden else f"{_pct(row[f'{m}.ci_low'])} – {_pct(row[f'{m}.ci_high'])}"})
        cards.append({"value": mark if hidden else f"{int(row[f'{m}.n']):,}", "label": tier.label.get(lang), "colour": tier.colour})
    for m in ("urgent", "rescreen"):
        hidden = pd.isna(row[f"{m}.n"])
        rows.append({"label": t[m], "colour": None, "cls": "sup" if hidden else "",
                     "n": mark if hidden else f"{int(row[f'{m}.n']):,}", "prop": mark if hidden else _pct(row[f"{m}.prop"]),
                     "ci": mark if hidden else f"{_pct(row[f'{m}.ci_low'])} – {_pct(row[f'{m}.ci_high'])}"})
        cards.append({"value": mark if hidden else f"{int(row[f'{m}.n']):,}", "label": t[m], "colour": None})
    return rows, cards


def _levels(result: ScreeningResult, summ: pd.DataFrame, by: list[str], lang: str, t: dict[str, str], min_cell: int,
            max_chart_groups: int, progress: bool | None) -> list[dict[str, Any]]:
    out = []
    tiers = list(reversed(result.rules.spec.tiers))
    mark = t["suppressed_mark"]
    for level in progress_iter(by, total=len(by), desc="report: groups", progress=progress):
        rows = summ[(summ["level"] == "all") | (summ["level"] == level)].reset_index(drop=True)
        n_groups = len(rows) - 1
        chart, note = None, ""
        if n_groups <= max_chart_groups:
            chart = _svg(tier_bars(result, by=by, level=level, summary=summ, min_cell=min_cell, lang=lang))
        else:
            note = t["too_many"].format(n=n_groups)
        labels = group_labels(rows, by[: by.index(level) + 1], lang)
        body = []
        for i, (_, r) in enumerate(rows.iterrows()):  # one row per group of the summary table being rendered, not per student
            p_hidden = pd.isna(r["compare.p_adj"])
            body.append({
                "label": labels[i], "n": f"{int(r['n']):,}", "is_all": r["level"] == "all",
                "cells": [_cell(r[f"tier.{x.id}.n"], r[f"tier.{x.id}.prop"], mark) for x in tiers],
                "urgent": _cell(r["urgent.n"], r["urgent.prop"], mark),
                "ratio": {"text": "" if r["level"] == "all" else (mark if pd.isna(r["compare.ratio"]) else f"{float(r['compare.ratio']):.2f}"),
                          "cls": "sup" if r["level"] != "all" and pd.isna(r["compare.ratio"]) else ""},
                "p": {"text": "" if r["level"] == "all" else (mark if p_hidden else f"{float(r['compare.p_adj']):.3g}"),
                      "cls": "sup" if r["level"] != "all" and p_hidden else ""},
                "flag": "" if pd.isna(r["compare.flag"]) else (t["yes"] if bool(r["compare.flag"]) else t["no"]),
            })
        title = _level_title(level, t)
        out.append({"title": title, "chart": chart, "chart_note": note, "rows": body})
    return out


_LEVELS = ("district", "school", "grade", "class", "sex", "stage")


def _level_title(level: str, t: dict[str, str]) -> str:
    return dict(zip(_LEVELS, t["level_names"].split("|"), strict=True)).get(level, level)


def _scores(result: ScreeningResult, summ: pd.DataFrame, lang: str, t: dict[str, str], min_cell: int) -> list[dict[str, Any]]:
    out = []
    row = summ.iloc[0]
    mark = t["suppressed_mark"]
    for scale in result.scales:
        spec = scale.spec
        for sc in spec.scores:
            col = C.band_col(scale.id, sc.id)
            if sc.bands is None or col not in result.scores.columns:
                continue
            name = f"{spec.abbreviation or spec.title.get(lang)} {sc.label.get(lang)}"
            bset = result.band_set(scale.id, sc.id)
            rows = []
            for b in bset.bands:
                m = f"{col}.{b.id}"
                rows.append(_band_row(row, m, b.label.get(lang), mark))
            rows.append(_band_row(row, f"{C.score_col(scale.id, sc.id)}.unscored", t["unscored"], mark))
            chart = _svg(score_histogram(result, scale.id, sc.id, min_cell=min_cell, lang=lang))
            out.append({"title": name, "chart": chart, "rows": rows})
    return out


def _band_row(row: pd.Series, m: str, label: str, mark: str) -> dict[str, str]:
    hidden = pd.isna(row[f"{m}.n"])
    return {"label": label, "cls": "sup" if hidden else "", "n": mark if hidden else f"{int(row[f'{m}.n']):,}",
            "prop": mark if hidden else _pct(row[f"{m}.prop"]),
            "ci": mark if hidden else f"{_pct(row[f'{m}.ci_low'])} – {_pct(row[f'{m}.ci_high'])}"}


def _risk_rows(result: ScreeningResult, lang: str, t: dict[str, str], min_cell: int) -> list[dict[str, Any]]:
    """Per flag: students flagged and their tiers (each flag's row suppressed as a partition of its students)."""
    not_collected = set(result.provenance.get("flags_not_supplied", ()))
    flags = [f for f in result.rules.spec.flags if f.id in result.flags.columns and f.id not in not_collected]
    missing_rows = [{"label": f.label.get(lang), "n": t["not_collected"], "n_cls": "sup",
                     "cells": [{"text": "", "cls": "sup"} for _ in result.rules.tiers]}
                    for f in result.rules.spec.flags if f.id in not_collected]
    if not flags:
        return missing_rows
    tiers = result.rules.tiers
    codes = np.asarray(result.table["tier"].array.codes)
    mat = np.zeros((len(flags), len(tiers)), dtype=np.int64)
    for i, f in enumerate(flags):
        has = result.flags[f.id].fillna(False).to_numpy(dtype=bool)
        mat[i] = np.bincount(codes[has], minlength=len(tiers))
    hidden = suppress([mat], [None], min_cell=min_cell, complete=True)[0]
    n = mat.sum(axis=1)
    mark = t["suppressed_mark"]
    order = list(range(len(tiers)))[::-1]
    rows = []
    for i, f in enumerate(flags):
        n_hidden = 0 < n[i] < min_cell
        cells = [{"text": mark, "cls": "sup"} if hidden[i, j] else {"text": f"{mat[i, j]:,} ({_pct(mat[i, j] / n[i]) if n[i] else ''})", "cls": ""}
                 for j in order]
        rows.append({"label": f.label.get(lang), "n": mark if n_hidden else f"{n[i]:,}", "n_cls": "sup" if n_hidden else "",
                     "cells": cells})
    return rows + missing_rows


def _workload_table(result: ScreeningResult, lang: str, t: dict[str, str], staff: pd.DataFrame | None,
                    capacity_hours: Mapping[str, float] | None, norms: Sequence[Any]) -> tuple[list[str], list[list[str]]]:
    wl = workload(result, staff=staff, capacity_hours=capacity_hours, norms=norms)
    by = wl.attrs["screening"]["by"]
    roles = [r for r in result.rules.spec.roles if r.staff]
    heads = [*(t["group"] for _ in by[:1]), t["role"], t["role_students"], t["role_hours"]]
    has_staff = any(f"{r.id}.staff" in wl.columns for r in roles)
    has_short = any(f"{r.id}.shortfall" in wl.columns for r in roles)
    if has_staff:
        heads += [t["staff"], t["per_staff"]]
    if has_short:
        heads.append(t["shortfall"])
    norm_ids = [c[len("norm."):-len(".met")] for c in wl.columns if c.startswith("norm.") and c.endswith(".met")]
    for i, _ in enumerate(norm_ids, 1):
        heads.append(f"{t['norms']} {i}")
    rows = []
    for _, r in wl.iterrows():  # one row per school (a handful), not per student
        group = " / ".join(str(r[c]) for c in by) if by else T[lang]["level_all"]
        for k, role in enumerate(roles):
            cells = [group if k == 0 else "", role.label.get(lang), f"{int(r[f'{role.id}.students']):,}", f"{float(r[f'{role.id}.hours']):,.1f}"]
            if has_staff:
                s = r.get(f"{role.id}.staff", pd.NA)
                hp = r.get(f"{role.id}.hours_per_staff", pd.NA)
                cells += ["" if pd.isna(s) else f"{float(s):g}", "" if pd.isna(hp) else f"{float(hp):,.1f}"]
            if has_short:
                sf = r.get(f"{role.id}.shortfall", pd.NA)
                cells.append("" if pd.isna(sf) else f"{float(sf):,.1f}")
            for nid in norm_ids:
                if k == 0:
                    met = r[f"norm.{nid}.met"]
                    cells.append(f"{int(r[f'norm.{nid}.required'])} — " + ("?" if pd.isna(met) else (t["yes"] if met else t["no"])))
                else:
                    cells.append("")
            rows.append(cells)
    return heads, rows


def _norm_notes(norms: Sequence[Any], lang: str, t: dict[str, str]) -> list[str]:
    from .workload import STAFFING_NORMS, StaffingNorm

    objs = [n if isinstance(n, StaffingNorm) else STAFFING_NORMS[n] for n in norms]
    return [f"{t['norms']} {i}: {n.label_zh if lang == 'zh' else n.label_en} ({n.source}) — "
            f"{t['norm_required']} / {t['norm_met']}" for i, n in enumerate(objs, 1)]


def _band_labels(result: ScreeningResult, lang: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Score column → (readable score name, band id → band label) in ``lang``."""
    out = {}
    for scale in result.scales:
        spec = scale.spec
        for sc in spec.scores:
            if sc.bands is None:
                continue
            bset = result.band_set(scale.id, sc.id)
            out[C.score_col(scale.id, sc.id)] = (f"{spec.abbreviation or spec.title.get(lang)} {sc.label.get(lang)}",
                                                 {b.id: b.label.get(lang) for b in bset.bands})
    return out


def _critical_answers(result: ScreeningResult, responses: pd.DataFrame | None, lang: str) -> list[tuple[str, list[str]]]:
    """Per critical item: its name and, per student, the answer as option text with its value (or unanswered)."""
    if responses is None:
        return []
    out = []
    unanswered = "未作答" if lang == "zh" else "not answered"
    for scale in result.scales:
        spec = scale.spec
        for crit in spec.critical:
            col = C.item_input_col(scale.id, crit.item)
            if col not in responses.columns:
                continue
            item = next(i for i in spec.items if str(i.id) == str(crit.item))
            labels = {float(o.value): o.label.get(lang) for o in spec.option_sets[item.options]}
            vals = pd.to_numeric(responses[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            text = item.text.get(lang) if item.text is not None else ""
            name = (f"{spec.abbreviation} 第{crit.item}题" if lang == "zh" else f"{spec.abbreviation} item {crit.item}") + \
                   (f"（{text}）" if lang == "zh" and text else (f" ({text})" if text else ""))
            answers = [unanswered if np.isnan(v) else f"{labels.get(v, f'{v:g}')} ({v:g})" for v in vals]
            out.append((name, answers))
    return out


def _extra_sections(result: ScreeningResult, lang: str, t: dict[str, str], min_cell: int, archive: Any,
                    early_warning: pd.DataFrame | None, transitions: pd.DataFrame | None) -> list[Any]:
    """HTML of the optional sections: the archive's tier transitions and the regional early-warning page."""
    from markupsafe import Markup, escape

    out: list[Any] = []
    if archive is not None:
        waves = archive.waves()
        if len(waves) >= 2:
            w1, w2 = (str(w) for w in waves["wave"].iloc[-2:])
            tab = archive.transitions(w1, w2, min_cell=min_cell)
            labels = {x.id: x.label.get(lang) for x in result.rules.spec.tiers} | {"absent": t["archive_absent"]}
            head = "".join(f"<th>{escape(labels.get(str(c), str(c)))}</th>" for c in tab.columns)
            rows = "".join(
                f"<tr><th>{escape(labels.get(str(i), str(i)))}</th>"
                + "".join(f"<td>{'—' if pd.isna(v) else f'{int(v):,}'}</td>" for v in tab.loc[i]) + "</tr>"
                for i in tab.index
            )
            out.append(Markup(  # noqa: S704 - every interpolated text is escaped above
                f"<section class='archive'><h2>{escape(t['archive_section'])}</h2>"
                f"<p class='note'>{escape(t['archive_note'].format(w1=w1, w2=w2, m=min_cell - 1))}</p>"
                f"<div class='wrap'><table><thead><tr><th>{escape(w1)} \\ {escape(w2)}</th>{head}</tr></thead>"
                f"<tbody>{rows}</tbody></table></div></section>"
            ))
    if early_warning is not None:
        from ..warning.report import render_warning_section

        with browser_text():
            # the library's own renderer, which escapes every text it places
            out.append(Markup(render_warning_section(early_warning, lang=lang, transitions=transitions)))  # noqa: S704
    return out


def _students(result: ScreeningResult, ids: Any, identifiable: bool, key: Key | None, lang: str, t: dict[str, str],
              screening_date: str | None, responses: pd.DataFrame | None = None, archive: Any = None) -> list[dict[str, Any]]:
    wl = warning_list(result, ids, identifiable=identifiable, key=key, lang=lang)
    due = None
    if screening_date:
        fu = follow_up_list(result, screening_date, lang=lang)
        due = dict(zip(fu["row"], fu["due"]))
    groups = list(result.groups.columns)
    bands = _band_labels(result, lang)
    critical = _critical_answers(result, responses, lang)
    not_collected = set(result.provenance.get("flags_not_supplied", ()))
    flag_specs = [f for f in result.rules.spec.flags if f.id in result.flags.columns and f.id not in not_collected]
    flag_vals = {f.id: np.asarray(result.flags[f.id].astype(object).where(result.flags[f.id].notna(), None)) for f in flag_specs}
    raw_ids = None if ids is None or archive is None else np.asarray(pd.Series(ids).astype(str))
    totals = [c for c in result.scores.columns if c.endswith(".total")]
    if archive is not None:
        from markupsafe import Markup
    out = []
    for rec in wl.to_dict("records"):  # one page per listed student: the explicit request this section exists for
        ident = rec.get("student_id") or rec.get("pseudonym") or f"{t['row']} {rec['row']}"
        row = int(rec["row"])
        fields = [(_level_title(g, t), rec[g]) for g in groups if g in rec and not pd.isna(rec[g])]
        scores = "; ".join(f"{name} = {rec[c]:g}（{lab.get(str(rec.get(c + '.band')), '')}）" if lang == "zh" else
                           f"{name} = {rec[c]:g} ({lab.get(str(rec.get(c + '.band')), '')})"
                           for c, (name, lab) in bands.items() if c in rec and not pd.isna(rec[c]))
        fields += [(t["tier"], rec["tier_label"] + (f" · {t['urgent']}" if rec["urgent"] else "")),
                   (t["scores_of_student"], scores)]
        for name, answers in critical:
            fields.append((f"{t['critical_items']}：{name}" if lang == "zh" else f"{t['critical_items']}: {name}",
                           answers[row]))
        if flag_specs:
            has = [f.label.get(lang) for f in flag_specs if flag_vals[f.id][row] is not None and bool(flag_vals[f.id][row])]
            fields.append((t["risk_of_student"], "、".join(has) if lang == "zh" and has else (", ".join(has) or t["none"])))
        fields += [(t["reasons"], rec["reasons"]), (t["actions"], rec["actions"]), (t["responsible"], rec["responsible"])]
        if due is not None and not pd.isna(due.get(rec["row"], pd.NA)):
            fields.append((t["follow_up"], str(due[rec["row"]])))
        trends: list[Any] = []
        if archive is not None and raw_ids is not None:
            sid = raw_ids[row]
            fields.append((t["archive_history"], archive.student_summary(sid, lang=lang, purpose="report")))
            with browser_text():
                # matplotlib's SVG of the archive's own chart (labels are scale and wave names)
                trends = [Markup(archive.trend_svg(sid, score=c, lang=lang, purpose="report")) for c in totals]  # noqa: S704
        out.append({"ident": ident, "fields": fields, "trends": trends})
    return out


def _ident(rec: Mapping[Any, Any], t: dict[str, str]) -> str:
    return str(rec.get("student_id") or rec.get("pseudonym") or f"{t['row']} {rec['row']}")


def _where(rec: Mapping[Any, Any], groups: Sequence[str]) -> str:
    return " / ".join(str(rec[g]) for g in groups if g in rec and not pd.isna(rec[g]) and g not in ("district", "sex"))


def _school_lists(result: ScreeningResult, ids: Any, identifiable: bool, key: Key | None, lang: str,
                  t: dict[str, str], day: str | None) -> list[dict[str, Any]]:
    """The internal report's lists: warning list, re-screen list, follow-up with due dates, the three lists."""
    from .lists import group_lists

    groups = list(result.groups.columns)
    wl = warning_list(result, ids, identifiable=identifiable, key=key, lang=lang)
    heads = [t["col_student"], t["group"], t["tier"], t["reasons"], t["actions"], t["responsible"]]

    def rows_of(frame: pd.DataFrame) -> list[list[str]]:
        return [[_ident(r, t), _where(r, groups), r["tier_label"] + (f" · {t['urgent']}" if r["urgent"] else ""),
                 str(r["reasons"]), str(r["actions"]), str(r["responsible"])] for r in frame.to_dict("records")]

    out = [{"title": t["list_warning"], "heads": heads, "rows": rows_of(wl), "note": ""}]
    out.append({"title": t["list_rescreen"], "heads": heads, "rows": rows_of(wl[wl["rescreen"].astype(bool)]), "note": ""})
    if day:
        fu = follow_up_list(result, day, ids, identifiable=identifiable, key=key, lang=lang)
        out.append({"title": t["list_followup"], "heads": [t["col_student"], t["group"], t["col_what"], t["col_due"],
                                                          t["responsible"]],
                    "rows": [[_ident(r, t), _where(r, groups), str(r.get("what", "")),
                              "" if pd.isna(r["due"]) else str(r["due"]), str(r["responsible"])]
                             for r in fu.to_dict("records")], "note": ""})
    not_collected = set(result.provenance.get("flags_not_supplied", ()))
    labels = {f.id: f.label.get(lang) for f in result.rules.spec.flags}
    for flag, lst in group_lists(result, ids, identifiable=identifiable, key=key, lang=lang).items():
        if flag in not_collected:
            out.append({"title": t["list_group"].format(label=labels.get(flag, flag)), "heads": [], "rows": [],
                        "note": t["not_collected"]})
            continue
        out.append({"title": t["list_group"].format(label=labels.get(flag, flag)), "heads": heads, "rows": rows_of(lst),
                    "note": ""})
    return out


def _workload_needs(result: ScreeningResult, lang: str, t: dict[str, str], staff: pd.DataFrame | None,
                    capacity_hours: Mapping[str, float] | None) -> list[str]:
    """"需要 3.2 名心理教师的工作量，现有 1 名": hours needed / hours one person gives, against the staff there."""
    if not capacity_hours:
        return []
    wl = workload(result, staff=staff, capacity_hours=capacity_hours)
    by = wl.attrs["screening"]["by"]
    roles = {r.id: r.label.get(lang) for r in result.rules.spec.roles if r.staff}
    out = []
    for _, r in wl.iterrows():  # one row per school
        group = " / ".join(str(r[c]) for c in by) if by else T[lang]["level_all"]
        for rid, cap in capacity_hours.items():
            if rid not in roles or f"{rid}.hours" not in wl.columns or not cap:
                continue
            have = r.get(f"{rid}.staff", pd.NA)
            if pd.isna(have):
                continue
            out.append(t["workload_need"].format(group=group, role=roles[rid], need=float(r[f"{rid}.hours"]) / cap,
                                                 cap=cap, have=float(have)))
    return out


def render_report(
    result: ScreeningResult,
    *,
    by: Sequence[str] | str | None = None,
    title: str | None = None,
    lang: str | None = None,
    min_cell: int = 10,
    screening_date: dt.date | str | None = None,
    staff: pd.DataFrame | None = None,
    capacity_hours: Mapping[str, float] | None = None,
    norms: Sequence[Any] = (),
    students: bool = False,
    ids: Any = None,
    identifiable: bool = False,
    key: Key | None = None,
    max_chart_groups: int = 60,
    progress: bool | None = None,
    audience: str = "district",
    responses: pd.DataFrame | None = None,
    archive: Any = None,
    early_warning: pd.DataFrame | None = None,
    transitions: pd.DataFrame | None = None,
) -> str:
    """The report as one self-contained HTML string.

    Parameters
    ----------
    result : ScreeningResult
    by : list, optional
        Group levels compared (default: district, school, grade, class present).
    title : str, optional
        Report title (default "学生心理健康筛查报告" / "Student mental-health screening report").
    lang : {"zh", "en"}, optional
        Default: the language the result was screened in.
    min_cell : int, default 10
        Suppression threshold for every table and chart.
    screening_date : date or ISO text, optional
        Shown in the header; gives follow-up dates on student pages.
    staff, capacity_hours, norms
        For the workload section (see :func:`~screening.reports.workload.workload`).
    students : bool, default False
        Add one confidential page per student on the warning list. Needs
        ``ids`` with ``identifiable=True``, or ``key`` for pseudonyms, or
        neither (students are then named by row number).
    max_chart_groups : int
        Levels with more groups than this get a table but no chart.
    progress : bool or None
        Progress bar (None: only in a terminal or notebook).
    audience : {"district", "school"}, default "district"
        ``district``: a report to share — small cells suppressed, no lists.
        ``school``: the school's **internal** report for the staff who act on
        it — actual counts (crisis and re-screen included, no suppression),
        the warning list, the re-screen list, follow-up due dates and the
        three lists, under a confidentiality banner. Only on this explicit
        request; students are named by ``ids``/``key`` as for ``students=True``.
    responses : DataFrame, optional
        The answers (same rows as the result): student pages then show the
        answer to each critical item (e.g. PHQ-9 item 9) as option text.
    archive : Archive, optional
        The student archive (:func:`screening.open_archive`): the report gets a
        longitudinal section (archive colour between its last two waves, suppressed
        like every table) and, on student pages (which need raw ``ids`` to look
        students up), the one-line history per scale and a trend chart. Each look-up
        is a logged read of that student's history (purpose "report").
    early_warning : DataFrame, optional
        The table of :func:`screening.early_warning`: adds the regional early-warning
        page (funnel plot, trends of flagged groups, plain-language flags);
        ``transitions`` (:func:`screening.warning.transitions.tier_transitions`) adds
        the tier-flow chart to it.
    """
    jinja2 = require("jinja2")
    lang = result_lang(result, lang, "render_report")
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 1:
        raise InvalidParameterError(f"The 'min_cell' parameter of render_report must be an integer >= 1. Got {min_cell!r} instead.")
    if audience not in ("district", "school"):
        raise InvalidParameterError(f"The 'audience' parameter of render_report must be 'district' or 'school'. "
                                    f"Got {audience!r} instead.")
    internal = audience == "school"
    if not students and not internal and (ids is not None or identifiable or key is not None):
        raise InvalidParameterError(
            "The 'students' parameter of render_report must be True when ids, identifiable or key are given "
            "(student pages are only made on explicit request). Got False instead."
        )
    if internal:
        min_cell = 1  # the school's own staff hold the lists: suppression would only hide their own students
    t = T[lang]
    cols = resolve_by(result, by, "render_report")
    summ = summarise(result, by=cols, min_cell=min_cell)
    meta = summ.attrs["screening"]
    overview, cards = _overview(result, summ, lang, t)
    with browser_text():  # the reader's browser draws the chart text: no font needed here, no font warning
        levels = _levels(result, summ, cols, lang, t, min_cell, max_chart_groups, progress)
        if "sex" in result.groups.columns and "sex" not in cols:
            summ_sex = summarise(result, by=["sex"], min_cell=min_cell)
            levels += _levels(result, summ_sex, ["sex"], lang, t, min_cell, max_chart_groups, False)
            levels[-1]["title"] = t["by_sex"]
        scores = _scores(result, summ, lang, t, min_cell)
    risk = _risk_rows(result, lang, t, min_cell)
    w_heads, w_rows = _workload_table(result, lang, t, staff, capacity_hours, norms)
    day = screening_date.isoformat() if isinstance(screening_date, dt.date) else screening_date
    student_pages = _students(result, ids, identifiable, key, lang, t, day, responses, archive) if students else None
    extra_sections = _extra_sections(result, lang, t, min_cell, archive, early_warning, transitions)
    lists = _school_lists(result, ids, identifiable, key, lang, t, day) if internal else None
    needs = _workload_needs(result, lang, t, staff, capacity_hours)
    spec = result.rules.spec
    concern = ", ".join(x.label.get(lang) for x in spec.tiers if x.id in meta["concern"])
    methods = [
        t["m_suppress"].format(min_cell=min_cell), t["m_ci"],
        t["m_test"].format(concern=concern, correction=meta["correction"].split(" ")[0], alpha=meta["alpha"]),
        t["m_hist"].format(min_cell=min_cell),
    ]
    prov = result.provenance
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    html: str = env.from_string(TEMPLATE).render(
        lang=lang, t=t, title=title or t["report"], version=prov.get("version", ""),
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"), screening_date=day, n_students=f"{len(result):,}",
        rules_title=spec.title.get(lang), rules_id=spec.id, rules_version=spec.version,
        rules_hash=result.rules.content_hash,
        scales_text=", ".join(s.spec.abbreviation or s.id for s in result.scales),
        disclaimer=DISCLAIMER[lang] + ("" if lang == "en" else " " + DISCLAIMER["en"]),
        cards=cards, overview=overview, levels=levels, tier_heads=[{"label": x.label.get(lang), "colour": x.colour} for x in reversed(spec.tiers)],
        score_sections=scores, risk_rows=risk, workload_heads=w_heads, workload_rows=w_rows,
        norm_notes=_norm_notes(norms, lang, t),
        students=student_pages, extra_sections=extra_sections, methods=methods, internal=internal, lists=lists, workload_needs=needs,
        audience_label=t["audience_school"] if internal else t["audience_district"].format(min_cell=min_cell),
        scale_prov=[{"id": s.id, "version": s.spec.version, "hash": s.content_hash} for s in result.scales],
    )
    return html


def write_report(result: ScreeningResult, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(result, **kwargs), encoding="utf-8")
    return p
