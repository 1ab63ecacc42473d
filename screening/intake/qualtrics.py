"""Qualtrics CSV/TSV (and .xlsx) exports with their three header rows.

Row 1 holds export tags (``Q1``, ``Q3_2``, ``Duration (in seconds)``,
``Finished``, ``ResponseId``), row 2 the question text, row 3 the ImportIds
(``{"ImportId":"QID3_2"}``), then one row per response
(https://www.qualtrics.com/support/survey-platform/data-and-analysis-module/data/download-data/understanding-your-dataset/).
Export tags are user-editable and ImportIds are stable, so items may be
mapped by either. Numeric ("recode value") exports are ambiguous — recode
values are user-editable — so they need ``response_format="index"`` or
``"value"`` said explicitly; choice-text exports map through the YAML labels.
``IPAddress`` and ``LocationLatitude/Longitude`` are dropped.
"""

from __future__ import annotations

import json

from ..errors import Issue
from . import meta as M
from .errors import ReadError
from .grid import Grid
from .source import Extract, from_grid

__all__ = ["N_HEADER_ROWS", "extract", "looks_like_qualtrics"]

N_HEADER_ROWS = 3
_META = {
    "ResponseId": M.RESPONDENT_ID,
    "StartDate": M.STARTED_AT,
    "EndDate": M.SUBMITTED_AT,
    "Duration (in seconds)": M.DURATION_S,
    "Finished": M.COMPLETE,
}


def _import_id(cell: str) -> str | None:
    cell = cell.strip()
    if not cell.startswith("{"):
        return None
    try:
        obj = json.loads(cell)
    except ValueError:
        return None
    return str(obj["ImportId"]) if isinstance(obj, dict) and "ImportId" in obj else None


def looks_like_qualtrics(grid: Grid) -> bool:
    """True when the third header row holds ImportIds (read with ``n_header_rows=3``)."""
    if len(grid.extra_header_rows) < 2:
        return False
    ids = [_import_id(str(c)) for c in grid.extra_header_rows[1]]
    return sum(i is not None for i in ids) >= max(1, len(ids) // 2)


def extract(grid: Grid) -> Extract:
    """An :class:`Extract` of a Qualtrics export read with three header rows."""
    if not looks_like_qualtrics(grid):
        raise ReadError([Issue("not_qualtrics", "the third row does not hold Qualtrics ImportIds "
                               '({"ImportId":"QID1"})', file=grid.file,
                               hint="export again from Qualtrics as CSV with 'Use legacy format' off, or read the "
                                    "file with source='csv'")], title=f"cannot read {grid.file}")
    ex = from_grid(grid, "qualtrics")
    for name, canonical in _META.items():
        if name in ex.frame.columns:
            ex.meta_cols[canonical] = name
    for col, cell in grid.extra_header_rows[1].items():
        iid = _import_id(str(cell))
        if iid is not None and iid != col:
            ex.aliases[iid] = str(col)
    ex.numeric_means = "ask"
    ex.complete_true = frozenset({"1", "true"})
    return ex
