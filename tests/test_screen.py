"""screen(): tiers, urgent, reasons and actions in zh and en, flags, provenance."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import screening as sc

FLAGS = ["left_behind", "single_parent", "bullied", "poverty", "migrant", "disability", "bereaved", "known_disorder"]


def frame(phq: list[list[float]], gad: list[list[float]] | None = None, **flags: list) -> pd.DataFrame:
    n = len(phq)
    gad = gad if gad is not None else [[0] * 7] * n
    data = {f"phq9_{k + 1}": [row[k] for row in phq] for k in range(9)}
    data |= {f"gad7_{k + 1}": [row[k] for row in gad] for k in range(7)}
    for f in FLAGS:
        data[f] = flags.get(f, [False] * n)
    return pd.DataFrame(data)


def phq(total: int, item9: int = 0) -> list[float]:
    """PHQ-9 answers with the given total (item 9 as given, the rest spread over items 1-8)."""
    rest = total - item9
    items = [min(3, max(0, rest - 3 * k)) for k in range(8)]
    assert sum(items) == rest
    return [*items, item9]


def run(df, rules="default", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.screen(df, scales=["phq9", "gad7"], rules=rules, **kw)


def test_done_when_example_tier_urgent_reasons_actions_zh_en():
    df = frame([phq(0), phq(12), phq(17), phq(3, item9=1), phq(7)], bullied=[False, False, False, False, True])
    res = sc.screen(df, scales=["phq9", "gad7"], rules="default")
    t = res.table
    assert t["tier"].astype(str).tolist() == ["green", "yellow", "orange", "orange", "yellow"]
    assert t["urgent"].tolist() == [False, False, False, True, False]
    assert t.loc[1, "reasons_zh"].startswith("PHQ-9 总分 ≥ 10")
    assert "PHQ-9 total ≥ 10" in t.loc[1, "reasons_en"]
    assert "二包一" in t.loc[1, "actions_zh"] and "Two named adults" in t.loc[1, "actions_en"]
    assert "三包一" in t.loc[2, "actions_zh"]
    assert "立即干预" in t.loc[3, "actions_zh"] and "Intervene at once" in t.loc[3, "actions_en"]
    assert "Risk-group" in t.loc[4, "reasons_en"]
    assert t.loc[0, "reasons_en"] == ""
    assert t["reasons"].equals(t["reasons_zh"])
    assert t.loc[3, "rules_fired"] == "phq9.critical"


def test_lang_en_and_table_contract():
    res = run(frame([phq(12)]), lang="en")
    assert res.table["reasons"].iloc[0].startswith("PHQ-9 total")
    assert {"tier", "urgent", "reasons", "actions"} <= set(res.table.columns)


def test_index_order_and_no_mutation():
    df = frame([phq(12), phq(0), phq(20)])
    df.index = pd.Index([30, 10, 20], name="k")
    before = df.copy(deep=True)
    res = run(df)
    assert res.table.index.equals(df.index) and res.scores.index.equals(df.index)
    pd.testing.assert_frame_equal(df, before)


def test_urgent_is_top_tier_and_escalation_is_capped():
    df = frame([phq(20, item9=2), phq(16)], bullied=[True, True])
    res = run(df)
    assert res.table["tier"].astype(str).tolist() == ["orange", "orange"]  # orange + 1 capped at orange
    res4 = run(df, rules="four_level")
    assert res4.table["tier"].astype(str).tolist() == ["red", "red"]  # urgent → red; orange + 1 → red


def test_insufficient_data_rescreen_never_silent_green():
    # issue 10: data quality is not a colour. An empty PHQ-9 keeps the colour the answered items give
    # (none: green) but goes on the re-screen list, and its unanswered item 9 means "ask today".
    df = frame([[np.nan] * 9, phq(0)])
    res = run(df)
    t = res.table
    assert t["tier"].astype(str).tolist() == ["green", "green"]
    assert t["rescreen"].tolist() == [True, False]
    assert t["ask_today"].tolist() == [True, False]
    assert "re-screen" in t.loc[0, "reasons_en"].lower()
    assert "ask the student in person today" in t.loc[0, "rescreen_reasons_en"]
    assert t.loc[0, "follow_up_days"] == 0
    assert t.loc[1, "rescreen_reasons_en"] == ""


def test_flags_from_text_and_mapping():
    df = frame([phq(6), phq(6), phq(6)])
    df["欺凌"] = ["是", "否", ""]
    res = run(df.drop(columns=FLAGS), flags={"bullied": "欺凌"})
    assert res.table["tier"].astype(str).tolist() == ["yellow", "green", "green"]
    assert res.flags["bullied"].isna().tolist() == [False, False, True]
    df["欺凌"] = ["是", "maybe", "否"]
    with pytest.raises(sc.ResponseError) as info:
        run(df.drop(columns=FLAGS), flags={"bullied": "欺凌"})
    assert info.value.issues[0].rows == (1,) and "maybe" not in str(info.value)


def test_missing_flags_warn_and_are_unknown():
    df = frame([phq(6)]).drop(columns=FLAGS)
    with pytest.warns(UserWarning, match="not supplied"):
        res = sc.screen(df, scales=["phq9", "gad7"], rules="default")
    assert res.table["tier"].iloc[0] == "green"
    assert res.provenance["flags_not_supplied"] == FLAGS


def test_flag_argument_errors():
    df = frame([phq(6)])
    with pytest.raises(ValueError, match="does not use"):
        run(df, flags=["bullied", "rich"])
    with pytest.raises(sc.ResponseError):
        run(df, flags={"bullied": "nope"})


def test_items_in_conditions(tmp_path):
    from pathlib import Path

    import yaml

    data = yaml.safe_load(Path(sc.load_rules("default").source).read_text(encoding="utf-8"))
    data["id"] = "items"
    data["rules"].append({"id": "item9_any", "when": "phq9.item9 >= 1", "tier": "orange", "reason": {"en": "item 9"}})
    p = tmp_path / "items.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    res = run(frame([phq(2, item9=1), phq(2)]), rules=p)
    assert "item9_any" in res.table.loc[0, "rules_fired"]
    assert "phq9.item9" in res.scores.columns


def test_provenance_and_repr_hold_no_rows():
    df = frame([phq(12), phq(0)])
    df["student_id"] = ["4401061234567890123", "4401069999999999999"]
    res = run(df)
    p = res.provenance
    assert p["version"] == sc.__version__
    assert p["rules"]["hash"] == sc.load_rules("default").content_hash
    assert set(p["scales"]) == {"phq9", "gad7"}
    assert p["scales"]["phq9"]["hash"].startswith("sha256:")
    text = repr(res) + res._repr_html_()
    assert "4401061234567890123" not in text and "green 1" in repr(res)


def test_same_inputs_same_outputs():
    df = frame([phq(t) for t in range(0, 27, 3)], bullied=[True, False] * 4 + [True])
    a, b = run(df), run(df)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_mht_validity_leads_to_rescreen():
    items = {f"mht_{k}": [0] for k in range(1, 101)}
    for k in range(82, 101, 2):
        items[f"mht_{k}"] = [1]
    df = pd.DataFrame(items)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sc.screen(df, scales=["mht"], rules="default")
    assert res.scores["mht.status"].iloc[0] == "invalid"
    # issue 10: an invalid form goes on the re-screen list; it does not by itself set a colour
    assert res.table["rescreen"].iloc[0] and res.table["tier"].iloc[0] == "green"
    assert "invalid" in res.table["rescreen_reasons_en"].iloc[0].lower()


def test_quality_flags_reach_rules():
    df = frame([phq(3), phq(3)])
    quality = pd.DataFrame({"quality.too_fast": [True, False]}, index=df.index)
    res = run(df, quality=quality)
    assert res.table["rescreen"].tolist() == [True, False]
