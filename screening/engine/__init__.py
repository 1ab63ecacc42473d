"""The scoring engine: compile a scale spec to arrays, parse response columns, run the kernel (numpy, or compiled
with numba), apply norms.

Below :mod:`screening.scoring` and above :mod:`screening.loading`: it imports
neither the public API nor intake, tiering, reports or the CLI (checked by the
layers contract in ``pyproject.toml``, run by ``tests/test_architecture.py``).
"""
