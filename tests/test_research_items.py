"""item_analysis(): per-item statistics and the reverse-key check on a scale file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import screening as sc
import screening.research as rs
from screening.loading import read_yaml

ROOT = Path(__file__).resolve().parent.parent
BFI_CSV = ROOT / "examples" / "data" / "bfi.csv"
BFI_YAML = ROOT / "examples" / "data" / "bfi.yaml"
REF = json.loads((ROOT / "tests" / "fixtures" / "research" / "psych_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    return pd.read_csv(BFI_CSV)


@pytest.fixture(scope="module")
def bfi_doc() -> dict:
    data, issues = read_yaml(BFI_YAML)
    assert not issues
    return data


def test_correct_keys_pass_and_r_rest_matches_psych(bfi):
    out = rs.item_analysis(bfi, BFI_YAML, prefix="")
    assert (out["key_check"] == "ok").all()
    assert list(out.index.get_level_values("score").unique()) == [
        "bfi.agreeableness",
        "bfi.conscientiousness",
        "bfi.extraversion",
        "bfi.neuroticism",
        "bfi.openness",
    ]
    # psych::alpha(x, keys)$item.stats$r.drop (psych 2.2.9), pairwise
    ref = REF["scales"]["conscientious"]
    got = out.loc["bfi.conscientiousness", "r_rest"].to_numpy()
    np.testing.assert_allclose(got, ref["pairwise"]["item"]["r_drop"], rtol=0, atol=1e-10)
    # reverse-keyed items run against their scale before keying
    rev = out.loc["bfi.conscientiousness"].loc[["C4", "C5"]]
    assert (rev["r_rest_unkeyed"] < 0).all()
    assert (rev["key"] == -1).all()


def test_missing_key_in_yaml_is_flagged(bfi, bfi_doc):
    # A1 ("Am indifferent to the feelings of others") is reverse-keyed in
    # psych::bfi.keys; drop it from `reverse` as a typo in a YAML file would.
    doc = dict(bfi_doc, reverse=[r for r in bfi_doc["reverse"] if r != "A1"])
    doc["examples"] = [dict(doc["examples"][0], expected={"neuroticism": 5})]  # A-score example no longer holds
    miskeyed = sc.load_scale(doc)
    out = rs.item_analysis(bfi, miskeyed, "agreeableness", prefix="")
    flagged = out.index[out["key_check"] == "suspect"].get_level_values("item").tolist()
    assert flagged == ["A1"]
    assert out.loc[("bfi.agreeableness", "A1"), "r_rest"] < 0
    assert "should A1 be reverse-keyed?" in out.loc[("bfi.agreeableness", "A1"), "hint"]


def test_superfluous_key_in_yaml_is_flagged(bfi, bfi_doc):
    doc = dict(bfi_doc, reverse=[*bfi_doc["reverse"], "N3"])
    doc["examples"] = [dict(doc["examples"][0], expected={"agreeableness": 10})]
    miskeyed = sc.load_scale(doc)
    out = rs.item_analysis(bfi, miskeyed, prefix="")
    suspect = out[out["key_check"] == "suspect"]
    assert suspect.index.tolist() == [("bfi.neuroticism", "N3")]
    assert "is N3 really reverse-keyed?" in suspect["hint"].iloc[0]


def test_plain_table_statistics_by_hand():
    x = pd.DataFrame(
        {
            "a": [1, 2, 3, 4, 5, 5, np.nan, 1],
            "b": [1, 3, 3, 4, 5, 4, 2, np.nan],
            "c": [5, 4, 3, 2, 1, 1, 4, 5],
            "d": [2, 2, 3, 4, 4, 5, 1, 1],
        }
    )
    out = rs.item_analysis(x)
    a = out.loc[("items", "a")]
    assert a["n"] == 7
    assert a["missing_rate"] == pytest.approx(1 / 8)
    assert a["mean"] == pytest.approx(x["a"].mean())
    assert a["sd"] == pytest.approx(x["a"].std(ddof=1))
    # without a scale, floor and ceiling are the smallest and largest value in the table (1 and 5)
    assert a["floor"] == pytest.approx(2 / 7)
    assert a["ceiling"] == pytest.approx(2 / 7)
    # c runs against a and b: flagged unless declared reverse-keyed
    assert out["key_check"].tolist() == ["ok", "ok", "suspect", "ok"]
    fixed = rs.item_analysis(x, reverse=["c"])
    assert fixed["key_check"].tolist() == ["ok", "ok", "ok", "ok"]
    # with complete data the keyed item–rest r is the plain Pearson r with the rest sum
    full = x.dropna()
    keyed = full.assign(c=6 - full["c"])
    got = rs.item_analysis(full, reverse=["c"]).loc[("items", "b"), "r_rest"]
    rest = keyed["a"] + keyed["c"] + keyed["d"]
    assert got == pytest.approx(np.corrcoef(keyed["b"], rest)[0, 1], abs=1e-12)


def test_floor_and_ceiling_use_the_option_set(fixture_scale_path):
    fx = sc.load_scale(fixture_scale_path)
    rng = np.random.default_rng(3)
    df = pd.DataFrame({c: rng.integers(0, 2, 50).astype(float) for c in fx.input_columns()})
    df["fixture_full_a1"] = [0.0] * 10 + [1.0] * 40  # never reaches the top option (3)
    out = rs.item_analysis(df, fx, "a")
    assert out.loc[("fixture_full.a", "a1"), "floor"] == pytest.approx(0.2)
    assert out.loc[("fixture_full.a", "a1"), "ceiling"] == 0.0


def test_min_rest_r_threshold_and_errors(bfi):
    out = rs.item_analysis(bfi, BFI_YAML, "openness", prefix="", min_rest_r=0.3)
    low = out[out["key_check"] == "suspect"].index.get_level_values("item").tolist()
    assert low == out.index[out["r_rest"] < 0.3].get_level_values("item").tolist()
    assert low  # O4 (r.drop ≈ 0.23 in psych) is below 0.3
    with pytest.raises(ValueError, match=r"The 'min_rest_r' parameter of item_analysis must be .* Got 2 instead\."):
        rs.item_analysis(bfi, BFI_YAML, prefix="", min_rest_r=2)
    with pytest.raises(ValueError, match=r"The 'reverse' parameter of item_analysis must be None when a scale"):
        rs.item_analysis(bfi, BFI_YAML, prefix="", reverse=["A1"])
    with pytest.raises(TypeError, match=r"The 'data' parameter of item_analysis must be a pandas DataFrame"):
        rs.item_analysis([1, 2, 3])
