"""The Slack adapter: department threads over slack-bolt (intake) and slack-sdk's AsyncWebClient (sending).

Intake arrives over the Events API at ``POST /slack/events`` (signature checked on
the raw body first) or over Socket Mode (``start_intake``, in the one process that
holds the intake lease); either way bolt dispatches to the listeners, which
hand the relay a normalised event and only then acknowledge.

This module holds the adapter's lifecycle, the Events API endpoint and the
send dispatch; beside it live ``listeners`` (bolt listeners), ``posting`` (each
kind of post), ``files`` (downloads and uploads) and ``errors`` (failures).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import payload, signature
from adapters.slack.errors import PERMANENT_ERRORS, delivery_error, error_code
from adapters.slack.files import Downloads, Uploads
from adapters.slack.listeners import Listeners
from adapters.slack.posting import RECEIPT_REACTION, BotIdentity, Posts
from bot.body_limits import limit_body, read_at_most, too_large
from bot.consultations.publishing import StaffConsultations
from bot.departments import Directory
from bot.events import StaffAction, StaffEdit, StaffMessage
from bot.model import SLACK, Address, Outgoing, Platform, PostKind, Sent, ThreadPost
from bot.ports import DeliveryError, InboundSink

# Importable from here as before the adapter was split into listeners, posting, files and errors.
__all__ = [
    "ACTIONS_PATH",
    "DEFAULT_API_URL",
    "EVENTS_PATH",
    "MAX_EVENT_BYTES",
    "PERMANENT_ERRORS",
    "RECEIPT_REACTION",
    "SlackAdapter",
]

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"
ACTIONS_PATH = "/slack/actions"
#: The largest Events API body accepted: an edit of a 40,000-character message carries it twice, with blocks.
MAX_EVENT_BYTES = 1024 * 1024


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
        self._directory = directory
        self._api_url = api_url
        self._signing_secret = signing_secret
        self._app_token = app_token
        self._timeout = timeout
        self._clock = clock
        self._sink: InboundSink | None = None
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self._bolt: AsyncApp | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._identity = BotIdentity()
        self._auth_problem: str | None = "not started"
        downloads = Downloads(
            bot_token=bot_token,
            api_url=api_url,
            max_file_bytes=max_file_bytes,
            timeout=timeout,
            session=lambda: self._session,
            web=self._web,
        )
        self._listeners = Listeners(
            web=self._web,
            channels=self._department_channels,
            bot_user_id=lambda: self._identity.user_id,
            accept=self._accept,
            downloads=downloads,
            consultations=consultations,
        )
        self._posts = Posts(
            web=self._web,
            directory=directory,
            uploads=Uploads(web=self._web),
            identity=lambda: self._identity,
            channels=self._department_channels,
        )

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
        self._bolt = self._listeners.build_bolt(self._client)
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
            self._auth_problem = f"auth.test failed ({error_code(error) or error.response.status_code})"
            log.warning("Slack: auth.test failed; check BRIDGE_SLACK_BOT_TOKEN (%s)", self._auth_problem)
            return
        except (aiohttp.ClientError, TimeoutError) as error:
            self._auth_problem = f"Slack unreachable ({type(error).__name__})"
            log.warning("Slack: %s; check BRIDGE_SLACK_API_URL and the network", self._auth_problem)
            return
        user_id, bot_id = identity.get("user_id"), identity.get("bot_id")
        self._identity = BotIdentity(
            user_id if isinstance(user_id, str) else None, bot_id if isinstance(bot_id, str) else None
        )
        self._auth_problem = None

    def _web(self) -> AsyncWebClient:
        if self._client is None:
            raise DeliveryError("the Slack adapter is not started")
        return self._client

    async def _accept(self, event: StaffMessage | StaffAction | StaffEdit) -> None:
        if self._sink is None:
            raise RuntimeError("the Slack adapter received an event before start()")
        await self._sink.accept(event)

    # --- intake ------------------------------------------------------------------------

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

    # --- sending -----------------------------------------------------------------------

    async def send(self, out: Outgoing[ThreadPost]) -> Sent:
        """Post a thread root, reply, root update or receipt; Slack failures become ``DeliveryError``."""
        body = out.body
        try:
            return await self._sender_for(body.kind)(out, body)
        except SlackApiError as error:
            raise delivery_error(error) from None
        except SlackRequestError as error:
            raise DeliveryError(f"Slack request failed: {type(error).__name__}") from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(f"Slack unreachable: {type(error).__name__}") from None

    def _sender_for(self, kind: PostKind) -> Callable[[Outgoing[ThreadPost], ThreadPost], Awaitable[Sent]]:
        """The method that sends a post of this kind (a reply in a thread unless the kind says otherwise)."""
        posts = self._posts
        special = {
            PostKind.ROOT: posts.root,
            PostKind.ROOT_UPDATE: posts.update_root,
            PostKind.RECEIPT: posts.receipt,
            PostKind.ERASE: posts.erase,
            PostKind.ESCALATION: posts.escalate,
            PostKind.RESULTS: posts.results,
            PostKind.RESULTS_UPDATE: posts.results,
            PostKind.RESULTS_TEXT: posts.results,
        }
        return special.get(kind, posts.reply)

    async def case_reference(self, thread: Address) -> str | None:
        """The case reference a thread's root names (its metadata), for a thread the bridge has not recorded."""
        return await self._posts.case_reference(thread)
