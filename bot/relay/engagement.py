"""The citizen side of consultations: opting in and out, the offer after a closed case, and answering.

Consent first: nothing is sent to a chat that did not ``subscribe``; ``stop`` withdraws it at once.
A typed number answers the latest consultation sent to the chat only when it is exactly an option's
number and the chat has no pending case, nor an open one written in since the consultation came;
otherwise it is a case message like any other. ``answer …`` and the buttons always answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts
from bot.consultations.fanout import bulk_lane
from bot.consultations.live_results import queue_results_refresh
from bot.consultations.model import Consultation, Followable, FollowKey
from bot.consultations.render import (
    SUBSCRIBE_BUTTON,
    answer_words,
    command,
    parse_answer_button,
    subscribe_button,
)
from bot.consultations.sending import followables
from bot.departments import Department
from bot.events import CitizenCommand, CitizenCommandKind, CitizenMessage, Sender
from bot.model import WEB, Address, Case, CaseStatus, CitizenReply, MenuOption, ReplyKind, Side
from bot.relay.casework import Casework, citizen_lane
from bot.speech import Voice


@dataclass(frozen=True, slots=True)
class _Asked:
    """Who is asking, where, and in which voice."""

    sender: Sender
    chat: Address
    case: Case | None
    voice: Voice


async def _asked(work: Casework, sender: Sender, chat: Address, case: Case | None) -> _Asked:
    return _Asked(sender, chat, case, await work.voice_of_sender(sender, chat, case))


async def _say(work: Casework, asked: _Asked, text: str, options: tuple[MenuOption, ...] = ()) -> None:
    """Reply in the chat's case lane (these answer the citizen; they are not broadcasts)."""
    if not options:
        await work.tell(asked.chat, asked.case, ReplyKind.SYSTEM, text)
        return
    case = asked.case
    body = CitizenReply(ReplyKind.SYSTEM, text, case.reference if case else "", options=options)
    await work.tx.enqueue(
        case_id=case.id if case else None,
        side=Side.CITIZEN,
        lane=citizen_lane(asked.chat),
        target=asked.chat,
        body=body,
    )


def _pick(choices: list[Followable], argument: str, language: str) -> Followable | None:
    """The followable a citizen named: by its number in ``choices``, its key, or its name in any language."""
    words = argument.strip().rstrip(".").casefold()
    if words.isdigit():
        number = int(words)
        return choices[number - 1] if 1 <= number <= len(choices) else None
    for choice in choices:
        names = {choice.key.casefold(), choice.name.casefold(), choice.name_in(language).casefold()}
        if words in names or words in {name.casefold() for _, name in choice.names}:
            return choice
    return None


#: The commands this module answers.
COMMANDS = frozenset(
    {CitizenCommandKind.SUBSCRIBE, CitizenCommandKind.TOPICS, CitizenCommandKind.UNSUBSCRIBE, CitizenCommandKind.ANSWER}
)


async def command_given(work: Casework, event: CitizenCommand, case: Case | None) -> bool:
    """``subscribe``, ``topics``, ``unsubscribe``/``stop`` and ``answer``; False when it is not one after all.

    On the web chat, commands are typed as plain words: "answer …" when no consultation was ever sent
    to the chat is a case message, and the caller handles it as one.
    """
    asked = await _asked(work, event.sender, event.chat, case)
    match event.command:
        case CitizenCommandKind.SUBSCRIBE:
            await _subscribe(work, asked, event.argument)
        case CitizenCommandKind.TOPICS:
            await _topics(work, asked)
        case CitizenCommandKind.UNSUBSCRIBE:
            await _unsubscribe(work, asked, event.argument)
        case CitizenCommandKind.ANSWER:
            return await _answer_command(work, asked, event)
    return True


async def button_pressed(work: Casework, sender: Sender, chat: Address, choice: str) -> None:
    """A ``sub:KEY`` or ``poll:ID:N`` button."""
    asked = await _asked(work, sender, chat, await work.tx.active_case(chat))
    if choice.startswith(SUBSCRIBE_BUTTON):
        await _subscribe(work, asked, choice.removeprefix(SUBSCRIBE_BUTTON), by_key=True)
        return
    pressed = parse_answer_button(choice)
    found = await work.tx.consultation(pressed[0]) if pressed else None
    if pressed is None or found is None or not await work.tx.was_sent(found.id, chat):
        await _say(work, asked, asked.voice.say(texts.ANSWER_NOTHING))
        return
    await _answer(work, asked, found, option=pressed[1])


# --- consent ----------------------------------------------------------------------------------


async def _subscribe(work: Casework, asked: _Asked, argument: str, *, by_key: bool = False) -> None:
    voice, platform = asked.voice, asked.chat.platform
    choices = list(followables(work.directory))
    if not argument.strip():
        await _list_followable(work, asked, choices)
        return
    chosen = next((c for c in choices if c.key == argument), None) if by_key else None
    chosen = chosen or _pick(choices, argument, voice.language)
    if chosen is None:
        example = command(platform, "subscribe")
        await _say(work, asked, voice.say(texts.SUBSCRIBE_UNKNOWN, example=example))
        return
    name, stop = chosen.name_in(voice.language), command(platform, "stop")
    consent = voice.say(texts.CONSENT, name=name, stop=stop)
    citizen = await work.tx.citizen(asked.sender)
    added = await work.tx.subscribe(
        asked.chat, citizen_id=citizen.id, key=chosen.key, language=voice.language, consent_text=consent
    )
    if added:
        await _say(work, asked, voice.say(texts.SUBSCRIBED, name=name, consent=consent))
    else:
        await _say(work, asked, voice.say(texts.ALREADY_SUBSCRIBED, name=name, stop=stop))


async def _list_followable(work: Casework, asked: _Asked, choices: list[Followable]) -> None:
    voice = asked.voice
    if not choices:
        await _say(work, asked, voice.say(texts.SUBSCRIBE_NOTHING))
        return
    following = {s.key for s in await work.tx.subscriptions_of(asked.chat)}
    mark = voice.say(texts.FOLLOWING)
    lines = [voice.say(texts.SUBSCRIBE_LIST, example=command(asked.chat.platform, "subscribe 1"))]
    for number, choice in enumerate(choices, start=1):
        followed = f" ({mark})" if choice.key in following else ""
        lines.append(f"{number}. {choice.name_in(voice.language)}{followed}")
    buttons = tuple(subscribe_button(c.key, c.name_in(voice.language)) for c in choices if c.key not in following)
    await _say(work, asked, "\n".join(lines), buttons)


async def _topics(work: Casework, asked: _Asked) -> None:
    voice, platform = asked.voice, asked.chat.platform
    mine = await work.tx.subscriptions_of(asked.chat)
    if not mine:
        await _say(work, asked, voice.say(texts.TOPICS_NONE, example=command(platform, "subscribe")))
        return
    names = {c.key: c.name_in(voice.language) for c in followables(work.directory)}
    header = voice.say(texts.TOPICS_HEADER, example=command(platform, "stop 1"), stop=command(platform, "stop"))
    lines = [f"{number}. {names.get(s.key, s.key)}" for number, s in enumerate(mine, start=1)]
    await _say(work, asked, "\n".join([header, *lines]))


async def _unsubscribe(work: Casework, asked: _Asked, argument: str) -> None:
    """Withdraw consent at once: to everything, or to the one named (by its number in ``topics``, key or name)."""
    voice = asked.voice
    if not argument.strip():
        gone = await work.tx.unsubscribe(asked.chat)
        await work.tx.drop_pending(bulk_lane(asked.chat))  # "at once": nothing already queued goes out either
        await _say(work, asked, voice.say(texts.UNSUBSCRIBED_ALL if gone else texts.UNSUBSCRIBE_NOTHING))
        return
    known = {c.key: c for c in followables(work.directory)}
    mine = [
        known.get(s.key) or Followable(s.key, s.key, work.directory.fallback)
        for s in await work.tx.subscriptions_of(asked.chat)
    ]
    chosen = _pick(mine, argument, voice.language) or _pick(list(known.values()), argument, voice.language)
    if chosen is None:
        await _say(work, asked, voice.say(texts.SUBSCRIBE_UNKNOWN, example=command(asked.chat.platform, "topics")))
        return
    await work.tx.unsubscribe(asked.chat, chosen.key)
    await _say(work, asked, voice.say(texts.UNSUBSCRIBED_ONE, name=chosen.name_in(voice.language)))


async def tell_closed(work: Casework, case: Case, department: Department, notice: str) -> None:
    """Tell the citizen their case closed; once per citizen, ever, the same message offers to follow the department.

    No offer to a chat that already follows it. The offer has a follow button and says how to type it.
    """
    citizen = await work.citizen_of(case)
    following = {s.key for s in await work.tx.subscriptions_of(case.chat)}
    if await work.tx.was_offered(citizen.id) or FollowKey(department.key) in following:
        await work.tell(case.chat, case, ReplyKind.SYSTEM, notice)
        return
    await work.tx.mark_offered(citizen.id, department.key)
    voice = await work.voice_of(case)
    name = voice.department(department)
    offer = voice.say(texts.OFFER, department=name, example=command(case.chat.platform, f"subscribe {department.key}"))
    body = CitizenReply(
        ReplyKind.SYSTEM,
        f"{notice}\n\n{offer}",
        case.reference,
        options=(subscribe_button(FollowKey(department.key), name),),
    )
    await work.tx.enqueue(case_id=case.id, side=Side.CITIZEN, lane=citizen_lane(case.chat), target=case.chat, body=body)


# --- answers ----------------------------------------------------------------------------------


async def typed_answer(work: Casework, event: CitizenMessage, case: Case | None, text: str) -> bool:
    """A bare option number answers the latest consultation when it cannot be meant for a case; True if it did.

    True too when the citizen was told the consultation closed. See the module docstring for the rule.
    """
    words = text.strip().rstrip(".")
    if event.edited or not words.isdigit() or (case is not None and case.status is CaseStatus.PENDING):
        return False
    latest = await work.tx.latest_consultation_of(event.chat)
    if latest is None or not latest.options or not 1 <= int(words) <= len(latest.options):
        return False
    if case is not None:
        if not latest.is_open(work.tx.now):
            return False
        last = await work.tx.last_message_at(case.id)
        if last is not None and last >= latest.created_at:
            return False  # the citizen wrote in their case after the consultation came: it is case talk
    await _answer(work, await _asked(work, event.sender, event.chat, case), latest, option=int(words))
    return True


async def _answer_command(work: Casework, asked: _Asked, event: CitizenCommand) -> bool:
    latest = await work.tx.latest_consultation_of(asked.chat)
    if latest is None:
        if asked.chat.platform == WEB:  # typed as a plain word on the web chat: a message like any other
            return False
        await _say(work, asked, asked.voice.say(texts.ANSWER_NOTHING))
        return True
    argument = event.argument.strip()
    if latest.free_text:
        if not argument:
            await _say(work, asked, asked.voice.say(texts.ANSWER_EMPTY, example=command(asked.chat.platform, "answer")))
            return True
        await _answer(work, asked, latest, text=argument)
        return True
    words = argument.rstrip(".").casefold()
    labels = [label.casefold() for label in latest.options]
    option = int(words) if words.isdigit() else (labels.index(words) + 1 if words in labels else 0)
    await _answer(work, asked, latest, option=option)
    return True


async def _answer(
    work: Casework, asked: _Asked, consultation: Consultation, *, option: int | None = None, text: str | None = None
) -> None:
    """Record (or replace) the chat's answer while the consultation is open; say so politely once it closed."""
    voice = asked.voice
    if not consultation.is_open(work.tx.now):
        await _say(work, asked, voice.say(texts.CONSULTATION_CLOSED))
        return
    if option is not None and not 1 <= option <= len(consultation.options):
        await _say(work, asked, voice.say(texts.ANSWER_INVALID, count=len(consultation.options)))
        return
    citizen = await work.tx.citizen(asked.sender)
    await work.tx.save_answer(consultation.id, asked.chat, citizen_id=citizen.id, option=option, text=text)
    work.effects.answered.append(int(consultation.id))
    await _say(work, asked, voice.say(texts.ANSWER_SAVED, answer=answer_words(consultation, option, text)))
    # In the answer's transaction: the results message's update is in the outbox once the answer is.
    department = work.directory.get(consultation.department)
    if department is not None:
        who = citizen.display_name
        await queue_results_refresh(work.tx, consultation, department, text=text, who=who, chat=asked.chat)
