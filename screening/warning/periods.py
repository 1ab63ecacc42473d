"""School-calendar periods of a screening date (高危时段), so that waves can be compared across years.

The policies ask for extra attention at sensitive times: the start of term
(开学), exam season (考试季), graduation season (毕业季：中考、高考) and
before / after long holidays (长假前后) (Xuchang 2023 and Cixi 2023 in
``policy/``). The default calendar below follows the usual mainland school
year (the exact dates are set by each province every year): autumn term from
about 1 September, National Day week 1–7 October, mid-term exams in
November and April, finals and the winter holiday around the Spring
Festival (late January – mid February), spring term from mid/late February,
Labour Day 1–5 May, 高考 7–10 June and 中考 mid/late June, summer holiday
from early July.

Each period is a span of month-days (the same every year) with an id, a kind
and zh/en labels; a date belongs to the school year that starts on
1 August. Pass your own table (same columns) to change the spans, or give
each wave its period directly (an archive's ``waves()["period"]`` wins over
the date).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._params import InvalidParameterError

__all__ = ["PERIODS", "label_periods", "school_year"]

#: Default calendar: id, kind, zh, en, first and last month-day (inclusive, MM-DD; a span may wrap the new year).
PERIODS = pd.DataFrame(
    [
        ("autumn_term_start", "term_start", "秋季开学（暑假后）", "autumn term start (after the summer holiday)", "08-20", "09-30"),
        ("after_national_day", "after_holiday", "国庆长假后", "after the National Day holiday", "10-01", "10-20"),
        ("autumn_midterm", "exam_season", "秋季期中考试前后", "autumn mid-term exams", "10-21", "11-30"),
        ("autumn_finals", "before_holiday", "期末考试与寒假前", "autumn finals, before the winter holiday", "12-01", "01-25"),
        ("winter_holiday", "holiday", "寒假（春节）", "winter holiday (Spring Festival)", "01-26", "02-14"),
        ("spring_term_start", "term_start", "春季开学（寒假后）", "spring term start (after the winter holiday)", "02-15", "03-31"),
        ("spring_midterm", "exam_season", "春季期中考试前后", "spring mid-term exams", "04-01", "04-30"),
        ("after_labour_day", "after_holiday", "五一假期后", "after the Labour Day holiday", "05-01", "05-20"),
        ("graduation_season", "graduation_season", "毕业季（中考、高考）", "graduation season (zhongkao, gaokao)", "05-21", "06-30"),
        ("summer_holiday", "holiday", "暑假", "summer holiday", "07-01", "08-19"),
    ],
    columns=["period", "kind", "zh", "en", "start", "end"],
)


def _md(text: pd.Series) -> np.ndarray:
    parts = text.str.split("-", expand=True).astype(int)
    return (parts[0] * 100 + parts[1]).to_numpy()


def school_year(dates: pd.Series) -> pd.Series:
    """School year of each date as ``"2025-2026"`` (a year starts on 1 August); missing stays missing."""
    d = pd.to_datetime(dates, errors="coerce")
    first = d.dt.year.astype("Int64") - (d.dt.month < 8).astype("Int64")
    out = first.astype("string") + "-" + (first + 1).astype("string")
    return out.where(d.notna()).astype("string")


def label_periods(dates: pd.Series, periods: pd.DataFrame | None = None) -> pd.DataFrame:
    """``period``, ``period_kind``, ``period_zh``, ``period_en`` and ``school_year`` of each date.

    Dates outside every span, or missing, get missing labels.

    Examples
    --------
    >>> label_periods(pd.Series(pd.to_datetime(["2026-03-02", "2026-06-12"])))["period"].tolist()
    ['spring_term_start', 'graduation_season']
    """
    table = PERIODS if periods is None else periods
    need = {"period", "kind", "zh", "en", "start", "end"}
    if not isinstance(table, pd.DataFrame) or not need <= set(table.columns):
        raise InvalidParameterError(
            f"The 'periods' parameter of label_periods must be a DataFrame with columns {sorted(need)}. Got {type(table).__name__} instead."
        )
    d = pd.to_datetime(pd.Series(dates).reset_index(drop=True), errors="coerce")
    md = (d.dt.month * 100 + d.dt.day).to_numpy(dtype=float, na_value=np.nan)
    start, end = _md(table["start"].astype(str)), _md(table["end"].astype(str))
    wrap = start > end
    inside = np.where(wrap[None, :], (md[:, None] >= start[None, :]) | (md[:, None] <= end[None, :]),
                      (md[:, None] >= start[None, :]) & (md[:, None] <= end[None, :]))
    hit = inside.any(axis=1)
    idx = np.where(hit, inside.argmax(axis=1), -1)
    out = pd.DataFrame(index=range(len(d)))
    for col, src in (("period", "period"), ("period_kind", "kind"), ("period_zh", "zh"), ("period_en", "en")):
        vals = pd.array(table[src].astype(str).to_numpy(), dtype="string")
        out[col] = vals.take(idx, allow_fill=True)
    out["school_year"] = school_year(d).to_numpy()
    return out
