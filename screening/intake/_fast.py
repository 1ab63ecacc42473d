"""One compiled pass that copies a numeric Arrow column into its row of the answer block and proves every cell
is a blank or a whole number in the option range (numba, the ``fast`` extra).

The numpy way (:func:`screening.intake.options.convert_arrow`) casts, fills the nulls, copies, then takes the
minimum, maximum and ``x - floor(x)`` of the column: about six passes over it. This reads each value once and
writes it once; the validity bitmap is read bit by bit. Results are the same to the bit (a blank is NaN, a
``-0`` stays ``-0.0``, a NaN stored as a value is a blank, an infinity or a fraction or a value out of range
makes the check fail, and the caller then converts the column on the path that names every bad cell).
``SCREENING_FUSED=0`` switches it off.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["MIN_ROWS", "compiled_for", "copy_checked"]

#: Columns shorter than this use numpy (no numba import for a class's file).
MIN_ROWS = 50_000

_kernel: Any = None
_failed = False


def _compile() -> Any:
    import numba

    @numba.njit(nogil=True, cache=True)
    def kernel(vals, bitmap, off, out, lo, hi):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
        ok = True
        has_bitmap = bitmap.shape[0] > 0
        for i in range(out.shape[0]):
            if has_bitmap:
                j = off + i
                if not (bitmap[j >> 3] >> (j & 7)) & 1:
                    out[i] = np.nan
                    continue
            x = np.float64(vals[off + i])
            out[i] = x
            if x != x:
                continue
            if not (x >= lo and x <= hi and x == np.floor(x)):
                ok = False
        return ok

    return kernel


def _get() -> Any:
    global _kernel, _failed
    if _kernel is None and not _failed and os.environ.get("SCREENING_FUSED", "1") != "0":
        try:
            _kernel = _compile()
        except ImportError:
            _failed = True
    return _kernel


_NO_BITMAP = np.zeros(0, dtype=np.uint8)


def compiled_for(n_rows: int) -> Any:
    """The compiled pass for a column of ``n_rows`` cells, or None (no numba, switched off, a short column)."""
    if n_rows < MIN_ROWS or os.environ.get("SCREENING_FUSED", "1") == "0":
        return None
    return _get()


def copy_checked(kernel: Any, chunk: Any, out: npt.NDArray[np.float64], lo: float, hi: float) -> bool | None:
    """Copy one Arrow chunk (a primitive integer or float array) into ``out`` and check it with ``kernel``
    (:func:`compiled_for`); None for another Arrow type (the caller's numpy path then runs)."""
    import pyarrow as pa

    t = chunk.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t)) or pa.types.is_float16(t):
        return None
    validity, data = chunk.buffers()[:2]
    if data is None:  # no values buffer (Arrow allocates one even for all-null arrays; not relied on)
        return None
    vals = np.frombuffer(data, dtype=t.to_pandas_dtype())
    bitmap = _NO_BITMAP if validity is None or chunk.null_count == 0 else np.frombuffer(validity, dtype=np.uint8)
    return bool(kernel(vals, bitmap, chunk.offset, out, float(lo), float(hi)))
