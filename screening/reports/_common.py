"""Helpers shared by the report modules: language, tier labels, action roles per student, ids."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._params import InvalidParameterError, check_choice

if TYPE_CHECKING:
    from ..screener.result import ScreeningResult
    from ..specs.rules import Action
    from .privacy import Key

__all__ = ["ROW", "action_combo", "combo_actions", "identify", "result_lang", "tier_codes"]

#: Name of the column holding each student's 0-based row position in the screened table.
ROW = "row"


def result_lang(result: ScreeningResult, lang: str | None, func: str) -> str:
    """``lang`` checked, or the language the result was screened in."""
    if lang is None:
        return str(result.provenance.get("options", {}).get("lang", "zh"))
    check_choice(func, "lang", lang, ("zh", "en"))
    return lang


def tier_codes(result: ScreeningResult) -> npt.NDArray[np.intp]:
    """Each student's tier as its position in the rule set's tiers (0 = lowest)."""
    return np.asarray(result.table["tier"].array.codes, dtype=np.intp)


def action_combo(result: ScreeningResult) -> npt.NDArray[np.int16]:
    """Outcome code per student (``tier * 4 + urgent * 2 + rescreen``), as tiering stored it in the result."""
    return result.outcome_codes()


def combo_actions(result: ScreeningResult) -> tuple[tuple[Action, ...], ...]:
    """The actions of each outcome code, from the rule set's action table (built once per rule set)."""
    return result.rules.action_table.actions


def identify(result: ScreeningResult, ids: Any, identifiable: bool, key: Key | None, func: str) -> pd.DataFrame:
    """The identifying columns of a student list: always ``row``; ``student_id`` and/or ``pseudonym`` on request."""
    n = len(result)
    out = pd.DataFrame({ROW: np.arange(n, dtype=np.int64)}, index=result.table.index)
    if ids is None:
        if identifiable or key is not None:
            raise InvalidParameterError(
                f"The 'ids' parameter of {func} must be given (a Series of student ids with the result's index, "
                "or the name of a group column) when identifiable=True or a key is given. Got None instead."
            )
        return out
    if not identifiable and key is None:
        raise InvalidParameterError(
            f"The 'identifiable' parameter of {func} must be True to list students by their ids "
            "(or give a pseudonymisation 'key' to list pseudonyms instead). Got False instead."
        )
    if isinstance(ids, str):
        if ids not in result.groups.columns:
            raise InvalidParameterError(
                f"The 'ids' parameter of {func} must be a Series or a column kept in result.groups "
                f"({list(result.groups.columns)}). Got a column name that is not there instead."
            )
        values = result.groups[ids]
    elif isinstance(ids, pd.Series):
        if not ids.index.equals(result.table.index):
            raise InvalidParameterError(
                f"The 'ids' parameter of {func} must have the same index, in the same order, as the screened table. "
                "Got a different index instead."
            )
        values = ids
    else:
        arr = np.asarray(ids, dtype=object)
        if arr.ndim != 1 or len(arr) != n:
            raise InvalidParameterError(
                f"The 'ids' parameter of {func} must hold one id per screened student ({n}). Got {arr.shape} instead."
            )
        values = pd.Series(arr, index=result.table.index)
    if identifiable:
        out["student_id"] = values.astype("string").to_numpy()
    if key is not None:
        from .privacy import pseudonymise

        out["pseudonym"] = pseudonymise(values, key).to_numpy()
    return out
