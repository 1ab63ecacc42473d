"""Turn pydantic validation errors into :class:`~screening.errors.Issue` with YAML paths and hints."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Issue, did_you_mean, format_path

__all__ = ["validation_issues", "model_at"]


def _unwrap(tp: Any) -> list[Any]:
    """The concrete types an annotation may hold (unions, Optional and Annotated opened up)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for a in typing.get_args(tp):
            out += _unwrap(a)
        return out
    return [tp]


def model_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The pydantic model found at ``loc`` inside ``root`` (None when the path leaves models)."""
    current: list[Any] = [root]
    for part in loc:
        nxt: list[Any] = []
        for tp in current:
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                if isinstance(part, str) and part in tp.model_fields:
                    nxt += _unwrap(tp.model_fields[part].annotation)
                continue
            origin = typing.get_origin(tp)
            args = typing.get_args(tp)
            if origin in (tuple, list) and args:
                if isinstance(part, int):
                    nxt += _unwrap(args[0])
            elif origin is dict and len(args) == 2:
                nxt += _unwrap(args[1])
        current = nxt
    for tp in current:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return tp
    return None


_CODES = {
    "extra_forbidden": "unknown_key",
    "missing": "missing_key",
    "literal_error": "invalid_choice",
    "too_short": "too_short",
    "value_error": "invalid_value",
}


def validation_issues(exc: ValidationError, root: type[BaseModel], file: str = "") -> list[Issue]:
    """One issue per pydantic error, with a did-you-mean hint for misspelt keys."""
    issues = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = tuple(err["loc"])
        etype = err["type"]
        code = _CODES.get(etype, "invalid_value")
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        hint = ""
        if etype == "extra_forbidden":
            parent = model_at(root, loc[:-1])
            if parent is not None:
                hint = did_you_mean(str(loc[-1]), parent.model_fields) or (
                    "allowed keys: " + ", ".join(parent.model_fields)
                )
            msg = f"unknown key {loc[-1]!r}"
        elif etype == "missing":
            msg = f"required key {loc[-1]!r} is missing"
        issues.append(Issue(code, msg, path=format_path(loc), file=file, hint=hint))
    return issues
