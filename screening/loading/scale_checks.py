"""Validate a scale file: structure (pydantic) and cross-field consistency, every problem at once.

When the structure is broken in one place, the parts that did parse are still
checked against each other, so a file with three separate mistakes reports
all three.
"""

from __future__ import annotations

import functools
from collections import Counter
from itertools import pairwise
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..errors import Issue, did_you_mean
from ..specs.common import normalise_label
from ..specs.derive import score_range
from ..specs.scale import (
    ChangeSpec,
    Codes,
    Coding,
    CriticalItem,
    Example,
    Item,
    ItemPair,
    Norms,
    Option,
    ScaleSpec,
    Score,
    ValidityCheck,
)
from .pydantic_issues import validation_issues

__all__ = ["parse_scale", "EXAMPLE_KEYS_FIXED"]

# Output names an example's `expected` may use besides score ids (see Example).
EXAMPLE_KEYS_FIXED = ("status", "critical")


@functools.lru_cache(maxsize=64)
def _adapter(tp: Any) -> TypeAdapter[Any]:
    """One adapter per type (building one costs ~30 µs; a scale file asks for hundreds)."""
    return TypeAdapter(tp)


def _try(tp: Any, value: Any) -> Any:
    try:
        return _adapter(tp).validate_python(value)
    except ValidationError:
        return None


class _Partial:
    """The parts of a scale file that parsed on their own, for cross-checks."""

    def __init__(self, data: dict[str, Any]):
        self.option_sets: dict[str, tuple[Option, ...]] = {}
        if isinstance(data.get("option_sets"), dict):
            for k, v in data["option_sets"].items():
                parsed = _try(tuple[Option, ...], v)
                if parsed is not None:
                    self.option_sets[str(k)] = parsed
        self.items = self._list(data, "items", Item)
        self.scores = self._list(data, "scores", Score)
        self.critical = self._list(data, "critical", CriticalItem)
        self.validity = self._list(data, "validity", ValidityCheck)
        self.pairs = self._list(data, "pairs", ItemPair)
        self.examples = self._list(data, "examples", Example)
        self.change = self._list(data, "change", ChangeSpec)
        self.reverse = _try(tuple[str | int, ...], data.get("reverse", ()))
        self.norms = _try(Norms, data["norms"]) if isinstance(data.get("norms"), dict) else None
        self.codes = self._codes(data.get("codes"))
        # ids as written, even where the rest of the entry is broken (avoids follow-on errors)
        self.raw_score_ids = self._raw_ids(data, "scores")

    @staticmethod
    def _codes(raw: Any) -> Codes | None:
        """The codes block, or as much of it as parses part by part (a misspelt key elsewhere is reported anyway)."""
        if not isinstance(raw, dict):
            return None
        whole: Codes | None = _try(Codes, raw)
        if whole is not None:
            return whole
        parts: dict[str, Any] = {"source": {"ref": "(partial)"}}
        if isinstance(raw.get("system"), str):
            parts["system"] = raw["system"]
        for name, tp in (("panel", Coding), ("items", None), ("scores", None), ("answers", None)):
            value = raw.get(name)
            if tp is not None:
                parts[name] = _try(tp, value) if isinstance(value, dict) else None
            elif isinstance(value, dict):
                inner = Codes.model_fields[name].annotation
                parts[name] = {k: v for k, v in value.items() if _try(inner, {k: v}) is not None}
        partial: Codes | None = _try(Codes, parts)
        return partial

    @staticmethod
    def _raw_ids(data: dict[str, Any], key: str) -> list[str]:
        raw = data.get(key)
        if not isinstance(raw, list):
            return []
        return [str(e["id"]) for e in raw if isinstance(e, dict) and isinstance(e.get("id"), (str, int))]

    @staticmethod
    def _list(data: dict[str, Any], key: str, tp: Any) -> list[tuple[int, Any]]:
        raw = data.get(key)
        if not isinstance(raw, list):
            return []
        out = []
        fields = getattr(tp, "model_fields", None)
        for i, v in enumerate(raw):
            parsed = _try(tp, v)
            if parsed is None and fields is not None and isinstance(v, dict):
                # a misspelt key is reported by validation; check the rest of the entry anyway
                parsed = _try(tp, {k: x for k, x in v.items() if k in fields})
            if parsed is not None:
                out.append((i, parsed))
        return out


def _unknown_item(item: str, known: list[str], path: str, file: str, what: str) -> Issue:
    return Issue(
        "unknown_item",
        f"{what} refers to item {item!r}, which is not in `items`",
        path=path,
        file=file,
        hint=did_you_mean(item, known) or f"items are {', '.join(known[:12])}{'…' if len(known) > 12 else ''}",
    )


def _check_bands(spec_like: Any, score: Score, i: int, file: str) -> list[Issue]:
    """Bands must tile the score's possible range on the real line: no gaps, no overlaps."""
    issues: list[Issue] = []
    if score.bands is None:
        return issues
    base = f"scores[{i}].bands"
    if score.bands.default not in score.bands.sets:
        issues.append(
            Issue(
                "unknown_band_set",
                f"default band set {score.bands.default!r} is not among the sets",
                path=f"{base}.default",
                file=file,
                hint=did_you_mean(score.bands.default, score.bands.sets) or "",
            )
        )
    try:
        lo, hi = score_range(spec_like, score)
    except (KeyError, StopIteration, ValueError):
        return issues  # the score's items are broken; reported elsewhere
    for name, bset in score.bands.sets.items():
        path = f"{base}.sets.{name}.bands"
        ids = Counter(b.id for b in bset.bands)
        for dup, n in ids.items():
            if n > 1:
                issues.append(Issue("duplicate_id", f"band id {dup!r} is used {n} times", path=path, file=file))
        neg_inf = (float("-inf"), True)
        ordered = sorted(bset.bands, key=lambda b: (b.lower or neg_inf)[0])
        first, last = ordered[0], ordered[-1]
        if first.lower is not None and (first.lower[0] > lo or (first.lower[0] == lo and not first.lower[1])):
            issues.append(
                Issue(
                    "band_gap",
                    f"no band covers the lowest possible score {lo:g} (first band {first.id!r} starts at "
                    f"{'>=' if first.lower[1] else '>'} {first.lower[0]:g})",
                    path=path,
                    file=file,
                )
            )
        if last.upper is not None and (last.upper[0] < hi or (last.upper[0] == hi and not last.upper[1])):
            issues.append(
                Issue(
                    "band_gap",
                    f"no band covers the highest possible score {hi:g} (last band {last.id!r} ends at "
                    f"{'<=' if last.upper[1] else '<'} {last.upper[0]:g})",
                    path=path,
                    file=file,
                )
            )
        for a, b in pairwise(ordered):
            au, bl = a.upper, b.lower
            if au is None or bl is None:
                issues.append(
                    Issue("band_overlap", f"bands {a.id!r} and {b.id!r} overlap (an open bound)", path=path, file=file)
                )
                continue
            if au[0] < bl[0] or (au[0] == bl[0] and not au[1] and not bl[1]):
                hint = ""
                if au[1] and bl[1] and bl[0] - au[0] <= 1:
                    hint = (
                        f"write `lt: {bl[0]:g}` instead of `le: {au[0]:g}` on {a.id!r}: prorated or mean "
                        "scores can fall between whole numbers"
                    )
                issues.append(
                    Issue(
                        "band_gap",
                        f"gap between bands {a.id!r} (up to {au[0]:g}) and {b.id!r} (from {bl[0]:g})",
                        path=path,
                        file=file,
                        hint=hint,
                    )
                )
            elif au[0] > bl[0] or (au[0] == bl[0] and au[1] and bl[1]):
                issues.append(
                    Issue(
                        "band_overlap",
                        f"bands {a.id!r} and {b.id!r} overlap at {bl[0]:g}",
                        path=path,
                        file=file,
                        hint="make exactly one side of a shared bound inclusive (le/ge) and the other strict (lt/gt)",
                    )
                )
    return issues


def _label_collisions(name: str, opts: tuple[Option, ...], file: str) -> list[Issue]:
    """Labels and aliases of different options that read the same after case, space and width folding.

    ``response_format="label"`` folds every cell the same way (:func:`screening.specs.common.normalise_label`),
    so such a pair would silently score every matching answer as whichever option was read last.
    """
    seen: dict[str, tuple[str, float]] = {}
    issues: list[Issue] = []
    for j, o in enumerate(opts):
        texts = [(f"option_sets.{name}[{j}].label.{lang}", t) for lang, t in (("zh", o.label.zh), ("en", o.label.en)) if t]
        texts += [(f"option_sets.{name}[{j}].aliases[{k}]", a) for k, a in enumerate(o.aliases)]
        for path, text in texts:
            key = normalise_label(text)
            if key in seen and seen[key][1] != o.value:
                first = seen[key][0]
                issues.append(Issue(
                    "label_collision",
                    f"{text!r} at {path} and the label or alias at {first} read the same after folding case, spaces and "
                    f"full/half width ({key!r}) but belong to options with different values",
                    path=path, file=file, hint=f"remove or change one of them ({first} / {path})"))
            else:
                seen.setdefault(key, (path, o.value))
    return issues


def _check_id(data: dict[str, Any], file: str, stem: str | None) -> list[Issue]:
    """The id matches the file name."""
    issues: list[Issue] = []
    sid = data.get("id")
    if stem is not None and isinstance(sid, str) and sid != stem:
        issues.append(
            Issue("id_mismatch", f"id {sid!r} differs from the file name {stem!r}", path="id", file=file,
                  hint=f"rename the file to {sid}.yaml or set id: {stem}")
        )
    return issues


def _check_items(data: dict[str, Any], p: _Partial, known: list[str], file: str) -> list[Issue]:
    """Item ids are unique, every item's option set exists, option labels do not collide, item text only where licensed."""
    issues: list[Issue] = []
    for dup, n in Counter(known).items():
        if n > 1:
            issues.append(Issue("duplicate_id", f"item id {dup!r} is used {n} times", path="items", file=file))
    raw_sets: dict[Any, Any] = data["option_sets"] if isinstance(data.get("option_sets"), dict) else {}
    for i, it in p.items:
        if p.option_sets and it.options not in p.option_sets and it.options in raw_sets:
            continue  # the option set itself is broken; reported by validation
        if it.options not in raw_sets:
            issues.append(
                Issue("unknown_option_set", f"item {it.id!r} uses option set {it.options!r}, which is not defined",
                      path=f"items[{i}].options", file=file,
                      hint=did_you_mean(it.options, p.option_sets) or "")
            )
    for name, opts in p.option_sets.items():
        values = Counter(o.label.get("en") + "|" + o.label.get("zh") for o in opts)
        for lab, n in values.items():
            if n > 1:
                issues.append(Issue("duplicate_label", f"option label {lab!r} appears {n} times", path=f"option_sets.{name}", file=file))
        issues += _label_collisions(name, opts, file)
    lic: dict[Any, Any] = data["license"] if isinstance(data.get("license"), dict) else {}
    if lic.get("text_redistributable") is False:
        for i, it in p.items:
            if it.text is not None:
                issues.append(
                    Issue("text_not_allowed", f"item {it.id!r} carries text, but the licence does not allow shipping item text",
                          path=f"items[{i}].text", file=file, hint="remove the text; ship the scoring key only")
                )
    return issues


def _check_reverse(p: _Partial, known: list[str], file: str) -> list[Issue]:
    """Reverse keys name real items."""
    issues: list[Issue] = []
    for j, r in enumerate(p.reverse or ()):
        if known and str(r) not in known:
            issues.append(_unknown_item(str(r), known, f"reverse[{j}]", file, "reverse key"))
    return issues


def _check_scores(p: _Partial, known: list[str], file: str) -> tuple[list[Issue], list[str]]:
    """Each score has parts, a unique id, real items (once each) with weights, and uses only scores above it.

    Also returns the ids of the scores that parsed, in file order."""
    issues: list[Issue] = []
    score_ids: list[str] = []
    for i, s in p.scores:
        if not (s.items or s.scores):
            issues.append(Issue("empty_score", f"score {s.id!r} has no items and no scores to combine",
                                path=f"scores[{i}]", file=file, hint="list the items (or the scores) it is made of"))
        if s.id in score_ids:
            issues.append(Issue("duplicate_id", f"score id {s.id!r} is used twice", path=f"scores[{i}].id", file=file))
        if s.items is not None and known:
            for j, it in enumerate(s.items):
                if it not in known:
                    issues.append(_unknown_item(it, known, f"scores[{i}].items[{j}]", file, f"score {s.id!r}"))
            for dup, n in Counter(s.items).items():
                if n > 1:
                    issues.append(Issue("duplicate_id", f"item {dup!r} is listed {n} times", path=f"scores[{i}].items", file=file))
            for w in s.weights or {}:
                if w not in s.items:
                    issues.append(Issue("unknown_item", f"weight given for item {w!r}, which the score does not use",
                                        path=f"scores[{i}].weights.{w}", file=file))
            if s.weights is not None and set(s.weights) != set(s.items):
                missing_w = sorted(set(s.items) - set(s.weights))
                if missing_w:
                    issues.append(Issue("missing_weight", f"no weight for items {missing_w}", path=f"scores[{i}].weights", file=file))
        if s.scores is not None:
            for j, ref in enumerate(s.scores):
                if ref not in score_ids and ref not in p.raw_score_ids[:i]:
                    later = p.raw_score_ids
                    msg = (f"score {s.id!r} uses score {ref!r}, which must be defined above it"
                           if ref in later else f"score {s.id!r} uses unknown score {ref!r}")
                    issues.append(Issue("unknown_score", msg, path=f"scores[{i}].scores[{j}]", file=file,
                                        hint=(did_you_mean(ref, later) or "") if ref not in later else ""))
        n = len(s.items or s.scores or ())
        if s.missing.min_answered is not None and s.missing.min_answered > n:
            issues.append(Issue("invalid_value", f"min_answered={s.missing.min_answered} is more than the {n} parts of the score",
                                path=f"scores[{i}].missing.min_answered", file=file))
        score_ids.append(s.id)
    return issues, score_ids


def _check_score_bands(p: _Partial, known: list[str], file: str) -> list[Issue]:
    """Bands cover each score's range (ranges need items and option sets to be sound)."""
    issues: list[Issue] = []
    if known:

        class _SpecLike:
            # the subset of ScaleSpec that score_range touches
            items = tuple(it for _, it in p.items)
            option_sets = p.option_sets

            @staticmethod
            def score(sid: str) -> Score:
                found: Score = next(s for _, s in p.scores if s.id == sid)
                return found

        for i, s in p.scores:
            issues += _check_bands(_SpecLike, s, i, file)
    return issues


def _check_references(p: _Partial, known: list[str], defined: list[str], file: str) -> list[Issue]:
    """Critical items, validity checks and item pairs name real items and scores."""
    issues: list[Issue] = []
    for i, c in p.critical:
        if known and c.item not in known:
            issues.append(_unknown_item(c.item, known, f"critical[{i}].item", file, f"critical item {c.id!r}"))
    for i, v in p.validity:
        if v.score not in defined:
            issues.append(Issue("unknown_score", f"validity check {v.id!r} uses unknown score {v.score!r}",
                                path=f"validity[{i}].score", file=file, hint=did_you_mean(v.score, defined) or ""))
    for i, pr in p.pairs:
        for j, it in enumerate(pr.items):
            if known and it not in known:
                issues.append(_unknown_item(it, known, f"pairs[{i}].items[{j}]", file, "item pair"))
    return issues


def _check_norms(p: _Partial, defined: list[str], file: str) -> list[Issue]:
    """Norm sets name a real score; their groups match `by`, once each, with what their method needs."""
    issues: list[Issue] = []
    if p.norms is not None:
        if p.norms.default is not None and p.norms.default not in p.norms.sets:
            issues.append(Issue("unknown_norm_set", f"default norm set {p.norms.default!r} is not defined",
                                path="norms.default", file=file, hint=did_you_mean(p.norms.default, p.norms.sets) or ""))
        for name, ns in p.norms.sets.items():
            base = f"norms.sets.{name}"
            if ns.score not in defined:
                issues.append(Issue("unknown_score", f"norm set uses unknown score {ns.score!r}", path=f"{base}.score",
                                    file=file, hint=did_you_mean(ns.score, defined) or ""))
            seen_groups: set[tuple[str, ...]] = set()
            for g_i, g in enumerate(ns.groups):
                gpath = f"{base}.groups[{g_i}]"
                if set(g.match) != set(ns.by):
                    issues.append(Issue("norm_group_keys", f"match keys {sorted(g.match)} must equal `by` {list(ns.by)}",
                                        path=f"{gpath}.match", file=file))
                key = tuple(str(g.match.get(b)) for b in ns.by)
                if key in seen_groups:
                    issues.append(Issue("duplicate_id", f"norm group {dict(zip(ns.by, key))} appears twice", path=gpath, file=file))
                seen_groups.add(key)
                if ns.method == "linear" and (g.mean is None or g.sd is None):
                    issues.append(Issue("missing_key", "a linear norm group needs `mean` and `sd`", path=gpath, file=file))
                if ns.method == "table":
                    if not g.rows:
                        issues.append(Issue("missing_key", "a table norm group needs `rows`", path=gpath, file=file))
                    elif any(a[0] >= b[0] for a, b in zip(g.rows, g.rows[1:])):
                        issues.append(Issue("unsorted", "norm rows must be sorted by raw score, without repeats",
                                            path=f"{gpath}.rows", file=file))
    return issues


def _check_examples(p: _Partial, known: list[str], defined: list[str], file: str) -> list[Issue]:
    """Worked examples answer every item with an option value and expect outputs that scoring produces."""
    issues: list[Issue] = []
    crit_ids = [c.id for _, c in p.critical]
    val_ids = [v.id for _, v in p.validity]
    allowed_expect = set(EXAMPLE_KEYS_FIXED) | set(defined) | {f"{s}.band" for s in defined}
    allowed_expect |= {f"critical.{c}" for c in crit_ids} | {f"validity.{v}" for v in val_ids}
    band_sets = {s.id: list(s.bands.sets) for _, s in p.scores if s.bands is not None}
    allowed_expect |= {f"{sid}.band@{name}" for sid, names in band_sets.items() for name in names}
    item_opts = {it.id: it.options for _, it in p.items}
    for i, ex in p.examples:
        for item, val in ex.responses.items():
            if known and item not in known:
                issues.append(_unknown_item(item, known, f"examples[{i}].responses.{item}", file, f"example {ex.id!r}"))
            elif val is not None and item in item_opts and item_opts[item] in p.option_sets:
                vals = {o.value for o in p.option_sets[item_opts[item]]}
                if val not in vals:
                    issues.append(Issue("out_of_range", f"example value {val:g} for item {item!r} is not an option value {sorted(vals)}",
                                        path=f"examples[{i}].responses.{item}", file=file))
        if known:
            absent = [k for k in known if k not in ex.responses]
            if absent:
                issues.append(Issue("missing_key", f"example {ex.id!r} gives no response for items {absent[:10]}",
                                    path=f"examples[{i}].responses", file=file,
                                    hint="write `null` for an item left unanswered"))
        for key in ex.expected:
            if key not in allowed_expect:
                issues.append(Issue("unknown_output", f"example {ex.id!r} expects unknown output {key!r}",
                                    path=f"examples[{i}].expected.{key}", file=file,
                                    hint=did_you_mean(key, sorted(allowed_expect)) or ""))
    return issues


def _cross_checks(data: dict[str, Any], p: _Partial, file: str, stem: str | None) -> list[Issue]:
    """Checks across sections of a scale file, in phases; every phase reports all its problems."""
    known = [it.id for _, it in p.items]
    issues = _check_id(data, file, stem) + _check_items(data, p, known, file) + _check_reverse(p, known, file)
    score_issues, score_ids = _check_scores(p, known, file)
    issues += score_issues
    # scores whose entry failed to parse still count as defined for the checks below
    defined = list(dict.fromkeys(score_ids + p.raw_score_ids))
    issues += _check_score_bands(p, known, file)
    issues += _check_references(p, known, defined, file)
    issues += _check_norms(p, defined, file)
    issues += _check_examples(p, known, defined, file)
    issues += _check_change(p, defined, file)
    return issues


def _check_change(p: _Partial, defined: list[str], file: str) -> list[Issue]:
    """`change:` blocks name a real score once each, and their worked examples give the stated index."""
    issues: list[Issue] = []
    scores = {s.id: s for _, s in p.scores}
    seen: set[str] = set()
    for i, ch in p.change:
        base = f"change[{i}]"
        if ch.score not in defined:
            issues.append(Issue("unknown_score", f"change block uses unknown score {ch.score!r}", path=f"{base}.score",
                                file=file, hint=did_you_mean(ch.score, defined) or ""))
            continue
        if ch.score in seen:
            issues.append(Issue("duplicate_id", f"score {ch.score!r} has two change blocks", path=f"{base}.score", file=file))
        seen.add(ch.score)
        score = scores.get(ch.score)
        higher_worse = score is None or score.direction == "higher_worse"
        for j, ex in enumerate(ch.examples):
            got = ch.classify(ex.before, ex.after, higher_worse=higher_worse)
            for key, want in ex.expected.items():
                epath = f"{base}.examples[{j}].expected.{key}"
                if key not in got:
                    issues.append(Issue("unknown_output", f"change example {ex.id!r} expects unknown output {key!r}",
                                        path=epath, file=file, hint=did_you_mean(key, sorted(got)) or ""))
                    continue
                value = got[key]
                ok = (isinstance(want, str) and value == want) or (
                    not isinstance(want, str) and not isinstance(value, str) and abs(float(value) - float(want)) <= 5e-3)
                if not ok:
                    issues.append(Issue("example_mismatch", f"change example {ex.id!r}: {key} is {value!r}, the file says {want!r}",
                                        path=epath, file=file))
    return issues


def _check_codes(p: _Partial, known: list[str], file: str) -> list[Issue]:
    """The ``codes`` block names real items, scores and option sets; answer codes score real option values."""
    issues: list[Issue] = []
    c = p.codes
    if c is None:
        return issues
    for item in c.items:
        if known and item not in known:
            issues.append(_unknown_item(item, known, f"codes.items.{item}", file, "a code"))
    scores = p.raw_score_ids
    for sid in c.scores:
        if scores and sid not in scores:
            issues.append(Issue("unknown_score", f"a code is given for score {sid!r}, which is not in `scores`",
                                path=f"codes.scores.{sid}", file=file, hint=did_you_mean(sid, scores) or ""))
    seen: dict[tuple[str, str], str] = {}
    entries = [("codes.panel", c.panel)] if c.panel is not None else []
    entries += [(f"codes.items.{k}", v) for k, v in c.items.items()] + [(f"codes.scores.{k}", v) for k, v in c.scores.items()]
    for path, coding in entries:
        key = (coding.system or c.system, coding.code)
        if key in seen:
            issues.append(Issue("duplicate_code", f"code {coding.code!r} is also used at {seen[key]}", path=path, file=file,
                                hint="each item, score and the panel need their own code"))
        seen.setdefault(key, path)
    item_sets = {it.options for _, it in p.items}
    for name, alist in c.answers.items():
        path = f"codes.answers.{name}"
        if name not in p.option_sets:
            if name not in (set(p.option_sets) | item_sets):
                issues.append(Issue("unknown_option_set", f"answer codes are given for option set {name!r}, which is not defined",
                                    path=path, file=file, hint=did_you_mean(name, p.option_sets) or ""))
            continue
        values = {o.value for o in p.option_sets[name]}
        for code, val in alist.codes.items():
            if val not in values:
                issues.append(Issue("out_of_range", f"answer code {code!r} maps to {val:g}, which is not an option value "
                                    f"{sorted(values)}", path=f"{path}.codes.{code}", file=file))
    return issues


def parse_scale(data: Any, file: str = "", stem: str | None = None) -> tuple[ScaleSpec | None, list[Issue]]:
    """Validate raw YAML data as a scale definition; return the spec (or None) and every issue."""
    if not isinstance(data, dict):
        return None, [Issue("not_a_mapping", "a scale file must be a mapping", file=file)]
    issues: list[Issue] = []
    spec: ScaleSpec | None = None
    if data.get("kind") not in (None, "scale"):
        return None, [Issue("wrong_kind", f"kind is {data.get('kind')!r}; a scale file needs `kind: scale`",
                            path="kind", file=file)]
    try:
        spec = ScaleSpec.model_validate(data)
    except ValidationError as exc:
        issues += validation_issues(exc, ScaleSpec, file)
    partial = _Partial(data)
    issues += _cross_checks(data, partial, file, stem)
    issues += _check_codes(partial, [it.id for _, it in partial.items], file)
    # one message per (code, path, message): structural and cross checks may meet
    unique: dict[tuple[str, str, str], Issue] = {}
    for iss in issues:
        unique.setdefault((iss.code, iss.path, iss.message), iss)
    issues = list(unique.values())
    return (spec if not issues else None), issues

