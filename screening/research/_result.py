"""Small helpers for the frozen result objects: a readable text repr built from their tables."""

from __future__ import annotations

import pandas as pd

__all__ = ["frame_text"]


def frame_text(frame: pd.DataFrame, max_rows: int = 30, digits: int = 3) -> str:
    """A fixed-width text rendering of ``frame`` with floats rounded for reading (data unchanged)."""
    shown = frame.head(max_rows)
    with pd.option_context("display.width", 120, "display.max_columns", 30, "display.precision", digits):
        text = shown.to_string(float_format=lambda v: f"{v:.{digits}f}")
    if len(frame) > max_rows:
        text += f"\n… {len(frame) - max_rows} more rows"
    return text
