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
    "Issue",
    "ScreeningError",
    "SpecError",
    "ResponseError",
    "RuleError",
]


def __getattr__(name: str) -> object:
    # `sc.research` imports scipy.stats/optimize; load it on first use, not with every `import screening`
    if name == "research":
        import importlib

        return importlib.import_module(".research", __name__)
    raise AttributeError(f"module 'screening' has no attribute {name!r}")
