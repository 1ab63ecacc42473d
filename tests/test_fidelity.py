"""Issue 10: unknown answers, possibly-true rules, re-screen as an outcome, the two-step crisis rule and
the rules that read all their sources say. Every expected value is derived in the comment next to it."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

import screening as sc
from screening.tiering.expr import ExprSyntaxError, IsMissing, parse


def screen(df: pd.DataFrame, scales: list[str], rules: str | dict = "default", **kw) -> sc.ScreeningResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # risk-group flags not supplied
        return sc.screen(df, scales=scales, rules=rules, lang="en", **kw)


def answers(scale: str, values: dict[int, float | None] | None = None, default: float = 0.0) -> dict[str, float]:
    s = sc.load_scale(scale)
    out = dict.fromkeys(s.input_columns(), default)
    for k, v in (values or {}).items():
        out[f"{scale}_{k}"] = np.nan if v is None else float(v)
    return out


# ---------------------------------------------------------------------------
# done-when checks of the issue


def test_phq9_blank_item9_goes_to_the_ask_list_with_a_reason():
    # PHQ-9 1,1,1,1,1,1,1,1,(blank): prorated total 8/8 x 9 = 9 (mild); item 9 could be 1-3 → crisis possible
    df = pd.DataFrame([answers("phq9", dict.fromkeys(range(1, 9), 1) | {9: None})])
    t = screen(df, ["phq9"]).table.iloc[0]
    assert t["rescreen"] and t["ask_today"] and t["follow_up_days"] == 0
    assert "ask the student in person today" in t["rescreen_reasons"]
    # bounds 8..11 straddle the ≥ 10 rule: it is possibly true and says so, without setting yellow
    assert "could make this true: PHQ-9 total ≥ 10" in t["rescreen_reasons"]
    assert t["tier"] == "green" and not t["urgent"]


def test_scl90_hostility_3_is_at_least_yellow():
    # hostility items 11, 24, 63, 67, 74, 81 rated 3, everything else 1: total 90 + 12 = 102 ≤ 160, 6 positive items
    df = pd.DataFrame([answers("scl90", dict.fromkeys((11, 24, 63, 67, 74, 81), 3), default=1)])
    res = screen(df, ["scl90"])
    assert res.scores["scl90.hostility"].iloc[0] == 3.0
    assert res.table["tier"].iloc[0] >= "yellow"
    assert "scl90_positive" in res.table["rules_fired"].iloc[0]


def test_scared_23_is_at_least_yellow_under_the_chinese_default():
    # items 1-23 'somewhat true' (1), the rest 0: total 23 = the Chinese urban norm cut-off (王凯 et al. 2005)
    df = pd.DataFrame([answers("scared", dict.fromkeys(range(1, 24), 1)), answers("scared", dict.fromkeys(range(1, 23), 1))])
    res = screen(df, ["scared"])
    assert res.scores["scared.total"].tolist() == [23, 22]
    assert res.scores["scared.total.band"].astype(str).tolist() == ["possible_anxiety", "below_cutoff"]
    assert res.table["tier"].astype(str).tolist() == ["yellow", "green"]


def test_a_blank_on_rses_leaves_the_colour_alone():
    # PHQ-9 total 12 (yellow) with a complete RSES and with an RSES blank: same colour, no re-screen
    base = answers("phq9", {1: 3, 2: 3, 3: 3, 4: 3}) | answers("rses", default=2)
    blank = base | {"rses_3": np.nan}
    res = screen(pd.DataFrame([base, blank]), ["phq9", "rses"])
    assert res.scores["rses.status"].astype(str).tolist() == ["complete", "insufficient"]
    assert res.table["tier"].astype(str).tolist() == ["yellow", "yellow"]
    assert res.table["rescreen"].tolist() == [False, False]


# ---------------------------------------------------------------------------
# three-valued conditions and score bounds


def test_engine_bounds_are_the_extremes_over_every_completion():
    # brute force: every way to answer the blanks of a PHQ-9 row with three blanks (4^3 completions)
    row = {1: 2, 2: None, 3: 1, 4: 3, 5: None, 6: 0, 7: 1, 8: None, 9: 0}
    out = sc.score(pd.DataFrame([answers("phq9", row)]), "phq9", bounds=True)
    totals = [sum(v for v in row.values() if v is not None) + sum(c) for c in itertools.product(range(4), repeat=3)]
    assert out["phq9.total.lower"].iloc[0] == min(totals) == 7
    assert out["phq9.total.upper"].iloc[0] == max(totals) == 16
    assert np.isnan(out["phq9.total"].iloc[0])  # 6 answered < 7: insufficient


def test_bounds_of_reverse_keyed_and_mean_scores():
    # CES-D item 4 is reverse keyed (keyed = 3 - raw): a blank adds 0..3 either way; the rest all 1 → 19 answered
    out = sc.score(pd.DataFrame([answers("cesd", {4: None}, default=1)]), "cesd", bounds=True)
    # 19 answered: 18 forward items at 1 + reverse items 8, 12, 16 at 1 keyed 2 → 15 + 6 = 21 ... computed directly:
    keyed = [2 if k in (8, 12, 16) else 1 for k in range(1, 21) if k != 4]
    assert out["cesd.total.lower"].iloc[0] == sum(keyed) + 0
    assert out["cesd.total.upper"].iloc[0] == sum(keyed) + 3
    # SCL-90 somatization (12 items, mean): item 1 blank, the rest 2 → mean over completions (22 + x) / 12, x in 1..5
    out = sc.score(pd.DataFrame([answers("scl90", {1: None}, default=2)]), "scl90", bounds=True)
    assert out["scl90.somatization.lower"].iloc[0] == pytest.approx(23 / 12)
    assert out["scl90.somatization.upper"].iloc[0] == pytest.approx(27 / 12)
    assert out["scl90.somatization"].iloc[0] == 2.0  # mean of the 11 answered (scales/scl90.yaml missing rule)
    assert out["scl90.status"].iloc[0] == "prorated"


def test_bounds_equal_the_score_without_blanks():
    df = pd.DataFrame([answers("phq9", dict.fromkeys(range(1, 10), 2))])
    out = sc.score(df, "phq9", bounds=True)
    assert out["phq9.total.lower"].iloc[0] == out["phq9.total.upper"].iloc[0] == out["phq9.total"].iloc[0] == 18
    assert "phq9.total.lower" not in sc.score(df, "phq9").columns  # default output unchanged


def test_insufficient_but_certain_crossing_fires_definitely():
    # items 1-6 rated 3 (18), 7-9 blank: insufficient (6 < 7 answered), but every completion is ≥ 18 ≥ 15 → orange
    df = pd.DataFrame([answers("phq9", dict.fromkeys(range(1, 7), 3) | dict.fromkeys((7, 8, 9), None))])
    t = screen(df, ["phq9"]).table.iloc[0]
    assert t["tier"] == "orange" and t["rescreen"] and t["ask_today"]
    assert "phq9_severe" in t["rules_fired"].split(";")


def test_possibly_true_rule_that_cannot_raise_the_outcome_is_not_listed():
    # PHQ-9 total 16 (orange) with GAD-7 item 1 blank and the rest 1: GAD-7 ≥ 10 possible but orange already
    row = answers("phq9", {1: 3, 2: 3, 3: 3, 4: 3, 5: 3, 6: 1}) | answers("gad7", {1: None}, default=1)
    t = screen(pd.DataFrame([row]), ["phq9", "gad7"]).table.iloc[0]
    assert t["tier"] == "orange" and not t["rescreen"]


def test_is_missing_in_the_condition_language():
    node = parse("phq9.item9 is missing or not (phq9.total is not missing)")
    assert isinstance(node.items[0], IsMissing) and not node.items[0].negated
    with pytest.raises(ExprSyntaxError, match="expected 'missing'"):
        parse("phq9.total is 3")
    spec = sc.load_rules("default").spec.model_dump(mode="json", exclude_none=True)
    spec["id"] = "ask_if_blank"
    spec["rules"] = [{"id": "item9_blank", "when": "phq9.item9 is missing", "tier": "yellow",
                      "reason": {"zh": "第9题未答", "en": "Item 9 unanswered"}}]
    rules = sc.load_rules(spec)
    df = pd.DataFrame([answers("phq9", {9: None}), answers("phq9")])
    res = screen(df, ["phq9"], rules=rules)
    assert res.table["tier"].astype(str).tolist() == ["yellow", "green"]


# ---------------------------------------------------------------------------
# the two-step crisis rule


def test_project_choice_crisis_item_means_interview_within_days():
    # DSRSC item 10 ('life isn't worth living') answered 'sometimes' (1): origin project → yellow, interview in 7 days
    df = pd.DataFrame([answers("dsrsc", {10: 1})])
    t = screen(df, ["dsrsc"]).table.iloc[0]
    assert t["tier"] == "yellow" and not t["urgent"] and t["rescreen"] and t["follow_up_days"] <= 7
    assert "within 7 days" in t["rescreen_reasons"]


def test_a_district_can_promote_a_project_choice_item():
    spec = sc.load_rules("default").spec.model_dump(mode="json", exclude_none=True)
    spec["id"] = "promoted"
    spec["critical_items"]["promote"] = ["scl90.item15", "dsrsc.item10"]
    df = pd.DataFrame([answers("dsrsc", {10: 1})])
    t = screen(df, ["dsrsc"], rules=sc.load_rules(spec)).table.iloc[0]
    assert t["urgent"] and t["tier"] == "orange"


def test_manual_crisis_items_stay_urgent_and_scl90_item15_is_promoted_in_default():
    phq = screen(pd.DataFrame([answers("phq9", {9: 1})]), ["phq9"]).table.iloc[0]
    assert phq["urgent"] and phq["tier"] == "orange"
    scl = screen(pd.DataFrame([answers("scl90", {15: 2}, default=1), answers("scl90", {59: 2}, default=1)]),
                 ["scl90"]).table
    assert scl["urgent"].tolist() == [True, False]  # item 15 promoted, item 59 project choice
    assert scl["tier"].astype(str).tolist() == ["orange", "yellow"]


# ---------------------------------------------------------------------------
# rules that read all their sources say


@pytest.mark.parametrize(("scale", "row", "tier"), [
    ("mht", "learning_anxiety_8", "yellow"),
    ("cesdc", "total_15", "yellow"),
    ("mssmhs", "one_factor_2", "yellow"),
])
def test_factor_and_content_rules(scale, row, tier):
    s = sc.load_scale(scale)
    if row == "learning_anxiety_8":  # MHT items 1-8 of learning anxiety (1-15) 'yes': content scale 8, total 8
        values = dict.fromkeys(range(1, 9), 1)
        base = 0.0
    elif row == "total_15":  # CES-DC: 15 forward items 'a little' (1), reverse items 'a lot' (3, keyed 0) → 15
        values = {}
        base = 0.0
        keyed = 0
        for k in range(1, 21):
            if keyed >= 15:
                break
            rev = str(k) in s.spec.reverse
            if not rev:
                values[k] = 1
                keyed += 1
        base_rev = {int(r): 3 for r in s.spec.reverse}  # reverse items answered 3 → keyed 0
        values |= base_rev
    else:  # MSSMHS: every item 1 (mean 1) except one factor's six items at 2 → that factor mean 2, total mean < 2
        f = s.spec.score("depression")
        values = dict.fromkeys((int(i) for i in f.items or ()), 2)
        base = 1.0
    df = pd.DataFrame([answers(scale, values, default=base)])
    res = screen(df, [scale])
    if scale == "cesdc":
        assert res.scores["cesdc.total"].iloc[0] == 15
    if scale == "mssmhs":
        assert res.scores["mssmhs.depression"].iloc[0] == 2 and res.scores["mssmhs.total"].iloc[0] < 2
    assert res.table["tier"].iloc[0] == tier


def test_cesd_uses_the_chinese_secondary_school_cut_offs():
    # 杨文辉 & 熊戈 2016: ≥ 24 any depressive disorder (yellow), ≥ 29 MDD (orange); 16-23 stays green
    rows = []
    for total in (23, 24, 29):
        vals, left = {}, total
        for k in range(1, 21):
            if k in (4, 8, 12, 16):
                vals[k] = 3  # reverse keyed: raw 3 → 0
                continue
            vals[k] = min(3, left)
            left -= vals[k]
        rows.append(answers("cesd", vals))
    res = screen(pd.DataFrame(rows), ["cesd"])
    assert res.scores["cesd.total"].tolist() == [23, 24, 29]
    assert res.table["tier"].astype(str).tolist() == ["green", "yellow", "orange"]


def test_every_rule_of_the_built_in_sets_cites_a_source():
    for rid in sc.list_rules():
        spec = sc.load_rules(rid).spec
        missing = [r.id for r in spec.rules if r.source is None or len(r.source.ref) < 10]
        assert not missing, (rid, missing)
        assert spec.critical_items.source is not None


def test_data_quality_alone_sets_no_colour_by_default():
    # an MHT form with a lie score of 7 (even items 82-100, seven 'yes') and nothing else: invalid → re-screen only
    values = dict.fromkeys((82, 84, 86, 88, 90, 92, 94), 1)
    res = screen(pd.DataFrame([answers("mht", values)]), ["mht"])
    assert res.scores["mht.status"].iloc[0] == "invalid"
    assert res.table["tier"].iloc[0] == "green" and res.table["rescreen"].iloc[0]


def test_a_district_can_still_send_insufficient_data_to_yellow():
    spec = sc.load_rules("default").spec.model_dump(mode="json", exclude_none=True)
    spec["id"] = "dq_yellow"
    spec["data_quality"]["insufficient"]["tier"] = "yellow"
    df = pd.DataFrame([answers("phq9", dict.fromkeys(range(1, 10), None))])
    t = screen(df, ["phq9"], rules=sc.load_rules(spec)).table.iloc[0]
    assert t["tier"] == "yellow" and t["rescreen"]


def test_option_alias_colliding_with_another_label_is_an_error_with_both_paths():
    import yaml

    from screening.loading import builtin_dir

    data = yaml.safe_load((builtin_dir("scales") / "phq9.yaml").read_text(encoding="utf-8"))
    opts = data["option_sets"]["default"]
    # option 0's alias equals option 1's English label after folding case, spaces and full width
    opts[0]["aliases"] = [*opts[0].get("aliases", []), "  " + opts[1]["label"]["en"].upper().replace("S", "Ｓ") + " "]
    with pytest.raises(sc.ScreeningError) as info:
        sc.load_scale(data)
    issue = next(i for i in info.value.issues if i.code == "label_collision")
    assert "option_sets.default[0].aliases[" in issue.hint and "option_sets.default[1].label.en" in issue.hint
    assert issue.path in issue.hint


# ---------------------------------------------------------------------------
# the rule-set audit


def test_audit_reports_shares_dq_only_and_hours():
    rep = sc.audit_rules("default", ["phq9", "gad7"], n=600, blank_rates=(0.0, 0.05), seed=3)
    tab = rep.table
    assert tab["blank_rate"].tolist() == [0.0, 0.05]
    shares = tab[["tier.green", "tier.yellow", "tier.orange"]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert (tab["dq_only"] == 0).all()  # default: data quality sets no colour
    assert (tab["down_silent"] == 0).all()
    assert tab.loc[0, "rescreen"] == 0 and tab.loc[1, "rescreen"] > 0
    assert (tab["hours.total"] > 0).all()
    # the old behaviour (insufficient → yellow) is measured by dq_only
    spec = sc.load_rules("default").spec.model_dump(mode="json", exclude_none=True)
    spec["id"] = "dq_yellow"
    spec["data_quality"]["insufficient"]["tier"] = "yellow"
    old = sc.audit_rules(sc.load_rules(spec), ["phq9", "gad7"], n=600, blank_rates=(0.2,), seed=3)
    assert old.table.loc[0, "dq_only"] > 0


def test_audit_compares_two_rule_sets_on_the_same_students():
    rep = sc.audit_rules("default", ["phq9", "gad7"], n=500, blank_rates=(0.0,), compare="four_level", seed=4)
    assert rep.changes is not None and len(rep.changes) == 1
    row = rep.changes.iloc[0]
    assert row["changed"] == pytest.approx(row["changed_up"] + row["changed_down"])
    a, b = rep.table["hours.total"].tolist()
    assert row["hours.difference"] == pytest.approx(b - a)
    assert "| default |" in rep.to_markdown()


def test_audit_on_given_answers_and_cli(tmp_path, capsys):
    df = sc.simulate_answers(["phq9"], n=200, blank_rate=0.02, seed=5)
    rep = sc.audit_rules("default", ["phq9"], answers=df)
    assert rep.table.loc[0, "students"] == 200 and np.isnan(rep.table.loc[0, "blank_rate"])
    path = tmp_path / "answers.csv"
    df.to_csv(path, index=False)
    from screening.cli import main

    assert main(["audit", "--scales", "phq9", "--answers", str(path), "-o", str(tmp_path / "audit.csv")]) == 0
    out = capsys.readouterr().out
    assert "tier.green" in out and (tmp_path / "audit.csv").exists()
    assert main(["audit", "--scales", "phq9", "-n", "300", "--blanks", "0,0.01", "--compare", "four_level"]) == 0
    assert "hours.difference" in capsys.readouterr().out


def test_simulated_answers_are_correlated_and_valid():
    df = sc.simulate_answers(["phq9", "gad7"], n=3000, seed=6)
    phq = df[[f"phq9_{k}" for k in range(1, 10)]].sum(axis=1)
    gad = df[[f"gad7_{k}" for k in range(1, 8)]].sum(axis=1)
    assert np.corrcoef(phq, gad)[0, 1] > 0.5  # one general factor, loading 0.7
    assert 0.09 < (df["phq9_9"] >= 1).mean() < 0.15  # DEFAULT_CRITICAL_RATES: 12 %
    sc.score(df, ["phq9", "gad7"])  # every value is an option (raises otherwise)


def test_promote_names_a_real_critical_item_and_outcome_counts():
    spec = sc.load_rules("default").spec.model_dump(mode="json", exclude_none=True)
    spec["id"] = "bad_promote"
    spec["critical_items"]["promote"] = ["dsrsc.item11"]
    with pytest.raises(sc.RuleError, match="no critical item 'item11'"):
        sc.load_rules(spec)
    df = pd.DataFrame([answers("phq9", {9: None}), answers("phq9")])
    counts = screen(df, ["phq9"]).outcome_counts()
    assert counts.to_dict() == {"green": 2, "yellow": 0, "orange": 0, "urgent": 0, "rescreen": 1, "ask_today": 1}


def test_bounds_do_not_depend_on_chunking_or_threads():
    df = sc.simulate_answers(["scl90", "who5"], n=300, blank_rate=0.03, seed=8)
    a = sc.score(df, ["scl90", "who5"], bounds=True)
    b = sc.score(df.iloc[::-1], ["scl90", "who5"], bounds=True, chunk_size=7, n_jobs=2).loc[a.index]
    pd.testing.assert_frame_equal(a, b)
    # a prorated or complete score lies inside its bounds; WHO-5 percent (x 4) bounds are transformed too
    for col in ("scl90.total", "scl90.hostility", "who5.percent"):
        v, lo, hi = a[col], a[col + ".lower"], a[col + ".upper"]
        ok = v.notna()
        assert ((lo[ok] <= v[ok] + 1e-9) & (v[ok] <= hi[ok] + 1e-9)).all()
    assert (a["who5.percent.upper"] == 4 * a["who5.total.upper"]).all()
