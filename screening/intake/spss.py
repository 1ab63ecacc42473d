"""SPSS ``.sav`` files (pyreadstat): typed columns, no text round trip (Parquet: :mod:`.parquet`).

SPSS files carry value labels (``1 = "Not at all"``); each item column's
labels are checked against the scale's YAML options and its codes are mapped
code → label → option value, so a file coded 1–4 still scores 0–3. A label
that is no option of the scale is an error naming the column. User-defined
missing values (e.g. 9 = "no answer", from the file's missing ranges) become
unanswered and their labels are not checked. Old Chinese SPSS files may need ``encoding="gb18030"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Issue
from .errors import ReadError
from .grid import require
from .source import Extract, typed_extract

__all__ = ["extract_sav"]


def extract_sav(path: str | Path, encoding: str | None = None) -> Extract:
    """Read an SPSS file with its value labels (codes are kept; labels are checked later)."""
    require("pyreadstat", "SPSS .sav files")
    import pyreadstat

    file = str(path)
    try:
        frame, meta = pyreadstat.read_sav(file, apply_value_formats=False, user_missing=True, encoding=encoding)
    except Exception as exc:  # pyreadstat raises its own ReadstatError / PyreadstatError
        raise ReadError([Issue("unreadable_sav", f"pyreadstat cannot read the file ({type(exc).__name__}: {exc})",
                               file=file,
                               hint="is it an SPSS .sav file? old Chinese files may need encoding='gb18030'")],
                        title=f"cannot read {file}") from None
    # pyreadstat types missing_ranges with the writer's union (scalars too); read_sav gives {"lo", "hi"} dicts
    ranges = {str(c): [(float(r["lo"]), float(r["hi"])) for r in rs]  # type: ignore[index]
              for c, rs in (meta.missing_ranges or {}).items()}
    for col, rs in ranges.items():
        if col in frame.columns and pd.api.types.is_numeric_dtype(frame[col].dtype):
            x = frame[col].to_numpy(dtype=float, na_value=np.nan)
            hit = np.zeros(len(x), dtype=bool)
            for lo, hi in rs:
                hit |= (x >= lo) & (x <= hi)
            frame[col] = np.where(hit, np.nan, x)  # user-defined missing (e.g. 9 = 未作答) is unanswered
    ex = typed_extract(frame, file, "spss")
    for col, labels in (meta.variable_value_labels or {}).items():
        rs = ranges.get(str(col), [])
        kept = {float(k): str(v) for k, v in labels.items()
                if not any(lo <= float(k) <= hi for lo, hi in rs)}  # labels of missing codes are not options
        if kept:
            ex.value_labels[str(col)] = kept
    ex.numeric_means = "codes"
    return ex
