"""set-aside events: inbound events the relay could not take in, kept for an admin

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "set_aside_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("citizen_platform", sa.String(length=32), nullable=True),
        sa.Column("citizen_user_id", sa.String(length=128), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("set_aside_at", bot.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_set_aside_events")),
        sa.UniqueConstraint("platform", "event_id", name=op.f("uq_set_aside_events_platform_event_id")),
    )
    op.create_index(
        "ix_set_aside_events_citizen", "set_aside_events", ["citizen_platform", "citizen_user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_set_aside_events_citizen", table_name="set_aside_events")
    op.drop_table("set_aside_events")
