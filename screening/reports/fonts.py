"""Fonts for Chinese text in charts.

Two paths, neither of which depends on the fonts of the machine that runs the
library:

* **The HTML report** embeds its charts as SVG with the text kept as text
  (matplotlib ``svg.fonttype = 'none'``): the *reader's browser* draws the
  Chinese glyphs with its own fonts (:data:`CSS_FONT_STACK`), so a server with
  no Chinese font still produces a readable report, and no warning is given.
* **Figures returned to the user** (:func:`~screening.reports.plots.tier_bars`,
  :func:`~screening.reports.plots.score_histogram`) carry an explicit font list
  on every text — ``DejaVu Sans`` (which ships with matplotlib) first, so digits
  and ``%`` are always drawn, then the first installed Chinese font, which
  matplotlib uses glyph by glyph for the characters DejaVu Sans lacks. The list
  travels with the figure, so ``fig.savefig`` later, outside any ``rc_context``,
  draws the same. With no Chinese font installed they warn once
  (:class:`NoChineseFontWarning`) with an install hint.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CJK_FONTS",
    "CSS_FONT_STACK",
    "INSTALL_HINT",
    "LATIN_FONT",
    "NoChineseFontWarning",
    "apply_fonts",
    "browser_text",
    "cjk_font",
    "font_families",
    "font_rc",
    "installed_font_names",
]

#: Families tried in order (Linux, macOS, Windows); the first installed one is used.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Droid Sans Fallback",
)

#: Latin font that ships with matplotlib itself: digits, %, Latin letters are always drawn with it.
LATIN_FONT = "DejaVu Sans"

#: The font list the reader's browser uses for chart text in the HTML report.
CSS_FONT_STACK = (
    "'DejaVu Sans', 'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', "
    "'PingFang SC', 'Hiragino Sans GB', 'Heiti SC', 'SimHei', 'Droid Sans Fallback', sans-serif"
)

INSTALL_HINT = (
    "install a Chinese font, e.g. `apt-get install fonts-wqy-microhei` or `apt-get install fonts-noto-cjk` "
    "(Debian/Ubuntu), then delete matplotlib's font cache (~/.cache/matplotlib); the HTML report does not need "
    "one (its charts are SVG drawn by the browser)"
)


class NoChineseFontWarning(UserWarning):
    """No Chinese font is installed for matplotlib: Chinese text in returned figures would show as boxes."""


_BROWSER: contextvars.ContextVar[bool] = contextvars.ContextVar("screening_browser_text", default=False)


def installed_font_names() -> set[str]:
    """Family names matplotlib knows on this machine (the one place the installed fonts are looked up)."""
    from ._deps import require

    fm = require("matplotlib.font_manager")
    return {f.name for f in fm.fontManager.ttflist}


@functools.lru_cache(maxsize=1)
def _find_cjk() -> str | None:
    installed = installed_font_names()
    return next((name for name in CJK_FONTS if name in installed), None)


def cjk_font(*, warn: bool = True) -> str | None:
    """The first of :data:`CJK_FONTS` that matplotlib knows, or None.

    With ``warn=True`` (the default) a missing font gives a
    :class:`NoChineseFontWarning` with an install hint — except while charts are
    drawn for the browser (:func:`browser_text`), which needs no font here.
    The lookup is cached; ``cjk_font.cache_clear()`` forgets it.
    """
    name = _find_cjk()
    if name is None and warn and not _BROWSER.get():
        warnings.warn(f"no Chinese font found for charts; Chinese text in figures will show as boxes — {INSTALL_HINT}",
                      NoChineseFontWarning, stacklevel=4)
    return name


cjk_font.cache_clear = _find_cjk.cache_clear  # type: ignore[attr-defined]


def font_families(*, warn: bool = True) -> list[str]:
    """The explicit font list for chart text: ``DejaVu Sans`` first (digits, %), then the Chinese font if any."""
    name = cjk_font(warn=warn)
    return [LATIN_FONT] + ([name] if name else [])


def font_rc() -> dict[str, Any]:
    """matplotlib settings for a chart with Chinese text (used through ``rc_context``, never set globally)."""
    return {"font.family": "sans-serif", "font.sans-serif": font_families(warn=False), "axes.unicode_minus": False}


def apply_fonts(fig: Figure, families: list[str]) -> Figure:
    """Put ``families`` on every text of ``fig`` (titles, labels, legends, tick labels, annotations); returns ``fig``."""
    from ._deps import require

    text_cls = require("matplotlib.text").Text
    for ax in fig.axes:
        ax.tick_params(which="both", labelfontfamily=families)
    for t in fig.findobj(text_cls):
        t.set_fontfamily(families)
    return fig


@contextlib.contextmanager
def browser_text() -> Iterator[None]:
    """While active, charts are drawn for a browser: no font warning, missing-glyph warnings silenced."""
    token = _BROWSER.set(True)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
            yield
    finally:
        _BROWSER.reset(token)
