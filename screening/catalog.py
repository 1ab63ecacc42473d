"""Loading scales: built-in ids or paths, validated, compiled and checked against their own examples."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import numbers
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import _cache
from . import columns as C
from ._params import InvalidParameterError, describe
from .engine.compile import CompiledScale, compile_scale
from .errors import Issue, SpecError, did_you_mean
from .loading import builtin_dir, parse_scale, read_yaml
from .specs.scale import ScaleSpec

__all__ = ["Scale", "load_scale", "list_scales", "content_hash"]

_BUILTIN_ID = re.compile(r"[a-z0-9_]+")  # built-in file names are lower-case ids (also on case-insensitive disks)


def content_hash(model: Any) -> str:
    """SHA-256 of a spec's canonical JSON: the same definition gives the same hash, whatever its layout."""
    data = model.model_dump(mode="json")
    if isinstance(data, dict) and "codes" in data and data["codes"] is None:
        del data["codes"]  # the optional `codes` block (added later) leaves the hash of a scale without one unchanged
    if isinstance(data, dict) and data.get("change") == []:
        del data["change"]  # the optional reliable-change block, when absent, leaves earlier hashes unchanged
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, repr=False, eq=False)
class Scale:
    """A loaded scale: its validated spec, compiled arrays, where it came from and its content hash."""

    spec: ScaleSpec
    compiled: CompiledScale
    source: str
    content_hash: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def items(self) -> list[str]:
        return self.spec.item_ids()

    @property
    def score_ids(self) -> list[str]:
        return [s.id for s in self.spec.scores]

    def input_columns(self, prefix: str | None = None) -> list[str]:
        """The default input column of each item (``phq9_1`` … ``phq9_9``)."""
        if prefix is None:
            return [C.item_input_col(self.id, i) for i in self.items]
        return [f"{prefix}{i}" for i in self.items]

    def __repr__(self) -> str:
        s = self.spec
        return (
            f"<Scale {s.id} v{s.version}: {s.title.get('en')} — {len(s.items)} items, "
            f"scores {', '.join(self.score_ids)}>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        s = self.spec
        rows = []
        for sc in s.scores:
            bands = ""
            if sc.bands is not None:
                bset = sc.bands.sets[sc.bands.default]
                bands = ", ".join(b.id for b in bset.bands)
            rows.append(
                f"<tr><td>{escape(sc.id)}</td><td>{escape(sc.label.get('en'))}</td>"
                f"<td>{len(sc.items or sc.scores or ())}</td><td>{escape(sc.method)}</td><td>{escape(bands)}</td></tr>"
            )
        crit = ", ".join(f"{c.id} (item {c.item} {c.op} {c.value:g})" for c in s.critical) or "none"
        return (
            f"<div><b>{escape(s.title.get('en'))}</b> / {escape(s.title.get('zh'))} "
            f"<code>{escape(s.id)}</code> v{escape(s.version)}<br>"
            f"<small>{escape(s.form)} · {len(s.items)} items · licence: {escape(s.license.verdict)} · "
            f"critical: {escape(crit)}</small>"
            "<table><thead><tr><th>score</th><th>label</th><th>parts</th><th>method</th><th>bands</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )


def list_scales() -> list[str]:
    """Ids of the built-in scales, sorted."""
    return sorted(p.stem for p in builtin_dir("scales").glob("*.yaml"))


def _example_issues(scale: Scale, file: str) -> list[Issue]:
    """Score the file's own worked examples; every mismatch is an issue."""
    from .scoring import score  # scoring sits above catalog; imported lazily to keep layers one-way

    spec = scale.spec
    cols = scale.input_columns()
    frame = pd.DataFrame(
        [[ex.responses.get(i) for i in spec.item_ids()] for ex in spec.examples], columns=cols, dtype="float64"
    )
    out = score(frame, scale, norms=None)
    # `total.band@set` checks a named band set other than the default
    other_sets = {key.split("@", 1)[1] for ex in spec.examples for key in ex.expected if "@" in key}
    by_set = {name: score(frame, scale, norms=None, bands=name) for name in sorted(other_sets)}
    issues = []
    for i, ex in enumerate(spec.examples):
        for key, want in ex.expected.items():
            base, _, set_name = key.partition("@")
            table = by_set[set_name] if set_name else out
            if f"{spec.id}.{base}" not in table.columns:  # e.g. `total.band` for a score without bands
                issues.append(Issue("unknown_output", f"example {ex.id!r} expects {key}, which scoring does not output",
                                    path=f"examples[{i}].expected.{key}", file=file))
                continue
            got = table[f"{spec.id}.{base}"].iloc[i]
            if pd.isna(got):
                same = want is None
            elif isinstance(want, bool) or isinstance(got, bool):
                same = bool(got) == want
            elif isinstance(want, (int, float)):
                # a band label where the file expects a number (or the reverse) is a mismatch, not a crash
                same = isinstance(got, numbers.Real) and math.isclose(float(got), float(want), rel_tol=0, abs_tol=1e-9)
            else:
                same = str(got) == str(want)
            if not same:
                issues.append(
                    Issue(
                        "example_mismatch",
                        f"example {ex.id!r}: {key} is {got!r} when scored, but the file expects {want!r}",
                        path=f"examples[{i}].expected.{key}",
                        file=file,
                    )
                )
    return issues


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
        _cache.put("scale", raw, {"spec": scale.spec.model_dump(mode="json"), "hash": scale.content_hash})
    return scale


def _from_cache(raw: bytes, path: str) -> Scale | None:
    """The scale checked earlier from these exact bytes (see screening._cache), validated again; None on a miss."""
    entry = _cache.get("scale", raw)
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
    issues = _example_issues(scale, file)
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
