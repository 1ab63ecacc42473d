"""Where the built-in scale and rule-set files are.

In a source checkout they are the top-level ``scales/`` and ``tiering_rules/``
folders; a built wheel carries copies under ``screening/_data/`` (see
``[tool.hatch.build.targets.wheel.force-include]`` in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["builtin_dir"]

_PKG = Path(__file__).resolve().parent.parent


def builtin_dir(kind: str) -> Path:
    """The folder of built-in files of ``kind`` (``"scales"`` or ``"tiering_rules"``)."""
    installed = _PKG / "_data" / kind
    if installed.is_dir():
        return installed
    checkout = _PKG.parent / kind
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"the built-in {kind} folder is missing from this installation "
        f"(looked in {installed} and {checkout}); reinstall the package"
    )
