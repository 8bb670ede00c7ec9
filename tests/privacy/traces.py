"""Where a phrase may be left behind in a database: the SQLite file and its WAL, or a PostgreSQL dump."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import text

from bot.retention import scrub_sqlite
from bot.storage.store import Store
from tests.backends import POSTGRES_ENV


async def traces(store: Store, phrase: str) -> list[str]:
    """The places on disk (SQLite) or in a dump (PostgreSQL) that still hold ``phrase``."""
    if store.is_sqlite:
        await scrub_sqlite(store)
        database = Path(str(store.engine.url.database))
        files = [database, Path(f"{database}-wal")]
        return [str(f) for f in files if f.exists() and phrase.encode() in f.read_bytes()]
    async with store.engine.connect() as connection:
        schema = (await connection.execute(text("SELECT current_schema()"))).scalar_one()
    pg_dump = shutil.which("pg_dump")
    if pg_dump is not None:
        url = os.environ[POSTGRES_ENV].replace("postgresql+asyncpg://", "postgresql://", 1)
        command = [pg_dump, "--data-only", "-n", str(schema), url]
        dump = (
            await asyncio.to_thread(subprocess.run, command, capture_output=True, check=True)  # fixed program, no shell
        ).stdout
        return [f"pg_dump of {schema}"] if phrase.encode() in dump else []
    return await _select_every_column(store, str(schema), phrase)


async def _select_every_column(store: Store, schema: str, phrase: str) -> list[str]:
    """Without pg_dump: look in every text, JSON and bytes column of the schema."""
    found = []
    async with store.engine.connect() as connection:
        columns = await connection.execute(
            text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = :schema AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea')"
            ),
            {"schema": schema},
        )
        for table, column, kind in list(columns):
            value = f'"{column}"' if kind != "bytea" else f"encode(\"{column}\", 'escape')"
            query = text(f'SELECT count(*) FROM "{table}" WHERE ({value})::text LIKE :pattern')  # noqa: S608  # names from the catalog
            if (await connection.execute(query, {"pattern": f"%{phrase}%"})).scalar_one():
                found.append(f"{table}.{column}")
    return found
