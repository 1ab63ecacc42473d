"""The archive's tables: one SQLAlchemy Core definition for SQLite and PostgreSQL.

Rows are only ever inserted. A correction is a new ``record`` row whose
``supersedes`` names the row it replaces; "current" is derived (rows nothing
supersedes). Database triggers refuse UPDATE and DELETE (see
:mod:`screening.archive.triggers`); the only exception is the logged erasure
path, which deletes while an ``erasure_permit`` row exists inside its own
transaction.

Students appear only as keyed pseudonyms (``subject.pseudonym``, made by
:func:`screening.reports.pseudonymise`); the key never enters the database,
only a check value per key version.

The migrations in ``migrations/versions`` build exactly these tables (a test
compares them with Alembic's ``compare_metadata``).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata", "SCHEMA_HEAD", "GUARDED", "ERASABLE"]

metadata = sa.MetaData()

#: Alembic revision this code writes (the newest migration).
SCHEMA_HEAD = "0002"

archive_info = sa.Table(
    "archive_info", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

pseudonym_key = sa.Table(
    "pseudonym_key", metadata,
    sa.Column("key_version", sa.String(32), primary_key=True),
    # HMAC of a fixed text under the key: tells whether a key is the one the archive was written with
    sa.Column("check_value", sa.String(80), nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

subject = sa.Table(
    "subject", metadata,
    sa.Column("subject_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pseudonym", sa.String(80), nullable=False, unique=True),
    sa.Column("key_version", sa.String(32), nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

subject_link = sa.Table(
    "subject_link", metadata,
    sa.Column("link_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("from_subject", sa.Integer, nullable=False),
    sa.Column("to_subject", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # rekey | merge | transfer
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Index("ix_subject_link_from", "from_subject"),
    sa.Index("ix_subject_link_to", "to_subject"),
)

wave = sa.Table(
    "wave", metadata,
    sa.Column("wave_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("label", sa.String(120), nullable=False, unique=True),
    sa.Column("on", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    # added in revision 0002: 开学 / 考试季 / 毕业季 … (a label for time-of-year analyses)
    sa.Column("period", sa.String(60), nullable=True),
)

batch = sa.Table(
    "batch", metadata,
    sa.Column("batch_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # screening | transfer_in
    sa.Column("wave_id", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("columns", sa.Text, nullable=False),  # JSON {column: kind}
    sa.Column("provenance", sa.Text, nullable=False),  # JSON: library version, scale and rule-set hashes
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

record = sa.Table(
    "record", metadata,
    sa.Column("record_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subject_id", sa.Integer, nullable=False),
    sa.Column("wave_id", sa.Integer, nullable=False),
    sa.Column("batch_id", sa.Integer, nullable=False),
    sa.Column("supersedes", sa.Integer, nullable=True),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("tier", sa.String(40), nullable=True),
    sa.Column("urgent", sa.Boolean, nullable=True),
    sa.Column("rescreen", sa.Boolean, nullable=True),
    sa.Column("follow_up_days", sa.Float, nullable=True),
    sa.Column("rules_fired", sa.Text, nullable=True),
    sa.Column("school", sa.String(200), nullable=True),
    sa.Column("grade", sa.String(60), nullable=True),
    sa.Column("class", sa.String(200), nullable=True),
    sa.Column("sex", sa.String(20), nullable=True),
    # groups, risk flags and every score column of the result, as one JSON object (null = collected, unknown)
    sa.Column("data", sa.Text, nullable=False),
    sa.Index("ix_record_wave_subject", "wave_id", "subject_id"),
    sa.Index("ix_record_subject", "subject_id"),
    sa.Index("ix_record_supersedes", "supersedes"),
)

action = sa.Table(
    "action", metadata,
    sa.Column("action_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subject_id", sa.Integer, nullable=False),
    sa.Column("wave_id", sa.Integer, nullable=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("on", sa.Date, nullable=False),
    sa.Column("fulfils", sa.String(40), nullable=True),  # follow_up | rescreen (the due item it closes)
    sa.Column("outcome", sa.String(120), nullable=True),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    # revision 0002
    sa.Index("ix_action_subject", "subject_id"),
)

access_log = sa.Table(
    "access_log", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("purpose", sa.Text, nullable=True),
    sa.Column("object", sa.Text, nullable=True),
    sa.Column("n_subjects", sa.Integer, nullable=False),
    sa.Column("prev_sha256", sa.String(64), nullable=False),
    sa.Column("row_sha256", sa.String(64), nullable=False),
)

erasure_permit = sa.Table(
    "erasure_permit", metadata,
    sa.Column("token", sa.String(64), primary_key=True),
)

#: Tables whose rows can never be updated or deleted.
GUARDED = ("archive_info", "pseudonym_key", "subject", "subject_link", "wave", "batch", "record", "action", "access_log")
#: Of those, the ones the logged erasure path may delete from.
ERASABLE = ("subject", "subject_link", "record", "action")
