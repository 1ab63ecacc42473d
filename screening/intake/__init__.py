"""Reading survey exports (问卷星, Qualtrics, REDCap, SPSS, Excel, CSV, Parquet) into one canonical table.

See ``docs/intake.md``. The entry point is :func:`read_responses`; metadata
column names live in :mod:`screening.intake.meta`; :func:`iter_responses`
reads a file larger than memory chunk by chunk.
"""

from . import meta
from .encoding import decode_bytes, read_text
from .errors import ReadError
from .options import option_key
from .read import read_responses
from .stream import iter_responses

__all__ = ["ReadError", "decode_bytes", "iter_responses", "meta", "option_key", "read_responses", "read_text"]
