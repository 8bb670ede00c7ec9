"""consultations and announcements: subscriptions, offers, consultations, recipients, answers

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.tables

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at() -> bot.storage.tables.UTCDateTime:
    return bot.storage.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("citizen_id", _ID, nullable=False),
        sa.Column("chat_platform", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("subscribed_at", _at(), nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"], name=op.f("fk_subscriptions_citizen_id_citizens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint(
            "chat_platform", "chat_id", "topic", name=op.f("uq_subscriptions_chat_platform_chat_id_topic")
        ),
    )
    op.create_index("ix_subscriptions_topic", "subscriptions", ["topic", "id"])
    op.create_index("ix_subscriptions_citizen_id", "subscriptions", ["citizen_id"])
    op.create_table(
        "subscription_offers",
        sa.Column("citizen_id", _ID, nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("offered_at", _at(), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_subscription_offers_citizen_id_citizens")
        ),
        sa.PrimaryKeyConstraint("citizen_id", name=op.f("pk_subscription_offers")),
    )
    op.create_table(
        "consultations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("free_text", sa.Boolean(), nullable=False),
        sa.Column("show_who", sa.Boolean(), nullable=False),
        sa.Column("closes_at", _at(), nullable=True),
        sa.Column("closed_at", _at(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _at(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    op.create_table(
        "consultation_recipients",
        sa.Column("consultation_id", _ID, nullable=False),
        sa.Column("chat_platform", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("citizen_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_recipients_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_consultation_recipients_citizen_id_citizens")
        ),
        sa.PrimaryKeyConstraint(
            "consultation_id", "chat_platform", "chat_id", name=op.f("pk_consultation_recipients")
        ),
    )
    op.create_index(
        "ix_consultation_recipients_chat",
        "consultation_recipients",
        ["chat_platform", "chat_id", "consultation_id"],
    )
    op.create_table(
        "consultation_answers",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("consultation_id", _ID, nullable=False),
        sa.Column("chat_platform", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("citizen_id", _ID, nullable=True),
        sa.Column("option", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("answered_at", _at(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_answers_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_consultation_answers_citizen_id_citizens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_answers")),
        sa.UniqueConstraint(
            "consultation_id",
            "chat_platform",
            "chat_id",
            name=op.f("uq_consultation_answers_consultation_id_chat_platform_chat_id"),
        ),
    )
    op.create_index("ix_consultation_answers_citizen_id", "consultation_answers", ["citizen_id"])


def downgrade() -> None:
    op.drop_index("ix_consultation_answers_citizen_id", table_name="consultation_answers")
    op.drop_table("consultation_answers")
    op.drop_index("ix_consultation_recipients_chat", table_name="consultation_recipients")
    op.drop_table("consultation_recipients")
    op.drop_table("consultations")
    op.drop_table("subscription_offers")
    op.drop_index("ix_subscriptions_citizen_id", table_name="subscriptions")
    op.drop_index("ix_subscriptions_topic", table_name="subscriptions")
    op.drop_table("subscriptions")
