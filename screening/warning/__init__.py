"""Regional early warning over time: 高发学校、高危群体、高危时段.

:func:`early_warning` compares every school (or grade, class …) with the
district on a funnel plot, wave by wave, with over-dispersion handled as in
Spiegelhalter (2005); follows each group across waves (persistence, rises);
and gives the rates of risk groups per wave and of school-calendar periods
pooled over years. Everything is an aggregate with small cells suppressed.
Charts (:mod:`screening.warning.plots`) and the report section
(:func:`render_warning_section`) need the ``report`` extra.
"""

from .data import FLAGS, as_long
from .funnel import Dispersion, dispersion, exact_limits, funnel, normal_limits, winsorise
from .periods import PERIODS, label_periods, school_year
from .table import COLUMNS, early_warning

__all__ = [
    "COLUMNS",
    "FLAGS",
    "PERIODS",
    "Dispersion",
    "as_long",
    "dispersion",
    "early_warning",
    "exact_limits",
    "funnel",
    "funnel_plot",
    "label_periods",
    "normal_limits",
    "render_warning_section",
    "school_year",
    "transition_flow",
    "trend_multiples",
    "winsorise",
]


def __getattr__(name: str):  # lazy: charts and the HTML section need matplotlib (the `report` extra)
    if name in ("funnel_plot", "trend_multiples", "transition_flow"):
        from . import plots

        return getattr(plots, name)
    if name == "render_warning_section":
        from .report import render_warning_section

        return render_warning_section
    raise AttributeError(name)
