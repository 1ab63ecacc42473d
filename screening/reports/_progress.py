"""Progress bars only where someone watches: a terminal (stderr is a TTY) or a notebook."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

__all__ = ["progress_iter", "want_progress"]


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def want_progress(progress: bool | None) -> bool:
    """``None`` (auto): only when stderr is a terminal or we run in a notebook; tqdm must be installed."""
    if progress is False:
        return False
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        if not ((isatty is not None and isatty()) or _in_notebook()):
            return False
    try:
        import tqdm.auto  # noqa: F401
    except ImportError:
        return False
    return True


def progress_iter(items: Iterable[T], *, total: int | None = None, desc: str = "", progress: bool | None = None) -> Iterator[T]:
    """``items`` with a tqdm bar when :func:`want_progress` says so, else unchanged."""
    if not want_progress(progress):
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, total=total, desc=desc, leave=False)
