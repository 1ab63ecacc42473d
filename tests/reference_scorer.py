"""A plain pandas scorer, written from docs/scale-format.md, to check the engine against.

It reads the *spec* (not the compiled arrays the engine uses), one score at a time, with ordinary
pandas: keyed answers as ``lo + hi - x`` for reverse items, ``notna().sum(axis=1)`` for answered
counts, ``sum(axis=1)`` for totals, masks for the missing-data rules. It is also the "idiomatic
pandas" baseline of ``benchmarks/bench_all.py``.

Bit-for-bit agreement with the engine is expected where the arithmetic is exact: option values and
weights whose sums are exact in float64 (whole numbers, halves ...), which every built-in scale has.
The operations after the sums (prorating ``total * n / answered``, means ``total / answered``,
transforms, rounding) are done in the order the format defines them, so they round identically.

Score bounds (``bounds=True``): the lowest and highest value a score could take over every possible
answer to the student's blank items (complete-data arithmetic), widened to contain the score itself;
a student with no blank has bounds equal to the score.
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from screening import columns as C

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne}
STATUS = ("complete", "prorated", "insufficient", "invalid")


def _round(x: pd.Series, method: str, digits: int) -> pd.Series:
    if method == "none":
        return x
    scale = 10.0**digits
    y = x * scale
    if method == "half_up":
        y = np.sign(y) * np.floor(np.abs(y) + 0.5 + 1e-9)
    elif method == "half_even":
        y = np.round(y)
    elif method == "floor":
        y = np.floor(y + 1e-9)
    else:
        y = np.ceil(y - 1e-9)
    return y / scale


def _transform(x: pd.Series, s) -> pd.Series:
    mul = s.transform.multiply if s.transform else 1.0
    add = s.transform.add if s.transform else 0.0
    if mul != 1.0 or add != 0.0:
        x = x * mul + add
    return _round(x, s.rounding.method, s.rounding.digits)


def reference_score(df: pd.DataFrame, scale, *, bounds: bool = False) -> pd.DataFrame:
    """Score ``df`` (option values, NaN = blank, default column names) with plain pandas."""
    spec = scale.spec
    sid = spec.id
    items = spec.item_ids()
    cols = dict(zip(items, scale.input_columns()))
    opts = {it.id: sorted(o.value for o in spec.option_sets[it.options]) for it in spec.items}
    lo = {i: opts[i][0] for i in items}
    hi = {i: opts[i][-1] for i in items}
    raw = pd.DataFrame({i: df[cols[i]].astype("float64") for i in items}, index=df.index)
    answered = raw.notna()
    keyed = raw.copy()
    for i in spec.reverse:
        keyed[i] = lo[i] + hi[i] - raw[i]
    n_missing = (~answered).sum(axis=1)
    blank_row = n_missing > 0

    values: dict[str, pd.Series] = {}
    low: dict[str, pd.Series] = {}
    high: dict[str, pd.Series] = {}
    sufficient = pd.Series(True, index=df.index)
    imputed = pd.Series(False, index=df.index)
    for s in spec.scores:
        impute = s.missing.impute
        if s.items is not None:
            its = list(s.items)
            n = float(len(its))
            got = answered[its].sum(axis=1).astype("float64")
            blanks = n - got
            if s.method in ("count", "sum_if"):
                meets = OPS[s.count_if.op](raw[its], s.count_if.value) & answered[its]
                total = meets.sum(axis=1).astype("float64") if s.method == "count" else raw[its].where(meets, 0.0).sum(axis=1)
                if s.method == "count":
                    lo_t, hi_t = total, total + blanks
                else:
                    top = pd.DataFrame({i: pd.Series(max(hi[i], 0.0), index=df.index) for i in its})
                    lo_t, hi_t = total, total + top.where(~answered[its], 0.0).sum(axis=1)
            else:
                w = {i: (s.weights or {})[i] if s.method == "weighted_sum" else 1.0 for i in its}
                total = sum((keyed[i].fillna(0.0) * w[i] if w[i] != 1.0 else keyed[i].fillna(0.0)) for i in its)
                lo_add = sum(((~answered[i]) * min(w[i] * lo[i], w[i] * hi[i])) for i in its)
                hi_add = sum(((~answered[i]) * max(w[i] * lo[i], w[i] * hi[i])) for i in its)
                lo_t, hi_t = total + lo_add, total + hi_add
                if s.method == "mean":
                    lo_t, hi_t = lo_t / n, hi_t / n
            is_mean = s.method == "mean"
            if not is_mean and impute == "prorate":
                v = total * n / got
            elif (is_mean and impute != "zero") or (not is_mean and impute == "prorate"):
                v = total / got
            elif is_mean:
                v = total / n
            else:
                v = total / 1.0
            need = n if impute == "none" else (n if s.missing.min_answered is None else s.missing.min_answered)
            suff = got >= need
        else:
            parts = pd.DataFrame({p: values[p] for p in s.scores})
            n = float(len(s.scores))
            ok = parts.notna()
            got = ok.sum(axis=1).astype("float64")
            total = parts.where(ok, 0.0).sum(axis=1)
            lp = pd.DataFrame({p: low[p] for p in s.scores})
            hp = pd.DataFrame({p: high[p] for p in s.scores})
            if s.method == "ratio":
                num, den = parts.iloc[:, 0], parts.iloc[:, 1]
                v = (num / den.where(den != 0, 1.0)).where(den != 0)
                pos = lp.iloc[:, 1] > 0
                lo_t = np.minimum(lp.iloc[:, 0] / hp.iloc[:, 1], lp.iloc[:, 0] / lp.iloc[:, 1]).where(pos)
                hi_t = np.maximum(hp.iloc[:, 0] / lp.iloc[:, 1], hp.iloc[:, 0] / hp.iloc[:, 1]).where(pos)
            else:
                lo_t, hi_t = lp.sum(axis=1, skipna=False), hp.sum(axis=1, skipna=False)
                if s.method == "mean":
                    lo_t, hi_t = lo_t / n, hi_t / n
                if s.method == "mean":
                    v = total / (n if impute == "zero" else got)
                elif impute == "prorate":
                    v = total * n / got
                else:
                    v = total
            need = s.missing.min_answered if s.missing.min_answered is not None else n
            suff = got >= need
            if impute == "none":
                suff &= got == n
        v = v.where(suff)
        values[s.id] = _transform(v, s)
        mul = s.transform.multiply if s.transform else 1.0
        a, b = _transform(lo_t, s), _transform(hi_t, s)
        if mul < 0 and s.items is None:
            a, b = _transform(hi_t, s), _transform(lo_t, s)
        low[s.id], high[s.id] = np.fmin(a, b), np.fmax(a, b)
        sufficient &= suff
        imputed |= suff & (got < n)

    status = pd.Series(np.where(imputed, 1, 0), index=df.index)
    status[~sufficient] = 2
    invalid = pd.Series(False, index=df.index)
    void = pd.Series(False, index=df.index)
    keep: set[str] = set()
    validity = {}
    for vc in spec.validity:
        v = values[vc.score]
        fired = OPS[vc.op](v, vc.value) & v.notna()
        invalid |= fired
        if vc.void_scores:
            void |= fired
            keep.add(vc.score)
        validity[vc.id] = pd.array(fired.to_numpy(), dtype="boolean")
        validity[vc.id][v.isna().to_numpy()] = pd.NA
    status[invalid] = 3

    out: dict[str, object] = {}
    for s in spec.scores:
        v = values[s.id]
        if s.id not in keep:
            v = v.where(~void)
        out[C.score_col(sid, s.id)] = v
        if s.bands is not None:
            bands = sorted(s.bands.sets[s.bands.default].bands,
                           key=lambda b: b.lower[0] if b.lower is not None else float("-inf"))
            code = pd.Series(0, index=df.index, dtype="int8")
            for b in bands[1:]:
                edge, inclusive = b.lower
                code += (v >= edge) if inclusive else (v > edge)
            code[v.isna()] = -1
            out[C.band_col(sid, s.id)] = pd.Categorical.from_codes(code.to_numpy(), categories=[b.id for b in bands],
                                                                   ordered=True)
        if bounds:
            scored = v.notna()
            lo_b = np.fmin(low[s.id], v.where(scored)).where(blank_row, v)
            hi_b = np.fmax(high[s.id], v.where(scored)).where(blank_row, v)
            if s.id not in keep:
                lo_b, hi_b = lo_b.where(~void), hi_b.where(~void)
            out[C.lower_col(sid, s.id)] = lo_b
            out[C.upper_col(sid, s.id)] = hi_b
    out[C.status_col(sid)] = pd.Categorical.from_codes(status.to_numpy(), categories=list(STATUS), ordered=True)
    out[C.n_missing_col(sid)] = n_missing.astype("int16")
    crit = {}
    for c in spec.critical:
        x = raw[c.item]
        fired = pd.array(OPS[c.op](x, c.value).to_numpy(), dtype="boolean")
        fired[x.isna().to_numpy()] = pd.NA
        crit[c.id] = fired
    any_crit = pd.Series(False, index=df.index)
    for f in crit.values():
        any_crit |= f.fillna(False).to_numpy(dtype=bool)
    out[C.critical_col(sid)] = any_crit
    for cid, f in crit.items():
        out[C.critical_col(sid, cid)] = f
    for vid, f in validity.items():
        out[C.validity_col(sid, vid)] = f
    return pd.DataFrame(out, index=df.index)
