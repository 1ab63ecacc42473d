"""The published JSON Schemas are current and accept every shipped file (editors validate with them)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from screening.loading import read_yaml

ROOT = Path(__file__).resolve().parent.parent
# the doc generators live in tools/ (not packaged): import them from this checkout
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
schema = importlib.import_module("tools.json_schemas")


@pytest.mark.parametrize("name", ["scale.schema.json", "rules.schema.json"])
def test_schema_files_are_current(name):
    current = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert current == schema.render()[name], "run: python -m tools.json_schemas docs"


@pytest.mark.parametrize(
    "path", sorted((ROOT / "scales").glob("*.yaml")) + [ROOT / "tests/fixtures/scales/fixture_full.yaml"], ids=lambda p: p.stem
)
def test_every_scale_file_validates_against_the_schema(path):
    data, issues = read_yaml(path)
    assert not issues
    jsonschema.validate(data, schema.scale_schema())


@pytest.mark.parametrize("path", sorted((ROOT / "tiering_rules").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_rule_file_validates_against_the_schema(path):
    data, issues = read_yaml(path)
    assert not issues
    jsonschema.validate(data, schema.rules_schema())


def test_schema_rejects_unknown_keys():
    data, _ = read_yaml(ROOT / "scales" / "phq9.yaml")
    data["titel"] = {"en": "x"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema.scale_schema())
    json.dumps(schema.scale_schema())  # serialisable


def test_the_documented_command_writes_the_schemas(tmp_path):
    # `python -m tools.json_schemas DIR` from the repository root, as CONTRIBUTING.md says
    done = subprocess.run([sys.executable, "-m", "tools.json_schemas", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    for name, text in schema.render().items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text
