"""The archive's exception (a :class:`screening.ScreeningError`: a list of issues, never an id)."""

from __future__ import annotations

from ..errors import ScreeningError

__all__ = ["ArchiveError"]


class ArchiveError(ScreeningError):
    """An archive cannot be opened, written or read as asked (wrong key, conflicting re-add, tampered bundle …)."""
