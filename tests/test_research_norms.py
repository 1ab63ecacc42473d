"""build_norms(): percentile and T tables by group, and their round trip through a scale file into score()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

import screening as sc
import screening.research as rs
from screening.research.norms import percentile_rank

ROOT = Path(__file__).resolve().parent.parent
BFI_CSV = ROOT / "examples" / "data" / "bfi.csv"
BFI_YAML = ROOT / "examples" / "data" / "bfi.yaml"


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    return pd.read_csv(BFI_CSV)


@pytest.fixture(scope="module")
def n_norms(bfi):
    return rs.build_norms(bfi, BFI_YAML, "neuroticism", by=["gender"], prefix="", population="SAPA web sample")


def test_round_trip_changes_score_t_output(bfi, n_norms, tmp_path):
    before = sc.score(bfi, BFI_YAML, prefix="")
    assert "bfi.neuroticism.t" not in before.columns  # the bundled file has no norms
    text = n_norms.to_scale_yaml(name="sapa_gender")
    path = tmp_path / "bfi.yaml"  # a scale file is named after its id
    path.write_text(text, encoding="utf-8")
    normed = sc.load_scale(path)
    assert normed.spec.norms is not None
    assert normed.spec.norms.default == "sapa_gender"
    out = sc.score(bfi, normed, prefix="")
    assert out["bfi.neuroticism"].equals(before["bfi.neuroticism"])  # raw scores unchanged
    t, pct = out["bfi.neuroticism.t"], out["bfi.neuroticism.pct"]
    scored = out["bfi.neuroticism"].notna()
    assert t[scored].notna().all()
    # every student's T is the table row of their group at their raw score
    table = n_norms.table.assign(gender=n_norms.table["gender"].astype(int))
    merged = pd.DataFrame({"gender": bfi["gender"], "raw": out["bfi.neuroticism"]})[scored].merge(
        table, on=["gender", "raw"], how="left"
    )
    np.testing.assert_allclose(t[scored].to_numpy(), merged["t"].round(2).to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(pct[scored].to_numpy(), merged["percentile"].round(2).to_numpy(), rtol=0, atol=1e-9)
    # the same raw score means a different T for men (1) and women (2): the groups are applied
    at16 = out[(out["bfi.neuroticism"] == 16)].groupby(bfi["gender"])["bfi.neuroticism.t"].first()
    assert at16[1] > at16[2]
    # and norms=None switches them off again
    assert "bfi.neuroticism.t" not in sc.score(bfi, normed, prefix="", norms=None).columns


def test_normalised_t_is_area_transformation(bfi, n_norms):
    # Independent check with scipy: mid-point percentile rank = percentileofscore(kind="mean")
    women = sc.score(bfi, BFI_YAML, prefix="")["bfi.neuroticism"][bfi["gender"] == 2].dropna().to_numpy()
    tab = n_norms.table[n_norms.table["gender"] == "2"]
    for raw, pr, t in tab[["raw", "percentile", "t_normalised"]].itertuples(index=False):
        assert pr == pytest.approx(stats.percentileofscore(women, raw, kind="mean"), abs=1e-10)
        assert t == pytest.approx(50 + 10 * stats.norm.ppf(pr / 100), abs=1e-10)
    lin = tab["t_linear"].to_numpy()
    np.testing.assert_allclose(lin, 50 + 10 * (tab["raw"] - women.mean()) / women.std(ddof=1), rtol=0, atol=1e-10)
    g = n_norms.groups.set_index("gender")
    assert g.loc["2", "n"] == len(women)
    assert not g["small"].any()
    assert n_norms.n_used + n_norms.n_excluded == len(bfi)


def test_percentile_rank_definition():
    x = np.array([1, 2, 2, 3, 5], dtype=float)
    # PR(2) = (1 below + ½·2 at) / 5 = 40 ; PR(4) (unseen) = 4 below / 5 = 80
    np.testing.assert_allclose(percentile_rank(x, np.array([2.0, 4.0])), [40.0, 80.0])


def test_whole_number_scores_get_every_row_between_min_and_max():
    ref = pd.DataFrame({"total": [2, 2, 5, 7, 7, 7]})
    nb = rs.build_norms(ref, score="total", min_group_n=2)
    assert nb.table["raw"].tolist() == [2, 3, 4, 5, 6, 7]
    rows = nb.norm_set.groups[0].rows
    assert rows is not None
    assert [r[0] for r in rows] == [2, 3, 4, 5, 6, 7]
    # an unseen score (3) sits above the 2 people at 2: PR = 2/6
    assert nb.table.loc[nb.table["raw"] == 3, "percentile"].iloc[0] == pytest.approx(100 * 2 / 6)


def test_linear_norms_round_trip(bfi):
    nb = rs.build_norms(bfi, BFI_YAML, "extraversion", by=["gender"], method="linear", prefix="")
    doc = nb.to_scale_dict(name="lin")
    group = doc["norms"]["sets"]["lin"]["groups"][0]
    assert set(group) == {"match", "n", "mean", "sd"}
    out = sc.score(bfi, sc.load_scale(doc), prefix="")
    g = nb.groups.set_index("gender")
    men = (bfi["gender"] == 1) & out["bfi.extraversion"].notna()
    expect = 50 + 10 * (out.loc[men, "bfi.extraversion"] - round(g.loc["1", "mean"], 4)) / round(g.loc["1", "sd"], 4)
    np.testing.assert_allclose(out.loc[men, "bfi.extraversion.t"], expect, rtol=0, atol=1e-9)
    assert out["bfi.extraversion.pct"].isna().all()  # a linear T gives no percentile


def test_small_groups_warn_and_threshold_is_configurable(bfi):
    young = bfi.assign(band=np.where(bfi["age"] < 14, "under_14", "14_plus"))
    with pytest.warns(rs.SmallNormGroupWarning, match=r"band=under_14 .* fewer than min_group_n=100"):
        nb = rs.build_norms(young, BFI_YAML, "openness", by=["band"], prefix="")
    assert nb.groups.set_index("band").loc["under_14", "small"]
    # a lower threshold: no warning (warnings are errors in this test suite)
    nb2 = rs.build_norms(young, BFI_YAML, "openness", by=["band"], prefix="", min_group_n=5)
    assert not nb2.groups["small"].any()


def test_yaml_text_is_safe_plain_and_keeps_file_content(n_norms):
    text = n_norms.to_scale_yaml(name="sapa_gender")
    assert "&id" not in text
    assert "!!python" not in text
    doc = yaml.safe_load(text)
    assert doc["reverse"] == ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]
    assert doc["norms"]["sets"]["sapa_gender"]["population"] == "SAPA web sample"
    assert doc["norms"]["sets"]["sapa_gender"]["by"] == ["gender"]
    block = n_norms.norms_block("x", default=False)
    assert list(block) == ["sets"]


def test_existing_set_and_bad_names(n_norms):
    doc = n_norms.to_scale_dict(name="sapa")
    with pytest.raises(
        ValueError, match=r"The 'name' parameter of NormsBuild.to_scale_dict must be a new norm set name"
    ):
        n_norms.to_scale_dict(doc, name="sapa")
    again = n_norms.to_scale_dict(doc, name="sapa", replace=True)
    assert list(again["norms"]["sets"]) == ["sapa"]
    with pytest.raises(ValueError, match=r"The 'name' parameter of NormsBuild must be a lower_snake_case name"):
        n_norms.to_scale_yaml(name="Local 2025")
    with pytest.raises(
        ValueError, match=r"The 'scale' parameter of NormsBuild.to_scale_dict must be a scale with the score"
    ):
        n_norms.to_scale_dict("phq9")


def test_norms_from_a_score_column(bfi):
    scores = sc.score(bfi, BFI_YAML, prefix="")
    frame = scores.assign(gender=bfi["gender"])
    nb = rs.build_norms(frame, score="bfi.neuroticism", by=["gender"])
    assert nb.norm_set.score == "neuroticism"
    with pytest.raises(ValueError, match=r"The 'scale' parameter of NormsBuild.to_scale_dict must be given"):
        nb.to_scale_dict()
    doc = nb.to_scale_dict(BFI_YAML, name="from_column")
    out = sc.score(bfi, sc.load_scale(doc), prefix="")
    assert out["bfi.neuroticism.t"].notna().sum() == scores["bfi.neuroticism"].notna().sum()


def test_rows_left_out_are_counted(bfi):
    partial = bfi.assign(gender=bfi["gender"].where(bfi.index % 10 != 0))
    nb = rs.build_norms(partial, BFI_YAML, "agreeableness", by=["gender"], prefix="")
    unscored = sc.score(bfi, BFI_YAML, prefix="")["bfi.agreeableness"].isna()
    no_group = partial["gender"].isna()
    assert nb.n_excluded == int((unscored | no_group).sum())


def test_parameter_errors(bfi):
    pattern = r"The '{}' parameter of build_norms must be .* Got .* instead\."
    cases = [
        ("method", {"method": "z"}),
        ("t_score", {"t_score": "stanine"}),
        ("by", {"by": "gender"}),
        ("by", {"by": ["grade"]}),
        ("min_group_n", {"min_group_n": 1}),
        ("decimals", {"decimals": 9}),
    ]
    for name, kw in cases:
        with pytest.raises(ValueError, match=pattern.format(name)):
            rs.build_norms(bfi, BFI_YAML, "openness", prefix="", **kw)
    with pytest.raises(ValueError, match=pattern.format("score")):
        rs.build_norms(bfi, BFI_YAML, "grit", prefix="")
    with pytest.raises(ValueError, match=pattern.format("score")):
        rs.build_norms(bfi, score="total")
    with pytest.raises(TypeError, match=pattern.format("data")):
        rs.build_norms([1, 2], score="total")
    flat = pd.DataFrame({"total": [3.0] * 5})
    with pytest.raises(ValueError, match=r"every norm group has some spread"):
        rs.build_norms(flat, score="total", method="linear", min_group_n=2)
