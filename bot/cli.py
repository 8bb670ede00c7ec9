"""The ``civic-bridge`` command line: run, routes, db, desk. The only place that exits the process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import consult_cli, desk_cli, events_cli, privacy_cli, reports_cli, routes_cli
from bot.app import App
from bot.database_errors import database_problem
from bot.startup import StartupError, choose_routing
from bot.storage import migrate
from bot.storage.store import Store
from config.routing_file import RoutingFileError
from config.settings import Settings, SettingsError, load_settings, settings_help

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
    app = App(settings=settings)
    # Set before the start: a SIGHUP while starting must not end the process (the default action).
    loop.add_signal_handler(signal.SIGHUP, app.reload_routing)
    async with app:
        await stop.wait()
        log.info("stopping: finishing in-flight deliveries")
    log.info("stopped cleanly")


def cmd_run(_args: argparse.Namespace) -> int:
    """Run the bridge until SIGINT/SIGTERM; SIGHUP reloads the routing file."""
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
    commands = parser.add_subparsers(
        dest="command", metavar="{run,routes,db,desk,events,privacy,audit,report,consult}", required=True
    )
    run = commands.add_parser(
        "run",
        help="run the bridge (applies pending migrations first)",
        description="Runs the bridge: every platform whose credentials are set, the delivery worker and the HTTP "
        "server. Applies pending database migrations first. SIGHUP reloads the routing file.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.set_defaults(func=cmd_run)
    routes_cli.register(commands, default_routing=_default_routing)
    db = commands.add_parser("db", help="database migrations and checks")
    db_commands = db.add_subparsers(dest="db_command", metavar="{upgrade,check}", required=True)
    db_commands.add_parser(
        "upgrade",
        help="apply pending migrations",
        description="Applies every pending migration to BRIDGE_DATABASE_URL (`run` does this too).",
    ).set_defaults(func=cmd_db)
    db_commands.add_parser(
        "check",
        help="check the schema version and the database's integrity",
        description="Exits 1 when the schema is behind this version or the database fails its integrity check.",
    ).set_defaults(func=cmd_db)
    desk_cli.register(commands, default_routing=_default_routing)
    events_cli.register(commands)
    privacy_cli.register(commands)
    reports_cli.register(commands)
    consult_cli.register(commands)
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
