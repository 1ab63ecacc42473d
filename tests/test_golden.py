"""Golden tests: published worked examples and reference-implementation fixtures.

Every vector below was read from the named public source (repository, path and
commit, or document) and is cited next to it. Nothing here is computed by this
library's own code: the expected values are the source's.

Scales with no published worked example or reference fixture found (so only
their own worked examples and the conformance tests cover them): K6, WHO-5,
PSC-17 (its manual rules are checked below, but no published answer vector was
found), PHQ-A, CES-DC, DSRSC, SCARED, MSSMHS, SCL-90, ASLEC, MHT.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

import screening as sc


def _frame(scale_id: str, rows: list[list[float | None]]) -> pd.DataFrame:
    scale = sc.load_scale(scale_id)
    data = np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=float)
    return pd.DataFrame(data, columns=scale.input_columns())


# ---------------------------------------------------------------------------
# BioPsyKit fixtures
# Source: mad-lab-fau/BioPsyKit, commit 194c1d33d409d88b4b0167a3b1ec0c81a68a8832,
#   tests/test_data/questionnaires/questionnaire_correct.csv  (item answers, subjects Vp01-Vp06)
#   tests/test_data/questionnaires/questionnaire_results.csv  (expected scores)
# compared by tests/test_questionnaires/test_questionnaires.py with assert_frame_equal.
# biopsykit.questionnaires: pss() 0-4, reverse 4 5 7 8, Helpless 1 2 3 6 9 10, SelfEff 4 5 7 8;
# cesd() 0-3, reverse 4 8 12 16; rse() 0-3 in the UMD item order, reverse 2 5 6 8 9; PHQ9 sum 0-3.
# ---------------------------------------------------------------------------

BPK_SUBJECTS = ["Vp01", "Vp02", "Vp03", "Vp04", "Vp05", "Vp06"]

# columns PSS_1..PSS_10 -> results PSS_Helpless, PSS_SelfEff, PSS_Total
BPK_PSS = [
    ([2, 1, 2, 3, 3, 1, 3, 3, 2, 1], 9, 4, 13),
    ([2, 1, 1, 3, 3, 1, 3, 3, 2, 0], 7, 4, 11),
    ([1, 0, 2, 3, 4, 1, 1, 3, 2, 0], 6, 5, 11),
    ([2, 1, 2, 3, 3, 1, 3, 3, 2, 1], 9, 4, 13),
    ([2, 1, 1, 3, 3, 1, 3, 3, 2, 0], 7, 4, 11),
    ([1, 0, 2, 3, 4, 1, 1, 3, 2, 0], 6, 5, 11),
]
# columns CESD01..CESD20 -> results CESD
BPK_CESD = [
    ([0, 0, 0, 3, 1, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 0], 1),
    ([0, 1, 0, 3, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 0], 1),
    ([1, 0, 1, 3, 1, 0, 1, 2, 0, 2, 1, 2, 1, 1, 1, 2, 1, 2, 0, 1], 17),
    ([0, 1, 1, 3, 1, 2, 0, 3, 0, 0, 1, 2, 1, 3, 0, 2, 0, 3, 0, 1], 16),
    ([0, 0, 0, 3, 2, 1, 2, 2, 1, 2, 0, 2, 0, 1, 1, 2, 1, 1, 0, 2], 17),
    ([1, 0, 0, 2, 3, 0, 2, 2, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], 13),
]
# columns RSE01..RSE10 (UMD order, 0-3) -> results RSE
BPK_RSE = [
    ([3, 0, 3, 3, 0, 0, 3, 0, 0, 3], 30),
    ([3, 0, 3, 3, 0, 0, 3, 0, 0, 3], 30),
    ([2, 1, 2, 2, 1, 2, 2, 1, 0, 2], 20),
    ([3, 2, 2, 2, 1, 2, 2, 0, 0, 3], 22),
    ([2, 1, 2, 2, 1, 2, 2, 0, 0, 2], 21),
    ([2, 1, 2, 2, 2, 1, 2, 2, 0, 1], 18),
]
# columns PHQ_1..PHQ_9 -> results PHQ9
BPK_PHQ9 = [
    ([1, 0, 1, 0, 0, 1, 0, 0, 0], 3),
    ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0),
    ([0, 0, 0, 0, 1, 0, 1, 0, 0], 2),
    ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0),
    ([0, 1, 0, 1, 1, 1, 0, 0, 0], 4),
    ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0),
]


def test_biopsykit_pss10():
    out = sc.score(_frame("pss10", [v for v, *_ in BPK_PSS]), "pss10")
    assert out["pss10.helplessness"].tolist() == [h for _, h, _, _ in BPK_PSS]
    assert out["pss10.self_efficacy"].tolist() == [s for _, _, s, _ in BPK_PSS]
    assert out["pss10.total"].tolist() == [t for *_, t in BPK_PSS]


def test_biopsykit_cesd():
    out = sc.score(_frame("cesd", [v for v, _ in BPK_CESD]), "cesd")
    assert out["cesd.total"].tolist() == [t for _, t in BPK_CESD]
    assert out["cesd.status"].astype(str).tolist() == ["complete"] * 6


def test_biopsykit_phq9():
    out = sc.score(_frame("phq9", [v for v, _ in BPK_PHQ9]), "phq9")
    assert out["phq9.total"].tolist() == [t for _, t in BPK_PHQ9]


# BioPsyKit's RSE uses the UMD item order (1 satisfied, 2 no good at all, 3 good qualities, 4 as well as
# most, 5 not much to be proud of, 6 useless, 7 person of worth, 8 more respect, 9 failure, 10 positive
# attitude) coded 0-3; scales/rses.yaml encodes Rosenberg's 1965 / Chinese SES order coded 1-4. The same
# statements, re-placed: UMD item k -> Chinese SES item UMD_TO_SES[k]; value + 1; total + 10.
UMD_TO_SES = {1: 7, 2: 10, 3: 2, 4: 4, 5: 5, 6: 9, 7: 1, 8: 8, 9: 3, 10: 6}


def test_rses_order_mapping_maps_reverse_items_onto_each_other():
    # UMD reverse items 2, 5, 6, 8, 9 are exactly the Chinese SES reverse items 3, 5, 8, 9, 10
    assert sorted(UMD_TO_SES[k] for k in (2, 5, 6, 8, 9)) == [3, 5, 8, 9, 10]
    assert sorted(sc.load_scale("rses").spec.reverse, key=int) == ["3", "5", "8", "9", "10"]


def test_biopsykit_rses_via_item_mapping():
    rows = []
    for umd, _ in BPK_RSE:
        ses = [0] * 10
        for k, v in enumerate(umd, start=1):
            ses[UMD_TO_SES[k] - 1] = v + 1
        rows.append(ses)
    out = sc.score(_frame("rses", rows), "rses")
    assert out["rses.total"].tolist() == [t + 10 for _, t in BPK_RSE]


# ---------------------------------------------------------------------------
# FHIR implementation-guide examples
# ---------------------------------------------------------------------------

def test_mii_pro_gad7_example():
    # medizininformatik-initiative/kerndatensatzmodul-proms, commit 00b7d90af7109c47f03f7c8df0c3c59b29c42d13,
    # input/fsh/examples/mii-exa-pro-gad-7-response.fsh: LA6570-1, LA6571-9, LA6570-1, LA6569-3, LA6570-1,
    # LA6569-3, LA6570-1 (2, 3, 2, 1, 2, 1, 2); "Total score: 2+3+2+1+2+1+2 = 13 (moderate anxiety)";
    # mii-exa-pro-gad-7-observation.fsh: LOINC 70274-6 valueQuantity 13.
    out = sc.score(_frame("gad7", [[2, 3, 2, 1, 2, 1, 2]]), "gad7").iloc[0]
    assert out["gad7.total"] == 13
    assert out["gad7.total.band"] == "moderate"


def test_mii_pro_phq9_example():
    # medizininformatik-initiative/kerndatensatzmodul-proms, input/fsh/examples/mii-exa-pro-phq-9-response.fsh:
    # items PHQ.1-PHQ.9 all LA6571-9 ('Nearly every day' = 3); mii-exa-pro-phq-9-observation.fsh (commit
    # 1d334e68600af99c94133ce18a0396a337c689b8): LOINC 44261-6 total score 27.
    out = sc.score(_frame("phq9", [[3] * 9]), "phq9").iloc[0]
    assert out["phq9.total"] == 27
    assert bool(out["phq9.critical.item9"]) is True


def test_us_core_phq9_example():
    # HL7/US-Core, commit 00e6cbf78869bbb145621f8d903404e9da2bdf06,
    # input/examples/QuestionnaireResponse-phq-9-example.json: 44250-9 LA6570-1, 44255-8 LA6570-1,
    # 44259-0 LA6570-1, 44254-1 LA6570-1, 44251-7 LA6569-3, 44258-2 LA6569-3, 44252-5 LA6570-1,
    # 44253-3 LA6568-5, 44260-8 LA6568-5 -> 2,2,2,2,1,1,2,0,0; total score item 44261-6 valueDecimal 12
    # (also Observation-PHQ9-item-example-44261-6.json valueString "12").
    out = sc.score(_frame("phq9", [[2, 2, 2, 2, 1, 1, 2, 0, 0]]), "phq9").iloc[0]
    assert out["phq9.total"] == 12
    assert bool(out["phq9.critical.item9"]) is False


# ---------------------------------------------------------------------------
# Manuals' worked examples and published scoring formulas
# ---------------------------------------------------------------------------

def test_sdq_youthinmind_four_from_three_items_is_seven():
    # youthinmind, "Scoring the Strengths & Difficulties Questionnaire for age 4-17" (19 August 2014):
    # "a score of 4 based on 3 completed items can be scaled up to a score of 7 (6.67 rounded up) for 5 items."
    # Each scale is tried with 3 answered items summing to 4 (keyed) and 2 blanks.
    scale = sc.load_scale("sdq")
    spec = scale.spec
    rows = []
    for score_id in ("emotional", "conduct", "hyperactivity", "peer", "prosocial"):
        items = spec.score(score_id).items or ()
        row = dict.fromkeys(scale.items, 0.0)
        answered = list(items[:3])
        for item, keyed in zip(answered, (2, 2, 0), strict=False):
            # reverse-keyed items (0 <-> 2) take the raw answer that keys to the wanted value
            row[item] = float(2 - keyed) if item in spec.reverse else float(keyed)
        for item in items[3:]:
            row[item] = np.nan
        rows.append((score_id, [row[i] for i in scale.items]))
    out = sc.score(_frame("sdq", [r for _, r in rows]), scale)
    for k, (score_id, _) in enumerate(rows):
        assert out[f"sdq.{score_id}"].iloc[k] == 7, score_id
        assert out["sdq.status"].iloc[k] == "prorated"


def test_k10_pmhc_one_missing_all_ones_is_ten():
    # PMHC MDS notice "Notification of planned change to the K10+ scoring calculation" (pmhc-mds.com,
    # 2021-08-30; logicly-au/pmhc-mds.com commit 564713b38d3c2b9310c7e7bd1c240af734c115cd): a K10 with one
    # item missing and all others 1 scored 9 under the old rule; the new rule round(sum / 9 * 10) gives 10.
    out = sc.score(_frame("k10", [[1] * 9 + [None]]), "k10").iloc[0]
    assert out["k10.total"] == 10
    assert out["k10.status"] == "prorated"


@pytest.mark.parametrize("missing_item", [1, 6, 10])
def test_k10_pmhc_formula_for_every_possible_sum(missing_item):
    # PMHC MDS spec v4, table/measure/k10p/score.rst: "Total score = round( sum of valid item scores / 9 * 10 )"
    # when exactly one item is missing; more than one missing -> invalid. Every sum of nine 1-5 answers.
    rng = np.random.default_rng(missing_item)
    rows, expected = [], []
    for total in range(9, 46):
        answers = [1] * 9
        extra = total - 9
        for j in rng.permutation(9):
            add = min(4, extra)
            answers[j] += add
            extra -= add
        row: list[float | None] = list(answers)
        row.insert(missing_item - 1, None)
        rows.append(row)
        # the formula evaluated exactly (sum × 10 / 9 never ends in .5, so the rounding rule cannot matter)
        expected.append(int((Decimal(total * 10) / Decimal(9)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    out = sc.score(_frame("k10", rows), "k10")
    assert out["k10.total"].tolist() == expected
    two_missing = list(rows[0])
    two_missing[(missing_item % 10)] = None
    assert sc.score(_frame("k10", [two_missing]), "k10")["k10.status"].iloc[0] == "insufficient"


def test_psc17_manual_blank_rules():
    # PSC-17 Scoring Instructions (03/19/08): "Items that are left blank are simply ignored (i.e., score
    # equals 0). If four or more items are left blank, the questionnaire is considered invalid."
    # Rule checks on constructed answers (no published answer vector was found).
    three_blank = [None, None, None] + [2] * 14
    four_blank = [None, None, None, None] + [2] * 13
    out = sc.score(_frame("psc17", [three_blank, four_blank]), "psc17")
    assert out["psc17.total"].iloc[0] == 28  # the 14 answered items; blanks add 0
    assert out["psc17.total.band"].iloc[0] == "positive"  # 15 or higher
    assert np.isnan(out["psc17.total"].iloc[1])
    assert out["psc17.status"].astype(str).tolist() == ["prorated", "invalid"]
    assert out["psc17.validity.too_many_blanks"].tolist() == [False, True]
