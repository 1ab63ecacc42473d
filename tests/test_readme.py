"""The README's Python example runs as written, and its two set-up commands are the ones CI and users run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(marker: str) -> str:
    m = re.search(marker + r"\s*\n```bash\n(.*?)```", README, re.S)
    assert m, marker
    return m.group(1).strip()


def test_python_example_runs(tmp_path):
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    (tmp_path / "examples" / "data").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "data" / "sample_school.csv", tmp_path / "examples" / "data")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}  # this checkout
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000


def test_set_up_commands_are_what_ci_and_users_run():
    main = _block("<!-- main-command -->")
    test = _block("<!-- test-command -->")
    assert main.startswith('pip install ".[all]" && screening report examples/data/sample_school.csv')
    assert "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in ci  # .ci/run executes exactly the README's test block
