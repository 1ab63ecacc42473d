"""Conformance suite for the built-in scale library: every file in ``scales/`` passes the same checks.

Loading a file already validates it, compiles it and scores its worked
examples (a mismatch is a load error); the tests below add what loading
cannot see: the library's id list, licence hygiene (no item text for
key-only scales), titles, references, band coverage of the examples, and
that random valid answers always land inside the declared band ranges.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import screening as sc
from screening.engine.compile import CompiledScale
from screening.loading import read_yaml
from screening.scoring import content_hash
from screening.specs.derive import score_range
from tests.strategies import response_frames

ROOT = Path(__file__).resolve().parent.parent
SCALE_FILES = sorted((ROOT / "scales").glob("*.yaml"))
SCALE_IDS = [p.stem for p in SCALE_FILES]

EXPECTED_IDS = sorted(
    ["phq9", "gad7", "k6", "k10", "who5", "cesd", "rses", "psc17", "phqa",
     "cesdc", "dsrsc", "scared", "pss10", "sdq", "mht", "mssmhs", "scl90", "aslec"]
)
# Licence verdicts from scales-reference.md: item wording may ship only for these.
SHIP_TEXT = {"phq9", "gad7", "k6", "k10", "who5", "cesd", "rses", "psc17"}


def test_library_is_exactly_the_eighteen_scales():
    assert sc.list_scales() == EXPECTED_IDS
    assert SCALE_IDS == EXPECTED_IDS


@functools.cache
def _raw(path: str) -> dict:
    """The file as plain data (read once: the safe YAML loader is slow on the 90-item files)."""
    data, issues = read_yaml(path)
    assert not issues, issues
    return data


@pytest.fixture(scope="module", params=SCALE_IDS)
def scale(request) -> sc.Scale:
    return sc.load_scale(request.param)


def test_loads_compiles_and_scores_its_examples(scale):
    # load_scale scores every worked example and raises on a mismatch, so reaching here means they pass
    assert isinstance(scale.compiled, CompiledScale)
    assert scale.compiled.n_items == len(scale.spec.items)
    assert len(scale.spec.examples) >= 4, "each scale needs several worked examples"
    assert Path(scale.source).name == f"{scale.id}.yaml"


def test_content_hash_is_stable_and_layout_independent(scale):
    again = sc.load_scale(ROOT / "scales" / f"{scale.id}.yaml")
    assert again.content_hash == scale.content_hash
    data = _raw(scale.source)
    # the same definition given as a mapping (no file layout, comments or anchors) hashes the same
    assert sc.load_scale(data).content_hash == scale.content_hash
    assert content_hash(scale.spec) == scale.content_hash
    changed = scale.spec.model_copy(update={"version": scale.spec.version + "-changed"})
    assert content_hash(changed) != scale.content_hash


def test_no_item_text_ships_for_key_only_or_do_not_ship_scales(scale):
    lic = scale.spec.license
    data = _raw(scale.source)
    raw_texts = [it for it in data["items"] if "text" in it]
    if scale.id in SHIP_TEXT:
        assert lic.verdict == "ship_text"
        assert lic.text_redistributable
        shipped = [it.text is not None and it.text.get("en") for it in scale.spec.items]
        assert all(shipped), "ship_text scales carry their wording"
    else:
        assert lic.verdict in ("key_only", "do_not_ship")
        assert not lic.text_redistributable
        assert raw_texts == [], f"{scale.id}: item text in a {lic.verdict} file"
        assert all(it.text is None for it in scale.spec.items)


def test_titles_references_licence_and_form(scale):
    s = scale.spec
    assert s.title.zh
    assert s.title.en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in s.title.zh), "the zh title is Chinese"
    assert s.references
    assert all(len(r.ref) > 10 for r in s.references)
    assert len(s.license.attribution) > 10
    assert len(s.form) > 40, "form names the exact version and item order"
    assert s.description is not None
    assert s.description.zh
    assert s.description.en


def test_every_missing_rule_and_band_set_says_where_it_comes_from(scale):
    for score in scale.spec.scores:
        if score.items is not None and len(score.items) > 1:
            assert score.missing.source is not None or score.source is not None, score.id
        if score.bands is not None:
            if len(score.bands.sets) > 1:
                assert score.bands.why_default, f"{scale.id}.{score.id}: several band sets need why_default"
            for bset in score.bands.sets.values():
                assert len(bset.source.ref) > 10
    for c in scale.spec.critical:
        assert len(c.source.ref) > 10
    for v in scale.spec.validity:
        assert len(v.source.ref) > 10


def test_band_ids_are_lower_snake_english(scale):
    for score in scale.spec.scores:
        if score.bands is None:
            continue
        for bset in score.bands.sets.values():
            for b in bset.bands:
                assert b.id.isascii()
                assert b.id == b.id.lower()


def _example_frame(scale: sc.Scale) -> pd.DataFrame:
    spec = scale.spec
    rows = [[ex.responses.get(i) for i in spec.item_ids()] for ex in spec.examples]
    return pd.DataFrame(rows, columns=scale.input_columns(), dtype="float64")


def test_examples_reach_every_band_critical_item_and_validity_check(scale):
    """The worked examples exercise each band of every default band set, and each flag both ways."""
    spec = scale.spec
    out = sc.score(_example_frame(scale), scale, norms=None)
    hit: dict[tuple[str, ...], set[str]] = {}
    for score in spec.scores:
        if score.bands is None:
            continue
        ids = tuple(b.id for b in score.bands.sets[score.bands.default].bands)
        col = out[f"{spec.id}.{score.id}.band"].dropna().astype(str)
        hit.setdefault(ids, set()).update(col)
    for ids, seen in hit.items():
        # scores sharing the same band set (e.g. the SCL-90 factors) may share the examples
        assert set(ids) <= seen, f"{spec.id}: no worked example reaches bands {sorted(set(ids) - seen)}"
    for c in spec.critical:
        flags = out[f"{spec.id}.critical.{c.id}"]
        assert flags.eq(True).any(), f"{spec.id}: critical {c.id} never fires in an example"
        assert flags.eq(False).any(), f"{spec.id}: critical {c.id} never stays quiet in an example"
    for v in spec.validity:
        flags = out[f"{spec.id}.validity.{v.id}"]
        assert flags.eq(True).any(), f"{spec.id}: validity {v.id} never fires in an example"
        assert flags.eq(False).any(), f"{spec.id}: validity {v.id} never passes in an example"
    statuses = set(out[f"{spec.id}.status"].astype(str))
    assert "insufficient" in statuses or "invalid" in statuses, f"{spec.id}: no example of the missing-data rule"
    if any(s.missing.impute != "none" for s in spec.scores if s.id != "answered"):
        assert "prorated" in statuses, f"{spec.id}: no example of imputation"


@pytest.mark.parametrize("scale_id", SCALE_IDS)
@settings(max_examples=12)
@given(data=st.data())
def test_random_valid_answers_stay_inside_the_declared_ranges(scale_id, data):
    scale = sc.load_scale(scale_id)
    df = data.draw(response_frames(scale, max_rows=30, missing=0.05))
    out = sc.score(df, scale, norms=None)
    assert out.index.equals(df.index)
    spec = scale.spec
    for score in spec.scores:
        vals = out[f"{spec.id}.{score.id}"].to_numpy(dtype=float)
        ok = ~np.isnan(vals)
        lo, hi = score_range(spec, score)
        assert np.all(vals[ok] >= lo - 1e-9), score.id
        assert np.all(vals[ok] <= hi + 1e-9), score.id
        if score.bands is None:
            continue
        for name, bset in score.bands.sets.items():
            lows = [b.lower[0] for b in bset.bands if b.lower is not None]
            highs = [b.upper[0] for b in bset.bands if b.upper is not None]
            band_lo = min(lows) if len(lows) == len(bset.bands) else -math.inf
            band_hi = max(highs) if len(highs) == len(bset.bands) else math.inf
            assert np.all(vals[ok] >= band_lo - 1e-9), (score.id, name)
            assert np.all(vals[ok] <= band_hi + 1e-9), (score.id, name)
            # every scored value falls in a band of every named set (the codes the kernel writes)
            codes = scale.compiled.bands[score.id][name].codes(vals)
            assert np.all(codes[ok] >= 0), (score.id, name)
            assert np.all(codes[~ok] == -1), (score.id, name)
        band_col = out[f"{spec.id}.{score.id}.band"]
        assert band_col.notna().to_numpy().tolist() == ok.tolist(), score.id
