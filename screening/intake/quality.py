"""Response-quality checks: per-student flags with a reason, never a deletion.

:func:`check_quality` looks at a canonical table (see
:func:`screening.read_responses`) and returns one boolean column per check,
named by :func:`screening.columns.quality_col`:

=====================================  =====================================================
column                                 True where
=====================================  =====================================================
``quality.too_fast``                   seconds per item < ``seconds_per_item`` (default 2)
``quality.empty``                      no item of the given scales is answered
``quality.duplicate_id``               the respondent id appears on another row too
``quality.incomplete``                 the platform marked the response unfinished
``{scale}.quality.longstring``         a run of identical answers ≥ the scale's threshold
``{scale}.quality.inconsistent``       more declared item ``pairs`` disagree than allowed
``{scale}.quality.unreadable``         cells were unreadable and set missing on reading
=====================================  =====================================================

plus ``quality_reasons``: a readable reason per student (``""`` when none).
Pass the result to ``score(responses, scale, quality=flags)``: every flag that
concerns the scale is copied to its output as ``{scale}.quality.{check}`` and
makes its status ``invalid``, so a tiering rule can send the student to
re-screening. Lie/validity scales are part of ``score()`` itself
(``{scale}.validity.{id}``) and are not repeated here.

Everything is computed column-wise on whole arrays; no loop runs per student.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import columns as C
from .._params import InvalidParameterError, check_choice
from ..errors import Issue, ResponseError
from ..scoring import Scale, load_scale
from . import meta as M

__all__ = [
    "CHECKS",
    "DEFAULT_SECONDS_PER_ITEM",
    "QUALITY_REASONS",
    "DedupReport",
    "check_quality",
    "deduplicate",
    "longstring_lengths",
]

#: Name of the text column holding each student's reasons. It does not start with
#: ``quality.`` so that ``score(quality=flags)`` takes the frame as it is.
QUALITY_REASONS = "quality_reasons"

#: Every check, in the order reasons are written.
CHECKS: tuple[str, ...] = (
    "empty", "too_fast", "duplicate_id", "incomplete", "longstring", "inconsistent", "unreadable",
)

#: Huang JL, Curran PG, Keeney J, Poposki EM, DeShon RP. Detecting and deterring insufficient effort
#: responding to surveys. J Bus Psychol. 2012;27(1):99-114. doi:10.1007/s10869-011-9231-8 — fewer than
#: 2 seconds per item flags insufficient effort; validated as the "page time" index by Bowling et al.,
#: Organizational Research Methods, doi:10.1177/10944281211056520.
DEFAULT_SECONDS_PER_ITEM = 2.0

ScaleLike = str | Path | Scale | Mapping[str, Any]


def _load(scales: ScaleLike | Sequence[ScaleLike], fname: str) -> list[Scale]:
    if isinstance(scales, (str, Path, Scale, Mapping)):
        scales = [scales]
    if not isinstance(scales, (list, tuple)):
        raise InvalidParameterError(
            f"The 'scales' parameter of {fname} must be a scale id, a Scale or a list of them. "
            f"Got {type(scales).__name__} instead.")
    return [load_scale(s) for s in scales]


def _items(table: pd.DataFrame, sc: Scale) -> npt.NDArray[np.float64]:
    cols = sc.input_columns()
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ResponseError([Issue("missing_column", f"the table has no column for an item of {sc.id}", column=c)
                             for c in missing], title=f"cannot check the quality of {sc.id}")
    bad = [c for c in cols if not pd.api.types.is_numeric_dtype(table[c].dtype)]
    if bad:
        raise ResponseError([Issue("not_numeric", "item columns must hold option values (numbers); read the file "
                                   "with read_responses() first", column=c) for c in bad],
                            title=f"cannot check the quality of {sc.id}")
    if not cols:
        return np.empty((len(table), 0))
    return np.column_stack([table[c].to_numpy(dtype=float, na_value=np.nan) for c in cols])


def longstring_lengths(X: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Longest run of identical consecutive answers per row (Johnson 2005's longstring index).

    A missing answer breaks a run; a row with no answer has length 0. Loops
    over items (columns), never over rows. Matches R ``careless::longstring``
    on complete data.
    """
    n, k = X.shape
    if k == 0:
        return np.zeros(n, dtype=np.int64)
    answered = ~np.isnan(X)
    run = answered[:, 0].astype(np.int64)
    best = run.copy()
    for j in range(1, k):
        same = answered[:, j] & (X[:, j] == X[:, j - 1])
        run = np.where(same, run + 1, answered[:, j].astype(np.int64))
        np.maximum(best, run, out=best)
    return best


def _longstring_thresholds(sc_list: list[Scale], longstring: int | Mapping[str, int] | None) -> dict[str, int]:
    if longstring is None:
        # Project convention: no published fixed cut-off exists (Johnson 2005 and Curran 2016 derive them from
        # the sample). A whole scale answered identically is flagged only where the scale has reverse-keyed
        # items, which makes that pattern self-contradictory; on scales without them (PHQ-9 all 完全不会)
        # identical answers are an ordinary honest answer.
        return {s.id: len(s.items) for s in sc_list if s.spec.reverse and len(s.items) >= 2}
    if isinstance(longstring, int) and not isinstance(longstring, bool):
        wanted = {s.id: longstring for s in sc_list}
    elif isinstance(longstring, Mapping):
        wanted = dict(longstring)
    else:
        raise InvalidParameterError(
            "The 'longstring' parameter of check_quality must be None, an int or a mapping {scale: int}. "
            f"Got {type(longstring).__name__} instead.")
    sizes = {s.id: len(s.items) for s in sc_list}
    for sid, t in wanted.items():
        if sid not in sizes or not isinstance(t, int) or isinstance(t, bool) or not (2 <= t <= sizes[sid]):
            raise InvalidParameterError(
                "The 'longstring' parameter of check_quality must give each scale checked a run length from 2 to "
                f"its number of items ({sizes}). Got {{{sid!r}: {t!r}}} instead.")
    return wanted


def _add_reason(out: npt.NDArray[np.object_], flag: npt.NDArray[np.bool_], text: Any) -> npt.NDArray[np.object_]:
    add = np.where(flag, text, "").astype(object)
    sep = np.where((out != "") & flag, "; ", "").astype(object)
    return np.asarray(out + sep + add, dtype=object)


def check_quality(
    table: pd.DataFrame,
    scales: ScaleLike | Sequence[ScaleLike],
    *,
    checks: Sequence[str] | None = None,
    seconds_per_item: float = DEFAULT_SECONDS_PER_ITEM,
    n_questions: int | None = None,
    longstring: int | Mapping[str, int] | None = None,
    max_inconsistent_pairs: int = 0,
    id_column: str = M.RESPONDENT_ID,
) -> pd.DataFrame:
    """Flag responses that may not reflect the student's real answers.

    Parameters
    ----------
    table : DataFrame
        The canonical table of :func:`screening.read_responses` (item columns
        ``{scale}_{item}`` holding option values; ``duration_s``,
        ``respondent_id``, ``complete`` where known). Never modified.
    scales : scale id, Scale, or a list of them
        The scales answered.
    checks : list of str, optional
        Which of :data:`CHECKS` to run. Default: every check whose input is in
        the table (``too_fast`` needs ``duration_s``; ``duplicate_id`` the id
        column; ``incomplete`` the ``complete`` column; ``longstring`` a
        threshold; ``inconsistent`` declared ``pairs``; ``unreadable`` the
        ``{scale}.n_unreadable`` counts). Naming a check whose input is absent is an error.
    seconds_per_item : float
        ``too_fast`` fires where ``duration_s / n_questions`` is below this.
        Default 2 s per item (Huang et al. 2012, see :data:`DEFAULT_SECONDS_PER_ITEM`).
    n_questions : int, optional
        Questions on the whole form. Default: the items of ``scales`` — if the
        form had more questions, time per question is overestimated and fewer
        students are flagged (the safe direction).
    longstring : int or mapping, optional
        Run of identical consecutive answers that flags a scale: one length for
        every scale or ``{scale: length}``. Default: the whole scale, and only
        for scales with reverse-keyed items (a project convention: no fixed
        published cut-off exists; Johnson 2005, Curran 2016).
    max_inconsistent_pairs : int
        ``inconsistent`` fires where more of the scale's ``pairs`` than this
        disagree. A pair disagrees when its keyed values (after the scale's
        reverse keying) differ by more than ``max_diff`` (``relation: same``),
        or when the first and the reversed second do (``relation: opposite``).
        A pair with an unanswered item is not counted.
    id_column : str
        Column holding the respondent id.

    Returns
    -------
    DataFrame
        Same index as ``table``: one boolean column per flag (see the module
        docstring) and the text column :data:`QUALITY_REASONS`.

    Examples
    --------
    >>> flags = sc.check_quality(table, "phq9")  # doctest: +SKIP
    >>> sc.score(table, "phq9", quality=flags)  # doctest: +SKIP
    """
    fname = "check_quality"
    _check_options(fname, table, checks, seconds_per_item, n_questions, max_inconsistent_pairs)
    sc_list = _load(scales, fname)
    thresholds = _longstring_thresholds(sc_list, longstring)
    run = _checks_to_run(fname, table, sc_list, thresholds, checks, id_column)
    n = len(table)
    X = {s.id: _items(table, s) for s in sc_list}

    # each check gives a flag per row and the reason shown where it fires; whole-response checks first
    found: list[tuple[str, npt.NDArray[np.bool_], Any]] = []
    if "empty" in run:
        found.append((C.quality_col(None, "empty"), *_empty(X, n)))
    if "too_fast" in run:
        n_items = n_questions or sum(len(s.items) for s in sc_list)
        found.append((C.quality_col(None, "too_fast"), *_too_fast(table, n_items, seconds_per_item)))
    if "duplicate_id" in run:
        found.append((C.quality_col(None, "duplicate_id"), *_duplicate_id(table, id_column)))
    if "incomplete" in run:
        found.append((C.quality_col(None, "incomplete"), *_incomplete(table)))
    for s in sc_list:
        if "longstring" in run and s.id in thresholds:
            found.append((C.quality_col(s.id, "longstring"), *_longstring(X[s.id], s, thresholds[s.id])))
        if "inconsistent" in run and s.spec.pairs:
            found.append((C.quality_col(s.id, "inconsistent"), *_inconsistent(X[s.id], s, max_inconsistent_pairs)))
        if "unreadable" in run and M.unreadable_col(s.id) in table.columns:
            found.append((C.quality_col(s.id, "unreadable"), *_unreadable(table, s)))

    reasons = np.full(n, "", dtype=object)
    for _, flag, text in found:
        reasons = _add_reason(reasons, flag, text)
    out = pd.DataFrame({name: pd.Series(flag, dtype=bool, index=table.index) for name, flag, _ in found},
                       index=table.index)
    out[QUALITY_REASONS] = pd.Series(reasons, index=table.index, dtype=str)
    return out


def _check_options(fname: str, table: Any, checks: Any, seconds_per_item: Any, n_questions: Any,
                   max_inconsistent_pairs: Any) -> None:
    """The parameters of :func:`check_quality` that do not need the scales."""
    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(f"The 'table' parameter of {fname} must be a pandas DataFrame. "
                                    f"Got {type(table).__name__} instead.")
    if not isinstance(seconds_per_item, (int, float)) or isinstance(seconds_per_item, bool) or not seconds_per_item > 0:
        raise InvalidParameterError(f"The 'seconds_per_item' parameter of {fname} must be a positive number. "
                                    f"Got {seconds_per_item!r} instead.")
    if n_questions is not None and (not isinstance(n_questions, int) or isinstance(n_questions, bool)
                                    or n_questions < 1):
        raise InvalidParameterError(f"The 'n_questions' parameter of {fname} must be a positive int or None. "
                                    f"Got {n_questions!r} instead.")
    if (not isinstance(max_inconsistent_pairs, int) or isinstance(max_inconsistent_pairs, bool)
            or max_inconsistent_pairs < 0):
        raise InvalidParameterError(f"The 'max_inconsistent_pairs' parameter of {fname} must be an int >= 0. "
                                    f"Got {max_inconsistent_pairs!r} instead.")
    if checks is not None:
        if isinstance(checks, str) or not isinstance(checks, (list, tuple)):
            raise InvalidParameterError(f"The 'checks' parameter of {fname} must be a list of {list(CHECKS)}. "
                                        f"Got {checks!r} instead.")
        for c in checks:
            check_choice(fname, "checks", c, CHECKS)


def _checks_to_run(fname: str, table: pd.DataFrame, sc_list: list[Scale], thresholds: Mapping[str, int],
                   checks: Sequence[str] | None, id_column: str) -> list[str]:
    """The checks asked for (default: every check whose input the table has), in :data:`CHECKS` order."""
    available = {
        "empty": bool(sc_list),
        "too_fast": M.DURATION_S in table.columns,
        "duplicate_id": id_column in table.columns,
        "incomplete": M.COMPLETE in table.columns,
        "longstring": bool(thresholds),
        "inconsistent": any(s.spec.pairs for s in sc_list),
        "unreadable": any(M.unreadable_col(s.id) in table.columns for s in sc_list),
    }
    needs = {"empty": "at least one scale", "too_fast": f"a {M.DURATION_S!r} column",
             "duplicate_id": f"an {id_column!r} column", "incomplete": f"a {M.COMPLETE!r} column",
             "longstring": "a longstring= run length", "inconsistent": "a scale that declares item pairs",
             "unreadable": "a '{scale}.n_unreadable' column (read_responses(on_invalid='missing'))"}
    if checks is None:
        run = [c for c in CHECKS if available[c]]
    else:
        absent = [c for c in checks if not available[c]]
        if absent:
            raise InvalidParameterError(
                f"The 'checks' parameter of {fname} must name checks whose input the table has. Got {absent} "
                f"instead, which need {', '.join(needs[c] for c in absent)}.")
        run = [c for c in CHECKS if c in checks]
    return run


_Flag = tuple[npt.NDArray[np.bool_], Any]  # the flag of every row, and the reason (one text, or one per row)


def _empty(X: Mapping[str, npt.NDArray[np.float64]], n: int) -> _Flag:
    answered = np.zeros(n, dtype=bool)
    for x in X.values():
        answered |= (~np.isnan(x)).any(axis=1)
    return ~answered, "nothing answered"


def _too_fast(table: pd.DataFrame, n_items: int, seconds_per_item: float) -> _Flag:
    d = pd.to_numeric(table[M.DURATION_S], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    per_item = d / max(n_items, 1)
    flag = ~np.isnan(per_item) & (per_item < seconds_per_item)
    text = ("too fast: " + np.round(per_item, 1).astype(str).astype(object)
            + f" s per item (under {seconds_per_item:g} s)")
    return flag, text


def _duplicate_id(table: pd.DataFrame, id_column: str) -> _Flag:
    ids = table[id_column]
    return (ids.notna() & ids.duplicated(keep=False)).to_numpy(dtype=bool), "respondent id appears on more than one row"


def _incomplete(table: pd.DataFrame) -> _Flag:
    flag = table[M.COMPLETE].astype("boolean").eq(False).fillna(False).to_numpy(dtype=bool)
    return flag, "not finished on the survey platform"


def _longstring(x: npt.NDArray[np.float64], s: Scale, threshold: int) -> _Flag:
    ls = longstring_lengths(x)
    return ls >= threshold, f"{s.id}: " + ls.astype(str).astype(object) + " identical answers in a row"


def _inconsistent(x: npt.NDArray[np.float64], s: Scale, max_inconsistent_pairs: int) -> _Flag:
    cs = s.compiled
    keyed = x * cs.sign + cs.offset
    index = {iid: k for k, iid in enumerate(cs.item_ids)}
    count = np.zeros(len(x), dtype=np.int64)
    for pair in s.spec.pairs:
        a, b = index[pair.items[0]], index[pair.items[1]]
        kb = keyed[:, b] if pair.relation == "same" else cs.lo[b] + cs.hi[b] - keyed[:, b]
        diff = np.abs(keyed[:, a] - kb)
        count += (~np.isnan(diff) & (diff > pair.max_diff)).astype(np.int64)
    text = f"{s.id}: " + count.astype(str).astype(object) + f" of {len(s.spec.pairs)} item pairs answered inconsistently"
    return count > max_inconsistent_pairs, text


def _unreadable(table: pd.DataFrame, s: Scale) -> _Flag:
    k = pd.to_numeric(table[M.unreadable_col(s.id)], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    return k > 0, f"{s.id}: " + k.astype(str).astype(object) + " unreadable answer(s)"

@dataclass(frozen=True)
class DedupReport:
    """What :func:`deduplicate` did, in counts only (never ids)."""

    rows_in: int
    rows_out: int
    duplicated_ids: int  # ids that appeared on more than one row
    rows_removed: int
    keep: str

    def __str__(self) -> str:
        if not self.rows_removed:
            return f"no duplicate ids among {self.rows_in} rows"
        return (f"removed {self.rows_removed} of {self.rows_in} rows: {self.duplicated_ids} id(s) appeared more "
                f"than once; kept the {self.keep} row of each")


def deduplicate(
    table: pd.DataFrame,
    id_column: str = M.RESPONDENT_ID,
    *,
    keep: Literal["first", "last", "error"] = "error",
    order_by: str | None = None,
) -> tuple[pd.DataFrame, DedupReport]:
    """Resolve respondents who appear more than once, as the caller chooses.

    Parameters
    ----------
    table : DataFrame
        Never modified. Rows with no id are always kept (they match nothing).
    id_column : str
        The respondent id column.
    keep : {"error", "first", "last"}
        ``error`` (default): raise :class:`~screening.errors.ResponseError`
        with the count and row positions of duplicated rows. ``first`` /
        ``last``: keep one row per id, by table order or by ``order_by``.
    order_by : str, optional
        Column deciding which row is first/last (e.g. ``submitted_at`` to keep
        the latest submission); missing values sort last. Default: table order.

    Returns
    -------
    (DataFrame, DedupReport)
        The kept rows in their original order with their original index
        labels, and the counts of what was removed.
    """
    fname = "deduplicate"
    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(f"The 'table' parameter of {fname} must be a pandas DataFrame. "
                                    f"Got {type(table).__name__} instead.")
    check_choice(fname, "keep", keep, ("first", "last", "error"))
    for name, col in (("id_column", id_column), ("order_by", order_by)):
        if col is not None and col not in table.columns:
            raise InvalidParameterError(f"The {name!r} parameter of {fname} must name a column of the table. "
                                        f"Got {col!r} instead.")
    ids = table[id_column]
    has_id = ids.notna().to_numpy()
    dup_all = (ids.duplicated(keep=False).to_numpy() & has_id)
    n_ids = int(ids[dup_all].nunique())
    if keep == "error":
        if dup_all.any():
            rows = tuple(int(r) for r in np.flatnonzero(dup_all)[:10])
            raise ResponseError([Issue("duplicate_id", f"{n_ids} respondent id(s) appear on more than one row",
                                       column=id_column, rows=rows, count=int(dup_all.sum()),
                                       hint="pass keep='first' or keep='last' (with order_by='submitted_at' to keep "
                                            "the latest submission), or fix the ids at the source")],
                                title="duplicate respondents")
        return table.copy(), DedupReport(len(table), len(table), 0, 0, keep)
    pos = np.arange(len(table))
    if order_by is not None:
        key = table[order_by].reset_index(drop=True)
        ranked = pd.DataFrame({"k": key, "p": pos}).sort_values(["k", "p"], na_position="last", kind="stable")
        order = ranked["p"].to_numpy()
    else:
        order = pos
    ordered_ids = ids.iloc[order].reset_index(drop=True)
    drop_sorted = ordered_ids.duplicated(keep=keep).to_numpy() & ordered_ids.notna().to_numpy()
    drop = np.zeros(len(table), dtype=bool)
    drop[order[drop_sorted]] = True
    out = table.loc[~drop].copy() if table.index.is_unique else table.iloc[np.flatnonzero(~drop)].copy()
    return out, DedupReport(len(table), len(out), n_ids, int(drop.sum()), keep)
