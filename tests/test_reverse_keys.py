"""Reverse keys: the files key the right items, and keying turns them the right way round.

The expected reverse-keyed items are written out here from the sources (not
read from the YAML), then checked two ways:

1. each file's ``reverse`` list equals the published list;
2. a self-check on simulated data: answers are drawn from one latent trait,
   with the published reverse items loading *negatively* on the raw answer
   scale (as they do on the paper form). After the engine keys them, every
   reverse item must correlate positively with the rest of its own score, and
   its raw answer negatively. Wrong keying (an item missed or keyed twice)
   breaks one of the two signs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import screening as sc
from screening.loading import read_yaml

# scale id -> (reverse-keyed items as numbered on the form the YAML names, source)
PUBLISHED_REVERSE: dict[str, tuple[list[int], str]] = {
    "cesd": ([4, 8, 12, 16], "Radloff 1977; PMC6025488 Table A2; BioPsyKit cesd()"),
    "cesdc": ([4, 8, 12, 16], "Bright Futures Tool for Professionals p.57 (CES-DC scoring)"),
    "rses": ([3, 5, 8, 9, 10], "Chinese SES form (wtabcd.cn): items 3, 5, 8, 9, 10 scored 1-4 (Rosenberg 1965 order)"),
    "pss10": ([4, 5, 7, 8], "University of Wisconsin ARC PSS scoring; BioPsyKit pss()"),
    "sdq": ([7, 11, 14, 21, 25], "youthinmind, Scoring the SDQ for age 4-17 (2014)"),
    "dsrsc": ([1, 2, 4, 7, 8, 9, 11, 12, 13, 16], "Birleson 1987 / Denda 2006 keying (scales.arabpsychology summary)"),
}

N = 1500


def test_reverse_lists_match_the_sources():
    for scale_id in sc.list_scales():
        spec = sc.load_scale(scale_id).spec
        expected = PUBLISHED_REVERSE.get(scale_id, ([], "no reverse-keyed items"))[0]
        assert sorted(int(r) for r in spec.reverse) == expected, scale_id


def _probe_scale(scale_id: str) -> tuple[sc.Scale, list[tuple[str, str, str, str]]]:
    """The scale plus, for every reverse item r in every score s, a score of r alone and of s without r.

    The probe scores are the engine's own keyed values. The file's worked examples are replaced by one
    that pins the keying: every item at its lowest option, so each reversed probe must score the highest.
    """
    scale = sc.load_scale(scale_id)
    data, issues = read_yaml(scale.source)
    assert not issues
    spec = scale.spec
    probes: list[tuple[str, str, str, str]] = []
    extra = []
    expected: dict[str, float] = {}
    for s in spec.scores:
        if s.items is None or s.method not in ("sum", "mean"):
            continue
        for r in spec.reverse:
            if r not in s.items or len(s.items) < 2:
                continue
            probe, rest = f"probe_{r}", f"rest_{r}_{s.id}"
            if probe not in expected:
                extra.append({"id": probe, "label": {"en": f"item {r} keyed"}, "items": [r], "method": "sum"})
                opts = spec.option_sets[next(i.options for i in spec.items if i.id == r)]
                expected[probe] = max(o.value for o in opts)
            rest_items = [i for i in s.items if i != r]
            extra.append({"id": rest, "label": {"en": "rest"}, "items": rest_items, "method": "sum"})
            probes.append((r, s.id, probe, rest))
    lowest = {}
    for it in spec.items:
        lowest[it.id] = min(o.value for o in spec.option_sets[it.options])
    data = dict(data)
    data["scores"] = list(data["scores"]) + extra
    data["examples"] = [{
        "id": "keying_probe",
        "source": "all answers at the lowest option: reversed items score the highest",
        "responses": lowest,
        "expected": expected,
    }]
    return sc.load_scale(data), probes


def _simulate(scale: sc.Scale, reverse: set[str], seed: int) -> pd.DataFrame:
    """Ordinal answers from one latent trait; published reverse items load negatively on the raw scale."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=N)
    cols = {}
    for k, item in enumerate(scale.items):
        values = scale.compiled.allowed[k]  # ascending option values
        loading = -1.0 if item in reverse else 1.0
        latent = loading * theta + rng.normal(size=N)
        # cut the latent response at evenly spaced quantiles into the item's ordered options
        cuts = np.quantile(latent, np.linspace(0, 1, len(values) + 1)[1:-1])
        cols[scale.input_columns()[k]] = values[np.searchsorted(cuts, latent)]
    return pd.DataFrame(cols)


@pytest.mark.parametrize("scale_id", sorted(PUBLISHED_REVERSE))
def test_reverse_items_correlate_with_their_score_after_keying(scale_id):
    published = {str(i) for i in PUBLISHED_REVERSE[scale_id][0]}
    probe_scale, probes = _probe_scale(scale_id)
    assert probes, f"{scale_id}: no reverse item sits in a score"
    assert {r for r, *_ in probes} == published, "every published reverse item is checked"
    df = _simulate(probe_scale, published, seed=sum(map(ord, scale_id)))
    out = sc.score(df, probe_scale, norms=None)
    for r, score_id, probe, rest in probes:
        keyed = out[f"{scale_id}.{probe}"].to_numpy()
        rest_score = out[f"{scale_id}.{rest}"].to_numpy()
        raw = df[f"{scale_id}_{r}"].to_numpy()
        r_keyed = np.corrcoef(keyed, rest_score)[0, 1]
        r_raw = np.corrcoef(raw, rest_score)[0, 1]
        assert r_keyed > 0.1, f"{scale_id} item {r} in {score_id}: item-rest r = {r_keyed:.2f} after keying"
        assert r_raw < -0.1, f"{scale_id} item {r} in {score_id}: raw answers should run against the score"
        k = probe_scale.items.index(r)
        lo, hi = probe_scale.compiled.lo[k], probe_scale.compiled.hi[k]
        assert np.array_equal(keyed, lo + hi - raw), "keyed = lowest + highest option − answer"
