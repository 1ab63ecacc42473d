"""Raw grids: a file's cells as text, with its header row found and checked.

CSV and Excel files are read with no type guessing: every cell becomes text
first, so a 学籍号 such as ``4401061234567890123`` or ``0012`` is kept exactly
as written. Item columns are turned into option values later
(:mod:`screening.intake.options`); other columns are given a numeric type only
where that loses nothing (:func:`infer_passthrough`).
"""

from __future__ import annotations

import codecs
import csv
import importlib.util
import io
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import Issue
from .encoding import read_text
from .errors import ReadError

__all__ = [
    "MAX_EXACT_FLOAT",
    "Grid",
    "blank_mask",
    "CsvHead",
    "cells_to_text",
    "csv_head",
    "infer_passthrough",
    "promote_header",
    "read_csv_grid",
    "read_csv_typed",
    "read_excel_grid",
    "require",
]

#: Integers above 2**53 cannot all be held exactly by a float: an ID stored as a number beyond it is corrupt.
MAX_EXACT_FLOAT = 2.0**53
HEADER_SCAN = 20  # rows searched for the header row


@dataclass
class Grid:
    """A table of text cells under a checked header.

    ``frame`` has unique column names (a repeated header gets ``.1``, ``.2`` …
    appended and is listed in ``duplicated``) and a RangeIndex of data rows.
    ``imprecise`` marks, per column, numeric Excel cells too large to be exact.
    """

    frame: pd.DataFrame
    file: str
    header_row: int  # 0-based row of the file/sheet holding the header
    duplicated: dict[str, list[str]] = field(default_factory=dict)  # header -> the column names it got
    imprecise: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)
    extra_header_rows: list[pd.Series] = field(default_factory=list)
    columns_kept: list[int] = field(default_factory=list)  # positions (in the raw rows) of ``frame``'s columns


def require(module: str, what: str) -> None:
    """Raise ImportError with an install hint when an optional dependency is missing."""
    if importlib.util.find_spec(module) is None:
        raise ImportError(
            f"reading {what} needs the optional package {module!r}: "
            f"pip install 'screening[io]' (or pip install {module})"
        )


def blank_mask(s: pd.Series) -> npt.NDArray[np.bool_]:
    """True where a cell is empty: NaN/None or only whitespace."""
    isna = s.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return np.asarray(isna, dtype=bool)
    text = s.astype("string").str.strip()
    return np.asarray(isna | text.eq("").fillna(True).to_numpy(dtype=bool), dtype=bool)


def cells_to_text(s: pd.Series) -> tuple[pd.Series, npt.NDArray[np.bool_] | None]:
    """A column of spreadsheet cells as text (``str`` dtype, ``""`` for empty).

    Integral numbers are written without ``.0`` (Excel stores 20230101 as a
    float); numbers beyond 2**53 are marked in the returned mask because their
    digits are no longer the ones typed.
    """
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("string", "empty"):
        return s.fillna("").astype(str), None
    if kind in ("integer", "floating", "mixed-integer-float") and len(s) > 64:
        # numbers only: convert each distinct number once (a column of answers holds a handful), then gather
        codes, uniques = pd.factorize(s)
        utext, uimprecise = cells_to_text(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
        taken = np.asarray(codes, dtype=np.intp)
        text_arr = np.where(taken >= 0, utext.to_numpy(dtype=object)[np.maximum(taken, 0)] if len(utext) else "", "")
        mask = None
        if uimprecise is not None:
            mask = (taken >= 0) & uimprecise[np.maximum(taken, 0)]
        return pd.Series(text_arr, index=s.index, dtype=object).astype(str), mask
    kinds = s.map(type)  # element types: str, int, float, bool, datetime … (no per-row logic)
    text = s.astype(str)
    is_float = kinds.eq(float).to_numpy()  # type: ignore[arg-type]  # pandas-stubs: eq() takes any object
    imprecise = None
    is_int = kinds.eq(int).to_numpy()  # type: ignore[arg-type]  # pandas-stubs: eq() takes any object
    if is_int.any():
        # every Excel number is a double: an integer beyond 2**53 read back from a cell has lost digits
        big_int = np.abs(pd.to_numeric(s[is_int], errors="coerce").to_numpy(dtype=float)) >= MAX_EXACT_FLOAT
        if big_int.any():
            imprecise = np.zeros(len(s), dtype=bool)
            imprecise[np.flatnonzero(is_int)[big_int]] = True
    if is_float.any():
        f = pd.to_numeric(s[is_float], errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(f)
        big = finite & (np.abs(f) >= MAX_EXACT_FLOAT)
        integral = finite & ~big & (f == np.floor(np.where(finite, f, 0)))
        fixed = text[is_float].to_numpy(dtype=object)
        fixed[integral] = f[integral].astype(np.int64).astype(str)
        fixed[~finite] = ""
        text = text.copy()
        text[is_float] = fixed
        if big.any():
            imprecise = np.zeros(len(s), dtype=bool) if imprecise is None else imprecise
            imprecise[np.flatnonzero(is_float)[big]] = True
    empty = s.isna().to_numpy()
    if empty.any():
        text = text.copy()
        text[empty] = ""
    return text.astype(str), imprecise


def _filled(raw: pd.DataFrame, lo: int, hi: int, cols: Sequence[int]) -> npt.NDArray[np.bool_]:
    """Rows ``lo:hi`` × ``cols`` of ``raw`` (positions): True where a cell is not blank."""
    hi = max(lo, min(hi, raw.shape[0]))
    if not len(cols):
        return np.zeros((hi - lo, 0), dtype=bool)
    return np.column_stack([~blank_mask(raw.iloc[lo:hi, c]) for c in cols]).reshape(hi - lo, len(cols))


def _last_used_row(raw: pd.DataFrame, start: int, width: int) -> int:
    """Rows from ``start`` up to the last row with a filled cell in the first ``width`` columns (0 if none)."""
    end, block = raw.shape[0], 1024
    while end > start:
        lo = max(start, end - block)
        used = _filled(raw, lo, end, range(width)).any(axis=1)
        if used.any():
            return lo + int(np.flatnonzero(used).max()) + 1 - start
        end, block = lo, block * 4
    return 0


def _column_letter(k: int) -> str:
    out = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        out = chr(65 + r) + out
    return out


def promote_header(raw: pd.DataFrame, file: str, header_row: int | None, n_header_rows: int = 1) -> Grid:
    """Find and check the header row of a grid of text cells (columns 0..m-1, no header yet).

    Parameters
    ----------
    raw : DataFrame
        Text cells, ``""`` or NaN for empty.
    header_row : int, optional
        0-based row of the header. Default: the first row that is not blank and
        is not a title (a row with a single filled cell above a wider table).
    n_header_rows : int
        Rows taken by the header (Qualtrics: 3); the ones after the first are
        returned in ``extra_header_rows``.
    """
    m = raw.shape[1]
    nrows = raw.shape[0]
    if nrows == 0 or m == 0:
        raise ReadError([Issue("empty_file", "the file has no rows", file=file)], title=f"cannot read {file}")
    # blank cells are looked at in the head (header search) and the tail (trailing blank rows) only: a column
    # or row is read in full only when the head leaves its question open (a column empty in the head)
    n_head = min(nrows, max(HEADER_SCAN, (header_row or 0) + n_header_rows + 1))
    head_filled = _filled(raw, 0, n_head, range(m))
    used_cols: npt.NDArray[np.bool_] = np.asarray(head_filled.any(axis=0), dtype=bool)
    right = int(np.flatnonzero(used_cols).max()) if used_cols.any() else -1
    for k in range(m - 1, right, -1):  # only columns right of the head's last filled one can widen the table
        if _filled(raw, n_head, nrows, [k]).any():
            used_cols[k] = True
            break
    width = int(np.flatnonzero(used_cols).max()) + 1 if used_cols.any() else 0
    if width == 0:
        raise ReadError([Issue("empty_file", "the file has no filled cells", file=file)], title=f"cannot read {file}")
    counts = head_filled[:, :width].sum(axis=1)
    if header_row is None:
        header_row = -1
        for r in range(min(HEADER_SCAN, len(counts))):
            if counts[r] == 0 or (counts[r] == 1 and width >= 3):
                continue  # blank line or a title row (often a merged cell across the table)
            header_row = r
            break
        if header_row < 0:
            raise ReadError([Issue("no_header", f"no header row in the first {HEADER_SCAN} rows", file=file,
                                   hint="pass header_row=<0-based row number of the header>")],
                            title=f"cannot read {file}")
    elif not (0 <= header_row < nrows):
        raise ReadError([Issue("no_header", f"header_row={header_row} is beyond the {nrows} rows of the file",
                               file=file)], title=f"cannot read {file}")
    start = header_row + n_header_rows
    last = _last_used_row(raw, start, width)  # trailing blank rows are not rows
    # byte order marks left inside the text (a file saved with a BOM twice, exports pasted together) are not part
    # of a column name: "\ufeffstudent_id" is the id column
    header = raw.iloc[header_row, :width].fillna("").astype(str).str.strip().str.strip("\ufeff").str.strip().tolist()
    issues = []
    keep = []
    for k, name in enumerate(header):
        if name:
            keep.append(k)
            continue
        col_filled = _filled(raw, start, start + last, [k])[:, 0] if last else np.zeros(0, dtype=bool)
        if col_filled.any():
            issues.append(Issue(
                "empty_header",
                f"column {_column_letter(k)} has answers but no header (a merged or empty header cell)",
                file=file, column=_column_letter(k), count=int(col_filled.sum()),
                hint="unmerge the header cells so every column has its own header, or pass header_row=<row> "
                     "if the header is on another row",
            ))
    if issues:
        raise ReadError(issues, title=f"cannot read {file}")
    names: list[str] = []
    seen: dict[str, int] = {}
    duplicated: dict[str, list[str]] = {}
    for k in keep:
        name = header[k]
        if name in seen:
            seen[name] += 1
            new = f"{name}.{seen[name]}"
            duplicated.setdefault(name, [name]).append(new)
            names.append(new)
        else:
            seen[name] = 0
            names.append(name)
    body = raw.iloc[start:start + last, keep].copy()
    body.columns = names
    body.index = pd.RangeIndex(len(body))
    extra = [raw.iloc[header_row + i, keep].fillna("").astype(str).set_axis(names) for i in range(1, n_header_rows)
             if header_row + i < raw.shape[0]]
    return Grid(frame=body, file=file, header_row=header_row, duplicated=duplicated, extra_header_rows=extra,
                columns_kept=list(keep))


def _sniff_delimiter(first_line: str, path: str) -> str:
    if path.lower().endswith(".tsv"):
        return "\t"
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _arrow_layout(path: str | Path, file: str, delimiter: str | None) -> tuple[str, int] | None:
    """The delimiter and width of a UTF-8 delimited file Arrow can read as it is; None when the strict path must.

    None whenever the file is not plainly rectangular UTF-8 as far as its bytes tell (empty, a NUL byte,
    BOM-less UTF-16, an odd number of quotes, a first line that is not UTF-8 or not a row): the strict text
    path then reads it and reports its problems.
    """
    if importlib.util.find_spec("pyarrow") is None:
        return None
    size = os.path.getsize(path)
    if size == 0:
        return None
    with open(path, "rb", buffering=0) as fh:
        head = fh.read(65536)
        if head.startswith(codecs.BOM_UTF8):
            head = head[len(codecs.BOM_UTF8):]  # Arrow skips a UTF-8 byte order mark itself
        if not head.strip():
            return None  # blank start: the strict path decides
        # the whole file, block by block through one reused buffer (no fresh memory per block): a NUL byte
        # (binary, UTF-16) sends it to the strict path, and so does an odd number of quotes
        buf = bytearray(min(size, 1 << 22))
        fh.seek(0)
        quotes = 0
        while n := fh.readinto(buf):
            if buf.find(b"\x00", 0, n) >= 0:
                return None
            if buf.find(b'"', 0, n) >= 0:  # most exports of numbers have no quote at all: no count needed
                quotes += buf.count(b'"', 0, n)
    if quotes % 2:
        return None  # an odd number of quotes: one is left open, and the strict path says where
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    nl = head.find(b"\n")
    if nl < 0 and len(head) < os.path.getsize(path):
        return None  # a first line longer than the head: the strict path sniffs it whole
    try:
        first = head[: min(ends) if ends else len(head)].decode("utf-8")
        # the delimiter is sniffed on the text before the first "\n", exactly as the strict path does
        sep = delimiter or _sniff_delimiter(head[: nl if nl >= 0 else len(head)].decode("utf-8"), file)
    except UnicodeDecodeError:
        return None
    try:
        width = len(next(csv.reader([first], delimiter=sep, strict=True)))
    except (csv.Error, StopIteration):
        return None
    if width == 0:
        return None  # a blank first line: the strict path sizes the grid
    return sep, width


def _arrow_read(path: str | Path, sep: str, width: int, *, skip_rows: int = 0,
                numbers: Sequence[int] = ()) -> pd.DataFrame | None:
    """The cells of a delimited file read by Arrow's multithreaded reader (columns 0..width-1); None on failure.

    Every cell is text (``str``), except the columns at positions ``numbers``, which Arrow parses as float64
    as it reads them, blank cells null, and which are returned as Arrow arrays (``pandas.ArrowDtype``, no
    copy). A cell such as ``nan`` (text to the text path, a number to Arrow's parser) makes the read fail too.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = [f"f{k}" for k in range(width)]
    floats = set(numbers)
    types = {nm: (pa.float64() if k in floats else pa.string()) for k, nm in enumerate(names)}
    try:
        table = pacsv.read_csv(
            str(path),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip_rows),
            parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )
    except (pa.ArrowException, ValueError):
        return None  # rows of other widths, invalid UTF-8, a cell that is not a number …
    if floats and any(pc.any(pc.is_nan(table.column(names[k]))).as_py() for k in sorted(floats)):
        return None  # the text "nan": the text path reports it as not a number, Arrow's parser would not
    text = table.drop_columns([names[k] for k in sorted(floats)]).to_pandas()
    columns: dict[int, object] = {
        k: pd.arrays.ArrowExtensionArray(table.column(nm)) if k in floats else text[nm].array
        for k, nm in enumerate(names)}
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


def _arrow_cells(path: str | Path, file: str, delimiter: str | None) -> pd.DataFrame | None:
    """Every cell of a UTF-8 delimited file as text (``str`` columns 0..m-1), read by pyarrow's CSV reader.

    The same cells as the strict text path below, many times faster (Arrow reads the file itself, in
    parallel blocks). ``None`` whenever the file is not plainly rectangular UTF-8 (another encoding, a NUL
    byte, rows of different widths, a quote left open): that path then reads it and reports its problems.
    """
    layout = _arrow_layout(path, file, delimiter)
    return None if layout is None else _arrow_read(path, *layout)


@dataclass
class CsvHead:
    """The head of a plainly rectangular UTF-8 file: its header, found as the whole-file path finds it."""

    grid: Grid  # the first rows under the header, as text
    sep: str
    width: int


def csv_head(path: str | Path, *, encoding: str | None = None, header_row: int | None = None,
             delimiter: str | None = None) -> CsvHead | None:
    """The file's first block (128 KiB) read as text, its header found; None when the whole file must be read so.

    None when the file is not plainly rectangular UTF-8, when its header has an empty cell (the whole-file
    path decides which columns such a header keeps) and when the header cannot be found in the head.
    """
    if not (encoding is None or encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig")):
        return None
    layout = _arrow_layout(path, str(path), delimiter)
    if layout is None:
        return None
    sep, width = layout
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"f{k}" for k in range(width)]
    try:
        reader = pacsv.open_csv(
            str(path),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 17, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        batches = []
        rows = 0
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            if rows > HEADER_SCAN + 2 or rows > (header_row or 0) + 2:
                break
        raw = pa.Table.from_batches(batches, schema=reader.schema).to_pandas()
    except (pa.ArrowException, ValueError):
        return None
    raw.columns = pd.RangeIndex(width)
    try:
        grid = promote_header(raw, str(path), header_row)
    except ReadError:
        return None  # the whole-file path reports it
    if grid.columns_kept != list(range(width)) or not len(grid.frame):
        return None
    grid.frame = grid.frame.fillna("")
    return CsvHead(grid, sep, width)


def read_csv_typed(path: str | Path, head: CsvHead, numbers: Sequence[str]) -> Grid | None:
    """The whole file under ``head``'s header, with the columns ``numbers`` parsed as float64 by Arrow as it reads.

    The rows and the text cells are those of :func:`read_csv_grid`; the number columns hold what the text
    path's number parser gives for the same cells (blank cells null). None when any cell of those columns
    is not a plain number (an option label, a skip code, ``nan``, spaces only) or the file is not plainly
    rectangular after the head: the text path then reads the whole file.
    """
    grid = head.grid
    names = list(grid.frame.columns)
    positions = [names.index(c) for c in numbers if c in names]
    start = grid.header_row + 1
    raw = _arrow_read(path, head.sep, head.width, skip_rows=start, numbers=positions)
    if raw is None:
        return None
    last = _last_used_row(raw, 0, head.width)  # trailing blank rows are not rows
    body = raw.iloc[:last] if last < len(raw) else raw
    body.columns = names
    return Grid(frame=body, file=grid.file, header_row=grid.header_row, duplicated=grid.duplicated,
                columns_kept=list(range(head.width)))


def read_csv_grid(path: str | Path, *, encoding: str | None = None, header_row: int | None = None,
                  n_header_rows: int = 1, delimiter: str | None = None) -> tuple[Grid, str]:
    """Read a delimited text file as text cells; returns the grid and the encoding used."""
    file = str(path)
    if encoding is None or encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig"):
        fast = _arrow_cells(path, file, delimiter)
        if fast is not None:
            grid = promote_header(fast, file, header_row, n_header_rows)
            grid.frame = grid.frame.fillna("")
            return grid, "utf-8"
    text, enc = read_text(path, encoding)
    if not text.strip():
        raise ReadError([Issue("empty_file", "the file is empty", file=file)], title=f"cannot read {file}")
    end = text.find("\n")
    sep = delimiter or _sniff_delimiter(text[: end if end >= 0 else len(text)], file)
    kw = {"header": None, "dtype": str, "na_filter": False, "sep": sep, "skip_blank_lines": False}
    # the C parser works on UTF-8 bytes: hand it the (already strictly decoded) text as UTF-8
    data = text.encode("utf-8")
    try:
        raw = pd.read_csv(io.BytesIO(data), encoding="utf-8", **kw)  # type: ignore[call-overload]
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        # rows wider than the first one (e.g. a title line above the table): size the grid first
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
        try:
            width = max((len(r) for r in reader), default=0)
            raw = pd.read_csv(io.BytesIO(data), encoding="utf-8", names=list(range(width)),
                              **kw)  # type: ignore[call-overload]
        except (csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            # the csv module's messages name the problem (unterminated quote, stray character), never a cell
            problem = str(exc).split(":")[0] if isinstance(exc, csv.Error) else "the text is not a valid table"
            raise ReadError([Issue("csv_syntax", f"cannot parse the file as delimited text ({problem})", file=file,
                                   path=f"line {reader.line_num}",
                                   hint="check for an unclosed quote (\") or a stray line break near that line")],
                            title=f"cannot read {file}") from None
    raw.columns = pd.RangeIndex(raw.shape[1])
    grid = promote_header(raw, file, header_row, n_header_rows)
    grid.frame = grid.frame.fillna("").astype(str)
    return grid, enc


def read_excel_grid(path: str | Path, *, sheet: str | int | None = None, header_row: int | None = None) -> Grid:
    """Read one sheet of an .xlsx/.xlsm (openpyxl) or .xls (xlrd) workbook as text cells."""
    file = str(path)
    suffix = Path(file).suffix.lower()
    engine: Literal["calamine", "xlrd", "openpyxl"]
    if importlib.util.find_spec("python_calamine") is not None:
        engine = "calamine"  # reads .xls and .xlsx, and is pandas' recommended engine for .xls
    else:
        engine = "xlrd" if suffix == ".xls" else "openpyxl"
        require(engine, f"{suffix or 'Excel'} files")
    if Path(file).stat().st_size == 0:
        raise ReadError([Issue("empty_file", "the file is empty", file=file)], title=f"cannot read {file}")
    try:
        with warnings.catch_warnings():
            # pandas deprecates its xlrd engine in favour of calamine; xlrd still reads .xls correctly
            warnings.filterwarnings("ignore", message="The xlrd engine is deprecated")
            raw = pd.read_excel(file, sheet_name=0 if sheet is None else sheet, header=None, dtype=object,
                                engine=engine)
    except ImportError:
        raise
    except Exception as exc:  # unknown sheet (ValueError), not a workbook (BadZipFile, XLRDError, …)
        raise ReadError([Issue("unreadable_workbook", f"cannot open the workbook ({type(exc).__name__}: {exc})",
                               file=file,
                               hint="check sheet= and that the file really is an Excel workbook")],
                        title=f"cannot read {file}") from None
    if raw.shape[1] == 0:
        raise ReadError([Issue("empty_file", "the sheet is empty", file=file)], title=f"cannot read {file}")
    raw.columns = pd.RangeIndex(raw.shape[1])
    imprecise: dict[int, npt.NDArray[np.bool_]] = {}
    texts: dict[int, pd.Series] = {}
    for c in range(raw.shape[1]):  # the column labels (RangeIndex above)
        texts[c], mask = cells_to_text(raw[c])
        if mask is not None:
            imprecise[c] = mask
    text_frame = pd.DataFrame(texts)
    grid = promote_header(text_frame, file, header_row)
    start = grid.header_row + 1
    n = len(grid.frame)
    # carry the imprecision marks over to the named columns of the data rows
    header = text_frame.iloc[grid.header_row].str.strip()
    by_name = dict(zip(header.index, header, strict=True))
    for c, mask in imprecise.items():
        name = by_name.get(c, "")
        if name in grid.frame.columns:
            grid.imprecise[name] = mask[start:start + n]
    return grid


def infer_passthrough(s: pd.Series) -> pd.Series:
    """Give a text column a numeric or boolean type only where that is lossless.

    Digits with a leading zero (``0012``) or more than 15 significant digits
    (a 学籍号) stay text; ``True``/``False`` columns become nullable booleans.
    """
    if not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
        return s
    blank = blank_mask(s)
    if blank.all():
        return s
    codes, uniques = pd.factorize(s.where(~blank, None))
    u = pd.Series(uniques, dtype="string").str.strip()
    low = u.str.casefold()
    if low.isin(["true", "false"]).all():
        mapped = low.eq("true").to_numpy()
        out = pd.array(np.where(codes >= 0, mapped[np.maximum(codes, 0)], False), dtype="boolean")
        out[codes < 0] = pd.NA
        return pd.Series(out, index=s.index, name=s.name)
    num = pd.to_numeric(u, errors="coerce")
    if num.isna().any():
        return s
    digits = u.str.replace(r"^[-+]", "", regex=True).str.replace(".", "", regex=False).str.lstrip("0")
    leading_zero = u.str.match(r"^[-+]?0\d")
    if leading_zero.any() or digits.str.len().gt(15).any() or u.str.contains(r"[eE]").any():
        return s
    values = num.to_numpy(dtype=float)[np.maximum(codes, 0)]
    values[codes < 0] = np.nan
    if np.all(np.isnan(values) | (values == np.floor(np.nan_to_num(values)))) and not np.isnan(values).any():
        return pd.Series(values.astype(np.int64), index=s.index, name=s.name)
    return pd.Series(values, index=s.index, name=s.name)
