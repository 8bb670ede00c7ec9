"""The ``report`` command: per-department service figures for a date range, as a table, CSV or JSON."""

from __future__ import annotations

import argparse
import asyncio
import sys
import zoneinfo
from typing import TextIO

from bot.reports.model import Period, PeriodError, Report, period_of
from bot.reports.queries import StoreReports
from bot.reports.render import as_csv, as_json, as_table
from bot.startup import choose_routing
from bot.storage.store import Store, utc_now
from config.settings import load_settings

FORMATS = {"table": as_table, "csv": as_csv, "json": as_json}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report``."""
    report = subparsers.add_parser(
        "report",
        help="per-department service figures (cases, response times, targets, transfers, languages)",
        description="Figures for the cases opened from --since up to, not including, --until (office dates in the "
        "routing file's timezone; by default the 30 days up to and including today). Times are wall-clock hours.",
    )
    report.add_argument("--since", metavar="DATE", help="first day counted (YYYY-MM-DD)")
    report.add_argument("--until", metavar="DATE", help="first day not counted (YYYY-MM-DD; default: tomorrow)")
    report.add_argument("--format", choices=tuple(FORMATS), default="table", help="output format (default: table)")
    report.set_defaults(func=cmd_report)


async def _read(database_url: str, period: Period, names: dict[str, str]) -> Report:
    store = Store.open(database_url)
    try:
        return await StoreReports(store=store).report(period, names)
    finally:
        await store.close()


def cmd_report(args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Print the report; exit 2 with one line naming the fix when a date is unusable."""
    settings = load_settings()
    config = choose_routing(settings).config
    zone = zoneinfo.ZoneInfo(config.timezone)
    names = {d.key: d.name for d in config.departments}
    today = utc_now().astimezone(zone).date()
    try:
        period = period_of(args.since, args.until, today=today, zone=zone, labels=("--since", "--until"))
    except PeriodError as error:
        print(f"civic-bridge report: {error}", file=stderr or sys.stderr)  # the user-facing error
        return 2
    report = asyncio.run(_read(settings.database_url, period, names))
    (stdout or sys.stdout).write(FORMATS[args.format](report))
    return 0
