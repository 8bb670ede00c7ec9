"""The machine translation client against a loopback LibreTranslate: answers, failures, timeouts, keys."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr

from bot.translate import LibreTranslateClient, NoTranslation, TranslationError, translator_from_settings
from config.settings import Settings, SettingsError, load_settings
from tests.emulators.libretranslate import API_KEY, SERVER_ERROR, SLOW_DOWN, LibreTranslateEmulator


@pytest.fixture
async def server() -> AsyncIterator[LibreTranslateEmulator]:
    """A LibreTranslate emulator without API keys."""
    async with LibreTranslateEmulator() as emulator:
        yield emulator


@pytest.fixture
async def client(server: LibreTranslateEmulator) -> AsyncIterator[LibreTranslateClient]:
    """A client of the emulator with a short timeout."""
    async with LibreTranslateClient(url=server.url, timeout=2.0) as translator:
        yield translator


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_citizen_text_is_translated_for_staff(client: LibreTranslateClient) -> None:
    """A Spanish citizen message comes back in English."""
    translated = await client.translate("Hay un bache enorme en mi calle", source="es", target="en")
    assert translated == "There is a huge pothole in my street"


async def test_staff_reply_is_translated_into_arabic(client: LibreTranslateClient) -> None:
    """A staff reply goes out in Arabic."""
    assert await client.translate("We will send a truck tomorrow.", source="en", target="ar") == "سنرسل شاحنة غدًا."


async def test_request_uses_libretranslate_fields(client: LibreTranslateClient, server: LibreTranslateEmulator) -> None:
    """The client sends q, source, target and format as JSON, as LibreTranslate expects."""
    await client.translate("Hello", source="en", target="fr")
    assert [(c.path, dict(c.fields), c.as_json) for c in server.calls] == [
        ("/translate", {"q": "Hello", "source": "en", "target": "fr", "format": "text"}, True)
    ]


async def test_same_language_is_not_sent(client: LibreTranslateClient, server: LibreTranslateEmulator) -> None:
    """Translating English into English (or blank text) costs no call and changes nothing."""
    assert (
        await client.translate("Hi", source="en-GB", target="en"),
        await client.translate(" ", source="es", target="en"),
    ) == ("Hi", " ")
    assert server.calls == []


async def test_language_is_detected(client: LibreTranslateClient) -> None:
    """``/detect`` gives the most likely language first, with its confidence."""
    detections = await client.detect("Hay un bache en la calle")
    assert [(d.language, d.confidence) for d in detections] == [("es", 92.0)]


async def test_server_languages_are_listed(client: LibreTranslateClient) -> None:
    """``/languages`` lists what the server translates, with targets."""
    languages = {language.code: language for language in await client.languages()}
    assert ("ar" in languages, "en" in languages["ar"].targets) == (True, True)


async def test_server_down_raises_translation_error() -> None:
    """Nothing listening: a TranslationError at once, never a hang or a raw network exception."""
    async with LibreTranslateClient(url=f"http://127.0.0.1:{_closed_port()}", timeout=5.0) as client:
        with pytest.raises(TranslationError, match="cannot reach the translation server"):
            await client.translate("Hola", source="es", target="en")


async def test_server_error_raises_translation_error(
    client: LibreTranslateClient, server: LibreTranslateEmulator
) -> None:
    """A 500 from the server is a TranslationError that carries the status and the server's reason."""
    server.fail(SERVER_ERROR)
    with pytest.raises(TranslationError, match="failed \\(500: Cannot translate") as caught:
        await client.translate("Hola", source="es", target="en")
    assert caught.value.status == 500


async def test_rate_limit_raises_translation_error(
    client: LibreTranslateClient, server: LibreTranslateEmulator
) -> None:
    """A 429 says the bridge should slow down."""
    server.fail(SLOW_DOWN)
    with pytest.raises(TranslationError, match="slow down"):
        await client.translate("Hola", source="es", target="en")


async def test_slow_server_times_out(server: LibreTranslateEmulator) -> None:
    """A server that does not answer costs the timeout, then a TranslationError; the call is not left hanging."""
    server.hang()
    started = time.monotonic()
    async with LibreTranslateClient(url=server.url, timeout=0.3) as client:
        with pytest.raises(TranslationError, match=r"did not answer within 0\.3s"):
            await client.translate("Hola", source="es", target="en")
    assert time.monotonic() - started < 3.0


async def test_wrong_api_key_names_the_setting() -> None:
    """A rejected key is a TranslationError that tells the admin which setting to fix."""
    async with (
        LibreTranslateEmulator(api_key=API_KEY) as server,
        LibreTranslateClient(url=server.url, api_key=SecretStr("wrong"), timeout=2.0) as client,
    ):
        with pytest.raises(TranslationError, match="BRIDGE_TRANSLATE_API_KEY") as caught:
            await client.translate("Hola", source="es", target="en")
    assert caught.value.status == 403


async def test_right_api_key_is_sent_and_accepted() -> None:
    """With the configured key the server translates."""
    async with (
        LibreTranslateEmulator(api_key=API_KEY) as server,
        LibreTranslateClient(url=server.url, api_key=SecretStr(API_KEY), timeout=2.0) as client,
    ):
        assert await client.translate("Hola", source="es", target="en") == "[en] Hola"


async def test_failure_reason_holds_no_message_text(
    client: LibreTranslateClient, server: LibreTranslateEmulator
) -> None:
    """What may end up in a log says why, never what the citizen wrote."""
    server.fail(SERVER_ERROR)
    with pytest.raises(TranslationError) as caught:
        await client.translate("My phone number is 555-0101", source="en", target="es")
    assert "555-0101" not in str(caught.value)


async def test_emulator_accepts_form_bodies(server: LibreTranslateEmulator) -> None:
    """Like LibreTranslate, the emulator takes form-encoded fields and a list of texts."""
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{server.url}/translate", data={"q": "Hola", "source": "auto", "target": "en"})
        answer = await response.json()
    assert answer == {"translatedText": "[en] Hola", "detectedLanguage": {"language": "en", "confidence": 12.0}}


async def test_no_translation_when_unset() -> None:
    """Without BRIDGE_TRANSLATE_URL the translator is inactive and hands texts back as written."""
    translator = translator_from_settings(Settings(_env_file=None))
    assert isinstance(translator, NoTranslation)
    async with translator:
        assert (translator.active, await translator.translate("Hola", source="es", target="en")) == (False, "Hola")


def test_translate_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """BRIDGE_TRANSLATE_URL and BRIDGE_TRANSLATE_API_KEY configure the client; the key stays secret."""
    monkeypatch.setenv("BRIDGE_TRANSLATE_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("BRIDGE_TRANSLATE_API_KEY", "s3cret")
    settings = Settings(_env_file=None)
    assert isinstance(translator_from_settings(settings), LibreTranslateClient)
    assert "s3cret" not in repr(settings)


def test_translate_url_must_be_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """A translation URL that is not http(s) stops the bridge with one line naming the variable."""
    monkeypatch.setenv("BRIDGE_TRANSLATE_URL", "127.0.0.1:5000")
    with pytest.raises(SettingsError, match=r"BRIDGE_TRANSLATE_URL: .*http://"):
        load_settings(_env_file=None)
