"""Outputs of a screening: student lists, suppressed group summaries, workload, pseudonyms, charts and the HTML report.

Aggregates (summaries, charts, the report) are safe to share within the
limits of small-cell suppression; lists of students are produced only by an
explicit call and identify students by row number, pseudonym or — only with
``identifiable=True`` — by id. Every output says "screening, not diagnosis".

matplotlib and jinja2 (the ``report`` extra) are imported only by the
functions that draw or render.
"""

from typing import Any

from .export import write_frame
from .lists import THREE_LISTS, follow_up_list, group_lists, severity, warning_list
from .privacy import Key, generate_key, load_key, pseudonymise
from .summary import summarise
from .workload import STAFFING_NORMS, StaffingNorm, workload

__all__ = [
    "STAFFING_NORMS",
    "THREE_LISTS",
    "Key",
    "StaffingNorm",
    "follow_up_list",
    "generate_key",
    "group_lists",
    "load_key",
    "pseudonymise",
    "render_report",
    "score_histogram",
    "severity",
    "summarise",
    "tier_bars",
    "warning_list",
    "workload",
    "write_frame",
    "write_report",
]


def __getattr__(name: str) -> Any:  # lazy: the report and the charts need the optional `report` extra
    if name in ("render_report", "write_report"):
        from . import report

        return getattr(report, name)
    if name in ("tier_bars", "score_histogram"):
        from . import plots

        return getattr(plots, name)
    raise AttributeError(name)
