"""FHIR exchange: published QuestionnaireResponse examples in, Observations/RiskAssessment out, round trips.

Every resource the library writes is validated against the FHIR R4B models of
``fhir.resources``. Fixture sources: ``tests/fixtures/fhir/SOURCES.md``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.riskassessment import RiskAssessment

import screening as sc
from screening._params import InvalidParameterError
from screening.fhir import to_fhir
from screening.intake import ReadError

FIX = Path(__file__).parent / "fixtures" / "fhir"
US_CORE = FIX / "us_core_phq9_response.json"
MII_GAD7 = FIX / "mii_gad7_response.json"
MII_GAD7_Q = FIX / "mii_gad7_questionnaire_items.json"
MII_PHQ9 = FIX / "mii_phq9_response.json"
SAMPLE = Path(__file__).parents[1] / "examples" / "data" / "sample_school.csv"
KEY = sc.load_key(b"a test key only, 32 bytes long!!")
MODELS = {"Observation": Observation, "RiskAssessment": RiskAssessment, "QuestionnaireResponse": QuestionnaireResponse}


def _validate(bundle: dict) -> list[dict]:
    Bundle.model_validate(bundle)
    out = []
    for e in bundle["entry"]:
        res = e["resource"]
        MODELS[res["resourceType"]].model_validate(res)
        out.append(res)
    return out


# ---------------------------------------------------------------------------
# published examples (SOURCES.md): read in, score to the published totals
# ---------------------------------------------------------------------------

def test_us_core_phq9_example_reads_by_loinc_in_linkid_and_scores_12():
    # HL7 US Core QuestionnaireResponse phq-9-example: items "/44250-9" …; total item /44261-6 valueDecimal 12.
    t = sc.read_responses(US_CORE, source="fhir", scales="phq9")
    assert t[[f"phq9_{i}" for i in range(1, 10)]].iloc[0].tolist() == [2, 2, 2, 2, 1, 1, 2, 0, 0]
    out = sc.score(t, "phq9").iloc[0]
    assert out["phq9.total"] == 12
    assert out["phq9.total.band"] == "moderate"
    assert t["respondent_id"].iloc[0] == "Patient/example"
    assert t["source"].iloc[0] == "fhir"
    assert bool(t["complete"].iloc[0]) is True
    assert t["phq9.fhir_response"].iloc[0] == "QuestionnaireResponse/phq-9-example"
    assert t["submitted_at"].iloc[0] == pd.Timestamp("2022-11-29 20:50:32.718")


def test_mii_gad7_example_reads_through_questionnaire_codes_and_scores_13():
    # MII PRO mii-exa-pro-gad-7-response: "Total score: 2+3+2+1+2+1+2 = 13 (moderate anxiety)".
    t = sc.read_responses(MII_GAD7, source="fhir", scales="gad7", dictionary=MII_GAD7_Q)
    out = sc.score(t, "gad7").iloc[0]
    assert out["gad7.total"] == 13
    assert out["gad7.total.band"] == "moderate"


def test_mii_phq9_example_reads_by_linkid_and_scores_27():
    # MII PRO mii-exa-pro-phq-9-response: all nine items LA6571-9; total 27. LinkIds carry no code.
    links = [f"phq-phq2{c}" for c in "abcdefghi"]
    t = sc.read_responses(MII_PHQ9, source="fhir", scales="phq9", columns=links)
    out = sc.score(t, "phq9").iloc[0]
    assert out["phq9.total"] == 27
    assert bool(out["phq9.critical.item9"]) is True
    same = sc.read_responses(MII_PHQ9, source="fhir", scales="phq9", columns={str(i): link for i, link in enumerate(links, 1)})
    assert same["phq9_9"].tolist() == [3.0]


def test_bundle_and_ndjson_of_both_examples_give_one_row_per_subject(tmp_path):
    us = json.loads(US_CORE.read_text(encoding="utf-8"))
    gad = json.loads(MII_GAD7.read_text(encoding="utf-8"))
    gad["subject"] = {"reference": "Patient/example"}  # the same person answered both
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": us}, {"resource": gad}]}
    q = json.loads(MII_GAD7_Q.read_text(encoding="utf-8"))
    t = sc.read_responses(bundle, source="fhir", scales=["phq9", "gad7"], dictionary=q)
    assert len(t) == 1
    assert t[[f"gad7_{i}" for i in range(1, 8)]].iloc[0].tolist() == [2, 3, 2, 1, 2, 1, 2]
    nd = tmp_path / "export.ndjson"
    nd.write_text(json.dumps(us) + "\n\n" + json.dumps(gad) + "\n", encoding="utf-8")
    t2 = sc.read_responses(nd, source="fhir", scales=["phq9", "gad7"], dictionary=q)
    pd.testing.assert_frame_equal(t.drop(columns="submitted_at"), t2.drop(columns="submitted_at"), check_like=False)


# ---------------------------------------------------------------------------
# problems are reported like other intake problems
# ---------------------------------------------------------------------------

def test_unknown_answer_code_and_bad_integer_are_reported_with_rows_not_values():
    us = json.loads(US_CORE.read_text(encoding="utf-8"))
    bad = copy.deepcopy(us)
    bad["id"] = "second"
    bad["subject"] = {"reference": "Patient/other-student-4401"}
    bad["item"][0]["answer"] = [{"valueCoding": {"system": "http://loinc.org", "code": "LA9999-9"}}]
    bad["item"][1]["answer"] = [{"valueInteger": 7}]
    with pytest.raises(ReadError) as exc:
        sc.read_responses([us, bad], source="fhir", scales="phq9")
    codes = {i.code: i for i in exc.value.issues}
    assert set(codes) == {"unknown_answer_code", "invalid_value"}
    assert codes["unknown_answer_code"].column == "phq9_1" and codes["unknown_answer_code"].rows == (1,)
    assert codes["invalid_value"].column == "phq9_2" and codes["invalid_value"].rows == (1,)
    assert "4401" not in str(exc.value) and "LA9999" not in str(exc.value)
    # on_invalid="missing": unanswered, counted, scored by the usual missing-data rule
    t = sc.read_responses([us, bad], source="fhir", scales="phq9", on_invalid="missing")
    assert t["phq9.n_unreadable"].tolist() == [0, 2]
    out = sc.score(t, "phq9")
    assert out["phq9.status"].astype(str).tolist() == ["complete", "prorated"]


def test_missing_items_blank_answers_and_duplicates():
    us = json.loads(US_CORE.read_text(encoding="utf-8"))
    # item 9 (the crisis item) never present in any response → a missing_item problem, as a missing column would be
    no9 = copy.deepcopy(us)
    no9["item"] = [it for it in no9["item"] if it["linkId"] != "/44260-8"]
    with pytest.raises(ReadError) as exc:
        sc.read_responses(no9, source="fhir", scales="phq9")
    assert exc.value.codes == ["missing_item"] and "phq9_9" in exc.value.issues[0].column
    # present but unanswered in one response → unknown, never 0; the crisis item stays unknown
    blank = copy.deepcopy(us)
    blank["id"] = "b"
    blank["subject"] = {"reference": "Patient/b"}
    blank["item"][8].pop("answer")
    t = sc.read_responses([us, blank], source="fhir", scales="phq9")
    assert np.isnan(t["phq9_9"].iloc[1])
    out = sc.score(t, "phq9")
    assert out["phq9.critical.item9"].isna().tolist() == [False, True]
    # two responses of one subject for one scale → reported
    twice = copy.deepcopy(us)
    twice["id"] = "again"
    with pytest.raises(ReadError) as exc:
        sc.read_responses([us, twice], source="fhir", scales="phq9")
    assert exc.value.codes == ["duplicate_response"]


def test_no_responses_and_bad_json(tmp_path):
    with pytest.raises(ReadError) as exc:
        sc.read_responses({"resourceType": "Patient", "id": "x"}, source="fhir", scales="phq9")
    assert exc.value.codes == ["no_responses"]
    p = tmp_path / "broken.json"
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(ReadError) as exc:
        sc.read_responses(p, source="fhir", scales="phq9")
    assert exc.value.codes == ["bad_json"]


# ---------------------------------------------------------------------------
# writing: valid R4B, pseudonymous, round trip
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample():
    df = pd.read_csv(SAMPLE, dtype={"student_id": str}).iloc[:60].copy()
    # realistic gaps: two blanks (prorated) and a skipped crisis item
    df.loc[3, ["phq9_2", "phq9_5"]] = np.nan
    df.loc[4, "phq9_9"] = np.nan
    df.loc[6, ["gad7_1", "gad7_2", "gad7_3"]] = np.nan  # insufficient
    result = sc.screen(df, scales=["phq9", "gad7"], rules="default")
    return df, result


def test_to_fhir_validates_and_is_pseudonymous(sample):
    df, result = sample
    bundle = to_fhir(result, ids=df["student_id"], key=KEY, responses=df, effective="2026-03-02")
    resources = _validate(bundle)
    kinds = pd.Series([r["resourceType"] for r in resources]).value_counts().to_dict()
    # per student: 2 responses, PHQ-9 (total, item 9, panel), GAD-7 (total, panel), 1 RiskAssessment
    assert kinds == {"QuestionnaireResponse": 120, "Observation": 300, "RiskAssessment": 60}
    text = json.dumps(bundle, ensure_ascii=False)
    assert not any(sid in text for sid in df["student_id"])
    ids = {r["subject"]["identifier"]["value"] for r in resources}
    assert ids == set(sc.pseudonymise(df["student_id"], KEY))
    total = next(r for r in resources if r["resourceType"] == "Observation"
                 and r["code"]["coding"][0]["code"] == "44261-6" and r["subject"]["identifier"]["value"]
                 == sc.pseudonymise(df["student_id"].iloc[[0]], KEY).iloc[0])
    assert total["valueQuantity"]["value"] == result.scores["phq9.total"].iloc[0]
    assert total["interpretation"][0]["coding"][0]["code"] == result.scores["phq9.total.band"].iloc[0]
    assert total["derivedFrom"][0]["reference"].startswith("urn:uuid:")
    panels = [r for r in resources if r["resourceType"] == "Observation" and "hasMember" in r]
    assert {p["code"]["coding"][0]["code"] for p in panels} == {"44249-1", "69737-5"}
    # insufficient GAD-7 and the unanswered crisis item are absent values, never 0 / False
    gad_totals = [r for r in resources if r.get("code", {}).get("coding", [{}])[0].get("code") == "70274-6"]
    assert sum("dataAbsentReason" in r for r in gad_totals) == int(result.scores["gad7.total"].isna().sum()) >= 1
    crit = [r for r in resources if r.get("code", {}).get("coding", [{}])[0].get("code") == "phq9.critical.item9"]
    assert sum("dataAbsentReason" in r for r in crit) == int(result.scores["phq9.critical.item9"].isna().sum()) >= 1


def test_round_trip_write_read_same_scores(sample):
    df, result = sample
    bundle = to_fhir(result, ids=df["student_id"], key=KEY, responses=df)
    back = sc.read_responses(bundle, source="fhir", scales=["phq9", "gad7"])
    assert back["respondent_id"].tolist() == sc.pseudonymise(df["student_id"], KEY).tolist()
    again = sc.screen(back, scales=["phq9", "gad7"], rules="default", flags=result.flags)
    cols = ["phq9.total", "phq9.total.band", "phq9.status", "phq9.critical.item9", "gad7.total", "gad7.status"]
    pd.testing.assert_frame_equal(again.scores[cols].reset_index(drop=True).astype(str),
                                  result.scores[cols].reset_index(drop=True).astype(str))
    assert again.table["tier"].astype(str).tolist() == result.table["tier"].astype(str).tolist()


def test_to_fhir_subject_choices(sample):
    df, result = sample
    with pytest.raises(InvalidParameterError, match="'ids' parameter of to_fhir"):
        to_fhir(result)
    with pytest.raises(InvalidParameterError, match="identifiable"):
        to_fhir(result, ids=df["student_id"])
    b = to_fhir(result, subjects=[f"Patient/p{i}" for i in range(len(df))], rows=[0, 5], bundle_type="transaction")
    res = _validate(b)
    assert {r["subject"]["reference"] for r in res} == {"Patient/p0", "Patient/p5"}
    assert all(e["request"]["method"] == "POST" for e in b["entry"])
    raw = to_fhir(result, ids=df["student_id"], identifiable=True, rows=[1])
    assert {r["subject"]["identifier"]["value"] for r in _validate(raw)} == {df["student_id"].iloc[1]}


def test_observations_reference_the_original_response_when_read_from_fhir():
    t = sc.read_responses(US_CORE, source="fhir", scales="phq9")
    with pytest.warns(UserWarning, match="flags not supplied"):
        result = sc.screen(t, scales=["phq9"], rules="default")
    b = to_fhir(result, subjects=t["respondent_id"], responses=t)
    res = _validate(b)
    obs = [r for r in res if r["resourceType"] == "Observation"]
    assert obs and all(r["derivedFrom"] == [{"reference": "QuestionnaireResponse/phq-9-example"}] for r in obs)
    assert not any(r["resourceType"] == "QuestionnaireResponse" for r in res)
    assert next(r for r in obs if r["code"]["coding"][0]["code"] == "44261-6")["valueQuantity"]["value"] == 12
