"""Reading YAML files safely: the safe loader only, duplicate keys are errors."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any, cast

import yaml

from ..errors import Issue

__all__ = ["MAX_DEPTH", "read_yaml"]

#: Deepest nesting of mappings and lists a spec file may have (the shipped files stay below 10).
MAX_DEPTH = 32


# libyaml's parser under the same safe constructor when PyYAML was built with it (~8x faster: most of
# the cold start of `load_rules("default")`, which reads every scale its rules name, was YAML parsing)
_SafeBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictSafeLoader(_SafeBase):  # type: ignore[misc]
    """The safe loader (libyaml's when available) that refuses duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable) or isinstance(key, tuple):
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain value, not a {type(key).__name__}", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return cast("dict[Any, Any]", loader.construct_mapping(node, deep=deep))


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _nesting_depth(text: str) -> tuple[int, int] | None:
    """Where the event stream first nests deeper than :data:`MAX_DEPTH`, or None.

    Checked on the parser's events (a flat loop) before any node is composed:
    composing is recursive, and 20,000 nested ``[`` would exhaust the stack.
    Syntax errors are left for the loader, which reports them with their position.
    libyaml's parser runs first (~7x faster); it stops at its own nesting limit with
    a syntax error, so a file it refuses is walked again by PyYAML's to say where.
    """
    for parser in dict.fromkeys((_SafeBase, yaml.SafeLoader)):
        depth = 0
        try:
            for event in yaml.parse(text, Loader=parser):
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    depth += 1
                    mark = event.start_mark
                    if depth > MAX_DEPTH:
                        return (mark.line, mark.column) if mark is not None else (0, 0)
                elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    depth -= 1
        except yaml.YAMLError:
            continue
        return None
    return None


def read_yaml(source: str | Path, *, text: str | None = None) -> tuple[Any, list[Issue]]:
    """Parse a YAML file (or ``text`` labelled ``source``) with the safe loader.

    Returns the data and a list of issues (empty when the file parsed).
    """
    name = str(source)
    if text is None:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            return None, [Issue("file_unreadable", f"cannot read the file: {exc.strerror}", file=name)]
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return None, [
                Issue("bad_encoding", f"the file is not UTF-8 (byte {exc.start})", file=name, hint="save it as UTF-8")
            ]
    too_deep = _nesting_depth(text)
    if too_deep is not None:
        return None, [Issue("too_deep", f"the file nests lists or mappings more than {MAX_DEPTH} levels deep",
                            file=name, path=f"line {too_deep[0] + 1}, column {too_deep[1] + 1}")]
    try:
        loader = _StrictSafeLoader(text)  # what yaml.load does, with our SafeLoader subclass
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Issue("yaml_syntax", f"YAML syntax error: {problem}", file=name, path=where)]
    if data is None:
        return None, [Issue("empty_file", "the file is empty", file=name)]
    if not isinstance(data, dict):
        return None, [
            Issue("not_a_mapping", f"the file must hold a mapping of keys, not a {type(data).__name__}", file=name)
        ]
    return data, []
