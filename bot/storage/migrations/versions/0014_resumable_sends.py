"""resumable broadcasts: a consultation's send state, its bookmark, and whether to report in Slack when sent

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("send_state", sa.String(length=16), nullable=False, server_default="sent"))
        batch.add_column(sa.Column("queued_until", _ID, nullable=False, server_default="0"))
        batch.add_column(sa.Column("report_when_sent", sa.Boolean(), nullable=False, server_default=sa.text("false")))


def downgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.drop_column("report_when_sent")
        batch.drop_column("queued_until")
        batch.drop_column("send_state")
