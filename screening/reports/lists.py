"""Student lists a school acts on: the early-warning list (预警名单), the risk-group lists (三个清单 and
every flag the rule set declares) and the follow-up list.

These lists name students. They are produced only by an explicit call, and
by default identify a student only by ``row`` (0-based position in the
screened table); student ids appear only with ``identifiable=True``, or as
keyed pseudonyms when a ``key`` is given (see :mod:`screening.reports.privacy`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import columns as C
from .._params import InvalidParameterError
from ..columns import DISCLAIMER
from ..specs.derive import score_range
from ._common import action_combo, identify, result_lang, tier_codes

if TYPE_CHECKING:
    from ..screener.result import ScreeningResult
    from .privacy import Key

__all__ = ["THREE_LISTS", "follow_up_list", "group_lists", "severity", "warning_list"]

#: The policies' "三个清单" (许昌 2023 §四(四)): left-behind, single-parent, known disorder.
THREE_LISTS = ("left_behind", "single_parent", "known_disorder")


def severity(result: ScreeningResult) -> pd.Series:
    """Per student, the highest banded score relative to its possible range (0 = best, 1 = worst end).

    Scores with ``direction: higher_better`` are turned round so that 1 is
    always the worrying end. Only scores with bands count (they are the
    interpretable ones); NaN when none could be scored.
    """
    parts = []
    for scale in result.scales:
        spec = scale.spec
        for sc in spec.scores:
            col = C.score_col(scale.id, sc.id)
            if sc.bands is None or col not in result.scores.columns:
                continue
            lo, hi = score_range(spec, sc)
            x = result.scores[col].to_numpy(dtype=float, na_value=np.nan)
            rel = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
            parts.append(1 - rel if sc.direction == "higher_better" else rel)
    if not parts:
        return pd.Series(np.nan, index=result.table.index, name="severity")
    stack = np.vstack(parts)
    all_nan = np.isnan(stack).all(axis=0)
    with np.errstate(invalid="ignore"):
        sev = np.where(all_nan, np.nan, np.nanmax(np.where(np.isnan(stack), -np.inf, stack), axis=0))
    return pd.Series(sev, index=result.table.index, name="severity")


def _position(frame: pd.DataFrame, column: str) -> int:
    """Where a column is (the lists have unique column labels, so ``get_loc`` gives an int)."""
    return cast("int", frame.columns.get_loc(column))


def _score_columns(result: ScreeningResult) -> list[str]:
    cols = []
    for scale in result.scales:
        for sc in scale.spec.scores:
            if sc.bands is not None and C.score_col(scale.id, sc.id) in result.scores.columns:
                cols += [C.score_col(scale.id, sc.id), C.band_col(scale.id, sc.id)]
    return cols


def _base(result: ScreeningResult, ids: Any, identifiable: bool, key: Key | None, lang: str, func: str,
          scores: bool = True) -> pd.DataFrame:
    """Identification, groups, tier, urgency, scores, reasons, actions and roles for every student."""
    ident = identify(result, ids, identifiable, key, func)
    t = result.table
    tiers = result.rules.spec.tiers
    codes = tier_codes(result)
    combo = action_combo(result)
    parts = [ident, result.groups]
    body = pd.DataFrame({
        "tier": t["tier"],
        # pandas-stubs: from_codes takes any list-like of categories, not only an Index
        "tier_label": pd.Categorical.from_codes(codes, categories=[x.label.get(lang) for x in tiers],  # type: ignore[call-overload]
                                                validate=False),
        "urgent": t["urgent"],
        "rescreen": t["rescreen"],
    }, index=t.index)
    parts.append(body)
    if scores:
        parts.append(result.scores[_score_columns(result)])
    actions = result.rules.action_table  # one row per outcome code, built once per rule set
    tail = pd.DataFrame({
        "reasons": t[f"reasons_{lang}"],
        "actions": t[f"actions_{lang}"],
        "responsible": actions.responsible_column(combo, lang),
        "contact_parents": actions.contact_parents[combo],
        "referral": actions.referral[combo],
        "follow_up_days": t["follow_up_days"],
    }, index=t.index)
    parts.append(tail)
    return pd.concat(parts, axis=1)


def _finish(frame: pd.DataFrame, result: ScreeningResult, kind: str, **meta: Any) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame.attrs["screening"] = {"kind": kind, "identifiable": "student_id" in frame.columns, **meta,
                                "disclaimer": dict(DISCLAIMER), "provenance": dict(result.provenance)}
    return frame


def _order(urgent: npt.NDArray[np.bool_], tier: npt.NDArray[np.intp], sev: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """Urgent first, then highest tier, then highest severity (unscored last), then input order."""
    sev_key = np.where(np.isnan(sev), np.inf, -sev)
    return np.lexsort((np.arange(len(tier)), sev_key, -tier, ~urgent))


def warning_list(
    result: ScreeningResult,
    ids: pd.Series | str | Sequence[Any] | None = None,
    *,
    identifiable: bool = False,
    key: Key | None = None,
    min_tier: str | None = None,
    lang: str | None = None,
) -> pd.DataFrame:
    """The early-warning list (预警名单): every student above the lowest tier, most urgent first.

    Order: urgent students first, then by tier (highest first), then by
    :func:`severity` (the largest score relative to its range), then input
    order.

    Parameters
    ----------
    result : ScreeningResult
    ids : Series, column name or array-like, optional
        Student ids (same index as the screened table, or a column kept in
        ``result.groups``). Needed with ``identifiable`` or ``key``.
    identifiable : bool, default False
        Put the raw ids in a ``student_id`` column. Handle the output as
        confidential (保密).
    key : Key, optional
        Put keyed pseudonyms in a ``pseudonym`` column (:func:`~screening.reports.privacy.load_key`).
    min_tier : str, optional
        Lowest tier listed; default the second tier (e.g. yellow). Urgent
        students are always listed.
    lang : {"zh", "en"}, optional
        Language of labels, reasons and actions; default the result's.

    Returns
    -------
    DataFrame
        ``row``, [``student_id``], [``pseudonym``], the group columns,
        ``tier``, ``tier_label``, ``urgent``, ``rescreen``, the banded scores
        and their bands, ``severity``, ``reasons``, ``actions``,
        ``responsible`` (the people the actions name), ``contact_parents``,
        ``referral``, ``follow_up_days``.
    """
    func = "warning_list"
    lang = result_lang(result, lang, func)
    tiers = result.rules.tiers
    if min_tier is None:
        min_tier = tiers[1] if len(tiers) > 1 else tiers[0]
    if min_tier not in tiers:
        raise InvalidParameterError(f"The 'min_tier' parameter of {func} must be one of {tiers}. Got {min_tier!r} instead.")
    frame = _base(result, ids, identifiable, key, lang, func)
    sev = severity(result).to_numpy()
    frame.insert(_position(frame, "reasons"), "severity", sev)
    codes = tier_codes(result)
    urgent = result.table["urgent"].to_numpy(dtype=bool)
    keep = (codes >= tiers.index(min_tier)) | urgent
    order = _order(urgent, codes, sev)
    order = order[keep[order]]
    return _finish(frame.iloc[order], result, "warning_list", min_tier=min_tier)


def group_lists(
    result: ScreeningResult,
    ids: pd.Series | str | Sequence[Any] | None = None,
    *,
    identifiable: bool = False,
    key: Key | None = None,
    flags: Sequence[str] | None = None,
    lang: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Risk-group lists (重点群体 / 三个清单): per flag, every student with that flag and their current tier.

    Default flags: the three lists of the policies (left-behind, single-parent,
    known disorder) first, then every other flag the rule set declares. Only
    students whose flag is known to be true are listed (unknown is not yes).
    Each list is ordered like the warning list. Parameters as for
    :func:`warning_list`.

    Returns
    -------
    dict
        Flag id → DataFrame (``row``, ids if asked, groups, ``flag_label``,
        tier, urgency, reasons, actions …).
    """
    func = "group_lists"
    lang = result_lang(result, lang, func)
    declared = result.rules.flags
    if flags is None:
        wanted = [f for f in THREE_LISTS if f in declared] + [f for f in declared if f not in THREE_LISTS]
    else:
        wanted = list(flags)
        bad = [f for f in wanted if f not in result.flags.columns]
        if bad:
            raise InvalidParameterError(
                f"The 'flags' parameter of {func} must name flags of the result ({list(result.flags.columns)}). Got {bad} instead."
            )
    wanted = [f for f in wanted if f in result.flags.columns]
    labels = {f.id: f.label.get(lang) for f in result.rules.spec.flags}
    base = _base(result, ids, identifiable, key, lang, func, scores=False)
    sev = severity(result).to_numpy()
    order = _order(result.table["urgent"].to_numpy(dtype=bool), tier_codes(result), sev)
    out: dict[str, pd.DataFrame] = {}
    for flag in wanted:
        has = result.flags[flag].fillna(False).to_numpy(dtype=bool)
        sel = order[has[order]]
        frame = base.iloc[sel].copy()
        frame.insert(_position(frame, "tier"), "flag_label", labels.get(flag, flag))
        out[flag] = _finish(frame, result, "group_list", flag=flag)
    return out


def follow_up_list(
    result: ScreeningResult,
    screening_date: dt.date | str,
    ids: pd.Series | str | Sequence[Any] | None = None,
    *,
    identifiable: bool = False,
    key: Key | None = None,
    lang: str | None = None,
) -> pd.DataFrame:
    """Who needs a follow-up or a re-screen, and by when.

    ``due`` = ``screening_date`` + ``follow_up_days`` (the shortest interval of
    the student's actions; 0 = at once). Students to re-screen with no
    interval are listed with no due date. Ordered by due date (urgent first on
    the same day), then tier and severity.

    Parameters
    ----------
    screening_date : date or ISO text
        The day the screening was done (required: the list is only as right as this date).
    """
    func = "follow_up_list"
    lang = result_lang(result, lang, func)
    try:
        day = dt.date.fromisoformat(screening_date) if isinstance(screening_date, str) else screening_date
    except ValueError:
        day = None
    if not isinstance(day, dt.date):
        raise InvalidParameterError(
            f"The 'screening_date' parameter of {func} must be a date or ISO text such as '2026-03-02'. "
            f"Got {screening_date!r} instead."
        )
    if isinstance(day, dt.datetime):
        day = day.date()
    frame = _base(result, ids, identifiable, key, lang, func, scores=False)
    days = result.table["follow_up_days"].to_numpy(dtype=float, na_value=np.nan)
    rescreen = result.table["rescreen"].to_numpy(dtype=bool)
    keep = ~np.isnan(days) | rescreen
    due = pd.Series(pd.Timestamp(day), index=frame.index) + pd.to_timedelta(np.nan_to_num(days, nan=0), unit="D")
    due = due.where(~np.isnan(days))
    frame.insert(_position(frame, "follow_up_days") + 1, "due", due.dt.date)
    what = np.where(rescreen, "rescreen", "follow_up")
    what = np.where(result.table["urgent"].to_numpy(dtype=bool), "immediate", what)
    frame.insert(_position(frame, "tier"), "what", what)
    sev = severity(result).to_numpy()
    urgent = result.table["urgent"].to_numpy(dtype=bool)
    order = np.lexsort((np.arange(len(days)), np.where(np.isnan(sev), np.inf, -sev), -tier_codes(result), ~urgent,
                        np.where(np.isnan(days), np.inf, days)))
    order = order[keep[order]]
    return _finish(frame.iloc[order], result, "follow_up_list", screening_date=day.isoformat())
