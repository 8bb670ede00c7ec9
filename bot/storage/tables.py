"""The database schema (SQLAlchemy Core). Unique constraints do the work that must never race."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; SQLite stores it without a zone."""
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: object, dialect: Dialect) -> datetime | None:
        """Read back as an aware UTC timestamp."""
        del dialect  # every backend returns a datetime here; only the zone differs
        if value is None:
            return None
        assert isinstance(value, datetime)  # noqa: S101  # the column only holds timestamps
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


inbound_events = Table(
    "inbound_events",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("received_at", UTCDateTime(), nullable=False),
)

citizens = Table(
    "citizens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("language", String(16)),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("platform", "user_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reference", String(32), nullable=False, unique=True),
    Column("citizen_id", Id, ForeignKey("citizens.id"), nullable=False),
    Column("chat_platform", String(32), nullable=False),
    Column("chat_id", String(128), nullable=False),
    Column("department", String(64)),
    Column("status", String(16), nullable=False),
    Column("thread_platform", String(32)),
    Column("thread_chat", String(128)),
    Column("thread_id", String(128)),
    Column("root_id", String(128)),
    Column("previous_case_id", Id, ForeignKey("cases.id")),
    Column("claimed_by", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # One department thread per case (columns on the case row), and no two cases on one thread.
    UniqueConstraint("thread_platform", "thread_chat", "thread_id"),
    # One open (or pending) case per citizen chat.
    Index(
        "uq_cases_open_chat",
        "chat_platform",
        "chat_id",
        unique=True,
        sqlite_where=text("status != 'closed'"),
        postgresql_where=text("status != 'closed'"),
    ),
    Index("ix_cases_chat_created", "chat_platform", "chat_id", "created_at"),
    Index("ix_cases_department_updated", "department", "updated_at"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("author", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("attachments", JSON, nullable=False),
    Column("source_platform", String(32)),
    Column("source_id", String(128)),
    Column("delivered_id", String(128)),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_messages_case_id", "case_id", "id"),
    Index("ix_messages_source", "source_platform", "source_id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id")),
    Column("message_id", Id, ForeignKey("messages.id")),
    Column("side", String(16), nullable=False),
    # Deliveries of one lane go out in order: a citizen chat's lane, or a case's department lane.
    Column("lane", String(200), nullable=False),
    Column("target_platform", String(32), nullable=False),
    Column("target_chat", String(128), nullable=False),
    Column("target_thread", String(128)),
    Column("in_case_thread", Boolean, nullable=False),
    Column("body", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text),
    Column("sent_id", String(128)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # 0: case traffic; 1: bulk (announcements, consultations), claimed after case traffic and paced by
    # the platform's shared bulk budget (``send_budgets``).
    Column("priority", SmallInteger, nullable=False, server_default="0"),
    # The worker's hot query: the oldest pending row of each lane that is due.
    Index(
        "ix_deliveries_pending_lane",
        "lane",
        "id",
        sqlite_where=text("state = 'pending'"),
        postgresql_where=text("state = 'pending'"),
    ),
    Index("ix_deliveries_case", "case_id", "id"),
    # Case traffic is claimed first, oldest due first, however many bulk rows wait.
    Index(
        "ix_deliveries_pending_priority",
        "priority",
        "next_attempt_at",
        "id",
        sqlite_where=text("state = 'pending'"),
        postgresql_where=text("state = 'pending'"),
    ),
    # Bulk rows are claimed per platform, as its budget allows.
    Index(
        "ix_deliveries_pending_platform",
        "target_platform",
        "priority",
        "next_attempt_at",
        "id",
        sqlite_where=text("state = 'pending'"),
        postgresql_where=text("state = 'pending'"),
    ),
    Index(
        "ix_deliveries_pending_due",
        "next_attempt_at",
        sqlite_where=text("state = 'pending'"),
        postgresql_where=text("state = 'pending'"),
    ),
)

# A platform said "slow down" (429 Retry-After) for one chat or channel: every process holds
# deliveries to it until ``until``, so the rate limit is shared across processes.
target_pauses = Table(
    "target_pauses",
    metadata,
    Column("target", String(200), primary_key=True),
    Column("until", UTCDateTime(), nullable=False),
)

# The bulk send budget of each platform, shared by every process: ``next_slot`` is when the next bulk
# send may go (a virtual clock advanced by 1/rate per claimed send, under this row's lock).
send_budgets = Table(
    "send_budgets",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("next_slot", UTCDateTime(), nullable=False),
)

blobs = Table(
    "blobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("mime_type", String(128), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# The citizen's language (#14): their explicit choice and the unoffered language they were told about
# live on the citizen row (personal data, erased with it); the language identified in a case's first
# message lives on the case row.
citizens.append_column(Column("chosen_language", String(16)))
citizens.append_column(Column("language_notice", String(16)))
cases.append_column(Column("language", String(16)))

# Sessions the web chat and desk issue, and the desk's one-time sign-in links (``bot.sessions``): the
# token's hash only. ``subject`` is the chat's id or the desk user's name; ``proof`` a fingerprint of the
# user's password hash, so a new password ends the old sessions. Expired rows are deleted.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("proof", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_web_sessions_expires_at", "expires_at"),
    Index("ix_web_sessions_kind_subject", "kind", "subject"),
)

# Rate limits every process shares (desk sign-in attempts), one fixed window per hashed key.
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("window_start", UTCDateTime(), nullable=False),
    Column("hits", Integer, nullable=False),
    Index("ix_rate_counters_window_start", "window_start"),
)

# Inbound events the relay could not take in after a few tries, kept aside so the intake moves on
# (``bot.set_aside``). ``payload`` (the event as JSON: message text, names, files) and the citizen's
# platform user id are personal data: erased with the citizen and purged after retention
# (``SetAsideQueries.erase_set_aside_of`` / ``purge_set_aside``). Logs and lists show only the rest.
set_aside_events = Table(
    "set_aside_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("error", String(200), nullable=False),
    Column("tries", Integer, nullable=False),
    Column("citizen_platform", String(32)),
    Column("citizen_user_id", String(128)),
    Column("payload", JSON),
    Column("set_aside_at", UTCDateTime(), nullable=False),
    UniqueConstraint("platform", "event_id"),
    Index("ix_set_aside_events_citizen", "citizen_platform", "citizen_user_id"),
)

# Machine translation (#14): what the delivery path decided for a message, kept on its row so a retried delivery
# never asks the server twice and the desk shows it. ``translated_from`` set means decided (same language: no
# ``translation``); ``translation`` is personal data like ``text`` and goes wherever the row goes.
messages.append_column(Column("translated_from", String(16)))
messages.append_column(Column("translated_to", String(16)))
messages.append_column(Column("translation", Text))
messages.append_column(Column("translation_error", String(300)))
# --- Privacy and records (#15) -------------------------------------------------------------------

# When a case's personal data was removed (retention purge or an erasure request): set once, never cleared.
cases.append_column(Column("erased_at", UTCDateTime()))

# Who did what and when, append-only; ``details`` never holds message text or citizen names.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("reference", String(32)),
    Column("details", JSON, nullable=False),
    Index("ix_audit_log_reference", "reference", "id"),
    Index("ix_audit_log_at", "at"),
)

# When a periodic task last ran: one conditional update per period lets one process of many run it.
scheduled_runs = Table(
    "scheduled_runs",
    metadata,
    Column("task", String(64), primary_key=True),
    Column("last_run_at", UTCDateTime(), nullable=False),
)

# Timers ("due jobs"): work that must happen once at a time, in whichever process claims it first.
# ``kind`` names the work (e.g. "menu_timeout"), ``case_id`` the case it is about (if any). A process
# deletes the row in the same transaction that does the work, so it fires exactly once.
due_jobs = Table(
    "due_jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE")),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_due_jobs_due_at", "due_at"),
    Index("ix_due_jobs_case_kind", "case_id", "kind"),
)

# What staff and citizens taught the router: the department that finally took a case (a transfer) or the
# one the citizen chose in the menu. No text is copied: the example's text is the case's first citizen
# message, read when listed, so erasing or purging the case's messages erases the example too.
learned_examples = Table(
    "learned_examples",
    metadata,
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("department", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("labelled_at", UTCDateTime(), nullable=False),
)

# Service levels (#16): when the first answer to a case is due, by its department's office hours and
# ``first_response`` target; null when the department promises none. Not personal data.
cases.append_column(Column("answer_due_at", UTCDateTime()))

# Escalation (#16): the answer due is late; set by the breach timer, cleared when staff answer or the case closes.
cases.append_column(Column("overdue", Boolean, nullable=False, server_default=text("false")))
# When the first answer was due: set once, never cleared (``answer_due_at`` is cleared when staff answer).
cases.append_column(Column("first_answer_due_at", UTCDateTime()))

# Satisfaction after close (#16): one row per case, written when the citizen is asked (so never asked twice).
# ``score`` 1-5 once they rate; ``comment`` is their optional words after it (personal data: erased and purged
# with the case's messages). ``department`` is the case's department when asked, for the reports.
case_ratings = Table(
    "case_ratings",
    metadata,
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("department", String(64)),
    Column("asked_at", UTCDateTime(), nullable=False),
    Column("score", Integer),
    Column("rated_at", UTCDateTime()),
    Column("comment", Text),
    Column("commented_at", UTCDateTime()),
    Index("ix_case_ratings_rated_at", "rated_at"),
)

# Consultations and announcements (#18). ``subscriptions``: a chat's consent to what a department or topic
# (``topic`` holds either key) sends, with when and the exact words shown, in the citizen's language; deleted
# when withdrawn. ``subscription_offers``: the one offer after a closed case each citizen gets.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("citizen_id", Id, ForeignKey("citizens.id"), nullable=False),
    Column("chat_platform", String(32), nullable=False),
    Column("chat_id", String(128), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("consent_text", Text, nullable=False),
    Column("subscribed_at", UTCDateTime(), nullable=False),
    UniqueConstraint("chat_platform", "chat_id", "topic"),
    Index("ix_subscriptions_topic", "topic", "id"),
    Index("ix_subscriptions_citizen_id", "citizen_id"),
)
subscription_offers = Table(
    "subscription_offers",
    metadata,
    Column("citizen_id", Id, ForeignKey("citizens.id"), primary_key=True),
    Column("department", String(64), nullable=False),
    Column("offered_at", UTCDateTime(), nullable=False),
)
# An announcement (``kind`` "announcement") or consultation; ``recipients`` counts the chats it went to.
consultations = Table(
    "consultations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("department", String(64), nullable=False),
    Column("topic", String(64)),
    Column("text", Text, nullable=False),
    Column("options", JSON, nullable=False),
    Column("free_text", Boolean, nullable=False),
    Column("show_who", Boolean, nullable=False),
    Column("closes_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("recipients", Integer, nullable=False),
    # A send is queued in chunks: ``send_state`` is "sending" until the last chunk, ``queued_until`` the last
    # subscription id queued (the bookmark any process continues from); ``report_when_sent`` posts "sent to N
    # chats" in the department's channel once it is done (publishing from Slack answers Slack before that).
    Column("send_state", String(16), nullable=False, server_default="sent"),
    Column("queued_until", Id, nullable=False, server_default="0"),
    Column("report_when_sent", Boolean, nullable=False, server_default=text("false")),
)
# Which chats a consultation went to: typed answers go to the latest one a chat received.
consultation_recipients = Table(
    "consultation_recipients",
    metadata,
    Column("consultation_id", Id, ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True),
    Column("chat_platform", String(32), primary_key=True),
    Column("chat_id", String(128), primary_key=True),
    Column("citizen_id", Id, ForeignKey("citizens.id")),
    Index("ix_consultation_recipients_chat", "chat_platform", "chat_id", "consultation_id"),
)
# The one department-channel message showing a consultation's results; ``message_id`` once it is posted.
consultation_posts = Table(
    "consultation_posts",
    metadata,
    Column("consultation_id", Id, ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("chat", String(128), nullable=False),
    Column("message_id", String(128)),
)
# One answer per chat and consultation (replaced while it is open): an option number or a text.
consultation_answers = Table(
    "consultation_answers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("consultation_id", Id, ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False),
    Column("chat_platform", String(32), nullable=False),
    Column("chat_id", String(128), nullable=False),
    Column("citizen_id", Id, ForeignKey("citizens.id")),
    Column("option", Integer),
    Column("text", Text),
    Column("answered_at", UTCDateTime(), nullable=False),
    UniqueConstraint("consultation_id", "chat_platform", "chat_id"),
    Index("ix_consultation_answers_citizen_id", "citizen_id"),
)
