"""The ``civic-bridge`` command line: run, routes, db, desk. The only place that exits the process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import desk_cli, privacy_cli, routes_cli
from bot.app import App, StartupError, choose_routing
from bot.database_errors import database_problem
from bot.storage import migrate
from bot.storage.store import Store
from config.routing_file import RoutingFileError
from config.settings import Settings, SettingsError, load_settings

log = logging.getLogger("civic_bridge")

#: Loggers that would print request URLs (the Telegram Bot API puts the token in them) or bodies.
QUIET_LOGGERS = (
    "httpx",
    "httpcore",
    "aiohttp.access",
    "telegram.ext.ExtBot",
    "slack_sdk.web",
    "slack_bolt",
    "discord.http",
    "alembic",
)


def configure_logging(level: str) -> None:
    """Plain one-line logs; the chatty HTTP clients only say warnings."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


def _default_routing() -> Path:
    try:
        return choose_routing(load_settings()).path
    except (SettingsError, StartupError, RoutingFileError):
        return load_settings().routing_file


async def _run(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with App(settings=settings):
        await stop.wait()
        log.info("stopping: finishing in-flight deliveries")
    log.info("stopped cleanly")


def cmd_run(_args: argparse.Namespace) -> int:
    """Run the bridge until SIGINT/SIGTERM."""
    settings = load_settings()
    configure_logging(settings.log_level)
    asyncio.run(_run(settings))
    return 0


async def _db(command: str, settings: Settings) -> int:
    store = Store.open(settings.database_url)
    try:
        if command == "upgrade":
            await migrate.upgrade(store.engine)
            print(f"database at schema {migrate.head_revision()}")  # noqa: T201  # the command's output
            return 0
        return await _db_check(store)
    finally:
        await store.close()


async def _db_check(store: Store) -> int:
    current = await migrate.current_revision(store.engine)
    head = migrate.head_revision()
    problems = []
    if current != head:
        problems.append(
            f"schema is at {current or 'nothing'}, this version needs {head}: run `civic-bridge db upgrade`"
        )
    async with store.engine.connect() as connection:
        if store.is_sqlite:
            result = (await connection.exec_driver_sql("PRAGMA integrity_check")).scalar_one()
            if result != "ok":
                problems.append(f"SQLite integrity check: {result}")
        else:
            await connection.exec_driver_sql("SELECT 1")
    for problem in problems:
        print(problem)  # noqa: T201  # the command's output
    if not problems:
        print(f"ok: schema {head}, integrity ok")  # noqa: T201  # the command's output
    return 1 if problems else 0


def cmd_db(args: argparse.Namespace) -> int:
    """Apply migrations, or check the schema version and integrity."""
    return asyncio.run(_db(args.db_command, load_settings()))


def build_parser() -> argparse.ArgumentParser:
    """Every command and its arguments."""
    parser = argparse.ArgumentParser(prog="civic-bridge", description="Bridge citizens' chats to public offices.")
    commands = parser.add_subparsers(dest="command", metavar="{run,routes,db,desk,privacy,audit}", required=True)
    run = commands.add_parser("run", help="run the bridge (applies pending migrations first)")
    run.set_defaults(func=cmd_run)
    routes_cli.register(commands, default_routing=_default_routing)
    db = commands.add_parser("db", help="database migrations and checks")
    db.add_argument("db_command", choices=["upgrade", "check"])
    db.set_defaults(func=cmd_db)
    desk_cli.register(commands)
    privacy_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run, and turn known failures into one actionable line on stderr."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (SettingsError, StartupError, RoutingFileError) as error:
        print(f"civic-bridge: {error}", file=sys.stderr)  # noqa: T201  # the user-facing error
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        problem = _database_problem(error)
        if problem is None:
            raise
        print(f"civic-bridge: {problem}", file=sys.stderr)  # noqa: T201  # the user-facing error
    return 2


def _database_problem(error: Exception) -> str | None:
    """One line for a database failure (any command that opened the database), else None."""
    try:
        url = load_settings().database_url
    except SettingsError:
        return None
    return database_problem(error, url)


if __name__ == "__main__":
    sys.exit(main())
