"""Per-student view for the report's student pages: a one-line clinical summary and a trend chart per scale.

After CamCOPS' clinical text views ("PHQ-9 total score 12/27 (moderate)") and trackers (one score over time with
the band boundaries as horizontal lines). Both read :meth:`Archive.history`, so each use is logged.
"""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._params import check_choice

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

    from .core import Archive

TIER_LABELS = {"zh": {"green": "绿", "yellow": "黄", "orange": "橙", "red": "红"},
               "en": {"green": "green", "yellow": "yellow", "orange": "orange", "red": "red"}}
TIER_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "orange": "#ef6c00", "red": "#c62828"}
CHANGE_LABELS = {
    "zh": {"improved": "可靠改善", "no_change": "无可靠变化", "deteriorated": "可靠恶化", "recovered": "可靠改善（恢复）",
           "harmed": "可靠恶化（进入临床范围）"},
    "en": {"improved": "reliable improvement", "no_change": "no reliable change", "deteriorated": "reliable deterioration",
           "recovered": "reliable improvement (recovered)", "harmed": "reliable deterioration (into the clinical range)"},
}


def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _scale_bits(scale_id: str, score_id: str, lang: str) -> tuple[str, dict[str, str], Any, Any]:
    from ..scoring import load_scale

    try:
        spec = load_scale(scale_id).spec
    except Exception:
        return scale_id.upper(), {}, None, None
    name = spec.abbreviation or scale_id.upper()
    score = next((s for s in spec.scores if s.id == score_id), None)
    bands: dict[str, str] = {}
    bandset = None
    if score is not None and score.bands is not None:
        bandset = score.bands.sets[score.bands.default]
        bands = {b.id: b.label.get(lang) for b in bandset.bands}
    ch = next((c for c in spec.change if c.score == score_id), None)
    return name, bands, bandset, (ch, score)


def student_summary(self: Archive, id: Any, *, scores: tuple[str, ...] | None = None, lang: str = "zh",
                    purpose: str | None = None, actor: str | None = None) -> str:
    """One line per scale over the waves, e.g. ``2025秋 PHQ-9 12（中度）黄 → 2026春 5（轻度）绿，可靠改善``.

    ``scores`` (default: every ``*.total`` in the student's history). The last two waves with a score give the
    Jacobson–Truax category when the scale has a ``change:`` block. Lines are joined with "；" / "; ".
    """
    check_choice("Archive.student_summary", "lang", lang, ("zh", "en"))
    hist = self.history([id], purpose=purpose, actor=actor)
    if hist.empty:
        return "（无档案记录）" if lang == "zh" else "(no archived screening)"
    cols = list(scores) if scores else [c for c in hist.columns if c.endswith(".total") and hist[c].notna().any()]
    tiers = TIER_LABELS[lang]
    lines = []
    for col in cols:
        scale_id, _, score_id = col.partition(".")
        name, bands, _, extra = _scale_bits(scale_id, score_id, lang)
        h = hist[hist[col].notna()] if col in hist.columns else hist.iloc[:0]
        parts = []
        for i, r in enumerate(h.itertuples(index=False)):
            vals = dict(zip(h.columns, r))
            band = vals.get(f"{col}.band")
            band_txt = bands.get(str(band), str(band)) if band is not None and not pd.isna(band) else None
            tier = vals.get("tier")
            tier_txt = tiers.get(str(tier), str(tier)) if tier is not None and not pd.isna(tier) else ""
            open_, close = ("（", "）") if lang == "zh" else (" (", ")")
            head = f"{vals['wave']} {name} " if i == 0 else f"{vals['wave']} "
            sep = "" if lang == "zh" else " "
            parts.append(f"{head}{_fmt(vals[col])}{open_ + band_txt + close if band_txt else ''}{sep}{tier_txt}".rstrip())
        if not parts:
            continue
        text = " → ".join(parts)
        if len(h) >= 2 and extra is not None and extra[0] is not None:
            ch, score = extra
            got = ch.classify(float(h[col].iloc[-2]), float(h[col].iloc[-1]),
                              higher_worse=score is None or score.direction == "higher_worse")
            key = got["clinical"] if got["clinical"] in ("recovered", "harmed") else got["reliable"]
            text += ("，" if lang == "zh" else ", ") + CHANGE_LABELS[lang][str(key)]
        lines.append(text)
    return ("；" if lang == "zh" else "; ").join(lines)


def _font_rc() -> dict[RcKeyType, Any]:
    import matplotlib.font_manager as fm

    from ..reports.fonts import CJK_FONTS

    installed = {f.name for f in fm.fontManager.ttflist}
    families = [f for f in CJK_FONTS if f in installed] + ["DejaVu Sans"]
    return {"svg.fonttype": "none", "font.family": "sans-serif", "font.sans-serif": families,
            "axes.unicode_minus": False, "svg.hashsalt": "screening"}


def trend_svg(self: Archive, id: Any, *, score: str = "phq9.total", lang: str = "zh", purpose: str | None = None,
              actor: str | None = None) -> str:
    """An SVG chart of one score over the waves for one student, with the band boundaries as lines.

    Text stays text (``svg.fonttype='none'``) in a font list with DejaVu Sans last, so it renders in the
    browser's Chinese font even where matplotlib has none.
    """
    check_choice("Archive.trend_svg", "lang", lang, ("zh", "en"))
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    hist = self.history([id], purpose=purpose, actor=actor)
    scale_id, _, score_id = score.partition(".")
    name, bands, bandset, _ = _scale_bits(scale_id, score_id, lang)
    h = hist[hist[score].notna()] if score in hist.columns else hist.iloc[:0]
    with matplotlib.rc_context(_font_rc()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        fig, ax = plt.subplots(figsize=(5.0, 2.6))
        try:
            x = list(range(len(h)))
            ax.plot(x, h[score].to_numpy(dtype=float), color="#455a64", linewidth=1.5, zorder=2)
            ax.scatter(x, h[score].to_numpy(dtype=float), zorder=3,
                       c=[TIER_COLOURS.get(str(t), "#757575") for t in h["tier"]] if len(h) else [])
            ax.set_xticks(x, [str(w) for w in h["wave"]])
            if bandset is not None:
                top = max(b.le if b.le is not None else (b.lt or 0) for b in bandset.bands)
                for b in bandset.bands:
                    lo = b.ge if b.ge is not None else b.gt
                    if lo is not None and lo > 0:
                        ax.axhline(lo - 0.5, color="#9e9e9e", linewidth=0.8, linestyle="--", zorder=1)
                    if lo is not None:
                        ax.text(1.01, (lo + 0.5) / top if top else 0, bands.get(b.id, b.id), transform=ax.transAxes,
                                fontsize=7, color="#616161", va="bottom")
                ax.set_ylim(0, top)
            ax.set_ylabel(f"{name} {score_id}")
            ax.set_title(name, fontsize=9)
            buf = io.StringIO()
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        finally:
            plt.close(fig)
    return buf.getvalue()
