"""``read_responses``: one survey export in, one canonical table out (one row per respondent)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import columns as C
from .._params import Check, Interval, InvalidParameterError, ListOf, Options, describe, validate_params
from ..errors import Issue
from ..scoring import Scale, load_scale
from . import meta as M
from . import parquet, qualtrics, redcap, spss, wjx
from .detect import Detected, detect_items
from .errors import ReadError
from .fields import id_text, parse_complete, parse_datetime, parse_duration, rows_issue
from .grid import Grid, csv_head, infer_passthrough, read_csv_grid, read_csv_typed, read_excel_grid
from .groups import Recognised, recognise, yes_no
from .mapping import ColumnSpec, parse_questions, resolve_items
from .options import (
    BAD_CODES,
    ItemTarget,
    arrow_numbers,
    convert_arrow,
    convert_column,
    distinct_cells,
    option_key,
    targets_for,
    texts_as_numbers,
)
from .source import ID_NAMES, Extract, from_grid

__all__ = ["Plan", "Request", "apply_plan", "make_plan", "read_responses"]

Source = Literal["auto", "csv", "excel", "parquet", "spss", "wjx", "qualtrics", "redcap", "fhir"]
ScaleLike = str | Path | Scale | Mapping[str, Any]

_TEXT = (".csv", ".tsv", ".txt")
_WORKBOOK = (".xlsx", ".xlsm", ".xls")
_PARQUET = (".parquet", ".pq")


def _fail(issues: list[Issue], file: str) -> ReadError:
    return ReadError(issues, title=f"cannot read {file}")


def _grid(p: Path, *, sheet: str | int | None, header_row: int | None, encoding: str | None) -> Grid:
    suffix = p.suffix.lower()
    if suffix in _WORKBOOK:
        return read_excel_grid(p, sheet=sheet, header_row=header_row)
    grid, _ = read_csv_grid(p, encoding=encoding, header_row=header_row)
    return grid


def _as_qualtrics(grid: Grid) -> Grid:
    """Re-read the first two data rows of a grid as Qualtrics' 2nd and 3rd header rows."""
    if len(grid.frame) < 2:
        return grid
    extra = [grid.frame.iloc[0], grid.frame.iloc[1]]
    body = grid.frame.iloc[2:].reset_index(drop=True)
    return Grid(frame=body, file=grid.file, header_row=grid.header_row, duplicated=grid.duplicated,
                imprecise={k: v[2:] for k, v in grid.imprecise.items()}, extra_header_rows=extra)


def _extract(p: Path, source: str, *, sheet: str | int | None, header_row: int | None, encoding: str | None,
             dictionary: Any) -> Extract:
    file = str(p)
    suffix = p.suffix.lower()
    if source == "spss" or (source == "auto" and suffix == ".sav"):
        return spss.extract_sav(p, encoding)
    if source == "parquet" or (source == "auto" and suffix in _PARQUET):
        return parquet.extract_parquet(p)
    if suffix not in _TEXT + _WORKBOOK and source == "auto":
        raise _fail([Issue("unknown_format", f"cannot tell the format of a {suffix or 'suffix-less'} file", file=file,
                           hint="pass source= (csv, excel, parquet, spss, wjx, qualtrics, redcap)")], file)
    grid = _grid(p, sheet=sheet, header_row=header_row, encoding=encoding)
    return extract_grid(grid, grid_kind(grid, source, suffix, dictionary), dictionary, encoding)


def grid_kind(grid: Grid, source: str, suffix: str, dictionary: Any) -> str:
    """Which platform wrote a grid of text cells: ``qualtrics``, ``wjx``, ``redcap``, else ``excel``/``csv``."""
    if source == "qualtrics" or (source == "auto" and qualtrics.looks_like_qualtrics(_as_qualtrics(grid))):
        return "qualtrics"
    if source == "wjx" or (source == "auto" and wjx.looks_like_wjx(list(grid.frame.columns))):
        return "wjx"
    if source == "redcap" or (source == "auto" and dictionary is not None):
        return "redcap"
    return "excel" if suffix in _WORKBOOK else "csv"


def extract_grid(grid: Grid, kind: str, dictionary: Any = None, encoding: str | None = None,
                 first: bool = True) -> Extract:
    """The :class:`Extract` of a grid by the reader of platform ``kind`` (``first``: the grid starts at the header)."""
    if kind == "qualtrics":
        return qualtrics.extract(_as_qualtrics(grid) if first else grid)
    if kind == "wjx":
        return wjx.extract(grid)
    if kind == "redcap":
        return redcap.extract(grid, dictionary, encoding)
    return from_grid(grid, kind)


def _scales(scales: ScaleLike | Sequence[ScaleLike]) -> list[Scale]:
    if isinstance(scales, (str, Path, Scale, Mapping)):
        scales = [scales]
    if not isinstance(scales, (list, tuple)):
        raise InvalidParameterError(
            f"The 'scales' parameter of read_responses must be a scale id, a Scale or a list of them. "
            f"Got {type(scales).__name__} instead.")
    out = [load_scale(s) for s in scales]
    ids = [s.id for s in out]
    if len(set(ids)) != len(ids):
        raise InvalidParameterError(
            f"The 'scales' parameter of read_responses must name each scale once. Got {ids} instead.")
    return out


def _per_scale(name: str, value: Any, scale_ids: list[str], single_ok: bool) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping) and (not single_ok or set(map(str, value)) <= set(scale_ids)) and value:
        unknown = [k for k in value if k not in scale_ids]
        if unknown:
            raise InvalidParameterError(
                f"The {name!r} parameter of read_responses must be keyed by the scales read ({scale_ids}). "
                f"Got a mapping with {len(unknown)} other key(s) instead.")
        return dict(value)
    if len(scale_ids) == 1:
        return {scale_ids[0]: value}
    raise InvalidParameterError(
        f"The {name!r} parameter of read_responses must be a mapping {{scale id: ...}} when several scales are read. "
        f"Got {type(value).__name__} instead.")


def _auto_format(ex: Extract, cols: list[str], requested: str | None, sc: Scale) -> tuple[str, list[Issue]]:
    """The response format of one scale's columns under ``auto`` (decided on the cells, per scale)."""
    if requested in ("value", "index", "label"):
        return requested, []
    if requested is None and ex.source in ("csv", "excel", "parquet"):
        return "value", []
    numeric = text = 0
    for c in cols:
        codes, uniq = distinct_cells(ex.frame[c], ex.missing_codes)
        if not len(uniq):
            continue
        counts = np.bincount(codes[codes >= 0], minlength=len(uniq))
        isnum = pd.to_numeric(pd.Series(uniq, dtype=object), errors="coerce").notna().to_numpy()
        answered = ~(pd.Series(uniq).eq("") | pd.Series(uniq).isin(ex.missing_codes)).to_numpy()
        numeric += int(counts[isnum & answered].sum())
        text += int(counts[~isnum & answered].sum())
    if text > numeric:
        return "label", []
    if any(c in ex.value_labels for c in cols):
        return "codes", []
    means = ex.numeric_means
    if means == "index":
        numeric_labels = [k for t in targets_for(sc) for k in t.labels if pd.notna(pd.to_numeric(k, errors="coerce"))]
        if numeric_labels:
            return "index", [Issue("ambiguous_format", f"{sc.id}'s option labels are numbers, so numeric answers could "
                                   "be option text or option positions", file=ex.file, column=cols[0],
                                   hint="pass response_format='index' (按选项序号) or 'label' (按选项文本)")]
        return "index", []
    if means == "ask":
        return "value", [Issue("ambiguous_format", f"numeric answers for {sc.id}: recode values are user-editable, "
                               "so they may be option positions or scale values", file=ex.file, column=cols[0],
                               hint="pass response_format='index' (default recodes 1, 2, …) or 'value' (recoded to "
                                    "the scale's own values), or export choice text")]
    return "value", []


def _code_map(ex: Extract, col: str, target: ItemTarget) -> tuple[dict[float, float], list[Issue]]:
    labels = ex.value_labels.get(col, {})
    cmap: dict[float, float] = {}
    unknown = []
    for code, label in labels.items():
        value = target.labels.get(option_key(label))
        if value is None:
            unknown.append(label)
        else:
            cmap[code] = value
    if unknown:
        return cmap, [Issue("label_mismatch", f"value label(s) {unknown} are not options of {target.scale} item "
                            f"{target.item}", file=ex.file, column=col,
                            hint=f"options: {', '.join(target.option_names)}; is this the right column and scale? "
                                 f"add spellings with labels={{'{target.scale}': {{'<label>': <value>}}}}")]
    return cmap, []


def _convert(ex: Extract, col: str, target: ItemTarget, fmt: str, numbers: pd.Series | None = None,
             out: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray], list[Issue]]:
    s = ex.frame[col] if numbers is None else numbers
    if fmt == "codes":
        cmap, issues = _code_map(ex, col, target)
        if issues:
            return np.full(len(s), np.nan), {}, issues
        shifts = {v - k for k, v in cmap.items()}
        if not ex.text_cells and len(shifts) == 1 and pd.api.types.is_numeric_dtype(s.dtype):
            # labels say value = code + c for every labelled code: shift the column and check it as values,
            # so codes that carry no label (only the ends labelled) are still read correctly
            shift = shifts.pop()
            conv = convert_column(s.astype(float) + shift, target, "value", missing_codes=ex.missing_codes)
            return conv.values, conv.bad, []
        conv = convert_column(s, target, "codes", missing_codes=ex.missing_codes, code_map=cmap)
        return conv.values, conv.bad, []
    conv = convert_column(s, target, fmt, missing_codes=ex.missing_codes, out=out)
    return conv.values, conv.bad, []


def _value_issue(code: str, mask: np.ndarray, ex: Extract, col: str, target: ItemTarget, fmt: str) -> Issue:
    n_opts = len(target.option_values)
    hints = {
        "unknown_label": f"options of this item: {', '.join(target.option_names)}; add other spellings with "
                         f"labels={{'{target.scale}': {{'<label>': <value>}}}}, or pass response_format= if the "
                         "cells are numbers",
        "option_count": f"{target.scale} item {target.item} has {n_opts} options; map the right question "
                        "(start=/columns=) or check the export form",
        "invalid_value": f"option values of this item: {', '.join(f'{v:g}' for v in target.allowed)}; "
                         "if the cells are 1-based option positions pass response_format='index'",
        "not_a_number": "pass response_format='label' if the cells are option text",
        "invalid_index": f"positions run from 1 to {n_opts}",
        "unlabelled_code": "give every code a value label in the file, or read the codes as values",
    }
    return rows_issue(code, f"{int(mask.sum())} cell(s) with {BAD_CODES[code]} ({target.scale} item {target.item}, "
                      f"read as {fmt})", mask, file=ex.file, column=col, hint=hints.get(code, ""))


def _column_values(v: Any) -> Any:
    """A column for the output table: text and pandas' nullable types (a yes/no column with blanks: ``boolean``)
    stay as they are (no object round trip, which would turn ``<NA>`` into objects), the rest as numpy values."""
    if isinstance(v, pd.Series):
        return v.array if isinstance(v.dtype, pd.api.extensions.ExtensionDtype) else v.to_numpy()
    return v


def _frame(columns: Mapping[str, Any], index: pd.RangeIndex) -> pd.DataFrame:
    """Columns side by side without a copy (``DataFrame(dict)`` would stack same-typed numpy columns anew).

    Only number, boolean and time arrays made here for the table (writable, owning their memory) are taken
    as they are; a view of the file's frame is copied, so the table never shares memory with anything else,
    and object arrays get pandas' usual type inference.
    """
    parts = [pd.DataFrame(v.reshape(-1, 1), columns=[k], index=index, copy=False)
             if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "biufmM" and v.flags.writeable
             and v.flags.owndata
             else pd.DataFrame({k: v}, index=index)
             for k, v in columns.items()]
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=index)


def _constant_text(value: str, n: int) -> pd.Series:
    """``n`` copies of one text as a ``str`` column (built by Arrow, not as a million Python objects)."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency of the readers
        return pd.Series(np.full(n, value, dtype=object)).astype(str)
    raw = value.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int64) * len(raw)  # the buffers of the column, written directly
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw * n))
    return pd.Series(pd.array(arr, dtype=str))


def _meta(ex: Extract, n: int, issues: list[Issue]) -> dict[str, Any]:
    """The metadata columns (:data:`screening.intake.meta.META_COLUMNS`) in their output types."""
    out: dict[str, Any] = {}
    f, file = ex.frame, ex.file
    col = ex.meta_cols.get(M.RESPONDENT_ID)
    if col is not None:
        ids, found = id_text(f[col], file=file, column=col, imprecise=ex.imprecise.get(col))
        issues += found
        out[M.RESPONDENT_ID] = ids.array
    else:
        out[M.RESPONDENT_ID] = pd.array(np.full(n, np.nan, dtype=object), dtype=str)
    for name in (M.STARTED_AT, M.SUBMITTED_AT):
        if name in ex.meta_values:
            out[name] = pd.to_datetime(ex.meta_values[name]).to_numpy()
        elif name in ex.meta_cols:
            values, found = parse_datetime(f[ex.meta_cols[name]], file=file, column=ex.meta_cols[name])
            issues += found
            out[name] = values.to_numpy()
        else:
            out[name] = np.full(n, np.datetime64("NaT", "us"))
    if M.DURATION_S in ex.meta_cols:
        out[M.DURATION_S], found = parse_duration(f[ex.meta_cols[M.DURATION_S]], file=file,
                                                  column=ex.meta_cols[M.DURATION_S])
        issues += found
    else:
        out[M.DURATION_S] = np.full(n, np.nan)
    if ex.derive_start and M.STARTED_AT not in ex.meta_cols:
        out[M.STARTED_AT] = (pd.Series(pd.to_datetime(out[M.SUBMITTED_AT]))
                             - pd.to_timedelta(out[M.DURATION_S], unit="s")).to_numpy()
    if M.SOURCE in ex.meta_cols:
        out[M.SOURCE] = f[ex.meta_cols[M.SOURCE]].astype(str).array
    else:
        out[M.SOURCE] = _constant_text(ex.source, n).array
    if M.COMPLETE in ex.meta_values:
        out[M.COMPLETE] = ex.meta_values[M.COMPLETE].astype("boolean").array
    elif M.COMPLETE in ex.meta_cols:
        complete, _ = parse_complete(f[ex.meta_cols[M.COMPLETE]], ex.complete_true, file=file,
                                     column=ex.meta_cols[M.COMPLETE])
        out[M.COMPLETE] = complete.astype("boolean").array
    else:
        out[M.COMPLETE] = pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    return out


_SCALE = Check(lambda v: isinstance(v, (str, Path, Scale, Mapping)), "a scale id, a path, a Scale or a mapping")


@validate_params({
    "path": [str, Path, dict, list], "source": [Options("auto", *M.SOURCES)],
    "scales": [_SCALE, ListOf(_SCALE, "scale ids, paths or Scales")],
    "columns": [None, Mapping, list, tuple], "start": [None, int, str, Mapping],
    "response_format": [Options(None, "auto", "value", "index", "label")], "labels": [None, Mapping],
    "id_column": [None, str, int], "meta": [None, Mapping], "sheet": [None, str, int],
    "header_row": [None, Interval(int, 0, None)], "encoding": [None, str],
    "dictionary": [None, str, Path, pd.DataFrame, dict], "on_invalid": [Options("raise", "missing")],
    "keep_other": [bool, np.bool_],
})
def read_responses(
    path: str | Path,
    source: Source = "auto",
    scales: ScaleLike | Sequence[ScaleLike] = (),
    *,
    columns: Mapping[str, Sequence[ColumnSpec] | Mapping[str, ColumnSpec]] | Sequence[ColumnSpec] | None = None,
    start: int | str | Mapping[str, int | str] | None = None,
    response_format: Literal["auto", "value", "index", "label"] | None = None,
    labels: Mapping[str, Mapping[str, float]] | None = None,
    id_column: str | int | None = None,
    meta: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    dictionary: str | Path | pd.DataFrame | None = None,
    on_invalid: Literal["raise", "missing"] = "raise",
    keep_other: bool = True,
) -> pd.DataFrame:
    """Read a survey export into the canonical table that :func:`screening.score` takes directly.

    Parameters
    ----------
    path : str or Path
        The file: ``.csv/.tsv/.txt``, ``.xlsx/.xlsm/.xls``, ``.parquet``, ``.sav``.
    source : {"auto", "csv", "excel", "parquet", "spss", "wjx", "qualtrics", "redcap", "fhir"}
        Which platform wrote it. ``auto`` decides by suffix and header:
        问卷星 metadata columns → ``wjx``; an ImportId third row → ``qualtrics``;
        ``dictionary=`` given → ``redcap``; else a plain table. ``fhir`` (never
        auto) reads QuestionnaireResponse JSON, a Bundle, NDJSON or parsed
        resources; ``dictionary=`` is then the Questionnaire (see docs/fhir.md).
    scales : scale id, Scale, or a list of them
        The scales whose items the file holds.
    columns : list or mapping, optional
        Where each item is, per scale (``{"phq9": [...]}``; the bare list is
        allowed for one scale): a list in item order, or ``{item: column}``.
        A column is a header (``"Q3_1"``, a Qualtrics ImportId, a REDCap field
        name), a question number (``5``) or a matrix row (``(3, 2)``).
    start : int or str or mapping, optional
        Where each scale starts: a question number (PHQ-9 as questions 3–11
        → ``start=3``; also the first row of a matrix question) or a header.
        The number of consecutive answer columns must match the scale.
    response_format : {"auto", "value", "index", "label"}, optional
        What the item cells hold. Default: ``value`` for plain tables; decided
        from the cells for platform exports (问卷星: numbers are 按选项序号
        1-based positions, text is 按选项文本 option text; SPSS/REDCap: codes
        mapped through the file's value labels; Qualtrics numbers must be said).
    labels : mapping, optional
        Extra option spellings per scale: ``{"phq9": {"从来没有": 0}}``.
    id_column : str or int, optional
        The column (or question number) holding the respondent id, e.g. the
        学籍号 question. Default: 问卷星 ``序号``, Qualtrics ``ResponseId``,
        REDCap's record id, else a column named ``respondent_id``,
        ``student_id``, ``学籍号``, ``学号`` or ``考号``.
    meta : mapping, optional
        Other metadata columns: ``{"duration_s": "用时", "submitted_at": "交卷时间"}``.
    sheet, header_row : optional
        Excel sheet (name or 0-based position) and 0-based header row. By
        default the header is the first row that is neither blank nor a title
        (a single filled cell above a wider table).
    encoding : str, optional
        Force a text encoding (default: BOM, else UTF-8, else GB18030, else an error).
    dictionary : path or DataFrame, optional
        REDCap data dictionary (choices ``0, Not at all | 1, …``).
    on_invalid : {"raise", "missing"}
        A cell that is not an option: ``raise`` lists every such column with
        row positions and counts; ``missing`` sets it unanswered and counts it
        per row in ``{scale}.n_unreadable``.
    keep_other : bool
        Keep the file's other columns (class, sex, …) under their own headers.
        IP/location columns and platform totals (问卷星 ``总分``) are always dropped.

    Returns
    -------
    DataFrame
        One row per data row of the file (same count, same order, RangeIndex):
        metadata (:data:`screening.intake.meta.META_COLUMNS`), then each item as
        its option value (float, NaN unanswered) in ``{scale}_{item}``, then the
        other columns.

    Raises
    ------
    ReadError
        Listing every problem found, each with file, column, row positions and count.

    Examples
    --------
    >>> table = sc.read_responses("问卷星_按选项文本.xlsx", scales="phq9", start=3)  # doctest: +SKIP
    >>> sc.score(table, "phq9")  # doctest: +SKIP
    """
    if source == "fhir":  # QuestionnaireResponse JSON/Bundle/NDJSON; dictionary= is the Questionnaire (docs/fhir.md)
        from .fhir import read_fhir

        return read_fhir(path, scales, questionnaire=dictionary, columns=columns, on_invalid=on_invalid)
    req = _request(path, scales, columns, start, labels)
    typed = _typed(req, source, header_row=header_row, encoding=encoding, dictionary=dictionary,
                   response_format=response_format, id_column=id_column, meta=meta)
    if typed is not None:
        ex, plan = typed
    else:
        ex = _extract(req.path, source, sheet=sheet, header_row=header_row, encoding=encoding, dictionary=dictionary)
        plan = make_plan(ex, req, response_format=response_format, id_column=id_column, meta=meta)
    return apply_plan(ex, plan, on_invalid=on_invalid, keep_other=keep_other)


def _typed(req: Request, source: str, *, header_row: int | None, encoding: str | None, dictionary: Any,
           response_format: str | None, id_column: str | int | None,
           meta: Mapping[str, str] | None) -> tuple[Extract, Plan] | None:
    """The fast way in for a plain CSV or Parquet file: plan on the header, then read the items as numbers.

    When which column is which follows from the header alone (items named, placed by ``start=``/``columns=``,
    the format given or implied), the plan is made on the file's head; the whole file is then read once with
    the item columns parsed as numbers by Arrow (CSV) or kept as Arrow numbers (Parquet), and checked
    column-wise without a copy. None whenever that does not hold — another platform's export, items found by
    their answers, a cell that is not a plain number, anything irregular: the whole-file text path then reads
    the file (and reports any problem) exactly as before.
    """
    p, suffix = req.path, req.path.suffix.lower()
    head: Any = None
    if source == "parquet" or (source == "auto" and suffix in _PARQUET):
        head_ex = parquet.parquet_head(p)
    elif (source == "csv" or (source == "auto" and suffix in _TEXT)) and dictionary is None:
        head = csv_head(p, encoding=encoding, header_row=header_row)
        if head is None or grid_kind(head.grid, source, suffix, dictionary) != "csv":
            return None
        head_ex = from_grid(head.grid, "csv")
    else:
        return None
    if head_ex is None:
        return None
    try:
        plan = make_plan(head_ex, req, response_format=response_format, id_column=id_column, meta=meta)
    except ReadError:
        return None  # the whole-file path reports it
    if plan.from_cells:
        return None
    numbers = [c for sc in plan.scales if plan.formats[sc.id] in ("value", "index") for c in plan.mapped[sc.id]]
    if not numbers:
        return None
    if head is not None and any(v is None for v in texts_as_numbers([head.grid.frame[c] for c in numbers])):
        return None  # the head already holds a cell that is not a plain number: the text path, without a try
    if head is None:
        ex = parquet.extract_parquet_typed(p, numbers)
    else:
        grid = read_csv_typed(p, head, numbers)
        ex = None if grid is None else from_grid(grid, "csv")
    if ex is None or list(ex.frame.columns) != list(head_ex.frame.columns):
        return None
    return ex, plan


# --- the phases of read_responses -------------------------------------------------------------------------------
# 1. _request: check what the caller asked (scales, per-scale options, the file exists)
# 2. _extract: read the file with its platform's reader (grid.py, wjx.py, qualtrics.py, redcap.py, parquet.py, spss.py)
# 3. make_plan: decide, once, which column is which (metadata, items per scale and their format, ids, groups)
# 4. apply_plan: convert those columns of a table (the whole file, or each chunk of it: stream.py) and assemble


@dataclass(frozen=True)
class Request:
    """What the caller asked for, checked: the file and, per scale, where its items are."""

    path: Path
    file: str
    scales: list[Scale]
    columns: dict[str, Any]
    starts: dict[str, Any]
    labels: dict[str, Any]


@dataclass
class Plan:
    """Which column of the file is which, decided once (on the whole file or on its first chunk)."""

    scales: list[Scale]
    targets: dict[str, list[ItemTarget]]
    mapped: dict[str, list[str]]  # scale id -> item columns, in item order
    formats: dict[str, str]  # scale id -> value / index / label / codes
    meta_cols: dict[str, str]  # canonical metadata name -> column
    order: list[str]  # columns that are neither metadata nor consumed, in file order
    used: dict[str, str]  # item column -> scale id
    recognised: dict[str, Recognised]
    student_id: str | None  # a 学籍号 question also given as exact text under ``student_id``
    mapping_rows: list[dict[str, Any]]
    n_questions: int
    renamed: dict[str, str] = field(default_factory=dict)
    from_cells: bool = True  # decided on cells (items found by their answers, the format by counting), not names


def _request(path: Any, scales: ScaleLike | Sequence[ScaleLike], columns: Any, start: Any, labels: Any) -> Request:
    if not isinstance(path, (str, Path)):
        raise InvalidParameterError(f"The 'path' parameter of read_responses must be a str or Path (or, with "
                                    f"source='fhir', parsed FHIR JSON). Got {type(path).__name__} instead.")
    sc_list = _scales(scales)
    ids = [s.id for s in sc_list]
    col_specs = _per_scale("columns", columns, ids, single_ok=True)
    starts = _per_scale("start", start, ids, single_ok=True)
    extra_labels = _per_scale("labels", labels, ids, single_ok=False) if labels is not None else {}
    p = Path(path)
    if not p.is_file():
        raise _fail([Issue("file_not_found", "no such file", file=str(p))], str(p))
    return Request(p, str(p), sc_list, col_specs, starts, extra_labels)


def _meta_overrides(ex: Extract, id_column: str | int | None, meta: Mapping[str, str] | None) -> list[Issue]:
    """Apply ``id_column=`` and ``meta=`` to the reader's metadata columns."""
    issues: list[Issue] = []
    frame, file = ex.frame, ex.file
    if id_column is not None:
        if isinstance(id_column, int) and not isinstance(id_column, bool):
            hits = [q.column for q in parse_questions(list(frame.columns)).values() if q.number == id_column]
            id_col = hits[0] if len(hits) == 1 else None
        else:
            id_col = str(id_column) if str(id_column) in frame.columns else ex.aliases.get(str(id_column))
        if id_col is None:
            issues.append(Issue("missing_column", "id_column names a column the file does not have", file=file,
                                column=str(id_column)))
        else:
            ex.meta_cols[M.RESPONDENT_ID] = id_col
    for name, col in (meta or {}).items():
        if name not in M.META_COLUMNS:
            raise InvalidParameterError(f"The 'meta' parameter of read_responses must be keyed by "
                                        f"{list(M.META_COLUMNS)}. Got a mapping with another key ({describe(name)}) "
                                        "instead.")
        if col not in frame.columns:
            issues.append(Issue("missing_column", f"meta={{'{name}': …}} names a column the file does not have",
                                file=file, column=str(col)))
        else:
            ex.meta_cols[name] = col
            ex.meta_values.pop(name, None)
    return issues


def _to_detect(req: Request, order: list[str], questions: Mapping[str, Any]) -> list[Scale]:
    """Scales whose items are neither named nor placed by the caller: found by the cells (options, wording)."""
    return [sc for sc in req.scales if sc.id not in req.columns and sc.id not in req.starts and questions
            and not any(c in order for c in sc.input_columns())]


def _map_items(ex: Extract, req: Request, order: list[str], questions: Mapping[str, Any],
               response_format: str | None) -> tuple[dict[str, list[str]], dict[str, Detected], list[Issue]]:
    """Item columns per scale: explicit mappings and default names first, then scales found by options and wording."""
    issues: list[Issue] = []
    frame, file = ex.frame, ex.file
    mapped: dict[str, list[str]] = {}
    detected: dict[str, Detected] = {}
    to_detect = _to_detect(req, order, questions)
    for sc in req.scales:
        if sc in to_detect:
            continue
        cols, found = resolve_items(sc, order, questions, columns=req.columns.get(sc.id),
                                    start=req.starts.get(sc.id), aliases=ex.aliases, file=file)
        issues += found
        if cols is not None:
            mapped[sc.id] = cols
    kinds = {"label": ("labels",), "index": ("index",), "value": ("values",)}.get(
        response_format or "", ("labels", "index") if ex.numeric_means == "index" else ("labels", "values"))
    for sc in to_detect:
        det, found = detect_items(sc, frame, order, questions, targets_for(sc, req.labels.get(sc.id)),
                                  taken={c for cols in mapped.values() for c in cols}, missing_codes=ex.missing_codes,
                                  file=file, kinds=kinds)
        issues += found
        if det is not None:
            mapped[sc.id] = list(det.columns)
            detected[sc.id] = det
    return mapped, detected, issues


def _column_use(ex: Extract, mapped: Mapping[str, list[str]], meta_used: set[str]) -> tuple[dict[str, str], list[Issue]]:
    """Which scale each item column feeds; a column feeding two items, or a repeated header in use, is an issue."""
    issues: list[Issue] = []
    used: dict[str, str] = {}
    for sid, cols in mapped.items():
        for c in cols:
            if c in used:
                issues.append(Issue("column_reused", f"the column is mapped to an item of {used[c]} and of {sid}",
                                    file=ex.file, column=c))
            used[c] = sid
    for header, names in ex.duplicated.items():
        if any(nm in used or nm in meta_used for nm in names):
            issues.append(Issue("duplicate_column", f"the header appears {len(names)} times", file=ex.file,
                                column=header, hint="rename or delete the extra copies: which one holds the answers "
                                                    "cannot be guessed"))
    return used, issues


def make_plan(ex: Extract, req: Request, *, response_format: str | None = None, id_column: str | int | None = None,
              meta: Mapping[str, str] | None = None) -> Plan:
    """Decide which column is which: metadata, each scale's items and their format, ids and group columns.

    Raises :class:`ReadError` listing every mapping problem (missing or reused columns, an ambiguous format).
    """
    issues = list(ex.issues) + _meta_overrides(ex, id_column, meta)
    meta_used = set(ex.meta_cols.values())
    order = [c for c in ex.frame.columns if c not in ex.consumed and c not in meta_used]
    questions = parse_questions(order)
    mapped, detected, found = _map_items(ex, req, order, questions, response_format)
    issues += found
    used, found = _column_use(ex, mapped, meta_used)
    issues += found
    if issues:
        raise _fail(issues, ex.file)
    formats: dict[str, str] = {}
    for sc in req.scales:
        formats[sc.id], found = _auto_format(ex, mapped[sc.id], response_format, sc)
        issues += found
    if issues:
        raise _fail(issues, ex.file)
    frame_cols = set(ex.frame.columns)
    out_names = (set(M.META_COLUMNS) | {C.item_input_col(sc.id, it) for sc in req.scales for it in sc.items}
                 | {M.unreadable_col(sc.id) for sc in req.scales})
    recognised = {r.column: r for r in recognise([c for c in order if c not in used], taken=frame_cols | out_names)}
    rid = next((r for r in recognised.values() if r.kind == "id"), None)
    student_id = None
    if rid is not None and rid.column != ex.meta_cols.get(M.RESPONDENT_ID) and "student_id" not in frame_cols:
        student_id = rid.column
    mapping_rows = _mapping_rows(req.scales, mapped, detected, questions, req.starts, req.columns)
    if student_id is not None:
        mapping_rows.append({"what": "student_id", "kind": "id", "columns": student_id, "how": "wording; exact text"})
    renamed = {col: r.name for col, r in recognised.items() if col not in used and r.kind != "id"}
    # a plan made on the header alone holds for any rows under it (the typed readers plan on the file's head)
    from_cells = bool(_to_detect(req, order, questions)) or (
        response_format not in ("value", "index", "label")
        and not (response_format is None and ex.source in ("csv", "excel", "parquet")))
    return Plan(scales=req.scales, targets={sc.id: targets_for(sc, req.labels.get(sc.id)) for sc in req.scales},
                mapped=mapped, formats=formats, meta_cols=dict(ex.meta_cols), order=order, used=used,
                recognised=recognised, student_id=student_id, mapping_rows=mapping_rows,
                n_questions=len({q.number for q in parse_questions(list(ex.frame.columns)).values()}),
                renamed=renamed, from_cells=from_cells)


def _convert_items(ex: Extract, plan: Plan, on_invalid: str) -> tuple[dict[str, pd.DataFrame], list[Issue]]:
    """Each scale's items as option values (one float block per scale) and, with ``missing``, unreadable counts."""
    n = len(ex.frame)
    issues: list[Issue] = []
    parts: dict[str, pd.DataFrame] = {}
    # text cells that are all plain numbers are parsed by Arrow, all columns at once (threads; the GIL is released)
    numeric_cols = [c for sc in plan.scales if plan.formats[sc.id] in ("value", "index") for c in plan.mapped[sc.id]]
    blocks = {sc.id: np.empty((len(plan.mapped[sc.id]), n), dtype=np.float64) for sc in plan.scales}
    # columns a typed reader gave as Arrow numbers: proven valid and written into the block in parallel threads
    done = _convert_typed(ex, plan, blocks)
    numbers = {c: pd.Series(v, index=ex.frame.index)
               for c, v in zip(numeric_cols, texts_as_numbers([ex.frame[c] for c in numeric_cols]), strict=True)
               if v is not None}
    for sc in plan.scales:
        cols, fmt = plan.mapped[sc.id], plan.formats[sc.id]
        block = blocks[sc.id]  # one block: the table is assembled without a copy
        unreadable = np.zeros(n, dtype=np.int64)
        for k, (col, target) in enumerate(zip(cols, plan.targets[sc.id], strict=True)):
            if (sc.id, k) in done:
                continue
            row = block[k]
            values, bad, found = _convert(ex, col, target, fmt, numbers.pop(col, None), out=row)
            issues += found
            if values is not row:  # converted elsewhere (text, codes): copy into the block
                row[:] = values
            if bad:
                any_bad = np.zeros(n, dtype=bool)
                for code, mask in bad.items():
                    any_bad |= mask
                    if on_invalid == "raise":
                        issues.append(_value_issue(code, mask, ex, col, target, fmt))
                row[any_bad] = np.nan
                unreadable += any_bad
        names = [C.item_input_col(sc.id, item) for item in sc.items]
        part = pd.DataFrame(block.T, columns=names, index=pd.RangeIndex(n), copy=False)
        if on_invalid == "missing":
            part = pd.concat([part, pd.DataFrame({M.unreadable_col(sc.id): unreadable}, index=part.index)], axis=1)
        parts[sc.id] = part
    return parts, issues


def _convert_typed(ex: Extract, plan: Plan, blocks: Mapping[str, np.ndarray]) -> set[tuple[str, int]]:
    """Item columns held as Arrow numbers, each checked and written into its row of the scale's block.

    Returns the (scale, item position) pairs done; any other column (text, or one with a cell that needs a
    closer look) is left to :func:`_convert`, which reports every bad cell.
    """
    jobs = [(sc.id, k, col, target, plan.formats[sc.id])
            for sc in plan.scales if plan.formats[sc.id] in ("value", "index")
            for k, (col, target) in enumerate(zip(plan.mapped[sc.id], plan.targets[sc.id], strict=True))
            if arrow_numbers(ex.frame[col]) is not None]
    if not jobs:
        return set()

    def one(job: tuple[str, int, str, ItemTarget, str]) -> bool:
        sid, k, col, target, fmt = job
        return convert_arrow(ex.frame[col], target, fmt, blocks[sid][k], missing_codes=ex.missing_codes) is not None

    if len(jobs) > 1 and len(ex.frame) >= 100_000:  # Arrow and numpy release the GIL: the columns run side by side
        with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
            ok = list(pool.map(one, jobs))
    else:
        ok = [one(j) for j in jobs]
    return {(sid, k) for (sid, k, *_), good in zip(jobs, ok, strict=True) if good}


def _other_columns(ex: Extract, plan: Plan, keep_other: bool, taken: set[str],
                   typed: bool = True) -> tuple[dict[str, Any], list[Issue], list[dict[str, Any]]]:
    """The 学籍号 question as ``student_id``, recognised group/flag columns under their canonical names, the rest.

    ``typed``: text columns get a numeric or boolean type where that is lossless (:func:`infer_passthrough`);
    chunks keep them as text, since a type guessed per chunk could differ from chunk to chunk.
    """
    guess = infer_passthrough if ex.text_cells and typed else (lambda s: s)
    frame, file = ex.frame, ex.file
    out: dict[str, Any] = {}
    issues: list[Issue] = []
    rows: list[dict[str, Any]] = []
    checked: set[str] = set()
    if plan.student_id is not None:
        ids_, found = id_text(frame[plan.student_id], file=file, column=plan.student_id,
                              imprecise=ex.imprecise.get(plan.student_id))
        issues += found
        out["student_id"] = ids_
        checked = {plan.student_id}
    issues += _precision_issues(ex, [c for c in plan.order if c not in checked], plan.used, plan.recognised)
    if issues:
        return out, issues, rows
    index_download = ex.numeric_means == "index"
    notes: dict[str, str] = {}
    for col in plan.renamed:
        r = plan.recognised[col]
        if r.kind == "flag":
            yn = yes_no(frame[col], index_download=index_download)
            if yn is not None:
                notes[col] = yn[1]
        elif index_download and pd.to_numeric(frame[col], errors="coerce").notna().any():
            notes[col] = "option numbers (按选项序号: 1 = first option)"
    if not keep_other:
        return out, issues, rows
    taken = taken | set(out)
    for c in plan.order:
        if c in plan.used:
            continue
        name = plan.renamed.get(c, c)
        if name != c and name not in taken and name not in frame.columns:
            # a recognised group or risk-group question: also given under its canonical name
            r = plan.recognised[c]
            yn = yes_no(frame[c], index_download=index_download) if r.kind == "flag" else None
            out[name] = yn[0].array if yn is not None else guess(frame[c])
            taken.add(name)
            rows.append({"what": r.name, "kind": r.kind, "columns": c, "how": notes.get(c, "wording")})
        if c in taken:
            issues.append(Issue("column_clash", "the file has its own column with the name of an output column",
                                file=file, column=c, hint="rename it in the file, or pass keep_other=False"))
            continue
        out[c] = guess(frame[c])
        taken.add(c)
    return out, issues, rows


def apply_plan(ex: Extract, plan: Plan, *, on_invalid: str = "raise", keep_other: bool = True,
               typed_others: bool = True) -> pd.DataFrame:
    """Convert the planned columns of ``ex.frame`` and assemble the canonical table (see :func:`read_responses`).

    ``typed_others=False`` (chunks) keeps the file's other text columns as text rather than guessing a type.
    """
    n = len(ex.frame)
    ex.meta_cols = dict(plan.meta_cols)
    issues: list[Issue] = []
    meta_out = _meta(ex, n, issues)
    items, found = _convert_items(ex, plan, on_invalid)
    issues += found
    if issues:
        raise _fail(issues, ex.file)
    taken = set(meta_out) | {c for part in items.values() for c in part.columns}
    others, found, rows = _other_columns(ex, plan, keep_other, taken, typed_others)
    if found:
        raise _fail(found, ex.file)
    index = pd.RangeIndex(n)
    pieces = [_frame(meta_out, index), *items.values()]
    if others:
        pieces.append(_frame({k: _column_values(v) for k, v in others.items()}, index))
    table = pd.concat(pieces, axis=1) if len(pieces) > 1 else pieces[0]
    table.attrs["screening"] = {"mapping": plan.mapping_rows + rows, "file": ex.file, "source": ex.source,
                                "n_questions": plan.n_questions}
    return table


def _precision_issues(ex: Extract, order: list[str], used: Mapping[str, str],
                      recognised: Mapping[str, Recognised]) -> list[Issue]:
    """Every column that may hold ids gets the precision check, not only the one taken as respondent id.

    A number of 16 digits or more stored in an Excel cell has already lost its last digits (a 19-digit
    学籍号 …819 reads back as …808); text written in scientific notation (``4.40106E+18``) has too.
    """
    issues: list[Issue] = []
    id_col = ex.meta_cols.get(M.RESPONDENT_ID)
    for c in order:
        if c in used or c == id_col:
            continue  # items (a bad number is an invalid answer) and the id column (checked by id_text)
        mask = ex.imprecise.get(c)
        if mask is None or not mask.any():
            looks_id = (c in recognised and recognised[c].kind == "id") or c in ID_NAMES
            if not looks_id or not ex.text_cells:
                continue
            sci = ex.frame[c].astype("string").str.strip().str.fullmatch(r"[0-9](?:\.[0-9]+)?[eE]\+?[0-9]+")
            mask = sci.fillna(False).to_numpy(dtype=bool)
            if not mask.any():
                continue
        issues.append(rows_issue(
            "id_precision_lost", "numbers too long to be exact (an id such as a 学籍号 stored as a number): their last "
            "digits are already lost", mask, file=ex.file, column=c,
            hint="in Excel, format the column as Text (文本) and enter the ids again, or download the export as CSV"))
    return issues


def _mapping_rows(sc_list: Sequence[Scale], mapped: Mapping[str, list[str]], detected: Mapping[str, Detected],
                  questions: Mapping[str, Any], starts: Mapping[str, Any], col_specs: Mapping[str, Any]
                  ) -> list[dict[str, Any]]:
    rows = []
    for sc in sc_list:
        cols = mapped.get(sc.id, [])
        nums = [questions[c].number for c in cols if c in questions]
        if sc.id in detected:
            d = detected[sc.id]
            how = {"labels": "option text", "index": "option numbers (按选项序号)", "values": "option values"}[d.how]
            how = f"found by {how}; wording match {d.wording:.2f}"
        elif sc.id in starts:
            how = "start="
        elif sc.id in col_specs:
            how = "columns="
        else:
            how = "column names"
        where = (f"Q{nums[0]}–Q{nums[-1]}" if len(set(nums)) > 1 else f"Q{nums[0]}") if nums else ""
        rows.append({"what": sc.id, "kind": "scale", "columns": f"{where} {cols[0]} … {cols[-1]}".strip() if cols else "",
                     "how": how})
    return rows
