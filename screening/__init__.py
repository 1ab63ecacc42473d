"""screening: score psychological screening scales for whole student populations and sort
every student into a risk tier, with the reason for each decision.

Screening, not diagnosis: every result here is a prompt for a trained adult to
follow up, never a clinical judgement.
"""

from . import columns
from ._version import __version__
from .catalog import Scale, list_scales, load_scale
from .errors import Issue, ResponseError, RuleError, ScreeningError, SpecError
from .intake import ReadError, read_responses
from .quality import DedupReport, check_quality, deduplicate
from .result import ScreeningResult
from .scoring import empty_output, output_schema, score
from .screen import screen
from .tiering.ruleset import RuleSet, list_rules, load_rules

__all__ = [
    "__version__",
    "columns",
    "Scale",
    "list_scales",
    "load_scale",
    "score",
    "output_schema",
    "empty_output",
    "screen",
    "ScreeningResult",
    "RuleSet",
    "load_rules",
    "list_rules",
    "read_responses",
    "ReadError",
    "check_quality",
    "deduplicate",
    "DedupReport",
    "research",
    "reports",
    "warning_list",
    "group_lists",
    "follow_up_list",
    "workload",
    "pseudonymise",
    "load_key",
    "generate_key",
    "write_frame",
    "render_report",
    "write_report",
    "Issue",
    "ScreeningError",
    "SpecError",
    "ResponseError",
    "RuleError",
    "scaleout",
]


# Loaded on first use (they import scipy.stats, and the report matplotlib/jinja2), not with every `import screening`.
_LAZY = {
    "research": ("screening.research", None),
    "reports": ("screening.reports", None),
    "warning_list": ("screening.reports", "warning_list"),
    "group_lists": ("screening.reports", "group_lists"),
    "follow_up_list": ("screening.reports", "follow_up_list"),
    "workload": ("screening.reports", "workload"),
    "pseudonymise": ("screening.reports", "pseudonymise"),
    "load_key": ("screening.reports", "load_key"),
    "generate_key": ("screening.reports", "generate_key"),
    "write_frame": ("screening.reports", "write_frame"),
    "render_report": ("screening.reports.report", "render_report"),
    "write_report": ("screening.reports.report", "write_report"),
    "scaleout": ("screening.scaleout", None),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        return mod if attr is None else getattr(mod, attr)
    raise AttributeError(f"module 'screening' has no attribute {name!r}")
