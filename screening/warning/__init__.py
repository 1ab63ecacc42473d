"""Regional early warning over time: 高发学校、高危群体、高危时段.

:func:`early_warning` compares every school (or grade, class …) with the
district on a funnel plot, wave by wave, with over-dispersion handled as in
Spiegelhalter (2005); follows each group across waves (persistence, rises);
and gives the rates of risk groups per wave and of school-calendar periods
pooled over years. Everything is an aggregate with small cells suppressed.
Charts (:mod:`screening.warning.plots`) and the report section
(:func:`render_warning_section`) need the ``report`` extra.

Names are imported on first use, so ``screening warn --help`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "COLUMNS",
    "FLAGS",
    "PERIODS",
    "Dispersion",
    "as_long",
    "dispersion",
    "early_warning",
    "exact_limits",
    "funnel_plot",
    "label_periods",
    "normal_limits",
    "render_warning_section",
    "school_year",
    "tier_transitions",
    "transition_flow",
    "trend_multiples",
    "winsorise",
]

_WHERE = {
    "COLUMNS": "table", "early_warning": "table",
    "FLAGS": "data", "as_long": "data",
    "Dispersion": "funnel", "dispersion": "funnel", "exact_limits": "funnel", "normal_limits": "funnel",
    "winsorise": "funnel",
    "PERIODS": "periods", "label_periods": "periods", "school_year": "periods",
    "tier_transitions": "transitions",
    "funnel_plot": "plots", "trend_multiples": "plots", "transition_flow": "plots",
    "render_warning_section": "report",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
