"""The ``consult`` command: announcements and consultations from the command line (DESIGN.md's contract).

``create`` and ``announce`` queue one delivery per subscribed chat; the running bridge's delivery
worker sends them (it looks at the outbox at least every second). ``list``, ``close`` and ``results``
read and act on what exists. Who runs the command is recorded in the audit trail, never the text.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import io
import json
import sys
import zoneinfo
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from bot.consultations.model import BroadcastKind, Consultation, ConsultationError, Results
from bot.consultations.service import ConsultationService
from bot.live_routing import directory_from
from bot.startup import choose_routing, languages_from
from bot.storage.store import Store
from config.settings import load_settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


def actor() -> str:
    """Who runs the command, as the audit trail names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``consult create|announce|list|close|results``; each sets ``func(args) -> exit code``."""
    consult = subparsers.add_parser("consult", help="announcements and consultations to citizens who opted in")
    commands = consult.add_subparsers(dest="consult_command", metavar="{create,announce,list,close,results}")
    commands.required = True
    create = commands.add_parser("create", help="ask a department's subscribers a question")
    create.add_argument("--department", required=True, metavar="KEY", help="the department that asks")
    create.add_argument("--topic", metavar="KEY", help="send to the department's topic (and its own followers)")
    create.add_argument("--question", required=True, metavar="TEXT")
    answers = create.add_mutually_exclusive_group(required=True)
    answers.add_argument("--option", action="append", metavar="TEXT", help="an option (repeat: two or more)")
    answers.add_argument("--free-text", action="store_true", help="citizens answer in their own words")
    create.add_argument("--closes", metavar="DATE", help="YYYY-MM-DD (end of that day) or YYYY-MM-DDTHH:MM")
    create.add_argument("--show-who", action="store_true", help="results name who answered what")
    create.set_defaults(func=cmd_create)
    announce = commands.add_parser("announce", help="send a short notice to a department's subscribers")
    announce.add_argument("--department", required=True, metavar="KEY")
    announce.add_argument("--topic", metavar="KEY", help="send to the department's topic (and its own followers)")
    announce.add_argument("text", metavar="TEXT")
    announce.set_defaults(func=cmd_announce)
    commands.add_parser("list", help="every announcement and consultation, newest first").set_defaults(func=cmd_list)
    close = commands.add_parser("close", help="stop taking answers to a consultation")
    close.add_argument("id", type=int, metavar="ID")
    close.set_defaults(func=cmd_close)
    results = commands.add_parser("results", help="counts per option and free-text answers")
    results.add_argument("id", type=int, metavar="ID")
    results.add_argument("--format", choices=("table", "csv", "json"), default="table")
    results.set_defaults(func=cmd_results)


def closing_time(value: str, zone: str) -> datetime:
    """``--closes``: a date means the end of that day, a time without zone is the office's time zone."""
    office = zoneinfo.ZoneInfo(zone)
    try:
        if len(value) == len("YYYY-MM-DD"):
            day = datetime.fromisoformat(value).date()
            return datetime.combine(day + timedelta(days=1), time(0), tzinfo=office).astimezone(UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        msg = f"--closes {value!r}: write a date as YYYY-MM-DD or a time as YYYY-MM-DDTHH:MM"
        raise ConsultationError(msg) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=office)).astimezone(UTC)


def _state(item: Consultation, now: datetime) -> str:
    if item.sending:  # still being queued (a running bridge finishes a send that was cut short)
        return "sending"
    if item.kind is BroadcastKind.ANNOUNCEMENT:
        return "sent"
    if item.is_open(now):
        return f"open until {item.closes_at:%Y-%m-%d %H:%M}" if item.closes_at else "open"
    ended = item.closed_at or item.closes_at
    return f"closed {ended:%Y-%m-%d %H:%M}" if ended else "closed"


def format_list(items: list[Consultation], now: datetime) -> str:
    """One line per announcement or consultation (times in UTC)."""
    if not items:
        return "no announcements or consultations yet"
    head = f"{'ID':>4}  {'KIND':12}  {'DEPARTMENT':12}  {'SENT TO':>7}  {'CREATED (UTC)':16}  {'STATE':28}  TEXT"
    lines = [head]
    for item in items:
        text = item.text if len(item.text) <= 50 else f"{item.text[:49]}…"  # noqa: PLR2004  # a column's width
        lines.append(
            f"{item.id:>4}  {item.kind.value:12}  {item.department:12}  {item.recipients:>7}  "
            f"{item.created_at:%Y-%m-%d %H:%M}  {_state(item, now):28}  {text}"
        )
    return "\n".join(lines)


def format_results(results: Results, fmt: str, now: datetime) -> str:
    """Results as a table, CSV (one row per option, or per free-text answer) or JSON."""
    item = results.consultation
    if fmt == "json":
        return json.dumps(_results_json(results, now), indent=2, ensure_ascii=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if item.free_text:
            writer.writerow(["answered_at", "answer", *(["who"] if item.show_who_answered else [])])
            for answer in results.texts:
                who = [answer.who or ""] if item.show_who_answered else []
                writer.writerow([answer.answered_at.isoformat(), answer.text, *who])
        else:
            writer.writerow(["number", "option", "count"])
            writer.writerows([c.number, c.label, c.count] for c in results.counts)
        return out.getvalue().rstrip("\n")
    heading = (
        f"consultation {item.id} · {item.department} · {_state(item, now)} · sent to {item.recipients} · "
        f"answered by {results.answered}"
    )
    lines = [heading, item.text]
    width = max((len(c.label) for c in results.counts), default=0)
    for count in results.counts:
        share = f"{100 * count.count / results.answered:.0f}%" if results.answered else "-"
        lines.append(f"{count.number:>3}. {count.label:{width}}  {count.count:>6}  {share:>4}")
    lines.extend(f"  - {t.text}" + (f"  ({t.who})" if t.who else "") for t in results.texts)
    lines.extend(f"  {v.who}: {v.option}" for v in results.voters)
    return "\n".join(lines)


def _results_json(results: Results, now: datetime) -> dict[str, Any]:
    item = results.consultation
    return {
        "id": item.id,
        "department": item.department,
        "question": item.text,
        "state": _state(item, now),
        "sent_to": item.recipients,
        "answered": results.answered,
        "options": [{"number": c.number, "option": c.label, "count": c.count} for c in results.counts],
        "free_text": [
            {"answered_at": t.answered_at.isoformat(), "answer": t.text, **({"who": t.who} if t.who else {})}
            for t in results.texts
        ],
        **({"who_answered": [{"who": v.who, "option": v.option} for v in results.voters]} if results.voters else {}),
    }


def _run(work: Callable[[ConsultationService, str], Awaitable[str]], stdout: TextIO | None) -> int:
    """Open the store and the configured routing, run ``work``, print its line; exit 1 on a refused request."""
    settings = load_settings()
    routing = choose_routing(settings)

    async def run() -> str:
        store = Store.open(settings.database_url)
        try:
            service = ConsultationService(
                store=store, directory=directory_from(routing.config), languages=languages_from(routing.config)
            )
            return await work(service, routing.config.timezone)
        finally:
            await store.close()

    try:
        print(asyncio.run(run()), file=stdout or sys.stdout)  # the command's output
    except ConsultationError as error:
        print(f"civic-bridge: {error}", file=sys.stderr)  # noqa: T201  # the user-facing error
        return 1
    return 0


def cmd_create(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Create a consultation and send it to the subscribers."""

    async def work(service: ConsultationService, zone: str) -> str:
        created = await service.create_consultation(
            department=args.department,
            question=args.question,
            options=tuple(args.option or ()),
            free_text=bool(args.free_text),
            closes_at=closing_time(args.closes, zone) if args.closes else None,
            show_who_answered=bool(args.show_who),
            actor=actor(),
            topic=args.topic,
        )
        return f"consultation {created.id} sent to {created.recipients} subscribed chats"

    return _run(work, stdout)


def cmd_announce(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Send an announcement to the subscribers."""

    async def work(service: ConsultationService, _zone: str) -> str:
        created = await service.create_announcement(
            department=args.department, text=args.text, actor=actor(), topic=args.topic
        )
        return f"announcement {created.id} sent to {created.recipients} subscribed chats"

    return _run(work, stdout)


def cmd_list(_args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Print every announcement and consultation."""

    async def work(service: ConsultationService, _zone: str) -> str:
        return format_list(await service.list(), datetime.now(UTC))

    return _run(work, stdout)


def cmd_close(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Close a consultation."""

    async def work(service: ConsultationService, _zone: str) -> str:
        closed = await service.close(int(args.id), actor=actor())
        return f"consultation {closed.id} closed"

    return _run(work, stdout)


def cmd_results(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Print a consultation's results."""

    async def work(service: ConsultationService, _zone: str) -> str:
        return format_results(await service.results(int(args.id)), str(args.format), datetime.now(UTC))

    return _run(work, stdout)
