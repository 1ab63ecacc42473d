"""screening.research as a package: public names, docstring examples, and one-way imports."""

from __future__ import annotations

import ast
import doctest
import importlib
import sys
from pathlib import Path

import pytest

import screening.research as rs

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "screening" / "research"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
# Lower layers the research tools may build on (nothing above scoring).
ALLOWED_SCREENING = {"_params", "_version", "columns", "catalog", "errors", "loading", "specs", "engine", "scoring"}
ALLOWED_THIRD_PARTY = {"numpy", "pandas", "scipy", "yaml"}


def test_public_names():
    assert set(rs.__all__) >= {"reliability", "item_analysis", "build_norms", "evaluate_cutoffs"}
    for name in rs.__all__:
        assert getattr(rs, name).__doc__, name


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"screening.research.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("module", [*MODULES, "__init__"])
def test_imports_flow_one_way(module):
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:
                continue  # within screening.research
            if node.level == 2:
                names = [f"screening.{node.module}" if node.module else "screening"]
                if node.module is None:
                    names = [f"screening.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top == "screening":
                assert name.split(".")[1] in ALLOWED_SCREENING, f"{module} imports {name}"
            else:
                assert top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names, f"{module} imports {name}"


def test_every_public_function_has_notes_reference_and_r_equivalent():
    for name in ("reliability", "item_analysis", "build_norms", "evaluate_cutoffs"):
        doc = getattr(rs, name).__doc__
        for section in ("Parameters", "Returns", "Notes", "References"):
            assert section in doc, (name, section)
        assert "R equivalent" in doc, name
