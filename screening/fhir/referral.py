"""The referral package for one student (转介单): a printable bilingual HTML page plus its FHIR Bundle.

The policies send orange-tier and crisis students on to professional help —
视情况及时转介到专业机构 (许昌), 绿色通道 to psychiatric hospitals (丽州, 赣州),
校医联动 (慈溪). The page says who refers, why (each rule that fired, its
reason and its source), the scores with their bands, the trend across waves
when an archive is given, the student's risk groups and the actions already
taken — under a confidentiality banner, on one A4 page. It names exactly one
student, by keyed pseudonym unless the caller asks for the real id, and the
Bundle (:func:`screening.fhir.to_fhir` for that one student) carries the same
facts for the receiving system.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import columns as C
from .._params import InvalidParameterError, check_choice
from .._version import __version__
from ..screener.result import DISCLAIMER, ScreeningResult
from .write import _band_label, to_fhir

if TYPE_CHECKING:
    from ..reports.privacy import Key

__all__ = ["Referral", "referral"]

_FONTS = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
          '"WenQuanYi Micro Hei", "SimHei", sans-serif')

_CSS = """
@page { size: A4; margin: 9mm 11mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: FONTS; font-size: 9pt; line-height: 1.28; color: #111; margin: 0; }
.page { width: 186mm; margin: 0 auto; }
.banner { background: #b71c1c; color: #fff; padding: 2.2mm 3mm; font-weight: bold; font-size: 9.4pt; }
.banner small { font-weight: normal; display: block; font-size: 8pt; }
h1 { font-size: 14pt; margin: 2mm 0 0.3mm; }
h1 small { font-size: 9.5pt; color: #444; font-weight: normal; }
h2 { font-size: 10.2pt; margin: 2.2mm 0 0.8mm; border-bottom: 1.2px solid #333; padding-bottom: 0.4mm; }
h2 small { font-weight: normal; color: #555; font-size: 8.6pt; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.6px solid #999; padding: 0.5mm 1.2mm; text-align: left; vertical-align: top; font-size: 8.3pt; }
table.fixed { table-layout: fixed; }
th { background: #eee; font-weight: bold; }
.grid td { border: none; padding: 0.4mm 1.4mm 0.4mm 0; }
.grid td.k { color: #555; white-space: nowrap; width: 1%; }
.tier { display: inline-block; padding: 0.4mm 2.4mm; border-radius: 1mm; color: #fff; font-weight: bold; }
.urgent { display: inline-block; padding: 0.4mm 2.4mm; border-radius: 1mm; background: #b71c1c; color: #fff;
          font-weight: bold; margin-left: 2mm; }
.src { color: #555; font-size: 7.2pt; line-height: 1.2; }
.muted { color: #666; }
.sig td { border: none; padding-top: 3.5mm; width: 33%; }
.line { border-bottom: 0.8px solid #333; display: inline-block; min-width: 38mm; height: 4mm; }
.foot { margin-top: 2.4mm; font-size: 7.4pt; color: #555; border-top: 0.6px solid #999; padding-top: 1mm; }
svg { display: block; }
@media screen { body { background: #ddd; } .page { background: #fff; padding: 8mm; margin: 6mm auto; width: 210mm; } }
""".replace("FONTS", _FONTS)


@dataclass(frozen=True, repr=False)
class Referral:
    """A referral package: ``html`` (the printable 转介单) and ``bundle`` (FHIR R4 Bundle, a dict)."""

    html: str
    bundle: dict[str, Any]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def write(self, folder: str | Path, stem: str = "referral") -> list[Path]:
        """Write ``<stem>.html`` and ``<stem>.fhir.json`` into ``folder`` (created if needed)."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        html = out / f"{stem}.html"
        html.write_text(self.html, encoding="utf-8")
        js = out / f"{stem}.fhir.json"
        js.write_text(json.dumps(self.bundle, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return [html, js]

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:  # never the student
        return f"<Referral: tier {self.meta.get('tier')}, urgent {self.meta.get('urgent')}, {len(self.bundle['entry'])} FHIR resources>"


def _position(result: ScreeningResult, student: Any, ids: Any, key: Key | None) -> int:
    n = len(result)
    if isinstance(student, (int, np.integer)) and not isinstance(student, bool):
        if not 0 <= int(student) < n:
            raise InvalidParameterError(f"The 'student' parameter of referral must be a row position from 0 to {n - 1} "
                                        "or a student id / pseudonym. Got a position outside that range instead.")
        return int(student)
    if not isinstance(student, str) or ids is None:
        raise InvalidParameterError("The 'student' parameter of referral must be a row position, or a student id / "
                                    "pseudonym together with 'ids'. Got "
                                    f"{type(student).__name__}{' without ids' if ids is None else ''} instead.")
    from ..reports._common import identify
    from ..reports.privacy import normalise_id

    ident = identify(result, ids, True, key, "referral")
    hits = np.flatnonzero(ident["student_id"].astype(str).map(normalise_id).to_numpy() == normalise_id(student))
    if not len(hits) and "pseudonym" in ident.columns:
        hits = np.flatnonzero(ident["pseudonym"].astype(str).to_numpy() == student.strip())
    if len(hits) != 1:
        raise InvalidParameterError("The 'student' parameter of referral must match exactly one screened student. "
                                    f"Got {'no' if not len(hits) else len(hits)} matches instead.")
    return int(hits[0])


def _text(d: Mapping[str, Any] | str | None, lang: str = "zh") -> str:
    if d is None:
        return ""
    if isinstance(d, str):
        return d
    return str(d.get(lang) or d.get("en" if lang == "zh" else "zh") or "")


def _fired(result: ScreeningResult, r: int) -> list[tuple[str, str, str, str, str]]:
    """(id, condition, reason zh, reason en, source) of every rule that fired for the student."""
    spec = result.rules.spec
    token_col = result.table["rules_fired"] if "rules_fired" in result.table.columns else None
    tokens = [x for x in str(token_col.iloc[r]).split(";") if x and x != "nan"] if token_col is not None else []
    rules = {rule.id: rule for rule in spec.rules}
    titles = {s.id: (s.spec.abbreviation or s.id) for s in result.scales}
    out = []
    for tok in tokens:
        if tok in rules:
            rule = rules[tok]
            rs = rule.source
            out.append((tok, rule.when, rule.reason.get("zh"), rule.reason.get("en"),
                        (rs.ref + (f" ({rs.note})" if rs.note else "")) if rs else ""))
            continue
        scale_id, _, what = tok.partition(".")
        abbr = titles.get(scale_id, scale_id)
        if what == "critical":
            pol = spec.critical_items
            crit = next((s.spec.critical for s in result.scales if s.id == scale_id), ())
            cites = "; ".join(c.source.ref for c in crit)
            src = (pol.source.ref if pol.source else "") + (f" — {cites}" if cites else "")
            cond = " or ".join(f"item {c.item} {c.op} {c.value:g}" for c in crit)
            out.append((tok, cond, f"{abbr}：{pol.reason.get('zh')}", f"{abbr}: {pol.reason.get('en')}", src))
        elif what in ("insufficient", "invalid"):
            pol = getattr(spec.data_quality, what)
            out.append((tok, f"{scale_id}.status == {what}", f"{abbr}：{pol.reason.get('zh')}",
                        f"{abbr}: {pol.reason.get('en')}", ""))
        else:
            out.append((tok, "", tok, tok, ""))
    return out


def _trend_svg(hist: pd.DataFrame, cols: list[str]) -> str:
    """A small line chart of the score columns across waves (inline SVG; labels ASCII only, no font needed)."""
    w, h, left, right, top, bottom = 380, 84, 22, 84, 6, 16
    vals = hist[cols].apply(pd.to_numeric, errors="coerce")
    hi = float(np.nanmax(vals.to_numpy())) if vals.notna().any().any() else 1.0
    hi = max(hi, 1.0)
    n = len(hist)
    xs = [left + (w - left - right) * (i / max(n - 1, 1)) for i in range(n)]
    colours = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00"]
    parts = [f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" '
             'font-family="sans-serif" font-size="8">',
             f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#999"/>',
             f'<text x="2" y="{top + 6}">{hi:g}</text><text x="2" y="{h - bottom}">0</text>']
    for k, col in enumerate(cols):
        colour = colours[k % len(colours)]
        pts = [(x, top + (h - top - bottom) * (1 - v / hi)) for x, v in zip(xs, vals[col], strict=True) if pd.notna(v)]
        if len(pts) > 1:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="'
                         + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{colour}"/>' for x, y in pts]
        parts.append(f'<text x="{w - right + 6}" y="{top + 8 + 10 * k}" fill="{colour}">{escape(col)}</text>')
    for i, x in enumerate(xs):
        label = str(hist.iloc[i].get("wave", i + 1))
        if label.isascii():
            anchor = "start" if i == 0 else ("end" if i == n - 1 else "middle")
            parts.append(f'<text x="{x:.1f}" y="{h - 4}" text-anchor="{anchor}">{escape(label[:24])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _history(archive: Any, key_id: str | None) -> pd.DataFrame | None:
    if archive is None or key_id is None:
        return None
    hist = archive.history([key_id])
    if not isinstance(hist, pd.DataFrame) or hist.empty:
        return None
    return hist.reset_index(drop=True)


def referral(
    result_or_archive: Any,
    student: int | str,
    *,
    result: ScreeningResult | None = None,
    archive: Any = None,
    ids: pd.Series | str | Sequence[Any] | None = None,
    key: Key | None = None,
    identifiable: bool = False,
    responses: pd.DataFrame | None = None,
    referrer: Mapping[str, str] | str | None = None,
    to: str | None = None,
    actions_taken: Sequence[str] = (),
    on: dt.date | str | None = None,
    lang: str = "zh",
) -> Referral:
    """A printable bilingual 转介单 and the matching FHIR Bundle for one student.

    Parameters
    ----------
    result_or_archive : ScreeningResult or archive
        The screening the referral is about; or an archive (anything with
        ``.history(ids)``), in which case pass the screening as ``result=``.
    student : int or str
        Row position in the result, or the student's id / pseudonym (needs ``ids``).
    archive : optional
        An archive (``.history(ids)`` → one row per wave with score columns
        such as ``phq9.total``): the page shows the trend across waves.
    ids, key, identifiable
        Student ids and the pseudonymisation key: the page and the Bundle name
        the student by keyed pseudonym; the raw id only with ``identifiable=True``.
    responses : DataFrame, optional
        The answers screened: the Bundle then carries the QuestionnaireResponses.
    referrer : mapping or str, optional
        Who refers: ``{"name": …, "role": …, "school": …, "phone": …}``.
    to : str, optional
        The receiving institution (e.g. the city mental-health centre).
    actions_taken : sequence of str
        What has been done already (talk, parent contact, safety plan …).
    on : date, optional
        Date of the referral (default today).
    lang : {"zh", "en"}
        Main language (the page always shows both).

    Returns
    -------
    Referral
        ``.html``, ``.bundle`` and ``.write(folder)``.
    """
    func = "referral"
    check_choice(func, "lang", lang, ("zh", "en"))
    if isinstance(result_or_archive, ScreeningResult):
        res = result_or_archive
    elif hasattr(result_or_archive, "history"):
        archive = result_or_archive
        if result is None:
            raise InvalidParameterError("The 'result' parameter of referral must be given when the first argument is an "
                                        "archive (the screening the referral is about). Got None instead.")
        res = result
    else:
        raise InvalidParameterError("The 'result_or_archive' parameter of referral must be a ScreeningResult or an "
                                    f"archive. Got {type(result_or_archive).__name__} instead.")
    if ids is None and (key is not None or identifiable):
        raise InvalidParameterError("The 'ids' parameter of referral must be given with a key or identifiable=True. "
                                    "Got None instead.")
    r = _position(res, student, ids, key)
    named = ids is not None and (key is not None or identifiable)
    bundle = to_fhir(res, ids=ids if named else None, key=key, identifiable=identifiable, responses=responses, rows=[r],
                     subjects=None if named else [{"display": f"row {i}"} for i in range(len(res))],
                     effective=on, lang="zh" if lang == "zh" else "en")
    subj = next(e["resource"]["subject"] for e in bundle["entry"])
    who = subj.get("identifier", {}).get("value") or subj.get("display", "")
    hist_id = None
    if ids is not None:
        from ..reports._common import identify

        ident = identify(res, ids, True, None, func)
        hist_id = str(ident["student_id"].iloc[r])
    hist = _history(archive, hist_id)
    date = pd.Timestamp(on).date() if on is not None else dt.date.today()
    html = _render(res, r, who, bool(identifiable), hist, referrer, to, list(actions_taken), date, bundle)
    t = res.table
    meta = {"tier": str(t["tier"].iloc[r]), "urgent": bool(t["urgent"].iloc[r]), "date": date.isoformat(),
            "trend": hist is not None}
    return Referral(html=html, bundle=bundle, meta=meta)


def _render(res: ScreeningResult, r: int, who: str, identifiable: bool, hist: pd.DataFrame | None,
            referrer: Mapping[str, str] | str | None, to: str | None, actions_taken: list[str], date: dt.date,
            bundle: dict[str, Any]) -> str:
    t = res.table
    spec = res.rules.spec
    tier = str(t["tier"].iloc[r])
    tdef = next(x for x in spec.tiers if x.id == tier)
    urgent = bool(t["urgent"].iloc[r])
    rescreen = bool(t["rescreen"].iloc[r]) if "rescreen" in t.columns else False
    e = escape
    groups = res.groups.iloc[r]
    where = " · ".join(f"{e(str(v))}" for k, v in groups.items() if k != "sex" and pd.notna(v))
    sex = e(str(groups["sex"])) if "sex" in groups.index and pd.notna(groups["sex"]) else "—"
    ref = referrer if isinstance(referrer, Mapping) else ({"name": referrer} if referrer else {})
    out: list[str] = []
    add = out.append
    add("<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>")
    add("<title>心理健康筛查转介单 / Referral</title>")
    add(f"<style>{_CSS}</style></head><body><div class='page'>")
    add("<div class='banner'>机密 · 仅限转介学校与接收机构的经办人员阅读，不得复印、转发或公开 "
        "<small>CONFIDENTIAL — for the referring school and the receiving institution only; do not copy, forward or "
        f"publish. {e(DISCLAIMER['zh'])} {e(DISCLAIMER['en'])}</small></div>")
    add("<h1>学生心理健康筛查转介单 <small>Referral after school mental-health screening</small></h1>")
    add("<table class='grid'><tr>"
        f"<td class='k'>学生 Student</td><td><b>{e(who)}</b>"
        f"{'' if identifiable else ' <span class=muted>（化名 pseudonym）</span>'}</td>"
        f"<td class='k'>日期 Date</td><td>{date.isoformat()}</td></tr>"
        f"<tr><td class='k'>学校/班级 School</td><td>{where or '—'}</td>"
        f"<td class='k'>性别 Sex</td><td>{sex}</td></tr>"
        f"<tr><td class='k'>转介人 Referred by</td><td>{e(' · '.join(str(v) for v in ref.values()) or '—')}</td>"
        f"<td class='k'>接收机构 To</td><td>{e(to or '—')}</td></tr></table>")

    # why
    add("<h2>转介原因 <small>Why — tier, and every rule that fired with its source</small></h2>")
    add(f"<p style='margin:0.6mm 0'>分级 Tier: <span class='tier' style='background:{tdef.colour}'>{e(tdef.label.get('zh'))} "
        f"/ {e(tdef.label.get('en'))}</span>"
        + ("<span class='urgent'>危机 · 须立即评估 URGENT</span>" if urgent else "")
        + (" <span class='muted'>须重测或当面了解 / re-screen</span>" if rescreen else "") + "</p>")
    fired = _fired(res, r)
    if fired:
        add("<table class='fixed'><colgroup><col style='width:24%'><col style='width:38%'><col style='width:38%'></colgroup>"
            "<tr><th>规则 Rule</th><th>原因 Reason</th><th>依据 Source</th></tr>")
        for rid, cond, zh, en, src in fired:
            short = cond if len(cond) <= 60 else cond[:58].rstrip() + " …"  # the full condition is in the rule set
            add(f"<tr><td><code>{e(rid)}</code><br><span class='src' title='{e(cond)}'>{e(short)}</span></td>"
                f"<td>{e(zh)}<br><span class='src'>{e(en)}</span></td><td class='src'>{e(src) or '—'}</td></tr>")
        add("</table>")
    else:
        add("<p class='muted'>无规则触发 / no rule fired</p>")

    # scores
    add("<h2>测评结果 <small>Scores and bands</small></h2>")
    add("<table><tr><th>量表 Scale</th><th>分数 Score</th><th>等级 Band</th><th>状态 Status</th><th>关键条目 Critical items</th></tr>")
    for scale in res.scales:
        s = scale.spec
        crits = []
        for c in s.critical:
            col = C.critical_col(scale.id, c.id)
            if col in res.scores.columns:
                v = res.scores[col].iloc[r]
                if pd.isna(v):
                    crits.append(f"第{e(c.item)}题未作答 item {e(c.item)} unanswered")
                elif bool(v):
                    crits.append(f"<b>{e(c.label.get('zh'))}</b>")
                else:
                    crits.append(f"第{e(c.item)}题阴性 item {e(c.item)} negative")
        status = res.scores[C.status_col(scale.id)].iloc[r] if C.status_col(scale.id) in res.scores.columns else ""
        for sc_ in s.scores:
            col = C.score_col(scale.id, sc_.id)
            if col not in res.scores.columns:
                continue
            x = res.scores[col].iloc[r]
            bcol = C.band_col(scale.id, sc_.id)
            band = res.scores[bcol].iloc[r] if bcol in res.scores.columns else None
            blabel = ("—" if band is None or pd.isna(band) else
                      f"{e(_band_label(scale, sc_.id, str(band), 'zh'))} / {e(_band_label(scale, sc_.id, str(band), 'en'))}")
            add(f"<tr><td>{e(s.abbreviation or s.id)} {e(sc_.label.get('zh'))}</td>"
                f"<td><b>{'—' if pd.isna(x) else f'{float(x):g}'}</b></td><td>{blabel}</td>"
                f"<td>{e(str(status))}</td><td>{'<br>'.join(crits) or '—'}</td></tr>")
            crits = []
    add("</table>")

    # trend
    if hist is not None:
        cols = [c for c in hist.columns if any(c == C.score_col(s.id, x.id) for s in res.scales for x in s.spec.scores)]
        add("<h2>历次测评 <small>Trend across waves (archive)</small></h2>")
        add("<table style='width:auto;float:left;margin-right:3mm'><tr><th>批次 Wave</th>"
            + "".join(f"<th>{e(c)}</th>" for c in cols) + ("<th>分级 Tier</th>" if "tier" in hist.columns else "") + "</tr>")
        for _, row in hist.iterrows():  # one row per wave of one student's history (a handful)
            add(f"<tr><td>{e(str(row.get('wave', '')))}</td>"
                + "".join(f"<td>{'—' if pd.isna(row[c]) else f'{float(row[c]):g}'}</td>" for c in cols)
                + (f"<td>{e(str(row['tier']))}</td>" if "tier" in hist.columns else "") + "</tr>")
        add("</table>")
        if cols and len(hist) > 1:
            add(_trend_svg(hist, cols))
        add("<div style='clear:both'></div>")

    # risk groups
    add("<h2>风险群体 <small>Risk groups (as recorded by the school)</small></h2>")
    labels = {f.id: f.label for f in spec.flags}
    flags = res.flags.iloc[r] if len(res.flags.columns) else pd.Series(dtype=object)
    yes = [f"{e(labels[str(k)].get('zh'))} / {e(labels[str(k)].get('en'))}" if str(k) in labels else e(str(k))
           for k, v in flags.items() if pd.notna(v) and bool(v)]
    unknown = [e(labels[str(k)].get("zh")) if str(k) in labels else e(str(k)) for k, v in flags.items() if pd.isna(v)]
    add(f"<p style='margin:0.6mm 0'>{'；'.join(yes) if yes else '无记录 none recorded'}"
        + (f" <span class='muted'>（未知 unknown：{'、'.join(unknown)}）</span>" if unknown else "") + "</p>")

    # actions
    add("<h2>已采取的措施 <small>Actions already taken, and those the rule set names</small></h2>")
    add("<table><tr><th style='width:50%'>已采取 Taken</th><th>规则建议 Recommended</th></tr><tr><td>")
    add("<br>".join(f"• {e(a)}" for a in actions_taken) or "<span class='muted'>未填写 none given</span>")
    rec = [str(t[c].iloc[r]) for c in ("actions_zh", "actions_en") if c in t.columns and pd.notna(t[c].iloc[r])]
    add("</td><td>" + "".join(f"<div class='{'src' if k else ''}'>{e(x)}</div>" for k, x in enumerate(rec)) + "</td></tr></table>")

    add("<table class='sig'><tr><td>转介人签名 Signature <span class='line'></span></td>"
        "<td>学校（盖章）School stamp <span class='line'></span></td>"
        "<td>接收机构签收 Received by <span class='line'></span></td></tr></table>")
    prov = res.provenance
    rules = prov.get("rules", {})
    scales = ", ".join(f"{k} v{v.get('version')}" for k, v in prov.get("scales", {}).items())
    add(f"<div class='foot'>screening {e(str(prov.get('version', __version__)))} · rule set {e(str(rules.get('id')))} "
        f"v{e(str(rules.get('version')))} ({e(str(rules.get('hash', ''))[:19])}) · scales {e(scales)} · "
        f"FHIR Bundle {e(bundle['id'])} ({len(bundle['entry'])} resources, LOINC where the scale declares it) · "
        "本单仅含一名学生的信息 / this page concerns one student only.</div>")
    add("</div></body></html>")
    return "\n".join(out)
