"""outbox priority: bulk deliveries (announcements, consultations) behind case traffic, with a shared send budget

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.tables import UTCDateTime

revision = "0013"
# Chained to this branch's head so that ``upgrade head`` has one head; the lead re-chains at merge time.
down_revision = "0012"
branch_labels = None
depends_on = None

_PENDING = sa.text("state = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="0"))
    op.create_index(
        "ix_deliveries_pending_priority",
        "deliveries",
        ["priority", "next_attempt_at", "id"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.create_index(
        "ix_deliveries_pending_platform",
        "deliveries",
        ["target_platform", "priority", "next_attempt_at", "id"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.create_table(
        "send_budgets",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("next_slot", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", name=op.f("pk_send_budgets")),
    )


def downgrade() -> None:
    op.drop_table("send_budgets")
    op.drop_index("ix_deliveries_pending_platform", table_name="deliveries")
    op.drop_index("ix_deliveries_pending_priority", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("priority")
