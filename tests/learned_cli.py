"""Run ``civic-bridge routes learned`` over a test bridge's database, with a routing file of its departments."""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path

from bot.routes_cli import register
from bot.storage.learned import LabelledCase
from bot.storage.store import Store, Tx
from config.routing_file import RoutingConfig
from routing.router import Router

#: The departments of ``tests.bridge.DIRECTORY`` as a routing file (keywords only: no encoder in tests).
BRIDGE_ROUTING = """\
fallback: general
departments:
  - {key: roads, name: Roads & Transport, slack_channel: C0ROADS, keywords: [pothole, road]}
  - {key: waste, name: Waste & Recycling, slack_channel: C0WASTE, keywords: [bin]}
  - {key: housing, name: Housing, slack_channel: C0HOUSING, keywords: [rent]}
  - {key: general, name: Citizen Services, slack_channel: C0GENERAL}
"""


def _keyword_router(config: RoutingConfig) -> Router:
    return Router(config, encoder=None)


async def routes_learned(store: Store, folder: Path) -> str:
    """What ``routes learned`` prints for the labelled cases in ``store``."""

    async def read(tx: Tx) -> list[LabelledCase]:
        return await tx.labelled_cases()

    labelled = await store.read(read)
    routing = folder / "learned-routing.yaml"
    routing.write_text(BRIDGE_ROUTING, encoding="utf-8")
    parser = argparse.ArgumentParser(prog="civic-bridge")
    register(
        parser.add_subparsers(dest="command", required=True),
        default_routing=lambda: routing,
        make_router=_keyword_router,
        labelled=lambda: labelled,
    )
    args = parser.parse_args(["routes", "learned"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert args.func(args) == 0
    return out.getvalue()
