"""One message shape for every bad argument (after scikit-learn)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["InvalidParameterError", "check_choice", "check_type"]


class InvalidParameterError(ValueError, TypeError):
    """A public function was called with an argument it cannot use."""


def check_choice(func: str, name: str, value: Any, allowed: Iterable[Any]) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} must be one of {allowed}. Got {value!r} instead."
        )


def check_type(func: str, name: str, value: Any, types: type | tuple[type, ...], what: str) -> None:
    if not isinstance(value, types):
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} must be {what}. Got {type(value).__name__} instead."
        )
