"""Research tools on the scale definitions: reliability, item analysis, local norms and cut-off validation.

The same YAML file that scores students drives the analysis: give a scale and
a score id and the items, reverse keys and option ranges come from it. Every
statistic that psych computes agrees with R's psych package (tests compare
with values recorded from R on psych's ``bfi`` data); see ``docs/research.md``.

>>> import screening.research as rs        # doctest: +SKIP
>>> rs.reliability(df, "phq9", "total")     # doctest: +SKIP
"""

from .cutoffs import CutoffEvaluation, evaluate_cutoffs
from .items import item_analysis
from .norms import NormsBuild, SmallNormGroupWarning, build_norms
from .reliability import Reliability, reliability

__all__ = [
    "CutoffEvaluation",
    "NormsBuild",
    "Reliability",
    "SmallNormGroupWarning",
    "build_norms",
    "evaluate_cutoffs",
    "item_analysis",
    "reliability",
]
