"""Initial archive schema (version 1): subjects, waves, batches, records, actions, access log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from screening.archive.triggers import create_guards, drop_guards

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_GUARDED = ("archive_info", "pseudonym_key", "subject", "subject_link", "wave", "batch", "record", "action", "access_log")
_ERASABLE = ("subject", "subject_link", "record", "action")


def upgrade() -> None:
    op.create_table("archive_info",
                    sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))
    op.create_table("pseudonym_key",
                    sa.Column("key_version", sa.String(32), primary_key=True),
                    sa.Column("check_value", sa.String(80), nullable=False),
                    sa.Column("recorded_at", sa.String(40), nullable=False))
    op.create_table("subject",
                    sa.Column("subject_id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("pseudonym", sa.String(80), nullable=False, unique=True),
                    sa.Column("key_version", sa.String(32), nullable=False),
                    sa.Column("recorded_at", sa.String(40), nullable=False))
    op.create_table("subject_link",
                    sa.Column("link_id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("from_subject", sa.Integer, nullable=False),
                    sa.Column("to_subject", sa.Integer, nullable=False),
                    sa.Column("kind", sa.String(16), nullable=False),
                    sa.Column("actor", sa.String(120), nullable=False),
                    sa.Column("reason", sa.Text, nullable=True),
                    sa.Column("recorded_at", sa.String(40), nullable=False))
    op.create_index("ix_subject_link_from", "subject_link", ["from_subject"])
    op.create_index("ix_subject_link_to", "subject_link", ["to_subject"])
    op.create_table("wave",
                    sa.Column("wave_id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("label", sa.String(120), nullable=False, unique=True),
                    sa.Column("on", sa.Date, nullable=False),
                    sa.Column("recorded_at", sa.String(40), nullable=False))
    op.create_table("batch",
                    sa.Column("batch_id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("kind", sa.String(16), nullable=False),
                    sa.Column("wave_id", sa.Integer, nullable=False),
                    sa.Column("actor", sa.String(120), nullable=False),
                    sa.Column("n_rows", sa.Integer, nullable=False),
                    sa.Column("columns", sa.Text, nullable=False),
                    sa.Column("provenance", sa.Text, nullable=False),
                    sa.Column("recorded_at", sa.String(40), nullable=False))
    op.create_table("record",
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
                    sa.Column("data", sa.Text, nullable=False))
    op.create_index("ix_record_wave_subject", "record", ["wave_id", "subject_id"])
    op.create_index("ix_record_subject", "record", ["subject_id"])
    op.create_index("ix_record_supersedes", "record", ["supersedes"])
    op.create_table("action",
                    sa.Column("action_id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("subject_id", sa.Integer, nullable=False),
                    sa.Column("wave_id", sa.Integer, nullable=True),
                    sa.Column("kind", sa.String(40), nullable=False),
                    sa.Column("on", sa.Date, nullable=False),
                    sa.Column("fulfils", sa.String(40), nullable=True),
                    sa.Column("outcome", sa.String(120), nullable=True),
                    sa.Column("actor", sa.String(120), nullable=False),
                    sa.Column("recorded_at", sa.String(40), nullable=False))
    op.create_table("access_log",
                    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("at", sa.String(40), nullable=False),
                    sa.Column("actor", sa.String(120), nullable=False),
                    sa.Column("action", sa.String(40), nullable=False),
                    sa.Column("purpose", sa.Text, nullable=True),
                    sa.Column("object", sa.Text, nullable=True),
                    sa.Column("n_subjects", sa.Integer, nullable=False),
                    sa.Column("prev_sha256", sa.String(64), nullable=False),
                    sa.Column("row_sha256", sa.String(64), nullable=False))
    op.create_table("erasure_permit", sa.Column("token", sa.String(64), primary_key=True))
    for stmt in create_guards(op.get_bind().dialect.name, _GUARDED, _ERASABLE):
        op.execute(stmt)


def downgrade() -> None:
    for stmt in drop_guards(op.get_bind().dialect.name, _GUARDED):
        op.execute(stmt)
    for t in ("erasure_permit", "access_log", "action", "record", "batch", "wave", "subject_link", "subject",
              "pseudonym_key", "archive_info"):
        op.drop_table(t)
