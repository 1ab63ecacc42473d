"""The vectorised scoring kernel.

A table is scored in row chunks. Each chunk is copied into one float matrix
(rows × items) that stays in cache; validation, reverse keying and missing
counts are whole-matrix operations, and every item-based score of the chunk
is one matrix product (keyed values × weights). No Python code runs per
student. Chunks are independent, so results do not depend on chunk size or
row order, and chunks may run on threads (numpy releases the GIL).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import columns as C
from ..errors import Issue
from .compile import CompiledScale
from .responses import ParsedColumn

__all__ = ["Plan", "Outputs", "run_kernel", "OPS"]

OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}

MAX_ROWS_REPORTED = 10


@dataclass
class Plan:
    """What to compute for one scale: chosen band sets and whether to keep item values."""

    cs: CompiledScale
    band_sets: dict[str, str]  # score id -> band set name
    keep_items: bool
    on_invalid: str  # "raise" | "missing"


@dataclass
class Outputs:
    """Preallocated result arrays that chunks write into (column-major)."""

    scores: npt.NDArray[np.float64]
    bands: npt.NDArray[np.int8]
    status: npt.NDArray[np.int8]
    n_missing: npt.NDArray[np.int16]
    n_invalid: npt.NDArray[np.int16]
    critical: npt.NDArray[np.int8]
    validity: npt.NDArray[np.int8]
    items: npt.NDArray[np.float64] | None
    bad_count: npt.NDArray[np.int64]
    bad_rows: list[list[int]] = field(default_factory=list)


def _round(x: npt.NDArray[np.float64], method: str, digits: int) -> npt.NDArray[np.float64]:
    if method == "none":
        return x
    scale = 10.0**digits
    y = x * scale
    if method == "half_up":
        # away from zero at .5, with a tiny tolerance so 2.675*100 = 267.49999… still rounds up
        y = np.sign(y) * np.floor(np.abs(y) + 0.5 + 1e-9)
    elif method == "half_even":
        y = np.round(y)
    elif method == "floor":
        y = np.floor(y + 1e-9)
    else:
        y = np.ceil(y - 1e-9)
    return y / scale


def _chunk(plan: Plan, cols: list[ParsedColumn], a: int, b: int, out: Outputs) -> list[tuple[int, int, list[int]]]:
    """Score rows a..b into ``out``; return the bad cells found as (item, count, first rows)."""
    cs = plan.cs
    m = b - a
    X = np.empty((m, cs.n_items))
    for k, col in enumerate(cols):
        X[:, k] = col.values[a:b]

    N = np.isnan(X)
    # cells that are answered but are not an option value
    bad = (X < cs.lo) | (X > cs.hi)
    frac = np.floor(X)
    np.not_equal(frac, X, out=frac)  # reuse buffer: 1.0 where not a whole number (NaN counts, masked next)
    cont = cs.contiguous
    if cont.all():
        bad |= (frac != 0) & ~N
    else:
        bad[:, cont] |= (frac[:, cont] != 0) & ~N[:, cont]
        for k in np.flatnonzero(~cont):
            if not cols[k].checked:
                bad[:, k] = ~np.isin(X[:, k], cs.allowed[k]) & ~N[:, k]
    for k, col in enumerate(cols):
        if col.bad is not None:
            bad[:, k] |= col.bad[a:b]
    found: list[tuple[int, int, list[int]]] = []
    if bad.any():
        per_col = bad.sum(axis=0)
        for k in np.flatnonzero(per_col):
            rows = np.flatnonzero(bad[:, k])[:MAX_ROWS_REPORTED] + a
            found.append((int(k), int(per_col[k]), rows.tolist()))
        if plan.on_invalid == "missing":
            X[bad] = np.nan
            N |= bad
            out.n_invalid[a:b] = bad.sum(axis=1)

    if out.items is not None:
        out.items[:, a:b] = X.T

    # critical items and count-scores look at raw (unkeyed) values
    for j, (_, k, op, value) in enumerate(cs.critical):
        v = X[:, k]
        fired = OPS[op](v, value).astype(np.int8)
        fired[N[:, k]] = -1
        out.critical[j, a:b] = fired
    counts: dict[int, npt.NDArray[np.float64]] = {}
    for i, s in enumerate(cs.scores):
        if s.method == "count" and s.count_items is not None:
            sub = X[:, s.count_items]
            counts[i] = (OPS[s.count_op or ">="](sub, s.count_value) & ~N[:, s.count_items]).sum(axis=1, dtype=np.float64)

    # keyed values, unanswered as 0, then every item score in one product
    K = X
    np.multiply(K, cs.sign, out=K)
    K += cs.offset
    K[N] = 0.0
    answered = (~N).astype(np.float64)
    sums = K @ cs.weights
    cnt = answered @ cs.members
    out.n_missing[a:b] = cs.n_items - cnt[:, -1].astype(np.int16)

    n_scores = len(cs.scores)
    vals = np.empty((m, n_scores))
    sufficient = np.ones((m, n_scores), dtype=bool)
    imputed = np.zeros((m, n_scores), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, s in enumerate(cs.scores):
            if s.kind == "items":
                got = cnt[:, s.column]
                total = counts[i] if s.method == "count" else sums[:, s.column]
                n = float(s.n_parts)
            else:
                parts = vals[:, list(s.parts)]
                ok = ~np.isnan(parts)
                got = ok.sum(axis=1).astype(np.float64)
                total = np.where(ok, parts, 0.0).sum(axis=1)
                n = float(s.n_parts)
            if s.method == "mean":
                v = total / (n if s.impute == "zero" else got)
            elif s.impute == "prorate":
                v = total * n / got
            else:
                v = total.copy()
            suff = got >= s.min_answered
            if s.impute == "none":
                suff &= got == n
            v[~suff] = np.nan
            if s.multiply != 1.0 or s.add != 0.0:
                v = v * s.multiply + s.add
            v = _round(v, s.rounding, s.digits)
            vals[:, i] = v
            sufficient[:, i] = suff
            imputed[:, i] = suff & (got < n)

    status = np.where(imputed.any(axis=1), 1, 0).astype(np.int8)
    status[~sufficient.all(axis=1)] = 2
    invalid = np.zeros(m, dtype=bool)
    void_rows = np.zeros(m, dtype=bool)
    keep_cols = np.zeros(n_scores, dtype=bool)
    for j, (_, si, op, value) in enumerate(cs.validity):
        v = vals[:, si]
        fired = OPS[op](v, value)
        invalid |= fired
        if cs.void[j]:
            void_rows |= fired
            keep_cols[si] = True
        f8 = fired.astype(np.int8)
        f8[np.isnan(v)] = -1
        out.validity[j, a:b] = f8
    status[invalid] = 3
    out.status[a:b] = status
    if void_rows.any():
        # the manual says such a questionnaire is not scored at all: only the validity scores remain
        vals[np.ix_(void_rows, ~keep_cols)] = np.nan

    out.scores[:, a:b] = vals.T
    for j, score_id in enumerate(plan.band_sets):
        bset = cs.bands[score_id][plan.band_sets[score_id]]
        out.bands[j, a:b] = bset.codes(vals[:, cs.score_index(score_id)])
    return found


def run_kernel(
    plan: Plan, cols: list[ParsedColumn], n_rows: int, *, chunk_size: int, n_jobs: int
) -> Outputs:
    """Score all rows, chunk by chunk (optionally on ``n_jobs`` threads)."""
    cs = plan.cs
    out = Outputs(
        scores=np.empty((len(cs.scores), n_rows)),
        bands=np.empty((len(plan.band_sets), n_rows), dtype=np.int8),
        status=np.empty(n_rows, dtype=np.int8),
        n_missing=np.empty(n_rows, dtype=np.int16),
        n_invalid=np.zeros(n_rows, dtype=np.int16),
        critical=np.empty((len(cs.critical), n_rows), dtype=np.int8),
        validity=np.empty((len(cs.validity), n_rows), dtype=np.int8),
        items=np.empty((cs.n_items, n_rows)) if plan.keep_items else None,
        bad_count=np.zeros(cs.n_items, dtype=np.int64),
        bad_rows=[[] for _ in range(cs.n_items)],
    )
    bounds = [(a, min(a + chunk_size, n_rows)) for a in range(0, n_rows, chunk_size)]
    if n_jobs > 1 and len(bounds) > 1:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            found = list(pool.map(lambda ab: _chunk(plan, cols, ab[0], ab[1], out), bounds))
    else:
        found = [_chunk(plan, cols, a, b, out) for a, b in bounds]
    # merged in chunk order, so the report is the same however the chunks ran
    for chunk_found in found:
        for k, count, rows in chunk_found:
            out.bad_count[k] += count
            kept = out.bad_rows[k]
            kept.extend(rows[: MAX_ROWS_REPORTED - len(kept)])
    return out


def bad_value_issues(plan: Plan, out: Outputs, input_columns: list[str], response_format: str) -> list[Issue]:
    """One issue per column holding values that are not options of the item."""
    cs = plan.cs
    issues = []
    for k in np.flatnonzero(out.bad_count):
        lo, hi = cs.lo[k], cs.hi[k]
        if response_format == "index":
            expect = f"option positions 1..{len(cs.option_values[k])}"
        elif response_format == "label":
            expect = "one of the option labels in the scale file"
        else:
            expect = f"option values {_fmt_values(cs.allowed[k])}"
        hint = ""
        if response_format == "value" and lo == 0:
            hint = "if the export numbers options from 1 (问卷星 按选项序号), pass response_format='index'"
        issues.append(
            Issue(
                "out_of_range",
                f"{int(out.bad_count[k])} response(s) to item {cs.item_ids[k]!r} of {cs.id} are not {expect}",
                column=input_columns[k],
                rows=tuple(out.bad_rows[k]),
                count=int(out.bad_count[k]),
                hint=hint,
            )
        )
    return issues


def _fmt_values(vals: npt.NDArray[np.float64]) -> str:
    txt = [f"{v:g}" for v in vals]
    return "{" + ", ".join(txt) + "}"


def to_frame(plan: Plan, out: Outputs, index: pd.Index, extra: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Assemble the output arrays into the documented columns, in schema order."""
    cs = plan.cs
    data: dict[str, Any] = {}
    band_pos = {sid: j for j, sid in enumerate(plan.band_sets)}
    for i, s in enumerate(cs.scores):
        data[C.score_col(cs.id, s.id)] = out.scores[i]
        if s.id in band_pos:
            bset = cs.bands[s.id][plan.band_sets[s.id]]
            data[C.band_col(cs.id, s.id)] = pd.Categorical.from_codes(
                out.bands[band_pos[s.id]], categories=list(bset.ids), ordered=True, validate=False
            )
        if extra is not None:
            for name in (C.t_col(cs.id, s.id), C.pct_col(cs.id, s.id)):
                if name in extra:
                    data[name] = extra[name]
    data[C.status_col(cs.id)] = pd.Categorical.from_codes(out.status, categories=list(C.STATUS_VALUES), ordered=True, validate=False)
    data[C.n_missing_col(cs.id)] = out.n_missing
    data[C.n_invalid_col(cs.id)] = out.n_invalid
    data[C.critical_col(cs.id)] = (out.critical == 1).any(axis=0) if len(cs.critical) else np.zeros(len(index), dtype=bool)
    for j, (cid, *_rest) in enumerate(cs.critical):
        data[C.critical_col(cs.id, cid)] = pd.arrays.BooleanArray(out.critical[j] == 1, out.critical[j] == -1)
    for j, (vid, *_rest) in enumerate(cs.validity):
        data[C.validity_col(cs.id, vid)] = pd.arrays.BooleanArray(out.validity[j] == 1, out.validity[j] == -1)
    if out.items is not None:
        for k, iid in enumerate(cs.item_ids):
            data[C.item_col(cs.id, iid)] = out.items[k]
    return pd.DataFrame(data, index=index, copy=False)
