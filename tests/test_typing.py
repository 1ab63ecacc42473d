"""The package type-checks under ``mypy --strict`` (configuration: ``[tool.mypy]`` in pyproject.toml).

A regression here is a changed signature or a new code path whose types do not agree; run
``mypy --strict screening`` from the repository root to see the errors.
"""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]


def test_package_passes_mypy_strict() -> None:
    # no incremental cache: the result must not depend on a cache left by an earlier run
    stdout, stderr, status = api.run([
        "--strict", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", "/dev/null",
        "--no-error-summary", str(ROOT / "screening"),
    ])
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert errors == [], f"{len(errors)} mypy error(s):\n" + "\n".join(errors[:50])
    assert status == 0, stdout + stderr
