"""Turning one answer column into option values, through the scale's YAML option sets.

Every conversion works on the column's distinct cells (``pandas.factorize``),
never row by row: a column of a million answers has a handful of distinct
cells, each looked up once. A cell that is not an option is never guessed or
clipped; it is reported (by code, column, row positions and count, never by
its contents).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..scoring import Scale

__all__ = [
    "BAD_CODES",
    "FORMATS",
    "Converted",
    "ItemTarget",
    "arrow_numbers",
    "convert_arrow",
    "convert_column",
    "distinct_cells",
    "option_key",
    "targets_for",
    "text_as_numbers",
    "texts_as_numbers",
]

FORMATS = ("value", "index", "label", "codes")

#: Issue code → what it means, for messages.
BAD_CODES = {
    "not_a_number": "text where a number was expected",
    "invalid_value": "numbers that are not an option value of the item",
    "invalid_index": "option positions that are not whole numbers from 1",
    "option_count": "option positions beyond the item's number of options "
                    "(does the question have more options than the scale?)",
    "unknown_label": "answers that match no option label of the item",
    "unlabelled_code": "codes that have no value label in the file",
}

_PREFIX = re.compile(r"^[(（]?[a-z][.、)）:：]")
_SPACE = re.compile(r"\s+")


def option_key(text: object) -> str:
    """Normalise an option label for matching.

    Folds full/half width (NFKC) and case, removes all whitespace and a
    leading letter prefix such as ``A.``, ``A、``, ``(A)``, ``Ａ．``.
    """
    t = unicodedata.normalize("NFKC", str(text)).casefold()
    t = _SPACE.sub("", t)
    return _PREFIX.sub("", t)


@dataclass(frozen=True)
class ItemTarget:
    """What one item accepts: option values in form order, the sorted set, and label keys → value."""

    scale: str
    item: str
    option_values: npt.NDArray[np.float64]
    allowed: npt.NDArray[np.float64]
    labels: Mapping[str, float]
    option_names: tuple[str, ...]  # labels shown in hints


def targets_for(scale: Scale, extra_labels: Mapping[str, float] | None = None) -> list[ItemTarget]:
    """One :class:`ItemTarget` per item of ``scale``; ``extra_labels`` adds label → value pairs."""
    spec = scale.spec
    cs = scale.compiled
    out = []
    for k, item in enumerate(spec.items):
        opts = spec.option_sets[item.options]
        keys: dict[str, set[float]] = {}
        for o in opts:
            for text in (o.label.zh, o.label.en, *o.aliases):
                if text:
                    keys.setdefault(option_key(text), set()).add(float(o.value))
        for text, value in (extra_labels or {}).items():
            keys.setdefault(option_key(text), set()).add(float(value))
        # a key shared by two values is ambiguous once spaces and prefixes are folded: never match it
        labels = {key: next(iter(vals)) for key, vals in keys.items() if len(vals) == 1}
        names = tuple(str(o.label.zh or o.label.en) for o in opts)
        out.append(ItemTarget(spec.id, item.id, cs.option_values[k], cs.allowed[k], labels, names))
    return out


@dataclass
class Converted:
    """Option values of one column and the bad cells found, by issue code."""

    values: npt.NDArray[np.float64]
    bad: dict[str, npt.NDArray[np.bool_]]


def distinct_cells(s: pd.Series, missing_codes: frozenset[str]) -> tuple[npt.NDArray[np.intp], pd.Series]:
    """Factorise a column: codes per row (-1 = unanswered) and the distinct answered cells as stripped text."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        codes, uniques = pd.factorize(s)
        text = pd.Series(np.asarray(uniques, dtype=float)).map(repr)  # repr: exact, no rounding
        text = text.str.replace(r"\.0$", "", regex=True)
    else:
        codes, uniques = pd.factorize(s.astype("string"))
        text = pd.Series(uniques, dtype="string").str.strip().astype(object)
    codes = np.asarray(codes, dtype=np.intp)
    answered = ~(text.eq("") | text.isin(missing_codes)).to_numpy(dtype=bool)
    numeric_missing = [float(c) for c in missing_codes if pd.notna(pd.to_numeric(c, errors="coerce"))]
    if numeric_missing and len(text):
        # a skip code written as a number in another form (-3.0 from a float column)
        answered &= ~np.isin(_numbers(text.astype(str)), numeric_missing)
    if not answered.all():
        remap = np.where(answered, np.arange(len(text)), -1)
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return codes, text.reset_index(drop=True)


def _numbers(text: pd.Series) -> npt.NDArray[np.float64]:
    num = pd.to_numeric(text.str.replace(r"^\+", "", regex=True), errors="coerce")
    arr = np.array(num.to_numpy(dtype=float, na_value=np.nan), dtype=float)  # a writable copy
    arr[np.isinf(arr)] = np.nan
    return arr


def convert_column(
    s: pd.Series,
    target: ItemTarget,
    fmt: str,
    *,
    missing_codes: frozenset[str] = frozenset(),
    code_map: Mapping[float, float] | None = None,
    out: npt.NDArray[np.float64] | None = None,
) -> Converted:
    """Convert one column to option values of ``target``.

    ``fmt``: ``value`` (cells are option values), ``index`` (1-based option
    positions), ``label`` (option labels) or ``codes`` (numeric codes mapped
    through ``code_map``, e.g. SPSS value labels). Cells in ``missing_codes``
    (问卷星 -2/-3 skip codes) are unanswered. ``out``: where to write the values
    of a numeric column (a row of the table's block), saving a copy.
    """
    if fmt in ("value", "index") and pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return _convert_numbers(s, target, fmt, missing_codes, out)
    if fmt in ("value", "index"):
        numbers = text_as_numbers(s)
        if numbers is not None:  # every filled cell is a plain number: the numeric path, no text per distinct cell
            return _convert_numbers(pd.Series(numbers, index=s.index), target, fmt, missing_codes, out)
    codes, text = distinct_cells(s, missing_codes)
    nu = len(text)
    uval = np.full(nu, np.nan)
    ubad: dict[str, npt.NDArray[np.bool_]] = {}
    answered = np.zeros(nu, dtype=bool)
    if nu:
        used = np.zeros(nu, dtype=bool)
        used[codes[codes >= 0]] = True
        answered = used  # distinct cells that some answered row points to
    if fmt == "label":
        uval = np.array([target.labels.get(option_key(t), np.nan) for t in text], dtype=float) if nu else uval
        ubad["unknown_label"] = answered & np.isnan(uval)
    else:
        num = _numbers(text) if nu else uval
        ubad["not_a_number"] = answered & np.isnan(num)
        ok_num = answered & ~np.isnan(num)
        if fmt == "value":
            valid = ok_num & np.isin(num, target.allowed)
            ubad["invalid_value"] = ok_num & ~valid
            uval = np.where(valid, num, np.nan)
        elif fmt == "index":
            n_opts = len(target.option_values)
            whole = ok_num & (num == np.floor(np.nan_to_num(num))) & (num >= 1)
            ubad["invalid_index"] = ok_num & ~whole
            ubad["option_count"] = whole & (num > n_opts)
            good = whole & (num <= n_opts)
            pos = np.where(good, num, 1).astype(np.intp) - 1
            uval = np.where(good, target.option_values[pos], np.nan)
        elif fmt == "codes":
            cmap = dict(code_map or {})
            mapped = np.array([cmap.get(float(x), np.nan) if not np.isnan(x) else np.nan for x in num], dtype=float)
            ubad["unlabelled_code"] = ok_num & np.isnan(mapped)
            uval = mapped
        else:  # pragma: no cover - formats are validated by the caller
            raise ValueError(fmt)
    values = np.where(codes >= 0, uval[np.maximum(codes, 0)] if nu else np.nan, np.nan)
    bad = {}
    for code, ub in ubad.items():
        if ub.any():
            bad[code] = (codes >= 0) & ub[np.maximum(codes, 0)]
    return Converted(values=np.asarray(values, dtype=float), bad=bad)


def text_as_numbers(s: pd.Series) -> npt.NDArray[np.float64] | None:
    """A text column as float64 (NaN where empty) when every non-empty cell is a plain number; else None.

    Arrow parses the column in one pass. A column it cannot parse whole (a label, a skip code such as
    ``(跳过)``, padding spaces, ``nan``) gives None and is read cell by distinct cell as before, so the
    result is the one :func:`distinct_cells` would give.
    """
    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s.array)
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, type=arr.type), arr)
    try:
        num = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if pc.any(pc.is_nan(num)).as_py():
        return None  # the text "nan" is not a number to the text path: let it say so
    return np.asarray(num.to_numpy(zero_copy_only=False), dtype=np.float64)


def texts_as_numbers(columns: Sequence[pd.Series]) -> list[npt.NDArray[np.float64] | None]:
    """:func:`text_as_numbers` of several columns, parsed in parallel threads (Arrow releases the GIL)."""
    todo = [k for k, s in enumerate(columns) if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"]
    out: list[npt.NDArray[np.float64] | None] = [None] * len(columns)
    if len(todo) <= 1 or len(columns[todo[0]]) < 100_000:
        for k in todo:
            out[k] = text_as_numbers(columns[k])
        return out
    with ThreadPoolExecutor(max_workers=min(len(todo), os.cpu_count() or 1)) as pool:
        for k, v in zip(todo, pool.map(text_as_numbers, [columns[k] for k in todo]), strict=True):
            out[k] = v
    return out


def _convert_numbers(s: pd.Series, target: ItemTarget, fmt: str, missing_codes: frozenset[str],
                     out: npt.NDArray[np.float64] | None = None) -> Converted:
    """:func:`convert_column` for a numeric column, column-wise on the numbers (no text round trip).

    The same results as through :func:`distinct_cells` (whose text is the exact ``repr`` of each
    number, read back as the same number): blanks and numeric skip codes are unanswered, infinities
    are not numbers, and the value or position checks are those of the general path.
    """
    x = np.asarray(s.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    answered = ~np.isnan(x)
    numeric_missing = [float(c) for c in missing_codes if pd.notna(pd.to_numeric(c, errors="coerce"))]
    if numeric_missing:
        answered &= ~np.isin(x, numeric_missing)
    finite = np.isfinite(x)
    ok_num = answered & finite
    bad: dict[str, npt.NDArray[np.bool_]] = {}
    masks: dict[str, npt.NDArray[np.bool_]] = {"not_a_number": answered & ~finite}
    if fmt == "value":
        valid = ok_num & np.isin(x, target.allowed)
        masks["invalid_value"] = ok_num & ~valid
        if out is None:
            values = np.where(valid, x, np.nan)
        else:  # written in place: no temporary column (page faults on fresh memory cost as much as the work)
            np.copyto(out, x)
            out[~valid] = np.nan
            values = out
    else:
        n_opts = len(target.option_values)
        with np.errstate(invalid="ignore"):
            whole = ok_num & (x == np.floor(np.where(finite, x, 0.0))) & (x >= 1)
        masks["invalid_index"] = ok_num & ~whole
        masks["option_count"] = whole & (x > n_opts)
        good = whole & (x <= n_opts)
        pos = np.where(good, x, 1).astype(np.intp) - 1
        if out is None:
            values = np.where(good, target.option_values[pos], np.nan)
        else:
            np.take(target.option_values, pos, out=out)
            out[~good] = np.nan
            values = out
    for code, m in masks.items():
        if m.any():
            bad[code] = m
    return Converted(values=np.asarray(values, dtype=float), bad=bad)


def arrow_numbers(s: pd.Series) -> Any:
    """The Arrow array (``pyarrow.ChunkedArray``) behind a numeric Arrow-typed column; else None.

    Such columns come from the typed readers (Parquet number columns, CSV item columns parsed by Arrow as they
    are read), wrapped without a copy.
    """
    if not isinstance(s.dtype, pd.ArrowDtype):
        return None
    import pyarrow as pa

    t = s.dtype.pyarrow_dtype
    if not (pa.types.is_floating(t) or pa.types.is_integer(t)):
        return None
    return pa.chunked_array(pa.array(s.array))


_INT8 = (-128, 127)


def convert_arrow(s: pd.Series, target: ItemTarget, fmt: str, out: npt.NDArray[np.float64], *,
                  missing_codes: frozenset[str] = frozenset()) -> Converted | None:
    """:func:`convert_column` of a numeric Arrow column whose every cell is blank or a valid answer, into ``out``.

    Option values: the numbers are written into ``out`` first (blanks NaN), then checked there with a few
    vectorised passes (the minimum and maximum; ``x - floor(x)`` is 0 for whole numbers; membership only
    when the option values have holes). Option positions (``index``): a *safe* cast to int8 (it fails on
    a fraction, NaN, an infinity or anything beyond ±127) and the minimum and maximum, then a lookup. The
    check proves that no cell is bad; it never finds *which* ones are. So whenever some cell may be bad, or may
    be a numeric skip code, the result is None and the caller converts the column with
    :func:`convert_column`, which names every bad cell. When the result is not None, ``out`` holds
    exactly what :func:`convert_column` would give (blanks NaN, never 0).
    """
    if fmt not in ("value", "index"):
        return None
    arr = arrow_numbers(s)
    if arr is None or len(arr) != len(out):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    if fmt == "value":
        allowed = target.allowed
        if not len(allowed) or not np.array_equal(allowed, np.round(allowed)):
            return None
        lo, hi = float(allowed[0]), float(allowed[-1])
        holes = len(allowed) != hi - lo + 1  # option values such as 0, 1, 3: each cell must be an option itself
    else:
        lo, hi, holes = 1.0, float(len(target.option_values)), False
        lut = np.concatenate([[np.nan], np.asarray(target.option_values, dtype=np.float64)])
    if fmt == "index" and (lo < _INT8[0] or hi > _INT8[1]):
        return None
    numeric_missing = [float(c) for c in missing_codes if pd.notna(pd.to_numeric(c, errors="coerce"))]
    if any(lo <= m <= hi for m in numeric_missing):
        return None  # a skip code inside the answers' range: only the general path tells them apart
    if arr.null_count == len(arr):
        out[:] = np.nan
        return Converted(values=out, bad={})
    if fmt == "value":
        # the numbers themselves, blanks NaN (a -0 stays -0.0, as on the general path), then proven to be options
        from ._fast import compiled_for, copy_checked

        kernel = compiled_for(len(out))  # one compiled pass a chunk when numba is there
        pos = 0
        for chunk in arr.chunks:
            seg = out[pos:pos + len(chunk)]
            pos += len(chunk)
            done = None if kernel is None else copy_checked(kernel, chunk, seg, lo, hi)
            if done is not None:
                if not done:
                    return None
                continue
            try:
                num = pc.fill_null(pc.cast(chunk, pa.float64()), np.nan)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return None  # an integer beyond 2**53: not exact as a float, the general path reports it
            np.copyto(seg, num.to_numpy(zero_copy_only=False))
            if not _whole_in_range(seg, lo, hi):  # checked while the chunk is still in the cache
                return None
        if holes and not bool(np.all(np.isin(out, allowed) | np.isnan(out))):
            return None
        return Converted(values=out, bad={})
    try:
        small = pc.cast(arr, pa.int8())  # safe: raises on a fraction, NaN, ±inf, or beyond int8
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    mm = pc.min_max(small)
    if mm["min"].as_py() < lo or mm["max"].as_py() > hi:
        return None
    pos = 0
    for chunk in small.chunks:  # option positions 1..k → option values; a blank (null) takes position 0, NaN
        codes = pc.fill_null(chunk, pa.scalar(0, pa.int8())).to_numpy(zero_copy_only=False)
        np.take(lut, codes, out=out[pos:pos + len(chunk)])
        pos += len(chunk)
    return Converted(values=out, bad={})


_STEP = 1 << 16  # values per step of the check: the scratch array stays in the CPU cache


def _whole_in_range(x: npt.NDArray[np.float64], lo: float, hi: float) -> bool:
    """True when every value of ``x`` that is not NaN is a whole number from ``lo`` to ``hi`` (NaN = blank).

    Three passes a value (floor, subtract, max; the min and max of ``x``), vectorised: ``fmin``/``fmax``
    skip NaN, an infinity is beyond the range, and ``x - floor(x)`` is 0 exactly for whole numbers.
    """
    if len(x) == 0:
        return True
    mn, mx = np.fmin.reduce(x), np.fmax.reduce(x)
    if np.isnan(mn):
        return True  # every cell blank
    if not (lo <= mn and mx <= hi):
        return False
    scratch = np.empty(min(_STEP, len(x)))
    for a in range(0, len(x), _STEP):
        part = x[a:a + _STEP]
        frac = scratch[:len(part)]
        np.floor(part, out=frac)
        np.subtract(part, frac, out=frac)
        if np.fmax.reduce(frac) > 0:
            return False
    return True
