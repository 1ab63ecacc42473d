"""Loading scales: built-in ids or paths, validated (``loading/``), compiled (``engine/``) and checked against
their own worked examples (``examples.py``)."""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._params import InvalidParameterError, describe
from ..engine.compile import compile_scale
from ..errors import Issue, SpecError, did_you_mean
from ..loading import builtin_dir, cache, parse_scale, read_yaml
from .examples import example_issues
from .scale import Scale, content_hash

__all__ = ["Scale", "load_scale", "list_scales", "content_hash"]

_BUILTIN_ID = re.compile(r"[a-z0-9_]+")  # built-in file names are lower-case ids (also on case-insensitive disks)


def list_scales() -> list[str]:
    """Ids of the built-in scales, sorted."""
    return sorted(p.stem for p in builtin_dir("scales").glob("*.yaml"))


@functools.lru_cache(maxsize=128)
def _load_file(path: str, _mtime_ns: int, _size: int) -> Scale:
    try:
        raw = Path(path).read_bytes()
    except OSError:
        raw = None  # read_yaml reports it
    if raw is not None:
        hit = _from_cache(raw, path)
        if hit is not None:
            return hit
    data, issues = read_yaml(path)
    if issues:
        raise SpecError(issues, title=f"cannot load scale file {path}")
    scale = _build(data, path, Path(path).stem)
    if raw is not None:
        cache.put("scale", raw, {"spec": scale.spec.model_dump(mode="json"), "hash": scale.content_hash})
    return scale


def _from_cache(raw: bytes, path: str) -> Scale | None:
    """The scale checked earlier from these exact bytes (see screening.loading.cache), validated again; None on a miss."""
    entry = cache.get("scale", raw)
    if not isinstance(entry, dict) or not isinstance(entry.get("spec"), dict):
        return None
    spec, issues = parse_scale(entry["spec"], file=path, stem=Path(path).stem)
    if spec is None or issues or content_hash(spec) != entry.get("hash"):
        return None
    return Scale(spec=spec, compiled=compile_scale(spec), source=path, content_hash=entry["hash"])


def _build(data: Any, file: str, stem: str | None) -> Scale:
    spec, issues = parse_scale(data, file=file, stem=stem)
    if spec is None:
        raise SpecError(issues, title=f"invalid scale definition {file}")
    scale = Scale(spec=spec, compiled=compile_scale(spec), source=file, content_hash=content_hash(spec))
    issues = example_issues(scale, file)
    if issues:
        raise SpecError(issues, title=f"scale {spec.id} does not score its own examples as stated ({file})")
    return scale


@functools.lru_cache(maxsize=256)
def _builtin_file(scale_id: str) -> str:
    """Where the built-in file of ``scale_id`` would be (it may not exist)."""
    return str(builtin_dir("scales") / f"{scale_id}.yaml")


def load_scale(scale: str | Path | Mapping[str, Any] | Scale) -> Scale:
    """Load a scale by built-in id (``"phq9"``), from a YAML file, or from an already-parsed mapping.

    Raises
    ------
    SpecError
        Listing every problem in the file, each with its YAML path, a code and a hint.

    Examples
    --------
    >>> import screening as sc
    >>> sc.load_scale("phq9").items[:3]
    ['1', '2', '3']
    """
    if isinstance(scale, Scale):
        return scale
    if isinstance(scale, Mapping):
        return _build(dict(scale), "<mapping>", None)
    if not isinstance(scale, (str, Path)):
        raise InvalidParameterError(
            f"The 'scale' parameter of load_scale must be a built-in id, a path, a mapping or a Scale. Got {describe(scale)} instead."
        )
    text = str(scale)
    looks_like_path = isinstance(scale, Path) or text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text
    if looks_like_path:
        path = Path(text)
        if not path.is_file():
            raise SpecError([Issue("file_not_found", "no such file", file=text)], title="cannot load scale")
        st = path.stat()
        return _load_file(str(path.resolve()), st.st_mtime_ns, st.st_size)
    if _BUILTIN_ID.fullmatch(text):  # the usual call: one stat of the file (no directory listing, no pathlib)
        file = _builtin_file(text)
        try:
            info: os.stat_result | None = os.stat(file)
        except OSError:
            info = None
        if info is not None and stat.S_ISREG(info.st_mode):
            return _load_file(file, info.st_mtime_ns, info.st_size)
    known = list_scales()
    if text not in known:
        raise SpecError(
            [Issue("unknown_scale", f"no built-in scale has this id ({describe(text)}; not shown, it could be data)",
                   hint=did_you_mean(text, known) or f"built-in scales: {', '.join(known)}")],
            title="cannot load scale",
        )
    path = builtin_dir("scales") / f"{text}.yaml"
    st = path.stat()
    return _load_file(str(path), st.st_mtime_ns, st.st_size)
