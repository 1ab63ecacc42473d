"""A plain (non-editable) install of the built wheel still finds the built-in scales and rule sets."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("screening-*.whl")
    return whl


def test_wheel_carries_scales_and_rules(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    scales = {Path(n).stem for n in names if n.startswith("screening/_data/scales/") and n.endswith(".yaml")}
    rules = {Path(n).stem for n in names if n.startswith("screening/_data/tiering_rules/") and n.endswith(".yaml")}
    assert scales == {p.stem for p in (ROOT / "scales").glob("*.yaml")}
    assert rules == {p.stem for p in (ROOT / "tiering_rules").glob("*.yaml")}
    assert "screening/py.typed" in names
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_scores_outside_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import json, screening as sc, pandas as pd;"
        "df = pd.DataFrame({f'phq9_{k}': [1] for k in range(1, 10)});"
        "print(json.dumps({'file': sc.__file__, 'scales': sc.list_scales(), 'rules': sc.list_rules(),"
        " 'total': float(sc.score(df, 'phq9')['phq9.total'].iloc[0])}))"
    )
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    info = json.loads(done.stdout)
    assert info["file"].startswith(str(site))
    assert "phq9" in info["scales"] and "default" in info["rules"]
    assert info["total"] == 9.0
