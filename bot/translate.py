"""Machine translation for staff, through a LibreTranslate-compatible server the office runs itself.

``BRIDGE_TRANSLATE_URL`` unset: ``NoTranslation``, which translates nothing and sends nothing anywhere.
Set: ``LibreTranslateClient`` (``POST /translate``, ``POST /detect``, ``GET /languages``). Every failure,
a timeout included, is one ``TranslationError`` whose reason holds no message text: the caller then
passes the original on and tells staff; nothing waits longer than the timeout.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

import aiohttp
from pydantic import SecretStr

from bot.language import LanguageCode, normalize_language
from config.settings import Settings

#: How much of a server's error message a TranslationError quotes.
_QUOTED = 160


class TranslationError(Exception):
    """The translation server did not translate. ``status`` is its HTTP status, if it answered at all."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class Detection:
    """A language the server thinks a text is in, with its confidence (0–100, as LibreTranslate gives it)."""

    language: LanguageCode
    confidence: float


@dataclass(frozen=True, slots=True)
class ServerLanguage:
    """A language the server translates from, and the languages it translates it into."""

    code: str
    name: str
    targets: tuple[str, ...]


class Translator(Protocol):
    """What the relay needs from machine translation."""

    @property
    def active(self) -> bool:
        """Whether texts are really translated (``False``: show no translation at all)."""
        ...

    async def translate(self, text: str, *, source: str, target: str) -> str:
        """``text`` from ``source`` (a code, or ``auto``) into ``target``; raises ``TranslationError``."""
        ...

    async def detect(self, text: str) -> tuple[Detection, ...]:
        """The languages ``text`` may be in, most likely first; raises ``TranslationError``."""
        ...


@dataclass(frozen=True, slots=True)
class NoTranslation:
    """No translation server configured: texts stay as written and nothing leaves the office."""

    active: bool = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def translate(self, text: str, *, source: str, target: str) -> str:  # noqa: ARG002  # the protocol's
        """The text as it is."""
        return text

    async def detect(self, text: str) -> tuple[Detection, ...]:  # noqa: ARG002  # the protocol's signature
        """Nothing is known."""
        return ()


class LibreTranslateClient:
    """A LibreTranslate server over HTTP. Use as ``async with LibreTranslateClient(url=…) as translator:``."""

    active = True

    def __init__(
        self, *, url: str, api_key: SecretStr | None = None, timeout: float = 10.0
    ) -> None:  # a per-call deadline
        self._base = url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _error: BaseException | None, _trace: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def translate(self, text: str, *, source: str, target: str) -> str:
        """``text`` translated; blank text and same-language requests come back unchanged without a call."""
        if not text.strip() or (source != "auto" and normalize_language(source) == normalize_language(target)):
            return text
        body = {"q": text, "source": source, "target": target, "format": "text"}
        answer = await self._call("POST", "/translate", body)
        translated = answer.get("translatedText") if isinstance(answer, dict) else None
        if not isinstance(translated, str) or not translated.strip():
            raise TranslationError("the translation server answered without a translation")
        return translated

    async def detect(self, text: str) -> tuple[Detection, ...]:
        """The server's guesses for ``text``'s language, most confident first."""
        answer = await self._call("POST", "/detect", {"q": text})
        if not isinstance(answer, list):
            raise TranslationError("the translation server's detection is not a list")
        found = []
        for item in answer:
            language = normalize_language(item.get("language")) if isinstance(item, dict) else None
            confidence = item.get("confidence") if isinstance(item, dict) else None
            if language is not None and isinstance(confidence, int | float):
                found.append(Detection(language, float(confidence)))
        return tuple(sorted(found, key=lambda detection: -detection.confidence))

    async def languages(self) -> tuple[ServerLanguage, ...]:
        """What the server translates (for a health check, or to tell an admin a language is missing)."""
        answer = await self._call("GET", "/languages", None)
        if not isinstance(answer, list):
            raise TranslationError("the translation server's language list is not a list")
        return tuple(
            ServerLanguage(str(item["code"]), str(item.get("name", item["code"])), tuple(item.get("targets", ())))
            for item in answer
            if isinstance(item, dict) and "code" in item
        )

    async def _call(self, method: str, path: str, body: dict[str, str] | None) -> Any:  # noqa: ANN401  # JSON
        if self._session is None:
            raise TranslationError("the translation client is not started (use it with async with)")
        if body is not None and self._api_key is not None:
            body = {**body, "api_key": self._api_key.get_secret_value()}
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._session.request(method, self._base + path, json=body) as response,
            ):
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
                if response.status != 200:  # noqa: PLR2004  # HTTP OK
                    raise TranslationError(_refusal(response.status, answer), status=response.status)
                return answer
        except TimeoutError:
            raise TranslationError(f"the translation server did not answer within {self._timeout:g}s") from None
        except aiohttp.ClientError as error:
            raise TranslationError(f"cannot reach the translation server ({type(error).__name__})") from None


def _refusal(status: int, answer: object) -> str:
    """Why the server said no, in words an admin can act on."""
    said = answer.get("error") if isinstance(answer, dict) else None
    quoted = f": {str(said)[:_QUOTED]}" if said else ""
    if status == 403:  # noqa: PLR2004  # HTTP Forbidden
        return f"the translation server refused the API key (403{quoted}); check BRIDGE_TRANSLATE_API_KEY"
    if status == 429:  # noqa: PLR2004  # HTTP Too Many Requests
        return f"the translation server asks the bridge to slow down (429{quoted})"
    if status >= 500:  # noqa: PLR2004  # HTTP server errors
        return f"the translation server failed ({status}{quoted})"
    return f"the translation server refused the request ({status}{quoted})"


def translator_from_settings(settings: Settings) -> LibreTranslateClient | NoTranslation:
    """The translator ``BRIDGE_TRANSLATE_*`` describe; enter it with ``async with`` before use."""
    if not settings.translate_url:
        return NoTranslation()
    return LibreTranslateClient(
        url=settings.translate_url, api_key=settings.translate_api_key, timeout=settings.translate_timeout_seconds
    )
