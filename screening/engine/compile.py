"""Compile a validated :class:`~screening.specs.scale.ScaleSpec` into numpy arrays.

The compiled form is what the scoring loop uses: per-item bounds and keying
vectors, and a *block layout*: items that enter exactly the same scores with
the same weight and keying form a block, blocks are contiguous rows of the
chunk buffer, and each block of a chunk is summed once along its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..specs.common import normalise_label
from ..specs.scale import Band, ScaleSpec

__all__ = [
    "CompiledScale", "CompiledScore", "CompiledBands", "ItemTail", "Layout", "compile_scale", "normalise_label",
    "ScoreKind", "ScoreMethod", "MissingRule", "Rounding", "Status", "Term", "BlockRun", "CriticalCheck",
    "ValidityRule",
]

FloatArray = npt.NDArray[np.float64]


class ScoreKind(StrEnum):
    """What a score is computed from."""

    ITEMS = "items"  # answers to items
    SCORES = "scores"  # earlier scores of the same scale


class ScoreMethod(StrEnum):
    """How a score combines its parts (docs/scale-format.md, ``scores[].method``)."""

    SUM = "sum"
    MEAN = "mean"
    WEIGHTED_SUM = "weighted_sum"
    COUNT = "count"  # items whose raw answer meets ``count_if``
    SUM_IF = "sum_if"  # raw answers of the items that meet ``count_if``
    RATIO = "ratio"  # first score / second score

    @property
    def counts(self) -> bool:
        """Counts raw answers against a condition (``count``, ``sum_if``) instead of summing keyed values."""
        return self in (ScoreMethod.COUNT, ScoreMethod.SUM_IF)


class MissingRule(StrEnum):
    """What a blank part does to a score (``scores[].missing.impute``)."""

    NONE = "none"  # any blank part leaves the score unscored
    PRORATE = "prorate"  # scale the answered parts up to all parts (sums) / mean of the answered (means)
    ZERO = "zero"  # a blank counts as 0 (means still divide by all parts)


class Rounding(StrEnum):
    """How a score is rounded after its transform (``scores[].rounding.method``)."""

    NONE = "none"
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    FLOOR = "floor"
    CEIL = "ceil"


class Status(IntEnum):
    """Codes of the ``{scale}.status`` column; the categories are :data:`screening.columns.STATUS_VALUES`."""

    COMPLETE = 0
    PRORATED = 1
    INSUFFICIENT = 2
    INVALID = 3


class Term(NamedTuple):
    """One block's contribution to an item-based score."""

    block: int
    weight: float


class BlockRun(NamedTuple):
    """Neighbouring blocks of equal size, summed in one call."""

    first_block: int
    n_blocks: int
    size: int
    first_row: int


class CriticalCheck(NamedTuple):
    """A critical item: fires when the item's raw answer meets ``op value``."""

    id: str
    item: int  # item index (form order)
    op: str
    value: float


class ValidityRule(NamedTuple):
    """A validity check: fires when the score meets ``op value``; ``void``: a fired check unscores the rest."""

    id: str
    score: int  # score index
    op: str
    value: float
    void: bool


@dataclass(frozen=True)
class CompiledBands:
    """Bands as sorted edges: ``code = Σ_k [x ≥ edge_k]`` (or ``>`` where the lower band keeps the edge)."""

    set_name: str
    ids: tuple[str, ...]
    edges: FloatArray
    strict: npt.NDArray[np.bool_]  # True: edge belongs to the lower band (x > edge moves up)

    def codes(self, x: FloatArray) -> npt.NDArray[np.int8]:
        if x.size <= 64 and (self.strict.all() or not self.strict.any()):
            # a few rows (one student): one binary search per value instead of a pass per edge; the
            # number of edges below x (``>``: side "left", ``>=``: "right") is the same count
            found = np.searchsorted(self.edges, x, side="left" if self.strict.all() and len(self.strict) else "right")
            small = found.astype(np.int8)
            small[np.isnan(x)] = -1
            return small
        codes = np.zeros(x.shape, dtype=np.int8)
        for e, s in zip(self.edges, self.strict):
            codes += (x > e) if s else (x >= e)
        codes[np.isnan(x)] = -1
        return codes


@dataclass(frozen=True)
class CompiledScore:
    """One score of the scale, with its rules as enums and numbers."""

    id: str
    kind: ScoreKind
    method: ScoreMethod
    column: int  # column in the item weight matrix (items) or -1
    parts: tuple[int, ...]  # indices of earlier scores (kind == SCORES)
    n_parts: int
    min_answered: int
    impute: MissingRule
    multiply: float
    add: float
    rounding: Rounding
    digits: int
    direction: str
    count_items: npt.NDArray[np.intp] | None
    count_op: str | None
    count_value: float | None

    @property
    def transformed(self) -> bool:
        """A linear transform applies (``x * multiply + add``)."""
        return self.multiply != 1.0 or self.add != 0.0


@dataclass(frozen=True)
class Layout:
    """Chunk-buffer layout: row ``r`` of the buffer holds item ``order[r]``.

    Blocks are runs of rows ``starts[b] .. starts[b+1]`` whose items enter the
    same item-based sum/mean/weighted scores with the same weights, and share
    keying: forward, or reverse with the same ``lo + hi``. A reverse block's
    blanks are filled with ``lo + hi`` so that the keyed sum over answered
    cells is ``size * (lo + hi) - (block sum)`` without touching a cell.
    """

    order: npt.NDArray[np.intp]
    row_of: npt.NDArray[np.intp]
    starts: npt.NDArray[np.intp]
    bounds: tuple[tuple[int, int], ...]  # (first row, end row) of each block
    runs: tuple[BlockRun, ...]  # equal-sized neighbouring blocks
    sizes: npt.NDArray[np.float64]
    reverse_c: npt.NDArray[np.float64]  # per block: lo + hi for reverse blocks, NaN for forward ones
    block_lo: npt.NDArray[np.float64]  # per block: lowest keyed value of its items (for score bounds)
    block_hi: npt.NDArray[np.float64]  # per block: highest keyed value of its items
    fill: npt.NDArray[np.float64]  # (n_items, 1) per buffer row: what a blank becomes
    terms: tuple[tuple[Term, ...], ...]  # per item-based score column: (block, weight)
    signed: tuple[tuple[Term, ...], ...]  # per column: (block, weight on the block's raw sum)
    const: npt.NDArray[np.float64]  # per column: what reverse blocks add (weight * size * (lo + hi))
    lo: npt.NDArray[np.float64]  # per buffer row
    hi: npt.NDArray[np.float64]
    integral: npt.NDArray[np.bool_]  # per buffer row: options are exactly lo..hi


def _layout(n: int, lo: FloatArray, hi: FloatArray, reverse: npt.NDArray[np.bool_], weights: FloatArray,
            members: FloatArray, contiguous: npt.NDArray[np.bool_]) -> Layout:
    """Group items into blocks by (scores they enter with their weights, keying); see :class:`Layout`."""
    signature: dict[tuple[tuple[tuple[int, float], ...], bool, float, float, float], list[int]] = {}
    for k in range(n):
        # weight 0 = the item only counts as answered for the score (count scores)
        member = tuple((int(c), float(weights[k, c])) for c in np.flatnonzero(members[k] > 0))
        # the option range is part of the key, so that a block's blank items share their worst and best
        # keyed values (score bounds: block_lo/block_hi); items of one scale nearly always share it anyway
        key = (member, bool(reverse[k]), float(lo[k] + hi[k]) if reverse[k] else 0.0, float(lo[k]), float(hi[k]))
        signature.setdefault(key, []).append(k)
    keys = sorted(signature, key=lambda key: signature[key][0])  # keep form order as far as possible
    order: list[int] = []
    starts: list[int] = []
    reverse_c: list[float] = []
    block_lo: list[float] = []
    block_hi: list[float] = []
    terms: dict[int, list[Term]] = {}
    for b, key in enumerate(keys):
        starts.append(len(order))
        order.extend(signature[key])
        member, rev, c, blo, bhi = key
        reverse_c.append(c if rev else np.nan)
        block_lo.append(blo)  # keyed range: a reverse item c - x with x in [lo, hi] is again in [lo, hi]
        block_hi.append(bhi)
        for col, w in member:
            terms.setdefault(col, []).append(Term(b, w))
    order_a = np.array(order, dtype=np.intp)
    row_of = np.empty_like(order_a)
    row_of[order_a] = np.arange(n)
    starts_a = np.array(starts, dtype=np.intp)
    sizes = np.diff(np.append(starts_a, n)).astype(float)
    fill = np.where(reverse[order_a], (lo + hi)[order_a], 0.0)[:, None]
    n_cols = weights.shape[1]
    # a reverse block's keyed sum is size * c - raw sum (blanks hold c), so its raw sum enters with -weight
    # and weight * size * c is a per-score constant
    signed = []
    const = np.zeros(n_cols)
    for c in range(n_cols):
        pairs = []
        for blk, wt in terms.get(c, ()):
            if np.isnan(reverse_c[blk]):
                pairs.append(Term(blk, wt))
            else:
                pairs.append(Term(blk, -wt))
                const[c] += wt * float(sizes[blk]) * reverse_c[blk]
        signed.append(tuple(pairs))
    runs: list[BlockRun] = []
    for blk, size in enumerate(sizes.astype(int)):
        if runs and runs[-1].size == size:
            runs[-1] = runs[-1]._replace(n_blocks=runs[-1].n_blocks + 1)
        else:
            runs.append(BlockRun(blk, 1, int(size), int(starts_a[blk])))
    return Layout(
        order=order_a, row_of=row_of, starts=starts_a,
        bounds=tuple((int(a), int(b)) for a, b in zip(starts_a, np.append(starts_a[1:], n))), runs=tuple(runs),
        sizes=sizes, reverse_c=np.array(reverse_c), block_lo=np.array(block_lo), block_hi=np.array(block_hi), fill=fill,
        terms=tuple(tuple(terms.get(c, ())) for c in range(n_cols)),
        signed=tuple(signed), const=const,
        lo=lo[order_a][:, None], hi=hi[order_a][:, None], integral=contiguous[order_a],
    )


@dataclass(frozen=True)
class ItemTail:
    """Per item-based score (rows in score order), the constants of its missing-data arithmetic.

    ``value = total * mul / den`` where ``den`` is the number answered (``use_got``) or ``den_const``;
    it is sufficient where answered >= ``min_answered`` (== n when nothing may be missing).
    """

    index: npt.NDArray[np.intp]  # score positions of the item-based scores
    leading: bool  # they are the first scores of the file (their rows can be written in place)
    any_mul: bool
    all_use_got: bool
    n: npt.NDArray[np.float64]
    mul: npt.NDArray[np.float64]
    use_got: npt.NDArray[np.bool_]
    den_const: npt.NDArray[np.float64]
    min_answered: npt.NDArray[np.float64]
    # score bounds: per item-based score and block, what each blank of the block adds to the total at
    # best and at worst (``min``/``max`` of weight × the block's lowest and highest keyed option; a
    # ``count`` adds 0 or 1, a ``sum_if`` 0 or its highest positive option; 0 for blocks not in the score)
    blank_lo: npt.NDArray[np.float64]
    blank_hi: npt.NDArray[np.float64]


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
    item_tail: ItemTail
    weights: FloatArray  # (n_items, n_item_scores): keyed-value weights (1 for sum/mean; 0 for count scores)
    members: FloatArray  # (n_items, n_item_scores + 1): 1 where the item counts; last column all ones
    layout: Layout
    scores: tuple[CompiledScore, ...]
    bands: dict[str, dict[str, CompiledBands]]  # score id -> set name -> bands
    default_bands: dict[str, str]
    critical: tuple[CriticalCheck, ...]
    validity: tuple[ValidityRule, ...]
    #: what the kernels derive from these arrays, built on first use and kept with the scale (e.g. the
    #: compiled kernel's index tables, keyed by band choice), so that no call rebuilds it
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def void(self) -> tuple[bool, ...]:
        """Per validity check: a fired check leaves the other scores unscored."""
        return tuple(v.void for v in self.validity)

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
    # weights of keyed values in sums (0 for count scores, which count raw values separately)
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
                kind=ScoreKind.ITEMS if s.items is not None else ScoreKind.SCORES,
                method=ScoreMethod(s.method),
                column=col_of.get(s.id, -1),
                parts=tuple(pos[p] for p in (s.scores or ())),
                n_parts=n_parts,
                min_answered=n_parts if s.missing.min_answered is None else s.missing.min_answered,
                impute=MissingRule(s.missing.impute),
                multiply=s.transform.multiply if s.transform else 1.0,
                add=s.transform.add if s.transform else 0.0,
                rounding=Rounding(s.rounding.method),
                digits=s.rounding.digits,
                direction=s.direction,
                count_items=(np.array([index[i] for i in s.items], dtype=np.intp)
                             if ScoreMethod(s.method).counts and s.items else None),
                count_op=s.count_if.op if s.count_if else None,
                count_value=s.count_if.value if s.count_if else None,
            )
        )

    items_idx = [i for i, c in enumerate(compiled) if c.kind is ScoreKind.ITEMS]
    tail_n = np.array([compiled[i].n_parts for i in items_idx], dtype=float)
    is_mean = np.array([compiled[i].method is ScoreMethod.MEAN for i in items_idx], dtype=bool)
    impute = [compiled[i].impute for i in items_idx]
    prorate = np.array([x is MissingRule.PRORATE for x in impute], dtype=bool)
    zero = np.array([x is MissingRule.ZERO for x in impute], dtype=bool)
    use_got = (is_mean & ~zero) | (~is_mean & prorate)
    mul = np.where(~is_mean & prorate, tail_n, 1.0)
    layout = _layout(n, lo, hi, reverse, weights, members[:, :-1], contiguous)
    blank_lo = np.zeros((len(items_idx), len(layout.starts)))
    blank_hi = np.zeros((len(items_idx), len(layout.starts)))
    for row, i in enumerate(items_idx):
        score = compiled[i]
        for blk, wt in layout.terms[score.column]:
            if score.method is ScoreMethod.COUNT:
                blank_hi[row, blk] = 1.0  # each blank could meet the condition
            elif score.method is ScoreMethod.SUM_IF:
                blank_hi[row, blk] = max(float(layout.block_hi[blk]), 0.0)
            else:
                a_, b_ = wt * layout.block_lo[blk], wt * layout.block_hi[blk]
                blank_lo[row, blk] = min(a_, b_)
                blank_hi[row, blk] = max(a_, b_)
    item_tail = ItemTail(
        index=np.array(items_idx, dtype=np.intp),
        leading=items_idx == list(range(len(items_idx))),
        any_mul=bool((mul != 1.0).any()),
        all_use_got=bool(use_got.all()),
        n=tail_n,
        mul=mul,
        use_got=use_got,
        den_const=np.where(is_mean & zero, tail_n, 1.0),
        min_answered=np.array([compiled[i].n_parts if compiled[i].impute is MissingRule.NONE else compiled[i].min_answered
                               for i in items_idx], dtype=float),
        blank_lo=blank_lo,
        blank_hi=blank_hi,
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
        item_tail=item_tail,
        layout=layout,
        scores=tuple(compiled),
        bands=bands,
        default_bands=default_bands,
        critical=tuple(CriticalCheck(c.id, index[c.item], c.op, c.value) for c in spec.critical),
        validity=tuple(ValidityRule(v.id, pos[v.score], v.op, v.value, v.void_scores) for v in spec.validity),
    )

