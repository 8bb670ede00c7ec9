"""Telegram end to end: the real python-telegram-bot against the loopback Bot API emulator."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from adapters.pacing import SendPace
from adapters.telegram import TelegramAdapter
from bot import texts
from bot.model import FileData, PostKind
from bot.storage.store import Store, utc_now
from tests.bridge import Bridge, build_bridge
from tests.emulators.telegram import BLOCKED, SERVER_ERROR, TelegramEmulator, too_many_requests
from tests.waiting import eventually

CITIZEN = 111


def make_adapter(telegram: TelegramEmulator, **options: Any) -> TelegramAdapter:
    """The adapter pointed at the emulator, with test-sized timings (no flood waits, short windows)."""
    defaults: dict[str, Any] = {
        "token": telegram.token,
        "api_url": telegram.api_url,
        "flood": SendPace(per_chat_interval=0.0, overall_rate=10_000.0),
        "album_window": 0.3,
        "poll_timeout": 2,
        "retry_delay": lambda _failures: 0.05,
    }
    return TelegramAdapter(**{**defaults, **options})


@asynccontextmanager
async def running(store: Store, telegram: TelegramEmulator, **options: Any) -> AsyncIterator[Bridge]:
    """The bridge with the real Telegram adapter polling the emulator and the worker running."""
    adapter = make_adapter(telegram, **options)
    async with build_bridge(store, utc_now, citizen=[adapter]) as bridge:
        await adapter.start_intake()  # the app does this where it holds the intake lease
        await eventually(lambda: adapter.health() == "up", what="telegram polling")
        async with bridge.worker:
            yield bridge


async def first_thread(
    bridge: Bridge, telegram: TelegramEmulator, text: str = "pothole on Mill Lane"
) -> dict[str, Any]:
    """A citizen opens a case: the thread exists and the acknowledgement arrived. Returns the update."""
    update = telegram.push_message(user=CITIZEN, text=text)
    await eventually(lambda: len(telegram.texts_to(CITIZEN)) == 1, what="the acknowledgement")
    await eventually(lambda: len(bridge.slack.threads) == 1, what="the thread")
    return update


def outbox_empty(store: Store) -> Callable[[], Awaitable[bool]]:
    """A condition for ``eventually``: nothing pending in the outbox."""

    async def empty() -> bool:
        return (await store.outbox_stats()).depth == 0

    return empty


async def staff_reply(bridge: Bridge, text: str, **options: Any) -> None:
    """Someone in the case's thread answers (and the worker is woken, as the app wires it)."""
    await bridge.slack.reply(bridge.slack.threads[0], text, **options)
    bridge.worker.wake()


async def test_first_message_opens_thread_and_citizen_gets_ack(store: Store, telegram: TelegramEmulator) -> None:
    """A citizen's first private message opens a thread and the citizen reads the acknowledgement."""
    async with running(store, telegram) as bridge:
        await first_thread(bridge, telegram)
        [thread] = bridge.slack.threads
        assert (thread.channel, thread.posts[0].text) == ("C0ROADS", "pothole on Mill Lane")
        assert thread.posts[0].card.citizen_name == "Ada Citizen"
        [ack] = telegram.texts_to(CITIZEN)
        assert thread.reference in ack
        assert "Roads &amp; Transport" in ack


async def test_staff_reply_reaches_chat_escaped_and_signed(store: Store, telegram: TelegramEmulator) -> None:
    """A staff reply reaches the chat as escaped HTML, signed with the department in italics."""
    async with running(store, telegram) as bridge:
        await first_thread(bridge, telegram)
        await staff_reply(bridge, "Fixed <b>today</b> & tomorrow")
        await eventually(lambda: len(telegram.sent_to(CITIZEN)) == 2, what="the staff reply")
        reply = telegram.sent_to(CITIZEN)[-1]
        assert reply.params["parse_mode"] == "HTML"
        assert reply.params["text"] == "Fixed &lt;b&gt;today&lt;/b&gt; &amp; tomorrow\n\n— <i>Roads &amp; Transport</i>"


async def test_long_staff_reply_is_split_on_word_boundaries(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A reply over 4,096 characters arrives as several messages, each cut between words."""
    words = " ".join(f"word{number}" for number in range(1000))
    signature = "\n\n— <i>Roads &amp; Transport</i>"
    async with running(sqlite_store, telegram) as bridge:
        await first_thread(bridge, telegram)
        await staff_reply(bridge, words)
        await eventually(lambda: telegram.texts_to(CITIZEN)[-1].endswith(signature), what="the last part")
        parts = telegram.texts_to(CITIZEN)[1:]
        assert len(parts) > 1
        assert all(len(part) <= 4096 for part in parts)
        assert " ".join(parts).removesuffix(signature) == words


async def test_photo_is_relayed_in_its_largest_size(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A photo reaches the thread as the largest size Telegram offers, with its caption."""
    small, large = telegram.add_file(b"small"), telegram.add_file(b"large-photo-bytes")
    sizes = [{**small, "width": 90, "height": 60}, {**large, "width": 1280, "height": 960}]
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(user=CITIZEN, photo=sizes, caption="pothole here")
        await eventually(lambda: bool(bridge.slack.sent), what="the thread root")
        [root] = bridge.slack.sent
        assert root.body.text == "pothole here"
        assert [(f.name.endswith(".jpg"), f.mime_type, f.data) for f in root.files] == [
            (True, "image/jpeg", b"large-photo-bytes")
        ]


async def test_document_is_relayed_with_its_name_and_type(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A document reaches the thread under its own file name and type."""
    document = {**telegram.add_file(b"%PDF-1.4", folder="documents", suffix="pdf"), "file_name": "letter.pdf"}
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(user=CITIZEN, document={**document, "mime_type": "application/pdf"})
        await eventually(lambda: bool(bridge.slack.sent), what="the thread root")
        [file] = bridge.slack.sent[0].files
        assert (file.name, file.mime_type, file.data) == ("letter.pdf", "application/pdf", b"%PDF-1.4")


async def test_voice_note_is_relayed_as_ogg_audio(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A voice note reaches the thread as an audio/ogg file."""
    voice = {**telegram.add_file(b"OggS-voice", folder="voice", suffix="oga"), "duration": 3}
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(user=CITIZEN, voice=voice)
        await eventually(lambda: bool(bridge.slack.sent), what="the thread root")
        [file] = bridge.slack.sent[0].files
        assert (file.name.endswith(".ogg"), file.mime_type, file.data) == (True, "audio/ogg", b"OggS-voice")


async def test_location_is_relayed_as_a_map_link(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A shared location reaches the thread as an OpenStreetMap link with its coordinates."""
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(user=CITIZEN, location={"latitude": 52.520008, "longitude": 13.404954})
        await eventually(lambda: bool(bridge.slack.threads), what="the thread")
        assert bridge.slack.threads[0].posts[0].text == (
            "Location: https://www.openstreetmap.org/?mlat=52.520008&mlon=13.404954 (52.520008, 13.404954)"
        )


async def test_contact_is_relayed_as_name_and_phone(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A shared contact reaches the thread as its name and phone number."""
    contact = {"phone_number": "+49 30 1234567", "first_name": "Bob", "last_name": "Builder"}
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(user=CITIZEN, contact=contact)
        await eventually(lambda: bool(bridge.slack.threads), what="the thread")
        assert bridge.slack.threads[0].posts[0].text == "Contact: Bob Builder, phone +49 30 1234567"


async def test_album_arrives_as_one_message_with_every_photo(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """The photos of an album reach the thread as one message carrying all of them."""
    photos = [telegram.add_file(f"photo-{n}".encode()) for n in range(3)]
    async with running(sqlite_store, telegram) as bridge:
        for number, photo in enumerate(photos):
            caption = {"caption": "three potholes"} if number == 0 else {}
            telegram.push_message(
                user=CITIZEN, media_group_id="g1", photo=[{**photo, "width": 9, "height": 9}], **caption
            )
        await eventually(lambda: bool(bridge.slack.sent), what="the thread root")
        [root] = bridge.slack.sent
        assert root.body.text == "three potholes"
        assert [file.data for file in root.files] == [b"photo-0", b"photo-1", b"photo-2"]


async def test_a_text_sent_right_after_an_album_follows_it(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """The album opens the case and the text comes second, as sent: the text does not wait out the album's window."""
    photos = [telegram.add_file(f"photo-{n}".encode()) for n in range(2)]
    for number, photo in enumerate(photos):
        caption = {"caption": "two potholes"} if number == 0 else {}
        telegram.push_message(user=CITIZEN, media_group_id="g1", photo=[{**photo, "width": 9, "height": 9}], **caption)
    telegram.push_message(user=CITIZEN, text="and one more on the corner")
    async with running(sqlite_store, telegram, album_window=5.0) as bridge:  # longer than the test waits
        await eventually(lambda: len(bridge.slack.sent) == 2, what="both posts")
        root, follow_up = bridge.slack.sent
        assert (root.body.text, len(root.files)) == ("two potholes", 2)
        assert follow_up.body.text == "and one more on the corner"


async def test_sticker_is_refused_politely(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A sticker opens no case; the citizen is asked to write it as text."""
    sticker = {
        "file_id": "S1",
        "file_unique_id": "S1",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(user=CITIZEN, sticker=sticker)
        await eventually(lambda: bool(telegram.texts_to(CITIZEN)), what="the refusal")
        assert telegram.texts_to(CITIZEN) == [texts.UNSUPPORTED.replace("'", "&#x27;")]
        assert bridge.slack.sent == []


async def test_too_big_file_is_refused_and_nothing_relayed(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A file over the size cap is not relayed, and the citizen is told why."""
    document = {**telegram.add_file(b"x" * 2048, folder="documents", suffix="bin"), "file_name": "big.bin"}
    async with running(sqlite_store, telegram, max_file_bytes=1024) as bridge:
        telegram.push_message(user=CITIZEN, document=document, caption="see attached")
        await eventually(lambda: bool(telegram.texts_to(CITIZEN)), what="the refusal")
        assert "too large" in telegram.texts_to(CITIZEN)[0]
        assert "1 KB" in telegram.texts_to(CITIZEN)[0]
        assert bridge.slack.sent == []
        assert telegram.calls_to("getFile") == []


async def test_edited_message_reaches_thread_marked_edited(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """Editing a message sends the new text to the thread as "edited: …"."""
    async with running(sqlite_store, telegram) as bridge:
        update = await first_thread(bridge, telegram)
        edited = {**update["message"], "text": "pothole on Mill Road", "edit_date": 1}
        telegram.push(telegram.update(edited_message=edited))
        await eventually(lambda: len(bridge.slack.threads[0].posts) == 2, what="the edit")
        assert bridge.slack.threads[0].posts[1].text == "edited: pothole on Mill Road"


@pytest.mark.parametrize(
    ("command", "expected"),
    [("/start", "Privacy:"), ("/help", "Commands:"), ("/status", "You have no cases yet")],
)
async def test_commands_answer_in_the_chat(
    sqlite_store: Store, telegram: TelegramEmulator, command: str, expected: str
) -> None:
    """/start, /help and /status answer the citizen in the chat and open no case."""
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(
            user=CITIZEN, text=command, entities=[{"type": "bot_command", "offset": 0, "length": len(command)}]
        )
        await eventually(lambda: bool(telegram.texts_to(CITIZEN)), what="the answer")
        assert expected in telegram.texts_to(CITIZEN)[0]
        assert bridge.slack.threads == []


async def test_new_command_closes_the_open_case(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """/new closes the citizen's open case and says so."""
    async with running(sqlite_store, telegram) as bridge:
        await first_thread(bridge, telegram)
        telegram.push_message(user=CITIZEN, text="/new")
        await eventually(lambda: len(telegram.texts_to(CITIZEN)) == 2, what="the answer")
        assert bridge.slack.threads[0].reference in telegram.texts_to(CITIZEN)[1]
        assert "closed" in telegram.texts_to(CITIZEN)[1]


async def test_commands_are_registered_on_start(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """Starting the adapter registers every citizen command (start … forget) with setMyCommands."""
    async with running(sqlite_store, telegram):
        call = telegram.calls_to("setMyCommands")[0]  # the default menu; one per offered language follows
        assert "language_code" not in call.params
        assert [command["command"] for command in call.json("commands")] == [
            "start",
            "status",
            "new",
            "help",
            "language",
            "mydata",
            "forget",
            "subscribe",
            "topics",
            "stop",
        ]


async def test_menu_choice_by_inline_button_routes_the_case(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """When routing is unsure the citizen gets buttons; pressing one routes the case and is answered."""
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(user=CITIZEN, text="a pothole next to my bin")
        await eventually(lambda: bool(telegram.sent_to(CITIZEN)), what="the menu")
        markup = telegram.sent_to(CITIZEN)[0].json("reply_markup")
        buttons = [row[0]["callback_data"] for row in markup["inline_keyboard"]]
        assert buttons == ["roads", "waste", "other"]
        telegram.push_callback(user=CITIZEN, data="waste")
        await eventually(lambda: bool(bridge.slack.threads), what="the thread")
        assert bridge.slack.threads[0].channel == "C0WASTE"
        await eventually(lambda: len(telegram.calls_to("answerCallbackQuery")) == 1, what="the answer")


async def test_group_gets_one_refusal_and_nothing_is_stored(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """In a group the bot says once that it works in private chat, and stores nothing."""
    group = -100777
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(user=CITIZEN, chat=group, chat_type="group", text="pothole!")
        telegram.push_message(user=222, chat=group, chat_type="group", text="another pothole")
        await eventually(lambda: telegram.confirmed > 0 and not telegram._updates, what="both updates confirmed")
        [refusal] = telegram.texts_to(group)
        assert "private chat" in refusal
        assert "https://t.me/civic_bridge_bot" in refusal
        assert await sqlite_store.outbox_stats() == type(await sqlite_store.outbox_stats())(0, None, 0)
        assert bridge.slack.sent == []


async def test_duplicate_update_is_processed_once(store: Store, telegram: TelegramEmulator) -> None:
    """An update Telegram delivers again after a restart opens no second thread and sends no second ack."""
    async with running(store, telegram) as bridge:
        update = await first_thread(bridge, telegram)
    telegram.push(update)  # as if the bridge died before Telegram saw the offset confirmed
    async with running(store, telegram) as bridge:
        await eventually(lambda: not telegram._updates, what="the copy fetched and confirmed")
        assert (await store.outbox_stats()).depth == 0
        assert bridge.slack.sent == []
        assert len(telegram.texts_to(CITIZEN)) == 1


async def test_flood_429_then_success_delivers_once(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A 429 with retry_after holds the reply in the outbox; it is then delivered exactly once."""
    telegram.fail("sendMessage", too_many_requests(1))
    async with running(sqlite_store, telegram):
        telegram.push_message(user=CITIZEN, text="pothole on Mill Lane")
        await eventually(lambda: len(telegram.texts_to(CITIZEN)) == 2, what="the retried acknowledgement")
        await eventually(outbox_empty(sqlite_store), what="the outbox drained")
        first, second = telegram.calls_to("sendMessage")
        assert first.params == second.params
        assert len(telegram.calls_to("sendMessage")) == 2


async def test_blocked_bot_fails_delivery_and_staff_are_told(store: Store, telegram: TelegramEmulator) -> None:
    """A citizen who blocked the bot makes the reply fail for good, and the thread says so."""
    async with running(store, telegram) as bridge:
        await first_thread(bridge, telegram)
        telegram.fail("sendMessage", BLOCKED)
        await staff_reply(bridge, "We will fix it.")
        await eventually(lambda: len(bridge.slack.threads[0].posts) == 2, what="the note to staff")
        note = bridge.slack.threads[0].posts[1]
        assert note.kind is PostKind.SYSTEM
        assert "blocked the bot" in note.text
        assert len(telegram.calls_to("sendMessage")) == 2


async def test_staff_files_go_as_photo_and_document(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """Files from staff reach the citizen: images with sendPhoto, anything else with sendDocument."""
    files = [FileData("map.png", "image/png", b"PNGDATA"), FileData("form.pdf", "application/pdf", b"PDFDATA")]
    async with running(sqlite_store, telegram) as bridge:
        await first_thread(bridge, telegram)
        await staff_reply(bridge, "Here are the map and the form.", files=files)
        await eventually(lambda: len(telegram.sent_to(CITIZEN)) == 4, what="the reply and its files")
        _ack, text, photo, document = telegram.sent_to(CITIZEN)
        assert text.params["text"].startswith("Here are the map and the form.")
        assert (photo.method, photo.files["photo"]) == ("sendPhoto", ("map.png", b"PNGDATA"))
        assert (document.method, document.files["document"]) == ("sendDocument", ("form.pdf", b"PDFDATA"))


async def test_logs_hold_neither_token_nor_message_text(
    sqlite_store: Store, telegram: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """At the default level nothing logged while relaying shows the bot token or what the citizen wrote."""
    caplog.set_level(logging.INFO)
    async with running(sqlite_store, telegram) as bridge:
        await first_thread(bridge, telegram, text="my secret pothole")
        await staff_reply(bridge, "a confidential answer")
        await eventually(lambda: len(telegram.texts_to(CITIZEN)) == 2, what="the staff reply")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert telegram.token not in logged
    assert "secret pothole" not in logged
    assert "confidential" not in logged


async def test_server_error_is_retried_until_delivered(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A 500 from the Bot API is transient: the outbox tries again and the citizen gets the message once."""
    telegram.fail("sendMessage", SERVER_ERROR)
    async with running(sqlite_store, telegram):
        telegram.push_message(user=CITIZEN, text="pothole on Mill Lane")
        await eventually(lambda: len(telegram.calls_to("sendMessage")) == 2, what="the retry")
        await eventually(outbox_empty(sqlite_store), what="the outbox drained")
        assert len(telegram.calls_to("sendMessage")) == 2
        failed, delivered = telegram.calls_to("sendMessage")
        assert failed.params == delivered.params
