"""The ``privacy`` and ``audit`` commands: export, erase, purge, and who did what."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO, TypeVar

from bot.privacy import (
    Erasure,
    audit,
    audit_entries,
    cases_of_citizen,
    citizens_of_account,
    erase,
    export,
)
from bot.purge import PurgeCounts, Retention, purge
from bot.retention import scrub_sqlite
from bot.startup import choose_routing
from bot.storage.store import Store, Tx
from config.settings import load_settings

if TYPE_CHECKING:
    from bot.model import Case, CitizenId

T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``privacy export|erase|purge`` and ``audit``."""
    privacy = subparsers.add_parser("privacy", help="citizens' data: export, erase, apply retention")
    commands = privacy.add_subparsers(dest="privacy_command", metavar="{export,erase,purge}", required=True)
    exporting = commands.add_parser("export", help="print a citizen's data as JSON (an access request)")
    _who(exporting)
    exporting.set_defaults(func=cmd_export)
    erasing = commands.add_parser(
        "erase", help="erase a case or a citizen everywhere the bridge put it (works while the bridge runs)"
    )
    _who(erasing)
    erasing.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erasing.set_defaults(func=cmd_erase)
    purging = commands.add_parser("purge", help="apply the retention period now (`run` does it daily)")
    purging.add_argument("--dry-run", action="store_true", help="print what would be removed, remove nothing")
    purging.set_defaults(func=cmd_purge)
    trail = subparsers.add_parser("audit", help="who did what and when (never message text)")
    trail.add_argument("--reference", metavar="REF", help="only this case")
    trail.add_argument("--actor", metavar="NAME", help="only this person (or 'system')")
    trail.add_argument("--since", metavar="DATE", type=_date, help="only from this date (YYYY-MM-DD, UTC) on")
    trail.set_defaults(func=cmd_audit)


def _who(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--reference", metavar="REF", help="one case, by its reference")
    target.add_argument(
        "--citizen", metavar="PLATFORM:ID", help="every case of one platform account, e.g. telegram:12345"
    )


def _date(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        msg = f"{value!r} is not a date: write it as YYYY-MM-DD"
        raise argparse.ArgumentTypeError(msg) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _actor() -> str:
    """Who runs the command, as the audit trail names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


async def _targets(tx: Tx, args: argparse.Namespace) -> list[Case]:
    if args.reference:
        case = await tx.case_by_reference(str(args.reference).strip().upper())
        return [case] if case is not None else []
    platform, _, user_id = str(args.citizen).partition(":")
    return await cases_of_citizen(tx, platform.strip().lower(), user_id.strip())


async def _citizens(tx: Tx, args: argparse.Namespace) -> list[CitizenId]:
    """With ``--citizen``: the account's citizen record, found even with no case (a subscriber, an answer)."""
    if args.reference:
        return []
    platform, _, user_id = str(args.citizen).partition(":")
    return await citizens_of_account(tx, platform.strip().lower(), user_id.strip())


def _nothing(args: argparse.Namespace, err: TextIO) -> int:
    what = f"case {args.reference}" if args.reference else f"citizen {args.citizen}"
    print(f"civic-bridge: no {what} in the database", file=err)  # the command's output
    return 1


def cmd_export(args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Print the citizen's data as JSON; the export is recorded in the audit trail."""
    if args.citizen and ":" not in args.citizen:
        print(
            "civic-bridge: --citizen takes PLATFORM:ID, e.g. telegram:12345", file=stderr or sys.stderr
        )  # the user-facing error
        return 2

    async def work(tx: Tx) -> dict[str, object] | None:
        targets, people = await _targets(tx, args), await _citizens(tx, args)
        if not targets and not people:
            return None
        for case in targets:
            await audit(tx, actor=_actor(), action="export", reference=case.reference)
        for citizen_id in sorted(set(people) - {case.citizen_id for case in targets}):
            await audit(tx, actor=_actor(), action="export", citizen=int(citizen_id))
        return await export(tx, targets, citizen_ids=people)

    data = asyncio.run(_with_store(work))
    if data is None:
        return _nothing(args, stderr or sys.stderr)
    print(json.dumps(data, indent=2, ensure_ascii=False), file=stdout or sys.stdout)  # the command's output
    return 0


def cmd_erase(
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Erase the case(s) in the database, queue "[erased]" over the bridge's thread posts, scrub SQLite's log."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    if args.citizen and ":" not in args.citizen:
        print("civic-bridge: --citizen takes PLATFORM:ID, e.g. telegram:12345", file=err)  # the user-facing error
        return 2

    async def find(tx: Tx) -> tuple[list[str], list[CitizenId]]:
        return [case.reference for case in await _targets(tx, args)], await _citizens(tx, args)

    references, people = asyncio.run(_with_store(find))
    if not references and not people:
        return _nothing(args, err)
    if not args.yes:
        source = stdin or sys.stdin
        what = f"{len(references)} case(s): {', '.join(references)}" if references else f"citizen {args.citizen}"
        print(f"erase {what}? Type 'erase' to confirm: ", end="", file=out)  # the prompt
        out.flush()
        if source.readline().strip().lower() != "erase":
            print("civic-bridge: nothing was erased", file=err)  # the user-facing error
            return 1

    async def work(tx: Tx) -> Erasure:
        return await erase(tx, await _targets(tx, args), actor=_actor(), citizen_ids=await _citizens(tx, args))

    done = asyncio.run(_with_store(work, scrub=True))
    print(  # the command's output
        f"erased {len(done.references)} case(s){': ' if done.references else ''}{', '.join(done.references)}; "
        f"{done.thread_updates} thread post(s) queued to show [erased]; {done.citizens} citizen(s) de-identified",
        file=out,
    )
    return 0


def cmd_purge(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Apply the routing file's retention period now (or, with ``--dry-run``, count what it would remove)."""
    settings = load_settings()
    retention = Retention(choose_routing(settings).config.privacy.retention_days)

    async def work(tx: Tx) -> PurgeCounts:
        return await purge(tx, retention, dry_run=args.dry_run, actor=_actor())

    counts = asyncio.run(_with_store(work, scrub=not args.dry_run))
    out = stdout or sys.stdout
    heading = "would remove (dry run)" if args.dry_run else "removed"
    print(f"retention {retention.days} days; {heading}:", file=out)  # the command's output
    for line in counts.lines():
        print(f"  {line}", file=out)  # the command's output
    return 0


def cmd_audit(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Print the audit trail, one entry a line, oldest first."""

    async def work(tx: Tx) -> list[str]:
        entries = await audit_entries(tx, reference=args.reference, actor=args.actor, since=args.since)
        return [
            "\t".join(
                [
                    entry.at.isoformat(timespec="seconds"),
                    entry.actor,
                    entry.action,
                    entry.reference or "-",
                    json.dumps(dict(entry.details), sort_keys=True) if entry.details else "",
                ]
            ).rstrip()
            for entry in entries
        ]

    out = stdout or sys.stdout
    for line in asyncio.run(_with_store(work, write=False)):
        print(line, file=out)  # the command's output
    return 0


async def _with_store(work: Callable[[Tx], Awaitable[T]], *, write: bool = True, scrub: bool = False) -> T:
    store = Store.open(load_settings().database_url)
    try:
        result = await (store.atomic(work) if write else store.read(work))
        if scrub:
            await scrub_sqlite(store)
        return result
    finally:
        await store.close()
