"""The result of a screening: per-student tiers, the scores behind them, and provenance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .catalog import Scale
    from .tiering.ruleset import RuleSet

__all__ = ["ScreeningResult", "DISCLAIMER"]

DISCLAIMER = {
    "zh": "筛查结果，不是诊断。任何结果都只是提示由受过培训的老师或专业人员进一步了解学生情况。",
    "en": "Screening, not diagnosis. Every result is a prompt for a trained adult to follow up.",
}


@dataclass(frozen=True, repr=False, eq=False)
class ScreeningResult:
    """What :func:`screening.screen` returns.

    Attributes
    ----------
    table : DataFrame
        One row per student, same index and order as the responses: ``tier``,
        ``urgent``, ``rescreen``, ``follow_up_days``, ``reasons``, ``actions``
        (in the chosen language), ``reasons_zh/_en``, ``actions_zh/_en``, ``rules_fired``.
    scores : DataFrame
        The output of :func:`screening.score` for every scale screened.
    flags : DataFrame
        The risk-group flags used (nullable boolean; NA = not known).
    groups : DataFrame
        The grouping columns kept for summaries (district, school, grade, class …).
    rules, scales
        The rule set and scales used.
    provenance : mapping
        Library version, content hash of every scale and the rule set, options, warnings.
    """

    table: pd.DataFrame
    scores: pd.DataFrame
    flags: pd.DataFrame
    groups: pd.DataFrame
    rules: RuleSet
    scales: tuple[Scale, ...]
    provenance: Mapping[str, Any]

    def __len__(self) -> int:
        return len(self.table)

    def tier_counts(self) -> pd.Series:
        """Students per tier (all tiers listed, lowest first) — an aggregate, safe to show."""
        return self.table["tier"].value_counts(sort=False).reindex(self.rules.tiers, fill_value=0)

    def to_frame(self, *, include: Sequence[str] = ("groups", "flags", "scores", "table")) -> pd.DataFrame:
        """Groups, flags, scores and tiers side by side (identifiable only if the index is)."""
        parts = {"groups": self.groups, "flags": self.flags, "scores": self.scores, "table": self.table}
        return pd.concat([parts[k] for k in include], axis=1)

    def summary(self, by: Sequence[str] | str | None = None, **kwargs: Any) -> pd.DataFrame:
        """Counts and proportions per tier by group, with small cells suppressed (see docs/reports.md)."""
        from .reports.summary import summarise

        return summarise(self, by=by, **kwargs)

    def __repr__(self) -> str:
        counts = ", ".join(f"{t} {n}" for t, n in self.tier_counts().items())
        return (f"<ScreeningResult: {len(self)} students; {counts}; urgent {int(self.table['urgent'].sum())}; "
                f"rules {self.rules.id}; scales {', '.join(s.id for s in self.scales)}>")

    def _repr_html_(self) -> str:
        from html import escape

        counts = self.tier_counts()
        colours = {t.id: t.colour for t in self.rules.spec.tiers}
        labels = {t.id: t.label for t in self.rules.spec.tiers}
        cells = "".join(
            f"<td style='background:{colours[t]};color:#fff;padding:2px 8px'>{escape(labels[t].get('zh'))} "
            f"{escape(labels[t].get('en'))}: {n}</td>" for t, n in counts.items()
        )
        return (f"<div><b>Screening result</b> — {len(self)} students, urgent: {int(self.table['urgent'].sum())}, "
                f"re-screen: {int(self.table['rescreen'].sum())}<table><tr>{cells}</tr></table>"
                f"<small>{escape(DISCLAIMER['zh'])} {escape(DISCLAIMER['en'])}<br>rules {escape(self.rules.id)} "
                f"v{escape(self.rules.spec.version)}; scales {escape(', '.join(s.id for s in self.scales))}</small></div>")
