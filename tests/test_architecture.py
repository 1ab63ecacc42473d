"""Gates kept: the import contracts of ``pyproject.toml`` hold, and every public module's doctests run.

The contracts (``[tool.importlinter]``) state the one-way pipeline (a ``layers`` contract:
specs → loading → engine → scoring → intake → tiering → reports → screener → cli) and what each side
package may use; ``lint-imports`` from the repository root checks the same thing.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import sys
import warnings
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import screening

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"

# `python -m screening` runs the CLI on import; its docstring has no examples.
# modules that run on import: the CLI entry point, and Alembic's migration scripts (run only by Alembic)
_NOT_IMPORTED = {"screening.__main__"}
MODULES = sorted(m.name for m in pkgutil.walk_packages(screening.__path__, "screening.")
                 if m.name not in _NOT_IMPORTED and not m.name.startswith("screening.archive.migrations"))


def test_import_contracts_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 broken" in out


def test_a_broken_contract_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # score() does load scales through scoring/catalog.py: a contract forbidding it must fail, so the gate above can fail too
    cfg = tmp_path / "contracts.toml"
    cfg.write_text(
        '[tool.importlinter]\nroot_package = "screening"\n\n'
        '[[tool.importlinter.contracts]]\nname = "probe"\ntype = "forbidden"\n'
        'source_modules = ["screening.scoring.api"]\nforbidden_modules = ["screening.scoring.catalog"]\n',
        encoding="utf-8",
    )
    assert lint_imports(config_filename=str(cfg), no_cache=True, no_logo=True) == 1
    assert "BROKEN" in capsys.readouterr().out


# the pipeline, lowest layer first, as screening/README.md lists it; the layers contract states the same order
PIPELINE = ["specs", "loading", "engine", "scoring", "intake", "tiering", "reports", "screener", "cli"]
SIDE = ["archive", "audit", "fhir", "research", "scaleout", "warning"]
SHARED = {"__init__.py", "__main__.py", "_params.py", "_version.py", "errors.py", "columns.py", "ordering.py", "py.typed",
          "README.md"}


def test_the_layers_contract_lists_the_pipeline_in_order() -> None:
    contracts = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    layers = [c for c in contracts if c["type"] == "layers"]
    assert len(layers) == 1
    assert layers[0]["layers"] == [f"screening.{name}" for name in reversed(PIPELINE)]
    # the only ignored imports anywhere are the lazy hand-offs of engine frames to scale-out, and of an
    # early-warning table to the warning package's own report section
    dispatch = {"screening.scoring.api -> screening.scaleout", "screening.screener.run -> screening.scaleout",
                "screening.reports.report -> screening.warning.report"}
    for c in contracts:
        assert set(c.get("ignore_imports", [])) <= dispatch, c["name"]


def test_ls_screening_shows_the_layers_and_side_packages_only() -> None:
    folder = ROOT / "screening"
    packages = {p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert packages == set(PIPELINE) | set(SIDE)
    files = {p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith(".pyc")}
    assert files == SHARED, files ^ SHARED
    readme = (folder / "README.md").read_text(encoding="utf-8")
    positions = [readme.index(f"`{name}/`") for name in PIPELINE]
    assert positions == sorted(positions), "screening/README.md lists the layers in pipeline order"
    for name in SIDE:
        assert f"`{name}/`" in readme


def test_the_public_names_and_their_modules_both_import() -> None:
    # `screening.screen` is the public function; its package is `screener`, so submodule imports stay unambiguous
    import screening.scoring as scoring_pkg
    import screening.screener.run as run_mod

    assert callable(screening.screen) and screening.screen is run_mod.screen
    assert screening.score is scoring_pkg.score and screening.load_scale is scoring_pkg.load_scale
    assert importlib.import_module("screening.screener").ScreeningResult is screening.ScreeningResult
    assert not (ROOT / "screening" / "screen").exists()


def test_the_doc_generators_are_not_in_the_package() -> None:
    for name in ("catalogue", "schema", "tiering.catalogue"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(f"screening.{name}")
    assert {"scale_docs.py", "rule_docs.py", "json_schemas.py"} <= {p.name for p in (ROOT / "tools").iterdir()}


def test_every_package_folder_is_a_regular_package() -> None:
    # a folder without __init__.py is a namespace package that import-linter cannot see
    for folder in (ROOT / "screening").iterdir():
        if folder.is_dir() and any(folder.glob("*.py")):
            assert (folder / "__init__.py").is_file(), folder.name


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    mod = importlib.import_module(name)
    with warnings.catch_warnings():
        # the screen() example leaves risk-group flags out on purpose; a user sees this warning on stderr
        warnings.filterwarnings("ignore", message="risk-group flags not supplied", category=UserWarning)
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, name


def test_the_headline_examples_are_collected() -> None:
    # the decorated public functions keep their docstring examples visible to doctest
    finder = doctest.DocTestFinder()
    names = {t.name for mod in ("screening.scoring.api", "screening.screener.run", "screening.scoring.catalog")
             for t in finder.find(importlib.import_module(mod)) if t.examples}
    assert {"screening.scoring.api.score", "screening.screener.run.screen", "screening.scoring.catalog.load_scale"} <= names
