"""The student archive (一生一档): screening waves of the same students on SQLite or PostgreSQL.

Needs the ``archive`` extra (``pip install "screening[archive]"``: SQLAlchemy 2, Alembic, psycopg).
See ``docs/archive.md``.

>>> import screening as sc
>>> arch = sc.open_archive("district.sqlite", key=sc.load_key(file="district.key"))  # doctest: +SKIP
"""

from __future__ import annotations

from .core import ACTION_KINDS, AddReport, Archive, open_archive
from .errors import ArchiveError

__all__ = ["ACTION_KINDS", "AddReport", "Archive", "ArchiveError", "open_archive"]
