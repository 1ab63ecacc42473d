"""Conformance of every shipped rule set: loads, documented, and its docs page is current."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import screening as sc

ROOT = Path(__file__).resolve().parent.parent
# the doc generators live in tools/ (not packaged): import them from this checkout
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
catalogue = importlib.import_module("tools.rule_docs")


@pytest.mark.parametrize("rid", sc.list_rules())
def test_rule_set_loads_and_is_complete(rid):
    rs = sc.load_rules(rid)
    spec = rs.spec
    assert spec.id == rid
    for key in [*rs.tiers, "urgent", "rescreen"]:
        assert spec.actions.get(key), key
    assert spec.critical_items.tier != rs.tiers[0]
    for rule in spec.rules:
        assert rule.reason.zh and rule.reason.en, rule.id
    for t in spec.tiers:
        assert t.label.zh and t.label.en


def test_rule_docs_are_current():
    pages = catalogue.render()
    for name, text in pages.items():
        path = ROOT / "docs" / "rules" / name
        assert path.read_text(encoding="utf-8") == text, f"stale {path}: run python -m tools.rule_docs docs/rules"


def test_default_rules_cite_a_source_for_every_rule():
    rs = sc.load_rules("default")
    assert all(r.source is not None for r in rs.spec.rules)
