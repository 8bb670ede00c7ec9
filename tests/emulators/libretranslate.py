"""A loopback LibreTranslate: ``POST /translate``, ``POST /detect`` and ``GET /languages`` on 127.0.0.1.

It speaks LibreTranslate's wire format: JSON or form bodies with ``q`` (a string or a list), ``source``
(a code or ``auto``), ``target``, ``format`` and ``api_key``; answers ``{"translatedText": …}`` (with
``detectedLanguage`` for ``auto``), ``[{"language", "confidence"}]``, the language list, and errors as
``{"error": …}`` with 400, 403, 429 or 500. Translations are deterministic: a phrase book first, else
``[target] text``. Tests make it fail (``fail``) or hang until released (``hang``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

API_KEY = "test-translate-key"
LANGUAGES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pl": "Polish",
    "ar": "Arabic",
    "uk": "Ukrainian",
    "pt": "Portuguese",
    "it": "Italian",
    "tr": "Turkish",
}
#: (source, target, text) → translation.
PHRASES: Mapping[tuple[str, str, str], str] = {
    ("es", "en", "Hay un bache enorme en mi calle"): "There is a huge pothole in my street",
    ("en", "es", "We will repair it this week."): "Lo repararemos esta semana.",
    ("ar", "en", "لم يتم جمع القمامة"): "The rubbish was not collected",
    ("en", "ar", "We will send a truck tomorrow."): "سنرسل شاحنة غدًا.",
}
#: A word that gives a text's language away, for ``/detect`` and ``source: auto``.
TELLTALES = {"hay": "es", "calle": "es", "bonjour": "fr", "straße": "de", "القمامة": "ar", "the": "en"}


@dataclass(frozen=True, slots=True)
class Call:
    """A request the emulator received: its path, its fields and whether they came as JSON."""

    path: str
    fields: Mapping[str, Any]
    as_json: bool


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failing call answers."""

    status: int
    error: str


SERVER_ERROR = Failure(500, "Cannot translate text: the model failed to load")
SLOW_DOWN = Failure(429, "Slowdown: 1 per 1 second")


class LibreTranslateEmulator:
    """The LibreTranslate API on a random loopback port: ``async with LibreTranslateEmulator() as server:``."""

    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.calls: list[Call] = []
        self.url = ""
        self._failures: list[Failure] = []
        self._hanging = False
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/translate", self._translate)
        app.router.add_post("/detect", self._detect)
        app.router.add_get("/languages", self._languages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # started just above
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, *failures: Failure) -> None:
        """Answer the next calls with these failures, one each, in order."""
        self._failures.extend(failures)

    def hang(self) -> None:
        """Hold every call from now on until ``release`` (or shutdown): a server too slow to wait for."""
        self._hanging = True
        self._released.clear()

    def release(self) -> None:
        """Answer held calls and stop holding new ones."""
        self._hanging = False
        self._released.set()

    # --- the API ---------------------------------------------------------------------------------

    async def _fields(self, request: web.Request) -> tuple[dict[str, Any], bool]:
        if request.content_type == "application/json":
            data = await request.json()
            return (data if isinstance(data, dict) else {}), True
        form = await request.post()
        return {key: str(value) for key, value in form.items()}, False

    async def _admit(self, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        fields, as_json = await self._fields(request)
        self.calls.append(Call(request.path, fields, as_json))
        if self._hanging:
            await self._released.wait()
        if self._failures:
            failure = self._failures.pop(0)
            return fields, _error(failure.status, failure.error)
        if self.api_key is not None and fields.get("api_key") != self.api_key:
            return fields, _error(403, "Invalid API key")
        if not fields.get("q"):
            return fields, _error(400, "Invalid request: missing q parameter")
        return fields, None

    async def _translate(self, request: web.Request) -> web.Response:
        fields, refused = await self._admit(request)
        if refused is not None:
            return refused
        source, target = str(fields.get("source", "")), str(fields.get("target", ""))
        if not target:
            return _error(400, "Invalid request: missing target parameter")
        for code in (source, target):
            if code != "auto" and code not in LANGUAGES:
                return _error(400, f"{code} is not supported")
        if fields.get("format", "text") not in {"text", "html"}:
            return _error(400, "Invalid request: format must be text or html")
        texts = fields["q"] if isinstance(fields["q"], list) else [fields["q"]]
        detected = _guess(" ".join(map(str, texts)))
        actual = detected[0] if source == "auto" else source
        translated = [PHRASES.get((actual, target, str(text)), f"[{target}] {text}") for text in texts]
        answer: dict[str, Any] = {"translatedText": translated if isinstance(fields["q"], list) else translated[0]}
        if source == "auto":
            answer["detectedLanguage"] = {"language": detected[0], "confidence": detected[1]}
        return web.json_response(answer)

    async def _detect(self, request: web.Request) -> web.Response:
        fields, refused = await self._admit(request)
        if refused is not None:
            return refused
        language, confidence = _guess(str(fields["q"]))
        return web.json_response([{"language": language, "confidence": confidence}])

    async def _languages(self, _request: web.Request) -> web.Response:
        self.calls.append(Call("/languages", {}, as_json=False))
        return web.json_response(
            [
                {"code": code, "name": name, "targets": [t for t in LANGUAGES if t != code]}
                for code, name in LANGUAGES.items()
            ]
        )


def _guess(text: str) -> tuple[str, float]:
    """The language a telltale word gives away, confidently; else English, barely."""
    for word in text.casefold().split():
        if word in TELLTALES:
            return TELLTALES[word], 92.0
    return "en", 12.0


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
