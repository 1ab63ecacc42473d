"""Loading: broken scale files report every problem, with YAML path, code and hint."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
import yaml

import screening as sc
from screening.loading import parse_scale, read_yaml

PHQ9 = Path(__file__).resolve().parent.parent / "scales" / "phq9.yaml"


@pytest.fixture
def phq9_data() -> dict:
    data, issues = read_yaml(PHQ9)
    assert not issues
    return copy.deepcopy(data)


def _load(tmp_path: Path, data: dict, name: str = "phq9.yaml") -> sc.SpecError:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(p)
    return info.value


def test_three_separate_mistakes_reported_together(tmp_path, phq9_data):
    phq9_data["scores"][0]["methd"] = "sum"  # misspelt key
    phq9_data["reverse"] = ["10"]  # reverse key on an unknown item
    bands = phq9_data["scores"][0]["bands"]["sets"]["kroenke2001"]["bands"]
    bands[1]["ge"] = 6  # gap between minimal (<5) and mild (>=6)
    err = _load(tmp_path, phq9_data)
    by_code = {i.code: i for i in err.issues}
    assert set(by_code) >= {"unknown_key", "unknown_item", "band_gap"}
    assert by_code["unknown_key"].path == "scores[0].methd"
    assert "method" in by_code["unknown_key"].hint
    assert by_code["unknown_item"].path == "reverse[0]"
    assert by_code["band_gap"].path == "scores[0].bands.sets.kroenke2001.bands"
    assert all(i.file.endswith("phq9.yaml") for i in err.issues)
    text = str(err)
    assert "3 problems" in text or f"{len(err.issues)} problems" in text


def test_misspelt_item_id_gets_did_you_mean(tmp_path, phq9_data):
    phq9_data["critical"][0]["item"] = "99"
    err = _load(tmp_path, phq9_data)
    (issue,) = [i for i in err.issues if i.code == "unknown_item"]
    assert issue.path == "critical[0].item"
    assert "9" in issue.hint


def test_overlapping_bands(tmp_path, phq9_data):
    bands = phq9_data["scores"][0]["bands"]["sets"]["kroenke2001"]["bands"]
    bands[0] = {**bands[0], "lt": None, "le": 5}
    del bands[0]["lt"]
    err = _load(tmp_path, phq9_data)
    assert "band_overlap" in err.codes


def test_integer_style_bands_are_a_gap_with_hint(tmp_path, phq9_data):
    bands = phq9_data["scores"][0]["bands"]["sets"]["kroenke2001"]["bands"]
    del bands[0]["lt"]
    bands[0]["le"] = 4
    err = _load(tmp_path, phq9_data)
    (issue,) = [i for i in err.issues if i.code == "band_gap"]
    assert "lt: 5" in issue.hint


def test_band_not_covering_range(tmp_path, phq9_data):
    bands = phq9_data["scores"][0]["bands"]["sets"]["kroenke2001"]["bands"]
    bands[-1]["le"] = 26
    err = _load(tmp_path, phq9_data)
    assert any(i.code == "band_gap" and "27" in i.message for i in err.issues)


def test_example_that_does_not_score_as_stated(tmp_path, phq9_data):
    phq9_data["examples"][0]["expected"]["total"] = 26
    err = _load(tmp_path, phq9_data)
    (issue,) = err.issues
    assert issue.code == "example_mismatch"
    assert issue.path == "examples[0].expected.total"


def test_score_item_unknown_and_duplicate(tmp_path, phq9_data):
    phq9_data["scores"][0]["items"] = [1, 2, 3, 4, 5, 6, 7, 8, 8, 19]
    err = _load(tmp_path, phq9_data)
    codes = err.codes
    assert "unknown_item" in codes and "duplicate_id" in codes


def test_missing_required_and_wrong_types(tmp_path, phq9_data):
    del phq9_data["license"]
    phq9_data["option_sets"]["default"][0]["value"] = "zero"
    err = _load(tmp_path, phq9_data)
    paths = {i.path for i in err.issues}
    assert "license" in paths
    assert "option_sets.default[0].value" in paths


def test_licence_forbids_text(tmp_path, phq9_data):
    phq9_data["license"] = {"verdict": "key_only", "text_redistributable": False, "attribution": "x y z"}
    err = _load(tmp_path, phq9_data)
    assert err.codes.count("text_not_allowed") == 9


def test_id_must_match_file_name(tmp_path, phq9_data):
    err = _load(tmp_path, phq9_data, name="other.yaml")
    assert "id_mismatch" in err.codes


def test_empty_and_non_mapping_files(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(empty)
    assert info.value.codes == ["empty_file"]
    lst = tmp_path / "list.yaml"
    lst.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(lst)
    assert info.value.codes == ["not_a_mapping"]


def test_duplicate_yaml_keys_are_errors(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text("kind: scale\nid: a\nid: b\n", encoding="utf-8")
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(p)
    assert info.value.codes == ["yaml_syntax"]
    assert "duplicate key 'id'" in str(info.value)


def test_python_tags_are_not_constructed(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("kind: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(p)
    assert info.value.codes == ["yaml_syntax"]


def test_unknown_builtin_suggests(tmp_path):
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale("phq")
    assert "phq9" in info.value.issues[0].hint


def test_error_is_picklable_and_tabular(tmp_path, phq9_data):
    phq9_data["titel"] = {"en": "x"}
    err = _load(tmp_path, phq9_data)
    again = pickle.loads(pickle.dumps(err))
    assert again.codes == err.codes
    frame = err.to_frame()
    assert list(frame.columns)[:3] == ["code", "message", "file"]
    assert "title" in frame.loc[0, "hint"]


def test_parse_scale_returns_spec_for_valid_data(phq9_data):
    spec, issues = parse_scale(phq9_data, file="x", stem="phq9")
    assert issues == []
    assert spec is not None and spec.id == "phq9"


def test_examples_can_check_a_named_band_set(tmp_path, phq9_data):
    ex = phq9_data["examples"][2]  # total 10
    ex["expected"]["total.band@tsai2014_cn_adolescent"] = "positive"  # wrong: 10 is below the Taiwanese cut-off 15
    err = _load(tmp_path, phq9_data)
    (issue,) = err.issues
    assert issue.code == "example_mismatch" and issue.path == "examples[2].expected.total.band@tsai2014_cn_adolescent"
    ex["expected"]["total.band@tsai2014_cn_adolescent"] = "below_cutoff"
    ex["expected"]["total.band@taiwan"] = "below_cutoff"  # no such band set
    err = _load(tmp_path, phq9_data)
    assert err.codes == ["unknown_output"]


def test_norm_outputs_cannot_be_expected_without_groups(tmp_path, phq9_data):
    phq9_data["examples"][0]["expected"]["total.t"] = 50  # would never be checked, so it is refused
    err = _load(tmp_path, phq9_data)
    assert err.codes == ["unknown_output"]
