"""The action table (issue 12) and the fast tiering paths (issue 13) against plain references.

- one action table per rule set, built once, whose rows are what the rule file says for each
  (tier, urgent, rescreen); the per-student outcome codes stored by tiering index it;
- the compiled pattern numbering (tables of ≥ MIN_ROWS students) gives the same result as the numpy
  path on a realistic population (blanks, unknown flags), compared through screen() itself;
- "possibly true" evaluated only on the unsettled rows equals the dense evaluation over everyone.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import screening as sc
from screening.audit import simulate_answers
from screening.engine.fused import MIN_ROWS
from screening.reports.lists import warning_list
from screening.tiering._fast import pattern_codes
from screening.tiering.actions import encode_outcomes
from screening.tiering.condition import Env, Numbers, Truths


def _quiet_screen(df, scales, rules="default", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.screen(df, scales, rules, **kw)


@pytest.mark.parametrize("rules", ["default", "four_level"])
def test_action_table_rows_follow_the_rule_file(rules):
    rs = sc.load_rules(rules)
    table = rs.action_table
    assert rs.action_table is table  # built once, kept with the rule set
    spec = rs.spec
    assert len(table) == 4 * len(rs.tiers)
    for code in range(len(table)):
        tier, urgent, rescreen = table.outcome(code)
        assert table.code_of(tier, urgent, rescreen) == code
        want = ((spec.actions.get("urgent", ()) if urgent else ()) + spec.actions.get(tier, ())
                + (spec.actions.get("rescreen", ()) if rescreen else ()))
        assert tuple(a.id for a in table.actions[code]) == tuple(a.id for a in want)
        days = [a.follow_up_days for a in want if a.follow_up_days is not None]
        assert (np.isnan(table.follow_up_days[code]) and not days) or table.follow_up_days[code] == min(days)
        assert table.referral[code] == any(a.referral for a in want)
        assert table.contact_parents[code] == any(a.contact_parents for a in want)
        for lang in ("zh", "en"):
            for a in want:
                assert a.text.get(lang) in table.text[lang][code]


def test_outcome_codes_stored_by_tiering_index_the_table():
    df = simulate_answers(["phq9", "gad7"], n=2000, blank_rate=0.05, seed=4)
    res = _quiet_screen(df, ["phq9", "gad7"])
    codes = res.action_codes
    assert codes is not None and codes.dtype == np.int16 and len(codes) == len(df)
    t = res.table
    tiers = np.asarray(t["tier"].array.codes)
    assert (codes == tiers * 4 + t["urgent"].to_numpy() * 2 + t["rescreen"].to_numpy()).all()
    table = res.rules.action_table
    for lang in ("zh", "en"):
        assert t[f"actions_{lang}"].astype(str).tolist() == [table.text[lang][c] for c in codes]
    assert len(set(codes.tolist())) > 2  # a population with several outcomes, not only green
    # a result put together without the codes (e.g. restored by a scale-out engine) rebuilds the same
    bare = dataclasses.replace(res, action_codes=None)
    assert (bare.outcome_codes() == codes).all()
    assert (encode_outcomes(tiers, t["urgent"].to_numpy(), t["rescreen"].to_numpy()) == codes).all()


def test_lists_read_responsible_people_and_referral_from_the_table():
    df = simulate_answers(["phq9", "gad7"], n=1500, blank_rate=0.05, seed=8)
    res = _quiet_screen(df, ["phq9", "gad7"])
    lst = warning_list(res, lang="en")
    table = res.rules.action_table
    codes = res.outcome_codes()
    rows = lst["row"].to_numpy()
    assert len(rows) > 10
    assert lst["referral"].tolist() == table.referral[codes[rows]].tolist()
    assert lst["contact_parents"].tolist() == table.contact_parents[codes[rows]].tolist()
    assert lst["responsible"].astype(str).tolist() == [table.responsible["en"][c] for c in codes[rows]]
    resp = table.responsible_column(codes, "en").astype(str)
    assert list(resp) == [table.responsible["en"][c] for c in codes]


@pytest.mark.parametrize("n_sources", [0, 1, 5, 20])
def test_compiled_pattern_numbering_matches_the_numpy_path(n_sources, monkeypatch):
    rng = np.random.default_rng(n_sources)
    n = MIN_ROWS + 17
    masks = [rng.random(n) < 0.05 * (k % 4 + 1) for k in range(n_sources)]
    fast_codes, fast_patterns = pattern_codes(masks, n)
    monkeypatch.setattr("screening.tiering._fast.MIN_ROWS", n + 1)  # force the numpy path
    slow_codes, slow_patterns = pattern_codes(masks, n)
    assert fast_patterns == slow_patterns and fast_patterns[0] == 0
    assert (np.asarray(fast_codes) == np.asarray(slow_codes)).all()


def test_screen_of_a_large_population_equals_screens_of_its_parts():
    # ≥ MIN_ROWS students run the compiled numbering; the parts (< MIN_ROWS each) the numpy path
    n = MIN_ROWS + 2000
    df = simulate_answers(["phq9", "gad7", "dsrsc"], n=n, blank_rate=0.03, seed=11)
    flags = [c for c in df.columns if c in sc.load_rules("default").flags]
    rng = np.random.default_rng(0)
    for c in flags:
        s = df[c].astype("boolean")
        s[rng.random(n) < 0.1] = pd.NA  # unknown flags
        df[c] = s
    whole = _quiet_screen(df, ["phq9", "gad7", "dsrsc"])
    cut = n // 2
    parts = [_quiet_screen(df.iloc[:cut], ["phq9", "gad7", "dsrsc"]), _quiet_screen(df.iloc[cut:], ["phq9", "gad7", "dsrsc"])]
    joined = pd.concat([p.table for p in parts])
    for col in whole.table.columns:
        assert whole.table[col].astype(object).equals(joined[col].astype(object)), col
    assert (whole.action_codes == np.concatenate([p.action_codes for p in parts])).all()
    assert whole.table["rescreen"].any() and whole.table["urgent"].any()


@pytest.mark.parametrize("rule_id", ["risk_group_above_normal", "scl90_positive", "phq9_moderate", "mht_content_high",
                                     "who5_poor"])
def test_possibly_true_on_uncertain_rows_equals_the_dense_evaluation(rule_id):
    # the sparse paths (an `or` of comparisons on each one's uncertain rows; other conditions on the rows
    # not already true) against the four-valued evaluation of every student
    rs = sc.load_rules("default")
    cond = next(c for r, c in zip(rs.spec.rules, rs.conditions) if r.id == rule_id)
    rng = np.random.default_rng(3)
    n = 4000
    values = {}
    bounds = {}
    for sym in cond.symbols:
        if sym.kind == "number":  # values in the score's range, 5 % missing; 20 % with an interval
            lo_s, hi_s = sym.lo, sym.hi
            v = np.round((lo_s + (hi_s - lo_s) * rng.beta(1, 12, n)) * 2) / 2  # mostly low, as in schools
            v[rng.random(n) < 0.05] = np.nan
            values[sym.name] = Numbers(v)
            rows = np.flatnonzero(rng.random(n) < 0.2)
            a = lo_s + (hi_s - lo_s) * rng.beta(1, 12, len(rows))
            b = lo_s + (hi_s - lo_s) * rng.beta(1, 3, len(rows))
            vr = v[rows]
            lo = np.where(np.isnan(vr), np.minimum(a, b), np.minimum(vr, a))
            hi = np.where(np.isnan(vr), np.maximum(a, b), np.maximum(vr, b))
            bounds[sym.name] = (rows, lo, hi)
        else:
            values[sym.name] = Truths(rng.random(n) < 0.3, rng.random(n) < 0.8)
    env = Env(values, n, bounds)
    t, p = cond.evaluate_possible(env)
    dense = env.subset([s.name for s in cond.symbols], np.arange(n))
    t_ref, p_ref = cond.evaluate_possible(dense)
    assert (t == t_ref).all() and (p == p_ref).all()
    assert (p & ~t).any() and t.any()  # the data exercise both
