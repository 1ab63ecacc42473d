"""Parquet files (pyarrow): typed columns kept as they are, read whole or in chunks of rows.

A Parquet column already has a type: numbers are numbers and text (a 学籍号
written as text) stays text, so nothing is guessed from cells. Item columns
are checked against the scale's option values like any other table; an id
column of floats beyond 2**53 is an error (its digits are already lost).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import Issue
from .errors import ReadError
from .grid import require
from .source import Extract, typed_extract

__all__ = ["extract_parquet", "extract_parquet_typed", "iter_parquet", "parquet_head"]


def _unreadable(file: str, exc: Exception) -> ReadError:
    return ReadError([Issue("unreadable_parquet", f"cannot read the Parquet file ({type(exc).__name__})", file=file)],
                     title=f"cannot read {file}")


def extract_parquet(path: str | Path) -> Extract:
    """Read a Parquet file (pyarrow) keeping its column types."""
    require("pyarrow", "Parquet files")
    import pandas as pd

    file = str(path)
    try:
        frame = pd.read_parquet(file, engine="pyarrow")
    except Exception as exc:  # pyarrow raises ArrowInvalid and friends
        raise _unreadable(file, exc) from None
    ex = typed_extract(frame, file, "parquet")
    ex.numeric_means = "value"
    return ex


def parquet_head(path: str | Path) -> Extract | None:
    """The file's columns with no rows (from its schema: nothing is read but the footer); None if unreadable."""
    require("pyarrow", "Parquet files")
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        frame = pq.ParquetFile(str(path)).schema_arrow.empty_table().to_pandas()
    except (pa.ArrowException, OSError, ValueError):
        return None  # the whole-file reader reports it
    ex = typed_extract(frame, str(path), "parquet")
    ex.numeric_means = "value"
    return ex


def extract_parquet_typed(path: str | Path, items: Sequence[str]) -> Extract | None:
    """:func:`extract_parquet`, with the number columns among ``items`` kept as Arrow arrays (no copy).

    Every other column is converted to pandas exactly as :func:`pandas.read_parquet` does. The item
    columns are wrapped (``pandas.ArrowDtype``) and checked and converted once, by
    :func:`screening.intake.options.convert_arrow`, straight into the table's block. None when the file
    cannot be read this way (the whole-file reader then reads it or reports the problem).
    """
    require("pyarrow", "Parquet files")
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = str(path)
    try:
        table = pq.read_table(file)
    except (pa.ArrowException, OSError, ValueError):
        return None
    names = table.column_names
    if len(set(names)) != len(names):
        return None
    numeric = [c for c in items if c in names and
               (pa.types.is_floating(table.schema.field(c).type) or pa.types.is_integer(table.schema.field(c).type))]
    others = table.drop_columns(numeric).to_pandas()
    others = others.reset_index(drop=True)
    columns = {}
    for c in names:
        if c in numeric:
            columns[c] = pd.Series(pd.arrays.ArrowExtensionArray(table.column(c)), index=others.index)
        elif c in others.columns:
            columns[c] = others[c]
    frame = pd.DataFrame(columns, index=others.index)
    ex = typed_extract(frame, file, "parquet")
    ex.numeric_means = "value"
    return ex


def iter_parquet(path: str | Path, chunksize: int) -> Iterator[Extract]:
    """The file's rows ``chunksize`` at a time (row groups are read as needed, never the whole file)."""
    require("pyarrow", "Parquet files")
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = str(path)
    try:
        pf = pq.ParquetFile(file)
        batches = pf.iter_batches(batch_size=chunksize)
        first = True
        for batch in batches:
            first = False
            frame = pa.Table.from_batches([batch]).to_pandas()
            ex = typed_extract(frame, file, "parquet")
            ex.numeric_means = "value"
            yield ex
        if first:  # no rows: one empty chunk with the file's columns
            ex = typed_extract(pf.schema_arrow.empty_table().to_pandas(), file, "parquet")
            ex.numeric_means = "value"
            yield ex
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(file, exc) from None
