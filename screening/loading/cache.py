"""A cross-process cache of checked definitions, so a fresh process does not re-check unchanged files.

Loading a scale parses its YAML, validates it and scores its worked examples; a CLI call or a worker
that screens one submission pays that for every scale its rule set names. What is kept is the
*validated spec as JSON* (never a pickle, never code), keyed by the SHA-256 of the file's bytes and
the library version, so an edited file or another library version is a miss. On a hit the JSON is
validated again by the same models and checks as a YAML file (only the YAML parsing and the worked
examples, which passed for these exact bytes, are skipped), and its spec hash must match the one
recorded, or the entry is ignored.

Where: ``$SCREENING_CACHE_DIR``, else the user cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``;
``%LOCALAPPDATA%`` on Windows) under ``screening/<version>``, created private (0700). An unwritable
or unreadable cache is silently skipped. ``SCREENING_CACHE=0`` switches it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .._version import __version__

__all__ = ["cache_dir", "get", "put"]

FORMAT = 1


def cache_dir() -> Path | None:
    if os.environ.get("SCREENING_CACHE", "1") == "0":
        return None
    explicit = os.environ.get("SCREENING_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("LOCALAPPDATA") if os.name == "nt" else os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return root / "screening" / __version__


def _key(kind: str, source: bytes) -> str:
    return hashlib.sha256(f"{kind}\0{__version__}\0{FORMAT}\0".encode() + source).hexdigest()


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def get(kind: str, source: bytes) -> Any | None:
    """The payload stored for these exact source bytes, or None (miss, unreadable, or not what was stored)."""
    d = cache_dir()
    if d is None:
        return None
    key = _key(kind, source)
    try:
        entry = json.loads((d / f"{kind}-{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
        return None
    payload = entry.get("payload")
    if entry.get("payload_sha256") != _digest(payload):
        return None
    return payload


def put(kind: str, source: bytes, payload: Any) -> None:
    """Store ``payload`` (JSON-serialisable) for these source bytes; never raises."""
    d = cache_dir()
    if d is None:
        return
    key = _key(kind, source)
    entry = {"format": FORMAT, "key": key, "payload": payload, "payload_sha256": _digest(payload)}
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, d / f"{kind}-{key}.json")  # atomic: a reader sees the old entry or the new one
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError):
        return
