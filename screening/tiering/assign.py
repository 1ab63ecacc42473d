"""Assign tiers: every rule evaluated on whole columns, reasons and actions built per distinct pattern.

Semantics (see docs/tiering.md):

1. base tier = the highest tier any firing rule, the critical-item policy or
   the data-quality policy gives (lowest tier when none fires);
2. escalations apply after: base + the largest escalation that fired, capped
   at the top tier (escalations combine by maximum, not by sum);
3. urgent (a crisis rule or a fired critical item) always means the top tier
   and can never be lowered.

Reasons are text per *pattern* of fired rules: students are grouped by the
bit pattern of what fired (few distinct patterns even for a million
students), each pattern's text is built once, and the column is a categorical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import columns as C
from ..engine.cats import from_codes
from ..scoring import Scale
from ..specs.common import Text
from ..specs.rules import Rule
from ._fast import frame_of, pattern_codes
from .actions import LANGS, encode_outcomes
from .condition import Env, Value
from .program import dead_rules, run_program
from .ruleset import RuleSet

__all__ = ["Source", "CriticalMasks", "Assignment", "assign_tiers", "TIER_COLUMNS"]

#: Columns of the tier table, in order.
TIER_COLUMNS = (
    "tier", "urgent", "rescreen", "follow_up_days", "reasons", "actions",
    "reasons_zh", "reasons_en", "actions_zh", "actions_en", "rules_fired",
    "ask_today", "rescreen_reasons", "rescreen_reasons_zh", "rescreen_reasons_en",
)


@dataclass(frozen=True)
class Source:
    """Something that can fire for a student: a rule, a scale's critical items, or a data-quality policy."""

    id: str
    reason: Text
    mask: npt.NDArray[np.bool_]


def _pattern_codes(masks: Sequence[npt.NDArray[np.bool_]], n: int) -> tuple[npt.NDArray[np.integer[Any]], list[tuple[int, ...]]]:
    """Group students by which sources fired; return codes and, per code, the indices of the sources.

    Code 0 is the empty pattern; the others are numbered in order of first appearance. Up to 64
    sources: one bit each in one integer per student, numbered in one pass (:mod:`._fast`); more
    sources take several machine words, grouped over only the students for whom something fired.
    """
    if len(masks) <= 64:
        codes, values = pattern_codes(masks, n)
        return codes, [tuple(b for b in range(len(masks)) if w >> b & 1) for w in values]
    fired = np.zeros(n, dtype=bool)
    for m in masks:
        fired |= m
    rows = np.flatnonzero(fired)
    if not len(rows):
        return np.zeros(n, dtype=np.intp), [()]
    sub_codes, sub_patterns = _group_patterns([m[rows] for m in masks], len(rows))
    codes = np.zeros(n, dtype=np.intp)
    codes[rows] = sub_codes + 1
    return codes, [(), *sub_patterns]


def _group_patterns(masks: Sequence[npt.NDArray[np.bool_]], n: int) -> tuple[npt.NDArray[np.intp], list[tuple[int, ...]]]:
    codes = np.zeros(n, dtype=np.int64)
    patterns: list[tuple[int, ...]] = [()]
    for start in range(0, len(masks), 56):
        # one bit per source in one integer per student (np.packbits along the source axis is ~6x slower)
        word = np.zeros(n, dtype=np.int64)
        for bit, m in enumerate(masks[start:start + 56]):
            word |= m.astype(np.int64) << bit
        wcodes, wuniq = pd.factorize(word, sort=False)
        prev: list[tuple[int, ...]]
        if start == 0:
            new_codes, cuniq, k = wcodes, np.arange(len(wuniq)), len(wuniq)
            prev = [()] * len(wuniq)
        else:
            k = max(len(wuniq), 1)
            new_codes, cuniq = pd.factorize(codes * k + wcodes, sort=False)
            prev = [patterns[int(c) // k] for c in cuniq]
        new_patterns: list[tuple[int, ...]] = []
        for c, before in zip(cuniq, prev):  # once per distinct pattern, not per student
            w = int(wuniq[int(c) % k]) if len(wuniq) else 0
            new_patterns.append(before + tuple(start + b for b in range(56) if w >> b & 1))
        codes, patterns = new_codes.astype(np.int64), new_patterns
    return codes.astype(np.intp), patterns


def _categorical(codes: npt.NDArray[np.integer[Any]], texts: list[str]) -> pd.Categorical:
    if len(set(texts)) == len(texts):  # the usual case: one text per pattern, so the codes can be used as they are
        return from_codes(codes, texts)
    cats, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True)
    return from_codes(inverse.ravel()[codes], list(cats))


def _scale_reason(scale: Scale, reason: Text) -> Text:
    """A policy's reason prefixed with the scale's short name (PHQ-9：…)."""
    spec = scale.spec
    name = Text(zh=spec.abbreviation, en=spec.abbreviation) if spec.abbreviation else spec.title
    return Text(zh=f"{name.get('zh')}：{reason.get('zh')}", en=f"{name.get('en')}: {reason.get('en')}")


class Assignment(NamedTuple):
    """What :func:`assign_tiers` returns: the tier table and each student's outcome code (the row of the
    rule set's :class:`~screening.tiering.actions.ActionTable`)."""

    table: pd.DataFrame
    action_codes: npt.NDArray[np.int16]


@dataclass(frozen=True)
class CriticalMasks:
    """Per scale: where its critical items fired or are unanswered, by origin (manual / project choice).

    ``project_*`` hold only the project-choice items the rule set does not promote.
    """

    manual_fired: npt.NDArray[np.bool_]
    manual_blank: npt.NDArray[np.bool_]
    project_fired: npt.NDArray[np.bool_]
    project_blank: npt.NDArray[np.bool_]


def _possible_text(reason: Text) -> Text:
    return Text(zh=f"未答题目可能使其成立：{reason.get('zh')}", en=f"Unanswered items could make this true: {reason.get('en')}")


def assign_tiers(
    rules: RuleSet,
    values: Mapping[str, Value],
    n: int,
    screened: Mapping[str, Scale],
    statuses: Mapping[str, npt.NDArray[np.int8]],
    critical: Mapping[str, npt.NDArray[np.bool_] | CriticalMasks],
    index: pd.Index,
    lang: str = "zh",
    *,
    bounds: Mapping[str, object] | None = None,
    maybe: Mapping[str, object] | None = None,
    read_scales: Sequence[str] | None = None,
    path: str = "auto",
) -> Assignment:
    """The tier table (columns :data:`TIER_COLUMNS`) for ``n`` students, and their outcome codes.

    ``values`` maps every symbol name the conditions read to its arrays (see
    :class:`~screening.tiering.condition.Env`; ``bounds``/``maybe`` are its blank-answer bounds);
    ``statuses`` and ``critical`` hold, per screened scale, the status codes and the critical-item
    masks (a plain array: any manual critical item fired). ``read_scales``: the scales a rule or the
    critical policy reads (the data-quality policy with ``scales: read`` applies to these only).

    ``path``: ``"auto"`` runs the whole rule program in one compiled pass per student
    (:mod:`screening.tiering.program`) when numba is installed and the table is large, else the
    column-wise evaluation below; ``"columns"`` / ``"program"`` force one (tests and benchmarks compare
    them; the results are the same).
    """
    if path != "columns":
        res = run_program(rules, values, n, screened, statuses, critical, bounds=bounds or {}, maybe=maybe or {},
                          read_scales=read_scales, scale_reason=_scale_reason, possible_text=_possible_text,
                          force=path == "program")
        if res is not None:
            return _program_assignment(res, rules, lang, index)
    spec = rules.spec
    tiers = spec.tier_ids()
    tier_pos = {t: i for i, t in enumerate(tiers)}
    top = len(tiers) - 1
    env = Env(values, n, bounds, maybe)

    urgent = np.zeros(n, dtype=bool)
    rescreen = np.zeros(n, dtype=bool)
    ask_today = np.zeros(n, dtype=bool)
    interview_days: npt.NDArray[np.float64] | None = None  # days to a project-choice interview (NaN none)
    sources: list[Source] = []
    later: list[Source] = []  # reasons for the re-screen / ask list
    # per tier / escalation level: the union of everything that sets it (applied in ascending order = maximum)
    sets_tier: dict[int, npt.NDArray[np.bool_]] = {}
    sets_esc: dict[int, npt.NDArray[np.bool_]] = {}

    def add(store: dict[int, npt.NDArray[np.bool_]], level: int, m: npt.NDArray[np.bool_]) -> None:
        if level in store:
            store[level] |= m
        else:
            store[level] = m.copy()

    crit = spec.critical_items
    blank_crit: list[tuple[str, npt.NDArray[np.bool_], bool]] = []  # (scale, mask, manual)
    for sid in screened:
        if sid not in critical or not screened[sid].spec.critical:
            continue
        cm = critical[sid]
        if not isinstance(cm, CriticalMasks):
            none = np.zeros(n, dtype=bool)
            cm = CriticalMasks(np.asarray(cm, dtype=bool), none, none, none)
        m = cm.manual_fired
        sources.append(Source(f"{sid}.critical", _scale_reason(screened[sid], crit.reason), m))
        add(sets_tier, tier_pos[crit.tier], m)
        if crit.urgent:
            urgent |= m
        if cm.project_fired.any():
            pol = crit.project
            pm = cm.project_fired
            if pol is None:  # no second step: project-choice items act as crisis items
                add(sets_tier, tier_pos[crit.tier], pm)
                if crit.urgent:
                    urgent |= pm
                sources.append(Source(f"{sid}.critical", _scale_reason(screened[sid], crit.reason), pm))
            else:
                add(sets_tier, tier_pos[pol.tier], pm)
                src = Source(f"{sid}.critical_project", _scale_reason(screened[sid], pol.reason), pm)
                sources.append(src)
                later.append(src)
                rescreen |= pm
                if interview_days is None:
                    interview_days = np.full(n, np.nan)
                np.fmin(interview_days, np.where(pm, float(pol.interview_days), np.nan), out=interview_days)
        for blank, manual in ((cm.manual_blank, True), (cm.project_blank, crit.project is None)):
            if blank.any():
                blank_crit.append((sid, blank, manual))
    read = set(screened) if read_scales is None else set(read_scales)
    deferred: list[tuple[Source, bool]] = []  # data-quality sources with rescreen_if: could_change
    for which, code in (("insufficient", C.STATUS_VALUES.index("insufficient")), ("invalid", C.STATUS_VALUES.index("invalid"))):
        pol = getattr(spec.data_quality, which)
        for sid in screened:
            if pol.scales == "read" and sid not in read:
                continue
            m = statuses[sid] == code
            src = Source(f"{sid}.{which}", _scale_reason(screened[sid], pol.reason), m)
            if pol.tier is not None:
                add(sets_tier, tier_pos[pol.tier], m)
            if pol.rescreen and pol.rescreen_if == "could_change":
                deferred.append((src, pol.tier is None))  # listed below, where something is possibly true
                if pol.tier is not None:
                    sources.append(src)
                continue
            sources.append(src)
            if pol.rescreen:
                rescreen |= m
                later.append(src)
    possible: list[tuple[Rule, npt.NDArray[np.bool_]]] = []  # (rule, where it is only possibly true)
    dead = dead_rules(rules, values)
    for k, (rule, cond) in enumerate(zip(spec.rules, rules.conditions)):
        if k in dead:  # never true nor possibly true with the inputs not given (e.g. no risk-group flags)
            sources.append(Source(rule.id, rule.reason, env.nowhere))
            continue
        m, p = cond.evaluate_possible(env)
        sources.append(Source(rule.id, rule.reason, m))
        if m is env.nowhere:  # reads only inputs not given (a scale not screened …): fires for nobody
            continue
        if rule.tier is not None:
            add(sets_tier, tier_pos[rule.tier], m)
        if rule.escalate is not None:
            add(sets_esc, rule.escalate, m)
        if rule.urgent:
            urgent |= m
        if p is not m:
            only = p & ~m
            if only.any():
                possible.append((rule, only))

    # the highest level that fired: max over (mask × level), in int8 (faster than copyto with where=)
    tier = np.zeros(n, dtype=np.int8)
    for level, mask in sets_tier.items():
        np.maximum(tier, mask.view(np.int8) * np.int8(level), out=tier)
    esc = np.zeros(n, dtype=np.int8)
    for level, mask in sets_esc.items():
        np.maximum(esc, mask.view(np.int8) * np.int8(level), out=esc)
    base = tier.copy()  # before escalations: a possibly-true rule matters where it could raise this
    tier += esc
    np.minimum(tier, top, out=tier)
    np.maximum(tier, urgent.view(np.int8) * np.int8(top), out=tier)  # urgent: the top tier
    below_top = tier < top

    # possibly true: never a tier, but the re-screen / ask list where it could raise the outcome
    for sid, blank, manual in blank_crit:
        lvl = tier_pos[crit.tier] if manual else tier_pos[crit.project.tier]  # type: ignore[union-attr]
        # an unanswered crisis item could make the student urgent: ask today unless already urgent
        m = blank & ~urgent if manual and crit.urgent else blank & (base < lvl) & below_top
        if not m.any():
            continue
        reason = crit.unanswered_reason if manual else crit.project.reason  # type: ignore[union-attr]
        src = Source(f"{sid}.critical_unanswered", _scale_reason(screened[sid], reason), m)
        later.append(src)
        sources.append(src)
        rescreen |= m
        if manual and crit.urgent:
            ask_today |= m
    for rule, only in possible:
        if rule.urgent:
            m = only & ~urgent
        elif rule.tier is not None:
            m = only & (base < tier_pos[rule.tier]) & below_top
        else:  # neither urgent nor a tier: the Rule model requires an escalation
            m = only & (esc < cast("int", rule.escalate)) & below_top
        if not m.any():
            continue
        src = Source(f"{rule.id}?", _possible_text(rule.reason), m)
        later.append(src)
        sources.append(src)
        rescreen |= m
        if rule.urgent:
            ask_today |= m

    if deferred:
        could = np.zeros(n, dtype=bool)
        for src in later:
            if src.id.endswith(("?", ".critical_unanswered")):
                could |= src.mask
        for src, own_reason in deferred:
            m = src.mask & could
            src = Source(src.id, src.reason, m)
            if own_reason:
                sources.append(src)
            later.append(src)
            rescreen |= m

    # reasons: one text per distinct pattern of fired sources
    # only what fired for someone can be in a pattern
    fired_sources = [src for src in sources if src.mask is not env.nowhere and src.mask.any()]
    reasons, fired_text = _pattern_texts(fired_sources, n)
    later_sources = [src for src in later if src.mask.any()]
    later_reasons, _ = _pattern_texts(later_sources, n)

    # actions: looked up per outcome code in the rule set's action table (built once per rule set)
    table_of_actions = rules.action_table
    outcome = encode_outcomes(tier, urgent, rescreen)
    follow_up = table_of_actions.follow_up_days[outcome]
    if interview_days is not None:
        follow_up = np.fmin(follow_up, interview_days)
    if ask_today.any():
        np.putmask(follow_up, ask_today, 0.0)  # follow_up is a fresh array (a lookup by code)

    actions = {lang_: table_of_actions.text_column(outcome, lang_) for lang_ in LANGS}
    table = frame_of(
        {
            "tier": from_codes(tier, tiers, ordered=True),
            "urgent": urgent,
            "rescreen": rescreen,
            "follow_up_days": follow_up,
            "reasons": reasons[lang],
            "actions": actions[lang],
            "reasons_zh": reasons["zh"],
            "reasons_en": reasons["en"],
            "actions_zh": actions["zh"],
            "actions_en": actions["en"],
            "rules_fired": fired_text,
            "ask_today": ask_today,
            "rescreen_reasons": later_reasons[lang],
            "rescreen_reasons_zh": later_reasons["zh"],
            "rescreen_reasons_en": later_reasons["en"],
        },
        index,
    )
    return Assignment(table, outcome)


def _program_assignment(res: Mapping[str, Any], rules: RuleSet, lang: str, index: pd.Index) -> Assignment:
    """The tier table from what the compiled pass wrote: texts per pattern, actions per outcome code."""
    table_of_actions = rules.action_table
    outcome = res["outcome"]
    actions = {lang_: table_of_actions.text_column(outcome, lang_) for lang_ in LANGS}
    reasons, fired_text = _texts_of(res["codes_fired"], res["patterns_fired"], res["sources_fired"])
    later_reasons, _ = _texts_of(res["codes_later"], res["patterns_later"], res["sources_later"])
    table = frame_of(
        {
            "tier": from_codes(res["tier"], table_of_actions.tiers, ordered=True),
            "urgent": res["urgent"],
            "rescreen": res["rescreen"],
            "follow_up_days": res["follow_up"],
            "reasons": reasons[lang],
            "actions": actions[lang],
            "reasons_zh": reasons["zh"],
            "reasons_en": reasons["en"],
            "actions_zh": actions["zh"],
            "actions_en": actions["en"],
            "rules_fired": fired_text,
            "ask_today": res["ask_today"],
            "rescreen_reasons": later_reasons[lang],
            "rescreen_reasons_zh": later_reasons["zh"],
            "rescreen_reasons_en": later_reasons["en"],
        },
        index,
    )
    return Assignment(table, outcome)


def _texts_of(codes: npt.NDArray[np.integer[Any]], patterns: Sequence[tuple[int, ...]],
              sources: Sequence[tuple[str, Text]]) -> tuple[dict[str, pd.Categorical], pd.Categorical]:
    """Reason texts (zh, en) and fired ids of each pattern (bits of ``sources``), as categoricals of ``codes``."""
    reason_text = {lang_: ["; ".join(sources[b][1].get(lang_) for b in pat) for pat in patterns] for lang_ in ("zh", "en")}
    fired_text = [";".join(sources[b][0] for b in pat) for pat in patterns]
    return ({lang_: _categorical(codes, reason_text[lang_]) for lang_ in ("zh", "en")},
            _categorical(codes, fired_text))


def _pattern_texts(sources: Sequence[Source], n: int) -> tuple[dict[str, pd.Categorical], pd.Categorical]:
    """Reason texts (zh, en) and the fired ids, one categorical each, built once per distinct pattern."""
    codes, patterns = _pattern_codes([src.mask for src in sources], n)
    # pandas stores categorical codes in the smallest integer type; convert once for the columns
    codes = codes.astype(np.int8 if len(patterns) < 128 else np.int16 if len(patterns) < 32768 else np.int32)
    reason_text = {
        lang_: [("; ".join(sources[i].reason.get(lang_) for i in pat)) for pat in patterns] for lang_ in ("zh", "en")
    }
    fired_text = [";".join(sources[i].id for i in pat) for pat in patterns]
    return ({lang_: _categorical(codes, reason_text[lang_]) for lang_ in ("zh", "en")},
            _categorical(codes, fired_text))
