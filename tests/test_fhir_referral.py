"""The referral package (转介单 + Bundle), the `codes` block of the scale format and the FHIR CLI commands.

The one-A4-page check needs Chromium and a CJK font, which CI does not have; it
was done by hand (docs/fhir.md). These tests check content and privacy.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.riskassessment import RiskAssessment

import screening as sc
from screening._params import InvalidParameterError
from screening.cli import main
from screening.loading.scale_checks import parse_scale

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "examples" / "data" / "sample_school.csv"
KEY = sc.load_key(b"a test key only, 32 bytes long!!")
MODELS = {"Observation": Observation, "RiskAssessment": RiskAssessment, "QuestionnaireResponse": QuestionnaireResponse}


@pytest.fixture(scope="module")
def screened():
    df = pd.read_csv(SAMPLE, dtype={"student_id": str})
    return df, sc.screen(df, scales=["phq9", "gad7"], rules="default")


class StandInArchive:
    """Stands in for screening.archive (not on main yet): ``history(ids)`` → one row per wave with score columns."""

    def __init__(self, rows: pd.DataFrame):
        self.rows = rows
        self.asked: list[list[str]] = []

    def history(self, ids):
        self.asked.append(list(ids))
        return self.rows


def _urgent(result) -> int:
    t = result.table
    return int(t.index[t["urgent"] & (t["tier"] == "orange")][0])


def test_referral_for_an_urgent_student(screened):
    df, result = screened
    r = _urgent(result)
    sid = df["student_id"].iloc[r]
    arch = StandInArchive(pd.DataFrame({"wave": ["2025-autumn", "2026-spring"], "phq9.total": [6.0, 12.0],
                                        "gad7.total": [4.0, 9.0], "tier": ["green", "yellow"]}))
    ref = sc.referral(result, sid, ids=df["student_id"], key=KEY, archive=arch, responses=df,
                      referrer={"name": "王老师", "role": "心理健康教师"}, to="市精神卫生中心",
                      actions_taken=["已个别谈话", "已通知家长"], on="2026-03-04")
    html = ref.html
    pseudonym = sc.pseudonymise(df["student_id"].iloc[[r]], KEY).iloc[0]
    # who, why (every fired rule with its reason and source), scores with bands, trend, risk groups, actions
    assert pseudonym in html and "化名 pseudonym" in html and "机密" in html and "CONFIDENTIAL" in html
    for rule in str(result.table["rules_fired"].iloc[r]).split(";"):
        assert f"<code>{rule}</code>" in html
    assert "Kroenke" in html  # a rule's source citation
    assert f"<b>{result.scores['phq9.total'].iloc[r]:g}</b>" in html
    assert "危机" in html and "URGENT" in html
    assert "历次测评" in html and "<svg" in html and "2025-autumn" in html
    assert arch.asked == [[sid]]
    assert "王老师" in html and "市精神卫生中心" in html and "已通知家长" in html
    assert "@page { size: A4" in html
    # names no other student: no other id or pseudonym, and not the raw id either
    others = df["student_id"].drop(index=r)
    other_ps = set(sc.pseudonymise(others, KEY))
    text = html + json.dumps(ref.bundle, ensure_ascii=False)
    assert sid not in text
    assert not any(o in text for o in others) and not any(p in text for p in other_ps)
    # the Bundle: valid R4B, one subject, derived from its responses
    Bundle.model_validate(ref.bundle)
    subjects = set()
    for e in ref.bundle["entry"]:
        MODELS[e["resource"]["resourceType"]].model_validate(e["resource"])
        subjects.add(json.dumps(e["resource"]["subject"], sort_keys=True))
    assert subjects == {json.dumps({"identifier": {"system": "urn:screening:pseudonym", "value": pseudonym}},
                                   sort_keys=True)}
    risk = ref.bundle["entry"][-1]["resource"]
    assert risk["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "orange"
    assert risk["prediction"][1]["qualitativeRisk"]["coding"][0]["code"] == "urgent"
    assert "4401" not in repr(ref)


def test_referral_archive_first_and_row_positions(screened, tmp_path):
    df, result = screened
    arch = StandInArchive(pd.DataFrame({"wave": ["w1"], "phq9.total": [3.0]}))
    with pytest.raises(InvalidParameterError, match="'result' parameter of referral"):
        sc.referral(arch, 0)
    ref = sc.referral(arch, 0, result=result)  # by row position: no ids, so no archive lookup and no id anywhere
    assert "row 0" in ref.html and arch.asked == []
    assert df["student_id"].iloc[0] not in ref.html
    paths = ref.write(tmp_path)
    assert [p.name for p in paths] == ["referral.html", "referral.fhir.json"]
    with pytest.raises(InvalidParameterError, match="exactly one"):
        sc.referral(result, "no-such-student", ids=df["student_id"], key=KEY)
    with pytest.raises(InvalidParameterError, match="row position"):
        sc.referral(result, len(df))


def test_cli_referral_and_fhir(tmp_path, capsys):
    key = tmp_path / "k.key"
    key.write_text("0123456789abcdef0123456789abcdef\n", encoding="ascii")
    df = pd.read_csv(SAMPLE, dtype={"student_id": str}).iloc[:30]
    data = tmp_path / "answers.csv"
    df.to_csv(data, index=False)
    sid = df["student_id"].iloc[5]
    rc = main(["referral", str(data), "--scales", "phq9,gad7", "--student", sid, "--key-file", str(key),
               "--referrer", "王老师", "--action", "已谈话", "--date", "2026-03-04", "-o", str(tmp_path / "ref"), "-q"])
    assert rc == 0
    html = (tmp_path / "ref" / "referral.html").read_text(encoding="utf-8")
    assert sid not in html and "王老师" in html
    Bundle.model_validate(json.loads((tmp_path / "ref" / "referral.fhir.json").read_text(encoding="utf-8")))
    rc = main(["fhir", str(data), "--scales", "phq9,gad7", "--key-file", str(key), "-o", str(tmp_path / "all.json"), "-q"])
    assert rc == 0
    bundle = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    back = sc.read_responses(bundle, source="fhir", scales=["phq9", "gad7"])
    assert len(back) == 30
    assert main(["referral", str(data), "--scales", "phq9", "--student", "nobody", "-o", str(tmp_path / "x"), "-q"]) == 2
    capsys.readouterr()


# ---------------------------------------------------------------------------
# the `codes` block of the scale format
# ---------------------------------------------------------------------------

def test_shipped_codes_are_the_published_loinc_codes():
    phq = sc.load_scale("phq9").spec.codes
    assert phq is not None and phq.panel is not None and phq.panel.code == "44249-1"
    assert [phq.items[str(i)].code for i in range(1, 10)] == [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"]
    assert phq.scores["total"].code == "44261-6"
    gad = sc.load_scale("gad7").spec.codes
    assert gad is not None and gad.panel is not None and gad.panel.code == "69737-5"
    assert [gad.items[str(i)].code for i in range(1, 8)] == [
        "69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
    assert gad.scores["total"].code == "70274-6"
    for c in (phq, gad):
        assert c.answers["default"].list == "LL358-3"
        assert c.answers["default"].codes == {"LA6568-5": 0, "LA6569-3": 1, "LA6570-1": 2, "LA6571-9": 3}


def test_codes_block_is_cross_checked():
    data = yaml.safe_load((ROOT / "scales" / "gad7.yaml").read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    bad["codes"]["items"][8] = {"code": "12345-6"}
    bad["codes"]["scores"]["totl"] = {"code": "70274-6"}
    bad["codes"]["answers"]["default"]["codes"]["LA6571-9"] = 4
    bad["codes"]["answers"]["other"] = {"codes": {"LA1-1": 0}}
    bad["codes"]["panel"]["colour"] = "red"
    spec, issues = parse_scale(bad, "gad7.yaml", "gad7")
    assert spec is None
    found = {(i.code, i.path) for i in issues}
    assert ("unknown_item", "codes.items.8") in found
    assert ("unknown_score", "codes.scores.totl") in found
    assert ("duplicate_code", "codes.scores.totl") in found
    assert ("out_of_range", "codes.answers.default.codes.LA6571-9") in found
    assert ("unknown_option_set", "codes.answers.other") in found
    assert any(i.path.startswith("codes.panel") for i in issues)  # misspelt key: strict model
    # a scale without codes keeps its content hash (the block is optional and additive)
    ok, issues = parse_scale(data, "gad7.yaml", "gad7")
    assert ok is not None and not issues


def test_a_scale_without_codes_is_read_by_linkid_only():
    # K6 declares no codes: its items are found only by columns= or `k6_1`-style linkIds
    items = sc.load_scale("k6").items
    qr = {"resourceType": "QuestionnaireResponse", "status": "completed",
          "item": [{"linkId": f"k6_{i}", "answer": [{"valueInteger": 1}]} for i in items]}
    t = sc.read_responses(qr, source="fhir", scales="k6")
    assert t[[f"k6_{i}" for i in items]].iloc[0].tolist() == [1.0] * len(items)
    qr["item"][0]["answer"] = [{"valueCoding": {"system": "http://loinc.org", "code": "LA6568-5"}}]
    with pytest.raises(sc.ReadError) as exc:
        sc.read_responses(qr, source="fhir", scales="k6")
    assert exc.value.codes == ["unknown_answer_code"]


def test_phqa_has_only_panel_and_total_codes_and_round_trips_by_linkid():
    # LOINC 89206-7 panel, 89204-2 total (loinc.org/89204-2); items go out and come back by linkId `phqa_<item>`.
    scale = sc.load_scale("phqa")
    assert scale.spec.codes is not None and not scale.spec.codes.items and not scale.spec.codes.answers
    rows = [{f"phqa_{k}": v for k, v in ex.responses.items()} for ex in scale.spec.examples]
    answers = pd.DataFrame(rows, columns=scale.input_columns()).astype(float)
    answers["student_id"] = [f"s{i}" for i in range(len(answers))]
    with pytest.warns(UserWarning, match="flags not supplied"):
        result = sc.screen(answers, scales=["phqa"], rules="default")
    bundle = sc.to_fhir(result, ids=answers["student_id"], key=KEY, responses=answers)
    Bundle.model_validate(bundle)
    codes = {e["resource"]["code"]["coding"][0]["code"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"}
    assert {"89206-7", "89204-2"} <= codes
    back = sc.read_responses(bundle, source="fhir", scales="phqa")
    pd.testing.assert_series_equal(sc.score(back, "phqa")["phqa.total"], result.scores["phqa.total"].reset_index(drop=True))


def test_cli_referral_reads_fhir_responses(tmp_path, capsys):
    us = ROOT / "tests" / "fixtures" / "fhir" / "us_core_phq9_response.json"
    with pytest.warns(UserWarning, match="flags not supplied"):
        rc = main(["referral", str(us), "--source", "fhir", "--scales", "phq9", "--student", "Patient/example",
                   "--identifiable", "-o", str(tmp_path), "-q"])
    assert rc == 0
    bundle = json.loads((tmp_path / "referral.fhir.json").read_text(encoding="utf-8"))
    total = next(e["resource"] for e in bundle["entry"]
                 if e["resource"]["resourceType"] == "Observation" and e["resource"]["code"]["coding"][0]["code"] == "44261-6")
    assert total["valueQuantity"]["value"] == 12  # US Core's published total, re-scored
    assert total["derivedFrom"] == [{"reference": "QuestionnaireResponse/phq-9-example"}]
    capsys.readouterr()
