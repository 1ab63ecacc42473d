"""Loading rule sets: validate, resolve every name against the scales, compile every condition.

A bad rule set never reaches scoring: unknown names, type mismatches,
unreachable or ineffective rules, missing actions — all are reported at once,
with the YAML path of each, when the file is loaded.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .._params import InvalidParameterError, describe
from ..errors import Issue, RuleError, ScreeningError, did_you_mean
from ..loading import builtin_dir, read_yaml
from ..loading.pydantic_issues import validation_issues
from ..scoring import Scale, content_hash, list_scales, load_scale
from ..specs.rules import RuleSetSpec
from .actions import ActionTable, build_action_table
from .condition import Compiled, ConditionError, Resolver, Symbol, compile_condition
from .expr import _KEYWORDS, ExprSyntaxError, names_in, parse

__all__ = ["RuleSet", "load_rules", "list_rules", "ACTION_KEYS"]

#: Keys of the `actions` block besides the tier ids.
ACTION_KEYS = ("urgent", "rescreen")


@dataclass(frozen=True, repr=False, eq=False)
class RuleSet:
    """A loaded rule set: spec, compiled conditions (same order as ``spec.rules``), scales it knows."""

    spec: RuleSetSpec
    conditions: tuple[Compiled, ...]
    scales: Mapping[str, Scale]
    source: str
    content_hash: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def tiers(self) -> list[str]:
        return self.spec.tier_ids()

    @property
    def flags(self) -> list[str]:
        return [f.id for f in self.spec.flags]

    @functools.cached_property
    def symbols(self) -> Mapping[str, Symbol]:
        """Every name the conditions read, once (kept with the rule set: a screen call does not rebuild it)."""
        return {sym.name: sym for cond in self.conditions for sym in cond.symbols}

    @functools.cached_property
    def action_table(self) -> ActionTable:
        """What happens for every outcome (tier, urgent, re-screen): built once, kept with the rule set."""
        return build_action_table(self.spec)

    def __repr__(self) -> str:
        s = self.spec
        return (f"<RuleSet {s.id} v{s.version}: tiers {' < '.join(self.tiers)}; {len(s.rules)} rules; "
                f"flags {', '.join(self.flags) or 'none'}>")

    def _repr_html_(self) -> str:
        from html import escape

        s = self.spec
        tiers = " &lt; ".join(
            f"<span style='background:{t.colour};color:#fff;padding:1px 6px;border-radius:3px'>{escape(t.label.get('zh'))} "
            f"{escape(t.label.get('en'))}</span>" for t in s.tiers
        )
        rows = "".join(
            f"<tr><td>{escape(r.id)}</td><td><code>{escape(r.when)}</code></td>"
            f"<td>{escape(r.tier or '')}{' +' + str(r.escalate) if r.escalate else ''}{' urgent' if r.urgent else ''}</td>"
            f"<td>{escape(r.reason.get('zh'))}</td></tr>" for r in s.rules
        )
        return (f"<div><b>{escape(s.title.get('zh'))} / {escape(s.title.get('en'))}</b> <code>{escape(s.id)}</code> "
                f"v{escape(s.version)}<br>{tiers}<table><thead><tr><th>rule</th><th>when</th><th>effect</th>"
                f"<th>reason</th></tr></thead><tbody>{rows}</tbody></table></div>")


def list_rules() -> list[str]:
    """Ids of the built-in rule sets."""
    return sorted(p.stem for p in builtin_dir("tiering_rules").glob("*.yaml"))


def _structure_checks(spec: RuleSetSpec, file: str) -> list[Issue]:
    issues: list[Issue] = []
    tiers = spec.tier_ids()
    for kind, ids in (("tier", tiers), ("role", [r.id for r in spec.roles]), ("flag", [f.id for f in spec.flags]),
                      ("rule", [r.id for r in spec.rules])):
        for dup, n in Counter(ids).items():
            if n > 1:
                issues.append(Issue("duplicate_id", f"{kind} id {dup!r} is used {n} times", path=f"{kind}s", file=file))
    # a tier named like an action key, or a flag named like a keyword of the condition language, is ambiguous
    for kind, ids, reserved in (("tier", tiers, ACTION_KEYS), ("flag", [f.id for f in spec.flags], _KEYWORDS)):
        for i, name in enumerate(ids):
            if name in reserved:
                issues.append(Issue("reserved_id", f"{kind} id {name!r} is reserved", path=f"{kind}s[{i}].id", file=file,
                                    hint=f"reserved {kind} ids: {', '.join(sorted(reserved))}"))

    def tier_ref(tier: str | None, path: str) -> None:
        if tier is not None and tier not in tiers:
            issues.append(Issue("unknown_tier", f"unknown tier {tier!r}", path=path, file=file,
                                hint=did_you_mean(tier, tiers) or f"tiers: {', '.join(tiers)}"))

    tier_ref(spec.critical_items.tier, "critical_items.tier")
    if spec.critical_items.tier == tiers[0]:
        issues.append(Issue("critical_lowest_tier", "a fired critical item may not leave a student in the lowest tier",
                            path="critical_items.tier", file=file, hint=f"use {tiers[-1]!r}"))
    if spec.critical_items.project is not None:
        tier_ref(spec.critical_items.project.tier, "critical_items.project.tier")
        if spec.critical_items.project.tier == tiers[0]:
            issues.append(Issue("critical_lowest_tier", "a fired critical item may not leave a student in the lowest tier",
                                path="critical_items.project.tier", file=file, hint=f"use {tiers[1]!r} or higher"))
    for k, name in enumerate(spec.critical_items.promote):
        if name.count(".") != 1:
            issues.append(Issue("invalid_value", f"{name!r} is not `scale.critical_id` (e.g. `dsrsc.item10`)",
                                path=f"critical_items.promote[{k}]", file=file))
    for which in ("insufficient", "invalid"):
        pol = getattr(spec.data_quality, which)
        tier_ref(pol.tier, f"data_quality.{which}.tier")
        if (pol.tier is None or pol.tier == tiers[0]) and not pol.rescreen:
            issues.append(Issue("silent_lowest_tier", f"{which} data would give a silent {tiers[0]!r}",
                                path=f"data_quality.{which}", file=file,
                                hint="set `rescreen: true` or a higher tier"))
    for i, r in enumerate(spec.rules):
        tier_ref(r.tier, f"rules[{i}].tier")
        if r.tier == tiers[0] and not r.urgent:
            issues.append(Issue("no_effect", f"rule {r.id!r} sets the lowest tier, which every student has anyway",
                                path=f"rules[{i}].tier", file=file))
        if r.escalate is not None and r.escalate >= len(tiers):
            issues.append(Issue("invalid_value", f"escalating by {r.escalate} passes the top tier of {len(tiers)}",
                                path=f"rules[{i}].escalate", file=file))
    roles = [r.id for r in spec.roles]
    for key, acts in spec.actions.items():
        if key not in tiers and key not in ACTION_KEYS:
            issues.append(Issue("unknown_tier", f"actions for unknown tier {key!r}", path=f"actions.{key}", file=file,
                                hint=did_you_mean(key, [*tiers, *ACTION_KEYS]) or ""))
        for j, a in enumerate(acts):
            for k, role in enumerate(a.roles):
                if role not in roles:
                    issues.append(Issue("unknown_role", f"unknown role {role!r}", path=f"actions.{key}[{j}].roles[{k}]",
                                        file=file, hint=did_you_mean(role, roles) or f"roles: {', '.join(roles)}"))
    for key in [*tiers, *ACTION_KEYS]:
        if key not in spec.actions:
            issues.append(Issue("missing_actions", f"no actions for {key!r}: every tier, `urgent` and `rescreen` need them",
                                path="actions", file=file))
    return issues


def _scales_for(spec: RuleSetSpec, file: str, base: Path | None) -> tuple[dict[str, Scale], list[Issue]]:
    """Load every scale the conditions name (built-in or under `extra_scales`)."""
    flags = {f.id for f in spec.flags}
    wanted: dict[str, list[str]] = {}
    for i, r in enumerate(spec.rules):
        try:
            ast = parse(r.when)
        except ExprSyntaxError:
            continue  # reported when compiling
        for name in names_in(ast):
            if len(name.parts) > 1 and name.parts[0] != "quality" and name.dotted not in flags:
                wanted.setdefault(name.parts[0], []).append(f"rules[{i}].when")
    builtins = set(list_scales())
    scales: dict[str, Scale] = {}
    issues: list[Issue] = []
    for sid, rel in spec.extra_scales.items():
        path = (base / rel) if base is not None else Path(rel)
        try:
            scales[sid] = load_scale(path)
        except ScreeningError as exc:
            issues.append(Issue("bad_extra_scale", f"cannot load extra scale {sid!r}: {exc.issues[0] if exc.issues else exc}",
                                path=f"extra_scales.{sid}", file=file))
    for sid in wanted:
        if sid in scales:
            continue
        if sid in builtins:
            scales[sid] = load_scale(sid)
    return scales, issues


def _compile_rules(spec: RuleSetSpec, scales: dict[str, Scale], file: str) -> tuple[list[Compiled], list[Issue]]:
    resolver = Resolver(scales, [f.id for f in spec.flags], hint_scales=list_scales(), tiers=[t.id for t in spec.tiers])
    compiled: list[Compiled] = []
    issues: list[Issue] = []
    for i, r in enumerate(spec.rules):
        path = f"rules[{i}].when"
        try:
            cond = compile_condition(r.when, resolver)
        except ExprSyntaxError as exc:
            issues.append(Issue("syntax_error", f"rule {r.id!r}: {exc.short}: {r.when!r}", path=path, file=file,
                                hint="conditions use names, numbers, quoted text, comparisons, and/or/not, in [...]"))
            continue
        except ConditionError as exc:
            issues.append(Issue(exc.code, f"rule {r.id!r}: {exc}", path=path, file=file, hint=exc.hint))
            continue
        reach = cond.reachable()
        if reach is False:
            issues.append(Issue("unreachable_rule", f"rule {r.id!r} can never fire: no possible answers satisfy {r.when!r}",
                                path=path, file=file, hint="check the cut-off against the score's range"))
        compiled.append(cond)
    return compiled, issues


def _promote_checks(spec: RuleSetSpec, scales: Mapping[str, Scale], file: str) -> list[Issue]:
    """`critical_items.promote` names project-choice critical items of known scales."""
    issues: list[Issue] = []
    builtins = set(list_scales())
    for k, name in enumerate(spec.critical_items.promote):
        sid, _, cid = name.partition(".")
        if not cid:
            continue  # reported by the structure checks
        scale = scales.get(sid) or (load_scale(sid) if sid in builtins else None)
        if scale is None:
            continue  # a scale given to screen() later; nothing to check it against here
        ids = [c.id for c in scale.spec.critical]
        if cid not in ids:
            issues.append(Issue("unknown_name", f"{sid} has no critical item {cid!r}", path=f"critical_items.promote[{k}]",
                                file=file, hint=did_you_mean(cid, ids) or f"critical items: {', '.join(ids) or 'none'}"))
    return issues


def _raw_syntax_issues(data: Mapping[str, Any], file: str) -> list[Issue]:
    """Problems of the conditions of a rule set that did not validate: syntax, and unknown names
    where the flags and built-in scales they name can still be read from the raw data."""
    rules = data.get("rules")
    raw_flags = data.get("flags")
    flags = [f["id"] for f in (raw_flags if isinstance(raw_flags, list) else [])
             if isinstance(f, dict) and isinstance(f.get("id"), str)]
    conditions: list[tuple[int, str, str, Any]] = []
    issues: list[Issue] = []
    for i, r in enumerate(rules if isinstance(rules, list) else []):
        when = r.get("when") if isinstance(r, dict) else None
        if isinstance(when, str) and when.strip():
            try:
                ast = parse(when)
            except ExprSyntaxError as exc:
                issues.append(Issue("syntax_error", f"rule {r.get('id')!r}: {exc.short}", path=f"rules[{i}].when",
                                    file=file))
                continue
            conditions.append((i, str(r.get("id")), when, ast))
    extra = data.get("extra_scales")
    if conditions and not extra:  # extra scales cannot be trusted before the file validates: names wait till then
        builtins = set(list_scales())
        wanted = {n.parts[0] for *_, ast in conditions for n in names_in(ast) if n.parts[0] in builtins}
        raw_tiers = data.get("tiers")
        tiers = [t["id"] for t in (raw_tiers if isinstance(raw_tiers, list) else [])
                 if isinstance(t, dict) and isinstance(t.get("id"), str)]
        resolver = Resolver({sid: load_scale(sid) for sid in sorted(wanted)}, flags, hint_scales=sorted(builtins),
                            tiers=tiers)
        for i, rid, when, _ in conditions:
            try:
                compile_condition(when, resolver)
            except ConditionError as exc:
                issues.append(Issue(exc.code, f"rule {rid!r}: {exc}", path=f"rules[{i}].when", file=file, hint=exc.hint))
    return issues


def _build(data: Any, file: str, stem: str | None, base: Path | None) -> RuleSet:
    if not isinstance(data, dict):
        raise RuleError([Issue("not_a_mapping", "a rule-set file must be a mapping", file=file)], title="invalid rule set")
    if data.get("kind") != "rules":
        raise RuleError([Issue("wrong_kind", f"kind is {data.get('kind')!r}; a rule-set file needs `kind: rules`",
                               path="kind", file=file)], title=f"invalid rule set {file}")
    try:
        spec = RuleSetSpec.model_validate(data)
    except ValidationError as exc:
        # the docs promise every problem at once: conditions are still checked for syntax
        issues = validation_issues(exc, RuleSetSpec, file) + _raw_syntax_issues(data, file)
        raise RuleError(issues, title=f"invalid rule set {file}") from None
    issues = _structure_checks(spec, file)
    if stem is not None and spec.id != stem:
        issues.append(Issue("id_mismatch", f"id {spec.id!r} differs from the file name {stem!r}", path="id", file=file))
    scales, scale_issues = _scales_for(spec, file, base)
    issues += scale_issues
    compiled, cond_issues = _compile_rules(spec, scales, file)
    issues += cond_issues
    issues += _promote_checks(spec, scales, file)
    if issues:
        raise RuleError(issues, title=f"invalid rule set {file}")
    return RuleSet(spec, tuple(compiled), scales, file, content_hash(spec))


@functools.lru_cache(maxsize=64)
def _load_file(path: str, _mtime_ns: int, _size: int) -> RuleSet:
    data, issues = read_yaml(path)
    if issues:
        raise RuleError(issues, title=f"cannot load rule file {path}")
    p = Path(path)
    return _build(data, path, p.stem, p.parent)


def load_rules(rules: str | Path | Mapping[str, Any] | RuleSet) -> RuleSet:
    """Load a rule set by built-in id (``"default"``), from a YAML file, or from a parsed mapping.

    Raises
    ------
    RuleError
        Listing every problem: unknown keys, tiers, names (with a did-you-mean
        suggestion), type mismatches, syntax errors with the position, rules
        that can never fire, missing actions.
    """
    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, Mapping):
        return _build(dict(rules), "<mapping>", None, None)
    if not isinstance(rules, (str, Path)):
        raise InvalidParameterError(
            f"The 'rules' parameter of load_rules must be a built-in id, a path, a mapping or a RuleSet. Got {describe(rules)} instead."
        )
    text = str(rules)
    if isinstance(rules, Path) or text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise RuleError([Issue("file_not_found", "no such file", file=text)], title="cannot load rule set")
        st = path.stat()
        return _load_file(str(path.resolve()), st.st_mtime_ns, st.st_size)
    path = builtin_dir("tiering_rules") / f"{text}.yaml"
    if re.fullmatch(r"[a-z0-9_]+", text) and path.is_file():  # the usual call: no directory listing per call
        st = path.stat()
        return _load_file(str(path), st.st_mtime_ns, st.st_size)
    known = list_rules()
    if text not in known:
        raise RuleError([Issue("unknown_rules", f"no built-in rule set has this id ({describe(text)}; not shown, it could be data)",
                               hint=did_you_mean(text, known) or f"built-in: {', '.join(known)}")], title="cannot load rule set")
    path = builtin_dir("tiering_rules") / f"{text}.yaml"
    st = path.stat()
    return _load_file(str(path), st.st_mtime_ns, st.st_size)
