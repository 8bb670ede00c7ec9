"""The citizen side of consultations through the real relay and a fake Telegram: consent, stop, answers."""

from __future__ import annotations

from datetime import timedelta

from bot.consultations.service import ConsultationService
from bot.events import CitizenCommand, CitizenCommandKind, MenuChoice, Sender, StaffActionKind
from bot.model import TELEGRAM, Address
from bot.ports import DeliveryError
from bot.relay import Relay
from bot.storage.store import Store, Tx
from tests.bridge import DIRECTORY, KEYWORDS, Bridge
from tests.consultations.helpers import service
from tests.fakes import FakeClock, KeywordRouter

CITIZEN = 111


async def _subscribed(bridge: Bridge, argument: str = "roads", user: int = CITIZEN) -> None:
    await bridge.telegram.command(user=user, command=CitizenCommandKind.SUBSCRIBE, argument=argument)
    await bridge.settle()


async def _consultation(bridge: Bridge, *, free_text: bool = False) -> int:
    options = () if free_text else ("Mill Lane", "High Street")
    created = await service(bridge).create_consultation(
        department="roads", question="Which street first?", options=options, free_text=free_text, actor="cli"
    )
    await bridge.settle()
    return int(created.id)


async def _answers(bridge: Bridge, consultation: int) -> list[tuple[int | None, str | None]]:
    results = await service(bridge).results(consultation)
    return [(c.number, None) for c in results.counts for _ in range(c.count)] + [(None, t.text) for t in results.texts]


async def test_subscribe_alone_lists_what_can_be_followed_with_buttons(bridge: Bridge) -> None:
    """``subscribe`` with no argument lists every department numbered, each with a follow button."""
    await _subscribed(bridge, "")
    reply = bridge.telegram.replies(CITIZEN)[-1]
    assert "1. Roads & Transport" in reply.text
    assert "4. Citizen Services" in reply.text
    assert [o.key for o in reply.options] == ["sub:roads", "sub:waste", "sub:housing", "sub:general"]


async def test_subscribe_by_number_records_consent_with_its_wording(bridge: Bridge, clock: FakeClock) -> None:
    """``subscribe 2`` follows the second entry and records when, and the exact consent shown in their language."""
    await _subscribed(bridge, "2")

    async def consents(tx: Tx) -> list[tuple[str, str, str, object]]:
        mine = await tx.subscriptions_of(Address(TELEGRAM, str(CITIZEN)))
        return [(s.key, s.language, s.consent_text, s.subscribed_at) for s in mine]

    [(key, language, consent, at)] = await bridge.store.read(consents)
    assert (key, language, at) == ("waste", "en", clock.now)
    assert consent in bridge.telegram.texts(CITIZEN)[-1]
    assert consent.startswith("Yes, send me announcements and consultations from Waste & Recycling")


async def test_subscribe_button_follows_the_department(bridge: Bridge) -> None:
    """Pressing a follow button is consent like typing ``subscribe``."""
    await bridge.telegram.choose(user=CITIZEN, choice="sub:housing")
    await bridge.settle()
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.TOPICS)
    await bridge.settle()
    assert bridge.telegram.texts(CITIZEN)[-1].endswith("1. Housing")


async def test_stop_is_honoured_at_once(bridge: Bridge) -> None:
    """After ``stop`` the chat receives no broadcast, even one created right after."""
    await _subscribed(bridge)
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.UNSUBSCRIBE)
    await service(bridge).create_announcement(department="roads", text="Road works.", actor="cli")
    await bridge.settle()
    assert bridge.telegram.texts(CITIZEN)[-1] == (
        "Done. You will no longer receive announcements or consultations from us."
    )


async def test_stop_one_keeps_the_others(bridge: Bridge) -> None:
    """``stop roads`` withdraws consent to roads only."""
    await _subscribed(bridge, "roads")
    await _subscribed(bridge, "waste")
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.UNSUBSCRIBE, argument="roads")
    await service(bridge).create_announcement(department="roads", text="Road works.", actor="cli")
    await service(bridge).create_announcement(department="waste", text="Bins on Tuesday.", actor="cli")
    await bridge.settle()
    assert "Bins on Tuesday." in bridge.telegram.texts(CITIZEN)[-1]
    assert not any("Road works." in text for text in bridge.telegram.texts(CITIZEN))


async def test_citizen_with_a_case_but_no_consent_receives_no_broadcast(bridge: Bridge) -> None:
    """Writing to the office is not consent: a citizen with a case who never subscribed gets no broadcast."""
    await bridge.telegram.receive(user=CITIZEN, text="There is a pothole")
    await bridge.settle()
    before = len(bridge.telegram.sent)
    await service(bridge).create_announcement(department="roads", text="Road works.", actor="cli")
    await _consultation(bridge)
    assert len(bridge.telegram.sent) == before


async def test_button_answer_is_recorded_and_changeable(bridge: Bridge) -> None:
    """A button press answers; a second press replaces the first answer."""
    await _subscribed(bridge)
    consultation = await _consultation(bridge)
    await bridge.telegram.choose(user=CITIZEN, choice=f"poll:{consultation}:1")
    await bridge.telegram.choose(user=CITIZEN, choice=f"poll:{consultation}:2")
    await bridge.settle()
    assert await _answers(bridge, consultation) == [(2, None)]
    assert "2. High Street" in bridge.telegram.texts(CITIZEN)[-1]


async def test_typed_number_answers_when_no_case_is_open(bridge: Bridge) -> None:
    """Exactly an option's number, with no case open, answers the latest consultation (and opens no case)."""
    await _subscribed(bridge)
    consultation = await _consultation(bridge)
    await bridge.telegram.receive(user=CITIZEN, text="1")
    await bridge.settle()
    assert await _answers(bridge, consultation) == [(1, None)]
    assert bridge.slack.threads == []


async def test_typed_number_after_case_talk_stays_in_the_case(bridge: Bridge, clock: FakeClock) -> None:
    """A number typed in an open case the citizen wrote in since the consultation came is a case message."""
    await _subscribed(bridge)
    consultation = await _consultation(bridge)
    clock.advance(60)
    await bridge.telegram.receive(user=CITIZEN, text="How many potholes on Mill Lane were fixed?")
    await bridge.settle()
    await bridge.telegram.receive(user=CITIZEN, text="2")
    await bridge.settle()
    assert await _answers(bridge, consultation) == []
    assert [post.text for post in bridge.slack.threads[0].posts][-1] == "2"


async def test_sentence_is_never_taken_as_an_answer(bridge: Bridge) -> None:
    """A message that is not exactly an option's number opens a case as always."""
    await _subscribed(bridge)
    consultation = await _consultation(bridge)
    await bridge.telegram.receive(user=CITIZEN, text="1 pothole on Mill Lane")
    await bridge.settle()
    assert await _answers(bridge, consultation) == []
    assert len(bridge.slack.threads) == 1


async def test_free_text_answer_with_the_answer_command(bridge: Bridge) -> None:
    """``answer TEXT`` records a free-text answer."""
    await _subscribed(bridge)
    consultation = await _consultation(bridge, free_text=True)
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.ANSWER, argument="More cycle lanes")
    await bridge.settle()
    assert await _answers(bridge, consultation) == [(None, "More cycle lanes")]


async def test_answer_after_close_is_refused_politely(bridge: Bridge) -> None:
    """A button pressed after the consultation closed records nothing and says it has closed."""
    await _subscribed(bridge)
    consultation = await _consultation(bridge)
    await service(bridge).close(consultation, actor="cli")
    await bridge.telegram.choose(user=CITIZEN, choice=f"poll:{consultation}:1")
    await bridge.settle()
    assert await _answers(bridge, consultation) == []
    assert bridge.telegram.texts(CITIZEN)[-1].startswith("Sorry, this consultation has closed")


async def test_answer_after_closing_time_is_refused(bridge: Bridge, clock: FakeClock) -> None:
    """Once the closing time passed, answers are refused as after a close."""
    await _subscribed(bridge)
    created = await service(bridge).create_consultation(
        department="roads", question="Q?", options=["A", "B"], closes_at=clock.now + timedelta(hours=1), actor="cli"
    )
    clock.advance(3600)
    await bridge.telegram.choose(user=CITIZEN, choice=f"poll:{created.id}:1")
    await bridge.settle()
    assert await _answers(bridge, int(created.id)) == []


async def test_button_of_a_consultation_not_sent_to_the_chat_is_refused(bridge: Bridge) -> None:
    """A chat cannot answer a consultation it never received (a forged button)."""
    consultation = await _consultation(bridge)
    await bridge.telegram.choose(user=CITIZEN, choice=f"poll:{consultation}:1")
    await bridge.settle()
    assert await _answers(bridge, consultation) == []


async def test_offer_after_close_is_made_once(bridge: Bridge) -> None:
    """After a case closes the citizen is offered its department once; after a second closed case, not again."""
    for _ in range(2):
        await bridge.telegram.receive(user=CITIZEN, text="There is a pothole")
        await bridge.settle()
        await bridge.slack.act(bridge.slack.threads[-1], StaffActionKind.CLOSE)
        await bridge.settle()
    offers = [r for r in bridge.telegram.replies(CITIZEN) if r.options]
    assert [o.key for offer in offers for o in offer.options] == ["sub:roads"]


async def test_blocked_bot_unsubscribes_the_chat(bridge: Bridge) -> None:
    """A broadcast that finds the bot blocked unsubscribes the chat, so the next broadcast is not tried."""
    await _subscribed(bridge)
    bridge.telegram.fail_next(DeliveryError("blocked", permanent=True, gone=True))
    await service(bridge).create_announcement(department="roads", text="One.", actor="cli")
    await bridge.settle()
    attempts = bridge.telegram.attempts
    await service(bridge).create_announcement(department="roads", text="Two.", actor="cli")
    await bridge.settle()
    assert bridge.telegram.attempts == attempts


async def test_broadcast_does_not_wait_behind_the_case_lane(bridge: Bridge) -> None:
    """A case reply that keeps failing does not hold up a broadcast to the same chat."""
    await _subscribed(bridge)
    bridge.telegram.fail_next(DeliveryError("later"))
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.STATUS)  # its reply fails first
    await service(bridge).create_announcement(department="roads", text="Road works.", actor="cli")
    await bridge.worker.drain_once()
    assert any("Road works." in text for text in bridge.telegram.texts(CITIZEN))


async def test_typed_number_answers_when_the_consultation_came_after_the_case_talk(
    bridge: Bridge, clock: FakeClock
) -> None:
    """With an open case quiet since before the consultation came, a bare option number answers it."""
    await _subscribed(bridge)
    await bridge.telegram.receive(user=CITIZEN, text="There is a pothole")
    await bridge.settle()
    clock.advance(60)
    consultation = await _consultation(bridge)
    await bridge.telegram.receive(user=CITIZEN, text="2")
    await bridge.settle()
    assert await _answers(bridge, consultation) == [(2, None)]
    assert all(post.text != "2" for post in bridge.slack.threads[0].posts)


async def test_stop_drops_broadcasts_already_queued(bridge: Bridge) -> None:
    """``stop`` also cancels a broadcast queued for the chat but not sent yet."""
    await _subscribed(bridge)
    await service(bridge).create_announcement(department="roads", text="Road works.", actor="cli")
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.UNSUBSCRIBE)
    await bridge.settle()
    assert not any("Road works." in text for text in bridge.telegram.texts(CITIZEN))


async def test_relay_tells_after_commit_that_a_consultation_was_answered(store: Store) -> None:
    """``on_answered`` hears the consultation's id once per answer (the hook for live results)."""
    heard: list[int] = []
    relay = Relay(store=store, directory=DIRECTORY, router=KeywordRouter(KEYWORDS, "general"), on_answered=heard.append)
    sender = Sender(TELEGRAM, str(CITIZEN), "Ada", "en")
    chat = Address(TELEGRAM, str(CITIZEN))
    await relay.accept(CitizenCommand("e1", sender, chat, CitizenCommandKind.SUBSCRIBE, "roads"))
    created = await ConsultationService(store=store, directory=DIRECTORY).create_consultation(
        department="roads", question="Q?", options=["A", "B"], actor="cli"
    )
    await relay.accept(MenuChoice("e2", sender, chat, f"poll:{created.id}:1"))
    await relay.accept(MenuChoice("e3", sender, chat, f"poll:{created.id}:2"))
    assert heard == [created.id, created.id]


async def test_answer_by_the_options_text(bridge: Bridge) -> None:
    """``answer High Street`` chooses the option with that text."""
    await _subscribed(bridge)
    consultation = await _consultation(bridge)
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.ANSWER, argument="high street")
    await bridge.settle()
    assert await _answers(bridge, consultation) == [(2, None)]


async def test_typed_number_after_close_is_told_it_closed(bridge: Bridge) -> None:
    """With no case open, an option's number typed after the close is told politely that it closed."""
    await _subscribed(bridge)
    consultation = await _consultation(bridge)
    await service(bridge).close(consultation, actor="cli")
    await bridge.telegram.receive(user=CITIZEN, text="1")
    await bridge.settle()
    assert bridge.telegram.texts(CITIZEN)[-1].startswith("Sorry, this consultation has closed")
    assert bridge.slack.threads == []
