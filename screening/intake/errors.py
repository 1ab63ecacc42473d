"""The exception raised when a file cannot be read into the canonical table."""

from __future__ import annotations

from ..errors import ResponseError

__all__ = ["ReadError"]


class ReadError(ResponseError):
    """A response file cannot be read: encoding, layout, mapping or values.

    Like every :class:`~screening.errors.ScreeningError` it lists every problem
    found, each naming the file, the column, 0-based data-row positions and a
    count — never a cell's contents.
    """
