"""The pattern grouping behind `reasons`: exact for any number of rules (several machine words)."""

from __future__ import annotations

import numpy as np
import pytest

from screening.tiering.assign import _pattern_codes


@pytest.mark.parametrize("n_sources", [0, 1, 7, 56, 57, 130])
def test_patterns_match_a_brute_force_grouping(n_sources):
    rng = np.random.default_rng(n_sources)
    n = 500
    masks = [rng.random(n) < 0.2 for _ in range(n_sources)]
    codes, patterns = _pattern_codes(masks, n)
    assert patterns[0] == ()
    for i in range(n):
        fired = tuple(j for j, m in enumerate(masks) if m[i])
        assert patterns[codes[i]] == fired
    assert len(set(patterns)) == len(patterns)  # one code per distinct pattern


@pytest.mark.parametrize("n", [0, 1, 7, 64, 65])
def test_patterns_of_a_few_students_match_a_brute_force_grouping(n):
    # a few students are numbered in plain Python, more by pandas: the same first-appearance numbering
    rng = np.random.default_rng(n)
    masks = [rng.random(n) < 0.3 for _ in range(9)]
    codes, patterns = _pattern_codes(masks, n)
    assert patterns[0] == ()
    order: list[tuple[int, ...]] = [()]
    for i in range(n):
        fired = tuple(j for j, m in enumerate(masks) if m[i])
        assert patterns[codes[i]] == fired
        if fired not in order:
            order.append(fired)
    assert patterns == order  # numbered in order of first appearance, the empty pattern first
