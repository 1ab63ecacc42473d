"""Charts of the early warning as matplotlib figures and inline SVG: funnel plot, trends per flagged group, tier flows.

Text stays text in the SVG (``svg.fonttype = "none"``) with a font list that
starts with the usual Chinese fonts and ends with DejaVu Sans, so a browser
shows Chinese with whatever Chinese font it has, even where matplotlib has
none (it then measures the text with DejaVu Sans, and its "missing glyph"
warnings are expected and silenced). Suppressed values are never drawn.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..reports._deps import require
from ..reports.fonts import CJK_FONTS
from .funnel import P95, P998, exact_limits, normal_limits
from .transitions import ABSENT

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure_svg", "funnel_plot", "transition_flow", "trend_multiples"]

TEXT = {
    "zh": {"rate": "比例", "size": "参与筛查人数（对数刻度）", "target": "全区比例", "l95": "95% 控制限", "l998": "99.8% 控制限",
           "flag95": "超出 95% 上限", "flag998": "超出 99.8% 上限", "normal": "在控制限内", "hidden": "人数少、已隐去",
           "funnel": "漏斗图：{wave}（{level}）", "trend": "各{level}比例的变化趋势", "flow": "档案等级流向：{a} → {b}",
           "absent": "未参加", "not_shown": "{n} 个单位人数少，比例不公布，未画出", "od": "（已按过度离散调整：τ² = {tau2:.2g}）"},
    "en": {"rate": "rate", "size": "students screened (log scale)", "target": "district rate", "l95": "95% limits",
           "l998": "99.8% limits", "flag95": "above the 95% limit", "flag998": "above the 99.8% limit", "normal": "within the limits",
           "hidden": "small numbers, hidden", "funnel": "Funnel plot: {wave} ({level})", "trend": "Trends by {level}",
           "flow": "Tier flows: {a} → {b}", "absent": "absent", "not_shown": "{n} units with small numbers are not drawn",
           "od": " (limits widened for over-dispersion: τ² = {tau2:.2g})"},
}

COLOURS = {"998": "#c62828", "95": "#ef6c00", "normal": "#546e7a", "target": "#212121", "hidden": "#9e9e9e"}
TIER_COLOURS = {"green": "#43a047", "yellow": "#fdd835", "orange": "#fb8c00", "red": "#e53935", ABSENT: "#bdbdbd"}


@contextlib.contextmanager
def _style() -> Iterator[None]:
    """rc settings for text-as-text SVG with Chinese fonts first and DejaVu Sans last (never set globally)."""
    mpl = require("matplotlib")
    rc = {"font.family": "sans-serif", "font.sans-serif": [*CJK_FONTS, "DejaVu Sans"], "svg.fonttype": "none",
          "axes.unicode_minus": False, "svg.hashsalt": "screening-warning"}
    with mpl.rc_context(rc), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        yield


def _figure(width: float, height: float) -> Figure:
    fig: Figure = require("matplotlib.figure").Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def figure_svg(fig: Figure) -> str:
    """The figure as an inline ``<svg>`` element (no XML header), text kept as text."""
    buf = io.StringIO()
    with _style():
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _meta(table: pd.DataFrame) -> dict[str, Any]:
    return dict(table.attrs.get("screening", {}))


def _level_rows(table: pd.DataFrame, level: str | None = None) -> tuple[pd.DataFrame, str]:
    lvl = level or _meta(table).get("level") or "school"
    return table[table["level"] == lvl], str(lvl)


def funnel_plot(table: pd.DataFrame, wave: str | None = None, *, level: str | None = None, lang: str = "zh",
                label: int = 12) -> Figure:
    """Each group's rate against its size for one wave (default the last), with the 95% and 99.8% funnels.

    Suppressed groups are not drawn (their number is said in the caption); the
    ``label`` most extreme flagged groups are named.
    """
    from .explain import LEVEL_NAMES

    rows, lvl = _level_rows(table, level)
    meta = _meta(table)
    waves = [w for w in meta.get("waves", rows["wave"].dropna().unique().tolist()) if w in set(rows["wave"])]
    wave = wave if wave is not None else waves[-1]
    r = rows[rows["wave"] == wave]
    t = TEXT[lang]
    disp = meta.get("dispersion", {}).get(str(wave), {})
    target = float(r["target"].dropna().iloc[0]) if r["target"].notna().any() else float("nan")
    applied = disp.get("applied", "none")
    with _style():
        fig = _figure(8.0, 5.0)
        ax = fig.add_subplot()
        n_max = max(float(r["n"].max()), 10.0)
        grid = np.unique(np.geomspace(max(float(r["n"].min()), 5.0), n_max * 1.1, 200).round())
        for p, style, key in ((P95, "--", "l95"), (P998, "-", "l998")):
            if applied == "additive":
                up, lo = (normal_limits(grid, target, q, tau2=disp["tau2"]) for q in (p, 1 - p))
            elif applied == "multiplicative":
                up, lo = (normal_limits(grid, target, q, phi=disp["phi"]) for q in (p, 1 - p))
            else:
                up, lo = exact_limits(grid, target, p), exact_limits(grid, target, 1 - p)
            ax.plot(grid, np.clip(up, 0, 1), style, color="#78909c", linewidth=1, label=t[key])
            ax.plot(grid, np.clip(lo, 0, 1), style, color="#78909c", linewidth=1)
        ax.axhline(target, color=COLOURS["target"], linewidth=1, label=t["target"])
        shown = r[r["rate"].notna()]
        cls = np.where(shown["above_998"].fillna(False), "998", np.where(shown["above_95"].fillna(False), "95", "normal"))
        for c, key in (("normal", "normal"), ("95", "flag95"), ("998", "flag998")):
            sel = cls == c
            if sel.any():
                ax.scatter(shown["n"].to_numpy(dtype=float)[sel], shown["rate"].to_numpy(dtype=float)[sel], s=22 if c == "normal" else 36,
                           color=COLOURS[c], label=t[key], zorder=3, edgecolor="white", linewidth=0.5)
        flagged = shown[cls != "normal"].assign(_z=lambda d: d["z"].astype(float)).sort_values("_z", ascending=False).head(label)
        for _, fr in flagged.iterrows():
            ax.annotate(str(fr["group"]), (float(fr["n"]), float(fr["rate"])), textcoords="offset points", xytext=(4, 3), fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel(t["size"])
        ax.set_ylabel(t["rate"])
        ax.yaxis.set_major_formatter(require("matplotlib.ticker").PercentFormatter(1.0))
        ax.spines[["top", "right"]].set_visible(False)
        title = t["funnel"].format(wave=wave, level=LEVEL_NAMES[lang].get(lvl, lvl))
        if applied == "additive" and disp.get("tau2", 0) > 0:
            title += t["od"].format(tau2=disp["tau2"])
        ax.set_title(title, loc="left", fontsize=11)
        n_hidden = int(r["rate"].isna().sum())
        if n_hidden:
            fig.supxlabel(t["not_shown"].format(n=n_hidden), fontsize=8, color=COLOURS["hidden"])
        ax.legend(fontsize=8, frameon=False, loc="upper right")
    return fig


def trend_multiples(table: pd.DataFrame, groups: Sequence[str] | None = None, *, level: str | None = None, lang: str = "zh",
                    max_panels: int = 12, ncols: int = 3) -> Figure:
    """One small panel per flagged group (default: groups with any flag in the last wave): rate per wave with its
    Wilson interval, the district rate and the group's 95% limit. Suppressed waves are marked, not drawn."""
    from .explain import FLAG_NAMES, LEVEL_NAMES

    rows, lvl = _level_rows(table, level)
    meta = _meta(table)
    waves = meta.get("waves") or rows["wave"].dropna().unique().tolist()
    names = FLAG_NAMES[lang] if lvl == "risk_group" else {}
    if groups is None:
        last = rows[rows["wave"] == waves[-1]]
        groups = last[last["flag"].fillna("") != ""].sort_values("z", ascending=False, na_position="last")["group"].tolist()
    groups = list(groups)[:max_panels]
    t = TEXT[lang]
    n = max(len(groups), 1)
    nc = min(ncols, n)
    nr = int(np.ceil(n / nc))
    x = np.arange(len(waves))
    with _style():
        fig = _figure(3.2 * nc, 2.4 * nr + 0.6)
        axes = fig.subplots(nr, nc, squeeze=False, sharey=True)
        top = 0.0
        for i, ax in enumerate(axes.ravel()):
            if i >= len(groups):
                ax.set_visible(False)
                continue
            g = rows[rows["group"] == groups[i]].set_index("wave").reindex(waves)
            rate = g["rate"].to_numpy(dtype=float, na_value=np.nan)
            lo = g["ci_low"].to_numpy(dtype=float, na_value=np.nan)
            hi = g["ci_high"].to_numpy(dtype=float, na_value=np.nan)
            ax.plot(x, g["target"].to_numpy(dtype=float, na_value=np.nan), color=COLOURS["target"], linewidth=1, label=t["target"])
            ax.plot(x, g["upper95"].to_numpy(dtype=float, na_value=np.nan), "--", color="#78909c", linewidth=1, label=t["l95"])
            ok = ~np.isnan(rate)
            colours = [COLOURS["998"] if a else COLOURS["95"] if b else COLOURS["normal"]
                       for a, b in zip(g["above_998"].fillna(False), g["above_95"].fillna(False))]
            ax.errorbar(x[ok], rate[ok], yerr=[rate[ok] - lo[ok], hi[ok] - rate[ok]], fmt="none", ecolor="#90a4ae", linewidth=1)
            ax.scatter(x[ok], rate[ok], c=[colours[j] for j in np.flatnonzero(ok)], s=24, zorder=3)
            ax.plot(x[ok], rate[ok], color="#546e7a", linewidth=0.8)
            hidden = g["suppressed"].fillna(False).to_numpy(dtype=bool)
            for j in np.flatnonzero(hidden):
                ax.text(x[j], 0.0, "×", ha="center", va="bottom", color=COLOURS["998"] if g["above_95"].iloc[j] else COLOURS["hidden"],
                        fontsize=10)
            top = max(top, float(np.nanmax(np.concatenate([hi, rate, g["upper95"].to_numpy(dtype=float, na_value=np.nan), [0.0]]))))
            ax.set_title(names.get(str(groups[i]), str(groups[i])), fontsize=9, loc="left")
            ax.set_xticks(x, [str(w) for w in waves], fontsize=7, rotation=30)
            ax.yaxis.set_major_formatter(require("matplotlib.ticker").PercentFormatter(1.0))
            ax.tick_params(axis="y", labelsize=7)
            ax.spines[["top", "right"]].set_visible(False)
        axes[0, 0].set_ylim(0, max(top * 1.08, 0.01))  # shared: one scale for every panel, set once all are drawn
        fig.suptitle(t["trend"].format(level=LEVEL_NAMES[lang].get(lvl, lvl)) + f"  (× = {t['hidden']})", fontsize=10, x=0.02,
                     ha="left")
    return fig


def transition_flow(transitions: pd.DataFrame, *, lang: str = "zh", labels: dict[str, str] | None = None) -> Figure:
    """An alluvial (Sankey) picture of :func:`~screening.warning.transitions.tier_transitions`: tiers at the first
    wave on the left, at the second on the right, bands as wide as the number of students. Suppressed flows are
    drawn hatched grey with the width left over in their row (never their true size) and no number."""
    mpl_path = require("matplotlib.path")
    patches = require("matplotlib.patches")
    meta = transitions.attrs.get("screening", {})
    rows_tot = np.asarray(meta.get("row_totals"), dtype=float)
    cols_tot = np.asarray(meta.get("column_totals"), dtype=float)
    names = list(transitions.columns)
    vals = transitions.to_numpy(dtype=float, na_value=np.nan)
    # hidden cells share what is left of their row
    widths = vals.copy()
    for i in range(len(names)):
        h = np.isnan(vals[i])
        if h.any():
            widths[i, h] = max(rows_tot[i] - np.nansum(vals[i]), 0.0) / h.sum()
    t = TEXT[lang]
    lab = {n: (labels or {}).get(n, t["absent"] if n == ABSENT else n) for n in names}
    total = max(rows_tot.sum(), cols_tot.sum(), 1.0)
    gap = 0.02 * total
    # highest tier on top
    order = [*reversed(names[:-1]), names[-1]]

    def stack(tot: np.ndarray) -> dict[str, float]:
        pos, y = {}, 0.0
        for n in order:
            pos[n] = y
            y += tot[names.index(n)] + gap
        return pos

    left, right = stack(rows_tot), stack(cols_tot)
    with _style():
        fig = _figure(7.5, 5.0)
        ax = fig.add_subplot()
        out_off = dict(left)
        in_off = dict(right)
        for a in order:
            for b in order:
                i, j = names.index(a), names.index(b)
                w = widths[i, j]
                if not w or np.isnan(w):
                    continue
                y0, y1 = out_off[a], in_off[b]
                out_off[a] += w
                in_off[b] += w
                verts = [(0.1, y0), (0.5, y0), (0.5, y1), (0.9, y1), (0.9, y1 + w), (0.5, y1 + w), (0.5, y0 + w), (0.1, y0 + w),
                         (0.1, y0)]
                codes = [mpl_path.Path.MOVETO, mpl_path.Path.CURVE4, mpl_path.Path.CURVE4, mpl_path.Path.CURVE4,
                         mpl_path.Path.LINETO, mpl_path.Path.CURVE4, mpl_path.Path.CURVE4, mpl_path.Path.CURVE4,
                         mpl_path.Path.CLOSEPOLY]
                hidden = np.isnan(vals[i, j])
                face = "#eeeeee" if hidden else TIER_COLOURS.get(a, "#90a4ae")
                ax.add_patch(patches.PathPatch(mpl_path.Path(verts, codes), facecolor=face,
                                               edgecolor=COLOURS["hidden"] if hidden else "none", hatch="///" if hidden else None,
                                               alpha=1.0 if hidden else 0.45, linewidth=0.5))
        for side, pos, tot, x in (("l", left, rows_tot, 0.1), ("r", right, cols_tot, 0.9)):
            for n in order:
                h = tot[names.index(n)]
                if h <= 0:
                    continue
                ax.add_patch(patches.Rectangle((x - 0.02, pos[n]), 0.02, h,
                                               facecolor=TIER_COLOURS.get(n, "#90a4ae"), edgecolor="none"))
                ax.text(x - 0.03 if side == "l" else x + 0.03, pos[n] + h / 2, f"{lab[n]}  {int(h):,}", va="center",
                        ha="right" if side == "l" else "left", fontsize=9)
        ax.set_xlim(-0.25, 1.25)
        ax.set_ylim(max(sum(rows_tot), sum(cols_tot)) + gap * len(order), -gap)
        ax.axis("off")
        ax.set_title(t["flow"].format(a=meta.get("from_wave", ""), b=meta.get("to_wave", "")), loc="left", fontsize=11)
    return fig
