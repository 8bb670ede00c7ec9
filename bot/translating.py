"""Machine translation on the way out: citizen text reaches staff with its translation, staff replies go out translated.

The delivery worker hands each claimed delivery to ``MachineTranslation.prepare`` just before sending it. No
transaction waits on the network: the message's context is read in one short transaction, the translation
server is asked outside any, and the outcome is written in another (on the message row, so a retried delivery
never asks twice and the desk shows it). A server that fails or is slow lets the original through within
``deadline`` seconds, and staff are told once per message. Logs name what failed, never message text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import replace

from bot import texts
from bot.as_typed import is_as_typed
from bot.departments import Directory
from bot.i18n import Catalogs
from bot.language import LanguageCode, language_name, normalize_language
from bot.model import (
    Case,
    Citizen,
    CitizenReply,
    Delivery,
    Direction,
    MessageId,
    PostKind,
    ReplyKind,
    ThreadPost,
    Translation,
)
from bot.relay.casework import BRIDGE, Casework
from bot.relay.effects import Effects
from bot.speech import Languages
from bot.storage.store import Store, Tx
from bot.storage.translations import TranslationContext
from bot.translate import TranslationError, Translator

log = logging.getLogger(__name__)

#: The least ``/detect`` confidence (0–100) taken as the language of a text the local identifier could not tell.
MIN_DETECT_CONFIDENCE = 50.0

Identify = Callable[[str], str | None]
CitizenLanguage = Callable[[Case, Citizen], str | None]


def stored_language(_case: Case, citizen: Citizen) -> str | None:
    """The language stored for the citizen (their platform's locale until they choose one)."""
    return citizen.language


def translated_reply(catalogs: Catalogs, *, translated: str, original: str, target: str, office: str) -> str:
    """What the citizen reads: the translation, then the labelled original below it, the labels in their language."""
    words = catalogs.for_language(target)
    label = words.gettext(texts.ORIGINAL, language=language_name(office, in_language=words.language))
    return f"{translated}\n\n{words.gettext(texts.MACHINE_TRANSLATED)}\n{label}\n{original}"


class MachineTranslation:
    """The delivery worker's ``Preparation`` when a translation server is configured (harmless when it is not).

    ``identify`` tells a text's language locally (the router's identifier), ``None`` when unsure; then the
    server's ``/detect`` decides, then the citizen's stored language. ``as_typed`` names departments whose
    replies are never translated (``translate_replies: false``); ``citizen_language`` is the language a
    staff reply is translated into.
    """

    def __init__(
        self,
        *,
        store: Store,
        translator: Translator,
        catalogs: Catalogs,
        directory: Directory,
        office_language: str,
        identify: Identify = lambda _text: None,
        as_typed: Collection[str] = (),
        citizen_language: CitizenLanguage = stored_language,
        languages: Languages | None = None,
        deadline: float = 10.0,
    ) -> None:
        self._store = store
        self._translator = translator
        self._catalogs = catalogs
        self._directory = directory
        self._office = normalize_language(office_language) or LanguageCode("en")
        self._identify = identify
        self._as_typed = frozenset(as_typed)
        self._citizen_language = citizen_language
        self._languages = languages or Languages.english()
        self._deadline = deadline

    async def prepare(self, delivery: Delivery) -> Delivery:
        """The delivery with its citizen text's translation attached, or its staff reply translated; never raises."""
        message_id = delivery.message_id
        if not self._translator.active or message_id is None:
            return delivery
        body = delivery.body
        try:
            if isinstance(body, ThreadPost) and body.kind in {PostKind.ROOT, PostKind.CITIZEN}:
                return replace(delivery, body=await self._for_staff(message_id, body))
            if isinstance(body, CitizenReply) and body.kind is ReplyKind.STAFF:
                return await self._for_citizen(delivery, message_id, body)
        except Exception as error:  # noqa: BLE001  # a translation problem must never hold a message back
            log.warning("translation of delivery %s skipped: %s", delivery.id, type(error).__name__)
        return delivery

    # --- citizen text, for staff ----------------------------------------------------------------

    async def _for_staff(self, message_id: MessageId, post: ThreadPost) -> ThreadPost:
        context = await self._context(message_id)
        if context is None or context.direction is not Direction.CITIZEN:
            return post
        if context.decided:
            return replace(post, translation=context.translation)
        if not context.text.strip():
            return post
        outcome = await self._into_office_language(context.text, hint=post.card.language)
        if outcome.error is not None:
            log.warning("translation of message %s for staff failed: %s", message_id, outcome.error)

        async def record(tx: Tx) -> bool:
            return await tx.record_translation(message_id, outcome)

        await self._store.atomic(record)
        return replace(post, translation=outcome if outcome.text or outcome.error else None)

    async def _into_office_language(self, text: str, *, hint: str | None) -> Translation:
        """The text's translation into the office language; no ``text`` when it is in it already."""
        office = self._office
        source: LanguageCode | None = None
        try:
            async with asyncio.timeout(self._deadline):
                source = normalize_language(self._identify(text))
                source = source or await self._detect(text) or normalize_language(hint)
                if source is None or source == office:
                    return Translation(source or office, office)
                translated = await self._translator.translate(text, source=source, target=office)
                return Translation(source, office, text=translated)
        except TimeoutError:
            reason = f"the translation server did not answer within {self._deadline:g}s"
        except TranslationError as error:
            reason = error.reason
        return Translation(source or "auto", office, error=reason)

    async def _detect(self, text: str) -> LanguageCode | None:
        """The server's confident guess at ``text``'s language; None when it is unsure or failed."""
        try:
            found = await self._translator.detect(text)
        except TranslationError:
            return None
        best = found[0] if found else None
        return best.language if best is not None and best.confidence >= MIN_DETECT_CONFIDENCE else None

    # --- staff replies, for the citizen ---------------------------------------------------------

    async def _for_citizen(self, delivery: Delivery, message_id: MessageId, reply: CitizenReply) -> Delivery:
        context = await self._context(message_id)
        if context is None or context.direction is not Direction.STAFF or context.decided:
            return delivery  # a retry: the stored body is already what goes out
        if is_as_typed(context.text) or context.case.department in self._as_typed:
            return delivery
        target = normalize_language(self._citizen_language(context.case, context.citizen))
        if target is None or target == self._office or not reply.text.strip():
            return delivery
        try:
            async with asyncio.timeout(self._deadline):
                translated = await self._translator.translate(reply.text, source=self._office, target=target)
        except TimeoutError:
            outcome = Translation(self._office, target, error=f"the server did not answer within {self._deadline:g}s")
        except TranslationError as error:
            outcome = Translation(self._office, target, error=error.reason)
        else:
            outcome = Translation(self._office, target, text=translated)
        if outcome.text is None:
            log.warning("translation of staff reply %s failed: %s", message_id, outcome.error)
            await self._store.atomic(lambda tx: self._record_failure(tx, message_id, context, outcome))
            return delivery
        composed = translated_reply(
            self._catalogs, translated=outcome.text, original=reply.text, target=target, office=self._office
        )
        sent = replace(reply, text=composed)

        async def record(tx: Tx) -> None:
            await tx.record_translation(message_id, outcome)
            await tx.replace_body(delivery.id, sent)

        await self._store.atomic(record)
        return replace(delivery, body=sent)

    async def _record_failure(
        self, tx: Tx, message_id: MessageId, context: TranslationContext, outcome: Translation
    ) -> None:
        """Store why the reply went untranslated and, the first time only, tell staff in the case's thread."""
        if not await tx.record_translation(message_id, outcome):
            return
        office = language_name(self._office, in_language="en")
        line = texts.REPLY_UNTRANSLATED.format(reason=outcome.error, language=office)
        work = Casework(tx, directory=self._directory, effects=Effects(), languages=self._languages)
        await work.post(context.case, PostKind.SYSTEM, text=line, author=BRIDGE, citizen=context.citizen)

    async def _context(self, message_id: MessageId) -> TranslationContext | None:
        async def read(tx: Tx) -> TranslationContext | None:
            return await tx.translation_context(message_id)

        return await self._store.read(read)
