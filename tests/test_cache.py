"""The cross-process cache of checked scale definitions (screening/loading/cache.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import screening as sc
from screening.errors import SpecError
from screening.loading import cache as _cache
from screening.loading.resources import builtin_dir
from screening.scoring import catalog


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("SCREENING_CACHE_DIR", str(d))
    catalog._load_file.cache_clear()
    yield d
    catalog._load_file.cache_clear()


def _copy(tmp_path: Path, text: str | None = None) -> Path:
    src = (builtin_dir("scales") / "phq9.yaml").read_text(encoding="utf-8")
    p = tmp_path / "phq9.yaml"
    p.write_text(text if text is not None else src, encoding="utf-8")
    return p


def test_second_process_skips_the_checks_and_gets_the_same_scale(cache, tmp_path, monkeypatch):
    path = _copy(tmp_path)
    first = sc.load_scale(path)
    assert len(list(cache.glob("scale-*.json"))) == 1
    catalog._load_file.cache_clear()  # as in a new process
    monkeypatch.setattr(catalog, "_build", lambda *a, **k: pytest.fail("the cached definition was not used"))
    second = sc.load_scale(path)
    assert second.content_hash == first.content_hash
    assert second.spec == first.spec


def test_an_edited_file_is_checked_again(cache, tmp_path):
    path = _copy(tmp_path)
    sc.load_scale(path)
    catalog._load_file.cache_clear()
    text = path.read_text(encoding="utf-8")
    # PHQ-9's worked example "all 3" has total 27; claim 26 instead: the examples must be scored again
    assert "total: 27" in text
    path.write_text(text.replace("total: 27", "total: 26", 1), encoding="utf-8")
    os.utime(path, ns=(1, 1))
    with pytest.raises(SpecError, match="examples"):
        sc.load_scale(path)


def test_a_tampered_entry_is_ignored(cache, tmp_path, monkeypatch):
    path = _copy(tmp_path)
    good = sc.load_scale(path)
    (entry_path,) = cache.glob("scale-*.json")
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    entry["payload"]["spec"]["title"]["en"] = "PHQ-9 (edited in the cache)"  # valid, but not what was stored
    entry_path.write_text(json.dumps(entry), encoding="utf-8")
    catalog._load_file.cache_clear()
    built = []
    real = catalog._build
    monkeypatch.setattr(catalog, "_build", lambda *a, **k: built.append(1) or real(*a, **k))
    again = sc.load_scale(path)
    assert built == [1]
    assert again.content_hash == good.content_hash


def test_an_unwritable_cache_is_skipped(cache, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("SCREENING_CACHE_DIR", str(blocker / "cache"))  # cannot be created, even by root
    assert sc.load_scale(_copy(tmp_path)).id == "phq9"
    catalog._load_file.cache_clear()
    assert sc.load_scale(_copy(tmp_path)).id == "phq9"
    assert blocker.read_text(encoding="utf-8") == "x"


def test_cache_can_be_switched_off(cache, tmp_path, monkeypatch):
    monkeypatch.setenv("SCREENING_CACHE", "0")
    assert _cache.cache_dir() is None
    sc.load_scale(_copy(tmp_path))
    assert not cache.exists()
