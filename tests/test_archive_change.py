"""Jacobson–Truax reliable change: the formula, the cited `change:` blocks and their load-time checks.

Hand computation used throughout (PHQ-9 block: r = 0.86, Wang et al. 2014; SD = 3.5, Kocalevent et al. 2013):
    SE     = 3.5 · √(1 − 0.86)      = 1.30958
    S_diff = √2 · SE                = 1.85203
    RC     = 1.96 · S_diff          = 3.62997   (a change of 4 whole points is reliable, 3 is not)
    12 → 5:  RCI = −7 / 1.85203     = −3.7796   reliably improved; 12 ≥ 10 > 5 → recovered
The formula is Jacobson & Truax (1991) J Consult Clin Psychol 59:12-19, eq. for RC with the √2 of
Christensen & Mendoza (1986); the same as psyctc.org/stats/rcsc1.htm and the MDMA R package's rci():
(x2 - x1) / sqrt(2 * sd^2 * (1 - rxx)).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml
from archive_fixtures import KEY, ROOT

import screening as sc
from screening.loading.scale_checks import parse_scale


def test_phq9_block_matches_the_hand_computation():
    ch = sc.load_scale("phq9").spec.change[0]
    assert ch.reliability.value == 0.86 and ch.sd.value == 3.5 and ch.cutoff == 10
    assert ch.s_diff == pytest.approx(math.sqrt(2) * 3.5 * math.sqrt(0.14))
    assert ch.s_diff == pytest.approx(1.85203, abs=1e-5)
    got = ch.classify(12, 5)
    assert got["rci"] == pytest.approx(-3.7796, abs=1e-4)
    assert (got["reliable"], got["clinical"]) == ("improved", "recovered")
    assert ch.classify(12, 9)["reliable"] == "no_change"     # 3 points < RC 3.63
    assert ch.classify(12, 8)["reliable"] == "improved"      # 4 points > RC
    assert ch.classify(12, 16)["clinical"] == "deteriorated"  # already in the clinical range: not "harmed"
    assert ch.classify(8, 12)["clinical"] == "harmed"


def test_the_archive_computes_the_same_as_the_worked_examples(tmp_path):
    """The vectorised Archive.change and the YAML examples' scalar form agree, on a grid of score pairs."""
    ch = sc.load_scale("phq9").spec.change[0]
    pairs = [(b, a) for b in range(0, 28, 3) for a in range(0, 28, 4)]
    ids = pd.Series([f"4401{i:014d}" for i in range(len(pairs))])

    def frame(values):
        return pd.DataFrame({"tier": "green", "phq9.total": [float(v) for v in values]})

    arch = sc.open_archive(tmp_path / "a.sqlite", key=KEY, actor="t")
    arch.add(frame([p[0] for p in pairs]), wave="w1", on="2025-09-10", ids=ids)
    arch.add(frame([p[1] for p in pairs]), wave="w2", on="2026-03-02", ids=ids)
    c = arch.change("w1", "w2", score="phq9.total").set_index("pseudonym").loc[sc.pseudonymise(ids, KEY)]
    for (b, a), row in zip(pairs, c.itertuples()):
        want = ch.classify(b, a)
        assert row.rci == pytest.approx(want["rci"])
        assert (row.reliable, row.clinical) == (want["reliable"], want["clinical"])
    arch.close()


def test_a_missing_score_is_not_no_change(tmp_path):
    ids = pd.Series(["440100000000000001", "440100000000000002"])
    arch = sc.open_archive(tmp_path / "a.sqlite", key=KEY, actor="t")
    arch.add(pd.DataFrame({"tier": ["green", "yellow"], "phq9.total": [5.0, float("nan")]}), wave="w1", on="2025-09-10", ids=ids)
    arch.add(pd.DataFrame({"tier": ["green", "green"], "phq9.total": [5.0, 3.0]}), wave="w2", on="2026-03-02", ids=ids)
    c = arch.change("w1", "w2").set_index("pseudonym").loc[sc.pseudonymise(ids, KEY)]
    assert c["reliable"].tolist()[0] == "no_change" and pd.isna(c["reliable"].tolist()[1])
    assert pd.isna(c["clinical"].tolist()[1]) and pd.isna(c["rci"].tolist()[1])
    arch.close()


def test_a_wrong_worked_example_or_unknown_score_is_reported_at_load():
    data = yaml.safe_load((ROOT / "scales" / "phq9.yaml").read_text(encoding="utf-8"))
    data["change"][0]["examples"][0]["expected"]["rci"] = -3.5
    _, issues = parse_scale(data, "phq9.yaml", "phq9")
    assert [(i.code, i.path) for i in issues] == [("example_mismatch", "change[0].examples[0].expected.rci")]
    data["change"][0]["score"] = "totl"
    _, issues = parse_scale(data, "phq9.yaml", "phq9")
    assert [(i.code, i.hint) for i in issues] == [("unknown_score", "did you mean 'total'?")]


def test_no_parameters_is_an_error_that_says_what_to_do(tmp_path):
    ids = pd.Series(["440100000000000001"])
    arch = sc.open_archive(tmp_path / "a.sqlite", key=KEY, actor="t")
    for w, on in (("w1", "2025-09-10"), ("w2", "2026-03-02")):
        arch.add(pd.DataFrame({"tier": ["green"], "phq9.total": [5.0], "who5.total": [50.0]}), wave=w, on=on, ids=ids)
    with pytest.raises(sc.ScreeningError, match="no_change_parameters"):
        arch.change("w1", "w2", score="who5.total")
    assert len(arch.change("w1", "w2", score="who5.total", reliability=0.8, sd=20.0)) == 1
    arch.close()


def test_a_custom_score_needs_parameters_but_a_broken_builtin_scale_is_not_hidden(tmp_path, monkeypatch):
    """Only "no built-in scale has this id" means "no cited block"; any other load failure is reported, not
    silently turned into "no parameters"."""
    import screening.scoring as scoring
    from screening.errors import Issue, SpecError

    ids = pd.Series(["440100000000000001"])
    arch = sc.open_archive(tmp_path / "a.sqlite", key=KEY, actor="t")
    for w, on, v in (("w1", "2025-09-10", 30.0), ("w2", "2026-03-02", 10.0)):
        arch.add(pd.DataFrame({"tier": ["green"], "myscale.total": [v]}), wave=w, on=on, ids=ids)
    got = arch.change("w1", "w2", score="myscale.total", reliability=0.9, sd=10.0)
    assert got["reliable"].tolist() == ["improved"]          # 20 points > RC = 1.96·√2·10·√0.1 = 8.77

    def broken(scale_id):
        raise SpecError([Issue("yaml_syntax", "the file does not parse")], title="cannot load scale")

    monkeypatch.setattr(scoring, "load_scale", broken)
    with pytest.raises(SpecError, match="yaml_syntax"):
        arch.change("w1", "w2", score="myscale.total", reliability=0.9, sd=10.0)
    arch.close()
