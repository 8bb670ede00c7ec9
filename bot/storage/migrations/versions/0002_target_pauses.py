"""target pauses: 429 Retry-After shared by every process

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "target_pauses",
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("until", bot.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("target", name=op.f("pk_target_pauses")),
    )


def downgrade() -> None:
    op.drop_table("target_pauses")
