"""Gates kept: the import contracts of ``pyproject.toml`` hold, and every public module's doctests run.

The contracts (``[tool.importlinter]``) state today's one-way layering where it
already holds; ``lint-imports`` from the repository root checks the same thing.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import warnings
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

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
    # scoring does import catalog today: a contract forbidding it must fail, so the gate above can fail too
    cfg = tmp_path / "contracts.toml"
    cfg.write_text(
        '[tool.importlinter]\nroot_package = "screening"\n\n'
        '[[tool.importlinter.contracts]]\nname = "probe"\ntype = "forbidden"\n'
        'source_modules = ["screening.scoring"]\nforbidden_modules = ["screening.catalog"]\n',
        encoding="utf-8",
    )
    assert lint_imports(config_filename=str(cfg), no_cache=True, no_logo=True) == 1
    assert "BROKEN" in capsys.readouterr().out


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
