"""Facts derived from a scale spec by plain arithmetic (no numpy): value ranges of items and scores."""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from .scale import Rounding, ScaleSpec, Score

__all__ = ["item_range", "score_range", "round_value"]

_DECIMAL_MODES = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "floor": ROUND_FLOOR,
    "ceil": ROUND_CEILING,
}


def round_value(x: float, rounding: Rounding) -> float:
    """Round one number as a score's ``rounding`` says (reference implementation, used for checks)."""
    if rounding.method == "none" or not math.isfinite(x):  # a ratio's range may be unbounded: ±inf stays itself
        return x
    q = Decimal(1).scaleb(-rounding.digits)
    return float(Decimal(repr(x)).quantize(q, rounding=_DECIMAL_MODES[rounding.method]))


def item_range(spec: ScaleSpec, item_id: str) -> tuple[float, float]:
    """Lowest and highest value an item can score (reverse keying keeps the range)."""
    item = next(i for i in spec.items if i.id == item_id)
    values = [o.value for o in spec.option_sets[item.options]]
    return (min(values), max(values))


def score_range(spec: ScaleSpec, score: Score, _memo: dict[str, tuple[float, float]] | None = None) -> tuple[float, float]:
    """The range a score can take, including prorated and imputed values.

    For ``mean`` scores the range is the widest item range (a mean of any
    answered subset stays inside it). Assumes the spec passed cross-field
    checks for the parts it touches.
    """
    memo = {} if _memo is None else _memo
    if score.id in memo:
        return memo[score.id]
    if score.items is not None:
        ranges = [item_range(spec, i) for i in score.items]
        if score.missing.impute == "zero":
            ranges = [(min(lo, 0.0), max(hi, 0.0)) for lo, hi in ranges]
        if score.method == "sum":
            lo, hi = sum(r[0] for r in ranges), sum(r[1] for r in ranges)
        elif score.method == "mean":
            lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        elif score.method == "count":
            lo, hi = 0.0, float(len(ranges))
        elif score.method == "sum_if":  # any subset of the items may meet the condition
            lo = sum(min(r[0], 0.0) for r in ranges)
            hi = sum(max(r[1], 0.0) for r in ranges)
        else:  # weighted_sum
            w = score.weights or {}
            lo = sum(min(w.get(i, 0.0) * a, w.get(i, 0.0) * b) for i, (a, b) in zip(score.items, ranges))
            hi = sum(max(w.get(i, 0.0) * a, w.get(i, 0.0) * b) for i, (a, b) in zip(score.items, ranges))
    else:
        parts = [score_range(spec, spec.score(s), memo) for s in score.scores or ()]
        if score.method == "ratio":
            (a0, a1), (b0, b1) = parts
            if b0 > 0 or b1 < 0:
                quotients = [a0 / b0, a0 / b1, a1 / b0, a1 / b1]
                lo, hi = min(quotients), max(quotients)
            else:  # the denominator can be 0: no finite bound
                lo, hi = float("-inf"), float("inf")
        elif score.method == "sum":
            lo, hi = sum(p[0] for p in parts), sum(p[1] for p in parts)
        else:
            lo, hi = min(p[0] for p in parts), max(p[1] for p in parts)
    if score.transform is not None:
        a, b = lo * score.transform.multiply + score.transform.add, hi * score.transform.multiply + score.transform.add
        lo, hi = min(a, b), max(a, b)
    lo, hi = round_value(lo, score.rounding), round_value(hi, score.rounding)
    memo[score.id] = (lo, hi)
    return (lo, hi)
