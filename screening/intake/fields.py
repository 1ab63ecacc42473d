"""Parsing metadata columns: respondent ids as exact text, durations in seconds, timestamps.

Each parser works on the column's distinct cells, so a million rows cost a
few thousand conversions. Cells that cannot be read are reported with the
column, row positions and count (never their contents).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import Issue
from .grid import MAX_EXACT_FLOAT, blank_mask

__all__ = ["id_text", "parse_complete", "parse_datetime", "parse_duration", "rows_issue"]

MAX_ROWS = 10

_HMS = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)\s*(?:小时|时|h|hr|hours?))?\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:分钟|分|m|min|minutes?))?\s*"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:秒钟|秒|s|sec|seconds?))?$",
    re.I,
)
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)$")
_NO_TIME = frozenset({"", "--", "-", "—", "nan", "none"})


def rows_issue(code: str, message: str, mask: npt.NDArray[np.bool_], *, file: str, column: str,
               hint: str = "") -> Issue:
    """An issue naming the first row positions and the count of ``mask``."""
    rows = tuple(int(r) for r in np.flatnonzero(mask)[:MAX_ROWS])
    return Issue(code, message, file=file, column=column, rows=rows, count=int(mask.sum()), hint=hint)


def id_text(s: pd.Series, *, file: str, column: str, imprecise: npt.NDArray[np.bool_] | None = None
            ) -> tuple[pd.Series, list[Issue]]:
    """Respondent ids as exact text (``str`` dtype, NaN when empty).

    Integers stay exact; a float id beyond 2**53 (or a numeric Excel cell that
    large) has already lost digits and is an error, since ids must match.
    """
    issues: list[Issue] = []
    fast = _arrow_id_text(s)
    if fast is not None:
        out, sci = fast
        if sci is not None:
            imprecise = sci if imprecise is None else (imprecise | sci)
        if imprecise is not None and imprecise.any():
            issues.append(_precision_issue(imprecise, file, column))
        return out, issues
    blank = blank_mask(s)
    text: pd.Series
    if pd.api.types.is_bool_dtype(s.dtype):
        text = s.astype(str)
    elif pd.api.types.is_integer_dtype(s.dtype):
        text = s.astype("Int64").astype(str)
    elif pd.api.types.is_float_dtype(s.dtype):
        f = s.to_numpy(dtype=float, na_value=np.nan)
        big = ~np.isnan(f) & (np.abs(f) >= MAX_EXACT_FLOAT)
        frac = ~np.isnan(f) & (f != np.floor(np.nan_to_num(f)))
        imprecise = big if imprecise is None else (imprecise | big)
        text = pd.Series(np.where(np.isnan(f) | big | frac, "", np.nan_to_num(f).astype(np.int64).astype(str)),
                         index=s.index)
        text[frac] = s[frac].astype(str)
    else:
        stripped = s.astype("string").str.strip()
        # "4.40106E+18": Excel showed a long numeric id in scientific form and the CSV kept only that
        sci_s = stripped.str.fullmatch(r"[+-]?\d+(?:\.\d*)?[eE][+-]?\d+")
        if bool(sci_s.any(skipna=True)):  # the mask is built only when some cell matches (a million ids: none)
            sci = sci_s.fillna(False).to_numpy(dtype=bool)
            imprecise = sci if imprecise is None else (imprecise | sci)
        text = stripped.astype(object)
    if imprecise is not None and imprecise.any():
        issues.append(_precision_issue(imprecise, file, column))
    out = pd.Series(text.to_numpy(dtype=object), index=s.index, dtype=object)
    out[blank] = np.nan
    return out.astype(str), issues


_SCI = r"^[+-]?\d+(?:\.\d*)?[eE][+-]?\d+$"


def _precision_issue(imprecise: npt.NDArray[np.bool_], file: str, column: str) -> Issue:
    return rows_issue(
        "id_precision_lost", "ids stored as numbers too large to be exact: their last digits are already lost",
        imprecise, file=file, column=column,
        hint="in Excel, format the id column as Text (文本) and enter the ids again, or export them as text")


def _arrow_id_text(s: pd.Series) -> tuple[pd.Series, npt.NDArray[np.bool_] | None] | None:
    """:func:`id_text` of an Arrow-backed text column, computed by Arrow (no Python object per id); else None."""
    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s.array)
    if _all_digits(arr):
        # every filled id is a run of ASCII digits (the usual 学籍号 column): nothing to trim, no blank text,
        # no scientific notation, so the text is the id as it is (no copy)
        return pd.Series(pd.array(arr, dtype=str), index=s.index), None
    stripped = pc.utf8_trim_whitespace(arr)
    blank = pc.fill_null(pc.equal(stripped, ""), True)
    sci = None
    # the exponent letter is looked for first: a plain substring search is far cheaper than the pattern
    if pc.any(pc.match_substring(stripped, "e", ignore_case=True)).as_py() and \
            pc.any(pc.match_substring_regex(stripped, _SCI)).as_py():
        # "4.40106E+18": Excel showed a long numeric id in scientific form and the CSV kept only that
        sci = np.asarray(pc.fill_null(pc.match_substring_regex(stripped, _SCI), False).to_numpy(zero_copy_only=False),
                         dtype=bool)
    text = pc.if_else(blank, pa.scalar(None, type=stripped.type), stripped)
    return pd.Series(pd.array(text, dtype=str), index=s.index), sci


def _all_digits(arr: Any) -> bool:
    """True when every cell of an Arrow text array is a non-empty run of ASCII digits (no null, no blank).

    Read from the array's buffers: each cell's length from the offsets, and the smallest and largest byte
    of all the text (a digit is a byte from ``0`` to ``9``; any other character, spaces and every non-ASCII
    character included, has a byte outside that range). What ``pyarrow.compute.ascii_is_decimal`` says of
    each cell, a few times faster.
    """
    import pyarrow as pa

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for ch in chunks:
        if ch.null_count or not (pa.types.is_string(ch.type) or pa.types.is_large_string(ch.type)):
            return False
        if not len(ch):
            continue
        _, offsets_buf, data_buf = ch.buffers()
        width = np.dtype(np.int64) if pa.types.is_large_string(ch.type) else np.dtype(np.int32)
        offsets = np.frombuffer(offsets_buf, dtype=width)[ch.offset:ch.offset + len(ch) + 1].astype(np.int64,
                                                                                                     copy=False)
        if not bool((offsets[1:] > offsets[:-1]).all()):
            return False  # an empty cell
        if data_buf is None:
            return False
        text = np.frombuffer(data_buf, dtype=np.uint8)[int(offsets[0]):int(offsets[-1])]
        if int(text.min()) < ord("0") or int(text.max()) > ord("9"):
            return False
    return True


def _seconds_of(text: str) -> float:
    t = text.strip().casefold()
    if t in _NO_TIME:
        return np.nan
    try:
        return float(t)
    except ValueError:
        pass
    m = _CLOCK.match(t)
    if m:
        h, mi, se = m.groups()
        return float(h or 0) * 3600 + float(mi) * 60 + float(se)
    m = _HMS.match(t)
    if m and any(m.group(g) for g in ("h", "m", "s")):
        return sum(float(m.group(g) or 0) * w for g, w in (("h", 3600), ("m", 60), ("s", 1)))
    return -1.0  # marker: not a duration


def parse_duration(s: pd.Series, *, file: str, column: str) -> tuple[npt.NDArray[np.float64], list[Issue]]:
    """Seconds from ``123``, ``123秒``, ``2分3秒``, ``1小时2分3秒``, ``2:03``; ``--``/blank → NaN."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        out = s.to_numpy(dtype=float, na_value=np.nan)
        bad = out < 0
    else:
        codes, uniques = pd.factorize(s.astype("string").fillna(""))
        useconds = np.array([_seconds_of(str(u)) for u in uniques], dtype=float)
        out = useconds[codes] if len(useconds) else np.full(len(s), np.nan)
        bad = out < 0
    out = np.where(bad, np.nan, out)
    issues = []
    if bad.any():
        issues.append(rows_issue("unparseable_duration", "durations that are not seconds, 'N秒', 'N分N秒' or 'm:ss'",
                                 bad, file=file, column=column))
    return out, issues


def parse_datetime(s: pd.Series, *, file: str, column: str) -> tuple[pd.Series, list[Issue]]:
    """Timestamps as datetime64 (NaT when empty); text that is not a date is reported."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.reset_index(drop=True), []
    blank = blank_mask(s)
    text: pd.Series = s.astype("string").str.strip()
    text[blank] = pd.NA
    codes, uniques = pd.factorize(text)
    u = pd.Series(uniques, dtype="string")
    with warnings.catch_warnings():
        # format inference warns when it falls back to per-element parsing; the fallback is what we want
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(u, errors="coerce")
        left = parsed.isna() & u.notna()
        if left.any():
            parsed[left] = pd.to_datetime(u[left], errors="coerce", format="mixed")
    uvals = parsed.to_numpy()
    out = pd.Series(np.where(codes >= 0, uvals[np.maximum(codes, 0)] if len(uvals) else np.datetime64("NaT"),
                             np.datetime64("NaT")) if len(uvals) else np.full(len(s), np.datetime64("NaT", "us")))
    out = pd.to_datetime(out)
    bad = out.isna().to_numpy() & ~blank
    issues = []
    if bad.any():
        issues.append(rows_issue("unparseable_time", "cells that are not a date and time", bad,
                                 file=file, column=column))
    return out, issues


def parse_complete(s: pd.Series, true_values: frozenset[str], *, file: str,
                   column: str) -> tuple[pd.Series, list[Issue]]:
    """A finished/complete flag as a nullable boolean (NA when empty)."""
    blank = blank_mask(s)
    t = s.astype("string").str.strip().str.casefold()
    val = t.isin(true_values).to_numpy(dtype=bool)
    out = pd.array(val, dtype="boolean")
    out[blank] = pd.NA
    return pd.Series(out), []
