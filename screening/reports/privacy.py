"""Keyed pseudonyms for student ids: HMAC-SHA256 with a key the user holds (see docs/privacy.md).

An unkeyed hash of a 学籍号 or ID-card number can be reversed by hashing every
possible number; a keyed hash cannot without the key. The key is never stored
with the data, never printed, and the same key (and version) gives the same
pseudonym for the same student in every file, so lists can be joined without
revealing who is who.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._params import InvalidParameterError
from ..errors import Issue, ScreeningError

__all__ = ["MIN_KEY_BYTES", "Key", "generate_key", "load_key", "normalise_id", "pseudonymise"]

#: Shortest key accepted (128 bits).
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class Key:
    """A pseudonymisation key and its version label (the label prefixes every pseudonym).

    The secret never appears in ``repr``, ``str`` or pickles of results.
    """

    secret: bytes = field(repr=False)
    version: str = "k1"

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) < MIN_KEY_BYTES:
            raise InvalidParameterError(
                f"The 'secret' parameter of Key must be at least {MIN_KEY_BYTES} bytes. "
                f"Got {type(self.secret).__name__} of length {len(self.secret) if isinstance(self.secret, bytes) else '?'} instead."
            )
        if not self.version or not self.version.replace("_", "").isalnum() or not self.version.isascii():
            raise InvalidParameterError(
                f"The 'version' parameter of Key must be a short ASCII label such as 'k1'. Got {self.version!r} instead."
            )

    def __repr__(self) -> str:
        return f"Key(version={self.version!r}, secret=<hidden>)"

    def __reduce__(self) -> Any:
        raise TypeError("a pseudonymisation Key is not pickled: keep it out of saved data")


def generate_key(path: str | Path | None = None) -> str:
    """A new random key (256 bits, as 64 hex characters); written to ``path`` (mode 600) if given.

    The file must not exist yet: a key is never overwritten, since pseudonyms
    made with the old key could no longer be matched.
    """
    text = secrets.token_hex(32)
    if path is not None:
        p = Path(path)
        if p.exists():
            raise ScreeningError([Issue("file_exists", "a key file is never overwritten", file=str(p))],
                                 title="cannot write the key file")
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text + "\n")
    return text


def load_key(key: bytes | Key | None = None, *, file: str | Path | None = None, env: str | None = None,
             version: str = "k1") -> Key:
    """The key from bytes, a key file or an environment variable (exactly one).

    A key file or variable holds the key as text (surrounding whitespace is
    ignored); its UTF-8 bytes are the secret. Use :func:`generate_key` (or
    ``screening keygen``) to make one.
    """
    given = [x is not None for x in (key, file, env)]
    if sum(given) != 1:
        raise InvalidParameterError(
            "The 'key', 'file' and 'env' parameters of load_key must be given exactly one at a time. "
            f"Got {sum(given)} instead."
        )
    if isinstance(key, Key):
        return key
    if key is not None:
        if not isinstance(key, bytes):
            raise InvalidParameterError(
                "The 'key' parameter of load_key must be bytes (or use file=/env=). "
                f"Got {type(key).__name__} instead."
            )
        return Key(key, version)
    if file is not None:
        p = Path(file)
        if not p.is_file():
            raise ScreeningError([Issue("file_not_found", "no such key file", file=str(p))], title="cannot load the key")
        secret = p.read_bytes().strip()
        where = f"key file {p.name}"
    else:
        value = os.environ.get(str(env))
        if value is None:
            raise ScreeningError([Issue("missing_key", f"environment variable {env!r} is not set",
                                        hint="export it or use a key file")], title="cannot load the key")
        secret = value.strip().encode("utf-8")
        where = f"environment variable {env!r}"
    if len(secret) < MIN_KEY_BYTES:
        raise ScreeningError([Issue("short_key", f"the key in {where} is shorter than {MIN_KEY_BYTES} bytes",
                                    hint="make one with `screening keygen KEYFILE`")], title="cannot load the key")
    return Key(secret, version)


def normalise_id(value: str) -> str:
    """One id as text: Unicode NFKC (full-width digits → ASCII) and surrounding whitespace removed."""
    return unicodedata.normalize("NFKC", value).strip()


def _id_text(ids: Any) -> pd.Series:
    s = ids if isinstance(ids, pd.Series) else pd.Series(np.asarray(ids, dtype=object))
    if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        raise InvalidParameterError(
            "The 'ids' parameter of pseudonymise must hold text or whole numbers (read ID columns as text, "
            f"e.g. dtype={{'student_id': str}}: long numbers lose digits as floats). Got {s.dtype} values instead."
        )
    if s.dtype == object:
        kinds = {type(v) for v in s.dropna()}
        if kinds & {float, bool, np.floating, np.bool_}:
            raise InvalidParameterError(
                "The 'ids' parameter of pseudonymise must hold text or whole numbers. Got float or bool values instead."
            )
    return s.astype("string")


def pseudonymise(ids: Any, key: Key | bytes, *, bits: int = 64) -> pd.Series:
    """Keyed pseudonyms ``"{version}-{hex}"`` for student ids (missing ids stay missing).

    ``HMAC-SHA256(key, NFKC(id).strip())`` truncated to ``bits`` (default 64:
    the chance of any collision among a million students is about 3e-8).

    Parameters
    ----------
    ids : Series or array-like
        Student ids as text (or whole numbers). The result keeps a Series' index.
    key : Key or bytes
        From :func:`load_key`; bytes are taken as version ``"k1"``.
    bits : int, default 64
        Multiple of 8 from 64 to 256.

    Examples
    --------
    >>> key = Key(b"an example key, 32 bytes long!!!")
    >>> pseudonymise(["G440101200001011234", " G440101200001011234 "], key).tolist()
    ['k1-5aba0a2de7e9fd13', 'k1-5aba0a2de7e9fd13']
    """
    if isinstance(key, bytes):
        key = Key(key)
    if not isinstance(key, Key):
        raise InvalidParameterError(f"The 'key' parameter of pseudonymise must be a Key or bytes. Got {type(key).__name__} instead.")
    if isinstance(bits, bool) or not isinstance(bits, int) or bits % 8 or not 64 <= bits <= 256:
        raise InvalidParameterError(
            f"The 'bits' parameter of pseudonymise must be a multiple of 8 from 64 to 256. Got {bits!r} instead."
        )
    text = _id_text(ids)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    nbytes = bits // 8
    # one HMAC per distinct id: hashlib has no vectorised form, and ids are distinct per student anyway
    digests = [key.version + "-" + hmac.new(key.secret, normalise_id(u).encode("utf-8"), hashlib.sha256)
               .digest()[:nbytes].hex() for u in uniques]
    empty = np.array([normalise_id(u) == "" for u in uniques], dtype=bool)
    values = np.asarray(digests + [None], dtype=object)
    codes = np.where(codes >= 0, codes, len(digests))
    if empty.any():
        codes = np.where(np.isin(codes, np.flatnonzero(empty)), len(digests), codes)
    out = pd.Series(pd.array(values[codes], dtype="string"), name="pseudonym")
    if isinstance(ids, pd.Series):
        out.index = ids.index
    return out
