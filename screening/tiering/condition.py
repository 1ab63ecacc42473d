"""Type-check conditions against the scales and compile them to vectorised predicates.

Missing values use three-valued (Kleene) logic: a comparison with a missing
score or an unknown flag is *unknown*; ``not unknown`` is unknown; ``and`` is
false if either side is false, ``or`` true if either side is true. A rule
fires only where its condition is definitely true. So a missing answer never
makes a rule fire by accident (``not (phq9.total < 10)`` does not fire for a
student whose total is missing), and insufficient data are handled by the
rule set's ``data_quality`` block instead — never a silent lowest tier.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from .. import columns as C
from ..errors import did_you_mean
from ..scoring import Scale
from ..specs.derive import item_range, score_range
from .expr import And, Compare, InList, IsMissing, Literal, Name, Node, Not, Or, names_in, parse

__all__ = ["SymbolKind", "SymbolSource", "Symbol", "Resolver", "Compiled", "compile_condition", "ConditionError", "Env", "UNKNOWN",
           "Numbers", "Truths", "Codes", "Value"]

BoolPair = tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]  # (definitely true, definitely false)

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class ConditionError(ValueError):
    """A condition that parses but names something unknown or mixes types."""

    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code = code
        self.hint = hint


class SymbolKind(str, Enum):
    """What a name in a condition holds (compares equal to its text: ``SymbolKind.NUMBER == "number"``)."""

    NUMBER = "number"  #: a score, item answer or count: float, NaN when missing
    BAND = "band"  #: a band of a score (ordered low → high) or the previous tier
    STATUS = "status"  #: a scale's scoring status
    BOOL = "bool"  #: a risk-group flag, critical item, validity or quality flag

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class SymbolSource(str, Enum):
    """The table a symbol is read from."""

    SCORES = "scores"
    FLAGS = "flags"
    QUALITY = "quality"
    PREVIOUS = "previous"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


#: Names of the previous-wave inputs a condition may read (see :func:`screening.screen`'s ``previous``).
PREV_TIER = "prev.tier"
PREV_WAVES = "prev.waves_in_tier"


@dataclass(frozen=True)
class Symbol:
    """What a name in a condition refers to.

    ``kind`` (a :class:`SymbolKind`) says what it holds; ``column`` is the output column it is read
    from; ``source`` (a :class:`SymbolSource`) says which table holds it.
    """

    name: str
    kind: SymbolKind
    column: str
    source: SymbolSource
    scale: str | None = None
    lo: float = float("-inf")
    hi: float = float("inf")
    levels: tuple[str, ...] = ()  # band ids (all sets of the score) or status values
    candidates: tuple[float, ...] = ()  # representative values for reachability checks
    needs_items: bool = False


@dataclass
class Resolver:
    """Knows every name a condition may use, given the scales and flags of a rule set."""

    scales: Mapping[str, Scale]
    flags: Sequence[str]
    hint_scales: Sequence[str] = ()  # other scale ids worth suggesting in a did-you-mean
    tiers: Sequence[str] = ()  # the rule set's tier ids, lowest first: the levels of ``prev.tier``
    _names: dict[str, Symbol] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for f in self.flags:
            self._names[f] = Symbol(f, SymbolKind.BOOL, f, SymbolSource.FLAGS)
        if self.tiers:
            # the student's previous screening, from the archive (``screen(..., previous=arch.previous(ids))``);
            # unknown for a student with no earlier wave, and for everyone when no previous wave is given
            self._names[PREV_TIER] = Symbol(PREV_TIER, SymbolKind.BAND, PREV_TIER, SymbolSource.PREVIOUS, levels=tuple(self.tiers))
            self._names[PREV_WAVES] = Symbol(PREV_WAVES, SymbolKind.NUMBER, PREV_WAVES, SymbolSource.PREVIOUS, None, 1.0, float("inf"),
                                             candidates=(1.0, 2.0, 3.0))
        for sid, scale in self.scales.items():
            spec = scale.spec
            add = self._names.__setitem__
            add(f"{sid}.status", Symbol(f"{sid}.status", SymbolKind.STATUS, C.status_col(sid), SymbolSource.SCORES, sid,
                                        levels=C.STATUS_VALUES))
            add(f"{sid}.critical", Symbol(f"{sid}.critical", SymbolKind.BOOL, C.critical_col(sid), SymbolSource.SCORES, sid))
            for c in spec.critical:
                n = f"{sid}.critical.{c.id}"
                add(n, Symbol(n, SymbolKind.BOOL, C.critical_col(sid, c.id), SymbolSource.SCORES, sid))
            for v in spec.validity:
                n = f"{sid}.validity.{v.id}"
                add(n, Symbol(n, SymbolKind.BOOL, C.validity_col(sid, v.id), SymbolSource.SCORES, sid))
            n_items = float(len(spec.items))
            for n, col in ((f"{sid}.n_missing", C.n_missing_col(sid)), (f"{sid}.n_invalid", C.n_invalid_col(sid))):
                add(n, Symbol(n, SymbolKind.NUMBER, col, SymbolSource.SCORES, sid, 0.0, n_items, candidates=(0.0, 1.0, n_items)))
            for it in spec.items:
                lo, hi = item_range(spec, it.id)
                vals = tuple(sorted({o.value for o in spec.option_sets[it.options]}))
                n = f"{sid}.item{it.id}"
                add(n, Symbol(n, SymbolKind.NUMBER, C.item_col(sid, it.id), SymbolSource.SCORES, sid, lo, hi, candidates=vals,
                              needs_items=True))
            memo: dict[str, tuple[float, float]] = {}
            for s in spec.scores:
                lo, hi = score_range(spec, s, memo)
                add(f"{sid}.{s.id}", Symbol(f"{sid}.{s.id}", SymbolKind.NUMBER, C.score_col(sid, s.id), SymbolSource.SCORES, sid, lo, hi))
                if s.bands is not None:
                    levels = tuple(dict.fromkeys(b.id for bs in s.bands.sets.values() for b in bs.bands))
                    n = f"{sid}.{s.id}.band"
                    add(n, Symbol(n, SymbolKind.BAND, C.band_col(sid, s.id), SymbolSource.SCORES, sid, levels=levels))
                if spec.norms is not None and any(ns.score == s.id for ns in spec.norms.sets.values()):
                    for suffix, lo_, hi_ in (("t", 0.0, 100.0), ("pct", 0.0, 100.0)):
                        n = f"{sid}.{s.id}.{suffix}"
                        add(n, Symbol(n, SymbolKind.NUMBER, f"{sid}.{s.id}.{suffix}", SymbolSource.SCORES, sid, lo_, hi_))

    def resolve(self, name: Name) -> Symbol:
        dotted = name.dotted
        if dotted in self._names:
            return self._names[dotted]
        parts = name.parts
        if parts[0] == "quality" and len(parts) == 2:
            return Symbol(dotted, SymbolKind.BOOL, C.quality_col(None, parts[1]), SymbolSource.QUALITY)
        if len(parts) == 3 and parts[0] in self.scales and parts[1] == "quality":
            return Symbol(dotted, SymbolKind.BOOL, C.quality_col(parts[0], parts[2]), SymbolSource.SCORES, parts[0])
        if parts[0] == "prev" and self.tiers:
            raise ConditionError("unknown_name", f"unknown previous-wave input {dotted!r}",
                                 f"previous-wave inputs: {PREV_TIER}, {PREV_WAVES}")
        if len(parts) > 1 and parts[0] not in self.scales:
            hint = did_you_mean(parts[0], [*self.scales, *self.hint_scales]) or ""
            raise ConditionError(
                "unknown_scale",
                f"{dotted!r}: {parts[0]!r} is not a scale this rule set knows",
                hint or f"scales: {', '.join(sorted(self.scales))}; add others under `extra_scales`",
            )
        hint = did_you_mean(dotted, list(self._names)) or ""
        what = "risk-group flag" if len(parts) == 1 else "name"
        raise ConditionError("unknown_name", f"unknown {what} {dotted!r}", hint)


# ---------------------------------------------------------------------------
# typing


def _type(node: Node, res: Resolver, syms: dict[str, Symbol]) -> str:
    """The type of a node ('bool', 'number', 'band', 'status', 'literal:<py type>'); raises on mismatch."""
    if isinstance(node, Name):
        sym = res.resolve(node)
        syms[sym.name] = sym
        return sym.kind
    if isinstance(node, Literal):
        return "literal"
    if isinstance(node, (And, Or)):
        for it in node.items:
            _need_bool(it, res, syms)
        return "bool"
    if isinstance(node, Not):
        _need_bool(node.item, res, syms)
        return "bool"
    if isinstance(node, IsMissing):
        _type(node.operand, res, syms)  # any kind of value can be missing
        return "bool"
    if isinstance(node, InList):
        kind = _type(node.operand, res, syms)
        for lit in node.values:
            _check_literal(node.operand, kind, lit, "in", syms)
        return "bool"
    # Compare
    lk, rk = _type(node.left, res, syms), _type(node.right, res, syms)
    if lk == "literal" and rk == "literal":
        raise ConditionError("constant_condition", "a comparison of two constants is always the same")
    if lk == "literal":
        _check_literal(node.right, rk, node.left, node.op, syms)  # type: ignore[arg-type]
    elif rk == "literal":
        _check_literal(node.left, lk, node.right, node.op, syms)  # type: ignore[arg-type]
    elif lk != rk or lk not in ("number",):
        raise ConditionError("type_mismatch", f"cannot compare a {lk} with a {rk}")
    return "bool"


def _need_bool(node: Node, res: Resolver, syms: dict[str, Symbol]) -> None:
    kind = _type(node, res, syms)
    if kind != "bool":
        what = node.dotted if isinstance(node, Name) else "a constant"
        raise ConditionError(
            "type_mismatch", f"{what} is a {kind}, not a true/false condition",
            "compare it, e.g. `phq9.total >= 10` or `phq9.total.band == \"moderate\"`",
        )


def _check_literal(operand: Node, kind: str, lit: Literal, op: str, syms: dict[str, Symbol]) -> None:
    sym = syms.get(operand.dotted) if isinstance(operand, Name) else None
    v = lit.value
    if kind == "number":
        if isinstance(v, bool) or not isinstance(v, float):
            raise ConditionError("type_mismatch", f"{operand_name(operand)} is a number; compare it with a number, not {v!r}")
    elif kind == "bool":
        if not isinstance(v, bool) or op not in ("==", "!=", "in"):
            raise ConditionError("type_mismatch", f"{operand_name(operand)} is true/false; use it directly or compare with true/false")
    elif kind in ("band", "status"):
        if not isinstance(v, str):
            raise ConditionError(
                "type_mismatch", f"{operand_name(operand)} is a {kind}; compare it with a quoted {kind} name, not {v!r}",
                f"{kind}s: {', '.join(sym.levels) if sym else ''}",
            )
        if sym is not None and v not in sym.levels:
            raise ConditionError(
                f"unknown_{kind}", f"{v!r} is not a {kind} of {sym.name}",
                did_you_mean(v, sym.levels) or f"{kind}s: {', '.join(sym.levels)}",
            )
        if kind == "status" and op not in ("==", "!=", "in"):
            raise ConditionError("type_mismatch", "statuses are compared with == , != or in")
    else:  # pragma: no cover - every operand kind is handled above
        raise ConditionError("type_mismatch", f"cannot compare {operand_name(operand)}")


def operand_name(node: Node) -> str:
    return node.dotted if isinstance(node, Name) else "the value"


# ---------------------------------------------------------------------------
# evaluation


class _Unknown:
    """The value of a symbol whose source is absent (a scale not screened, a flag not supplied)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


#: Marks a symbol whose source is absent (a scale not screened, a flag not supplied): unknown everywhere.
UNKNOWN = _Unknown()


@dataclass(frozen=True, slots=True)
class Numbers:
    """The values of a number symbol: float64, NaN where missing."""

    values: npt.NDArray[np.float64]

    def take(self, rows: npt.NDArray[np.intp]) -> Numbers:
        return Numbers(self.values[rows])

    def as_float(self) -> npt.NDArray[np.float64]:
        return self.values


@dataclass(frozen=True, slots=True)
class Truths:
    """The values of a true/false symbol and where they are known (an array, or one numpy bool for all)."""

    values: npt.NDArray[np.bool_]
    known: npt.NDArray[np.bool_] | np.bool_

    def take(self, rows: npt.NDArray[np.intp]) -> Truths:
        known = self.known
        return Truths(self.values[rows], known[rows] if isinstance(known, np.ndarray) else known)

    def as_float(self) -> npt.NDArray[np.float64]:
        """1.0 / 0.0, NaN where unknown."""
        return np.where(self.known, self.values, np.nan).astype(float)


@dataclass(frozen=True, slots=True)
class Codes:
    """The values of a band or status symbol: positions in ``categories`` (lowest first), −1 where missing."""

    codes: npt.NDArray[np.integer[Any]]
    categories: tuple[str, ...]

    def take(self, rows: npt.NDArray[np.intp]) -> Codes:
        return Codes(self.codes[rows], self.categories)

    def position(self, label: str) -> int:
        """The position of a category; −2 for a label that is no category (it never matches)."""
        return self.categories.index(label) if label in self.categories else -2

    def as_float(self) -> npt.NDArray[np.float64]:
        """Positions as floats, NaN where missing."""
        return np.where(self.codes >= 0, self.codes, np.nan).astype(float)


#: What :class:`Env` holds per symbol.
Value: TypeAlias = Numbers | Truths | Codes | _Unknown


class Env:
    """Arrays a condition reads, by symbol name.

    ``values[name]`` holds a :class:`Numbers` (number symbols), :class:`Truths`
    (true/false), :class:`Codes` (band/status) or :data:`UNKNOWN`. The known-mask of each number or category symbol is
    computed once and shared by every comparison that reads it.
    """

    def __init__(self, values: Mapping[str, Value], n: int, bounds: Mapping[str, Any] | None = None,
                 maybe: Mapping[str, Any] | None = None, *, dense: bool = False):
        self.values = values
        self.n = n
        #: number or band symbol → (rows, lower, upper): the students whose value the blank items leave
        #: uncertain (sorted positions) and the bounds over the possible answers there (band bounds are band
        #: positions; NaN unknown). In a ``dense`` Env (see :meth:`subset`): (lower, upper) for every student.
        self.bounds: Mapping[str, Any] = bounds or {}
        #: bool symbol → rows where it is unknown only because an item is blank (it could still be true);
        #: in a dense Env a mask
        self.maybe: Mapping[str, Any] = maybe or {}
        self.dense = dense
        self._known: dict[str, npt.NDArray[np.bool_]] = {}
        self._uncertain: dict[tuple[str, ...], npt.NDArray[np.bool_]] = {}
        self._pos: npt.NDArray[np.int32] | None = None
        self._const: dict[bool, npt.NDArray[np.bool_]] = {}

    def _constant(self, value: bool) -> npt.NDArray[np.bool_]:
        arr = self._const.get(value)
        if arr is None:
            arr = self._const[value] = np.full(self.n, value)
            arr.flags.writeable = False  # shared by every rule that reads only absent inputs
        return arr

    @property
    def nowhere(self) -> npt.NDArray[np.bool_]:
        """A read-only all-false mask of ``n`` students (shared)."""
        return self._constant(False)

    @property
    def everywhere(self) -> npt.NDArray[np.bool_]:
        """A read-only all-true mask of ``n`` students (shared)."""
        return self._constant(True)

    def uncertain_subset(self, names: Sequence[str], uncertain: Sequence[str],
                         settled: npt.NDArray[np.bool_] | None = None) -> tuple[npt.NDArray[np.intp], Env]:
        """The rows some uncertain symbol touches, less those ``settled`` (already decided), and the dense
        Env there. The rows an uncertain set touches are kept (rules share symbols)."""
        key = tuple(sorted(uncertain))
        mask = self._uncertain.get(key)
        if mask is None:
            mask = self._uncertain[key] = self.uncertain_mask(uncertain)
        rows = np.flatnonzero(mask & ~settled if settled is not None else mask)
        return rows, self.subset(names, rows)

    def uncertain_mask(self, names: Sequence[str]) -> npt.NDArray[np.bool_]:
        mask = np.zeros(self.n, dtype=bool)
        for name in names:
            if name in self.bounds:
                mask[self.bounds[name][0]] = True
            if name in self.maybe:
                mask[self.maybe[name]] = True
        return mask

    def uncertain_rows(self, names: Sequence[str]) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.uncertain_mask(names))

    def subset(self, names: Sequence[str], rows: npt.NDArray[np.intp]) -> Env:
        """A dense Env of the symbols ``names`` for the students at ``rows`` (sorted positions)."""
        # position of each student of ``rows`` in the subset; every symbol's uncertain rows that matter are
        # among ``rows`` (its union), others are dropped
        # (one int32 map per Env, reset after each subset: rules build several subsets of a million students)
        if self._pos is None:
            self._pos = np.full(self.n, -1, dtype=np.int32)
        pos = self._pos
        pos[rows] = np.arange(len(rows), dtype=np.int32)
        try:
            return self._subset(names, rows, pos)
        finally:
            pos[rows] = -1

    def _subset(self, names: Sequence[str], rows: npt.NDArray[np.intp], pos: npt.NDArray[np.int32]) -> Env:

        def at(sym_rows: npt.NDArray[np.intp]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int32]]:
            """(indices into ``sym_rows``, their positions in the subset) of the symbol's rows in the subset."""
            p = pos[sym_rows]
            inside = p >= 0
            if inside.all():
                return np.arange(len(sym_rows)), p
            return np.flatnonzero(inside), p[inside]

        def cut(raw: Value) -> Value:
            return raw if isinstance(raw, _Unknown) else raw.take(rows)

        values = {k: cut(self.values[k]) for k in names}
        bounds = {}
        for k in names:
            if k not in self.bounds:
                continue
            sym_rows, lo_r, hi_r = self.bounds[k]
            v = values[k]
            if isinstance(v, _Unknown):  # bounds are only computed from known values; an unknown stays unknown
                continue
            base = v.as_float()
            lo, hi = base.copy(), base.copy()
            idx, p = at(sym_rows)
            lo[p] = lo_r[idx]
            hi[p] = hi_r[idx]
            bounds[k] = (lo, hi)
        maybe = {}
        for k in names:
            if k in self.maybe:
                hit = np.zeros(len(rows), dtype=bool)
                hit[at(self.maybe[k])[1]] = True
                maybe[k] = hit
        return Env(values, len(rows), bounds, maybe, dense=True)

    def known(self, name: str, compute: Any) -> npt.NDArray[np.bool_]:
        k = self._known.get(name)
        if k is None:
            k = self._known[name] = compute()
        return k


_NO = np.False_  # a scalar "nowhere": broadcasts against any array


def _negation_free(node: Node) -> bool:
    if isinstance(node, Not) or (isinstance(node, InList) and node.negated):
        return False
    if isinstance(node, (And, Or)):
        return all(_negation_free(it) for it in node.items)
    return True


def _eval_true(node: Node, env: Env) -> Any:
    """Where a condition without `not` is definitely true (its 'false' side is never needed)."""
    if isinstance(node, And):
        t = _eval_true(node.items[0], env)
        for it in node.items[1:]:
            t = t & _eval_true(it, env)
        return t
    if isinstance(node, Or):
        t = _eval_true(node.items[0], env)
        for it in node.items[1:]:
            t = t | _eval_true(it, env)
        return t
    if isinstance(node, Compare):
        return _compare_true(node.op, node.left, node.right, env)
    if isinstance(node, Name):
        raw = env.values[node.dotted]
        return raw.values & raw.known if isinstance(raw, Truths) else _NO
    return _eval(node, env)[0]


def _compare_true(op: str, left: Node, right: Node, env: Env) -> Any:
    """Where a comparison is definitely true, skipping the known-mask where a missing value already
    compares false: NaN fails every comparison but ``!=``, and a missing band/status code (-1) fails
    ``==``, ``>=`` and ``>`` against any real band position."""
    if isinstance(left, Name) and isinstance(right, Literal) and op != "!=":
        raw = env.values[left.dotted]
        if isinstance(raw, _Unknown):
            return _NO
        if isinstance(raw, Numbers):  # NaN compares false
            with np.errstate(invalid="ignore"):
                return _OPS[op](raw.values, right.value)
        if isinstance(raw, Codes) and op in ("==", ">=", ">") and isinstance(right.value, str):
            pos = raw.position(right.value)
            if pos >= 0:
                return _OPS[op](raw.codes, pos)
    return _compare(op, left, right, env)[0]


def _missing(node: IsMissing, env: Env) -> tuple[Any, Any]:
    """(is missing, is not missing): an absent source (scale not screened, flag not supplied) is missing."""
    raw = env.values[node.operand.dotted]
    if isinstance(raw, _Unknown):
        miss: Any = np.True_
    elif isinstance(raw, Codes):
        miss = raw.codes < 0
    elif isinstance(raw, Truths):
        miss = ~np.asarray(raw.known, dtype=bool) if np.ndim(raw.known) else np.bool_(not raw.known)
    else:
        miss = np.isnan(raw.values)
    return (~miss, miss) if node.negated else (miss, ~miss)


def _eval(node: Node, env: Env) -> tuple[Any, Any]:
    if isinstance(node, IsMissing):
        return _missing(node, env)
    if isinstance(node, Name):
        raw = env.values[node.dotted]
        if not isinstance(raw, Truths):  # typing allows only true/false names here: absent
            return _NO, _NO
        return raw.values & raw.known, ~raw.values & raw.known
    if isinstance(node, And):
        t, f = _eval(node.items[0], env)
        for it in node.items[1:]:
            t2, f2 = _eval(it, env)
            t, f = t & t2, f | f2
        return t, f
    if isinstance(node, Or):
        t, f = _eval(node.items[0], env)
        for it in node.items[1:]:
            t2, f2 = _eval(it, env)
            t, f = t | t2, f & f2
        return t, f
    if isinstance(node, Not):
        t, f = _eval(node.item, env)
        return f, t
    if isinstance(node, InList):
        t = _NO
        known = np.True_
        for lit in node.values:
            lt, lf = _compare("==", node.operand, lit, env)
            t = t | lt
            known = known & (lt | lf)
        f = known & ~t
        return (f, t) if node.negated else (t, f)
    if isinstance(node, Compare):
        return _compare(node.op, node.left, node.right, env)
    raise TypeError(type(node))  # pragma: no cover


def _operand(node: Node, env: Env) -> tuple[Any, Any, tuple[str, ...] | None]:
    """(values, known mask or None for constants, categories for band/status); UNKNOWN for absent sources."""
    if isinstance(node, Literal):
        return node.value, None, None
    name = node.dotted  # type: ignore[union-attr]
    raw = env.values[name]
    if isinstance(raw, _Unknown):
        return UNKNOWN, None, None
    if isinstance(raw, Codes):
        codes = raw.codes
        return codes, env.known(name, lambda: codes >= 0), raw.categories
    if isinstance(raw, Truths):
        return raw.values, raw.known, None
    vals = raw.values
    return vals, env.known(name, lambda: ~np.isnan(vals)), None


def _compare(op: str, left: Node, right: Node, env: Env) -> tuple[Any, Any]:
    lv, lk, lcats = _operand(left, env)
    rv, rk, rcats = _operand(right, env)
    if lv is UNKNOWN or rv is UNKNOWN:
        return _NO, _NO
    cats = lcats or rcats
    if cats is not None:
        # band/status: compare positions in the category order (bands are ordered low → high)
        def code(v: Any, c: tuple[str, ...] | None) -> Any:
            if isinstance(v, str):
                return cats.index(v) if v in cats else -2  # a band of another set never matches
            return v

        lv, rv = code(lv, lcats), code(rv, rcats)
    with np.errstate(invalid="ignore"):
        result = _OPS[op](lv, rv)
    known = lk if rk is None else (rk if lk is None else lk & rk)
    if known is None:  # pragma: no cover - excluded by typing
        raise TypeError("constant comparison")
    return result & known, ~result & known


# ---------------------------------------------------------------------------
# four masks per node: definitely true (T), definitely false (F), could become true by answering the
# blanks (P ⊇ T), could become false (Q ⊇ F). `not` swaps T/F and P/Q; `and` takes T = ∧T, F = ∨F,
# P = ∧P, Q = ∨Q; `or` the dual. Each blank-dependent leaf is judged on its own, so P is a safe superset.

_EXISTS: dict[str, Callable[[Any, Any, Any, Any], Any]] = {
    # some value of [al, ah] and some of [bl, bh] satisfy the comparison (NaN anywhere: no)
    ">=": lambda al, ah, bl, bh: ah >= bl,
    ">": lambda al, ah, bl, bh: ah > bl,
    "<=": lambda al, ah, bl, bh: al <= bh,
    "<": lambda al, ah, bl, bh: al < bh,
    "==": lambda al, ah, bl, bh: (al <= bh) & (bl <= ah),
    "!=": lambda al, ah, bl, bh: ~((al == ah) & (bl == bh) & (al == bl)) & ~np.isnan(al + ah + bl + bh),
}
_ALL: dict[str, Callable[[Any, Any, Any, Any], Any]] = {
    # every pair of values satisfies it
    ">=": lambda al, ah, bl, bh: al >= bh,
    ">": lambda al, ah, bl, bh: al > bh,
    "<=": lambda al, ah, bl, bh: ah <= bl,
    "<": lambda al, ah, bl, bh: ah < bl,
    "==": lambda al, ah, bl, bh: (al == ah) & (bl == bh) & (al == bl),
    "!=": lambda al, ah, bl, bh: (ah < bl) | (bh < al),
}


def _literal_point(node: Literal, cats: tuple[str, ...] | None) -> float:
    """A literal as a float: a band/status name is its category code (-2.0 when it is no category)."""
    v = node.value
    if isinstance(v, str):
        return float(cats.index(v)) if cats is not None and v in cats else -2.0
    return float(v)


def _interval(node: Node, env: Env, cats: tuple[str, ...] | None) -> tuple[Any, Any, Any] | None:
    """(value, lower, upper) as floats (NaN unknown) for a comparison operand; None for an absent source."""
    if isinstance(node, Literal):
        x = _literal_point(node, cats)
        return x, x, x
    name = node.dotted  # type: ignore[union-attr]
    raw = env.values[name]
    if isinstance(raw, _Unknown):
        return None
    if isinstance(raw, Truths):
        v = raw.as_float()
        m = env.maybe.get(name)
        if m is not None:
            return v, np.where(m, 0.0, v), np.where(m, 1.0, v)
        return v, v, v
    v = raw.as_float()
    b = env.bounds.get(name)
    if b is None:
        return v, v, v
    return v, b[0], b[1]


def _compare4(op: str, left: Node, right: Node, env: Env) -> tuple[Any, Any, Any, Any]:
    lcats = _cats(left, env)
    rcats = _cats(right, env)
    cats = lcats or rcats
    a = _interval(left, env, cats)
    b = _interval(right, env, cats)
    if a is None or b is None:
        return _NO, _NO, _NO, _NO
    av, al, ah = a
    bv, bl, bh = b
    with np.errstate(invalid="ignore"):
        known = ~np.isnan(av) & ~np.isnan(bv)
        by_value = _OPS[op](av, bv)
        point_a, point_b = al is av and ah is av, bl is bv and bh is bv
        if point_a and point_b:  # no bounds on either side: the interval of each value is the value itself
            t, f = by_value & known, ~by_value & known
            return t, f, t, f
        # only rows whose interval is wider than a known value need the interval tests (students with a
        # blank item, usually a minority); elsewhere all/some true are both the comparison of the values
        wide = ~known
        if not point_a:
            wide = wide | (al != av) | (ah != av)
        if not point_b:
            wide = wide | (bl != bv) | (bh != bv)
        if np.ndim(wide) == 0 or wide.all():
            return _compare_intervals(op, known, by_value, al, ah, bl, bh)
        t, f = by_value & known, ~by_value & known
        t, f = np.broadcast_to(t, wide.shape).copy(), np.broadcast_to(f, wide.shape).copy()
        p, q = t.copy(), f.copy()
        rows = np.flatnonzero(wide)
        if len(rows):
            def sub(x: Any) -> Any:
                return x[rows] if np.ndim(x) else x
            ts, fs, ps, qs = _compare_intervals(op, sub(known), sub(by_value), sub(al), sub(ah), sub(bl), sub(bh))
            t[rows], f[rows], p[rows], q[rows] = ts, fs, ps, qs
        return t, f, p, q


def _compare_intervals(op: str, known: Any, by_value: Any, al: Any, ah: Any, bl: Any, bh: Any) -> tuple[Any, Any, Any, Any]:
    """True / false / possibly true / possibly false of ``a op b`` from values and their intervals."""
    with np.errstate(invalid="ignore"):
        bounded = ~np.isnan(al) & ~np.isnan(ah) & ~np.isnan(bl) & ~np.isnan(bh)
        all_true = _ALL[op](al, ah, bl, bh) & bounded
        some_true = _EXISTS[op](al, ah, bl, bh) & bounded
        neg = _NEGATE[op]
        all_false = _ALL[neg](al, ah, bl, bh) & bounded
        some_false = _EXISTS[neg](al, ah, bl, bh) & bounded
    t = np.where(known, by_value, all_true)
    f = np.where(known, ~by_value, all_false)
    return t, f, t | some_true, f | some_false


_NEGATE = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}


def _cats(node: Node, env: Env) -> tuple[str, ...] | None:
    if isinstance(node, Name):
        raw = env.values[node.dotted]
        if isinstance(raw, Codes):
            return raw.categories
    return None


def _inlist4(node: InList, env: Env) -> tuple[Any, Any, Any, Any]:
    """``x in [...]`` over an interval: true for every possible value when every value of the (whole-number,
    for bands) interval is listed; possibly true when some listed value lies in it."""
    if not node.values:  # `x in []` is false whatever x is, known or not (as the value-based _eval says)
        return (np.True_, _NO, np.True_, _NO) if node.negated else (_NO, np.True_, _NO, np.True_)
    cats = _cats(node.operand, env)
    a = _interval(node.operand, env, cats)
    if a is None:
        return _NO, _NO, _NO, _NO
    v, lo, hi = a
    pts = np.array([_literal_point(lit, cats) for lit in node.values], dtype=np.float64)
    pts = np.unique(pts)
    with np.errstate(invalid="ignore"):
        known = ~np.isnan(v)
        by_value = np.isin(v, pts)
        bounded = ~np.isnan(lo) & ~np.isnan(hi)
        inside = (pts[None, :] >= np.asarray(lo)[..., None]) & (pts[None, :] <= np.asarray(hi)[..., None])
        n_inside = inside.sum(axis=-1)
        some = n_inside > 0
        if cats is not None:  # band / status positions: whole numbers lo..hi
            every = n_inside == (hi - lo + 1)
        else:
            every = (lo == hi) & np.isin(lo, pts)
        all_true = every & bounded
        some_true = some & bounded
        all_false = ~some & bounded
        some_false = ~every & bounded
    t = np.where(known, by_value, all_true)
    f = np.where(known, ~by_value, all_false)
    p, q = t | some_true, f | some_false
    return (f, t, q, p) if node.negated else (t, f, p, q)


def _eval4(node: Node, env: Env) -> tuple[Any, Any, Any, Any]:
    if isinstance(node, IsMissing):
        t, f = _missing(node, env)
        return t, f, t, f
    if isinstance(node, Name):
        raw = env.values[node.dotted]
        if not isinstance(raw, Truths):  # absent
            return _NO, _NO, _NO, _NO
        t, f = raw.values & raw.known, ~raw.values & raw.known
        m = env.maybe.get(node.dotted)
        if m is None:
            return t, f, t, f
        return t, f, t | m, f | m
    if isinstance(node, Not):
        t, f, p, q = _eval4(node.item, env)
        return f, t, q, p
    if isinstance(node, (And, Or)):
        t, f, p, q = _eval4(node.items[0], env)
        for it in node.items[1:]:
            t2, f2, p2, q2 = _eval4(it, env)
            if isinstance(node, And):
                t, f, p, q = t & t2, f | f2, p & p2, q | q2
            else:
                t, f, p, q = t | t2, f & f2, p | p2, q & q2
        return t, f, p, q
    if isinstance(node, InList):
        return _inlist4(node, env)
    if isinstance(node, Compare):
        return _compare4(node.op, node.left, node.right, env)
    raise TypeError(type(node))  # pragma: no cover


@dataclass(frozen=True)
class Compiled:
    """A compiled condition: its text, AST, the symbols it reads and the predicate."""

    text: str
    ast: Node
    symbols: tuple[Symbol, ...]

    @functools.cached_property
    def _negation_free(self) -> bool:
        return _negation_free(self.ast)

    @functools.cached_property
    def _when_all_unknown(self) -> bool:
        """The answer when every symbol it reads is absent (the same for every student): once per condition."""
        env = Env({sym.name: UNKNOWN for sym in self.symbols}, 1)
        return bool(self.evaluate(env)[0])

    @functools.cached_property
    def _or_of_comparisons(self) -> tuple[tuple[str, str, float], ...] | None:
        """(name, op, number) of each comparison when the condition is one ``number op literal`` comparison
        or an ``or`` of them (most rules); None otherwise."""
        items = self.ast.items if isinstance(self.ast, Or) else (self.ast,)
        kinds = {sym.name: sym.kind for sym in self.symbols}
        out = []
        for it in items:
            if not (isinstance(it, Compare) and isinstance(it.left, Name) and isinstance(it.right, Literal)
                    and kinds.get(it.left.dotted) == SymbolKind.NUMBER and isinstance(it.right.value, float)):
                return None
            out.append((it.left.dotted, it.op, float(it.right.value)))
        return tuple(out)

    def _possible_of_comparisons(self, env: Env, t: npt.NDArray[np.bool_],
                                 leaves: tuple[tuple[str, str, float], ...]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """:meth:`evaluate_possible` of an ``or`` of number comparisons, on the uncertain rows of each only.

        A comparison differs from its value-based answer only where blanks leave its number uncertain (the
        rows of its bounds); there it is decided over the interval (:func:`_compare_intervals`), and an ``or``
        is true (possibly true) where any comparison is. What is true on the values stays true (T4 ⊇ T)."""
        hits_t: list[npt.NDArray[np.intp]] = []
        hits_p: list[npt.NDArray[np.intp]] = []
        for name, op, x in leaves:
            b = env.bounds.get(name)
            raw = env.values[name]
            if b is None or not isinstance(raw, Numbers):
                continue
            rows, lo, hi = b
            v = raw.values[rows]
            with np.errstate(invalid="ignore"):
                known = ~np.isnan(v)
                by_value = _OPS[op](v, x)
            ts, _, ps, _ = _compare_intervals(op, known, by_value, lo, hi, x, x)
            hits_t.append(rows[np.asarray(ts, dtype=bool)])
            hits_p.append(rows[np.asarray(ps, dtype=bool)])
        if not any(len(h) for h in hits_p):
            return t, t
        t = np.array(t, dtype=bool)  # a copy: the value-based answer may be shared
        for h in hits_t:
            t[h] = True
        p = t.copy()
        for h in hits_p:
            p[h] = True
        return t, p

    def evaluate(self, env: Env) -> npt.NDArray[np.bool_]:
        """Where the condition is definitely true (an array of ``env.n`` booleans)."""
        t = _eval_true(self.ast, env) if self._negation_free else _eval(self.ast, env)[0]
        if np.ndim(t) == 0:  # the same for every student (e.g. it reads only absent inputs; `x is missing` of one)
            return np.full(env.n, bool(t))
        return np.asarray(t, dtype=bool)

    def evaluate_possible(self, env: Env) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """(definitely true, possibly true): the second also holds where answers to blank items could make
        the condition true (a superset of the first). Unknown risk-group flags and scales not screened
        are never "possibly" true: filling blanks cannot change them."""
        if all(isinstance(env.values[sym.name], _Unknown) for sym in self.symbols):  # e.g. a scale not screened
            t = env.everywhere if self._when_all_unknown else env.nowhere
            return t, t
        uncertain = [sym.name for sym in self.symbols if sym.name in env.bounds or sym.name in env.maybe]
        t = self.evaluate(env)
        if not uncertain:
            return t, t
        leaves = self._or_of_comparisons
        if leaves is not None and not env.dense and not any(name in env.maybe for name in uncertain):
            return self._possible_of_comparisons(env, t, leaves)
        names = [sym.name for sym in self.symbols]
        if env.dense:
            rows, sub = None, env
        else:
            # only the students with an uncertain symbol can differ from the value-based answer, and not
            # where that answer is already "true": bounds only widen what is true (T4 ⊇ T) and P4 ⊇ T4
            settled: Any = t
            if isinstance(self.ast, And):
                # nor where a part of an `and` that blanks cannot change is not true (for such a part P = T,
                # so there the `and` is neither true nor possibly true): e.g. no risk-group flag set
                unc = set(uncertain)
                for it in self.ast.items:
                    if not any(nm.dotted in unc for nm in names_in(it)):
                        ti = _eval_true(it, env) if _negation_free(it) else _eval(it, env)[0]
                        settled = settled | ~np.asarray(ti, dtype=bool)
            rows, sub = env.uncertain_subset(names, uncertain, settled=settled)
            if not len(rows):
                return t, t
        # with bounds, "definitely true" also holds where every possible answer to the blanks makes it true
        t4, _, p4, _ = _eval4(self.ast, sub)
        t4 = np.asarray(t4, dtype=bool) if np.ndim(t4) else np.full(sub.n, bool(t4))
        p4 = np.asarray(p4, dtype=bool) if np.ndim(p4) else np.full(sub.n, bool(p4))
        if rows is None:
            return t4, p4 | t4
        t = t.copy()
        t[rows] = t4
        p = t.copy()
        p[rows] |= p4
        return t, p

    def reachable(self, max_cases: int = 50_000) -> bool | None:
        """Whether any combination of possible values makes the condition true (None: too many to try)."""
        grids: list[list[Any]] = []
        for sym in self.symbols:
            grids.append(_candidates(sym, self.ast))
        total = 1
        for g in grids:
            total *= len(g)
        if total > max_cases:
            return None
        mesh = np.meshgrid(*[np.arange(len(g)) for g in grids], indexing="ij") if grids else []
        n = int(total)
        values: dict[str, Value] = {}
        for sym, g, idx in zip(self.symbols, grids, mesh):
            flat = idx.ravel()
            if sym.kind == SymbolKind.NUMBER:
                values[sym.name] = Numbers(np.array([g[i] for i in range(len(g))], dtype=float)[flat])
            elif sym.kind == SymbolKind.BOOL:
                arr = np.array(g, dtype=object)[flat]
                vals = np.array([v is True for v in arr])
                known = np.array([v is not None for v in arr])
                values[sym.name] = Truths(vals, known)
            else:
                codes = np.array(g, dtype=np.int64)[flat]
                values[sym.name] = Codes(codes, sym.levels)
        return bool(self.evaluate(Env(values, n)).any())


def _literals_for(ast: Node, name: str) -> list[float]:
    out: list[float] = []
    if isinstance(ast, Compare):
        for a, b in ((ast.left, ast.right), (ast.right, ast.left)):
            if isinstance(a, Name) and a.dotted == name and isinstance(b, Literal) and isinstance(b.value, float):
                out.append(b.value)
        out += _literals_for(ast.left, name) + _literals_for(ast.right, name)
    elif isinstance(ast, IsMissing):
        pass
    elif isinstance(ast, InList):
        if isinstance(ast.operand, Name) and ast.operand.dotted == name:
            out += [v.value for v in ast.values if isinstance(v.value, float)]
    elif isinstance(ast, Not):
        out += _literals_for(ast.item, name)
    elif isinstance(ast, (And, Or)):
        for it in ast.items:
            out += _literals_for(it, name)
    return out


def _candidates(sym: Symbol, ast: Node) -> list[Any]:
    if sym.kind == "bool":
        return [True, False, None]
    if sym.kind in ("band", "status"):
        return list(range(len(sym.levels))) + [-1]
    pts = {sym.lo, sym.hi, *sym.candidates}
    for v in _literals_for(ast, sym.name):
        pts |= {v - 0.5, v, v + 0.5}
    finite = [p for p in pts if np.isfinite(p) and sym.lo <= p <= sym.hi]
    if not np.isfinite(sym.lo) or not np.isfinite(sym.hi):
        finite += [p for p in pts if np.isfinite(p)]
    return sorted(set(finite)) + [float("nan")]


def compile_condition(text: str, resolver: Resolver) -> Compiled:
    """Parse and type-check ``text``; raises ExprSyntaxError or ConditionError."""
    ast = parse(text)
    syms: dict[str, Symbol] = {}
    _need_bool(ast, resolver, syms)
    return Compiled(text, ast, tuple(syms.values()))
