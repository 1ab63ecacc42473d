"""Optional dependencies (the ``report`` and ``progress`` extras), imported only when needed."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import Issue, ScreeningError

__all__ = ["require"]

_EXTRA = {"matplotlib": "report", "jinja2": "report", "tqdm": "progress"}


def require(module: str) -> ModuleType:
    """Import ``module`` or raise an error that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        extra = _EXTRA.get(top, "all")
        raise ScreeningError(
            [Issue("missing_dependency", f"{top} is needed for this", hint=f'pip install "screening[{extra}]"')],
            title=f"cannot import {top}",
        ) from None
