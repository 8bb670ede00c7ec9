"""Wiring: builds the bridge from settings and runs it as one async context manager.

Start order: database (migrated) → channels' HTTP routes → HTTP server →
channels → delivery worker. Stop order is the reverse, in ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from aiohttp import web

from adapters.factory import build_adapters
from bot.bulk import BulkLimits
from bot.consultations.live_results import ResultsPreparation
from bot.consultations.publishing import StaffConsultations
from bot.consultations.service import ConsultationService
from bot.database_errors import database_problem
from bot.delivery import DeliveryWorker
from bot.desk_users import DeskUsers, UsersFileError
from bot.due_jobs import DueJobRunner
from bot.http import HealthCheck, build_web_app
from bot.leadership import Lease, LocalLease, PostgresLease
from bot.live import LiveEvents, LocalLiveEvents, PostgresLiveEvents
from bot.live_routing import LiveRouter, RoutingReloader, digest, directory_from
from bot.metrics import Metrics
from bot.ports import Channel, Channels, ExclusiveIntake, WebMounted, thread_owner_in
from bot.privacy import recorder
from bot.privacy_notice import PrivacyNotice
from bot.purge import Retention
from bot.relay import Limits, Relay
from bot.reports.queries import StoreReports
from bot.retention import RetentionTask
from bot.saved_answers import LiveAnswers
from bot.sessions import WebSessions, issue_sign_in_link
from bot.startup import SqliteLock, StartupError, choose_routing, languages_from
from bot.storage import migrate
from bot.storage.store import Store, Tx
from bot.storage.views import StoreViews
from bot.storage.web_sessions import StoreSessions
from bot.translate import LibreTranslateClient, NoTranslation, translator_from_settings
from bot.translating import MachineTranslation
from config.answers_file import answers_path, load_answers
from config.routing_file import RoutingConfig
from config.settings import Settings
from routing.router import LearnedExample, build_router

log = logging.getLogger(__name__)


def default_body_limit(max_message_chars: int) -> int:
    """The body limit of routes that declare none: the longest message in its most escaped form, and a margin.

    Twelve bytes a character: one emoji is two 6-byte escapes in JSON, or four ``%XX`` in a form post.
    The web chat and desk take no uploads, so nothing else needs more.
    """
    return 12 * max_message_chars + 64 * 1024


class App:
    """The running bridge. ``async with App(settings=…) as app:`` starts it; leaving stops it."""

    def __init__(self, *, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.store: Store | None = None
        self.relay: Relay | None = None
        self.channels = Channels()
        self.port: int | None = None
        self._started: list[Channel] = []
        self._intakes: list[asyncio.Task[None]] = []
        self._lease: Lease = LocalLease()
        self._worker: DeliveryWorker | None = None
        self._runner: web.AppRunner | None = None
        self._lock: SqliteLock | None = None
        self.routing: RoutingReloader | None = None
        self._live: PostgresLiveEvents | None = None
        self._translator: LibreTranslateClient | NoTranslation = NoTranslation()
        self._retention: RetentionTask | None = None
        self._timers: DueJobRunner | None = None

    def reload_routing(self) -> None:
        """Load the routing file again soon, changed or not (what SIGHUP does)."""
        if self.routing is not None:
            self.routing.request()

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self._stop()

    async def _start(self) -> None:
        settings = self.settings
        # Taken before the file is read: a change made meanwhile is then seen by the watch.
        seen = digest(settings.routing_file)
        routing = choose_routing(settings)
        if routing.is_example:
            log.warning(
                "no routing file at %s: using the built-in example routing (%s), every department on the web desk",
                settings.routing_file,
                routing.path,
            )
        store = await self._open_database()
        directory = directory_from(routing.config)
        router = LiveRouter(build_router(routing.config, learned=await learned_examples(store, routing.config)))
        answers = LiveAnswers(load_answers(answers_path(routing.path), routing.config))
        self.routing = RoutingReloader(
            path=settings.routing_file,
            directory=directory,
            router=router,
            seen=None if routing.is_example else seen,
            loaded_from=routing.path,
            answers=answers,
        )
        languages = languages_from(routing.config)
        notice = PrivacyNotice(
            retention_days=routing.config.privacy.retention_days,
            translation=settings.translate_url is not None,
            catalogs=languages.catalogs,
        )
        relay = self.relay = Relay(
            store=store,
            directory=directory,
            router=router,
            # The worker is created below; the relay rings it after each commit.
            on_queued=lambda: self._worker.wake() if self._worker else None,
            observer=self.metrics,
            limits=Limits(max_message_chars=settings.max_message_chars),
            languages=languages,
            notice=notice.text,
            menu_timeout=timedelta(minutes=routing.config.menu.timeout_minutes),
            thread_owner=thread_owner_in(lambda: self.channels),
            answers=answers,
        )
        sessions = StoreSessions(store=store)
        live = await self._open_live_events(store)
        consultations = ConsultationService(
            store=store,
            directory=directory,
            languages=languages,
            on_queued=lambda: self._worker.wake() if self._worker else None,
            # The timers are started below; they continue a send published in the background (Slack's form).
            on_scheduled=lambda: self._timers.wake() if self._timers else None,
        )
        self.channels = build_adapters(
            settings,
            directory=directory,
            views=StoreViews(store=store),
            sessions=sessions,
            live=live,
            consultations=StaffConsultations(service=consultations, directory=directory, zone=languages.zone),
            languages=languages,
            notice=notice.text,
            audit=recorder(store),
            answers=answers,
            reports=StoreReports(store=store),
        )
        await self._serve_http(store)
        await self._announce_desk_link(sessions)
        await self._start_channels(relay, store)
        self._translator = await translator_from_settings(settings).__aenter__()
        if self._translator.active:
            log.info("machine translation is on: staff see translations from the server at BRIDGE_TRANSLATE_URL")
        translation = MachineTranslation(
            store=store,
            translator=self._translator,
            catalogs=languages.catalogs,
            directory=directory,
            office_language=routing.config.office_language,
            identify=router.language_of,
            as_typed={d.key for d in routing.config.departments if not d.translate_replies},
            citizen_language=lambda case, citizen: languages.choose(citizen, case).language,
            languages=languages,
            deadline=settings.translate_timeout_seconds,
        )
        self._worker = DeliveryWorker(
            store=store,
            channels=self.channels,
            outcomes=relay,
            observer=self.metrics,
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            preparation=ResultsPreparation(store=store, results=consultations.results, inner=translation, live=live),
            bulk=BulkLimits.from_settings(settings),
        )
        await self._worker.__aenter__()
        await self.routing.__aenter__()
        self._retention = RetentionTask(store=store, retention=Retention(routing.config.privacy.retention_days))
        await self._retention.__aenter__()
        self._timers = DueJobRunner(run_due=relay.run_due_jobs, next_due=lambda: next_job_due(store), clock=store.now)
        await self._timers.__aenter__()
        # What startup built (the router's models and embeddings, the wiring) lives as long as the process: out of
        # the collector's sight, a full collection takes ~3 ms instead of a ~60 ms pause of every message.
        gc.freeze()
        log.info(
            "civic-bridge is up on http://%s:%s (platforms: %s)",
            settings.http_host,
            self.port,
            ", ".join(channel.platform for channel in self.channels) or "none",
        )

    async def _open_database(self) -> Store:
        url = self.settings.database_url
        if url.startswith("sqlite"):
            self._lock = SqliteLock(url)
            self._lock.acquire()
        store = self.store = Store.open(url)
        try:
            await migrate.upgrade(store.engine)
        except Exception as error:
            problem = database_problem(error, url)
            if problem is None:
                raise
            raise StartupError(problem) from error
        log.info("database ready at schema %s", migrate.head_revision())
        return store

    async def _open_live_events(self, store: Store) -> LiveEvents:
        """Live page updates: within this process on SQLite, between processes (LISTEN/NOTIFY) on PostgreSQL."""
        if store.is_sqlite:
            return LocalLiveEvents()
        live = PostgresLiveEvents(engine=store.engine)
        await live.__aenter__()
        self._live = live
        return live

    async def _announce_desk_link(self, sessions: WebSessions) -> None:
        """With no desk users, log a one-time sign-in link for the desk (a new one at every start)."""
        settings = self.settings
        try:
            if DeskUsers(path=settings.desk_users_file).any():
                return
        except UsersFileError:
            return  # the desk itself says what is wrong with the file
        host = settings.http_host.strip("[]")
        host = "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host  # noqa: S104  # a wildcard is not a link
        host = f"[{host}]" if ":" in host else host
        hours = settings.desk_sign_in_link_hours
        link = await issue_sign_in_link(
            sessions, base_url=f"http://{host}:{self.port}", lifetime=timedelta(hours=hours)
        )
        log.warning(
            "the desk has no users: open %s to sign in (the link works once, for %g hours; a new one is printed at "
            "each start until you add a user with `civic-bridge desk add-user NAME`)",
            link,
            hours,
        )

    async def _serve_http(self, store: Store) -> None:
        settings = self.settings
        health = HealthCheck(
            store=store,
            adapters=self.channels.by_platform(),
            metrics=self.metrics,
            stuck_after=settings.stuck_after_seconds,
            schema=lambda: migrate.current_revision(store.engine),
            intake=self._intake_state,
            routing=lambda: self.routing.status().as_json() if self.routing is not None else None,
        )
        web_app = build_web_app(
            health=health,
            metrics=self.metrics,
            max_body=default_body_limit(settings.max_message_chars),
            trusted_proxies=settings.trusted_proxies,
            metrics_behind_proxy=settings.metrics_behind_proxy,
        )
        for channel in self.channels:
            if isinstance(channel, WebMounted):
                channel.mount(web_app)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, settings.http_host, settings.http_port)
        try:
            await site.start()
        except OSError as error:
            raise StartupError(
                f"BRIDGE_HTTP_HOST/BRIDGE_HTTP_PORT: cannot listen on {settings.http_host}:{settings.http_port} "
                f"({error.strerror}). Choose a free port."
            ) from error
        self.port = _bound_port(self._runner)

    async def _start_channels(self, relay: Relay, store: Store) -> None:
        """Start every channel; single-consumer intakes run only where this process holds their lease."""
        for channel in self.channels:
            await channel.start(relay)
            self._started.append(channel)
        if not store.is_sqlite:
            self._lease = PostgresLease(engine=store.engine)
        for adapter in self.channels:
            if isinstance(adapter, ExclusiveIntake):
                hold = self._lease.hold(intake_lease(adapter), start=adapter.start_intake, stop=adapter.stop_intake)
                self._intakes.append(asyncio.create_task(hold, name=f"intake-{adapter.platform}"))

    def _intake_state(self) -> dict[str, str]:
        """Which single-consumer intakes run in this process ("here") and which wait ("standby")."""
        return {
            str(adapter.platform): "here" if self._lease.holding(intake_lease(adapter)) else "standby"
            for adapter in self._started
            if isinstance(adapter, ExclusiveIntake)
        }

    async def _stop(self) -> None:
        gc.unfreeze()
        if self.routing is not None:
            await self.routing.__aexit__(None, None, None)
        await self._cancel_intakes()
        if self._retention is not None:
            await self._retention.__aexit__(None, None, None)
            self._retention = None
        if self._timers is not None:
            await self._timers.__aexit__(None, None, None)
            self._timers = None
        try:
            if self._worker is not None:
                await self._worker.__aexit__(None, None, None)
                self._worker = None
        finally:
            await self._stop_channels()
            await self._translator.__aexit__(None, None, None)
            self._translator = NoTranslation()
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None
            if self._live is not None:
                await self._live.__aexit__(None, None, None)
                self._live = None
            if self.store is not None:
                await self.store.close()
                self.store = None
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    async def _cancel_intakes(self) -> None:
        for task in self._intakes:
            task.cancel()
        for task in self._intakes:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._intakes.clear()

    async def _stop_channels(self) -> None:
        """Stop every started channel, newest first; one that fails to stop does not keep the others running."""
        for adapter in reversed(self._started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", adapter.platform)
        self._started.clear()


async def learned_examples(store: Store, config: RoutingConfig) -> list[LearnedExample]:
    """The examples staff and citizens confirmed, when the routing file lets the router use them (else none)."""
    if not config.learning.use_confirmed_examples:
        return []

    async def read(tx: Tx) -> list[LearnedExample]:
        return [LearnedExample(labelled.text, labelled.department) for labelled in await tx.labelled_cases()]

    return await store.read(read)


async def next_job_due(store: Store) -> datetime | None:
    """When the earliest due job falls due."""

    async def read(tx: Tx) -> datetime | None:
        return await tx.next_job_due_at()

    return await store.read(read)


def intake_lease(adapter: Channel) -> str:
    """The lease name for one platform's single-consumer intake."""
    return f"intake:{adapter.platform}"


def _bound_port(runner: web.AppRunner) -> int | None:
    with contextlib.suppress(IndexError, TypeError):
        return int(runner.addresses[0][1])
    return None
