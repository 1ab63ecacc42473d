"""Rules that read the previous wave (prev.tier, prev.waves_in_tier), fed from the archive."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from archive_fixtures import KEY, later_wave

import screening as sc
from screening._params import InvalidParameterError
from screening.errors import ResponseError, RuleError

RULES_DIR = Path(__file__).resolve().parent.parent / "tiering_rules"


def _rules_with_persistence(tmp_path):
    """The default rule set plus one rule: still yellow (or worse) for two waves → orange."""
    import yaml

    data = yaml.safe_load((RULES_DIR / "default.yaml").read_text(encoding="utf-8"))
    data["id"] = "persist"
    data["rules"].append({
        "id": "still_yellow_two_terms",
        "when": 'prev.tier >= "yellow" and prev.waves_in_tier >= 2 and phq9.total >= 10',
        "tier": "orange",
        "reason": {"zh": "连续两次黄色及以上且仍中度以上", "en": "Yellow or worse for two screenings and still moderate"},
        "source": {"ref": "许昌 2023 §四(五): yellow students are followed until they return to green; a district's escalation choice."},
    })
    p = tmp_path / "persist.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def _answers(n, items):
    """n identical students with these PHQ-9 answers (item 9 last) and GAD-7 all 0."""
    df = pd.DataFrame({f"phq9_{k}": [v] * n for k, v in enumerate(items, start=1)})
    df = df.assign(**{f"gad7_{k}": [0] * n for k in range(1, 8)})
    flags = ("left_behind", "single_parent", "bullied", "poverty", "migrant", "disability", "bereaved", "known_disorder")
    return df.assign(**dict.fromkeys(flags, False))


def test_prev_tier_escalates_only_known_persistent_students(tmp_path):
    rules = _rules_with_persistence(tmp_path)
    df = _answers(4, [2, 2, 2, 2, 1, 1, 1, 0, 0])  # PHQ-9 11, item 9 not endorsed: yellow under default
    prev = pd.DataFrame({"prev.tier": ["yellow", "yellow", "green", None],
                         "prev.waves_in_tier": [2, 1, 3, None]}, index=df.index)
    res = sc.screen(df, scales=["phq9", "gad7"], rules=rules, previous=prev)
    assert list(res.table["tier"].astype(str)) == ["orange", "yellow", "yellow", "yellow"]
    assert "still_yellow_two_terms" in str(res.table["rules_fired"].iloc[0])
    # an unknown previous wave never fires the rule, and never puts the student on the re-screen list for it
    assert not bool(res.table["rescreen"].iloc[3])
    # without previous: unknown for all, nobody escalated
    plain = sc.screen(df, scales=["phq9", "gad7"], rules=rules)
    assert (plain.table["tier"].astype(str) == "yellow").all()


def test_prev_names_are_checked_at_load(tmp_path):
    import yaml

    data = yaml.safe_load((RULES_DIR / "default.yaml").read_text(encoding="utf-8"))
    data["id"] = "bad"
    data["rules"].append({"id": "x", "when": 'prev.tier >= "purple"', "tier": "orange",
                          "reason": {"zh": "x", "en": "x"}, "source": {"ref": "test"}})
    data["rules"].append({"id": "y", "when": "prev.teir == 'yellow'", "tier": "orange",
                          "reason": {"zh": "y", "en": "y"}, "source": {"ref": "test"}})
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(RuleError) as e:
        sc.load_rules(p)
    text = str(e.value)
    assert "purple" in text and "prev.teir" in text


def test_previous_values_must_be_tiers_and_aligned(tmp_path):
    rules = _rules_with_persistence(tmp_path)
    df = _answers(3, [2, 2, 2, 2, 1, 1, 1, 0, 0])
    with pytest.raises(ResponseError, match=r"prev\.tier"):
        sc.screen(df, scales=["phq9", "gad7"], rules=rules,
                  previous=pd.DataFrame({"prev.tier": ["yellow", "violet", None]}, index=df.index))
    with pytest.raises(InvalidParameterError, match="previous"):
        sc.screen(df, scales=["phq9", "gad7"], rules=rules, previous=pd.DataFrame({"prev.tier": ["yellow"]}))


def test_archive_previous_feeds_the_rule(tmp_path, archive_answers):
    rules = _rules_with_persistence(tmp_path)
    arch = sc.open_archive(tmp_path / "a.sqlite", key=KEY, actor="psych01")
    b = later_wave(archive_answers, 1)
    c = later_wave(b, 2)
    for ans, wave, on in ((archive_answers, "2025秋", "2025-09-10"), (b, "2026春", "2026-03-02")):
        arch.add(sc.screen(ans, scales=["phq9", "gad7"], rules=rules), wave=wave, on=on, ids=ans["student_id"])
    prev = arch.previous(c["student_id"], before="2026-09-08")
    prev.index = c.index
    res = sc.screen(c, scales=["phq9", "gad7"], rules=rules, previous=prev)
    fired = res.table["rules_fired"].astype(str).str.contains("still_yellow_two_terms").to_numpy()
    # PHQ-9 ≥ 10 definitely (the default rule phq9_moderate fired: with blanks, the lowest possible total ≥ 10)
    moderate = res.table["rules_fired"].astype(str).str.contains("phq9_moderate").to_numpy()
    expect = (prev["prev.tier"].isin(["yellow", "orange"]) & (prev["prev.waves_in_tier"] >= 2)).fillna(False).to_numpy() & moderate
    assert expect.sum() > 0
    np.testing.assert_array_equal(fired, expect)
    arch.close()
