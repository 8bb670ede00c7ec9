"""``python -m bench [--quick] [--json PATH] [--only NAME,...] [--backends sqlite,postgres]``: run, print, save."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import burst, end_to_end, fanout, latency, routing, scale, scale_out, throughput
from bench.common import DEFAULT_POSTGRES_URL, Options, Row, machine, not_measured, postgres_version
from bench.table import machine_line, markdown, write_json

RESULTS = Path(__file__).resolve().parent / "results"

Measure = Callable[[str, Options], Awaitable[list[Row]]]

#: Every measurement, by the name ``--only`` takes, in table order.
MEASUREMENTS: dict[str, tuple[str, Measure]] = {
    "throughput": (throughput.NAME, throughput.measure),
    "latency": (latency.NAME, latency.measure),
    "e2e": (end_to_end.NAME, end_to_end.measure),
    "burst": (burst.NAME, burst.measure),
    "scale": (scale.NAME, scale.measure),
    "scaleout": (scale_out.NAME, scale_out.measure),
    "routing": (routing.NAME, routing.measure),
    "fanout": (fanout.NAME, fanout.measure),
}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a scaled-down run for CI (a couple of minutes)")
    parser.add_argument("--json", type=Path, help="where to write the JSON (default bench/results/<time>.json)")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(MEASUREMENTS)}")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BRIDGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL to use (a private schema or database is created and dropped)",
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    """Run the chosen measurements on each backend, print the table and write the JSON."""
    names = [n.strip() for n in args.only.split(",")] if args.only else list(MEASUREMENTS)
    unknown = [n for n in names if n not in MEASUREMENTS]
    if unknown:
        print(f"unknown measurement(s): {', '.join(unknown)}; choose from {', '.join(MEASUREMENTS)}")
        return 2
    options = Options(quick=args.quick, postgres_url=args.postgres_url, backends=tuple(args.backends.split(",")))
    about = machine()
    about["postgresql"] = await postgres_version(options)
    started = time.perf_counter()
    rows: list[Row] = []
    for name in names:
        title, measure = MEASUREMENTS[name]
        for backend in options.backends:
            began = time.perf_counter()
            try:
                found = await measure(backend, options)
            except Exception as error:  # noqa: BLE001  # one broken measurement must not hide the others
                traceback.print_exc()
                found = [not_measured(title, backend, f"{type(error).__name__}: {error}"[:300])]
            rows.extend(found)
            print(f"  {title} on {backend}: {time.perf_counter() - began:.1f}s", flush=True)
    seconds = time.perf_counter() - started
    print()
    print(markdown(rows))
    print()
    print(machine_line(about))
    print(
        f"{'Quick' if args.quick else 'Full'} run, {seconds:.0f} s: python -m bench{' --quick' if args.quick else ''}"
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.json or RESULTS / f"{'quick' if args.quick else 'full'}-{stamp}.json"
    write_json(path, rows, about, quick=args.quick, seconds=seconds)
    print(f"JSON: {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(run(parse(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
