"""message translations: a message's machine translation (or why there is none) on its row

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("translated_from", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("translated_to", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("translation", sa.Text(), nullable=True))
        batch.add_column(sa.Column("translation_error", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("translation_error")
        batch.drop_column("translation")
        batch.drop_column("translated_to")
        batch.drop_column("translated_from")
