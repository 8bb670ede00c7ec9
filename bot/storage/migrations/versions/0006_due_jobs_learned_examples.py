"""due jobs (timers fired once across processes) and learned routing examples

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "due_jobs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("case_id", _ID, nullable=True),
        sa.Column("due_at", bot.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", bot.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_due_jobs_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_jobs")),
    )
    op.create_index("ix_due_jobs_due_at", "due_jobs", ["due_at"], unique=False)
    op.create_index("ix_due_jobs_case_kind", "due_jobs", ["case_id", "kind"], unique=False)
    op.create_table(
        "learned_examples",
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("labelled_at", bot.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_learned_examples_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_learned_examples")),
    )


def downgrade() -> None:
    op.drop_table("learned_examples")
    op.drop_index("ix_due_jobs_case_kind", table_name="due_jobs")
    op.drop_index("ix_due_jobs_due_at", table_name="due_jobs")
    op.drop_table("due_jobs")
