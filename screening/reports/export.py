"""Writing tables with the "screening, not diagnosis" label and the provenance on every file.

CSV is a plain table (the header on row 1, so Excel opens it as it is) with the
disclaimer and provenance in a sidecar ``<name>.provenance.json``; Excel gets a
print header and a ``provenance`` sheet, JSON a wrapper object, Parquet the
table's metadata, HTML a banner and a footer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from ..columns import DISCLAIMER
from ..errors import Issue, ScreeningError

__all__ = ["FORMATS", "meta_of", "sidecar_of", "write_frame"]

FORMATS = (".csv", ".xlsx", ".parquet", ".json", ".html")


def sidecar_of(path: str | Path) -> Path:
    """Where the provenance of a CSV file is written: ``x.csv`` → ``x.provenance.json``."""
    p = Path(path)
    return p.with_name(p.stem + ".provenance.json")


def meta_of(frame: pd.DataFrame, provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What is stamped on a file: disclaimer, provenance, and the table's own settings (``attrs``)."""
    meta = dict(frame.attrs.get("screening", {}))
    meta.setdefault("disclaimer", dict(DISCLAIMER))
    if provenance is not None:
        meta["provenance"] = dict(provenance)
    meta.setdefault("written", dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat())
    return meta


def _json(obj: Any, **kw: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str, **kw)


def write_frame(frame: pd.DataFrame, path: str | Path, *, provenance: Mapping[str, Any] | None = None,
                index: bool = False) -> Path:
    """Write ``frame`` as CSV (UTF-8 with BOM, for Excel), Excel, Parquet, JSON or HTML, chosen by suffix.

    Every file says "screening, not diagnosis" (:data:`screening.columns.DISCLAIMER`)
    and carries the provenance (library version, rule set and scale hashes).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise ScreeningError([Issue("bad_format", f"cannot write {p.name}", hint=f"use one of {', '.join(FORMATS)}")],
                             title="cannot write the output")
    p.parent.mkdir(parents=True, exist_ok=True)
    meta = meta_of(frame, provenance)
    disclaimer = meta["disclaimer"]
    data = frame.reset_index() if index else frame
    if suffix == ".csv":
        with open(p, "w", encoding="utf-8-sig", newline="") as fh:
            data.to_csv(fh, index=False, lineterminator="\n")
        sidecar_of(p).write_text(_json({"file": p.name, "disclaimer": disclaimer,
                                        **{k: v for k, v in meta.items() if k != "disclaimer"}}, indent=1),
                                 encoding="utf-8")
    elif suffix == ".xlsx":
        with pd.ExcelWriter(p, engine="openpyxl") as xw:
            data.to_excel(xw, sheet_name="data", index=False)
            about = pd.DataFrame({"item": ["disclaimer (zh)", "disclaimer (en)", *[k for k in meta if k != "disclaimer"]],
                                  "value": [disclaimer["zh"], disclaimer["en"],
                                            *[_json(v) if not isinstance(v, str) else v for k, v in meta.items() if k != "disclaimer"]]})
            about.to_excel(xw, sheet_name="provenance", index=False)
            ws = xw.sheets["data"]
            ws.oddHeader.center.text = f"{disclaimer['zh']} {disclaimer['en']}"
            ws.freeze_panes = "A2"
            for col in ws.columns:  # readable column widths (CJK counts double)
                width = max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(c.value or "")) for c in col[:200]), default=8)
                ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 60)
    elif suffix == ".parquet":
        out = data.copy()
        out.attrs = {"screening": json.loads(_json(meta))}
        out.to_parquet(p, index=False)
    elif suffix == ".json":
        records = json.loads(data.to_json(orient="records", force_ascii=False, date_format="iso"))
        p.write_text(_json({"disclaimer": disclaimer, "meta": {k: v for k, v in meta.items() if k != "disclaimer"},
                            "data": records}, indent=1), encoding="utf-8")
    else:
        table = data.to_html(index=False, na_rep="—", border=0, escape=True)
        prov = escape(_json(meta.get("provenance", {}), indent=1))
        p.write_text(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>screening</title>"
            "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px}.banner{background:#fff3e0;border:1px solid #e65100;"
            "padding:.5em;margin-bottom:1em}</style></head><body>"
            f"<div class='banner'>{escape(disclaimer['zh'])}<br>{escape(disclaimer['en'])}</div>{table}"
            f"<details><summary>provenance</summary><pre>{prov}</pre></details></body></html>",
            encoding="utf-8",
        )
    return p
