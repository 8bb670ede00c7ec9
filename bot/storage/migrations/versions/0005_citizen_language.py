"""citizen language: the explicit choice and the not-offered notice on the citizen, the identified language on the case

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.add_column(sa.Column("chosen_language", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("language_notice", sa.String(length=16), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("citizens") as batch:
        batch.drop_column("language_notice")
        batch.drop_column("chosen_language")
