"""What the bridge posts in Slack: thread roots, replies, root updates, receipts, erasures, escalations, results.

Each method sends one kind of post (``SlackAdapter.send`` picks it from a
table); Slack's failures propagate for ``send`` to turn into ``DeliveryError``.
A root carries the case reference in its metadata (a results message its
delivery), so one an earlier try posted is found again and never posted twice.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import consult, render, roots
from adapters.slack.errors import error_code
from adapters.slack.files import MEMO_SIZE, Uploads
from bot.departments import Directory
from bot.model import Address, Outgoing, PostKind, Sent, ThreadPost
from bot.ports import DeliveryError

log = logging.getLogger("adapters.slack.adapter")  # the adapter's logger name from before the split

RECEIPT_REACTION = "white_check_mark"


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bridge is in Slack (``auth.test``): its posts are told apart from others' by these ids."""

    user_id: str | None = None
    bot_id: str | None = None


class Posts:
    """Posts and rewrites the bridge's messages in department channels."""

    def __init__(
        self,
        *,
        web: Callable[[], AsyncWebClient],
        directory: Directory,
        uploads: Uploads,
        identity: Callable[[], BotIdentity],
        channels: Callable[[], frozenset[str]],
    ) -> None:
        self._web = web
        self._directory = directory
        self._uploads = uploads
        self._identity = identity
        self._channels = channels
        # Thread ts -> the case reference its root names (None: not a case thread). A root never changes.
        self._root_references: OrderedDict[tuple[str, str], str | None] = OrderedDict()

    async def root(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        """A case's thread root: its card, with the reference in its metadata (posted once, however often tried)."""
        ts = self._uploads.posted(out.idempotency_key)
        if ts is None and out.attempt > 1 and out.idempotency_key:
            ts = await self._root_posted_before(out.target.chat, out.idempotency_key)
        if ts is None:
            answer = await self._web().chat_postMessage(
                channel=out.target.chat,
                text=render.root_fallback(body.card, body.text),
                blocks=render.card_blocks(body.card, body.text, self._directory, translation=body.translation),
                metadata=roots.root_metadata(body.card.reference, out.idempotency_key),
                unfurl_links=False,
                unfurl_media=False,
            )
            ts = str(answer["ts"])
            if out.files:
                self._uploads.remember(out.idempotency_key, ts)
        await self._uploads.upload(out, ts)
        return Sent(message_id=ts, thread=ts)

    async def _root_posted_before(
        self, channel: str, delivery_key: str, *, event_type: str = roots.ROOT_EVENT_TYPE
    ) -> str | None:
        """The ts of a root (or results message) an earlier try of this delivery posted (timed out, died); else None."""
        answer = await self._web().conversations_history(
            channel=channel, limit=roots.RECENT_ROOTS, include_all_metadata=True
        )
        me = self._identity()
        found = roots.root_posted_by(
            answer.get("messages"), delivery_key, bot_user_id=me.user_id, bot_id=me.bot_id, event_type=event_type
        )
        if found is not None:
            log.info("Slack: a message an earlier try posted was found; not posting it again")
        return found

    async def case_reference(self, thread: Address) -> str | None:
        """The case reference a thread's root names (its metadata), for a thread the bridge has not recorded."""
        if thread.thread is None or thread.chat not in self._channels():
            return None
        key = (thread.chat, thread.thread)
        if key in self._root_references:
            return self._root_references[key]
        try:
            answer = await self._web().conversations_replies(
                channel=thread.chat, ts=thread.thread, limit=1, include_all_metadata=True
            )
        except SlackApiError as error:
            if error_code(error) in {"thread_not_found", "message_not_found"}:
                return None
            raise
        me = self._identity()
        reference = roots.reference_of_root(
            answer.get("messages"), thread.thread, bot_user_id=me.user_id, bot_id=me.bot_id
        )
        self._root_references[key] = reference
        while len(self._root_references) > MEMO_SIZE:
            self._root_references.popitem(last=False)
        return reference

    async def reply(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        """A citizen's message or a system line in the case's thread, with any files."""
        thread = out.target.thread
        if thread is None:
            raise DeliveryError("the case has no Slack thread to post into", permanent=True)
        ts = self._uploads.posted(out.idempotency_key)
        if ts is None:
            text = (
                render.citizen_line(body.author, body.text, translation=body.translation)
                if body.kind is PostKind.CITIZEN
                else render.system_line(body.text)
            )
            answer = await self._web().chat_postMessage(
                channel=out.target.chat, thread_ts=thread, text=text, unfurl_links=False, unfurl_media=False
            )
            ts = str(answer["ts"])
            if out.files:
                self._uploads.remember(out.idempotency_key, ts)
        await self._uploads.upload(out, thread)
        return Sent(message_id=ts)

    async def escalate(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        """A late answer: a post in the escalation channel (or the case's thread), mentioning the department's group."""
        department = self._directory.get(body.card.department_key)
        escalation = department.escalation if department is not None else None
        text = render.escalation_line(body.text, escalation.mention if escalation is not None else None)
        answer = await self._web().chat_postMessage(
            channel=out.target.chat, thread_ts=out.target.thread, text=text, unfurl_links=False, unfurl_media=False
        )
        return Sent(message_id=str(answer["ts"]))

    async def update_root(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        """The root's card refreshed (status, claim, department), keeping the first message it shows."""
        root = out.target.thread
        if root is None:
            raise DeliveryError("the case has no Slack thread root to update", permanent=True)
        card = body.card
        blocks = await self._root_blocks(out.target.chat, root) or render.card_blocks(card, "", self._directory)
        await self._web().chat_update(
            channel=out.target.chat,
            ts=root,
            text=render.escape(f"{card.reference} · {card.department_name} · {card.status.value}"),
            blocks=render.refresh_blocks(blocks, card, self._directory, moved=body.text),
        )
        return Sent(message_id=root)

    async def _root_blocks(self, channel: str, ts: str) -> list[Mapping[str, Any]] | None:
        """The root's current blocks, so an update keeps the first message; None if Slack will not show them."""
        try:
            answer = await self._web().conversations_history(
                channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
            )
        except SlackApiError as error:
            if error.response.status_code == 200:  # noqa: PLR2004  # ok=false (e.g. missing scope): re-render
                return None
            raise
        messages = answer.get("messages")
        for message in messages if isinstance(messages, list) else []:
            if isinstance(message, Mapping) and message.get("ts") == ts and isinstance(message.get("blocks"), list):
                return [block for block in message["blocks"] if isinstance(block, Mapping)]
        return None

    async def receipt(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        """A reaction on a staff message: the citizen has it."""
        if body.about is None:
            raise DeliveryError("a receipt needs the message it is about", permanent=True)
        try:
            await self._web().reactions_add(channel=out.target.chat, timestamp=body.about, name=RECEIPT_REACTION)
        except SlackApiError as error:
            if error_code(error) != "already_reacted":
                raise
        return Sent(message_id=body.about)

    async def erase(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        """Replace one of the bridge's own posts (a root or a citizen message) with "[erased]"."""
        if body.about is None:
            raise DeliveryError("an erasure needs the message it replaces", permanent=True)
        try:
            await self._web().chat_update(
                channel=out.target.chat,
                ts=body.about,
                text=render.escape(body.text),
                blocks=render.erased_blocks(body.card, body.text),
            )
        except SlackApiError as error:
            if error_code(error) != "message_not_found":  # deleted in Slack already: nothing left to erase
                raise
        return Sent(message_id=body.about)

    async def results(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        """A consultation's results message: posted once, then rewritten; free-text answers in its thread."""
        channel, text = out.target.chat, render.escape(body.text)
        if body.kind is PostKind.RESULTS_TEXT:
            if out.target.thread is None:
                raise DeliveryError("the results message was never posted", permanent=True)
            answer = await self._web().chat_postMessage(
                channel=channel, thread_ts=out.target.thread, text=text, unfurl_links=False, unfurl_media=False
            )
            return Sent(message_id=str(answer["ts"]))
        blocks = consult.results_blocks(body.text)
        if body.kind is PostKind.RESULTS_UPDATE:
            if body.about is None:
                raise DeliveryError("the results message was never posted", permanent=True)
            await self._web().chat_update(channel=channel, ts=body.about, text=text, blocks=blocks)
            return Sent(message_id=body.about)
        found = None
        if out.attempt > 1 and out.idempotency_key:  # an earlier try may have posted it and not lived to record it
            found = await self._root_posted_before(channel, out.idempotency_key, event_type=roots.RESULTS_EVENT_TYPE)
        if found is not None:
            return Sent(message_id=found, thread=found)
        answer = await self._web().chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            metadata=roots.results_metadata(out.idempotency_key),
            unfurl_links=False,
            unfurl_media=False,
        )
        ts = str(answer["ts"])
        return Sent(message_id=ts, thread=ts)
