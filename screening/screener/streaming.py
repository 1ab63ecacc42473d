"""Screening a file of any size chunk by chunk, writing one row per student as it goes.

:func:`screen_file` screens each chunk of :func:`screening.iter_responses` with
:func:`screening.screen` and appends its rows to a CSV file, so memory holds
one chunk, never the file. Screening is row-wise: a student's scores, bands,
norms (from the scale's YAML, never from the data) and tier depend only on
that student's row, so the chunked result is the in-memory result row for row
(tested in ``tests/test_streaming.py``). Population-level checks are not run
per chunk: duplicate ids across the file (:func:`screening.check_quality`)
need the whole id column, so :func:`screen_file` takes no ``quality=``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._params import Interval, InvalidParameterError, validate_params
from ..errors import Issue
from ..intake import meta as M
from ..intake.errors import ReadError
from ..intake.stream import iter_responses
from ..reports.export import meta_of, sidecar_of
from .run import screen

__all__ = ["FileScreening", "screen_file"]


class _Writer:
    """Appends chunks to a CSV (pandas' writer: the bytes of ``write_frame``) or a Parquet file (Arrow's writer)."""

    def __init__(self, path: Path, kind: str, source: str) -> None:
        self.path, self.kind, self.source = path, kind, source
        self.fh: Any = None
        self.schema: Any = None

    def __enter__(self) -> _Writer:
        if self.kind == ".csv":
            self.fh = open(self.path, "w", encoding="utf-8-sig", newline="")  # closed in __exit__
        return self

    def write(self, part: pd.DataFrame, *, first: bool, row: int) -> None:
        if self.kind == ".csv":
            part.to_csv(self.fh, index=False, header=first, lineterminator="\n")
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(part, preserve_index=False)
        if self.fh is None:
            self.schema = table.schema.remove_metadata()
            self.fh = pq.ParquetWriter(self.path, self.schema)
        try:
            table = table.cast(self.schema)  # a column all blank in this chunk has no type of its own
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            raise ReadError([Issue("chunk_columns", "a chunk's output columns have other types than the first "
                                   "chunk's", file=self.source, rows=(row,),
                                   hint="write a .csv instead, or give a larger chunksize")],
                            title=f"cannot screen {self.source}") from None
        self.fh.write_table(table)

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            self.fh.close()


@dataclass(frozen=True)
class FileScreening:
    """What :func:`screen_file` wrote: the file, the number of students, tier counts and the provenance."""

    out: Path
    rows: int
    tier_counts: dict[str, int]
    urgent: int
    provenance: dict[str, Any]
    #: students to re-screen or to ask today (blank answers that could change the outcome, invalid data …)
    rescreen: int = 0

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.tier_counts.items())
        return (f"FileScreening({self.rows:,} students → {self.out.name}; {counts}; urgent {self.urgent}; "
                f"re-screen / ask {self.rescreen})")


@validate_params({"out": [str, Path], "chunksize": [Interval(int, 1, None)], "identifiable": [bool, np.bool_]})
def screen_file(
    path: str | Path,
    scales: Sequence[str | Path],
    rules: str | Path = "default",
    *,
    out: str | Path,
    chunksize: int = 100_000,
    identifiable: bool = False,
    lang: Literal["zh", "en"] = "zh",
    flags: Sequence[str] | Mapping[str, str] | None = None,
    groups: Sequence[str] | None = None,
    bands: Mapping[str, str | Mapping[str, str]] | None = None,
    on_invalid: Literal["raise", "missing"] = "raise",
    **read_options: Any,
) -> FileScreening:
    """Screen a file of any size chunk by chunk, appending one row per student to ``out`` (.csv or .parquet).

    Each chunk of :func:`iter_responses` (``read_options`` are its parameters:
    ``source=``, ``start=``, ``response_format=`` …) is screened with
    :func:`screening.screen` and its rows written at once, so memory holds one
    chunk. The output has the columns of the ``screening screen`` command:
    ``row`` (0-based data row in the file; ``respondent_id`` too with
    ``identifiable=True`` — keep such a file confidential), the group, flag and
    score columns, then ``tier, urgent, rescreen, follow_up_days, reasons,
    actions, rules_fired``. A ``.csv`` is UTF-8 with a BOM (Excel shows Chinese),
    byte for byte what ``screening screen -o x.csv`` writes; a ``.parquet`` file
    (much faster to write for millions of rows) keeps the column types of the
    first chunk. Either gets a ``.provenance.json`` sidecar saying "screening,
    not diagnosis".

    Every student's row is the one :func:`screening.screen` gives on the whole
    file: nothing in screening depends on other students' rows.
    """
    target = Path(out)
    kind = target.suffix.lower()
    if kind not in (".csv", ".parquet"):
        raise InvalidParameterError(f"The 'out' parameter of screen_file must be a .csv or .parquet path (rows are "
                                    f"appended chunk by chunk). Got a {target.suffix or 'suffix-less'} path instead.")
    scale_list = list(scales) if not isinstance(scales, (str, Path)) else [scales]
    counts: dict[str, int] = {}
    rows = urgent = rescreen = 0
    provenance: dict[str, Any] = {}
    header: list[str] | None = None
    said: set[str] = set()
    tmp = target.with_name(target.name + ".part")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    with _Writer(tmp, kind, str(path)) as fh:
        for chunk in iter_responses(path, scales=scale_list, chunksize=chunksize, on_invalid=on_invalid,
                                    **read_options):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = screen(chunk, scale_list, rules, flags=flags, groups=groups, lang=lang, bands=bands,
                             on_invalid=on_invalid)
            for w in caught:  # each chunk says the same (flags not supplied …): say it once
                if str(w.message) not in said:
                    said.add(str(w.message))
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            t = res.table
            ident = pd.DataFrame({"row": np.asarray(chunk.index, dtype=np.int64)}, index=t.index)
            if identifiable:
                ident[M.RESPONDENT_ID] = chunk[M.RESPONDENT_ID].to_numpy()
            part = pd.concat([ident, res.groups, res.flags, res.scores,
                              t[["tier", "urgent", "rescreen", "follow_up_days", "reasons", "actions",
                                 "rules_fired"]]], axis=1)
            if header is None:
                header = list(part.columns)
                provenance = dict(res.provenance)
            elif list(part.columns) != header:
                raise ReadError([Issue("chunk_columns", "a chunk gave other output columns than the first chunk",
                                       file=str(path), rows=(int(chunk.index[0]),))], title=f"cannot screen {path}")
            fh.write(part, first=rows == 0, row=int(chunk.index[0]) if len(chunk) else 0)
            for k, v in res.tier_counts().items():
                counts[str(k)] = counts.get(str(k), 0) + int(v)
            urgent += int(t["urgent"].sum())
            rescreen += int(t["rescreen"].sum())
            rows += len(part)
    tmp.replace(target)
    # the sidecar write_frame gives a CSV: "screening, not diagnosis", library version, rule set and scale hashes
    meta = meta_of(pd.DataFrame(), provenance)
    sidecar_of(target).write_text(json.dumps({"file": target.name, **meta}, ensure_ascii=False, default=str,
                                             indent=1), encoding="utf-8")
    return FileScreening(out=target, rows=rows, tier_counts=counts, urgent=urgent, provenance=provenance,
                         rescreen=rescreen)
