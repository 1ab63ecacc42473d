"""The research walkthrough runs as a script, and its notebook holds exactly the same cells.

Regenerate the notebook after editing the script with
``python tests/test_research_walkthrough.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "research_walkthrough.py"
NOTEBOOK = ROOT / "examples" / "research_walkthrough.ipynb"


def cells_of(script: str) -> list[dict]:
    """Split a percent-format script into notebook cells (``# %%`` code, ``# %% [markdown]`` text)."""
    cells: list[dict] = []
    kind, lines = None, []

    def flush() -> None:
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in body.split("\n"))
        cells.append({"cell_type": kind, "source": body})

    for line in script.split("\n"):
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        else:
            lines.append(line)
    flush()
    return cells


def notebook_of(script: str) -> dict:
    out = []
    for i, cell in enumerate(cells_of(script), 1):
        src = cell["source"].split("\n")
        source = [ln + "\n" for ln in src[:-1]] + [src[-1]]
        nb_cell = {"cell_type": cell["cell_type"], "id": f"cell-{i:02d}", "metadata": {}, "source": source}
        if cell["cell_type"] == "code":
            nb_cell.update(execution_count=None, outputs=[])
        out.append(nb_cell)
    return {
        "cells": out,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_walkthrough_runs_as_a_script(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["MPLBACKEND"] = "Agg"
    # run from another directory: the script finds its data next to itself
    proc = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", str(SCRIPT)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "bfi.neuroticism" in out
    assert "suspect" in out  # the deliberately mis-keyed A1 is caught
    assert "sapa_gender_age" in out  # the norms round trip
    assert "AUC 0.809" in out


def test_notebook_is_valid_nbformat_4_and_matches_the_script():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    assert nb["nbformat_minor"] >= 4
    for cell in nb["cells"]:
        assert cell["cell_type"] in ("code", "markdown")
        assert isinstance(cell["source"], list)
        if cell["cell_type"] == "code":
            assert cell["outputs"] == []
            assert "execution_count" in cell
    expected = notebook_of(SCRIPT.read_text(encoding="utf-8"))
    assert nb == expected, "regenerate: python tests/test_research_walkthrough.py"


if __name__ == "__main__":
    NOTEBOOK.write_text(
        json.dumps(notebook_of(SCRIPT.read_text(encoding="utf-8")), indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {NOTEBOOK}")
