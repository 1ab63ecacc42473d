"""Charts as matplotlib figures: stacked tier bars per group and score histograms with cut-offs.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot, no global
state): show one in a notebook by leaving it as the cell's value, or save it
with ``fig.savefig("x.png")``. Suppressed cells are drawn hatched, never with
their true size. Every text carries an explicit font list —
``DejaVu Sans`` for digits and Latin, then the first Chinese font found —
that stays with the figure (:mod:`screening.reports.fonts`); the HTML report
embeds the charts as SVG with the text kept as text, drawn by the browser.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from .. import columns as C
from ..specs.derive import score_range
from ._common import result_lang
from ._deps import require
from .fonts import apply_fonts, browser_text, cjk_font, font_families, font_rc
from .summary import summarise
from .suppression import suppress

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..screener.result import ScreeningResult

__all__ = ["HIDDEN_COLOUR", "TEXT", "figure_png", "figure_svg", "group_labels", "score_histogram", "tier_bars"]

HIDDEN_COLOUR = "#9e9e9e"

TEXT = {
    "zh": {"hidden": "已隐去（人数少）", "share": "占比", "students": "人数", "all": "全体", "high": "（偏高）",
           "score": "得分", "population": "全体橙色比例", "rate_line": "全体{tier}比例"},
    "en": {"hidden": "suppressed (small numbers)", "share": "share of students", "students": "students", "all": "all",
           "high": " (high)", "score": "score", "population": "population rate", "rate_line": "{tier}: whole population"},
}


def _figure(width: float, height: float) -> Figure:
    figure_mod = require("matplotlib.figure")
    return cast("Figure", figure_mod.Figure(figsize=(width, height), dpi=100, layout="constrained"))


def group_labels(summary: pd.DataFrame, by: Sequence[str], lang: str) -> list[str]:
    """Readable labels of summary rows: the group keys that differ between rows, joined by ' / '."""
    if not len(summary):
        return []
    shown = [c for c in by if len(summary[c].astype("string").unique()) > 1] or list(by)[-1:]
    labels = []
    for lvl, *vals in zip(summary["level"], *[summary[c] for c in shown]):
        if lvl == "all":
            labels.append(TEXT[lang]["all"])
            continue
        parts = [str(v) for v in vals if not pd.isna(v)]
        labels.append(" / ".join(parts) if parts else "—")
    return labels


def tier_bars(
    result: ScreeningResult,
    by: Sequence[str] | str | None = None,
    *,
    level: str | None = None,
    summary: pd.DataFrame | None = None,
    min_cell: int = 10,
    lang: str | None = None,
    title: str | None = None,
) -> Figure:
    """Horizontal 100 % bars of the tiers per group (highest tier at the left), suppressed cells hatched.

    Parameters
    ----------
    result : ScreeningResult
    by : str or list, optional
        Group columns (as :func:`~screening.reports.summary.summarise`);
        ``[]`` draws one bar for the whole population.
    level : str, optional
        Which level of ``by`` to draw (default the deepest); the whole
        population is always the first bar.
    summary : DataFrame, optional
        A summary already computed with these ``by`` columns (saves recomputing it).
    min_cell, lang, title
        Suppression threshold, language, chart title.
    """
    lang = result_lang(result, lang, "tier_bars")
    cols = [by] if isinstance(by, str) else (list(by) if by is not None else None)
    summ = summary if summary is not None else summarise(result, by=cols, min_cell=min_cell,
                                                         include=("tiers",), compare=True)
    by_cols = list(summ.attrs.get("screening", {}).get("by", cols or []))
    want = level or (by_cols[-1] if by_cols else "all")
    rows = summ[(summ["level"] == "all") | (summ["level"] == want)].reset_index(drop=True)
    spec_tiers = list(reversed(result.rules.spec.tiers))  # highest concern first, from the left
    labels = group_labels(rows, by_cols, lang)
    if "compare.flag" in rows.columns:
        flagged = rows["compare.flag"].fillna(False).to_numpy(dtype=bool)
        labels = [lab + (TEXT[lang]["high"] if f else "") for lab, f in zip(labels, flagged)]
    n = rows["n"].to_numpy(dtype=float)
    height = 1.2 + 0.42 * len(rows)
    with _rc():
        fig = _figure(9.0, height)
        ax = fig.add_subplot()
        y = np.arange(len(rows))[::-1]
        left = np.zeros(len(rows))
        for t in spec_tiers:
            k = rows[f"tier.{t.id}.n"]
            shown = ~k.isna().to_numpy()
            width = np.where(shown, k.fillna(0).to_numpy(dtype=float) / np.maximum(n, 1), 0.0)
            ax.barh(y, width, left=left, color=t.colour, edgecolor="white", linewidth=0.5, label=t.label.get(lang))
            for yi, li, wi in zip(y, left, width):
                if wi >= 0.045:
                    ax.text(li + wi / 2, yi, f"{wi:.0%}", ha="center", va="center", color="white", fontsize=8)
            left += width
        rest = np.clip(1.0 - left, 0.0, 1.0)
        rest = np.where(rest > 1e-9, rest, 0.0)
        ax.barh(y, rest, left=left, color="#eeeeee", edgecolor=HIDDEN_COLOUR, hatch="///", linewidth=0.5,
                label=TEXT[lang]["hidden"])
        top = spec_tiers[0]
        pop = rows[f"tier.{top.id}.prop"].to_numpy(dtype=float, na_value=np.nan)
        pop_rate = float(pop[0]) if len(rows) else np.nan
        if not np.isnan(pop_rate):
            ax.axvline(pop_rate, color="#212121", linestyle="--", linewidth=1)
            ax.text(pop_rate, len(rows) - 0.45, " " + TEXT[lang]["rate_line"].format(tier=top.label.get(lang)),
                    fontsize=8, va="bottom", ha="left", color="#212121")
        ax.set_yticks(y, [f"{lab}  (n={int(v)})" for lab, v in zip(labels, n)], fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.6, len(rows) - 0.4 + 0.5)
        ax.xaxis.set_major_formatter(require("matplotlib.ticker").PercentFormatter(1.0))
        ax.set_xlabel(TEXT[lang]["share"])
        ax.spines[["top", "right"]].set_visible(False)
        fig.legend(ncol=len(spec_tiers) + 1, loc="outside lower center", frameon=False, fontsize=9)
        if title:
            ax.set_title(title, loc="left", fontsize=11)
    return apply_fonts(fig, font_families())


def _band_colours(k: int) -> list[str]:
    """Light shades from green to red for ``k`` bands (lowest concern first)."""
    cmap = require("matplotlib").colormaps["RdYlGn_r"]
    return [require("matplotlib.colors").to_hex(cmap(0.1 + 0.8 * i / max(k - 1, 1))) for i in range(k)]


def score_histogram(
    result: ScreeningResult,
    scale: str,
    score: str = "total",
    *,
    min_cell: int = 10,
    lang: str | None = None,
    title: str | None = None,
) -> Figure:
    """Histogram of one score with its bands shaded and the cut-offs drawn.

    Bars of 1 to ``min_cell - 1`` students (and, if only one would be hidden,
    the next smallest) are drawn hatched at height ``min_cell`` instead of
    their true height.
    """
    lang = result_lang(result, lang, "score_histogram")
    sc_obj = next((s for s in result.scales if s.id == scale), None)
    col = C.score_col(scale, score)
    if sc_obj is None or col not in result.scores.columns:
        from .._params import InvalidParameterError

        raise InvalidParameterError(
            f"The 'scale' parameter of score_histogram must name a score of the result (e.g. 'phq9', 'total'). "
            f"Got {scale!r}, {score!r} instead."
        )
    spec = sc_obj.spec
    sdef = spec.score(score)
    lo, hi = score_range(spec, sdef)
    x = result.scores[col].to_numpy(dtype=float, na_value=np.nan)
    x = x[~np.isnan(x)]
    step = 1.0 if (hi - lo) <= 60 else float(np.ceil((hi - lo) / 40))
    edges = np.arange(lo - step / 2, hi + step, step)
    counts, _ = np.histogram(x, bins=edges)
    hidden = suppress([counts[None, :]], [None], min_cell=min_cell, complete=True)[0][0] if min_cell > 1 else np.zeros(len(counts), bool)
    centres = (edges[:-1] + edges[1:]) / 2
    with _rc():
        fig = _figure(8.0, 3.6)
        ax = fig.add_subplot()
        ymax = max(float(counts[~hidden].max(initial=0)), float(min_cell)) * 1.18
        if sdef.bands is not None:
            bset = result.band_set(scale, score)
            bands = sorted(bset.bands, key=lambda b: b.lower[0] if b.lower else -np.inf)
            colours = _band_colours(len(bands))
            for i, (b, colour) in enumerate(zip(bands, colours)):
                start = b.lower[0] if b.lower else lo
                end = bands[i + 1].lower[0] if i + 1 < len(bands) and bands[i + 1].lower else hi + step / 2
                a0 = start - (step / 2 if b.lower and b.lower[1] else 0) if b.lower else lo - step / 2
                a1 = end - step / 2 if i + 1 < len(bands) else hi + step / 2
                ax.axvspan(a0, a1, color=colour, alpha=0.18, linewidth=0)
                if b.lower is not None and b.lower[0] > lo:
                    ax.axvline(a0, color="#424242", linestyle="--", linewidth=1)
                ax.text((a0 + a1) / 2, ymax * 0.98, b.label.get(lang), ha="center", va="top", fontsize=8, color="#424242",
                        wrap=True)
        ax.bar(centres[~hidden], counts[~hidden], width=step * 0.85, color="#455a64")
        if hidden.any():
            ax.bar(centres[hidden], np.full(int(hidden.sum()), float(min_cell)), width=step * 0.85, color="#eeeeee",
                   edgecolor=HIDDEN_COLOUR, hatch="///", linewidth=0.5, label=TEXT[lang]["hidden"])
            ax.legend(loc="center right", frameon=False, fontsize=8)
        ax.set_xlim(lo - step, hi + step)
        ax.set_ylim(0, ymax)
        ax.set_xlabel(f"{spec.abbreviation or spec.title.get(lang)} {sdef.label.get(lang)} ({TEXT[lang]['score']})")
        ax.set_ylabel(TEXT[lang]["students"])
        ax.spines[["top", "right"]].set_visible(False)
        if title:
            ax.set_title(title, loc="left", fontsize=11)
    return apply_fonts(fig, font_families())


def _rc() -> Any:
    return require("matplotlib").rc_context(font_rc())


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes. Without a Chinese font its Chinese glyphs are boxes (warned when the figure was made)."""
    import io
    import warnings

    buf = io.BytesIO()
    with _rc(), warnings.catch_warnings():
        if cjk_font(warn=False) is None:
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


_SVG_DROP = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|\s+xmlns(:xlink)?=\"[^\"]*\"|<metadata>.*?</metadata>", re.S)
_SVG_FONT = re.compile(r"font-family: [^;\"]*")


def figure_svg(fig: Figure) -> str:
    """The figure as an inline ``<svg>`` element with its text kept as text.

    The reader's browser draws the glyphs (font list :data:`~screening.reports.fonts.CSS_FONT_STACK`),
    so no Chinese font is needed where the report is made. No URL is left in
    the markup (XML namespaces are implied for ``<svg>`` inside HTML).
    """
    import io

    from .fonts import CSS_FONT_STACK

    buf = io.StringIO()
    with browser_text(), require("matplotlib").rc_context({**font_rc(), "svg.fonttype": "none", "svg.hashsalt": "screening"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = _SVG_DROP.sub("", buf.getvalue()).strip()
    svg = _SVG_FONT.sub("font-family: " + CSS_FONT_STACK.replace('"', "'"), svg)
    return svg.replace("<svg ", '<svg role="img" ', 1)
