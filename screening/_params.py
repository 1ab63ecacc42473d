"""Declared parameter validation with one message shape (after scikit-learn's ``validate_params``).

Every bad argument to a public function gets the same sentence::

    The 'lang' parameter of screen must be one of ['zh', 'en']. Got a str of length 3 instead.

The wrong value itself is never shown — only its type and size (:func:`describe`):
a caller who passes ``df["student_id"]`` where a list of scale ids belongs must
not find the ids in an exception, a log or a traceback.

Constraints are declared next to the function::

    @validate_params({"responses": [DataFrame], "n_jobs": [Interval(int, 1, None)],
                      "lang": [Options("zh", "en")]})
    def screen(responses, ..., lang="zh", n_jobs=1): ...

A parameter passes when it satisfies any of its constraints. A constraint is a
type (``isinstance``), ``None``, or one of :class:`Options`, :class:`Interval`,
:class:`ListOf`, :class:`Check`.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import InvalidParameterError

__all__ = [
    "InvalidParameterError",
    "Check",
    "Interval",
    "ListOf",
    "Options",
    "check",
    "check_choice",
    "check_type",
    "describe",
    "invalid",
    "validate_params",
]

F = TypeVar("F", bound=Callable[..., Any])


def _article(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def describe(value: Any) -> str:
    """What a value is — its type and size, never its contents (``a Series of length 120``)."""
    if value is None:
        return "None"
    kind = type(value).__name__
    if isinstance(value, (bool, numbers.Number)):
        return _article(kind)
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and len(shape) > 1 and all(isinstance(n, int) for n in shape):
        return f"{_article(kind)} of shape {shape}"
    try:
        n = len(value)
    except Exception:  # an object whose len() fails is still described by its type
        return _article(kind)
    return f"{_article(kind)} of length {n}" if isinstance(n, int) else _article(kind)


def invalid(func: str, name: str, what: str, value: Any) -> InvalidParameterError:
    """The one error for a bad argument (raise it): ``The 'name' parameter of func must be what. Got … instead.``"""
    return InvalidParameterError(f"The {name!r} parameter of {func} must be {what}. Got {describe(value)} instead.")


class Constraint:
    """One acceptable form of a parameter."""

    what: str = ""

    def accepts(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True, init=False)
class Options(Constraint):
    """One of a fixed set of library-defined values (these are shown; the argument never is)."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", values)

    def accepts(self, value: Any) -> bool:
        try:
            return any(isinstance(value, type(v)) and bool(value == v) for v in self.values)
        except Exception:  # comparing an odd object (an array) is simply not a match
            return False

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"one of {list(self.values)}"


@dataclass(frozen=True)
class Interval(Constraint):
    """A real number (or, with ``int``, a whole number — never a bool) in ``[low, high]``; None = unbounded.

    ``closed`` says which ends are included: ``"both"``, ``"left"``, ``"right"`` or ``"neither"``.
    """

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if not isinstance(value, numbers.Real) or value != value:  # NaN
            return False
        value = float(value)
        lo_ok = self.low is None or (value >= self.low if self.closed in ("both", "left") else value > self.low)
        hi_ok = self.high is None or (value <= self.high if self.closed in ("both", "right") else value < self.high)
        return bool(lo_ok and hi_ok)

    @property
    def what(self) -> str:  # type: ignore[override]
        kind = "an int" if self.kind is int else "a number"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{kind} in the range {left}{low}, {high}{right}"


@dataclass(frozen=True)
class ListOf(Constraint):
    """A list or tuple (never a str, a Series or a mapping) whose elements each satisfy ``item``."""

    item: Any
    noun: str
    min_len: int = 0

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, (list, tuple)) or len(value) < self.min_len:
            return False
        return all(_accepts(self.item, v) for v in value)

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"a {'non-empty ' if self.min_len else ''}list of {self.noun}"


@dataclass(frozen=True)
class Check(Constraint):
    """Any predicate, with the phrase that describes what it accepts."""

    predicate: Callable[[Any], bool]
    description: str

    def accepts(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except Exception:  # a predicate that cannot judge the value rejects it
            return False

    @property
    def what(self) -> str:  # type: ignore[override]
        return self.description


_TYPE_WORDS = {str: "a str", int: "an int", float: "a float", bool: "a bool", dict: "a dict", list: "a list"}


def _accepts(constraint: Any, value: Any) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, type):
        if constraint is int and isinstance(value, bool):
            return False
        return isinstance(value, constraint)
    return bool(constraint.accepts(value))


def _what(constraint: Any) -> str:
    if constraint is None:
        return "None"
    if isinstance(constraint, type):
        if constraint in _TYPE_WORDS:
            return _TYPE_WORDS[constraint]
        mod = constraint.__module__.split(".")[0]
        name = f"{mod} {constraint.__name__}" if mod in ("pandas", "numpy") else constraint.__name__
        return _article(name)
    return str(constraint.what)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def check(func: str, name: str, value: Any, *constraints: Any) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` satisfies one of ``constraints``."""
    if not any(_accepts(c, value) for c in constraints):
        raise invalid(func, name, _join([_what(c) for c in constraints]), value)


def check_choice(func: str, name: str, value: Any, allowed: Iterable[Any]) -> None:
    """``value`` must be one of ``allowed`` (shown in the message; ``value`` never is)."""
    check(func, name, value, Options(*allowed))


def check_type(func: str, name: str, value: Any, types: type | tuple[type, ...], what: str) -> None:
    """``value`` must be an instance of ``types``, described to the user as ``what``."""
    check(func, name, value, Check(lambda v: isinstance(v, types), what))


def validate_params(constraints: Mapping[str, Sequence[Any]], *, name: str | None = None) -> Callable[[F], F]:
    """Decorator: check the declared parameters of a public function on every call.

    ``constraints`` maps a parameter name to the list of forms it may take.
    Parameters not named are not checked here (their checks need other
    arguments, e.g. a band-set name needs the loaded scale).
    """

    def decorate(func: F) -> F:
        sig = inspect.signature(func)
        unknown = set(constraints) - set(sig.parameters)
        if unknown:  # a typo in a declaration is a bug in the library, found at import
            raise RuntimeError(f"validate_params on {func.__qualname__}: no parameters {sorted(unknown)}")
        fname = name or func.__name__

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(*args, **kwargs)
            for pname, allowed in constraints.items():
                if pname in bound.arguments:
                    check(fname, pname, bound.arguments[pname], *allowed)
            return func(*args, **kwargs)

        wrapper.__validated_params__ = dict(constraints)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def is_engine_frame(value: Any) -> bool:
    """A Dask or Spark DataFrame (told by its module, without importing either engine)."""
    return not isinstance(value, (str, bytes)) and type(value).__module__.split(".")[0] in ("dask", "dask_expr", "pyspark")


#: The form of ``responses`` handed to an engine (see screening.scaleout).
ENGINE_FRAME = Check(is_engine_frame, "a Dask or Spark DataFrame")
