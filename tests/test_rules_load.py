"""Loading rule sets: every problem at once, with paths and suggestions; code is never run."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

import screening as sc
from screening.loading import read_yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def default_data() -> dict:
    data, issues = read_yaml(ROOT / "tiering_rules" / "default.yaml")
    assert not issues
    return copy.deepcopy(data)


def _fail(tmp_path: Path, data: dict, name: str = "default.yaml") -> sc.RuleError:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(sc.RuleError) as info:
        sc.load_rules(p)
    return info.value


def test_builtin_rule_sets_load():
    assert sc.list_rules() == ["default", "four_level"]
    assert sc.load_rules("default").tiers == ["green", "yellow", "orange"]
    assert sc.load_rules("four_level").tiers == ["green", "yellow", "orange", "red"]


def test_misspelt_score_name_suggests(tmp_path, default_data):
    default_data["rules"][0]["when"] = "phq9.totl >= 10"
    err = _fail(tmp_path, default_data)
    (issue,) = err.issues
    assert issue.code == "unknown_name" and issue.path == "rules[0].when"
    assert "phq9.total" in issue.hint


def test_python_code_is_a_syntax_error_not_executed(tmp_path, default_data):
    marker = tmp_path / "pwned"
    default_data["rules"][0]["when"] = f"__import__('os').system('touch {marker}')"
    default_data["rules"][1]["when"] = "phq9.total >= 15 or eval('1')"
    err = _fail(tmp_path, default_data)
    assert [i.code for i in err.issues] == ["syntax_error", "syntax_error"]
    assert not marker.exists()


def test_many_problems_reported_together(tmp_path, default_data):
    default_data["rules"][0]["tier"] = "yelow"                      # unknown tier
    default_data["rules"][1]["when"] = "phq9.total >= 28"           # unreachable (max 27)
    default_data["rules"][2]["when"] = "gad7.total.band >= 10"      # type mismatch
    default_data["critical_items"]["tier"] = "green"                # critical left in lowest tier
    del default_data["actions"]["rescreen"]                         # missing actions
    default_data["actions"]["orange"][0]["roles"].append("headmaster")  # unknown role
    err = _fail(tmp_path, default_data)
    codes = sorted(err.codes)
    assert codes == sorted(["unknown_tier", "unreachable_rule", "type_mismatch", "critical_lowest_tier",
                            "missing_actions", "unknown_role"])
    by = {i.code: i for i in err.issues}
    assert "yellow" in by["unknown_tier"].hint
    assert by["unreachable_rule"].path == "rules[1].when"


def test_unknown_keys_and_structure(tmp_path, default_data):
    default_data["rules"][0]["whne"] = default_data["rules"][0].pop("when")
    default_data["tierz"] = []
    err = _fail(tmp_path, default_data)
    paths = {i.path: i for i in err.issues}
    assert "when" in paths["rules[0].whne"].hint
    assert "tiers" in paths["tierz"].hint


def test_silent_green_for_missing_data_rejected(tmp_path, default_data):
    default_data["data_quality"]["insufficient"] = {"tier": "green", "rescreen": False, "reason": {"en": "x"}}
    err = _fail(tmp_path, default_data)
    assert err.codes == ["silent_lowest_tier"]


def test_rule_effects_validated(tmp_path, default_data):
    default_data["rules"][0] = {"id": "x", "when": "bullied", "reason": {"en": "x"}}
    err = _fail(tmp_path, default_data)
    assert "needs an effect" in str(err)


def test_lowest_tier_rule_has_no_effect(tmp_path, default_data):
    default_data["rules"][0]["tier"] = "green"
    err = _fail(tmp_path, default_data)
    assert err.codes == ["no_effect"]


def test_unknown_scale_in_condition(tmp_path, default_data):
    default_data["rules"][0]["when"] = "phq.total >= 10"
    err = _fail(tmp_path, default_data)
    assert err.codes == ["unknown_scale"] and "phq9" in err.issues[0].hint


def test_extra_scales_relative_to_file(tmp_path, default_data, fixture_scale_path):
    (tmp_path / "scales").mkdir()
    (tmp_path / "scales" / "fixture_full.yaml").write_text(fixture_scale_path.read_text(encoding="utf-8"), encoding="utf-8")
    default_data["id"] = "custom"
    default_data["extra_scales"] = {"fixture_full": "scales/fixture_full.yaml"}
    default_data["rules"].append({"id": "fx", "when": "fixture_full.a.band == 'high'", "tier": "orange",
                                  "reason": {"en": "fixture high"}})
    p = tmp_path / "custom.yaml"
    p.write_text(yaml.safe_dump(default_data, allow_unicode=True), encoding="utf-8")
    rs = sc.load_rules(p)
    assert "fixture_full" in rs.scales


def test_rule_set_from_mapping_and_repr(default_data):
    rs = sc.load_rules(default_data)
    assert rs.id == "default" and "green < yellow < orange" in repr(rs)
    assert rs.content_hash == sc.load_rules("default").content_hash
    assert "<table>" in rs._repr_html_()


def test_unknown_builtin_rules():
    with pytest.raises(sc.RuleError) as info:
        sc.load_rules("defualt")
    assert "default" in info.value.issues[0].hint
