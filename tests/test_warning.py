"""The early-warning table: inputs, funnel flags, persistence, rises, risk groups, periods, suppression, explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import screening as sc
from screening._params import InvalidParameterError
from screening.errors import ScreeningError
from screening.warning import COLUMNS, PERIODS, early_warning, exact_limits, label_periods
from screening.warning.data import FLAGS
from screening.warning.simulate import simulate_district


def block(wave: str, on: str, school: str, counts: dict[str, int], **extra: object) -> pd.DataFrame:
    """Rows of one school at one wave: ``counts`` tier -> number of students."""
    tiers = [t for t, c in counts.items() for _ in range(c)]
    return pd.DataFrame({"wave": wave, "on": on, "school": school, "tier": tiers, "urgent": False, "rescreen": False, **extra})


def district(rates: dict[str, list[tuple[int, int]]], dates: tuple[str, ...] = ("2025-09-03", "2026-03-02")) -> pd.DataFrame:
    """``rates[school]`` = [(orange, n) per wave]; the rest green."""
    parts = []
    for school, waves in rates.items():
        for w, (k, n) in enumerate(waves):
            parts.append(block(f"W{w + 1}", dates[w], school, {"orange": k, "green": n - k}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return simulate_district(n_schools=30, n_waves=4, excess_schools=2, excess_or=4.0, group_or=3.0, seed=5).frame


def test_columns_and_one_row_per_group_and_wave(sim: pd.DataFrame) -> None:
    t = early_warning(sim)
    assert list(t.columns) == [*COLUMNS, "school"]
    schools = t[t["level"] == "school"]
    assert len(schools) == sim["school"].nunique() * 4
    assert not schools.duplicated(["group", "wave"]).any()
    assert set(t["level"]) == {"all", "school", "risk_group", "period"}
    assert t.attrs["screening"]["waves"] == ["W1", "W2", "W3", "W4"]
    # n counts every student with a known tier; the district row is the sum of the schools
    all_rows = t[t["level"] == "all"].set_index("wave")
    assert all_rows["n"].tolist() == sim.groupby("wave", observed=True).size().tolist()
    assert schools.groupby("wave")["n"].sum().tolist() == all_rows["n"].tolist()


def test_rates_intervals_and_limits_are_the_documented_ones() -> None:
    data = district({"A": [(30, 200), (20, 200)], "B": [(10, 400), (12, 400)], "C": [(40, 600), (45, 600)]})
    t = early_warning(data, overdispersion="none", min_cell=1)
    a1 = t[(t["group"] == "A") & (t["wave"] == "W1")].iloc[0]
    target = 80 / 1200
    assert a1["target"] == pytest.approx(target)
    assert a1["rate"] == pytest.approx(0.15)
    assert a1["z"] == pytest.approx((0.15 - target) / np.sqrt(target * (1 - target) / 200))
    assert a1["upper998"] == pytest.approx(exact_limits([200], target, 0.999)[0])
    lo, hi = sc.reports.stats.wilson_interval([30], [200])
    assert (a1["ci_low"], a1["ci_high"]) == pytest.approx((lo[0], hi[0]))
    assert bool(a1["above_998"]) and "above_99.8" in a1["flag"]
    b1 = t[(t["group"] == "B") & (t["wave"] == "W1")].iloc[0]
    assert not b1["above_95"] and b1["flag"] == ""


def test_true_excess_is_flagged_and_overdispersion_widens_limits(sim: pd.DataFrame) -> None:
    truth = simulate_district(n_schools=30, n_waves=4, excess_schools=2, excess_or=4.0, group_or=3.0, seed=5).excess_schools
    add = early_warning(sim)
    none = early_warning(sim, overdispersion="none")
    last = add[(add["level"] == "school") & (add["wave"] == "W4")].set_index("group")
    assert last.loc[list(truth), "persistent"].all()
    disp = add.attrs["screening"]["dispersion"]
    assert set(disp) == {"W1", "W2", "W3", "W4"}
    widened = [w for w, d in disp.items() if d["tau2"] > 0]
    assert widened  # the simulated schools differ for real
    for w in widened:
        a = add[(add["level"] == "school") & (add["wave"] == w)].set_index("group")["upper95"]
        b = none[(none["level"] == "school") & (none["wave"] == w)].set_index("group")["upper95"]
        big = a.index[a.index.isin(last.index[last["n"] > 500])]
        assert (a[big] > b[big]).all()
    n_flags = lambda t: int(t[t["level"] == "school"]["above_95"].sum())  # noqa: E731
    assert n_flags(add) <= n_flags(none)


def test_risk_group_excess_is_flagged_and_unknown_flags_do_not_count(sim: pd.DataFrame) -> None:
    t = early_warning(sim)
    bullied = t[(t["level"] == "risk_group") & (t["group"] == "bullied")]
    assert bullied["above_998"].all()
    # only students known to be bullied are in the group (NA = unknown, never "no" nor "yes")
    w1 = sim[sim["wave"] == "W1"]
    assert int(bullied.iloc[0]["n"]) == int(w1["bullied"].eq(True).sum())
    assert w1["bullied"].isna().any()
    expl = bullied.iloc[0]["explanation_zh"]
    assert "遭受欺凌的学生" in expl and "99.8%" in expl


def test_persistence_and_rise() -> None:
    # school A above the limits in waves 2 and 3; rising from wave 1 to 2
    base = {"B": [(20, 500)] * 3, "C": [(21, 520)] * 3, "D": [(19, 480)] * 3, "E": [(22, 510)] * 3}
    data = district({**base, "A": [(10, 300), (45, 300), (44, 300)]}, dates=("2025-03-02", "2025-06-10", "2025-09-03"))
    t = early_warning(data, overdispersion="none", persistence=(2, 3))
    a = t[(t["level"] == "school") & (t["group"] == "A")].set_index("wave")
    assert a["above_95"].tolist() == [False, True, True]
    assert a["persistent"].tolist() == [False, False, True]
    assert a["rising"].tolist() == [False, True, False]
    # the rise is Fisher's one-sided exact test, Holm-adjusted over the schools of the wave
    p = stats.fisher_exact([[45, 255], [10, 290]], alternative="greater")[1]
    p_b = [stats.fisher_exact([[k, n - k], [k, n - k]], alternative="greater")[1] for k, n in ((20, 500), (21, 520), (19, 480), (22, 510))]
    assert a.loc["W2", "p_change"] == pytest.approx(sc.reports.stats.adjust_p([p, *p_b], "holm")[0])
    assert "persistent" in a.loc["W3", "flag"] and "rising" in a.loc["W2", "flag"]
    assert "最近 3 次测评中至少 2 次" in a.loc["W3", "explanation_zh"]
    assert "clearly up from the previous screening (W1" in a.loc["W2", "explanation_en"]


def test_small_counts_are_suppressed_but_the_flag_stays() -> None:
    # S: 6 of 20 orange (way above 5%) — 6 is below min_cell, so its count and rate are hidden, the flag is not
    data = district({"S": [(6, 20), (1, 20)], "B": [(25, 600), (30, 600)], "C": [(24, 580), (29, 590)], "D": [(26, 610), (31, 600)]})
    t = early_warning(data, overdispersion="none")
    s1 = t[(t["group"] == "S") & (t["wave"] == "W1")].iloc[0]
    assert s1["suppressed"] and pd.isna(s1["events"]) and pd.isna(s1["rate"]) and pd.isna(s1["z"]) and pd.isna(s1["ci_low"])
    assert s1["n"] == 20 and s1["above_95"]
    assert "已预警" in s1["explanation_zh"] and "6" not in s1["explanation_zh"].split("）")[1]
    assert "is flagged (small numbers" in s1["explanation_en"] and "30.0%" not in s1["explanation_en"]
    # complementary suppression: another school's count is hidden too, so the district total cannot reveal S's
    w1 = t[(t["wave"] == "W1") & (t["level"] == "school")]
    assert w1["suppressed"].sum() >= 2
    visible = t[(t["level"].isin(["school", "all", "risk_group", "period"])) & t["events"].notna()]
    assert ((visible["events"] == 0) | (visible["events"] >= 10)).all()
    assert (((visible["n"] - visible["events"]) == 0) | ((visible["n"] - visible["events"]) >= 10)).all()


def test_unknown_tier_is_left_out_not_counted_as_green() -> None:
    data = district({"A": [(12, 100), (12, 100)], "B": [(12, 100), (12, 100)]})
    data.loc[data.index[:5], "tier"] = None  # five of A's orange students in W1 unknown
    t = early_warning(data, min_cell=1)
    a1 = t[(t["group"] == "A") & (t["wave"] == "W1")].iloc[0]
    assert a1["n"] == 95 and a1["events"] == 7


def test_outcomes_yellow_or_worse_and_urgent() -> None:
    data = pd.concat([block("W1", "2025-09-03", "A", {"green": 50, "yellow": 30, "orange": 20}),
                      block("W1", "2025-09-03", "B", {"green": 80, "yellow": 10, "orange": 10})], ignore_index=True)
    data["urgent"] = data.index % 10 == 0
    t = early_warning(data, outcome="yellow", min_cell=1)
    assert t[t["group"] == "A"].iloc[0]["events"] == 50
    assert "黄色及以上档案比例" in outcome_zh(t, data)
    u = early_warning(data, outcome="urgent", min_cell=1)
    assert u[u["level"] == "all"].iloc[0]["events"] == 20


def outcome_zh(t: pd.DataFrame, data: pd.DataFrame) -> str:
    from screening.warning.explain import outcome_name

    return outcome_name("yellow", ("green", "yellow", "orange"), "zh")


def test_periods_are_labelled_and_pooled_across_years() -> None:
    lab = label_periods(pd.Series(pd.to_datetime(["2025-09-03", "2026-01-10", "2026-02-20", "2026-06-08", "2026-07-20", None])))
    assert lab["period"].tolist()[:5] == ["autumn_term_start", "autumn_finals", "spring_term_start", "graduation_season",
                                         "summer_holiday"]
    assert pd.isna(lab["period"].iloc[5])
    assert lab["school_year"].tolist()[:5] == ["2025-2026"] * 5
    assert set(PERIODS["kind"]) >= {"term_start", "exam_season", "graduation_season", "before_holiday", "after_holiday"}
    sim = simulate_district(n_schools=25, n_waves=8, excess_schools=0, period_or=2.0, seed=2).frame
    t = early_warning(sim)
    per = t[t["level"] == "period"].set_index("period")
    assert per.loc["graduation_season", "above_998"]
    assert per.loc["graduation_season", "school_year"] == "2024-2025, 2025-2026"
    assert per["n"].sum() == t[t["level"] == "all"]["n"].sum()
    assert not per.drop("graduation_season")["above_95"].any()
    assert "毕业季" in per.loc["graduation_season", "explanation_zh"]


class StandIn:
    """A tiny archive: ``export(kind="long")`` and ``waves()`` with a period that overrides the date."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def export(self, kind: str = "wide") -> pd.DataFrame:
        assert kind == "long"
        return self.frame.drop(columns=["on"])

    def waves(self) -> pd.DataFrame:
        return pd.DataFrame({"wave": ["W1", "W2"], "on": ["2025-09-03", "2026-03-02"], "n_students": [0, 0],
                             "period": ["autumn_term_start", "special_week"]})


def test_archive_like_input_and_period_override() -> None:
    data = district({"A": [(12, 100), (30, 100)], "B": [(12, 100), (11, 100)]})
    t = early_warning(StandIn(data), min_cell=1)
    w = t[t["level"] == "all"].set_index("wave")
    assert w.loc["W1", "period"] == "autumn_term_start" and w.loc["W1", "period_zh"] == "秋季开学（暑假后）"
    assert w.loc["W2", "period"] == "special_week" and str(w.loc["W2", "on"].date()) == "2026-03-02"


def test_screening_results_as_input() -> None:
    rng = np.random.default_rng(0)

    def answers(high_school: str) -> pd.DataFrame:
        n = 240
        school = np.where(np.arange(n) < 120, "A", "B")
        level = np.where(school == high_school, 3, 1)
        items = {f"phq9_{i}": np.minimum(rng.integers(0, level + 1, n), 3) for i in range(1, 10)}
        items["phq9_9"] = np.zeros(n, dtype=int)
        gad = {f"gad7_{i}": rng.integers(0, 2, n) for i in range(1, 8)}
        flags = {f: rng.random(n) < 0.1 for f in FLAGS}
        return pd.DataFrame({"school": school, **flags, **items, **gad})

    r1 = sc.screen(answers("A"), scales=["phq9", "gad7"], rules="default", groups=["school"])
    r2 = sc.screen(answers("B"), scales=["phq9", "gad7"], rules="default", groups=["school"])
    t = early_warning({"2025秋": r1, "2026春": r2}, dates={"2025秋": "2025-09-03", "2026春": "2026-03-02"}, outcome="yellow",
                      min_cell=1)
    sch = t[t["level"] == "school"].set_index(["group", "wave"])
    assert sch.loc[("A", "2025秋"), "rate"] > sch.loc[("B", "2025秋"), "rate"]
    assert sch.loc[("B", "2026春"), "rate"] > sch.loc[("A", "2026春"), "rate"]
    assert t.attrs["screening"]["tiers"] == list(r1.rules.tiers)
    assert t[t["level"] == "all"]["period"].tolist() == ["autumn_term_start", "spring_term_start"]
    one = early_warning(r1)
    assert one[one["level"] == "all"].iloc[0]["n"] == 240


def test_bad_input_names_the_column_and_rows() -> None:
    data = district({"A": [(12, 100)], "B": [(12, 100)]})
    with pytest.raises(ScreeningError) as err:
        early_warning(data.drop(columns=["wave"]))
    assert err.value.issues[0].column == "wave"
    bad = data.copy()
    bad.loc[[3, 7], "tier"] = "purple"
    with pytest.raises(ScreeningError) as err:
        early_warning(bad)
    assert err.value.issues[0].code == "unknown_tier" and err.value.issues[0].rows == (3, 7)
    assert "purple" not in str(err.value)
    with pytest.raises(InvalidParameterError, match="'level' parameter of early_warning"):
        early_warning(data, level="grade")
    with pytest.raises(InvalidParameterError, match="'persistence'"):
        early_warning(data, persistence=(3, 2))
    with pytest.raises(InvalidParameterError, match="'outcome'"):
        early_warning(data, outcome="red")
    with pytest.raises(ScreeningError, match="cannot read a list"):
        early_warning([1, 2])


def test_grade_level_is_within_school_and_input_is_not_modified(sim: pd.DataFrame) -> None:
    before = sim.copy()
    t = early_warning(sim, level="grade")
    g = t[t["level"] == "grade"]
    assert {"school", "grade"} <= set(t.columns)
    assert g["group"].str.contains(" / ").all()
    assert len(g) == sim.groupby(["school", "grade"]).ngroups * 4
    pd.testing.assert_frame_equal(sim, before)
    # nothing per student: no student key in the table
    assert "student" not in t.columns


def test_archive_style_rows_with_period_and_pseudonym_and_four_tiers() -> None:
    data = district({"A": [(12, 100), (30, 100)], "B": [(12, 100), (11, 100)]})
    data["period"] = np.where(data["wave"] == "W1", "开学", "考试季")
    data["pseudonym"] = [f"k1-{i % 200}" for i in range(len(data))]
    data.loc[data["tier"] == "orange", "tier"] = "red"
    t = early_warning(data, tiers=["green", "yellow", "orange", "red"], min_cell=1)
    assert t.attrs["screening"]["outcome"] == "red" and t.attrs["screening"]["key"] == "pseudonym"
    w = t[t["level"] == "all"].set_index("wave")
    assert w.loc["W1", "period"] == "开学" and w.loc["W2", "period_zh"] == "考试季"  # a free label is its own period
    assert int(w.loc["W2", "events"]) == 41
    assert set(t[t["level"] == "period"]["group"]) == {"开学", "考试季"}
    with pytest.raises(ScreeningError, match="not tiers"):
        early_warning(data)


def test_fixed_target_and_bh_correction() -> None:
    base = {f"S{i}": [(20, 500), (20, 500)] for i in range(6)}
    data = district({**base, "A": [(10, 300), (40, 300)]})
    t = early_warning(data, target=0.05, overdispersion="none", correction="bh", min_cell=1)
    s = t[t["level"] == "school"]
    assert (s["target"] == 0.05).all()
    a2 = s[(s["group"] == "A") & (s["wave"] == "W2")].iloc[0]
    assert a2["upper95"] == pytest.approx(exact_limits([300], 0.05, 0.975)[0])
    p = stats.fisher_exact([[40, 260], [10, 290]], alternative="greater")[1]
    others = [stats.fisher_exact([[20, 480], [20, 480]], alternative="greater")[1]] * 6
    assert a2["p_change"] == pytest.approx(sc.reports.stats.adjust_p([p, *others], "bh")[0])
    assert t.attrs["screening"]["change_test"].endswith("Benjamini-Hochberg within each wave")
    with pytest.raises(InvalidParameterError, match="'target'"):
        early_warning(data, target=1.5)


def test_risk_groups_must_be_boolean_flags() -> None:
    data = district({"A": [(12, 100)], "B": [(12, 100)]})
    data["sex"] = "F"
    with pytest.raises(InvalidParameterError, match="boolean flag columns"):
        early_warning(data, risk_groups=["sex"])
    data["special"] = pd.array([True, None] * (len(data) // 2), dtype="boolean")
    t = early_warning(data, risk_groups=["special"], min_cell=1)
    assert t[t["level"] == "risk_group"]["n"].tolist() == [100]
