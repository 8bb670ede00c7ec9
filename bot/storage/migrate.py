"""Applies and inspects the Alembic migrations on the bridge's own engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
#: The advisory lock key that serialises migrations across processes on PostgreSQL.
MIGRATION_LOCK = 0x63697669632D6D67  # "civic-mg"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # noqa: S101  # the package always ships migrations
    return head


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema; a no-op when it is already there."""

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Processes starting together migrate one after the other; the rest then find nothing to do.
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        command.upgrade(_config(connection), "head")

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema version the database is at, or None before the first migration."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)
