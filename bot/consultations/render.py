"""What citizens read of consultations: the broadcast bodies, the button keys, commands as each platform spells them."""

from __future__ import annotations

from bot import texts
from bot.consultations.model import BroadcastKind, Consultation, ConsultationId, Followable, FollowKey
from bot.model import DISCORD, TELEGRAM, CitizenReply, MenuOption, Platform, ReplyKind
from bot.speech import Voice

#: How each platform spells a command (the web chat takes the bare word).
COMMAND_PREFIX = {TELEGRAM: "/", DISCORD: "!"}
#: Button keys: ``sub:KEY`` follows KEY; ``poll:ID:N`` answers option N of consultation ID.
SUBSCRIBE_BUTTON = "sub:"
ANSWER_BUTTON = "poll:"


def command(platform: Platform, words: str) -> str:
    """A command as the citizen types it on ``platform`` (``/stop``, ``!stop``, ``stop``)."""
    return f"{COMMAND_PREFIX.get(platform, '')}{words}"


def subscribe_button(key: FollowKey, label: str) -> MenuOption:
    """The button that follows ``key``."""
    return MenuOption(f"{SUBSCRIBE_BUTTON}{key}", label)


def answer_button(consultation_id: ConsultationId, number: int, label: str) -> MenuOption:
    """The button that answers option ``number`` (1-based) of a consultation."""
    return MenuOption(f"{ANSWER_BUTTON}{consultation_id}:{number}", label)


def parse_answer_button(choice: str) -> tuple[ConsultationId, int] | None:
    """The consultation and option number a button press names, or None."""
    if not choice.startswith(ANSWER_BUTTON):
        return None
    consultation, _, number = choice.removeprefix(ANSWER_BUTTON).partition(":")
    if not (consultation.isdigit() and number.isdigit()):
        return None
    return ConsultationId(int(consultation)), int(number)


def is_engagement_button(choice: str) -> bool:
    """Whether a button press is about subscriptions or consultations (not the department menu)."""
    return choice.startswith((SUBSCRIBE_BUTTON, ANSWER_BUTTON))


def broadcast_body(
    consultation: Consultation, *, voice: Voice, platform: Platform, sender_name: str, followed: Followable
) -> CitizenReply:
    """The message a subscriber reads: the notice or question, how to answer, and always how to stop.

    ``sender_name`` is the department's name in the citizen's language; ``followed`` what they follow that brought it.
    """
    lines: list[str] = []
    if consultation.kind is BroadcastKind.ANNOUNCEMENT:
        lines += [voice.say(texts.ANNOUNCEMENT, department=sender_name), consultation.text]
        options: tuple[MenuOption, ...] = ()
    else:
        lines += [voice.say(texts.CONSULTATION_ASKS, department=sender_name), consultation.text]
        options = tuple(
            answer_button(consultation.id, number, label) for number, label in enumerate(consultation.options, start=1)
        )
        lines += [f"{number}. {label}" for number, label in enumerate(consultation.options, start=1)]
        if consultation.free_text:
            lines.append(voice.say(texts.CONSULTATION_FREE_TEXT, example=command(platform, "answer")))
        else:
            lines.append(voice.say(texts.CONSULTATION_CHOOSE))
        if consultation.closes_at is not None:
            lines.append(voice.say(texts.CONSULTATION_CLOSES, closes=voice.when(consultation.closes_at)))
    stop = voice.say(texts.HOW_TO_STOP, name=followed.name_in(voice.language), stop=command(platform, "stop"))
    return CitizenReply(ReplyKind.BROADCAST, "\n".join([*lines, "", stop]), "", options=options)


def answer_words(consultation: Consultation, option: int | None, text: str | None) -> str:
    """An answer as the citizen is told it was recorded: ``2. Option B`` or their text."""
    if option is not None and 1 <= option <= len(consultation.options):
        return f"{option}. {consultation.options[option - 1]}"
    return text or ""
