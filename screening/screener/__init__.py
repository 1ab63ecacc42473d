"""The screen step: score every scale, apply a rule set, return a :class:`ScreeningResult`.

- ``run.py`` — :func:`screen` (scoring through ``scoring/frame.py``, tiering through ``tiering/``).
- ``result.py`` — :class:`ScreeningResult`: tiers, scores, flags, groups and the choices they were made with.

(Named ``screener``, not ``screen``: ``screening.screen`` is the public function.)
"""

from .result import DISCLAIMER, ScreeningResult
from .run import DEFAULT_GROUP_COLUMNS, parse_flags, screen

__all__ = ["screen", "ScreeningResult", "DISCLAIMER", "DEFAULT_GROUP_COLUMNS", "parse_flags"]
