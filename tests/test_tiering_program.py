"""The compiled rule program (one pass per student) gives exactly the column-wise evaluation's tier table.

``screen()`` is run with ``assign_tiers`` wrapped so that every call is made twice, once per path
(``path="columns"``: the column-wise evaluator of ``tiering/condition.py``; ``path="program"``: the
numba interpreter of ``tiering/program.py``), and the two tier tables must be equal column by
column, categories and their order included, as must the outcome codes. The populations come from
``sc.simulate_answers`` (the audit's simulated schools: skewed answers, blanks, fired and blank
critical items, risk-group flags with unknowns) over every scale a built-in rule set reads, and
from the random rule sets of ``tests/strategies.py`` (conditions with and/or/not, ``in`` lists, bands,
items, critical flags). 2,200 students span three blocks of the kernel.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import screening as sc
import screening.screener.run as run_mod
import screening.tiering.assign as assign_mod
import screening.tiering.inputs as inputs_mod
from screening.errors import ScreeningError
from screening.tiering import program
from tests.strategies import FLAG_IDS, condition_asts, monotone_rule_sets, screening_frames


@pytest.fixture
def both_paths(monkeypatch):
    """Every assign_tiers call of screen() runs both paths; returns the list of (columns, program) results."""
    calls: list = []
    real = run_mod.assign_tiers
    monkeypatch.setattr(assign_mod, "run_program", _counting(calls))

    def spy(*args, **kwargs):
        cols = real(*args, **kwargs, path="columns")
        prog = real(*args, **kwargs, path="program")
        calls.append((cols, prog))
        return cols

    monkeypatch.setattr(run_mod, "assign_tiers", spy)
    return calls


def _counting(calls: list):
    """run_program, noting on ``calls`` whether the compiled pass ran (it may decline: too many sources)."""
    real = program.run_program

    def counted(*args, **kwargs):
        out = real(*args, **kwargs)
        if kwargs.get("force"):
            calls.append(out is not None)
        return out

    return counted


def _same(calls, *, ran: bool | None = True) -> None:
    """The two paths agree; ``ran``: the compiled pass ran for every call (False: declined for every call)."""
    flags = [c for c in calls if isinstance(c, bool)]
    pairs = [c for c in calls if not isinstance(c, bool)]
    assert pairs and len(flags) == len(pairs)
    if ran is not None:
        assert all(f == ran for f in flags), flags
    for cols, prog in pairs:
        pd.testing.assert_frame_equal(prog.table, cols.table, check_exact=True)
        assert prog.action_codes.dtype == cols.action_codes.dtype
        np.testing.assert_array_equal(prog.action_codes, cols.action_codes)


def _screen(df, scales, rules, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # flags not supplied: unknown for everyone (on purpose here)
        return sc.screen(df, scales, rules, **kw)


def _population(scales, n=2200, blank_rate=0.08, seed=0, flag_na=0.1):
    df = sc.simulate_answers(scales, n, blank_rate=blank_rate, seed=seed, severity=1.3,
                             flag_rates=dict.fromkeys(FLAG_IDS, 0.15))
    rng = np.random.default_rng(seed)
    for f in FLAG_IDS:  # some flags unknown (NA) for some students
        if f in df.columns:
            col = df[f].astype("boolean")
            col[rng.random(len(df)) < flag_na] = pd.NA
            df[f] = col
    return df


def test_the_kernel_is_available():
    # the comparisons below are only meaningful if the compiled path really ran
    assert program._get_kernel() is not None


@pytest.fixture(params=["filtered", "as_scored"])
def bounds_kind(request, monkeypatch):
    """Blank-item bounds as the column-wise path gets them (rows where they are the value left out) or as the
    compiled pass gets them at scale (the engine's arrays as they are); both paths must agree on either."""
    if request.param == "as_scored":
        monkeypatch.setattr(inputs_mod, "compiled_pass_runs", lambda n: True)
    return request.param


@pytest.mark.parametrize("rules", sc.list_rules())
@pytest.mark.parametrize("blank_rate", [0.0, 0.15])
def test_builtin_rule_sets_on_every_scale_they_read(both_paths, bounds_kind, rules, blank_rate):
    rs = sc.load_rules(rules)
    scales = sorted(rs.scales)
    df = _population(scales, blank_rate=blank_rate, seed=len(scales))
    res = _screen(df, scales, rules)
    _same(both_paths)
    if blank_rate:  # the populations exercise what matters: blanks, re-screens, urgent students
        assert res.table["rescreen"].any() and res.table["urgent"].any()


@pytest.mark.parametrize("scales", [["phq9", "gad7"], ["scl90"], ["mht"], ["phq9"], ["gad7", "sdq"]])
def test_subsets_of_scales_and_flags(both_paths, bounds_kind, scales):
    df = _population(scales, n=2500, seed=7)
    _screen(df, scales, "default")  # flags from the frame (some NA)
    _screen(df.drop(columns=[f for f in FLAG_IDS if f in df.columns]), scales, "default")  # no flags at all
    _screen(df, scales, "four_level", lang="en")
    _same(both_paths)


def test_previous_wave_and_band_choice(both_paths):
    df = _population(["phq9", "gad7"], n=2100, seed=3)
    rng = np.random.default_rng(3)
    tiers = ["green", "yellow", "orange", None]
    prev = pd.DataFrame({"prev.tier": [tiers[k] for k in rng.integers(0, 4, len(df))],
                         "prev.waves_in_tier": rng.integers(1, 4, len(df)).astype(float)}, index=df.index)
    doc = dict(sc.load_rules("default").spec.model_dump(mode="json", exclude_none=True))
    doc["rules"] = [*doc["rules"], {"id": "still_yellow", "when": 'prev.tier >= "yellow" and prev.waves_in_tier >= 2',
                                    "tier": "orange", "reason": {"zh": "仍为黄色", "en": "still yellow"}}]
    rs = sc.load_rules(doc)
    _screen(df, ["phq9", "gad7"], rs, previous=prev)
    _same(both_paths)


_RANDOM_SCALES = ["phq9", "gad7"]


def _rule(k: int, text: str, effect: str) -> dict:
    rule = {"id": f"r{k}", "when": text, "reason": {"zh": f"规则{k}", "en": f"rule {k}"}}
    return rule | ({"escalate": 1} if effect == "esc" else {"urgent": True} if effect == "urgent" else {"tier": effect})


def _with_rules(rules: list[dict]) -> dict:
    doc = dict(sc.load_rules("default").spec.model_dump(mode="json", exclude_none=True))
    doc["rules"] = rules
    return doc


def _loads(rule: dict) -> bool:
    """Whether a rule set with this one rule loads (the random conditions include type-wrong ones)."""
    try:
        sc.load_rules(_with_rules([rule]))
    except ScreeningError:
        return False
    return True


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_conditions(data):
    """Random and/or/not/in trees over numbers, bands, items and flags (those that load) as rules of a rule set."""
    texts = data.draw(st.lists(condition_asts(), min_size=1, max_size=6))
    effects = data.draw(st.lists(st.sampled_from(["yellow", "orange", "esc", "urgent"]), min_size=len(texts),
                                 max_size=len(texts)))
    rules = [r for r in (_rule(k, t, e) for k, (t, e) in enumerate(zip(texts, effects))) if _loads(r)]
    if not rules:  # every drawn condition was type-wrong: one that loads, so the example still tests something
        rules = [_rule(0, "not (phq9.total.band in ['mild', 'moderate'] or bullied)", "orange")]
    rs = sc.load_rules(_with_rules(rules))
    df = _population(_RANDOM_SCALES, n=data.draw(st.sampled_from([40, 1500])), blank_rate=0.15,
                     seed=data.draw(st.integers(0, 5)))
    calls: list = []
    real, real_program = run_mod.assign_tiers, assign_mod.run_program

    def spy(*args, **kwargs):
        cols = real(*args, **kwargs, path="columns")
        calls.append((cols, real(*args, **kwargs, path="program")))
        return cols

    run_mod.assign_tiers, assign_mod.run_program = spy, _counting(calls)
    try:
        _screen(df, _RANDOM_SCALES, rs)
    finally:
        run_mod.assign_tiers, assign_mod.run_program = real, real_program
    _same(calls)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_monotone_rule_sets(data):
    scales = {s: sc.load_scale(s) for s in ("phq9", "gad7", "mht")}
    rs = sc.load_rules(data.draw(monotone_rule_sets(scales)))
    df = data.draw(screening_frames(list(scales.values()), missing=0.1))
    calls: list = []
    real, real_program = run_mod.assign_tiers, assign_mod.run_program

    def spy(*args, **kwargs):
        cols = real(*args, **kwargs, path="columns")
        calls.append((cols, real(*args, **kwargs, path="program")))
        return cols

    run_mod.assign_tiers, assign_mod.run_program = spy, _counting(calls)
    try:
        _screen(df, list(scales), rs)
    finally:
        run_mod.assign_tiers, assign_mod.run_program = real, real_program
    _same(calls)


def test_too_many_patterns_fall_back_to_wider_codes(both_paths):
    # more than 127 distinct reason patterns: int16 codes, as the column-wise path stores them
    doc = dict(sc.load_rules("default").spec.model_dump(mode="json", exclude_none=True))
    doc["rules"] = [{"id": f"i{k}", "when": f"scl90.item{k} >= 4", "tier": "yellow", "reason": {"zh": f"条目{k}", "en": f"item {k}"}}
                    for k in range(1, 13)]
    rs = sc.load_rules(doc)
    df = _population(["scl90"], n=2000, seed=11)
    res = _screen(df, ["scl90"], rs)
    _same(both_paths)
    assert len(res.table["reasons"].cat.categories) > 127
