"""Compile a validated :class:`~screening.specs.scale.ScaleSpec` into numpy arrays.

The compiled form is what the scoring loop uses: per-item bounds and keying
vectors, and one weight matrix so that every item-based score of a chunk is a
single matrix product.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..specs.scale import Band, ScaleSpec

__all__ = ["CompiledScale", "CompiledScore", "CompiledBands", "compile_scale", "normalise_label"]

FloatArray = npt.NDArray[np.float64]


def normalise_label(text: str) -> str:
    """Fold full/half width, case and surrounding space so labels match across exports."""
    return unicodedata.normalize("NFKC", str(text)).strip().casefold()


@dataclass(frozen=True)
class CompiledBands:
    """Bands as sorted edges: ``code = Σ_k [x ≥ edge_k]`` (or ``>`` where the lower band keeps the edge)."""

    set_name: str
    ids: tuple[str, ...]
    edges: FloatArray
    strict: npt.NDArray[np.bool_]  # True: edge belongs to the lower band (x > edge moves up)

    def codes(self, x: FloatArray) -> npt.NDArray[np.int8]:
        codes = np.zeros(x.shape, dtype=np.int8)
        for e, s in zip(self.edges, self.strict):
            codes += (x > e) if s else (x >= e)
        codes[np.isnan(x)] = -1
        return codes


@dataclass(frozen=True)
class CompiledScore:
    id: str
    kind: str  # "items" | "scores"
    method: str
    column: int  # column in the item weight matrix (items) or -1
    parts: tuple[int, ...]  # indices of earlier scores (kind == "scores")
    n_parts: int
    min_answered: int
    impute: str
    multiply: float
    add: float
    rounding: str
    digits: int
    direction: str
    count_items: npt.NDArray[np.intp] | None
    count_op: str | None
    count_value: float | None


@dataclass(frozen=True)
class CompiledScale:
    """Arrays for scoring one scale (built once, reused for every table)."""

    id: str
    item_ids: tuple[str, ...]
    lo: FloatArray
    hi: FloatArray
    contiguous: npt.NDArray[np.bool_]  # options are exactly the integers lo..hi
    allowed: tuple[FloatArray, ...]  # sorted option values per item
    option_values: tuple[FloatArray, ...]  # option values in form order (for 1-based indices)
    label_maps: tuple[dict[str, float], ...]
    sign: FloatArray
    offset: FloatArray
    weights: FloatArray  # (n_items, n_item_scores): keyed-value weights
    members: FloatArray  # (n_items, n_item_scores + 1): 1 where the item counts; last column all ones
    scores: tuple[CompiledScore, ...]
    bands: dict[str, dict[str, CompiledBands]]  # score id -> set name -> bands
    default_bands: dict[str, str]
    critical: tuple[tuple[str, int, str, float], ...]  # (id, item index, op, value)
    validity: tuple[tuple[str, int, str, float], ...]  # (id, score index, op, value)
    void: tuple[bool, ...]  # per validity check: a fired check leaves the other scores unscored

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def score_index(self, score_id: str) -> int:
        for i, s in enumerate(self.scores):
            if s.id == score_id:
                return i
        raise KeyError(score_id)


def _compile_bands(name: str, bands: tuple[Band, ...]) -> CompiledBands:
    ordered = sorted(bands, key=lambda b: b.lower[0] if b.lower is not None else float("-inf"))
    edges, strict = [], []
    for b in ordered[1:]:
        lower = b.lower
        if lower is None:  # pragma: no cover - excluded by the tiling check
            raise ValueError("only the lowest band may be open below")
        edges.append(lower[0])
        strict.append(not lower[1])
    return CompiledBands(name, tuple(b.id for b in ordered), np.array(edges, dtype=float), np.array(strict, dtype=bool))


def compile_scale(spec: ScaleSpec) -> CompiledScale:
    """Turn a validated spec into arrays. The spec must have passed :func:`parse_scale`."""
    item_ids = tuple(spec.item_ids())
    index = {iid: k for k, iid in enumerate(item_ids)}
    n = len(item_ids)
    lo = np.empty(n)
    hi = np.empty(n)
    contiguous = np.zeros(n, dtype=bool)
    allowed: list[FloatArray] = []
    option_values: list[FloatArray] = []
    label_maps: list[dict[str, float]] = []
    for k, item in enumerate(spec.items):
        opts = spec.option_sets[item.options]
        vals = np.array([o.value for o in opts], dtype=float)
        uniq = np.unique(vals)
        lo[k], hi[k] = uniq[0], uniq[-1]
        contiguous[k] = bool(
            np.all(uniq == np.floor(uniq)) and len(uniq) == int(uniq[-1] - uniq[0]) + 1
        )
        allowed.append(uniq)
        option_values.append(vals)
        labels: dict[str, float] = {}
        for o in opts:
            for text in (o.label.zh, o.label.en, *o.aliases):
                if text:
                    labels[normalise_label(text)] = o.value
        label_maps.append(labels)

    reverse = np.zeros(n, dtype=bool)
    for r in spec.reverse:
        reverse[index[r]] = True
    sign = np.where(reverse, -1.0, 1.0)
    offset = np.where(reverse, lo + hi, 0.0)

    item_scores = [s for s in spec.scores if s.items is not None]
    weights = np.zeros((n, len(item_scores)))
    members = np.zeros((n, len(item_scores) + 1))
    members[:, -1] = 1.0
    col_of: dict[str, int] = {}
    for c, s in enumerate(item_scores):
        col_of[s.id] = c
        for iid in s.items or ():
            members[index[iid], c] = 1.0
            if s.method == "weighted_sum":
                weights[index[iid], c] = (s.weights or {})[iid]
            elif s.method in ("sum", "mean"):
                weights[index[iid], c] = 1.0

    compiled: list[CompiledScore] = []
    pos: dict[str, int] = {}
    for s in spec.scores:
        pos[s.id] = len(compiled)
        n_parts = len(s.items or s.scores or ())
        compiled.append(
            CompiledScore(
                id=s.id,
                kind="items" if s.items is not None else "scores",
                method=s.method,
                column=col_of.get(s.id, -1),
                parts=tuple(pos[p] for p in (s.scores or ())),
                n_parts=n_parts,
                min_answered=n_parts if s.missing.min_answered is None else s.missing.min_answered,
                impute=s.missing.impute,
                multiply=s.transform.multiply if s.transform else 1.0,
                add=s.transform.add if s.transform else 0.0,
                rounding=s.rounding.method,
                digits=s.rounding.digits,
                direction=s.direction,
                count_items=np.array([index[i] for i in s.items], dtype=np.intp) if s.method == "count" and s.items else None,
                count_op=s.count_if.op if s.count_if else None,
                count_value=s.count_if.value if s.count_if else None,
            )
        )

    bands: dict[str, dict[str, CompiledBands]] = {}
    default_bands: dict[str, str] = {}
    for s in spec.scores:
        if s.bands is not None:
            bands[s.id] = {name: _compile_bands(name, bs.bands) for name, bs in s.bands.sets.items()}
            default_bands[s.id] = s.bands.default

    return CompiledScale(
        id=spec.id,
        item_ids=item_ids,
        lo=lo,
        hi=hi,
        contiguous=contiguous,
        allowed=tuple(allowed),
        option_values=tuple(option_values),
        label_maps=tuple(label_maps),
        sign=sign,
        offset=offset,
        weights=weights,
        members=members,
        scores=tuple(compiled),
        bands=bands,
        default_bands=default_bands,
        critical=tuple((c.id, index[c.item], c.op, c.value) for c in spec.critical),
        validity=tuple((v.id, pos[v.score], v.op, v.value) for v in spec.validity),
        void=tuple(v.void_scores for v in spec.validity),
    )

