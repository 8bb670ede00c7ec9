"""The pieces of staff translation: the ``!asis`` mark, ``translate_replies``, the rendering, the stored outcome."""

from __future__ import annotations

import pytest

from adapters.slack import render
from adapters.web import pages
from bot.as_typed import is_as_typed, without_as_typed_mark
from bot.events import Sender
from bot.i18n import Catalogs
from bot.model import TELEGRAM, Address, CaseCard, CaseStatus, DepartmentKey, Direction, Translation
from bot.storage.store import Store, Tx
from bot.translating import translated_reply
from config.routing_file import RoutingFileError, load_routing_text
from tests.bridge import DIRECTORY

ROUTING = """\
fallback: general
departments:
  - key: general
    name: Citizen Services
    desk: web
    translate_replies: {value}
"""


@pytest.mark.parametrize("text", ["!asis Gracias", "  !ASIS Gracias", "!asis\nGracias"])
def test_reply_starting_with_asis_is_sent_as_typed_without_the_mark(text: str) -> None:
    """``!asis`` (any case, after leading spaces) marks the reply; the citizen gets what follows it."""
    assert (is_as_typed(text), without_as_typed_mark(text)) == (True, "Gracias")


@pytest.mark.parametrize("text", ["!asisGracias", "Say !asis to send as typed", "asis Gracias"])
def test_asis_elsewhere_is_ordinary_text(text: str) -> None:
    """Only a leading ``!asis`` word counts; anything else goes out (and is translated) whole."""
    assert (is_as_typed(text), without_as_typed_mark(text)) == (False, text)


def test_translate_replies_defaults_to_true_and_can_be_turned_off() -> None:
    """A department translates replies unless its routing entry says ``translate_replies: false``."""
    default = load_routing_text(ROUTING.replace("    translate_replies: {value}\n", ""), "r.yaml")
    off = load_routing_text(ROUTING.format(value="false"), "r.yaml")
    assert (default.departments[0].translate_replies, off.departments[0].translate_replies) == (True, False)


def test_translate_replies_that_is_not_a_boolean_is_reported_at_its_line() -> None:
    """``translate_replies: maybe`` is one problem at FILE:LINE, telling the admin to write true or false."""
    with pytest.raises(RoutingFileError) as caught:
        load_routing_text(ROUTING.format(value="maybe"), "r.yaml")
    assert str(caught.value) == (
        "r.yaml:6: department 'general': translate_replies 'maybe' is not valid: write true or false"
    )


def test_translated_reply_labels_the_original_in_the_citizens_language() -> None:
    """The citizen reads the translation, then a note and the labelled original, in Spanish."""
    text = translated_reply(Catalogs.load(), translated="Hola.", original="Hello.", target="es", office="en")
    assert text == "Hola.\n\nTraducción automática; a continuación, el original.\nOriginal (inglés):\nHello."


def test_translation_line_escapes_what_the_server_returned() -> None:
    """A translation cannot ping the channel or forge a link in Slack."""
    line = render.translation_line(Translation("es", "en", text="see <!channel> & <http://x|y>"))
    assert line == "*Translation (es → en):* see &lt;!channel&gt; &amp; &lt;http://x|y&gt;"


def test_long_translation_keeps_the_root_within_slacks_block_limit() -> None:
    """A very long message and translation still make a root Slack accepts (at most 50 blocks)."""
    card = CaseCard(
        "CB-TEST01", DepartmentKey("general"), "Citizen Services", TELEGRAM, "Ana", "es", CaseStatus.OPEN, None
    )
    long_text = "palabra " * 20000
    blocks = render.card_blocks(card, long_text, DIRECTORY, translation=Translation("es", "en", text="word " * 20000))
    assert (len(blocks) <= render.SLACK_MAX_BLOCKS, blocks[-1]["block_id"]) == (True, render.ACTIONS_BLOCK)


def test_desk_says_when_a_reply_went_out_untranslated() -> None:
    """A staff reply whose translation failed shows why, and that the citizen got it as written."""
    html = pages.translation_note(Direction.STAFF, Translation("en", "es", error="the translation server failed (500)"))
    assert "Translation unavailable: the translation server failed (500). The citizen got the reply as written." in html


async def test_outcome_is_stored_once_and_read_back_with_the_message(store: Store) -> None:
    """The first outcome stored for a message wins; the message reads back with it (every backend)."""

    async def write(tx: Tx) -> tuple[bool, bool]:
        citizen = await tx.citizen(Sender(TELEGRAM, "1", "Ana", "es"))
        case = await tx.create_case(
            citizen=citizen, chat=Address(TELEGRAM, "1"), department=None, status=CaseStatus.PENDING, previous=None
        )
        message = await tx.add_message(case_id=case.id, direction=Direction.CITIZEN, author="Ana", text="Hola")
        first = await tx.record_translation(message.id, Translation("es", "en", text="Hello"))
        second = await tx.record_translation(message.id, Translation("es", "en", error="late"))
        return first, second

    stored = await store.atomic(write)

    async def read(tx: Tx) -> Translation | None:
        case = await tx.case_by_reference((await tx.cases_of_chat(Address(TELEGRAM, "1")))[0].reference)
        assert case is not None
        return (await tx.messages(case.id))[0].translation

    assert (stored, await store.read(read)) == ((True, False), Translation("es", "en", text="Hello"))
