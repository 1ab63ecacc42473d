"""Hypothesis strategies shared by every property test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import screening as sc

_ANSWERED = 1000  # per cell, a draw u in 0..999: blank when u >= _ANSWERED * (1 - missing), so it shrinks to answered


def _answer_rows(n_items: int, missing: float, min_rows: int, max_rows: int) -> st.SearchStrategy[list[tuple[np.ndarray, np.ndarray]]]:
    """Rows of (option positions, blank mask), every cell its own hypothesis draw (``fill=st.nothing()``:
    no shared background value), so that shrinking deletes rows and simplifies cells one by one."""
    codes = arrays(np.int64, n_items, elements=st.integers(0, 7), fill=st.nothing())
    draws = arrays(np.int64, n_items, elements=st.integers(0, _ANSWERED - 1), fill=st.nothing())
    blank = draws.map(lambda u: u >= round(_ANSWERED * (1 - missing)))
    return st.lists(st.tuples(codes, blank), min_size=min_rows, max_size=max_rows)


@st.composite
def response_frames(draw: st.DrawFn, scale: sc.Scale, *, min_rows: int = 1, max_rows: int = 40,
                    missing: float = 0.15) -> pd.DataFrame:
    """A frame of valid responses (option values, some unanswered) with a shuffled, non-default index.

    Every cell is drawn through hypothesis (an option position and an answered/blank draw per cell, as
    numpy arrays), so a failing frame shrinks: to fewer rows, to answered cells, to the lowest options,
    to the index in order.
    """
    cs = scale.compiled
    rows = draw(_answer_rows(cs.n_items, missing, min_rows, max_rows))
    n = len(rows)
    codes = np.array([r[0] for r in rows], dtype=np.int64).reshape(n, cs.n_items)
    blank = np.array([r[1] for r in rows], dtype=bool).reshape(n, cs.n_items)
    data = {}
    for k, col in enumerate(scale.input_columns()):
        opts = cs.allowed[k]
        vals = opts[codes[:, k] % len(opts)].astype(float)
        vals[blank[:, k]] = np.nan
        data[col] = vals
    index = pd.Index(draw(st.permutations(range(1000, 1000 + n))), name="row", dtype="int64")
    return pd.DataFrame(data, index=index)


FLAG_IDS = ("left_behind", "single_parent", "bullied", "poverty", "migrant", "disability", "bereaved", "known_disorder")


@st.composite
def screening_frames(draw: st.DrawFn, scales: list[sc.Scale], *, max_rows: int = 25, missing: float = 0.1) -> pd.DataFrame:
    """Responses for several scales plus risk-group flags (True/False/NA), every cell drawn through hypothesis."""
    parts = [draw(response_frames(s, min_rows=1, max_rows=max_rows, missing=missing)) for s in scales[:1]]
    n = len(parts[0])
    index = parts[0].index
    frames = [parts[0]]
    for s in scales[1:]:
        f = draw(response_frames(s, min_rows=n, max_rows=n, missing=missing))
        f.index = index
        frames.append(f)
    # per flag and row: 0..6 False (the simplest), 7..8 True, 9 unknown
    u = draw(arrays(np.int64, (n, len(FLAG_IDS)), elements=st.integers(0, 9), fill=st.nothing()))
    flags = {}
    for j, f in enumerate(FLAG_IDS):
        flags[f] = pd.array(np.where(u[:, j] >= 9, None, u[:, j] >= 7), dtype="boolean")
    frames.append(pd.DataFrame(flags, index=index))
    return pd.concat(frames, axis=1)


_OPS_ALL = (">=", ">", "<=", "<", "==", "!=")


def _text(word: str) -> dict:
    return {"zh": word, "en": word}


@st.composite
def random_scale_docs(draw: st.DrawFn, base: dict) -> dict:
    """A random scale document: items, option sets, reverse keys and every score method, missing rule,
    transform, rounding, band layout, critical item and validity check of the format.

    ``base`` is a shipped scale document whose descriptive fields (title, references, licence) are kept.
    The document has no worked examples (they could not be stated for random rules).
    """
    doc = {k: base[k] for k in ("kind", "spec_version", "version", "form", "title", "abbreviation", "description",
                                "ages", "references", "license") if k in base}
    doc["id"] = "rnd"
    # option sets: 0..hi, 1..hi (as many exports code them) and a set with a gap (not the integers lo..hi)
    top = draw(st.integers(1, 4))
    sets = {"default": [float(v) for v in range(0, top + 1)],
            "alt": [float(v) for v in range(1, draw(st.integers(2, 5)) + 1)],
            "gap": [0.0, 2.0, 5.0]}
    doc["option_sets"] = {name: [{"value": v, "label": _text(f"{name}{v:g}")} for v in vals] for name, vals in sets.items()}
    n_items = draw(st.integers(2, 8))
    item_ids = [str(k) for k in range(1, n_items + 1)]
    option_of = {i: draw(st.sampled_from(["default", "default", "alt", "gap"])) for i in item_ids}
    doc["items"] = [{"id": i, "options": option_of[i]} for i in item_ids]
    default_items = [i for i in item_ids if option_of[i] == "default"]
    doc["reverse"] = [i for i in default_items if draw(st.booleans())]

    def subset() -> list[str]:
        chosen = draw(st.lists(st.sampled_from(item_ids), min_size=1, max_size=n_items, unique=True))
        return sorted(chosen, key=item_ids.index)

    scores: list[dict] = []
    for j in range(draw(st.integers(1, 3))):
        items = subset()
        method = draw(st.sampled_from(["sum", "mean", "weighted_sum", "count", "sum_if"]))
        score: dict = {"id": f"s{j}", "label": _text(f"s{j}"), "items": items, "method": method}
        if method == "weighted_sum":
            score["weights"] = {i: draw(st.sampled_from([0.5, 1.0, 2.0, 3.0])) for i in items}
        if method in ("count", "sum_if"):
            score["count_if"] = {"op": draw(st.sampled_from(_OPS_ALL)), "value": draw(st.integers(0, 4))}
        impute = draw(st.sampled_from(["none", "zero"] if method in ("count", "sum_if") else ["none", "prorate", "zero"]))
        score["missing"] = {"impute": impute}
        if impute != "none":
            score["missing"]["min_answered"] = draw(st.integers(1, len(items)))
        scores.append(score)
    if len(scores) >= 2 and draw(st.booleans()):
        method = draw(st.sampled_from(["sum", "mean", "ratio"]))
        parts = [scores[0]["id"], scores[1]["id"]] if method == "ratio" else [s["id"] for s in scores]
        derived: dict = {"id": "derived", "label": _text("derived"), "scores": parts, "method": method}
        impute = "none" if method == "ratio" else draw(st.sampled_from(["none", "zero"]))
        derived["missing"] = {"impute": impute}
        if impute != "none":
            derived["missing"]["min_answered"] = draw(st.integers(1, len(parts)))
        scores.append(derived)
    for score in scores:
        if draw(st.booleans()):
            score["transform"] = {"multiply": draw(st.sampled_from([1.0, 2.0, 0.5, -1.0, 4.0])),
                                  "add": draw(st.sampled_from([0.0, 10.0, -3.0]))}
        if draw(st.booleans()):
            score["rounding"] = {"method": draw(st.sampled_from(["none", "half_up", "half_even", "floor", "ceil"])),
                                 "digits": draw(st.integers(0, 2))}
    banded = draw(st.sampled_from(scores))
    e1 = draw(st.integers(-3, 20))
    e2 = e1 + draw(st.integers(1, 10))
    low_keeps_e1 = draw(st.booleans())
    bands = [
        {"id": "low", "label": _text("low"), **({"le": e1} if low_keeps_e1 else {"lt": e1})},
        {"id": "mid", "label": _text("mid"), **({"gt": e1} if low_keeps_e1 else {"ge": e1}), "lt": e2},
        {"id": "high", "label": _text("high"), "ge": e2},
    ]
    banded["bands"] = {"default": "random", "sets": {"random": {"source": {"ref": "generated"}, "bands": bands}}}
    doc["scores"] = scores
    # the format needs a worked example; this one states only the status (it is not checked here)
    doc["examples"] = [{"id": "blank", "source": "generated", "responses": dict.fromkeys(item_ids),
                        "expected": {"status": "insufficient"}}]
    doc["critical"] = [
        {"id": f"c{k}", "item": draw(st.sampled_from(item_ids)), "op": draw(st.sampled_from(_OPS_ALL)),
         "value": draw(st.integers(0, 4)), "label": _text(f"c{k}"), "source": {"ref": "generated"}}
        for k in range(draw(st.integers(0, 2)))
    ]
    doc["validity"] = []
    if draw(st.booleans()):
        doc["validity"] = [{"id": "v0", "score": scores[0]["id"], "op": draw(st.sampled_from(_OPS_ALL)),
                            "value": draw(st.integers(0, 6)), "label": _text("v0"), "source": {"ref": "generated"},
                            "void_scores": draw(st.booleans())}]
    return doc


def _upward_atom(draw: st.DrawFn, scales: dict[str, sc.Scale]) -> str:
    """A condition atom that can only become true as answers get worse (or a flag is added)."""
    kind = draw(st.sampled_from(["score", "band", "flag", "critical", "item"]))
    sid = draw(st.sampled_from(sorted(scales)))
    spec = scales[sid].spec
    if kind == "flag":
        return draw(st.sampled_from(FLAG_IDS))
    if kind == "critical" and spec.critical:
        return f"{sid}.critical"
    if kind == "item":
        item = draw(st.sampled_from(spec.item_ids()))
        top = int(scales[sid].compiled.hi[spec.item_ids().index(item)])
        return f"{sid}.item{item} >= {draw(st.integers(1, top))}"
    score = spec.scores[-1] if sid != "mht" else spec.score("total")
    if kind == "band" and score.bands is not None:
        ids = [b.id for b in score.bands.sets[score.bands.default].bands]
        start = draw(st.integers(1, len(ids) - 1))
        return f"{sid}.{score.id}.band in [{', '.join(repr(i) for i in ids[start:])}]"
    from screening.specs.derive import score_range

    lo, hi = score_range(spec, score)
    return f"{sid}.{score.id} >= {draw(st.integers(int(lo) + 1, int(hi)))}"


@st.composite
def monotone_rule_sets(draw: st.DrawFn, scales: dict[str, sc.Scale]) -> dict:
    """A random valid rule set whose conditions are upward-closed (so tiers must be monotone)."""
    n_tiers = draw(st.integers(2, 5))
    tiers = [{"id": f"t{k}", "label": {"en": f"T{k}"}, "colour": "#123456"} for k in range(n_tiers)]
    rules = []
    for r in range(draw(st.integers(0, 6))):
        atoms = [_upward_atom(draw, scales) for _ in range(draw(st.integers(1, 3)))]
        joiner = draw(st.sampled_from([" and ", " or "]))
        rule = {"id": f"r{r}", "when": joiner.join(f"({a})" for a in atoms), "reason": {"en": f"rule {r}"}}
        effect = draw(st.sampled_from(["tier", "escalate", "urgent"]))
        if effect == "tier":
            rule["tier"] = f"t{draw(st.integers(1, n_tiers - 1))}"
        elif effect == "escalate":
            rule["escalate"] = draw(st.integers(1, n_tiers - 1))
        else:
            rule["urgent"] = True
        rules.append(rule)
    actions = {t["id"]: [{"id": "a", "text": {"en": "act"}}] for t in tiers}
    actions |= {"urgent": [{"id": "u", "text": {"en": "now"}}], "rescreen": [{"id": "r", "text": {"en": "again"}}]}
    dq_tier = f"t{draw(st.integers(0, n_tiers - 1))}"
    return {
        "kind": "rules", "spec_version": 1, "id": "random", "version": "0", "title": {"en": "random"},
        "references": [{"ref": "generated by hypothesis"}], "tiers": tiers,
        "flags": [{"id": f, "label": {"en": f}} for f in FLAG_IDS],
        "critical_items": {"tier": f"t{draw(st.integers(1, n_tiers - 1))}", "urgent": draw(st.booleans()),
                           "reason": {"en": "critical"}},
        "data_quality": {"insufficient": {"tier": dq_tier, "rescreen": True, "reason": {"en": "insufficient"}},
                         "invalid": {"tier": dq_tier, "rescreen": True, "reason": {"en": "invalid"}}},
        "rules": rules, "actions": actions,
    }


# --- hostile inputs (tests/test_fuzz_*.py) -------------------------------------------------------------------
# Every value is built from `st.*` so that a failing example shrinks to a small one.

#: Tokens of the condition language, known names of the default rule set, and things that are not allowed.
CONDITION_TOKENS = (
    "(", ")", "[", "]", ",", "and", "or", "not", "in", "true", "false", "==", "!=", "<", "<=", ">", ">=",
    "phq9.total", "phq9.total.band", "phq9.item9", "phq9.critical", "phq9.status", "gad7.total", "gad7.total.band",
    "bullied", "left_behind", "quality.straightlining", "nosuch", "phq9.nosuch", "'mild'", '"severe"', "'x'",
    "0", "1", "-2.5", "27", "1e9", "__import__", "os.system", "f(", "'", '"', ".", "@", "\\", "内", "\n",
)

_NUMBER_NAMES = ("phq9.total", "gad7.total", "phq9.item9", "phq9.item1", "scl90.gsi")
_BAND_NAMES = ("phq9.total.band", "gad7.total.band")
_BOOL_NAMES = ("bullied", "left_behind", "phq9.critical", "gad7.critical")
_OPS = ("==", "!=", "<", "<=", ">", ">=")


def condition_texts() -> st.SearchStrategy[str]:
    """Random token strings of the condition language, and random text."""
    tokens = st.lists(st.sampled_from(CONDITION_TOKENS), max_size=30).map(" ".join)
    glued = st.lists(st.sampled_from(CONDITION_TOKENS), max_size=30).map("".join)
    return st.one_of(tokens, glued, st.text(max_size=60))


def _literal() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(-5, 100).map(str),
        st.floats(-5, 100, allow_nan=False).map(lambda x: f"{x:.2f}"),
        st.sampled_from(("'minimal'", "'mild'", "'moderate'", "'severe'", "'none'", "true", "false", "'ok'")),
    )


def _atom() -> st.SearchStrategy[str]:
    compare = st.builds(lambda n, op, lit: f"{n} {op} {lit}",
                        st.sampled_from(_NUMBER_NAMES + _BAND_NAMES + _BOOL_NAMES), st.sampled_from(_OPS), _literal())
    member = st.builds(lambda n, neg, lits: f"{n} {'not in' if neg else 'in'} [{', '.join(lits)}]",
                       st.sampled_from(_BAND_NAMES + _NUMBER_NAMES), st.booleans(), st.lists(_literal(), max_size=4))
    return st.one_of(compare, member, st.sampled_from(_BOOL_NAMES))


def condition_asts() -> st.SearchStrategy[str]:
    """Random trees of and/or/not/brackets over type-correct and type-wrong comparisons, rendered as text."""
    return st.recursive(
        _atom(),
        lambda inner: st.one_of(
            st.builds(lambda a, b: f"({a} and {b})", inner, inner),
            st.builds(lambda a, b: f"{a} or {b}", inner, inner),
            inner.map(lambda a: f"not {a}"),
            inner.map(lambda a: f"({a})"),
        ),
        max_leaves=12,
    )


def hostile_values() -> st.SearchStrategy[object]:
    """A value of the wrong kind where YAML or a cell holds something else."""
    return st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8),
        st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(-3, 3), max_size=2),
    )


def _slots(doc: object, path: tuple = ()) -> list[tuple]:
    """Every (path to container, key) in a parsed YAML document, in document order."""
    out: list[tuple] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.append((path, k))
            out += _slots(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.append((path, i))
            out += _slots(v, (*path, i))
    return out


@st.composite
def mutated_documents(draw: st.DrawFn, doc: dict, *, max_mutations: int = 3) -> dict:
    """A shipped YAML document with keys deleted, duplicated, renamed or their values retyped."""
    import copy

    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, max_mutations))):
        slots = _slots(doc)
        if not slots:
            break
        path, key = draw(st.sampled_from(slots))
        parent = doc
        for p in path:
            parent = parent[p]
        op = draw(st.sampled_from(("delete", "duplicate", "retype", "rename")))
        if op == "delete":
            del parent[key]
        elif op == "duplicate":
            if isinstance(parent, list):
                parent.insert(key, copy.deepcopy(parent[key]))
            else:
                parent[f"{key}_"] = copy.deepcopy(parent[key])
        elif op == "retype":
            parent[key] = draw(hostile_values())
        elif isinstance(parent, dict):
            parent[draw(st.one_of(st.text(max_size=6), st.integers(-3, 3), st.booleans()))] = parent.pop(key)
    return doc


def _cells() -> st.SearchStrategy[object]:
    return st.one_of(
        st.sampled_from([0, 1, 2, 3, 4, -1, 0.5, "1", " 2 ", "", " ", "是", "几乎每天", "Not at all", "nan"]),
        st.none(), st.just(float("nan")), st.just(pd.NA), st.floats(), st.integers(-(2**70), 2**70),
        st.complex_numbers(max_magnitude=10), st.text(max_size=5), st.booleans(),
        st.lists(st.integers(0, 3), max_size=2), st.binary(max_size=3),
    )


@st.composite
def hostile_columns(draw: st.DrawFn, n: int) -> pd.Series:
    """One column of ``n`` cells: a typed column (float, int, nullable, bool, category, string, complex) or mixed objects."""
    kind = draw(st.sampled_from(("object", "float", "int", "Int64", "boolean", "category", "string", "complex")))
    if kind == "float":
        return pd.Series(draw(st.lists(st.floats(), min_size=n, max_size=n)), dtype="float64")
    if kind == "int":
        return pd.Series(draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n)), dtype="int64")
    if kind == "Int64":
        return pd.Series(draw(st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=n, max_size=n)), dtype="Int64")
    if kind == "boolean":
        return pd.Series(draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)), dtype="boolean")
    if kind == "category":
        return pd.Series(draw(st.lists(st.sampled_from(["0", "1", "3", "x", None]), min_size=n, max_size=n)),
                         dtype="category")
    if kind == "string":
        return pd.Series(draw(st.lists(st.one_of(st.none(), st.text(max_size=4)), min_size=n, max_size=n)),
                         dtype="string")
    if kind == "complex":
        return pd.Series(draw(st.lists(st.complex_numbers(max_magnitude=5), min_size=n, max_size=n)), dtype="complex128")
    return pd.Series(draw(st.lists(_cells(), min_size=n, max_size=n)), dtype=object)


@st.composite
def hostile_frames(draw: st.DrawFn, columns: list[str]) -> pd.DataFrame:
    """Responses with random dtypes and cells; columns may be missing, duplicated or integer-labelled."""
    n = draw(st.integers(0, 4))
    cols = list(columns)
    data = []
    labels: list[object] = []
    damaged = dict(draw(st.lists(st.tuples(st.sampled_from(cols), st.sampled_from(("drop", "twice", "int"))),
                                 max_size=2)))
    for c in cols:
        how = damaged.get(c, "keep")
        if how == "drop":
            continue
        labels.append(int(c.rsplit("_", 1)[1]) if how == "int" else c)
        data.append(draw(hostile_columns(n)))
        if how == "twice":
            labels.append(c)
            data.append(draw(hostile_columns(n)))
    if not data:
        return pd.DataFrame(index=pd.RangeIndex(n))
    frame = pd.concat([s.reset_index(drop=True) for s in data], axis=1)
    frame.columns = labels
    index = draw(st.sampled_from(("range", "shuffled", "strings")))
    if index == "shuffled":
        frame.index = pd.Index(draw(st.permutations(list(range(100, 100 + n)))))
    elif index == "strings":
        frame.index = pd.Index([f"r{i}" for i in range(n)])
    return frame


@st.composite
def csv_bytes(draw: st.DrawFn, header: list[str]) -> bytes:
    """A delimited text file: a table of random cells, then damaged (quotes, CR, NUL, cuts) and encoded."""
    sep = draw(st.sampled_from((",", ",", "\t", ";", "|")))
    eol = draw(st.sampled_from(("\n", "\r\n", "\r")))
    cell = st.one_of(st.sampled_from(["0", "1", "2", "3"]),
                     st.sampled_from(["", "是", "几乎每天", '"', '""', "a,b", "1e3", "4.40106E+18", "\r", "\x00"]),
                     st.text(max_size=4))
    width = len(header)
    rows = draw(st.lists(st.one_of(st.lists(cell, min_size=width, max_size=width),
                                   st.lists(cell, min_size=max(0, width - 1), max_size=width + 1)), max_size=5))
    text = eol.join(sep.join(r) for r in [header, *rows]) + draw(st.sampled_from(("", eol)))
    for _ in range(draw(st.sampled_from((0, 0, 1, 2, 3)))):
        if not text:
            break
        pos = draw(st.integers(0, len(text)))
        damage = draw(st.sampled_from(('"', "\r", "\x00", "\ufeff", sep, eol, "cut")))
        text = text[:pos] if damage == "cut" else text[:pos] + damage + text[pos:]
    encoding = draw(st.sampled_from(("utf-8", "utf-8", "utf-8-sig", "gb18030", "utf-16", "big5")))
    raw = text.encode(encoding, errors="replace")
    how = draw(st.sampled_from(("whole", "whole", "whole", "random", "cut")))
    if how == "whole":
        return raw
    return draw(st.binary(max_size=120)) if how == "random" else raw[: draw(st.integers(0, len(raw)))]
