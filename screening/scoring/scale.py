"""A loaded scale: its validated spec, its compiled arrays, where it came from and its content hash.

The type every layer above passes around; :func:`screening.load_scale` (``scoring/catalog.py``) builds it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .. import columns as C
from ..engine.compile import CompiledScale
from ..specs.scale import ScaleSpec

__all__ = ["Scale", "content_hash"]


def content_hash(model: Any) -> str:
    """SHA-256 of a spec's canonical JSON: the same definition gives the same hash, whatever its layout."""
    data = model.model_dump(mode="json")
    if isinstance(data, dict) and "codes" in data and data["codes"] is None:
        del data["codes"]  # the optional `codes` block (added later) leaves the hash of a scale without one unchanged
    if isinstance(data, dict) and data.get("change") == []:
        del data["change"]  # the optional reliable-change block, when absent, leaves earlier hashes unchanged
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, repr=False, eq=False)
class Scale:
    """A loaded scale: its validated spec, compiled arrays, where it came from and its content hash."""

    spec: ScaleSpec
    compiled: CompiledScale
    source: str
    content_hash: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def items(self) -> list[str]:
        return self.spec.item_ids()

    @property
    def score_ids(self) -> list[str]:
        return [s.id for s in self.spec.scores]

    def input_columns(self, prefix: str | None = None) -> list[str]:
        """The default input column of each item (``phq9_1`` … ``phq9_9``)."""
        if prefix is None:
            return [C.item_input_col(self.id, i) for i in self.items]
        return [f"{prefix}{i}" for i in self.items]

    def __repr__(self) -> str:
        s = self.spec
        return (
            f"<Scale {s.id} v{s.version}: {s.title.get('en')} — {len(s.items)} items, "
            f"scores {', '.join(self.score_ids)}>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        s = self.spec
        rows = []
        for sc in s.scores:
            bands = ""
            if sc.bands is not None:
                bset = sc.bands.sets[sc.bands.default]
                bands = ", ".join(b.id for b in bset.bands)
            rows.append(
                f"<tr><td>{escape(sc.id)}</td><td>{escape(sc.label.get('en'))}</td>"
                f"<td>{len(sc.items or sc.scores or ())}</td><td>{escape(sc.method)}</td><td>{escape(bands)}</td></tr>"
            )
        crit = ", ".join(f"{c.id} (item {c.item} {c.op} {c.value:g})" for c in s.critical) or "none"
        return (
            f"<div><b>{escape(s.title.get('en'))}</b> / {escape(s.title.get('zh'))} "
            f"<code>{escape(s.id)}</code> v{escape(s.version)}<br>"
            f"<small>{escape(s.form)} · {len(s.items)} items · licence: {escape(s.license.verdict)} · "
            f"critical: {escape(crit)}</small>"
            "<table><thead><tr><th>score</th><th>label</th><th>parts</th><th>method</th><th>bands</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )
