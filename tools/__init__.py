"""Developer tools that write the generated docs; not part of the installed package.

Run from the repository root:

- ``python -m tools.scale_docs`` — the scale catalogue ``docs/scales/`` (``--check`` only reports staleness);
- ``python -m tools.rule_docs docs/rules`` — one page per built-in rule set;
- ``python -m tools.json_schemas docs/`` — ``docs/scale.schema.json`` and ``docs/rules.schema.json``.

Staleness tests (``tests/test_catalogue.py``, ``tests/test_rules_conformance.py``,
``tests/test_schema_docs.py``) run them and fail when the committed docs differ.
"""
