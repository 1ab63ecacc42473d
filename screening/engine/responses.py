"""Turn input columns into float arrays of option values, column by column (never row by row).

Three input forms are understood, chosen explicitly by the caller:

- ``value``: the option values themselves (``0..3`` for PHQ-9);
- ``index``: 1-based option positions, as survey tools export (``1..4``);
- ``label``: option labels in Chinese or English (or a declared alias).

Blank cells and NaN are unanswered. Anything else that does not parse is
reported, never guessed: out-of-range values are checked later, chunk by
chunk, in :mod:`screening.engine.score`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .compile import CompiledScale, normalise_label

__all__ = ["ParsedColumn", "parse_column", "frame_column"]


@dataclass
class ParsedColumn:
    """One item column as option values; ``bad`` marks cells that could not be read (or None)."""

    values: npt.NDArray[np.float64]
    bad: npt.NDArray[np.bool_] | None
    checked: bool  # True when values are already known to be valid option values
    whole: bool = False  # True when every value is known to be a whole number (integer or bool input)


def _cell_text(v: Any) -> Any:
    missing = pd.isna(v)
    return v if isinstance(v, str) or (isinstance(missing, bool) and missing) else repr(v)


def as_text(s: pd.Series) -> pd.Series:
    """A column as pandas strings; odd objects (bytes that are not UTF-8 …) become their repr, never an error."""
    try:
        return s.astype("string")
    except (UnicodeDecodeError, TypeError, ValueError):
        # rare hostile cells only: this per-cell pass never runs for numbers or text
        return s.map(_cell_text).astype("string")


def _is_blank(s: pd.Series) -> npt.NDArray[np.bool_]:
    isna = s.isna().to_numpy()
    as_str = as_text(s)
    blank = as_str.str.strip().eq("").fillna(False).to_numpy(dtype=bool)
    return np.asarray(isna | blank, dtype=bool)


def _numeric(s: pd.Series) -> ParsedColumn:
    """A column as floats; text that is not a number is marked bad (never coerced to a value)."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return ParsedColumn(s.to_numpy(dtype=np.float64, na_value=np.nan), None, False, whole=True)
    if pd.api.types.is_complex_dtype(dtype):
        # 1+5j is not an option value: a non-zero imaginary part is unreadable, never dropped
        z = s.to_numpy(dtype=np.complex128, na_value=np.nan)
        bad = (z.imag != 0) | np.isinf(z.real)
        arr = np.where(bad, np.nan, z.real)
        return ParsedColumn(arr, bad if bad.any() else None, False)
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        if dtype == np.float64:
            # a view of the column: no pass over the data here (inf fails the range check later)
            return ParsedColumn(s.to_numpy(), None, False)
        arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return ParsedColumn(arr, None, False, whole=pd.api.types.is_integer_dtype(dtype))
    blank = _is_blank(s)
    num = pd.to_numeric(as_text(s).str.strip(), errors="coerce")
    arr = num.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(arr) & ~blank
    bad |= np.isinf(arr)
    arr[bad] = np.nan
    arr[blank] = np.nan
    return ParsedColumn(arr, bad if bad.any() else None, False)


def frame_column(frame: pd.DataFrame, pos: int) -> pd.Series | npt.NDArray[np.float64]:
    """The column at position ``pos``: a read-only view of its array when it is float64, else the Series.

    Selecting a Series costs ~10 µs per column (a one-student call reads 16 of them); the float64
    array is what scoring reads anyway. Uses pandas' ``_get_column_array`` where it exists, and the
    public ``iloc`` otherwise (same values).
    """
    get = getattr(frame, "_get_column_array", None)
    if get is not None:
        try:
            arr = get(pos)
        except Exception:  # pragma: no cover - a pandas without it, or a frame subclass that refuses
            arr = None
        if isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.ndim == 1:
            view = arr.view()
            view.flags.writeable = False  # never written, as a pandas copy-on-write view
            return view
    return frame.iloc[:, pos]


def parse_column(s: pd.Series | npt.NDArray[np.float64], k: int, cs: CompiledScale, response_format: str) -> ParsedColumn:
    """Read item ``k`` of ``cs`` from column ``s`` (a Series, or a float64 array) in the given ``response_format``."""
    if isinstance(s, np.ndarray):
        if response_format == "value":
            return ParsedColumn(s, None, False)
        s = pd.Series(s, copy=False)
    if response_format == "value":
        return _numeric(s)
    if response_format == "index":
        parsed = _numeric(s)
        idx = parsed.values
        opts = cs.option_values[k]
        ok = (idx >= 1) & (idx <= len(opts)) & (idx == np.floor(idx))
        answered = ~np.isnan(idx)
        bad = answered & ~ok
        if parsed.bad is not None:
            bad |= parsed.bad
        pos = np.where(ok, idx, 1).astype(np.intp) - 1
        values = np.where(ok, opts[pos], np.nan)
        return ParsedColumn(values, bad if bad.any() else None, True)
    # labels: match normalised text against the option set (and its aliases)
    blank = _is_blank(s)
    lookup = cs.label_maps[k]
    text = as_text(s)
    uniques, codes = np.unique(text.fillna("").to_numpy(dtype=object).astype(str), return_inverse=True)
    mapped = np.array([lookup.get(normalise_label(u), np.nan) for u in uniques], dtype=float)
    values = mapped[codes.ravel()]
    bad = np.isnan(values) & ~blank
    values[blank] = np.nan
    return ParsedColumn(values, bad if bad.any() else None, True)
