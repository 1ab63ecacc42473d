"""screening: score psychological screening scales for whole student populations and sort
every student into a risk tier, with the reason for each decision.

Screening, not diagnosis: every result here is a prompt for a trained adult to
follow up, never a clinical judgement.

The package is the pipeline as folders, lowest layer first: specs → loading → engine → scoring →
intake → tiering → reports → screener → cli, with side packages beside it (research, audit, fhir,
warning, archive, scaleout); ``screening/README.md`` gives one line per folder.
"""

from . import columns
from ._version import __version__
from .errors import Issue, ResponseError, RuleError, ScreeningError, SpecError
from .intake import ReadError, read_responses
from .intake.quality import DedupReport, check_quality, deduplicate
from .scoring import Scale, empty_output, list_scales, load_scale, output_schema, score
from .screener import screen
from .screener.result import ScreeningResult
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
    "early_warning",
    "warning",
    "Issue",
    "ScreeningError",
    "SpecError",
    "ResponseError",
    "RuleError",
    "to_fhir",
    "referral",
    "open_archive",
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
    "to_fhir": ("screening.fhir", "to_fhir"),
    "referral": ("screening.fhir.referral", "referral"),
    "early_warning": ("screening.warning.table", "early_warning"),
    "warning": ("screening.warning", None),
    "open_archive": ("screening.archive", "open_archive"),
    "scaleout": ("screening.scaleout", None),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        return mod if attr is None else getattr(mod, attr)
    raise AttributeError(f"module 'screening' has no attribute {name!r}")


# issue 10: audit a rule set before a screening (loaded on first use)
__all__ += ["audit_rules", "simulate_answers"]
_LAZY["audit_rules"] = ("screening.audit", "audit_rules")
_LAZY["simulate_answers"] = ("screening.audit", "simulate_answers")


def __dir__() -> list[str]:
    """Every public name, including those loaded on first use (``research``, ``reports``, ``render_report`` …)."""
    return sorted(set(globals()) | set(_LAZY) | set(__all__))


# issue 13: files larger than memory, read and screened chunk by chunk (loaded on first use)
__all__ += ["iter_responses", "screen_file"]
_LAZY["iter_responses"] = ("screening.intake.stream", "iter_responses")
_LAZY["screen_file"] = ("screening.screener.streaming", "screen_file")
