"""Every exception the library raises, and the structured issues they carry.

One exception lists *every* problem found, each with a stable machine code, a
location (file and YAML path, or column and row positions) and a hint.
Exceptions never hold a DataFrame or any response value that could identify a
student: only column names, 0-based row positions and counts.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Issue",
    "ScreeningError",
    "SpecError",
    "ResponseError",
    "RuleError",
    "InvalidParameterError",
    "did_you_mean",
    "format_path",
]


def format_path(loc: Sequence[str | int]) -> str:
    """Render a location tuple as a YAML path such as ``scores[1].bands.sets``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidates (up to three) to a misspelt ``word``, if any is close."""
    matches = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=3, cutoff=0.6)
    if not matches:
        return None
    if len(matches) == 1:
        return f"did you mean {matches[0]!r}?"
    return "did you mean " + ", ".join(repr(m) for m in matches[:-1]) + f" or {matches[-1]!r}?"


@dataclass(frozen=True)
class Issue:
    """One problem found in a file or a table.

    Attributes
    ----------
    code : str
        Stable machine code, e.g. ``"unknown_key"``, ``"band_gap"``, ``"out_of_range"``.
    message : str
        What is wrong, in plain English.
    path : str
        YAML path inside the file (``scores[0].bands``) or ``""``.
    file : str
        The file the problem is in, or ``""``.
    column : str
        For response problems: the input column.
    rows : tuple of int
        For response problems: the first 0-based row positions affected (at most 10).
    count : int
        For response problems: how many cells are affected in total.
    hint : str
        How to fix it, or ``""``.
    """

    code: str
    message: str
    path: str = ""
    file: str = ""
    column: str = ""
    rows: tuple[int, ...] = ()
    count: int = 0
    hint: str = ""

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.path:
            where.append(self.path)
        if self.column:
            where.append(f"column {self.column!r}")
        head = ": ".join(where)
        text = f"[{self.code}] {head + ': ' if head else ''}{self.message}"
        if self.rows:
            more = f" (first {len(self.rows)} of {self.count})" if self.count > len(self.rows) else ""
            text += f"; row positions {list(self.rows)}{more}"
        if self.hint:
            text += f" — hint: {self.hint}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "path": self.path,
            "column": self.column,
            "rows": list(self.rows),
            "count": self.count,
            "hint": self.hint,
        }


@dataclass
class ScreeningError(ValueError):
    """Base class: a list of :class:`Issue` found in one file or one table."""

    issues: list[Issue] = field(default_factory=list)
    title: str = "screening error"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.issues)
        lines = [f"{self.title}: {n} problem{'s' if n != 1 else ''}"]
        lines += [f"  {i}. {issue}" for i, issue in enumerate(self.issues, 1)]
        return "\n".join(lines)

    def __reduce__(self) -> tuple[Any, ...]:  # keeps pickling working (dataclass + Exception)
        return (type(self), (self.issues, self.title))

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.issues]

    def to_frame(self) -> Any:
        """The issues as a tidy ``pandas.DataFrame`` (one row per issue)."""
        import pandas as pd

        return pd.DataFrame([i.as_dict() for i in self.issues])


class SpecError(ScreeningError):
    """A scale definition file is malformed or inconsistent."""


class ResponseError(ScreeningError):
    """Response data cannot be scored as given (out-of-range, unparseable, missing columns)."""


class RuleError(ScreeningError):
    """A tiering rule set is malformed, refers to unknown names, or cannot be compiled."""


class InvalidParameterError(ScreeningError, TypeError):
    """A public function was called with an argument it cannot use.

    Also a ``ValueError`` and a ``TypeError`` (as scikit-learn's), and a
    :class:`ScreeningError` like every error the library raises. The message
    has one shape — "The 'x' parameter of f must be …. Got … instead." — and
    describes a wrong argument by its type and size only, never its contents
    (see :mod:`screening._params`).
    """

    def __init__(self, message: str | list[Issue], title: str = "invalid parameter") -> None:
        issues = list(message) if isinstance(message, list) else [Issue("invalid_parameter", str(message))]
        ScreeningError.__init__(self, issues, title)

    def __str__(self) -> str:
        return "\n".join(i.message for i in self.issues)
