"""The shared hypothesis strategies shrink: a failing example is reduced to a small, readable one.

Every cell of a generated frame is drawn through hypothesis (``hypothesis.extra.numpy.arrays``), not
made by numpy from a drawn seed, so hypothesis can simplify it cell by cell.
"""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, find, settings

import screening as sc
from screening.loading.resources import builtin_dir
from screening.loading.scale_checks import parse_scale
from tests.strategies import random_scale_docs, response_frames

QUIET = settings(max_examples=300, database=None, derandomize=True, suppress_health_check=list(HealthCheck))


def _insufficient(scale: sc.Scale):
    return lambda df: bool((sc.score(df, scale, norms=None)[sc.columns.status_col(scale.id)] == "insufficient").any())


def test_a_failing_response_frame_shrinks_to_a_minimal_one():
    """Wanted: a PHQ-9 frame with an unscorable row. PHQ-9 is scored with up to 2 of 9 items blank
    (``missing.min_answered: 7`` in scales/phq9.yaml), so the minimal frame is one row with exactly 3
    blanks, every other answer the lowest option (0), and the first index value."""
    scale = sc.load_scale("phq9")
    found = find(response_frames(scale, max_rows=8, missing=0.5), _insufficient(scale), settings=QUIET)
    need = scale.spec.score("total").missing.min_answered
    assert len(found) == 1
    assert int(found.isna().sum(axis=1).iloc[0]) == 9 - need + 1
    assert (found.iloc[0].dropna() == 0.0).all()
    assert list(found.index) == [1000]


def test_a_failing_random_scale_shrinks_to_a_small_document():
    """Wanted: a random scale with a ratio score. Minimal (with derandomised generation): the fewest items
    (2, with the first option set), item scores that each sum item 1 alone, no transform or rounding,
    no critical items and no validity checks: nothing of the random document that the ratio does not need."""
    with open(builtin_dir("scales") / "k6.yaml", encoding="utf-8") as fh:
        base = yaml.safe_load(fh)

    def has_ratio(doc):
        return any(s.get("method") == "ratio" for s in doc["scores"])

    found = find(random_scale_docs(base), has_ratio, settings=QUIET)
    spec, issues = parse_scale(found, file="<random>", stem=None)
    assert spec is not None and not issues
    assert found["items"] == [{"id": "1", "options": "default"}, {"id": "2", "options": "default"}]
    *item_scores, ratio = found["scores"]
    assert ratio["method"] == "ratio" and 2 <= len(item_scores) <= 3
    assert all(s["items"] == ["1"] and s["method"] == "sum" for s in item_scores)
    assert not any("transform" in s or "rounding" in s for s in found["scores"])
    assert found["reverse"] == [] and found["critical"] == [] and found["validity"] == []
