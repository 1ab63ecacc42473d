"""A font for Chinese text in charts, found once among the installed fonts."""

from __future__ import annotations

import functools
import warnings
from typing import Any

__all__ = ["CJK_FONTS", "INSTALL_HINT", "cjk_font", "font_rc"]

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

INSTALL_HINT = (
    "install a Chinese font, e.g. `apt-get install fonts-wqy-microhei` or `apt-get install fonts-noto-cjk` "
    "(Debian/Ubuntu), then delete matplotlib's font cache (~/.cache/matplotlib)"
)


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first of :data:`CJK_FONTS` that matplotlib knows, or None (with a warning and an install hint)."""
    from ._deps import require

    fm = require("matplotlib.font_manager")
    installed = {f.name for f in fm.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    warnings.warn(f"no Chinese font found for charts; Chinese text will show as boxes — {INSTALL_HINT}", stacklevel=3)
    return None


def font_rc() -> dict[str, Any]:
    """matplotlib settings for a chart with Chinese text (used through ``rc_context``, never set globally)."""
    name = cjk_font()
    families = ([name] if name else []) + ["DejaVu Sans"]
    return {"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False}
