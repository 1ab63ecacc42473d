"""Hostile and careless inputs each end in a library error naming where (or in a correct result).

One test per reproducer of the hostile-input review of issue 12; each asserts the
error class, its machine code and its location, so a regression to a raw Python
exception (RecursionError, TypeError, KeyError, ParserError …) fails here.
"""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import screening as sc
from screening.loading import read_yaml
from screening.tiering.expr import MAX_DEPTH, ExprSyntaxError, parse

ROOT = Path(__file__).resolve().parent.parent


def _phq9() -> dict:
    data, issues = read_yaml(ROOT / "scales" / "phq9.yaml")
    assert not issues
    return copy.deepcopy(data)


def _rules() -> dict:
    data, issues = read_yaml(ROOT / "tiering_rules" / "default.yaml")
    assert not issues
    return copy.deepcopy(data)


def _frame(n: int = 2, scales: tuple[str, ...] = ("phq9",)) -> pd.DataFrame:
    sizes = {"phq9": 9, "gad7": 7}
    return pd.DataFrame({f"{s}_{k}": [k % 4 for _ in range(n)] for s in scales for k in range(1, sizes[s] + 1)})


# --- recursion depth ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["(" * 1000 + "x" + ")" * 1000, "not " * 1000 + "x", "(" * 5000])
def test_deep_condition_is_a_syntax_error_with_position(text: str) -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert "levels deep" in str(info.value)
    assert 0 < info.value.pos <= 4 * (MAX_DEPTH + 1)


def test_nesting_up_to_the_bound_still_parses() -> None:
    node = parse("(" * (MAX_DEPTH - 1) + "not x" + ")" * (MAX_DEPTH - 1))
    assert node is not None


def test_deep_condition_in_a_rule_file_is_a_rule_error() -> None:
    data = _rules()
    data["rules"][0]["when"] = "(" * 1000 + "bullied" + ")" * 1000
    with pytest.raises(sc.RuleError) as info:
        sc.load_rules(data)
    assert info.value.codes == ["syntax_error"]
    assert info.value.issues[0].path == "rules[0].when"


def test_deeply_nested_yaml_is_a_spec_error_with_file(tmp_path: Path) -> None:
    p = tmp_path / "deep.yaml"
    p.write_text("kind: scale\nid: deep\nitems: " + "[" * 20000, encoding="utf-8")
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(p)
    issue = info.value.issues[0]
    assert issue.code == "too_deep" and issue.file == str(p.resolve()) and issue.path.startswith("line 3")


def test_unhashable_yaml_key_is_a_spec_error(tmp_path: Path) -> None:
    p = tmp_path / "keys.yaml"
    p.write_text("kind: scale\n? [a, b]\n: 1\n", encoding="utf-8")
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(p)
    assert info.value.codes == ["yaml_syntax"]
    assert "line 2" in info.value.issues[0].path


# --- worked examples --------------------------------------------------------------------------------------


def test_example_expecting_a_number_for_a_band_is_a_mismatch() -> None:
    data = _phq9()
    data["examples"][0]["expected"]["total.band"] = 3
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(data)
    assert info.value.codes == ["example_mismatch"]
    assert info.value.issues[0].path == "examples[0].expected.total.band"


def test_example_naming_an_unknown_output_is_a_spec_error() -> None:
    data = _phq9()
    data["examples"][0]["expected"]["no_such_output"] = 3
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(data)
    assert info.value.codes == ["unknown_output"]


# --- CSV ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ['title\na,b,c\n1,"2\n3,4,5\n', 'title\na,b\n1,2,"x"y\n'])
def test_unparseable_csv_is_a_read_error_with_file_and_line(tmp_path: Path, text: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_bytes(text.encode("utf-8"))
    with pytest.raises(sc.errors.ResponseError) as info:
        sc.read_responses(p)
    issue = info.value.issues[0]
    assert issue.code == "csv_syntax" and issue.file == str(p) and issue.path.startswith("line ")


def test_bare_carriage_returns_end_rows(tmp_path: Path) -> None:
    p = tmp_path / "mac.csv"
    p.write_bytes(b"title\rstudent_id,a,b,c\r1,2,3,4\r2,5,6,7\r")
    table = sc.read_responses(p)
    assert table["respondent_id"].tolist() == ["1", "2"]
    assert table["c"].tolist() == [4, 7]


# --- frames given to score/screen -------------------------------------------------------------------------


def test_integer_column_labels_are_read_as_their_text() -> None:
    df = _frame()
    want = sc.score(df, "phq9")["phq9.total"].tolist()
    ints = df.set_axis(range(1, 10), axis=1)
    assert sc.score(ints, "phq9", prefix="")["phq9.total"].tolist() == want
    assert sc.score(ints, "phq9", columns={str(k): k for k in range(1, 10)})["phq9.total"].tolist() == want


def test_integer_and_text_label_of_the_same_column_is_a_duplicate() -> None:
    df = _frame().set_axis(range(1, 10), axis=1)
    df["1"] = 0
    with pytest.raises(sc.ResponseError) as info:
        sc.score(df, "phq9", prefix="")
    assert info.value.codes == ["duplicate_column"] and info.value.issues[0].column == "1"


def test_one_column_feeding_two_items_is_an_error() -> None:
    with pytest.raises(sc.ResponseError) as info:
        sc.score(_frame(), "phq9", columns={"2": "phq9_1"})
    assert info.value.codes == ["column_reused"] and info.value.issues[0].column == "phq9_1"


def test_duplicated_flag_column_is_a_response_error() -> None:
    df = _frame()
    df["bullied"] = [True, False]
    df = pd.concat([df, df[["bullied"]]], axis=1)
    with pytest.raises(sc.ResponseError) as info:
        sc.screen(df, scales=["phq9"], flags=["bullied"])
    assert info.value.codes == ["duplicate_column"] and info.value.issues[0].column == "bullied"


def test_complex_answers_are_invalid_not_their_real_part() -> None:
    df = _frame().astype(complex)
    df.loc[0, "phq9_1"] = 1 + 5j
    with pytest.raises(sc.ResponseError) as info:
        sc.score(df, "phq9")
    issue = info.value.issues[0]
    assert issue.column == "phq9_1" and issue.rows == (0,)
    out = sc.score(df, "phq9", on_invalid="missing")
    assert out["phq9.n_invalid"].tolist() == [1, 0]
    assert out.loc[1, "phq9.total"] == sc.score(_frame(), "phq9").loc[1, "phq9.total"]


def test_all_scales_problems_reported_at_once() -> None:
    df = _frame(scales=("phq9", "gad7"))
    df["phq9_1"] = 7
    df["gad7_2"] = 9
    with pytest.raises(sc.ResponseError) as info:
        sc.score(df, ["phq9", "gad7"])
    assert {i.column for i in info.value.issues} == {"phq9_1", "gad7_2"}


@pytest.mark.parametrize("n", [0, 1])
def test_repr_of_small_and_empty_results(n: int) -> None:
    df = _frame(n, ("phq9",)).assign(bullied=pd.Series([True] * n, dtype=object))
    with pytest.warns(UserWarning, match="not supplied"):
        res = sc.screen(df, scales=["phq9"], flags=["bullied"])
    assert repr(res).startswith(f"<ScreeningResult: {n} students")
    html = res._repr_html_()
    assert "ScreeningResult" in html and "—" in html


# --- spec values ---------------------------------------------------------------------------------------------


def test_nan_option_value_is_rejected(tmp_path: Path) -> None:
    text = (ROOT / "scales" / "phq9.yaml").read_text(encoding="utf-8")
    assert "{value: 0," in text
    p = tmp_path / "phq9.yaml"
    p.write_text(text.replace("{value: 0,", "{value: .nan,", 1), encoding="utf-8")
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(p)
    assert info.value.codes == ["invalid_value"]
    assert info.value.issues[0].path.endswith(".value")


def test_infinite_hours_per_month_is_rejected() -> None:
    data = _rules()
    key = next(iter(data["actions"]))
    data["actions"][key][0]["hours_per_month"] = math.inf
    with pytest.raises(sc.RuleError) as info:
        sc.load_rules(data)
    assert info.value.issues[0].path == f"actions.{key}[0].hours_per_month"


@pytest.mark.parametrize("tier", ["urgent", "rescreen"])
def test_tier_named_like_an_action_key_is_rejected(tier: str) -> None:
    data = _rules()
    data["tiers"].append({"id": tier, "label": {"en": "x"}, "colour": "#000000"})
    with pytest.raises(sc.RuleError) as info:
        sc.load_rules(data)
    assert "reserved_id" in info.value.codes
    assert any(i.path == f"tiers[{len(data['tiers']) - 1}].id" for i in info.value.issues)


@pytest.mark.parametrize("flag", ["and", "or", "not", "in", "true", "false"])
def test_flag_named_like_a_keyword_is_rejected(flag: str) -> None:
    data = _rules()
    data["flags"].append({"id": flag, "label": {"en": "x"}})
    with pytest.raises(sc.RuleError) as info:
        sc.load_rules(data)
    assert info.value.codes == ["reserved_id"]


def test_rule_file_reports_schema_and_syntax_problems_together() -> None:
    data = _rules()
    data["tiers"][0]["colour"] = "green"
    data["rules"][1]["when"] = "(("
    data["rules"][2]["when"] = "phq9.totl >= 3"
    with pytest.raises(sc.RuleError) as info:
        sc.load_rules(data)
    assert sorted(info.value.codes) == ["invalid_value", "syntax_error", "unknown_name"]
    assert {i.path for i in info.value.issues} == {"tiers[0].colour", "rules[1].when", "rules[2].when"}
    assert "did you mean 'phq9.total'" in str(info.value)


# --- ids -----------------------------------------------------------------------------------------------------


def test_excel_rounded_ids_are_an_error_naming_column_and_rows(tmp_path: Path) -> None:
    df = _frame(3)
    df.insert(0, "student_id", ["440106200901010011", "4.40106E+18", "4.40106E+18"])
    p = tmp_path / "ids.csv"
    df.to_csv(p, index=False)
    with pytest.raises(sc.errors.ResponseError) as info:
        sc.read_responses(p, scales="phq9")
    issue = info.value.issues[0]
    assert issue.code == "id_precision_lost" and issue.column == "student_id" and issue.rows == (1, 2)
    assert "4.40106" not in str(info.value)


def test_exact_text_ids_still_read(tmp_path: Path) -> None:
    df = _frame(2)
    df.insert(0, "student_id", ["440106200901010011", "E2024"])
    p = tmp_path / "ids.csv"
    df.to_csv(p, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = sc.read_responses(p, scales="phq9")
    assert table["respondent_id"].tolist() == ["440106200901010011", "E2024"]
    assert np.array_equal(table["phq9_9"].to_numpy(), df["phq9_9"].to_numpy(dtype=float))


def test_yaml_read_with_the_shipped_files_stays_below_the_depth_bound() -> None:
    for p in [*(ROOT / "scales").glob("*.yaml"), *(ROOT / "tiering_rules").glob("*.yaml")]:
        _, issues = read_yaml(p)
        assert issues == [], p
    assert yaml.safe_load("a: " + "[" * 10 + "]" * 10) == {"a": [[[[[[[[[[]]]]]]]]]]}


def test_alias_equal_to_another_options_label_is_rejected() -> None:
    data = _phq9()
    data["option_sets"]["default"][1]["aliases"] = ["  not AT all "]  # folds to option 0's English label
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(data)
    assert info.value.codes == ["label_collision"]  # one check for it (screening/loading/scale_checks.py)
    assert info.value.issues[0].path.startswith("option_sets.default[1]")


def test_an_alias_repeating_its_own_label_is_harmless() -> None:
    data = _phq9()
    data["option_sets"]["default"][0]["aliases"] = ["Not at all", "没有"]
    assert sc.load_scale(data).id == "phq9"


def test_a_score_without_items_is_rejected_at_load() -> None:
    # found by the fuzz suite: `items: []` validated, then the kernel failed with an IndexError
    data = _phq9()
    data["scores"][0]["items"] = []
    with pytest.raises(sc.SpecError) as info:
        sc.load_scale(data)
    assert "empty_score" in info.value.codes
    assert any(i.path == "scores[0]" for i in info.value.issues)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_huge_floats_are_invalid_without_overflow_warnings(n_jobs: int) -> None:
    # found by the fuzz suite: 1.99e307 in a float column overflowed the kernel's sums (RuntimeWarning)
    df = _frame(4).astype(float)
    df.loc[3, "phq9_3"] = 1.997437e307
    df.loc[3, "phq9_4"] = 1.7e308
    with pytest.raises(sc.ResponseError) as info:
        sc.score(df, "phq9", n_jobs=n_jobs, chunk_size=1)
    assert {i.column for i in info.value.issues} == {"phq9_3", "phq9_4"}
    out = sc.score(df, "phq9", on_invalid="missing", n_jobs=n_jobs, chunk_size=1)
    assert out["phq9.n_invalid"].tolist() == [0, 0, 0, 2]
