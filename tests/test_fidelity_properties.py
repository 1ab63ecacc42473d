"""Issue 10 properties (hypothesis): unknown answers are never a silent "no"."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import screening as sc
from screening import columns as C
from tests.strategies import monotone_rule_sets, screening_frames

SCALE_IDS = ["phq9", "gad7", "phqa"]
SCALES = {s: sc.load_scale(s) for s in SCALE_IDS}


def _screen(df: pd.DataFrame, rules) -> sc.ScreeningResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.screen(df, scales=SCALE_IDS, rules=rules)


def _codes(res: sc.ScreeningResult) -> np.ndarray:
    return np.asarray(res.table["tier"].array.codes)


def rule_sets():
    return st.one_of(st.sampled_from(["default", "four_level"]), monotone_rule_sets(SCALES).map(sc.load_rules))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_unanswered_critical_item_never_silently_lowest(data):
    rules = data.draw(rule_sets())
    df = data.draw(screening_frames([SCALES[s] for s in SCALE_IDS], missing=0.3))
    res = _screen(df, rules)
    blank = np.zeros(len(df), dtype=bool)
    for sid in SCALE_IDS:
        for c in SCALES[sid].spec.critical:
            blank |= np.asarray(res.scores[C.critical_col(sid, c.id)].isna())
    lowest = _codes(res) == 0
    listed = res.table["rescreen"].to_numpy(dtype=bool) & (res.table["rescreen_reasons"].astype(str) != "").to_numpy()
    assert not (blank & lowest & ~listed).any()
    # an unanswered manual crisis item of a non-urgent student means "ask today"
    if isinstance(rules, str):
        urgent = res.table["urgent"].to_numpy(dtype=bool)
        assert res.table["ask_today"].to_numpy(dtype=bool)[blank & ~urgent].all()


def _benign_completion(df: pd.DataFrame) -> pd.DataFrame:
    """Every blank answered with the item's most benign option (all three scales: higher = worse)."""
    out = df.copy()
    for sid in SCALE_IDS:
        s = SCALES[sid]
        for k, col in enumerate(s.input_columns()):
            out[col] = out[col].fillna(s.compiled.allowed[k][0])
    return out


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_blanks_never_below_the_tier_of_the_most_benign_answers(data):
    rules = data.draw(rule_sets())
    df = data.draw(screening_frames([SCALES[s] for s in SCALE_IDS], missing=0.2))
    with_blanks = _screen(df, rules)
    benign = _screen(_benign_completion(df), rules)
    assert (_codes(with_blanks) >= _codes(benign)).all()
    # ... and never less urgent than the benign answers
    assert (with_blanks.table["urgent"].to_numpy() >= benign.table["urgent"].to_numpy()).all()


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_possibly_true_never_sets_a_tier_but_is_listed(data):
    # filling the blanks with the worst options can only raise the outcome; where it raises the tier or
    # urgency, the student with blanks is on the re-screen / ask list
    rules = data.draw(rule_sets())
    df = data.draw(screening_frames([SCALES[s] for s in SCALE_IDS], missing=0.2))
    worst = df.copy()
    for sid in SCALE_IDS:
        s = SCALES[sid]
        for k, col in enumerate(s.input_columns()):
            worst[col] = worst[col].fillna(s.compiled.allowed[k][-1])
    a, b = _screen(df, rules), _screen(worst, rules)
    raised = (_codes(b) > _codes(a)) | (b.table["urgent"].to_numpy() & ~a.table["urgent"].to_numpy())
    assert a.table["rescreen"].to_numpy(dtype=bool)[raised].all()


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_new_columns_do_not_depend_on_row_order_or_chunking(data):
    rules = data.draw(rule_sets())
    df = data.draw(screening_frames([SCALES[s] for s in SCALE_IDS], missing=0.2))
    whole = _screen(df, rules).table
    perm = np.random.default_rng(len(df)).permutation(len(df))
    shuffled = _screen(df.iloc[perm], rules).table.loc[whole.index]
    half = len(df) // 2
    parts = pd.concat([_screen(df.iloc[:half], rules).table, _screen(df.iloc[half:], rules).table])
    for other in (shuffled, parts):
        for col in ("tier", "urgent", "rescreen", "ask_today", "rescreen_reasons_en", "follow_up_days", "reasons_en"):
            assert whole[col].astype(object).equals(other[col].astype(object)), col
