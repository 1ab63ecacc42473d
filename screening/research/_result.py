"""Small helpers for the frozen result objects: a readable text repr built from their tables."""

from __future__ import annotations

import pandas as pd

__all__ = ["frame_html", "frame_text", "html_view"]


def frame_text(frame: pd.DataFrame, max_rows: int = 30, digits: int = 3) -> str:
    """A fixed-width text rendering of ``frame`` with floats rounded for reading (data unchanged)."""
    shown = frame.head(max_rows)
    with pd.option_context("display.width", 120, "display.max_columns", 30, "display.precision", digits):
        text = shown.to_string(float_format=lambda v: f"{v:.{digits}f}")
    if len(frame) > max_rows:
        text += f"\n… {len(frame) - max_rows} more rows"
    return text


def frame_html(frame: pd.DataFrame, max_rows: int = 30, digits: int = 3) -> str:
    """An HTML table of ``frame`` (escaped) with floats rounded for reading."""
    shown = frame.head(max_rows)
    html = shown.to_html(float_format=lambda v: f"{v:.{digits}f}", border=0, escape=True, na_rep="—")
    if len(frame) > max_rows:
        html += f"<p><small>… {len(frame) - max_rows} more rows</small></p>"
    return html


def html_view(title: str, lines: list[str], frames: list[tuple[str, pd.DataFrame]]) -> str:
    """Notebook view of a result object: an escaped title, a few lines and its tables (aggregates only)."""
    from html import escape

    parts = [f"<div class='screening-result'><strong>{escape(title)}</strong>"]
    parts += [f"<div>{escape(line)}</div>" for line in lines]
    for caption, frame in frames:
        parts.append(f"<details open><summary>{escape(caption)}</summary>{frame_html(frame)}</details>")
    parts.append("</div>")
    return "".join(parts)
