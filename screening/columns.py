"""Output column names and status values: the public contract, defined in one place.

Every module that writes or reads a scored column takes its name from here.
"""

from __future__ import annotations

__all__ = [
    "STATUS_VALUES",
    "score_col",
    "band_col",
    "lower_col",
    "upper_col",
    "TIER_EXTRA_COLUMNS",
    "t_col",
    "pct_col",
    "status_col",
    "critical_col",
    "validity_col",
    "n_missing_col",
    "n_invalid_col",
    "item_col",
    "item_input_col",
    "quality_col",
    "QUALITY_PREFIX",
    "DISCLAIMER",
]

#: Response-quality flags given to ``score(quality=...)`` are named
#: ``quality.{check}`` (about the whole response, e.g. ``quality.too_fast``) or
#: ``{scale}.quality.{check}`` (about one scale, e.g. ``phq9.quality.longstring``).
QUALITY_PREFIX = "quality."

#: Per-scale status, from best to worst. ``invalid``: a validity check fired
#: (e.g. a lie score over threshold) or a response-quality check failed;
#: ``insufficient``: too many items missing to score; ``prorated``: scored
#: with some items missing, as the scale's missing rule allows.
STATUS_VALUES: tuple[str, ...] = ("complete", "prorated", "insufficient", "invalid")


def score_col(scale: str, score: str) -> str:
    """``phq9.total``: the score (float; NaN when it cannot be scored)."""
    return f"{scale}.{score}"


def band_col(scale: str, score: str) -> str:
    """``phq9.total.band``: the band id (categorical)."""
    return f"{scale}.{score}.band"


def lower_col(scale: str, score: str) -> str:
    """``phq9.total.lower``: the score the *best* possible answers to the blank items would give
    (``score(bounds=True)``; equals the score when nothing is blank; NaN where nothing could score it)."""
    return f"{scale}.{score}.lower"


def upper_col(scale: str, score: str) -> str:
    """``phq9.total.upper``: the score the *worst* possible answers to the blank items would give."""
    return f"{scale}.{score}.upper"


#: Columns of ``ScreeningResult.table`` besides ``tier``, ``urgent``, ``reasons`` and ``actions``:
#:
#: - ``rescreen`` (bool): on the re-screen / ask-in-person list. Set by insufficient or invalid data
#:   (the rule set's ``data_quality``) and by any rule, crisis item or critical item that is only
#:   *possibly* true (blank answers could make it true). It is an outcome of its own, counted apart
#:   from every colour; by default it sets no colour.
#: - ``ask_today`` (bool): a subset of ``rescreen``: an unanswered manual crisis item (e.g. PHQ-9
#:   item 9 blank) or an urgent rule that is possibly true — ask the student in person today.
#: - ``rescreen_reasons`` / ``rescreen_reasons_zh`` / ``rescreen_reasons_en`` (categorical text):
#:   why the student is on that list (empty where ``rescreen`` is False).
#: - ``follow_up_days``: days to the next contact (0 for ``ask_today``; project-choice crisis items
#:   cap it at the rule set's interview days).
TIER_EXTRA_COLUMNS = ("rescreen", "ask_today", "rescreen_reasons", "rescreen_reasons_zh", "rescreen_reasons_en",
                      "follow_up_days")


def t_col(scale: str, score: str) -> str:
    """``scl90.total.t``: T-score from the scale's norm table."""
    return f"{scale}.{score}.t"


def pct_col(scale: str, score: str) -> str:
    """``scl90.total.pct``: percentile from the scale's norm table."""
    return f"{scale}.{score}.pct"


def status_col(scale: str) -> str:
    """``phq9.status``: one of :data:`STATUS_VALUES`."""
    return f"{scale}.status"


def critical_col(scale: str, critical: str | None = None) -> str:
    """``phq9.critical`` (any critical item fired) or ``phq9.critical.item9`` (one of them)."""
    return f"{scale}.critical" if critical is None else f"{scale}.critical.{critical}"


def validity_col(scale: str, check: str) -> str:
    """``mht.validity.lie``: True where the validity check fired."""
    return f"{scale}.validity.{check}"


def n_missing_col(scale: str) -> str:
    """``phq9.n_missing``: number of the scale's items left unanswered."""
    return f"{scale}.n_missing"


def n_invalid_col(scale: str) -> str:
    """``phq9.n_invalid``: number of invalid responses set missing (``on_invalid="missing"``)."""
    return f"{scale}.n_invalid"


def item_col(scale: str, item: str) -> str:
    """``phq9.item9``: an item's response value in the output (``keep_items=True``)."""
    return f"{scale}.item{item}"


def item_input_col(scale: str, item: str) -> str:
    """``phq9_9``: the default input column of an item."""
    return f"{scale}_{item}"


def quality_col(scale: str | None, check: str) -> str:
    """``quality.too_fast`` (whole response) or ``phq9.quality.longstring`` (one scale)."""
    return f"quality.{check}" if scale is None else f"{scale}.quality.{check}"


#: What every output says (tables, reports, lists, FHIR resources): screening, not diagnosis.
DISCLAIMER = {
    "zh": "筛查结果，不是诊断。任何结果都只是提示由受过培训的老师或专业人员进一步了解学生情况。",
    "en": "Screening, not diagnosis. Every result is a prompt for a trained adult to follow up.",
}
