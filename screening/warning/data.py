"""The long table the early warning reads: one row per student and wave.

Accepted inputs
---------------
- a DataFrame with ``wave``, ``tier`` (and ``urgent``, ``rescreen``), the group
  columns (``district``, ``school``, ``grade``, ``class``, ``sex``), optionally ``on``
  (the screening date), a student key (``student``/``pseudonym``/``subject_id``) and
  the risk-group flags (nullable boolean);
- an archive, or anything with ``.export(kind="long")`` returning that table and
  optionally ``.waves()`` returning ``wave, on, n_students, period``;
- a ``{wave: ScreeningResult}`` mapping or one :class:`~screening.screener.result.ScreeningResult`
  (built from ``result.table``, ``result.groups`` and ``result.flags``; the table's
  index is the student key unless it is a plain ``RangeIndex``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Issue, ScreeningError
from ..screener.result import ScreeningResult

__all__ = ["FLAGS", "KEYS", "Long", "as_long"]

#: Risk-group flags used when present (the rule sets' flags; see policy/README.md, 重点群体).
FLAGS = ("left_behind", "single_parent", "bullied", "poverty", "migrant", "disability", "bereaved", "known_disorder")

#: Columns taken as the student key (for transitions between waves), first found.
KEYS = ("student", "pseudonym", "subject_id", "subject", "student_key")

DEFAULT_TIERS = ("green", "yellow", "orange")

TITLE = "cannot compute the early warning"


@dataclass(frozen=True)
class Long:
    """The normalised long table and what was learnt about it."""

    frame: pd.DataFrame  # wave (ordered categorical), on, tier (ordered categorical), urgent, rescreen, groups, flags
    tiers: tuple[str, ...]
    waves: pd.DataFrame  # wave, on, period (may be missing) in wave order
    key: str | None


def _from_results(results: Mapping[Any, ScreeningResult], dates: Mapping[Any, Any] | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    parts = []
    tiers: tuple[str, ...] | None = None
    for wave, res in results.items():
        if not isinstance(res, ScreeningResult):
            raise ScreeningError([Issue("bad_input", f"wave {wave!r} is a {type(res).__name__}, not a ScreeningResult")], title=TITLE)
        if tiers is None:
            tiers = tuple(res.rules.tiers)
        elif tuple(res.rules.tiers) != tiers:
            raise ScreeningError([Issue("tiers_differ", f"wave {wave!r} uses tiers {list(res.rules.tiers)}, others {list(tiers)}",
                                        hint="compare waves screened with rule sets that have the same tiers")], title=TITLE)
        part = pd.concat([res.groups.reset_index(drop=True), res.flags.reset_index(drop=True),
                          res.table[["tier", "urgent", "rescreen"]].reset_index(drop=True)], axis=1)
        part["tier"] = part["tier"].astype("string")
        if not isinstance(res.table.index, pd.RangeIndex):
            part["student"] = res.table.index.astype("string")
        part.insert(0, "wave", str(wave))
        part.insert(1, "on", pd.NaT if dates is None or wave not in dates else pd.Timestamp(dates[wave]))  # type: ignore[arg-type]
        parts.append(part)
    if not parts:
        raise ScreeningError([Issue("empty", "no waves given")], title=TITLE)
    return pd.concat(parts, ignore_index=True), tiers or DEFAULT_TIERS


def as_long(data: Any, *, tiers: Sequence[str] | None = None, dates: Mapping[Any, Any] | None = None) -> Long:
    """Normalise any accepted input (see the module docstring) to a :class:`Long`."""
    wave_info: pd.DataFrame | None = None
    if isinstance(data, ScreeningResult):
        data = {"wave 1": data}
    if isinstance(data, Mapping):
        frame, found = _from_results(data, dates)
        tiers = tuple(tiers) if tiers is not None else found
    elif isinstance(data, pd.DataFrame):
        frame = data
    elif hasattr(data, "export"):
        frame = data.export(kind="long")
        if hasattr(data, "waves"):
            wave_info = data.waves()
        if not isinstance(frame, pd.DataFrame):
            raise ScreeningError([Issue("bad_input", "export(kind='long') did not return a DataFrame")], title=TITLE)
    else:
        raise ScreeningError([Issue("bad_input", f"cannot read a {type(data).__name__}",
                                    hint="give a long DataFrame, an archive, or a {wave: ScreeningResult} mapping")], title=TITLE)

    issues = [Issue("missing_column", "the long table needs this column", column=c) for c in ("wave", "tier") if c not in frame.columns]
    if issues:
        raise ScreeningError(issues, title=TITLE)
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    tier_raw = frame["tier"]
    if tiers is None:
        if isinstance(tier_raw.dtype, pd.CategoricalDtype):
            tiers = tuple(str(t) for t in tier_raw.cat.categories)
        else:
            tiers = DEFAULT_TIERS
    tiers = tuple(tiers)
    # codes of the values, then one look-up per distinct value (no per-row string work)
    raw_codes, uniques = pd.factorize(tier_raw, use_na_sentinel=True)
    pos = {t: i for i, t in enumerate(tiers)}
    lookup = np.array([pos.get(str(u), -2) for u in uniques] + [-1], dtype=np.int64)
    tier_codes = lookup[raw_codes]  # -1 (the sentinel) maps to the last entry: unknown
    bad = tier_codes == -2
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ScreeningError([Issue("unknown_tier", f"values that are not tiers of {list(tiers)}", column="tier",
                                    rows=tuple(int(p) for p in rows[:10]), count=len(rows),
                                    hint="pass tiers=[...] lowest first, or fix the values")], title=TITLE)
    out["tier"] = pd.Categorical.from_codes(tier_codes, categories=list(tiers), ordered=True)  # type: ignore[call-overload]

    wave_codes, wave_uniques = pd.factorize(frame["wave"], use_na_sentinel=True)
    if (wave_codes < 0).any():
        rows = np.flatnonzero(wave_codes < 0)
        raise ScreeningError([Issue("missing_wave", "rows without a wave", column="wave", rows=tuple(int(p) for p in rows[:10]),
                                    count=len(rows))], title=TITLE)
    has_on = "on" in frame.columns
    on = pd.to_datetime(frame["on"], errors="coerce").reset_index(drop=True) if has_on else pd.Series(pd.NaT, index=out.index)
    if has_on:
        unparsed = on.isna() & frame["on"].reset_index(drop=True).notna()
        if unparsed.any():
            rows = np.flatnonzero(unparsed.to_numpy())
            raise ScreeningError([Issue("bad_date", "dates that cannot be read", column="on", rows=tuple(int(p) for p in rows[:10]),
                                        count=len(rows), hint="write dates as YYYY-MM-DD")], title=TITLE)
    names = pd.Index([str(w) for w in wave_uniques])
    codes = wave_codes
    first_on = pd.Series(on.to_numpy()).groupby(codes).min()
    info = pd.DataFrame({"wave": names.astype(str), "on": first_on.reindex(range(len(names))).to_numpy()})
    if dates is not None:
        info["on"] = [pd.Timestamp(dates[w]) if w in dates else o for w, o in zip(info["wave"], info["on"])]
    info["period"] = pd.array([pd.NA] * len(info), dtype="string")
    if "period" in frame.columns:  # a period carried on every row (the archive's long export): first one per wave
        per = pd.Series(frame["period"].to_numpy(dtype=object)).groupby(codes).first()
        info["period"] = pd.array([per.get(i, pd.NA) for i in range(len(info))], dtype="string")
    if wave_info is not None and "wave" in wave_info.columns:
        wi = wave_info.assign(wave=wave_info["wave"].astype(str)).set_index("wave")
        if "on" in wi.columns:
            known = pd.to_datetime(wi["on"], errors="coerce")
            info["on"] = [known.get(w, o) if pd.notna(known.get(w, pd.NaT)) else o for w, o in zip(info["wave"], info["on"])]
        if "period" in wi.columns:
            given = [wi["period"].get(w, pd.NA) for w in info["wave"]]
            info["period"] = pd.array([g if pd.notna(g) else p for g, p in zip(given, info["period"])], dtype="string")
    # wave order: by date (undated waves after, in order of appearance) unless the input's categorical order says otherwise
    if isinstance(frame["wave"].dtype, pd.CategoricalDtype) and frame["wave"].cat.ordered:
        order = [str(c) for c in frame["wave"].cat.categories if str(c) in set(info["wave"])]
    else:
        order = info.assign(_i=range(len(info))).sort_values(["on", "_i"], na_position="last")["wave"].tolist()
    info = info.set_index("wave").loc[order].reset_index()
    remap = np.array([order.index(w) for w in names], dtype=np.int64)
    out["wave"] = pd.Categorical.from_codes(remap[codes], categories=order, ordered=True)  # type: ignore[call-overload]
    out["on"] = on
    for flag in ("urgent", "rescreen"):
        if flag in frame.columns:
            out[flag] = frame[flag].reset_index(drop=True).astype("boolean")
    for col in frame.columns:
        if col in out.columns or col in ("wave", "tier", "on", "period"):
            continue
        if col in FLAGS:
            out[col] = frame[col].reset_index(drop=True).astype("boolean")
        else:
            out[col] = frame[col].reset_index(drop=True)
    key = next((k for k in KEYS if k in out.columns), None)
    return Long(out, tiers, info, key)
