"""Response-quality flags: each check, its reason, and that every flag reaches score()'s status."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import screening as sc
from screening import columns as C
from screening.errors import ResponseError
from screening.intake import meta as M
from screening.intake import read_responses
from screening.intake.quality import (
    CHECKS,
    DEFAULT_SECONDS_PER_ITEM,
    QUALITY_REASONS,
    check_quality,
    deduplicate,
    longstring_lengths,
)

FIX = Path(__file__).resolve().parent / "fixtures"
PAIRS = FIX / "intake" / "qpairs.yaml"
FULL = FIX / "scales" / "fixture_full.yaml"
PHQ = [f"phq9_{k}" for k in range(1, 10)]


def _phq_table(rows: list[list[float]], **meta: list[object]) -> pd.DataFrame:
    t = pd.DataFrame(rows, columns=PHQ, dtype=float)
    for k, v in meta.items():
        t[k] = v
    return t


def _longstring_reference(row: np.ndarray) -> int:
    """Plain run-length count (the definition in Johnson 2005 / careless::longstring), one row at a time."""
    best = run = 0
    prev = None
    for x in row:
        if np.isnan(x):
            run, prev = 0, None
            continue
        run = run + 1 if prev is not None and x == prev else 1
        prev = x
        best = max(best, run)
    return best


@given(arrays(np.float64, st.tuples(st.integers(0, 12), st.integers(0, 9)),
              elements=st.sampled_from([0.0, 1.0, 2.0, np.nan])))
def test_longstring_matches_the_run_length_definition(x):
    got = longstring_lengths(x)
    assert got.tolist() == [_longstring_reference(r) for r in x]


def test_too_fast_uses_two_seconds_per_item_by_default():
    assert DEFAULT_SECONDS_PER_ITEM == 2.0
    # 9 items: 17.9 s is under 2 s/item, 18 s is exactly 2 s/item (not flagged), NaN is unknown (not flagged)
    t = _phq_table([[1] * 9] * 4, duration_s=[17.9, 18.0, np.nan, 200.0])
    q = check_quality(t, "phq9")
    assert q["quality.too_fast"].tolist() == [True, False, False, False]
    assert "too fast: 2.0 s per item (under 2 s)" in q[QUALITY_REASONS].iloc[0]
    # the whole form had 30 questions: 200 s is 6.7 s per question, 17.9 s is 0.6
    q30 = check_quality(t, "phq9", n_questions=30, seconds_per_item=5)
    assert q30["quality.too_fast"].tolist() == [True, True, False, False]


def test_empty_duplicate_incomplete():
    rows = [[1] * 9, [np.nan] * 9, [0] * 9, [2] * 9]
    t = _phq_table(rows, respondent_id=["a", "b", "a", np.nan], complete=pd.array([True, None, False, True], dtype="boolean"))
    q = check_quality(t, "phq9")
    assert q["quality.empty"].tolist() == [False, True, False, False]
    assert q["quality.duplicate_id"].tolist() == [True, False, True, False]  # a missing id duplicates nothing
    assert q["quality.incomplete"].tolist() == [False, False, True, False]  # NA is unknown, not unfinished
    assert "quality.too_fast" not in q.columns  # no duration column: the check is not run
    assert q[QUALITY_REASONS].iloc[2] == "respondent id appears on more than one row; not finished on the survey platform"
    assert "a" not in q[QUALITY_REASONS].iloc[0].split()  # reasons never hold the id itself
    assert q[QUALITY_REASONS].iloc[3] == ""


def test_longstring_default_only_for_scales_with_reverse_items(fixture_scale_path):
    phq = _phq_table([[0] * 9])
    assert not any(c.endswith("longstring") for c in check_quality(phq, "phq9").columns)  # all 完全不会 is honest
    full = sc.load_scale(fixture_scale_path)
    t = pd.DataFrame([[1.0] * 12, [1.0] * 11 + [0.0]], columns=full.input_columns())
    q = check_quality(t, full)
    assert q["fixture_full.quality.longstring"].tolist() == [True, False]
    assert q[QUALITY_REASONS].iloc[0] == "fixture_full: 12 identical answers in a row"
    q6 = check_quality(t, full, longstring=6)
    assert q6["fixture_full.quality.longstring"].tolist() == [True, True]
    assert check_quality(phq, "phq9", longstring={"phq9": 9})["phq9.quality.longstring"].tolist() == [True]


def test_inconsistent_pairs_after_keying():
    scale = sc.load_scale(PAIRS)
    rows = [
        [3, 2, 0, 0],  # keyed d = 3: a~b 1, a~(3-c) 0, a~d 0 → consistent
        [3, 0, 0, 0],  # a~b differ by 3 → 1 pair
        [3, 3, 3, 3],  # a~c: 3 vs 3-3=0 → 3; a~d: 3 vs keyed 0 → 3 → 2 pairs
        [3, np.nan, np.nan, 0],  # unanswered partners are not counted
    ]
    t = pd.DataFrame(rows, columns=scale.input_columns(), dtype=float)
    q = check_quality(t, scale, checks=["inconsistent"])
    assert list(q.columns) == ["qpairs.quality.inconsistent", QUALITY_REASONS]
    assert q["qpairs.quality.inconsistent"].tolist() == [False, True, True, False]
    assert q[QUALITY_REASONS].iloc[2] == "qpairs: 2 of 3 item pairs answered inconsistently"
    lenient = check_quality(t, scale, checks=["inconsistent"], max_inconsistent_pairs=1)
    assert lenient["qpairs.quality.inconsistent"].tolist() == [False, False, True, False]


def test_every_flag_reaches_score_status_and_output(fixture_scale_path):
    pairs = sc.load_scale(PAIRS)
    full = sc.load_scale(fixture_scale_path)
    n = 7
    t = pd.DataFrame(index=pd.Index([10, 11, 12, 13, 14, 15, 16], name="row"))  # not a RangeIndex on purpose
    t[M.RESPONDENT_ID] = ["s1", "s2", "s3", "s3", "s5", "s6", "s7"]
    t[M.DURATION_S] = [600.0, 5.0, 600.0, 600.0, 600.0, 600.0, 600.0]
    t[M.COMPLETE] = pd.array([True, True, True, True, False, True, True], dtype="boolean")
    qp = np.array([[3, 2, 0, 0]] * n, dtype=float)
    qp[1] = [3, 0, 0, 0]  # inconsistent
    fx = np.tile(np.array([1, 0, 2, 0, 3, 1, 2, 0, 1, 0, 0, 0], dtype=float), (n, 1))
    fx[5] = 1.0  # longstring across all 12 items
    qp[6] = np.nan
    fx[6] = np.nan  # nothing answered
    for k, c in enumerate(pairs.input_columns()):
        t[c] = qp[:, k]
    for k, c in enumerate(full.input_columns()):
        t[c] = fx[:, k]
    t[M.unreadable_col("qpairs")] = [0, 0, 0, 0, 0, 0, 1]
    flags = check_quality(t, [pairs, full], longstring={"fixture_full": 12})
    expected = {"quality.empty", "quality.too_fast", "quality.duplicate_id", "quality.incomplete",
                "qpairs.quality.inconsistent", "qpairs.quality.unreadable", "fixture_full.quality.longstring"}
    assert set(flags.columns) == expected | {QUALITY_REASONS}
    assert {c.rsplit(".", 1)[-1] for c in expected} == set(CHECKS)  # every check is exercised here
    assert flags.index.equals(t.index)
    assert all(flags[c].dtype == bool and flags[c].any() for c in expected)

    out = sc.score(t, [pairs, full], quality=flags, norms=None)
    assert out.index.equals(t.index)
    for name in expected:
        check = name.rsplit(".", 1)[-1]
        owner = name.split(".")[0] if not name.startswith(C.QUALITY_PREFIX) else None
        for s in (pairs, full):
            col = C.quality_col(s.id, check)
            if owner is None or owner == s.id:
                assert col in out.columns, col
                assert out[col].tolist() == flags[name].tolist(), col
                assert (out.loc[flags[name], C.status_col(s.id)] == "invalid").all(), col
            else:
                assert col not in out.columns, col  # another scale's flag stays with that scale
    clean = ~flags[list(expected)].any(axis=1)
    assert clean.tolist() == [True, False, False, False, False, False, False]
    assert out.loc[clean, "qpairs.status"].tolist() == ["complete"]


def test_flags_from_a_real_export_feed_score():
    t = read_responses(FIX / "intake" / "wjx_phq9_text.xlsx", scales="phq9", start=3, id_column=1)
    flags = check_quality(t, "phq9")
    out = sc.score(t, "phq9", quality=flags)
    # fixture row 3 answered in 9 s (1 s per item)
    assert flags["quality.too_fast"].tolist() == [i == 3 for i in range(12)]
    assert out["phq9.status"].iloc[3] == "invalid" and out["phq9.quality.too_fast"].iloc[3]
    assert out["phq9.total"].notna().iloc[3]  # still scored, so a rule can send the student to re-screening


def test_input_not_modified_and_errors():
    t = _phq_table([[1] * 9], duration_s=[100.0])
    before = t.copy()
    check_quality(t, "phq9")
    pd.testing.assert_frame_equal(t, before)
    with pytest.raises(ResponseError) as e:
        check_quality(t.drop(columns=["phq9_4"]), "phq9")
    assert e.value.codes == ["missing_column"] and e.value.issues[0].column == "phq9_4"
    with pytest.raises(ResponseError) as e:
        check_quality(t.assign(phq9_2="好几天"), "phq9")
    assert e.value.codes == ["not_numeric"]


@pytest.mark.parametrize(("kwargs", "name"), [
    (dict(checks=["speed"]), "checks"),
    (dict(checks=["incomplete"]), "checks"),  # no 'complete' column in the table
    (dict(seconds_per_item=0), "seconds_per_item"),
    (dict(n_questions=0), "n_questions"),
    (dict(longstring={"phq9": 10}), "longstring"),
    (dict(longstring=1), "longstring"),
    (dict(max_inconsistent_pairs=-1), "max_inconsistent_pairs"),
])
def test_bad_parameters_use_one_message_shape(kwargs, name):
    t = _phq_table([[1] * 9], duration_s=[100.0])
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of check_quality must .* Got .* instead"):
        check_quality(t, "phq9", **kwargs)


# ---------------------------------------------------------------- deduplicate


def _dups() -> pd.DataFrame:
    return pd.DataFrame({
        M.RESPONDENT_ID: ["a", "b", "a", None, None, "c", "a"],
        M.SUBMITTED_AT: pd.to_datetime(["2024-03-05 10:00", "2024-03-05 10:01", "2024-03-05 09:00", None, None,
                                        "2024-03-05 10:02", "2024-03-05 11:00"]),
        "phq9_1": [0, 1, 2, 3, 0, 1, 2],
    }, index=list("pqrstuv"))


def test_deduplicate_error_reports_counts_not_ids():
    with pytest.raises(ResponseError) as e:
        deduplicate(_dups())
    issue = e.value.issues[0]
    assert issue.code == "duplicate_id" and issue.count == 3 and issue.rows == (0, 2, 6)
    assert "1 respondent id(s)" in issue.message
    assert "'a'" not in str(e.value) and " a " not in str(e.value)


def test_deduplicate_keep_first_last_and_by_time():
    t = _dups()
    before = t.copy()
    first, rep = deduplicate(t, keep="first")
    assert list(first.index) == ["p", "q", "s", "t", "u"]  # rows without an id are always kept
    assert (rep.rows_in, rep.rows_out, rep.duplicated_ids, rep.rows_removed) == (7, 5, 1, 2)
    assert str(rep) == "removed 2 of 7 rows: 1 id(s) appeared more than once; kept the first row of each"
    last, _ = deduplicate(t, keep="last")
    assert list(last.index) == ["q", "s", "t", "u", "v"]
    earliest, _ = deduplicate(t, keep="first", order_by=M.SUBMITTED_AT)
    assert list(earliest.index) == ["q", "r", "s", "t", "u"]  # r was submitted first
    latest, _ = deduplicate(t, keep="last", order_by=M.SUBMITTED_AT)
    assert list(latest.index) == ["q", "s", "t", "u", "v"]
    pd.testing.assert_frame_equal(t, before)
    none, rep = deduplicate(t.iloc[[0, 1, 3]])
    assert len(none) == 3 and str(rep) == "no duplicate ids among 3 rows"


def test_deduplicate_parameters():
    with pytest.raises(ValueError, match=r"The 'keep' parameter of deduplicate must be one of"):
        deduplicate(_dups(), keep="random")
    with pytest.raises(ValueError, match=r"The 'order_by' parameter of deduplicate must name a column"):
        deduplicate(_dups(), keep="last", order_by="when")
