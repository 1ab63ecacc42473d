"""Files larger than memory: read a survey export chunk by chunk (:func:`screening.screen_file` screens it so).

:func:`iter_responses` yields the table :func:`~screening.intake.read_responses`
would return, a slice of rows at a time (index = the rows' positions in the
file, so ``pd.concat`` of the chunks is the whole table). Which column is which
(metadata, each scale's items and their format, ids, groups) is decided once,
on the first chunk, and applied to every chunk. Row positions in errors are
positions in the file.

* CSV/TSV: read by Arrow's streaming CSV reader; memory is one chunk (plus a
  read-ahead block), never the file. The encoding (BOM, else UTF-8, else
  GB18030) is checked on the whole file first, block by block.
* Parquet: read by row batches.
* Excel and SPSS files are read whole and handed out in chunks (an Excel sheet
  holds at most 1,048,576 rows; such files fit in memory).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._params import Interval, Options, validate_params
from ..errors import Issue
from .errors import ReadError
from .grid import HEADER_SCAN, Grid, _column_letter, _filled, _last_used_row, _sniff_delimiter, promote_header
from .read import (
    _PARQUET,
    _TEXT,
    _WORKBOOK,
    Plan,
    ScaleLike,
    _as_qualtrics,
    _extract,
    _request,
    apply_plan,
    extract_grid,
    grid_kind,
    make_plan,
)
from .source import Extract

__all__ = ["iter_responses"]

_BLOCK = 1 << 24  # bytes per block of the encoding pre-scan and of Arrow's reader


def _shifted(err: ReadError, offset: int) -> ReadError:
    """The same error with row positions counted from the start of the file."""
    if not offset:
        return err
    issues = [dataclasses.replace(i, rows=tuple(r + offset for r in i.rows)) if i.rows else i for i in err.issues]
    return ReadError(issues, title=err.title)


def _prescan(path: Path, encoding: str | None) -> str | None:
    """The encoding to stream the file with, checked on every byte; None when the strict whole-file path must decide.

    None for: NUL bytes (binary or BOM-less UTF-16), an odd number of quotes (one left open), bytes that are
    neither UTF-8 nor GB18030 — the whole-file reader then reports the problem exactly as :func:`read_responses`.
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
    if encoding is None:
        if head.startswith(codecs.BOM_UTF8):
            candidates = ["utf-8-sig"]
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return None  # UTF-16 (Qualtrics TSV): read whole
        else:
            candidates = ["utf-8", "gb18030"]
    else:
        candidates = [encoding]
    for enc in candidates:
        try:
            dec = codecs.getincrementaldecoder(enc)(errors="strict")
        except LookupError:
            return None
        quotes = 0
        try:
            with open(path, "rb") as fh:
                while block := fh.read(_BLOCK):
                    if b"\x00" in block:
                        return None
                    quotes += block.count(b'"')
                    dec.decode(block)
                dec.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return enc if quotes % 2 == 0 else None
    return None


def _arrow_batches(path: Path, enc: str, delimiter: str | None) -> tuple[Iterator[pd.DataFrame], int] | None:
    """Raw text cells (columns 0..m-1) in Arrow's read blocks; None if Arrow cannot stream this file."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    text = head.decode(enc, errors="ignore")  # only the first line is used; the whole file was checked strictly
    text = text.lstrip("\ufeff")
    ends = [i for i in (text.find("\n"), text.find("\r")) if i >= 0]
    first = text[: min(ends) if ends else len(text)]
    nl = text.find("\n")  # the delimiter is sniffed before the first "\n", exactly as the strict path does
    if nl < 0 and len(head) < path.stat().st_size:
        return None
    sep = delimiter or _sniff_delimiter(text[: nl if nl >= 0 else len(text)], str(path))
    try:
        width = len(next(csv.reader([first], delimiter=sep, strict=True)))
    except (csv.Error, StopIteration):
        return None
    if width == 0:
        return None
    names = [f"f{k}" for k in range(width)]
    arrow_enc = "utf8" if enc in ("utf-8", "utf-8-sig") else enc
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, block_size=_BLOCK, encoding=arrow_enc),
            parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowException, ValueError):
        return None

    def gen() -> Iterator[pd.DataFrame]:
        try:
            for batch in reader:
                raw = batch.to_pandas()
                raw.columns = pd.RangeIndex(width)
                yield raw
        except (pa.ArrowException, ValueError):
            raise ReadError([Issue("csv_syntax", "cannot parse the file as delimited text (a row of another width, "
                                   "or an unclosed quote)", file=str(path),
                                   hint="check for an unclosed quote (\") or a stray line break; reading the whole "
                                        "file with read_responses names the line")],
                            title=f"cannot read {path}") from None

    return gen(), width


def _rechunk(blocks: Iterator[pd.DataFrame], size: int) -> Iterator[pd.DataFrame]:
    """Blocks of any length → frames of ``size`` rows (the last one shorter)."""
    pending: list[pd.DataFrame] = []
    n = 0
    for b in blocks:
        pending.append(b)
        n += len(b)
        while n >= size:
            whole = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
            yield whole.iloc[:size].reset_index(drop=True)
            rest = whole.iloc[size:].reset_index(drop=True)
            pending, n = ([rest] if len(rest) else []), len(rest)
    if n:
        yield pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]


def _csv_grids(path: Path, raws: Iterator[pd.DataFrame], header_row: int | None) -> Iterator[Grid]:
    """Grids with one header, chunk after chunk; blank rows at a chunk's end wait for the next (trailing ones go)."""
    file = str(path)
    first = next(raws, None)
    if first is None:
        raise ReadError([Issue("empty_file", "the file has no rows", file=file)], title=f"cannot read {file}")
    grid = promote_header(first, file, header_row)
    start = grid.header_row + 1
    keep = grid.columns_kept
    names = list(grid.frame.columns)
    pending = first.iloc[start + len(grid.frame):].reset_index(drop=True)
    grid.frame = grid.frame.fillna("")
    yield grid
    offset = len(grid.frame)
    others = [k for k in range(first.shape[1]) if k not in set(keep)]
    for raw in raws:
        body = pd.concat([pending, raw], ignore_index=True) if len(pending) else raw
        last = _last_used_row(body, 0, body.shape[1])
        filled = _filled(body, 0, last, others) if others else np.zeros((last, 0), dtype=bool)
        if filled.any():
            k = others[int(np.flatnonzero(filled.any(axis=0))[0])]
            rows = tuple(int(r) + offset for r in np.flatnonzero(filled[:, others.index(k)])[:10])
            raise ReadError([Issue("empty_header", f"column {_column_letter(k)} has answers but no header (a merged "
                                   "or empty header cell)", file=file, column=_column_letter(k), rows=rows,
                                   hint="unmerge the header cells so every column has its own header")],
                            title=f"cannot read {file}")
        frame = body.iloc[:last, keep].fillna("")
        frame.columns = names
        frame.index = pd.RangeIndex(len(frame))
        pending = body.iloc[last:].reset_index(drop=True)
        offset += len(frame)
        yield Grid(frame=frame, file=file, header_row=grid.header_row, duplicated=grid.duplicated)


def _slices(ex: Extract, size: int) -> Iterator[Extract]:
    """A whole-file :class:`Extract` handed out ``size`` rows at a time."""
    n = len(ex.frame)
    for a in range(0, max(n, 1), size):
        b = min(n, a + size)
        yield dataclasses.replace(
            ex, frame=ex.frame.iloc[a:b].reset_index(drop=True),
            meta_values={k: v.iloc[a:b].reset_index(drop=True) for k, v in ex.meta_values.items()},
            imprecise={k: v[a:b] for k, v in ex.imprecise.items()}, meta_cols=dict(ex.meta_cols))


def _extracts(p: Path, source: str, *, chunksize: int, sheet: str | int | None, header_row: int | None,
              encoding: str | None, dictionary: Any) -> Iterator[Extract]:
    from . import parquet

    suffix = p.suffix.lower()
    whole = {"sheet": sheet, "header_row": header_row, "encoding": encoding, "dictionary": dictionary}
    if source == "parquet" or (source == "auto" and suffix in _PARQUET):
        yield from parquet.iter_parquet(p, chunksize)
        return
    text = source in ("csv", "wjx", "qualtrics", "redcap") or (source == "auto" and suffix in _TEXT)
    if not text or suffix in _WORKBOOK:
        yield from _slices(_extract(p, source, **whole), chunksize)
        return
    enc = _prescan(p, encoding)
    batches = _arrow_batches(p, enc, "\t" if suffix == ".tsv" else None) if enc is not None else None
    if batches is None:  # not plainly streamable: the strict whole-file reader reads it or reports the problem
        yield from _slices(_extract(p, source, **whole), chunksize)
        return
    # the first chunk must hold the header search; the qualtrics header rows come from the first chunk
    grids = _csv_grids(p, _rechunk(batches[0], max(chunksize, HEADER_SCAN + 3)), header_row)
    first = next(grids)
    kind = grid_kind(first, source, suffix, dictionary)
    extra = _as_qualtrics(first).extra_header_rows if kind == "qualtrics" else []
    yield extract_grid(first, kind, dictionary, encoding)
    for g in grids:
        g.extra_header_rows = extra
        yield extract_grid(g, kind, dictionary, encoding, first=False)


@validate_params({
    "path": [str, Path], "source": [Options("auto", "csv", "excel", "parquet", "spss", "wjx", "qualtrics", "redcap")],
    "chunksize": [Interval(int, 1, None)], "on_invalid": [Options("raise", "missing")],
})
def iter_responses(
    path: str | Path,
    source: Literal["auto", "csv", "excel", "parquet", "spss", "wjx", "qualtrics", "redcap"] = "auto",
    scales: ScaleLike | Sequence[ScaleLike] = (),
    *,
    chunksize: int = 100_000,
    columns: Any = None,
    start: Any = None,
    response_format: Literal["auto", "value", "index", "label"] | None = None,
    labels: Mapping[str, Mapping[str, float]] | None = None,
    id_column: str | int | None = None,
    meta: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    dictionary: Any = None,
    on_invalid: Literal["raise", "missing"] = "raise",
    keep_other: bool = True,
) -> Iterator[pd.DataFrame]:
    """:func:`~screening.read_responses`, ``chunksize`` rows at a time, for files larger than memory.

    The parameters are those of :func:`~screening.read_responses` plus ``chunksize``.
    Each chunk is the canonical table of its rows, indexed by their positions in
    the file (``pd.concat(iter_responses(...))`` equals ``read_responses(...)``
    when the columns are mapped the same way), except that the file's other
    text columns (class, notes …) stay text: ``read_responses`` gives them a
    number type where the whole column allows it, which a chunk cannot know.
    Which columns hold which scale's
    items, and in which format, is decided on the first chunk: pass ``start=``/
    ``columns=`` and ``response_format=`` to decide it yourself. A problem in a
    later chunk raises :class:`ReadError` when that chunk is read, naming rows by
    their position in the file.

    Examples
    --------
    >>> for chunk in sc.iter_responses("answers.csv", scales=["phq9", "gad7"], chunksize=200_000):  # doctest: +SKIP
    ...     sc.screen(chunk, ["phq9", "gad7"])
    """
    req = _request(path, scales, columns, start, labels)
    return _iter(req, source, chunksize=chunksize, response_format=response_format, id_column=id_column, meta=meta,
                 sheet=sheet, header_row=header_row, encoding=encoding, dictionary=dictionary, on_invalid=on_invalid,
                 keep_other=keep_other)


def _iter(req: Any, source: str, *, chunksize: int, response_format: Any, id_column: Any, meta: Any, sheet: Any,
          header_row: Any, encoding: Any, dictionary: Any, on_invalid: str, keep_other: bool) -> Iterator[pd.DataFrame]:
    plan: Plan | None = None
    offset = 0
    for ex in _extracts(req.path, source, chunksize=chunksize, sheet=sheet, header_row=header_row, encoding=encoding,
                        dictionary=dictionary):
        try:
            if plan is None:
                plan = make_plan(ex, req, response_format=response_format, id_column=id_column, meta=meta)
            table = apply_plan(ex, plan, on_invalid=on_invalid, keep_other=keep_other, typed_others=False)
        except ReadError as err:
            raise _shifted(err, offset) from None
        table.index = pd.RangeIndex(offset, offset + len(table))
        offset += len(table)
        yield table
