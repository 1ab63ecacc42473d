"""The result of a screening: per-student tiers, the scores behind them, and provenance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..columns import DISCLAIMER

if TYPE_CHECKING:
    from ..scoring import Scale
    from ..tiering.ruleset import RuleSet

__all__ = ["DISCLAIMER", "ScreeningResult"]


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
    action_codes : ndarray of int16, optional
        Each student's outcome code, ``tier * 4 + urgent * 2 + rescreen``: the row of
        ``rules.action_table`` (actions, responsible people, follow-up) that applies. Built once by
        tiering; read it through :meth:`outcome_codes`, which rebuilds it from ``table`` when a
        result was put together without it.
    """

    table: pd.DataFrame
    scores: pd.DataFrame
    flags: pd.DataFrame
    groups: pd.DataFrame
    rules: RuleSet
    scales: tuple[Scale, ...]
    provenance: Mapping[str, Any]
    action_codes: npt.NDArray[np.int16] | None = None

    def outcome_codes(self) -> npt.NDArray[np.int16]:
        """Each student's outcome code (row of ``self.rules.action_table``): as tiering stored it, or
        rebuilt from the tier, urgent and re-screen columns."""
        if self.action_codes is not None and len(self.action_codes) == len(self.table):
            return self.action_codes
        from ..tiering.actions import encode_outcomes

        t = self.table
        return encode_outcomes(np.asarray(t["tier"].array.codes), t["urgent"].to_numpy(dtype=bool),
                               t["rescreen"].to_numpy(dtype=bool))

    def __len__(self) -> int:
        return len(self.table)

    def tier_counts(self) -> pd.Series:
        """Students per tier (all tiers listed, lowest first) — an aggregate, safe to show."""
        return self.table["tier"].value_counts(sort=False).reindex(self.rules.tiers, fill_value=0)

    def band_set(self, scale_id: str, score_id: str) -> Any:
        """The band set this result was scored with for ``scale.score`` (the scale's default unless
        ``screen(bands=...)`` chose another; recorded in ``provenance["band_sets"]``). Reports read bands
        from here, never from the scale file's default."""
        scale = next(s for s in self.scales if s.id == scale_id)
        score = next(x for x in scale.spec.scores if x.id == score_id)
        if score.bands is None:
            return None
        name = self.provenance.get("band_sets", {}).get(f"{scale_id}.{score_id}", score.bands.default)
        return score.bands.sets[name]

    def outcome_counts(self) -> pd.Series:
        """Students per tier, then ``urgent``, ``rescreen`` and ``ask_today`` — re-screen is its own outcome,
        counted apart from the colours (a student can be green *and* on the re-screen list). An aggregate."""
        t = self.table
        extra = {c: int(t[c].to_numpy(dtype=bool).sum()) for c in ("urgent", "rescreen", "ask_today") if c in t.columns}
        return cast("pd.Series", pd.concat([self.tier_counts(), pd.Series(extra, dtype="int64")]))

    def to_frame(self, *, include: Sequence[str] = ("groups", "flags", "scores", "table")) -> pd.DataFrame:
        """Groups, flags, scores and tiers side by side (identifiable only if the index is)."""
        parts = {"groups": self.groups, "flags": self.flags, "scores": self.scores, "table": self.table}
        return pd.concat([parts[k] for k in include], axis=1)

    def summary(self, by: Sequence[str] | str | None = None, **kwargs: Any) -> pd.DataFrame:
        """Counts and proportions per tier by group, with small cells suppressed (see docs/reports.md)."""
        from ..reports.summary import summarise

        return summarise(self, by=by, **kwargs)

    def __repr__(self) -> str:
        counts = ", ".join(f"{t} {n}" for t, n in self.tier_counts().items())
        rescreen = int(self.table["rescreen"].sum()) if "rescreen" in self.table.columns else 0
        return (f"<ScreeningResult: {len(self)} students; {counts}; urgent {int(self.table['urgent'].sum())}; "
                f"re-screen {rescreen}; rules {self.rules.id}; scales {', '.join(s.id for s in self.scales)}>")

    def _repr_html_(self) -> str:
        """Notebook view: tier counts with Wilson intervals, urgent/re-screen and band prevalence — aggregates
        only, small counts suppressed as in :meth:`summary` (never a row, never an id)."""
        from html import escape

        from ..reports.summary import summarise

        summ = summarise(self, by=[], compare=False).iloc[0]
        lang = str(self.provenance.get("options", {}).get("lang", "zh"))

        def cells(m: str) -> str:
            # suppressed cells, and proportions of nobody (an empty result), are shown as a dash
            if any(pd.isna(summ.get(f"{m}.{part}")) for part in ("n", "prop", "ci_low", "ci_high")):
                return "<td>—</td><td>—</td><td>—</td>"
            return (f"<td style='text-align:right'>{int(summ[f'{m}.n']):,}</td>"
                    f"<td style='text-align:right'>{float(summ[f'{m}.prop']):.1%}</td>"
                    f"<td style='text-align:right'>{float(summ[f'{m}.ci_low']):.1%} – {float(summ[f'{m}.ci_high']):.1%}</td>")

        rows = "".join(
            f"<tr><td><span style='display:inline-block;width:10px;height:10px;background:{t.colour};margin-right:4px'></span>"
            f"{escape(t.label.get(lang))} <small>{escape(t.id)}</small></td>{cells('tier.' + t.id)}</tr>"
            for t in reversed(self.rules.spec.tiers)
        )
        rows += "".join(f"<tr><td>{name}</td>{cells(m)}</tr>" for m, name in (("urgent", "urgent 危机"), ("rescreen", "re-screen 重测")))
        bands = []
        for sc in self.scales:
            for score in sc.spec.scores:
                col = f"{sc.id}.{score.id}.band"
                if score.bands is None or f"{col}" not in self.scores.columns:
                    continue
                parts = []
                for b in self.band_set(sc.id, score.id).bands:
                    n = summ[f"{col}.{b.id}.n"]
                    parts.append(f"{escape(b.label.get(lang))} {'—' if n is None or summ.isna()[f'{col}.{b.id}.n'] else f'{int(n):,}'}")
                bands.append(f"<tr><td>{escape(sc.id)}.{escape(score.id)}</td><td colspan='3'>{' · '.join(parts)}</td></tr>")
        return (
            f"<div><b>ScreeningResult</b> — {len(self):,} students · rules <code>{escape(self.rules.id)}</code> "
            f"v{escape(self.rules.spec.version)} · scales {escape(', '.join(s.id for s in self.scales))}"
            "<table><thead><tr><th></th><th>n</th><th>%</th><th>95% CI (Wilson)</th></tr></thead>"
            f"<tbody>{rows}{''.join(bands)}</tbody></table>"
            f"<small>— suppressed (fewer than 10, or would reveal one). {escape(DISCLAIMER['zh'])} {escape(DISCLAIMER['en'])}</small></div>"
        )
