"""Discord, outbound: a reply rendered, split at 2,000 characters and sent with its files and menu buttons.

Every part goes with no mentions allowed and a nonce, so a retried delivery does
not post twice; a failed request becomes the ``DeliveryError`` the outbox reads.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from adapters.discord.render import LABEL_LIMIT, MAX_BUTTONS, MAX_FILES, MENU_PREFIX, nonce, render, split
from bot.model import CitizenReply, Outgoing
from bot.ports import DeliveryError

#: Discord's error code for "Cannot send messages to this user" (DMs closed, blocked, no shared server).
CANNOT_MESSAGE_USER = 50007
#: Unknown User, Unknown Channel: the account was deleted (or the DM channel with it).
GONE = frozenset({10013, 10003})
#: Discord's error code for "Request entity too large" (an attachment over the upload limit).
ENTITY_TOO_LARGE = 40005


async def send_parts(
    channel: discord.PartialMessageable,
    body: CitizenReply,
    out: Outgoing[CitizenReply],
    *,
    pace: Callable[[], Awaitable[None]],
) -> discord.Message:
    """Send ``body`` (and ``out``'s files) in as many messages as Discord needs; the last one carries any menu.

    ``pace`` is awaited before each message (it may raise rather than wait too long).
    """
    parts = split(render(body))
    batches = [out.files[i : i + MAX_FILES] for i in range(0, len(out.files), MAX_FILES)]
    view = menu_view(body)
    last: discord.Message | None = None
    count = max(len(parts), len(batches))
    for index in range(count):
        content = parts[index] if index < len(parts) else None
        files = batches[index - (count - len(batches))] if index >= count - len(batches) else ()
        kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
        if out.idempotency_key:
            kwargs["nonce"] = nonce(out.idempotency_key, index)
        if files:
            kwargs["files"] = [discord.File(io.BytesIO(f.data), filename=f.name) for f in files]
        if view is not None and index == count - 1:
            kwargs["view"] = view
        await pace()
        last = await channel.send(content or None, **kwargs)
    assert last is not None  # noqa: S101  # split always yields a part
    return last


def menu_view(body: CitizenReply) -> discord.ui.View | None:
    """Buttons for a menu, or None (plain text with numbers) when Discord could not show them all."""
    if not body.options or len(body.options) > MAX_BUTTONS:
        return None
    view = discord.ui.View(timeout=None)
    for option in body.options:
        view.add_item(
            discord.ui.Button(
                label=option.label[:LABEL_LIMIT],
                custom_id=f"{MENU_PREFIX}{option.key}",
                style=discord.ButtonStyle.primary,
            )
        )
    view.stop()  # presses are handled in on_interaction, not by a view kept in memory per menu
    return view


def delivery_error(error: discord.HTTPException) -> DeliveryError:
    """How a failed Discord request counts for the outbox."""
    status, code = error.status, error.code
    if status == 429:  # noqa: PLR2004  # HTTP status
        return DeliveryError("Discord rate limit", retry_after=_retry_after(error))
    if status == 403 and code == CANNOT_MESSAGE_USER:  # noqa: PLR2004  # HTTP status
        return DeliveryError(
            "the citizen does not accept direct messages from the bot (Discord 50007)", permanent=True, gone=True
        )
    if code in GONE:
        return DeliveryError(
            f"the citizen's Discord account or DM channel is gone (Discord {code})", permanent=True, gone=True
        )
    if status == 413 or code == ENTITY_TOO_LARGE:  # noqa: PLR2004  # HTTP status
        return DeliveryError("a file is larger than Discord accepts", permanent=True)
    if status >= 500 or status in {401, 408}:  # noqa: PLR2004  # HTTP statuses: server trouble, token, timeout
        return DeliveryError(f"Discord answered {status}")
    return DeliveryError(f"Discord refused the message ({status}, code {code})", permanent=True)


def _retry_after(error: discord.HTTPException) -> float:
    header = error.response.headers.get("Retry-After") if error.response is not None else None
    try:
        return max(0.0, float(header)) if header is not None else 5.0
    except ValueError:
        return 5.0
