"""JSON Schemas of the YAML formats, for editors (VS Code YAML, JetBrains) to validate files as you type.

    python -m tools.json_schemas docs/

writes ``docs/scale.schema.json`` and ``docs/rules.schema.json``. Point your
editor at them, e.g. first line of a scale file::

    # yaml-language-server: $schema=../docs/scale.schema.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from screening.specs.rules import RuleSetSpec
from screening.specs.scale import ScaleSpec

__all__ = ["scale_schema", "rules_schema", "write_schemas"]


def _schema(model: Any, title: str, url: str) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = url
    schema["title"] = title
    return schema


def scale_schema() -> dict[str, Any]:
    """JSON Schema of a scale definition file (``kind: scale``)."""
    return _schema(ScaleSpec, "screening scale definition", "https://screening.invalid/schema/scale.schema.json")


def rules_schema() -> dict[str, Any]:
    """JSON Schema of a tiering rule-set file (``kind: rules``)."""
    return _schema(RuleSetSpec, "screening tiering rule set", "https://screening.invalid/schema/rules.schema.json")


def render() -> dict[str, str]:
    """File name → text of every schema file (deterministic)."""
    return {
        "scale.schema.json": json.dumps(scale_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        "rules.schema.json": json.dumps(rules_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
    }


def write_schemas(folder: str | Path) -> list[Path]:
    out = []
    for name, text in render().items():
        p = Path(folder) / name
        p.write_text(text, encoding="utf-8")
        out.append(p)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path("docs")
    for p in write_schemas(folder):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
