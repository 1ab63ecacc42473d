"""What every reader hands on: the file's columns plus which of them are metadata.

A reader (``wjx``, ``qualtrics`` …) only knows its platform's layout. It
returns an :class:`Extract`; :func:`screening.intake.read.read_responses` then
maps items, converts answers and parses metadata the same way for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import Issue
from . import meta as M
from .grid import Grid

__all__ = ["ID_NAMES", "Extract", "drop_private", "from_grid", "typed_extract"]

#: Column names taken as the respondent id by the generic readers when ``id_column`` is not given.
ID_NAMES: tuple[str, ...] = (M.RESPONDENT_ID, "student_id", "学籍号", "学号", "考号")


@dataclass
class Extract:
    """A file read by one platform reader, before items are mapped.

    Attributes
    ----------
    frame : DataFrame
        One column per file column (unique names), RangeIndex of data rows.
        Text readers give ``str`` columns; Parquet/SPSS keep their types.
    meta_cols : dict
        Canonical metadata name (:mod:`screening.intake.meta`) → file column.
    meta_values : dict
        Canonical metadata name → values already computed by the reader.
    consumed : set
        Columns that are neither items nor passed through (metadata, dropped
        platform totals, IP/location columns).
    numeric_means : str
        What a column of numbers means under ``response_format="auto"``:
        ``value``, ``index`` (问卷星), ``codes`` (SPSS/REDCap value labels) or
        ``ask`` (ambiguous: the caller must say).
    missing_codes : frozenset
        Cell texts meaning "not answered" (问卷星 -2/-3 skip codes).
    value_labels : dict
        Column → {code: label} from the file's codebook (SPSS, REDCap dictionary).
    aliases : dict
        Other names of columns (Qualtrics ImportIds, REDCap field names) → column.
    """

    frame: pd.DataFrame
    file: str
    source: str
    meta_cols: dict[str, str] = field(default_factory=dict)
    meta_values: dict[str, pd.Series] = field(default_factory=dict)
    consumed: set[str] = field(default_factory=set)
    numeric_means: str = "value"
    missing_codes: frozenset[str] = frozenset()
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    complete_true: frozenset[str] = frozenset({"1", "true", "yes", "是", "2", "complete"})
    derive_start: bool = False  # started_at = submitted_at − duration (问卷星 gives no start time)
    duplicated: dict[str, list[str]] = field(default_factory=dict)
    imprecise: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)
    text_cells: bool = True  # cells are text (CSV/Excel), so passthrough columns get lossless types
    issues: list[Issue] = field(default_factory=list)


def from_grid(grid: Grid, source: str) -> Extract:
    """An :class:`Extract` of a text grid, with IP/location columns dropped and canonical meta names found."""
    ex = Extract(frame=grid.frame, file=grid.file, source=source, duplicated=grid.duplicated,
                 imprecise=grid.imprecise)
    drop_private(ex)
    for name in M.META_COLUMNS:
        if name in ex.frame.columns:
            ex.meta_cols[name] = name
    if M.RESPONDENT_ID not in ex.meta_cols:
        hit = next((c for c in ID_NAMES if c in ex.frame.columns), None)
        if hit is not None:
            ex.meta_cols[M.RESPONDENT_ID] = hit
    return ex


def drop_private(ex: Extract) -> None:
    """Mark IP address and location columns as consumed, so they never reach the output."""
    for c in ex.frame.columns:
        if M.is_private_column(str(c)):
            ex.consumed.add(c)


def typed_extract(frame: pd.DataFrame, file: str, source: str) -> Extract:
    """An :class:`Extract` of a typed table (Parquet, SPSS): columns keep their types, canonical meta names found."""
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    ex = Extract(frame=frame, file=file, source=source, text_cells=False)
    drop_private(ex)
    for name in M.META_COLUMNS:
        if name in frame.columns:
            ex.meta_cols[name] = name
    if M.RESPONDENT_ID not in ex.meta_cols:
        hit = next((c for c in ID_NAMES if c in frame.columns), None)
        if hit is not None:
            ex.meta_cols[M.RESPONDENT_ID] = hit
    return ex
