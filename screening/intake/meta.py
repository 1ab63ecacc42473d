"""Names of the canonical table's metadata columns, defined in one place.

:func:`screening.read_responses` returns one row per respondent with these
columns first, then the item columns of each scale (``phq9_1`` …, see
:func:`screening.columns.item_input_col`), then any other columns of the file
under their own headers.

==================  ===================  ==============================================
column              dtype                meaning
==================  ===================  ==============================================
``respondent_id``   string (never float) the respondent key: 学籍号 / ResponseId / 序号 …
``started_at``      datetime64           when the respondent started (NaT if unknown)
``submitted_at``    datetime64           when the answers were submitted (NaT if unknown)
``duration_s``      float64              seconds spent answering (NaN if unknown)
``source``          string               which reader produced the row (``wjx``, ``csv`` …)
``complete``        boolean (nullable)   the platform marked the response finished (NA if unknown)
==================  ===================  ==============================================
"""

from __future__ import annotations

import re

__all__ = [
    "COMPLETE",
    "DURATION_S",
    "META_COLUMNS",
    "RESPONDENT_ID",
    "SOURCE",
    "SOURCES",
    "STARTED_AT",
    "SUBMITTED_AT",
    "is_private_column",
    "unreadable_col",
]

RESPONDENT_ID = "respondent_id"
STARTED_AT = "started_at"
SUBMITTED_AT = "submitted_at"
DURATION_S = "duration_s"
SOURCE = "source"
COMPLETE = "complete"

#: Metadata columns, in the order they appear at the front of the canonical table.
META_COLUMNS: tuple[str, ...] = (RESPONDENT_ID, STARTED_AT, SUBMITTED_AT, DURATION_S, SOURCE, COMPLETE)

#: Values of ``source=`` that name a reader (``"auto"`` picks one of them).
SOURCES: tuple[str, ...] = ("csv", "excel", "parquet", "spss", "wjx", "qualtrics", "redcap", "fhir")


def unreadable_col(scale: str) -> str:
    """``phq9.n_unreadable``: cells of the scale that could not be read and were set missing.

    Present only when ``read_responses(..., on_invalid="missing")``;
    :func:`screening.check_quality` turns it into ``phq9.quality.unreadable``.
    """
    return f"{scale}.n_unreadable"


# Columns that locate a person (IP address, GPS position, 腾讯问卷 地理位置…) are dropped on
# reading: they are never needed to score and are personal information (PIPL Art. 4).
_PRIVATE = re.compile(
    r"^(来自ip|ip|ip地址|ipaddress|ip address|locationlatitude|locationlongitude|"
    r"location latitude|location longitude|latitude|longitude|地理位置.*|所在地区?|经度|纬度)$"
)


def is_private_column(header: str) -> bool:
    """True for a column that holds an IP address or a location (dropped by every reader)."""
    return bool(_PRIVATE.match(str(header).strip().casefold()))
