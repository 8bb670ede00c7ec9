"""escalation and ratings: cases.overdue and first_answer_due_at, and one satisfaction rating per closed case

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.tables import UTCDateTime

revision = "0010"
# Chained to this branch's head so that ``upgrade head`` has one head; the lead re-chains at merge time.
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("overdue", sa.Boolean(), nullable=False, server_default=sa.text("false")))
        batch.add_column(sa.Column("first_answer_due_at", UTCDateTime(), nullable=True))
    op.create_table(
        "case_ratings",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("commented_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_ratings_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_ratings")),
    )
    op.create_index("ix_case_ratings_rated_at", "case_ratings", ["rated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_ratings_rated_at", table_name="case_ratings")
    op.drop_table("case_ratings")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("first_answer_due_at")
        batch.drop_column("overdue")
