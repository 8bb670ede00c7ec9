"""The bolt listeners: what staff do in Slack (words, edits, buttons, ``/consult``) becomes relay events.

``build_bolt`` registers them; bolt calls them for the Events API and for
Socket Mode alike. Each hands the relay its event and only then acknowledges,
so an event the relay could not take is redelivered by Slack.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import consult, render
from adapters.slack.errors import error_code
from adapters.slack.files import Downloads
from adapters.slack.inbound import ButtonPress, ThreadEdit, ThreadWords, classify_action, classify_message
from bot.consultations.model import ConsultationError
from bot.consultations.publishing import StaffConsultations
from bot.events import StaffAction, StaffActionKind, StaffEdit, StaffMessage
from bot.model import SLACK, Address, DepartmentKey
from bot.ports import DeliveryError

log = logging.getLogger("adapters.slack.adapter")  # the adapter's logger name from before the split

Accept = Callable[[StaffMessage | StaffAction | StaffEdit], Awaitable[None]]


class Listeners:
    """Turns Slack's events and interactions in department channels into relay events (handed to ``accept``)."""

    def __init__(  # each is a distinct dependency, injected
        self,
        *,
        web: Callable[[], AsyncWebClient],
        channels: Callable[[], frozenset[str]],
        bot_user_id: Callable[[], str | None],
        accept: Accept,
        downloads: Downloads,
        consultations: StaffConsultations | None,
    ) -> None:
        self._web = web
        self._channels = channels
        self._bot_user_id = bot_user_id
        self._accept = accept
        self._downloads = downloads
        self._consultations = consultations
        self._names: dict[str, str] = {}

    def build_bolt(self, client: AsyncWebClient) -> AsyncApp:
        """A bolt app over ``client`` with these listeners; it trusts its caller to have checked the signature."""
        bolt = AsyncApp(
            client=client,
            name="civic-bridge",
            signing_secret="",
            # we verify the signature ourselves, on the raw body, before bolt parses it
            request_verification_enabled=False,
            # store first, then answer Slack: the listener's work is part of the response
            process_before_response=True,
            logger=logging.getLogger("adapters.slack.bolt"),
        )
        bolt.event("message")(self._on_message)
        bolt.action(re.compile("^" + re.escape(render.ACTION_PREFIX)))(self._on_action)
        bolt.command(consult.COMMAND)(self._on_consult_command)
        bolt.view(consult.CALLBACK_ID)(self._on_consult_submit)
        # everything else is acknowledged and dropped, so Slack does not redeliver it
        bolt.event(re.compile(".*"))(self._acknowledge)
        bolt.action(re.compile(".*"))(self._acknowledge)
        return bolt

    async def _acknowledge(self, ack: Callable[[], Any]) -> None:
        await ack()

    async def _on_message(self, ack: Callable[[], Any], event: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        bot_user_id = self._bot_user_id() or context.get("bot_user_id")
        found = classify_message(event, channels=self._channels(), bot_user_id=bot_user_id)
        # Deduplicated on the message, not the envelope: Slack may send one message under two event ids.
        if isinstance(found, ThreadWords):
            await self._words(found.event_id, found)
        elif isinstance(found, ThreadEdit):
            thread = Address(SLACK, found.channel, found.thread_ts)
            await self._accept(StaffEdit(found.event_id, thread, found.ts, deleted=found.deleted))
        await ack()

    async def _on_action(self, ack: Callable[[], Any], body: Mapping[str, Any]) -> None:
        press = classify_action(body, channels=self._channels())
        if isinstance(press, ButtonPress):
            name = await self._name(press.user, fallback=press.user_name)
            await self._accept(
                StaffAction(
                    event_id=press.event_id,
                    thread=Address(SLACK, press.channel, press.thread_ts),
                    actor_id=press.user,
                    actor_name=name,
                    action=press.action,
                    department=DepartmentKey(press.department) if press.department else None,
                )
            )
        await ack()

    async def _on_consult_command(self, ack: Callable[..., Any], command: Mapping[str, Any]) -> None:
        """``/consult`` in a department's channel opens the modal; elsewhere only the caller reads why not."""
        if self._consultations is None:
            await ack(text=consult.NOT_AVAILABLE)
            return
        department = self._consultations.department_of_channel(SLACK, str(command.get("channel_id", "")))
        if department is None:
            await ack(text=consult.NOT_A_DEPARTMENT)
            return
        view = consult.modal(department.key, department.name, department.home.chat)
        try:
            await self._web().views_open(trigger_id=str(command.get("trigger_id", "")), view=view)
        except SlackApiError as error:
            log.warning("Slack: the consultation form could not open: %s", error_code(error))
            await ack(text="The form could not open; please run /consult again.")
            return
        await ack()

    async def _on_consult_submit(
        self, ack: Callable[..., Any], body: Mapping[str, Any], view: Mapping[str, Any]
    ) -> None:
        """The modal's Send: check and store it for the channel's department, or show what to fix."""
        found = consult.submitted(view)
        if isinstance(found, dict):
            await ack(response_action="errors", errors=found)
            return
        key, channel, draft = found
        department = self._consultations.department_of_channel(SLACK, channel) if self._consultations else None
        if self._consultations is None or department is None or department.key != key:
            await ack(response_action="errors", errors={"text": consult.NOT_A_DEPARTMENT})
            return
        user = body.get("user")
        user_id = str(user.get("id", "")) if isinstance(user, Mapping) else ""
        actor = f"slack:{await self._name(user_id)}" if user_id else "slack"
        try:
            # Checked and stored now; queued for the subscribers by the running bridge after Slack has its answer
            # (within 3 s, however large the audience), which then posts "sent to N chats" in the channel.
            await self._consultations.publish(department=key, draft=draft, actor=actor, background=True)
        except ConsultationError as error:
            await ack(response_action="errors", errors={consult.error_block(str(error)): str(error)})
            return
        await ack()

    async def _words(self, event_id: str, words: ThreadWords) -> None:
        thread = Address(SLACK, words.channel, words.thread_ts)
        if words.is_bot:
            name = words.bot_name or words.user
            await self._accept(StaffMessage(event_id, thread, words.user, name, words.text, is_bot=True))
            return
        names = {user: await self._name(user) for user in render.mentioned_users(words.text)}
        text = render.decode(words.text, names)
        author = await self._name(words.user)
        command = render.parse_command(text)
        if command is not None and command.action is StaffActionKind.ANSWER:
            answer = StaffAction(event_id, thread, words.user, author, command.action, answer=command.argument)
            await self._accept(answer)
            return
        if command is not None:
            transfer = command.action is StaffActionKind.TRANSFER
            department = DepartmentKey(command.argument) if command.argument and transfer else None
            reason = command.argument if command.action is StaffActionKind.KEEP else None
            await self._accept(
                StaffAction(event_id, thread, words.user, author, command.action, department, reason=reason)
            )
            return
        files = tuple(
            [f for f in [await self._downloads.download(words, file) for file in words.files] if f is not None]
        )
        if not text.strip() and not files:
            return  # only files that could not be passed on (staff were told): nothing for the citizen
        await self._accept(StaffMessage(event_id, thread, words.user, author, text, files=files, source_id=words.ts))

    async def _name(self, user_id: str, *, fallback: str | None = None) -> str:
        """A person's name for signatures and system lines: users.info, cached; the id if Slack will not say."""
        if user_id in self._names:
            return self._names[user_id]
        try:
            answer = await self._web().users_info(user=user_id)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, DeliveryError):
            return fallback or user_id
        found = answer.get("user")
        user: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        profile: Mapping[str, Any] = user["profile"] if isinstance(user.get("profile"), Mapping) else {}
        candidates = (profile.get("real_name"), user.get("real_name"), profile.get("display_name"), user.get("name"))
        for candidate in candidates:
            if isinstance(candidate, str) and candidate.strip():
                self._names[user_id] = candidate.strip()
                return candidate.strip()
        return fallback or user_id
