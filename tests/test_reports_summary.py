"""Group summaries: counts, Wilson intervals, exact group-vs-rest test, suppression (primary + complementary)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import screening as sc
from screening.reports.stats import adjust_p, exact_greater_p, wilson_interval
from screening.reports.summary import summarise
from screening.reports.suppression import suppress

FLAGS = ["left_behind", "single_parent", "bullied", "poverty", "migrant", "disability", "bereaved", "known_disorder"]


def students(spec: list[tuple[dict[str, str], int, int]]) -> pd.DataFrame:
    """Rows for (group columns, PHQ-9 total, count): totals 0 → green, 12 → yellow, 17 → orange (default rules)."""
    rows = []
    for groups, total, count in spec:
        items = [min(3, max(0, total - 3 * k)) for k in range(8)] + [0]
        for _ in range(count):
            rows.append({**groups, **{f"phq9_{k + 1}": items[k] for k in range(9)},
                         **{f"gad7_{k + 1}": 0 for k in range(7)}, **dict.fromkeys(FLAGS, False)})
    return pd.DataFrame(rows)


def screen(df: pd.DataFrame) -> sc.ScreeningResult:
    return sc.screen(df, scales=["phq9", "gad7"], rules="default")


def row(summary: pd.DataFrame, **keys: object) -> pd.Series:
    sel = np.ones(len(summary), dtype=bool)
    for k, v in keys.items():
        sel &= (summary[k] == v).fillna(False).to_numpy(dtype=bool)
    level = list(keys)[-1] if keys else "all"
    sel &= (summary["level"] == level).to_numpy()
    assert sel.sum() == 1
    return summary[sel].iloc[0]


def test_done_when_3_orange_of_8_is_suppressed_with_its_complement():
    # class A: 8 students, 3 orange and 5 green; class B: 40 students, 12 orange, 28 green
    df = students([({"class": "A"}, 17, 3), ({"class": "A"}, 0, 5), ({"class": "B"}, 17, 12), ({"class": "B"}, 0, 28)])
    s = screen(df).summary(by="class")
    a, b, total = row(s, **{"class": "A"}), row(s, **{"class": "B"}), row(s)
    assert pd.isna(a["tier.orange.n"]) and pd.isna(a["tier.orange.prop"]) and pd.isna(a["tier.orange.ci_low"])
    assert pd.isna(a["tier.green.n"])  # 5 < 10, and 8 − 0 − green would give orange away anyway
    # column relation: total orange (15) is shown, so class B's orange must go too, or 15 − 12 = 3
    assert total["tier.orange.n"] == 15
    assert pd.isna(b["tier.orange.n"]) and pd.isna(b["tier.orange.prop"])
    assert a["n"] == 8 and b["n"] == 40
    # the compare columns of a hidden cell are hidden too
    assert pd.isna(a["compare.p"]) and pd.isna(a["compare.flag"])


def test_complementary_cell_hidden_even_when_large_enough():
    # min_cell=4: 3 orange hidden (primary); 5 green is above the threshold but 8 − 0 − 5 = 3 → hidden too
    df = students([({"class": "A"}, 17, 3), ({"class": "A"}, 0, 5), ({"class": "B"}, 17, 30), ({"class": "B"}, 0, 30)])
    s = screen(df).summary(by="class", min_cell=4)
    a = row(s, **{"class": "A"})
    assert pd.isna(a["tier.orange.n"]) and pd.isna(a["tier.green.n"])
    assert a["tier.yellow.n"] == 0
    assert a["n_suppressed"] >= 2


def test_no_hidden_cell_can_be_recovered_from_a_single_relation():
    rng = np.random.default_rng(5)
    spec = []
    for school in "XYZ":
        for klass in range(4):
            for total in (0, 12, 17):
                spec.append(({"school": school, "class": f"{school}{klass}"}, total, int(rng.integers(0, 25))))
    s = screen(students(spec)).summary(by=["school", "class"])
    tiers = ["tier.green.n", "tier.yellow.n", "tier.orange.n"]
    # row relations: never exactly one hidden tier in a row
    hidden_per_row = s[tiers].isna().sum(axis=1)
    assert not (hidden_per_row == 1).any()
    # column relations: per school and tier, hidden cells among {school} ∪ classes are never exactly one
    for school in "XYZ":
        block = s[s["school"] == school]
        for t in tiers:
            assert block[t].isna().sum() != 1
    # and at the top: all ∪ schools
    top = s[s["level"].isin(["all", "school"])]
    for t in tiers:
        assert top[t].isna().sum() != 1
    # every shown count is 0 or ≥ 10
    shown = s[tiers].stack().dropna()
    assert ((shown == 0) | (shown >= 10)).all()


def test_counts_props_and_hierarchy_rows():
    df = students([({"school": "S", "class": "1"}, 17, 20), ({"school": "S", "class": "1"}, 0, 30),
                   ({"school": "S", "class": "2"}, 12, 25), ({"school": "S", "class": "2"}, 0, 25)])
    s = screen(df).summary(by=["school", "class"], min_cell=1)
    assert s["level"].tolist() == ["all", "school", "class", "class"]  # a tree: group, then its children
    c1 = row(s, school="S", **{"class": "1"})
    assert c1["tier.orange.n"] == 20 and c1["tier.orange.prop"] == pytest.approx(0.4)
    assert row(s)["n"] == 100 and row(s)["tier.yellow.n"] == 25
    assert c1["phq9.total.band.moderately_severe.n"] == 20 and c1["phq9.total.unscored.n"] == 0
    assert s.attrs["screening"]["interval"] == "Wilson score"
    no_rollup = screen(df).summary(by=["school", "class"], rollup=False)
    assert no_rollup["level"].tolist() == ["all", "class", "class"]


def test_wilson_matches_r_prop_test():
    # R 4.x: prop.test(3, 8, correct = FALSE)$conf.int → 0.1368442858 0.6942576054
    #        prop.test(41, 392, correct = FALSE)$conf.int → 0.07803866908 0.13881951217
    lo, hi = wilson_interval([3, 41], [8, 392])
    assert lo == pytest.approx([0.1368442858, 0.07803866908], abs=1e-9)
    assert hi == pytest.approx([0.6942576054, 0.13881951217], abs=1e-9)
    lo, hi = wilson_interval([0, 5, 0], [5, 5, 0])
    assert lo[0] == 0 and hi[1] == 1 and np.isnan(lo[2])


def test_exact_test_matches_fisher():
    # R: fisher.test(matrix(c(41, 351, 51, 744), 2), alternative = "greater")$p.value → 0.0108233396451
    assert exact_greater_p([41], [392], 92, 1187)[0] == pytest.approx(0.0108233396451, rel=1e-9)
    k, n = np.array([3, 10, 0]), np.array([8, 50, 20])
    want = [stats.fisher_exact([[a, b - a], [30 - a, 300 - b - (30 - a)]], alternative="greater")[1] for a, b in zip(k, n)]
    assert exact_greater_p(k, n, 30, 300) == pytest.approx(want, rel=1e-9)


def test_p_adjust_matches_r():
    p = [0.01, 0.04, 0.03, 0.2, 0.001]
    # R: p.adjust(p, "holm") → 0.040 0.090 0.090 0.200 0.005; p.adjust(p, "BH") → 0.025 0.050 0.050 0.200 0.005
    assert adjust_p(p, "holm") == pytest.approx([0.04, 0.09, 0.09, 0.2, 0.005])
    assert adjust_p(p, "bh") == pytest.approx([0.025, 0.05, 0.05, 0.2, 0.005])
    out = adjust_p([np.nan, 0.01], "holm")
    assert np.isnan(out[0]) and out[1] == pytest.approx(0.01)


def test_group_well_above_is_flagged_and_others_not():
    spec = [({"school": f"S{i}"}, 17, 5) for i in range(5)] + [({"school": f"S{i}"}, 0, 95) for i in range(5)]
    spec += [({"school": "HOT"}, 17, 40), ({"school": "HOT"}, 0, 60)]
    s = screen(students(spec)).summary(by="school")
    hot = row(s, school="HOT")
    assert bool(hot["compare.flag"]) and hot["compare.p_adj"] < 0.001 and hot["compare.ratio"] > 3
    others = s[(s["level"] == "school") & (s["school"] != "HOT")]
    assert not others["compare.flag"].fillna(False).any()


def test_bh_flags_at_least_what_holm_flags():
    spec = [({"school": f"S{i}"}, 17, 5 + 3 * i) for i in range(6)] + [({"school": f"S{i}"}, 0, 60) for i in range(6)]
    res = screen(students(spec))
    holm = res.summary(by="school", correction="holm")["compare.flag"].fillna(False)
    bh = res.summary(by="school", correction="bh")["compare.flag"].fillna(False)
    assert (bh | ~holm).all()


def test_bad_arguments_use_the_one_message_shape():
    res = screen(students([({"school": "S"}, 0, 12)]))
    with pytest.raises(ValueError, match="The 'by' parameter of summarise must"):
        summarise(res, by="nope")
    with pytest.raises(ValueError, match="The 'min_cell' parameter of summarise must"):
        summarise(res, min_cell=0)
    with pytest.raises(ValueError, match="The 'correction' parameter of summarise must"):
        summarise(res, correction="bonferroni")


def test_suppress_doctest_case_and_parent_with_single_child():
    hidden = suppress([np.array([[5, 0, 3]])], [None], min_cell=4, complete=True)[0]
    assert hidden.tolist() == [[True, False, True]]
    # a parent with one child equals that child: hiding the child must hide the parent's cell
    h = suppress([np.array([[3, 20]]), np.array([[3, 20]])], [None, np.array([0])], min_cell=10, complete=False)
    assert h[0][0, 0] and h[1][0, 0]
