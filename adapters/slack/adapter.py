"""The Slack adapter: department threads over slack-bolt (intake) and slack-sdk's AsyncWebClient (sending).

Intake arrives over the Events API at ``POST /slack/events`` (signature checked on
the raw body first) or over Socket Mode (``start_intake``, in the one process that
holds the intake lease); either way bolt dispatches to the listeners here, which
hand the relay a normalised event and only then acknowledge.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import consult, payload, render, roots, signature
from adapters.slack.inbound import ButtonPress, SlackFile, ThreadEdit, ThreadWords, classify_action, classify_message
from bot.body_limits import limit_body, read_at_most, too_large
from bot.consultations.model import ConsultationError
from bot.consultations.publishing import StaffConsultations
from bot.departments import Directory
from bot.events import StaffAction, StaffActionKind, StaffEdit, StaffMessage
from bot.model import SLACK, Address, DepartmentKey, FileData, Outgoing, Platform, PostKind, Sent, ThreadPost
from bot.ports import DeliveryError, InboundSink

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
RECEIPT_REACTION = "white_check_mark"
EVENTS_PATH = "/slack/events"
ACTIONS_PATH = "/slack/actions"
#: The largest Events API body accepted: an edit of a 40,000-character message carries it twice, with blocks.
MAX_EVENT_BYTES = 1024 * 1024
#: Slack error codes that no retry can fix: the outbox gives up and the relay is told.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "message_not_found",
        "cant_update_message",
        "thread_not_found",
        "restricted_action",
        "invalid_name",
    }
)
_MEMO_SIZE = 1000


class _DownloadFailedError(Exception):
    """A staff file could not be fetched for now; Slack redelivers the event (we did not acknowledge)."""


class SlackAdapter:
    """Posts case threads into department channels and turns what staff do there into relay events."""

    def __init__(
        self,
        *,
        bot_token: SecretStr,
        directory: Directory,
        api_url: str = DEFAULT_API_URL,
        signing_secret: SecretStr | None = None,
        app_token: SecretStr | None = None,
        max_file_bytes: int = 20 * 1024 * 1024,
        timeout: int = 30,
        clock: Callable[[], float] = time.time,
        consultations: StaffConsultations | None = None,
    ) -> None:
        self._bot_token = bot_token
        self._consultations = consultations
        self._directory = directory
        self._api_url = api_url
        self._signing_secret = signing_secret
        self._app_token = app_token
        self._max_file_bytes = max_file_bytes
        self._timeout = timeout
        self._clock = clock
        self._sink: InboundSink | None = None
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self._bolt: AsyncApp | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._bot_user_id: str | None = None
        self._bot_id: str | None = None
        self._auth_problem: str | None = "not started"
        self._names: dict[str, str] = {}
        self._posted: OrderedDict[str, str] = OrderedDict()
        # Thread ts -> the case reference its root names (None: not a case thread). A root never changes.
        self._root_references: OrderedDict[tuple[str, str], str | None] = OrderedDict()

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def platform(self) -> Platform:
        """Always ``slack``."""
        return SLACK

    def health(self) -> str:
        """``up`` once Slack knows our token (and the socket is connected, where this process runs Socket Mode)."""
        if self._auth_problem is not None:
            return f"down: {self._auth_problem}"
        if self._socket is not None:
            session = self._socket.client.current_session
            return "up" if session is not None and not session.closed else "connecting"
        return "up"

    def _department_channels(self) -> frozenset[str]:
        """The channels departments answer in, read now: a routing reload may have added or moved one."""
        return frozenset(d.home.chat for d in self._directory.departments if d.home.platform == SLACK)

    def mount(self, app: web.Application) -> None:
        """Add ``POST /slack/events`` (and its alias ``/slack/actions``) when a signing secret is set."""
        if self._signing_secret is None:
            return
        app.router.add_post(EVENTS_PATH, self._receive_http)
        app.router.add_post(ACTIONS_PATH, self._receive_http)
        limit_body(app, EVENTS_PATH, MAX_EVENT_BYTES)
        limit_body(app, ACTIONS_PATH, MAX_EVENT_BYTES)

    async def start(self, sink: InboundSink) -> None:
        """Open the Web API client and learn who we are; Socket Mode waits for ``start_intake``."""
        self._sink = sink
        # slack-sdk applies its ``timeout`` only to sessions it creates itself: ours carries it.
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        self._client = AsyncWebClient(
            token=self._bot_token.get_secret_value(),
            base_url=self._api_url,
            session=self._session,
            timeout=self._timeout,
            logger=logging.getLogger("adapters.slack.sdk"),
        )
        self._bolt = self._build_bolt(self._client)
        await self._identify()

    async def start_intake(self) -> None:
        """Connect Socket Mode (when an app token is set); the app calls this in the process holding the lease."""
        if self._app_token is None or self._bolt is None or self._socket is not None:
            return
        self._socket = AsyncSocketModeHandler(self._bolt, self._app_token.get_secret_value(), web_client=self._client)
        connect = self._socket.connect_async()  # type: ignore[no-untyped-call]  # bolt leaves it unannotated
        self._connecting = asyncio.create_task(connect, name="slack-socket-mode")

    async def stop_intake(self) -> None:
        """Disconnect Socket Mode; sending (and the HTTP endpoint) keep working."""
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
            self._connecting = None
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]  # bolt leaves it unannotated
            self._socket = None

    async def stop(self) -> None:
        """Disconnect Socket Mode and close the HTTP session."""
        await self.stop_intake()
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._client = None
        self._bolt = None
        self._sink = None
        self._auth_problem = "stopped"

    async def _identify(self) -> None:
        try:
            identity = await self._web().auth_test()
        except SlackApiError as error:
            self._auth_problem = f"auth.test failed ({_error_code(error) or error.response.status_code})"
            log.warning("Slack: auth.test failed; check BRIDGE_SLACK_BOT_TOKEN (%s)", self._auth_problem)
            return
        except (aiohttp.ClientError, TimeoutError) as error:
            self._auth_problem = f"Slack unreachable ({type(error).__name__})"
            log.warning("Slack: %s; check BRIDGE_SLACK_API_URL and the network", self._auth_problem)
            return
        user_id, bot_id = identity.get("user_id"), identity.get("bot_id")
        self._bot_user_id = user_id if isinstance(user_id, str) else None
        self._bot_id = bot_id if isinstance(bot_id, str) else None
        self._auth_problem = None

    def _web(self) -> AsyncWebClient:
        if self._client is None:
            raise DeliveryError("the Slack adapter is not started")
        return self._client

    # --- intake ------------------------------------------------------------------------

    def _build_bolt(self, client: AsyncWebClient) -> AsyncApp:
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

    async def _receive_http(self, request: web.Request) -> web.StreamResponse:
        """Headers first, then at most ``MAX_EVENT_BYTES`` of body, its signature, and only then any parsing."""
        text = await self._signed_text(request)
        if isinstance(text, web.Response):
            return text
        if self._bolt is None:
            return web.Response(status=503, text="the Slack adapter is not started")
        if payload.parse(text, content_type=request.content_type) is None:
            return web.Response(status=400, text="the body is not a Slack payload")
        try:
            bolt_request = AsyncBoltRequest(
                body=text,
                query=request.query_string,
                headers={name: request.headers.getall(name) for name in request.headers},
            )
        except ValueError:  # JSONDecodeError included: signed by Slack yet not a payload
            return web.Response(status=400, text="the body is not a Slack payload")
        return await to_aiohttp_response(await self._bolt.async_dispatch(bolt_request))

    async def _signed_text(self, request: web.Request) -> str | web.Response:
        """The body as text once its size and signature are checked; else the refusal (401, 413, 400)."""
        secret = self._signing_secret
        refused = web.Response(status=401, text="invalid or stale Slack signature")
        if secret is None or not signature.is_fresh(request.headers, now=self._clock):
            return refused
        body = await read_at_most(request, MAX_EVENT_BYTES)
        if body is None:
            return too_large(MAX_EVENT_BYTES)
        if not signature.is_valid(secret.get_secret_value(), request.headers, body, now=self._clock):
            return refused
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return web.Response(status=400, text="the body is not UTF-8")

    async def _acknowledge(self, ack: Callable[[], Any]) -> None:
        await ack()

    async def _on_message(self, ack: Callable[[], Any], event: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        bot_user_id = self._bot_user_id or context.get("bot_user_id")
        found = classify_message(event, channels=self._department_channels(), bot_user_id=bot_user_id)
        # Deduplicated on the message, not the envelope: Slack may send one message under two event ids.
        if isinstance(found, ThreadWords):
            await self._words(found.event_id, found)
        elif isinstance(found, ThreadEdit):
            thread = Address(SLACK, found.channel, found.thread_ts)
            await self._accept(StaffEdit(found.event_id, thread, found.ts, deleted=found.deleted))
        await ack()

    async def _on_action(self, ack: Callable[[], Any], body: Mapping[str, Any]) -> None:
        press = classify_action(body, channels=self._department_channels())
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
            log.warning("Slack: the consultation form could not open: %s", _error_code(error))
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
        files = tuple([f for f in [await self._download(words, file) for file in words.files] if f is not None])
        if not text.strip() and not files:
            return  # only files that could not be passed on (staff were told): nothing for the citizen
        await self._accept(StaffMessage(event_id, thread, words.user, author, text, files=files, source_id=words.ts))

    async def _accept(self, event: StaffMessage | StaffAction | StaffEdit) -> None:
        if self._sink is None:
            raise RuntimeError("the Slack adapter received an event before start()")
        await self._sink.accept(event)

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

    # --- staff files -------------------------------------------------------------------

    def _trusted_file_url(self, url: str) -> bool:
        """Only send the bot token to the API's host or its domain (files.slack.com for slack.com/api)."""
        api, target = urlsplit(self._api_url), urlsplit(url)
        if not api.hostname or not target.hostname or target.scheme not in {"https", api.scheme}:
            return False
        domains = {api.hostname}
        labels = api.hostname.split(".")
        if len(labels) > 2 and not api.hostname.replace(".", "").isdigit():  # noqa: PLR2004  # a subdomain
            domains.add(".".join(labels[1:]))
        return any(target.hostname == d or target.hostname.endswith("." + d) for d in domains)

    async def _download(self, words: ThreadWords, file: SlackFile) -> FileData | None:
        """A staff file's bytes, or None (and a line in the thread) if it cannot be passed on."""
        limit = self._max_file_bytes
        if file.size > limit:
            await self._tell_thread(words, f"The file {file.name} is too large to pass on (limit {_megabytes(limit)}).")
            return None
        if not self._trusted_file_url(file.url) or self._session is None:
            await self._tell_thread(words, f"The file {file.name} could not be fetched and was not passed on.")
            return None
        headers = {"Authorization": f"Bearer {self._bot_token.get_secret_value()}"}
        try:
            async with self._session.get(
                file.url,
                headers=headers,
                proxy=self._web().proxy or None,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                if response.status >= 500 or response.status == 429:  # noqa: PLR2004  # Slack's transient answers
                    raise _DownloadFailedError(f"file download answered {response.status}")
                if response.status != 200:  # noqa: PLR2004  # HTTP OK
                    await self._tell_thread(words, f"The file {file.name} could not be fetched and was not passed on.")
                    return None
                data = await response.content.read(limit + 1)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise _DownloadFailedError(f"file download failed: {type(error).__name__}") from None
        if len(data) > limit:
            await self._tell_thread(words, f"The file {file.name} is too large to pass on (limit {_megabytes(limit)}).")
            return None
        return FileData(name=file.name, mime_type=file.mime_type, data=data)

    async def _tell_thread(self, words: ThreadWords, line: str) -> None:
        """A direct note to staff in the thread (not through the outbox: it only explains what was not relayed)."""
        try:
            await self._web().chat_postMessage(
                channel=words.channel, thread_ts=words.thread_ts, text=render.system_line(line)
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError):
            log.warning("Slack: could not post a note in a thread of %s", words.channel)

    # --- sending -----------------------------------------------------------------------

    async def send(self, out: Outgoing[ThreadPost]) -> Sent:
        """Post a thread root, reply, root update or receipt; Slack failures become ``DeliveryError``."""
        body = out.body
        try:
            return await self._sender_for(body.kind)(out, body)
        except SlackApiError as error:
            raise _delivery_error(error) from None
        except SlackRequestError as error:
            raise DeliveryError(f"Slack request failed: {type(error).__name__}") from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(f"Slack unreachable: {type(error).__name__}") from None

    def _sender_for(self, kind: PostKind) -> Callable[[Outgoing[ThreadPost], ThreadPost], Awaitable[Sent]]:
        """The method that sends a post of this kind (a reply in a thread unless the kind says otherwise)."""
        special = {
            PostKind.ROOT: self._post_root,
            PostKind.ROOT_UPDATE: self._update_root,
            PostKind.RECEIPT: self._receipt,
            PostKind.ERASE: self._erase,
            PostKind.ESCALATION: self._escalate,
            PostKind.RESULTS: self._results,
            PostKind.RESULTS_UPDATE: self._results,
            PostKind.RESULTS_TEXT: self._results,
        }
        return special.get(kind, self._post_reply)

    async def _post_root(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        ts = self._posted.get(out.idempotency_key) if out.idempotency_key else None
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
                self._remember(out.idempotency_key, ts)
        await self._upload(out, ts)
        return Sent(message_id=ts, thread=ts)

    async def _root_posted_before(
        self, channel: str, delivery_key: str, *, event_type: str = roots.ROOT_EVENT_TYPE
    ) -> str | None:
        """The ts of a root (or results message) an earlier try of this delivery posted (timed out, died); else None."""
        answer = await self._web().conversations_history(
            channel=channel, limit=roots.RECENT_ROOTS, include_all_metadata=True
        )
        found = roots.root_posted_by(
            answer.get("messages"),
            delivery_key,
            bot_user_id=self._bot_user_id,
            bot_id=self._bot_id,
            event_type=event_type,
        )
        if found is not None:
            log.info("Slack: a message an earlier try posted was found; not posting it again")
        return found

    async def case_reference(self, thread: Address) -> str | None:
        """The case reference a thread's root names (its metadata), for a thread the bridge has not recorded."""
        if thread.thread is None or thread.chat not in self._department_channels():
            return None
        key = (thread.chat, thread.thread)
        if key in self._root_references:
            return self._root_references[key]
        try:
            answer = await self._web().conversations_replies(
                channel=thread.chat, ts=thread.thread, limit=1, include_all_metadata=True
            )
        except SlackApiError as error:
            if _error_code(error) in {"thread_not_found", "message_not_found"}:
                return None
            raise
        reference = roots.reference_of_root(
            answer.get("messages"), thread.thread, bot_user_id=self._bot_user_id, bot_id=self._bot_id
        )
        self._root_references[key] = reference
        while len(self._root_references) > _MEMO_SIZE:
            self._root_references.popitem(last=False)
        return reference

    async def _post_reply(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        thread = out.target.thread
        if thread is None:
            raise DeliveryError("the case has no Slack thread to post into", permanent=True)
        ts = self._posted.get(out.idempotency_key) if out.idempotency_key else None
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
                self._remember(out.idempotency_key, ts)
        await self._upload(out, thread)
        return Sent(message_id=ts)

    async def _escalate(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        """A late answer: a post in the escalation channel (or the case's thread), mentioning the department's group."""
        department = self._directory.get(body.card.department_key)
        escalation = department.escalation if department is not None else None
        text = render.escalation_line(body.text, escalation.mention if escalation is not None else None)
        answer = await self._web().chat_postMessage(
            channel=out.target.chat, thread_ts=out.target.thread, text=text, unfurl_links=False, unfurl_media=False
        )
        return Sent(message_id=str(answer["ts"]))

    async def _upload(self, out: Outgoing[ThreadPost], thread: str) -> None:
        if not out.files:
            return
        await self._web().files_upload_v2(
            channel=out.target.chat,
            thread_ts=thread,
            file_uploads=[{"content": f.data, "filename": f.name, "title": f.name} for f in out.files],
        )
        self._posted.pop(out.idempotency_key, None)

    async def _update_root(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
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

    async def _receipt(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
        if body.about is None:
            raise DeliveryError("a receipt needs the message it is about", permanent=True)
        try:
            await self._web().reactions_add(channel=out.target.chat, timestamp=body.about, name=RECEIPT_REACTION)
        except SlackApiError as error:
            if _error_code(error) != "already_reacted":
                raise
        return Sent(message_id=body.about)

    async def _erase(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
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
            if _error_code(error) != "message_not_found":  # deleted in Slack already: nothing left to erase
                raise
        return Sent(message_id=body.about)

    async def _results(self, out: Outgoing[ThreadPost], body: ThreadPost) -> Sent:
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

    def _remember(self, key: str, ts: str) -> None:
        """What was posted for a delivery with files, so a retry after a failed upload does not post it twice."""
        if not key:
            return
        self._posted[key] = ts
        while len(self._posted) > _MEMO_SIZE:
            self._posted.popitem(last=False)


def _error_code(error: SlackApiError) -> str | None:
    try:
        code = error.response.get("error")
    except (AttributeError, ValueError):
        return None
    return code if isinstance(code, str) else None


def _header(headers: object, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) and value else value)
    return None


def _delivery_error(error: SlackApiError) -> DeliveryError:
    """429 → retry after Slack's wish; 5xx → transient; known hopeless codes → permanent; else transient."""
    status = int(error.response.status_code)
    code = _error_code(error)
    if status == 429 or code == "ratelimited":  # noqa: PLR2004  # Too Many Requests
        wait = _header(error.response.headers, "Retry-After")
        try:
            retry_after = float(wait) if wait is not None else 1.0
        except ValueError:
            retry_after = 1.0
        return DeliveryError("Slack rate limit", retry_after=retry_after)
    if status >= 500:  # noqa: PLR2004  # server errors pass
        return DeliveryError(f"Slack answered {status}")
    if code in PERMANENT_ERRORS:
        return DeliveryError(f"Slack refused: {code}", permanent=True)
    return DeliveryError(f"Slack refused: {code or status}")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"
