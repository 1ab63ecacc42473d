"""The implementations the engine is compared with, and the synthetic data they all score.

Every implementation reads *what* to compute from the loaded scale (items,
reverse keys, subscale membership, method, missing rule, band edges), so they
compute exactly what the engine computes for the scales used here:

- :func:`pandas_rowwise`: ``df.apply(f, axis=1)``, one Python call per student;
- :func:`pandas_vectorised`: what a competent analyst writes with pandas,
  per subscale ``df[cols]``, reverse as ``hi + lo - x``, ``.mean(axis=1)``,
  answered counts with ``.notna().sum(axis=1)``, masking and ``pd.cut``;
- :func:`numpy_floor`: a tight pure-numpy pass over a 2-D float array, as a
  lower bound for what numpy can do (no DataFrame in or out).

They support the subset of the scale format these benchmarks use (item-based
``sum``/``mean`` scores, ``impute: prorate`` or ``none``, integer options,
bands, critical items) and refuse anything else rather than compute something
different.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

STATUS = ("complete", "prorated", "insufficient", "invalid")
OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class ScoreKey:
    id: str
    items: np.ndarray  # item positions (into Key.cols)
    method: str  # sum | mean
    min_answered: int
    n: int
    edges: np.ndarray | None  # band lower edges (x >= edge moves up), sorted
    band_ids: tuple[str, ...] | None


@dataclass(frozen=True)
class Key:
    """What one scale asks for, read from its loaded spec."""

    scale_id: str
    cols: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    reverse: np.ndarray  # bool per item
    scores: tuple[ScoreKey, ...]
    critical: tuple[tuple[str, int, str, float], ...]


def key_from_scale(scale: Any) -> Key:
    """Read a :class:`screening.Scale` into a :class:`Key`; refuse features the baselines do not implement."""
    cs = scale.compiled
    spec = scale.spec
    if not cs.contiguous.all():
        raise NotImplementedError("baselines assume integer options lo..hi")
    if spec.validity:
        raise NotImplementedError("baselines do not implement validity checks")
    scores = []
    for s in cs.scores:
        if s.kind != "items" or s.method not in ("sum", "mean") or s.impute not in ("prorate", "none"):
            raise NotImplementedError(f"baselines do not implement score {s.id} ({s.kind}, {s.method}, {s.impute})")
        if s.multiply != 1.0 or s.add != 0.0 or s.rounding != "none":
            raise NotImplementedError(f"baselines do not implement transforms or rounding ({s.id})")
        items = np.flatnonzero(cs.members[:, s.column])
        edges = ids = None
        if s.id in cs.default_bands:
            b = cs.bands[s.id][cs.default_bands[s.id]]
            if b.strict.any():
                raise NotImplementedError("baselines implement bands with inclusive lower edges (ge) only")
            edges, ids = b.edges, b.ids
        scores.append(ScoreKey(s.id, items, s.method, s.min_answered, s.n_parts, edges, ids))
    return Key(
        scale_id=cs.id,
        cols=tuple(scale.input_columns()),
        lo=cs.lo.copy(),
        hi=cs.hi.copy(),
        reverse=cs.sign < 0,
        scores=tuple(scores),
        critical=cs.critical,
    )


# ---------------------------------------------------------------------------- data


def make_responses(key: Key, n_rows: int, *, missing: float = 0.01, seed: int = 0) -> pd.DataFrame:
    """Random valid answers (uniform over options) with ``missing`` of the cells blank, float64 columns.

    Columns are generated one by one, so the frame is what reading a CSV or a
    survey export gives: one float64 column per item, NaN for a blank.
    """
    rng = np.random.default_rng(seed)
    data = {}
    for k, col in enumerate(key.cols):
        lo, hi = int(key.lo[k]), int(key.hi[k])
        v = rng.integers(lo, hi + 1, size=n_rows).astype(np.float64)
        v[rng.random(n_rows) < missing] = np.nan
        data[col] = v
    return pd.DataFrame(data)


# ---------------------------------------------------------------------------- results in one shape


@dataclass
class Result:
    """The figures every implementation produces, as plain arrays, for comparison."""

    scores: np.ndarray  # (n, n_scores) float64, NaN = not scored
    bands: np.ndarray  # (n, n_banded) int8 codes, -1 = no band
    n_missing: np.ndarray  # (n,) int
    status: np.ndarray  # (n,) int8 codes into STATUS
    critical: np.ndarray  # (n,) bool: any critical item fired


def result_from_engine(out: pd.DataFrame, key: Key) -> Result:
    s = key.scale_id
    banded = [sk for sk in key.scores if sk.edges is not None]
    return Result(
        scores=np.column_stack([out[f"{s}.{sk.id}"].to_numpy(dtype=float) for sk in key.scores]),
        bands=np.column_stack([out[f"{s}.{sk.id}.band"].cat.codes.to_numpy() for sk in banded]).astype(np.int8),
        n_missing=out[f"{s}.n_missing"].to_numpy().astype(np.int64),
        status=out[f"{s}.status"].cat.codes.to_numpy().astype(np.int8),
        critical=out[f"{s}.critical"].to_numpy(dtype=bool),
    )


def result_from_frame(out: pd.DataFrame, key: Key) -> Result:
    """For the pandas implementations, whose output uses the same column names as the engine."""
    return result_from_engine(out, key)


def compare(a: Result, b: Result, what: str, tol: float = 1e-9) -> None:
    """Raise AssertionError unless two results agree (scores to ``tol``, everything else exactly)."""
    if a.scores.shape != b.scores.shape:
        raise AssertionError(f"{what}: score shapes differ {a.scores.shape} vs {b.scores.shape}")
    nan_a, nan_b = np.isnan(a.scores), np.isnan(b.scores)
    if not np.array_equal(nan_a, nan_b):
        raise AssertionError(f"{what}: {int((nan_a != nan_b).sum())} cells scored by one and not the other")
    diff = np.abs(np.where(nan_a, 0.0, a.scores - b.scores))
    if diff.max(initial=0.0) > tol:
        raise AssertionError(f"{what}: scores differ by up to {diff.max():.3g}")
    for name in ("bands", "n_missing", "status", "critical"):
        x, y = getattr(a, name), getattr(b, name)
        if not np.array_equal(x, y):
            raise AssertionError(f"{what}: {name} differ in {int((x != y).sum())} cells")


# ---------------------------------------------------------------------------- row-wise pandas


def pandas_rowwise(df: pd.DataFrame, key: Key) -> pd.DataFrame:
    """``df.apply(f, axis=1)``: each student's row is a Series handed to a Python function.

    ``f`` takes the row's values as a small numpy array and indexes it by
    position, which is the fast way to write a row function (label lookups
    such as ``row[cols]`` cost about 0.7 ms each under pandas 3, several times
    slower again; see the README).
    """
    cols = list(key.cols)
    lo, hi = key.lo, key.hi
    rev = key.reverse
    rev_total = (key.lo + key.hi)[rev]
    s = key.scale_id

    def f(row: pd.Series) -> pd.Series:
        vals = row.to_numpy(dtype=float)
        answered = ~np.isnan(vals)
        # answered cells must be whole numbers in lo..hi
        v = vals[answered]
        if ((v < lo[answered]) | (v > hi[answered]) | (v != np.floor(v))).any():
            raise ValueError("invalid response")
        keyed = vals.copy()
        keyed[rev] = rev_total - keyed[rev]
        res: dict[str, Any] = {}
        status = "complete"
        for sk in key.scores:
            sub = keyed[sk.items]
            got = int((~np.isnan(sub)).sum())
            if got < sk.min_answered or (sk.min_answered == sk.n and got < sk.n):
                value = math.nan
                status = "insufficient"
            else:
                value = float(np.nanmean(sub)) * (sk.n if sk.method == "sum" else 1)
                if got < sk.n and status == "complete":
                    status = "prorated"
            res[f"{s}.{sk.id}"] = value
            if sk.edges is not None and sk.band_ids is not None:
                band = None
                if not math.isnan(value):
                    band = sk.band_ids[int(sum(value >= e for e in sk.edges))]
                res[f"{s}.{sk.id}.band"] = band
        res[f"{s}.status"] = status
        res[f"{s}.n_missing"] = int((~answered).sum())
        res[f"{s}.critical"] = any(answered[k] and OPS[op](vals[k], value) for _, k, op, value in key.critical)
        return pd.Series(res)

    out = df[cols].apply(f, axis=1)
    for sk in key.scores:
        if sk.edges is not None:
            name = f"{s}.{sk.id}.band"
            out[name] = pd.Categorical(out[name], categories=list(sk.band_ids or ()), ordered=True)
    out[f"{s}.status"] = pd.Categorical(out[f"{s}.status"], categories=list(STATUS), ordered=True)
    return out


# ---------------------------------------------------------------------------- vectorised pandas


def pandas_vectorised(df: pd.DataFrame, key: Key) -> pd.DataFrame:
    """Idiomatic column-wise pandas, the way an analyst scores a questionnaire."""
    cols = list(key.cols)
    s = key.scale_id
    items = df[cols]
    # every answered cell must be an option value
    allowed = {c: list(range(int(key.lo[k]), int(key.hi[k]) + 1)) for k, c in enumerate(cols)}
    bad = items.notna() & ~items.isin(allowed)
    if bad.to_numpy().any():
        raise ValueError(f"invalid responses in columns {list(bad.columns[bad.any()])}")
    keyed = items.copy()
    rev = [c for k, c in enumerate(cols) if key.reverse[k]]
    if rev:
        keyed[rev] = (key.lo + key.hi)[key.reverse] - keyed[rev]

    out = pd.DataFrame(index=df.index)
    short = pd.Series(False, index=df.index)
    imputed = pd.Series(False, index=df.index)
    for sk in key.scores:
        sub = keyed[[cols[i] for i in sk.items]]
        got = sub.notna().sum(axis=1)
        value = sub.mean(axis=1)
        if sk.method == "sum":
            value = value * sk.n
        ok = got >= sk.min_answered
        if sk.min_answered == sk.n:
            ok &= got == sk.n
        value = value.where(ok)
        short |= ~ok
        imputed |= ok & (got < sk.n)
        out[f"{s}.{sk.id}"] = value
        if sk.edges is not None:
            out[f"{s}.{sk.id}.band"] = pd.cut(
                value, bins=[-np.inf, *sk.edges, np.inf], right=False, labels=list(sk.band_ids)
            ).cat.as_ordered()
    status = np.select([short.to_numpy(), imputed.to_numpy()], [2, 1], 0)
    out[f"{s}.status"] = pd.Categorical.from_codes(status, categories=list(STATUS), ordered=True)
    out[f"{s}.n_missing"] = items.isna().sum(axis=1)
    crit = pd.Series(False, index=df.index)
    for _, k, op, value in key.critical:
        crit |= OPS[op](items[cols[k]], value).fillna(False)
    out[f"{s}.critical"] = crit
    return out


# ---------------------------------------------------------------------------- numpy floor


@dataclass(frozen=True)
class FloorPlan:
    order: np.ndarray  # item of each buffer row: forward-keyed items score by score, then reverse-keyed ones
    lo: np.ndarray  # (n_items,) per buffer row
    hi: np.ndarray
    fill: np.ndarray  # (n_items, 1): a blank becomes 0 (forward) or lo + hi (reverse: keyed value 0)
    fwd: tuple[tuple[int, int], ...]  # per score: its forward rows
    rev: tuple[tuple[int, int], ...]  # per score: its reverse rows (empty when none)
    rev_const: np.ndarray  # (n_scores, 1): n_rev * (lo + hi)
    has_rev: bool
    n: np.ndarray  # (n_scores, 1)
    min_answered: np.ndarray  # (n_scores, 1)
    is_sum: np.ndarray  # (n_scores,)
    banded: np.ndarray  # score positions that have bands
    edges: tuple[np.ndarray, ...]
    critical: tuple[tuple[int, str, float], ...]  # (buffer row, op, value)


def floor_plan(key: Key) -> FloorPlan:
    """Lay the items out for :func:`numpy_floor` (needs disjoint scores and one lo + hi per score's reverse items)."""
    fwd_rows: list[int] = []
    rev_rows: list[int] = []
    fwd, rev_spans, rev_const = [], [], []
    for sk in key.scores:
        items = [int(i) for i in sk.items]
        f = [i for i in items if not key.reverse[i]]
        r = [i for i in items if key.reverse[i]]
        fwd.append((len(fwd_rows), len(fwd_rows) + len(f)))
        fwd_rows.extend(f)
        rev_spans.append((len(rev_rows), len(rev_rows) + len(r)))
        rev_rows.extend(r)
        c = {float(key.lo[i] + key.hi[i]) for i in r}
        if len(c) > 1:
            raise NotImplementedError("numpy_floor: reverse items of one score must share lo + hi")
        rev_const.append(len(r) * (c.pop() if c else 0.0))
    rest = [i for i in range(len(key.cols)) if i not in set(fwd_rows) | set(rev_rows)]
    if len(set(fwd_rows + rev_rows)) != len(fwd_rows + rev_rows) or any(key.reverse[i] for i in rest):
        raise NotImplementedError("numpy_floor: scores must not share items")
    order = np.array(fwd_rows + rest + rev_rows, dtype=np.intp)
    r0 = len(fwd_rows) + len(rest)
    row_of = {int(k): r for r, k in enumerate(order)}
    fill = np.where(key.reverse[order], key.lo[order] + key.hi[order], 0.0)[:, None]
    return FloorPlan(
        order=order,
        lo=key.lo[order],
        hi=key.hi[order],
        fill=fill,
        fwd=tuple(fwd),
        rev=tuple((r0 + a, r0 + b) for a, b in rev_spans),
        rev_const=np.array(rev_const)[:, None],
        has_rev=bool(rev_rows),
        n=np.array([[sk.n] for sk in key.scores], dtype=float),
        min_answered=np.array([[sk.min_answered if sk.min_answered < sk.n else sk.n] for sk in key.scores], dtype=float),
        is_sum=np.array([sk.method == "sum" for sk in key.scores]),
        banded=np.array([j for j, sk in enumerate(key.scores) if sk.edges is not None], dtype=np.intp),
        edges=tuple(sk.edges for sk in key.scores if sk.edges is not None),
        critical=tuple((row_of[k], op, value) for _, k, op, value in key.critical),
    )


def _block_sums(A: np.ndarray, spans: tuple[tuple[int, int], ...], out: np.ndarray) -> None:
    """Row-block sums of ``A`` into the rows of ``out``: one reshaped sum when the blocks are adjacent and equal."""
    sizes = {b - a for a, b in spans}
    adjacent = all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))
    if len(sizes) == 1 and adjacent and spans[0][1] > spans[0][0]:
        size = sizes.pop()
        A[spans[0][0]:spans[-1][1]].reshape(len(spans), size, A.shape[1]).sum(axis=1, out=out)
        return
    for i, (a, b) in enumerate(spans):
        A[a:b].sum(axis=0, out=out[i])


def numpy_floor(X: np.ndarray, fp: FloorPlan, chunk: int = 8192) -> Result:
    """Score a 2-D float array (rows = students, columns = items in scale order), as tight as numpy allows.

    Items-major chunks (``X.T[:, a:b]``: each item a contiguous run when
    ``X`` is Fortran-ordered, as ``DataFrame.to_numpy()`` of a float frame
    is) copied item by item in score order; validity by NaN-ignoring
    min/max reductions per item plus one ``trunc``/``!=`` pass; blanks filled
    so that they add 0 after keying; reverse keys applied to the sums
    (``sum(c - x) = n_rev * c - sum(x)``), not to cells; sums and answered
    counts as contiguous row-block sums (no BLAS).
    """
    n, n_items = X.shape
    n_scores = len(fp.n)
    scores = np.empty((n_scores, n))
    bands = np.empty((len(fp.banded), n), dtype=np.int8)
    n_missing = np.empty(n, dtype=np.int64)
    status = np.empty(n, dtype=np.int8)
    critical = np.zeros(n, dtype=bool)
    XT = X.T
    F = np.empty(n_items * chunk)
    G = np.empty(n_items * chunk)
    N = np.empty(n_items * chunk, dtype=bool)
    B_ = np.empty(n_items * chunk, dtype=bool)
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        m = b - a
        # contiguous (n_items, m) views: numpy 2.4.6's isnan(out=) is wrong for a strided bool out (see README)
        f, g, nn, bb = (buf[: n_items * m].reshape(n_items, m) for buf in (F, G, N, B_))
        for r, k in enumerate(fp.order):  # one contiguous copy per item (np.take(..., out=) is no faster)
            f[r] = XT[k, a:b]
        np.isnan(f, out=nn)
        with np.errstate(invalid="ignore"):
            if (np.fmin.reduce(f, axis=1) < fp.lo).any() or (np.fmax.reduce(f, axis=1) > fp.hi).any():
                raise ValueError("invalid responses")
        np.copyto(f, fp.fill, where=nn)
        np.trunc(f, out=g)
        if np.not_equal(f, g, out=bb).any():
            raise ValueError("invalid responses")
        nu = nn.view(np.uint8)
        sums = np.empty((n_scores, m))
        miss = np.empty((n_scores, m), dtype=np.uint8)
        _block_sums(f, fp.fwd, sums)
        _block_sums(nu, fp.fwd, miss)
        if fp.has_rev:
            rs = np.empty((n_scores, m))
            rm = np.empty((n_scores, m), dtype=np.uint8)
            _block_sums(f, fp.rev, rs)
            _block_sums(nu, fp.rev, rm)
            sums -= rs
            sums += fp.rev_const
            miss += rm
        n_missing[a:b] = nu.sum(axis=0, dtype=np.int16)
        got = fp.n - miss
        ok = got >= fp.min_answered
        v = scores[:, a:b]
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(sums, got, out=v)
        v[fp.is_sum] *= fp.n[fp.is_sum]
        np.copyto(v, np.nan, where=~ok)
        for j, (si, e) in enumerate(zip(fp.banded, fp.edges)):
            code = np.zeros(m, dtype=np.int8)
            for edge in e:
                code += v[si] >= edge
            code[~ok[si]] = -1
            bands[j, a:b] = code
        st = (ok & (got < fp.n)).any(axis=0).view(np.int8).copy()
        st[~ok.all(axis=0)] = 2
        status[a:b] = st
        for r, op, value in fp.critical:
            critical[a:b] |= OPS[op](XT[fp.order[r], a:b], value)
    return Result(scores.T, bands.T, n_missing, status, critical)
