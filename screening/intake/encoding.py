"""Decoding text files strictly: a byte order mark, else UTF-8, else GB18030, else a clear error.

Chinese survey platforms and Excel's "CSV" save produce UTF-8 (often with a
BOM) or GBK/GB18030 files. GB18030 is tried rather than GBK because it is a
superset that also covers rare characters in names (``"㛃"`` fails in GBK).
Nothing is ever decoded with ``errors="ignore"`` or ``"replace"``: a file that
is in neither encoding stops with a message naming the file.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import Issue
from .errors import ReadError

__all__ = ["decode_bytes", "read_text"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),  # Qualtrics TSV downloads are UTF-16 with a BOM
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(data: bytes, file: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding used)``.

    Parameters
    ----------
    data : bytes
        The whole file.
    file : str
        File name, used only in error messages.
    encoding : str, optional
        Force this encoding (still strict). Default: detect as described above.

    Raises
    ------
    ReadError
        ``unknown_encoding`` when no candidate decodes the whole file, or
        ``binary_file`` when the bytes contain NUL characters (a binary file
        or UTF-16 without a byte order mark).
    """
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise ReadError(
                [Issue("unknown_encoding", f"the file cannot be decoded as {encoding!r} ({type(exc).__name__})",
                       file=file, hint="check the encoding= argument, or leave it out to detect UTF-8 / GB18030")],
                title=f"cannot read {file}",
            ) from None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError:
                break  # a BOM followed by bytes of another encoding: fall through to the error
    else:
        if b"\x00" in data:
            raise ReadError(
                [Issue("binary_file", "the file contains NUL bytes: it is not a text (CSV) file, or it is UTF-16 "
                       "without a byte order mark", file=file,
                       hint="open it in Excel/WPS and save as 'CSV UTF-8', or read the .xlsx/.sav file directly")],
                title=f"cannot read {file}",
            )
        for enc in ("utf-8", "gb18030"):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError:
                continue
    raise ReadError(
        [Issue("unknown_encoding", "the file is neither UTF-8 nor GB18030 (GBK) text", file=file,
               hint="save it again as 'CSV UTF-8' (Excel: 另存为 → CSV UTF-8), or pass encoding='...' if you know it")],
        title=f"cannot read {file}",
    )


def read_text(path: str | Path, encoding: str | None = None) -> tuple[str, str]:
    """Read and decode a whole text file (see :func:`decode_bytes`)."""
    p = Path(path)
    return decode_bytes(p.read_bytes(), str(p), encoding)
