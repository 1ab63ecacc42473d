"""Version 2: a period label per wave (开学/考试季/毕业季 …) and an index on action.subject_id.

Revision ID: 0002
Revises: 0001

Adding a nullable column needs no table copy, so SQLite's append-only triggers
stay in place (a batch "move and copy" would have dropped them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("wave", sa.Column("period", sa.String(60), nullable=True))
    op.create_index("ix_action_subject", "action", ["subject_id"])


def downgrade() -> None:
    op.drop_index("ix_action_subject", table_name="action")
    with op.batch_alter_table("wave") as b:
        b.drop_column("period")
