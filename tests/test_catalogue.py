"""The scale catalogue in docs/scales/ is generated from scales/*.yaml and must not be stale."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import screening as sc

ROOT = Path(__file__).resolve().parent.parent
# the doc generators live in tools/ (not packaged): import them from this checkout
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
catalogue = importlib.import_module("tools.scale_docs")
DOCS = ROOT / "docs" / "scales"


def test_docs_scales_is_current(tmp_path):
    assert catalogue.main(["--out", str(tmp_path)]) == 0
    fresh = {p.name: p.read_text(encoding="utf-8") for p in sorted(tmp_path.glob("*.md"))}
    committed = {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))}
    assert sorted(fresh) == sorted(committed), "run `python -m tools.scale_docs` to regenerate docs/scales/"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"docs/scales/ is stale for {stale}: run `python -m tools.scale_docs`"
    assert catalogue.main(["--out", str(DOCS), "--check"]) == 0


def test_render_is_deterministic_and_covers_every_scale():
    first, second = catalogue.render(), catalogue.render()
    assert first == second
    assert list(first) == ["index.md"] + [f"{s}.md" for s in sc.list_scales()]
    for scale_id in sc.list_scales():
        assert f"[`{scale_id}`]({scale_id}.md)" in first["index.md"]


def test_pages_show_item_text_only_where_it_ships():
    pages = catalogue.render()
    phq9_text = sc.load_scale("phq9").spec.items[8].text
    assert phq9_text is not None
    assert phq9_text.en in pages["phq9.md"]
    for scale_id in sc.list_scales():
        spec = sc.load_scale(scale_id).spec
        page = pages[f"{scale_id}.md"]
        if spec.license.verdict != "ship_text":
            assert "Item wording is not shipped" in page
            assert "| item | text |" not in page
        for score in spec.scores:
            assert f"`{score.id}`" in page
            if score.bands is not None:
                for name in score.bands.sets:
                    assert f"**`{name}`**" in page
        for c in spec.critical:
            assert f"| `{c.id}` | {c.item} |" in page


def test_check_reports_a_stale_page(tmp_path):
    catalogue.write(tmp_path, catalogue.render())
    (tmp_path / "k10.md").write_text("edited by hand\n", encoding="utf-8")
    (tmp_path / "old_scale.md").write_text("removed scale\n", encoding="utf-8")
    assert catalogue.stale(tmp_path, catalogue.render()) == ["k10.md", "old_scale.md"]
    assert catalogue.main(["--out", str(tmp_path), "--check"]) == 1
    # regenerating restores the page and removes the page of a scale that no longer exists
    assert catalogue.main(["--out", str(tmp_path)]) == 0
    assert catalogue.stale(tmp_path, catalogue.render()) == []
    assert not (tmp_path / "old_scale.md").exists()
