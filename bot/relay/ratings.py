"""Satisfaction after close, in the relay: ask once when staff close, take the score (button or typed), the comment.

A typed ``1``-``5`` counts as a rating only while the question is open for that chat (its last case is closed
and unrated, asked within ``RATING_OPEN``); the next message within ``COMMENT_OPEN`` after rating is the comment.
Anything else goes on as usual (a new case opens), so no new case's first message is swallowed.
"""

from __future__ import annotations

from bot import texts
from bot.departments import Department
from bot.events import MenuChoice, Sender
from bot.model import Address, Case, CaseStatus, CitizenReply, MenuOption, ReplyKind, Side
from bot.ratings import SCORES, parse_rating_choice, rating_choice, typed_score
from bot.relay.casework import Casework, citizen_lane


async def ask(work: Casework, case: Case, department: Department) -> None:
    """Ask the citizen of a case staff just closed to rate the answer, once per case (buttons and a number)."""
    if not department.ask_rating or not await work.tx.ask_rating(case.id, department.key):
        return
    voice = await work.voice_of(case)
    options = tuple(MenuOption(rating_choice(case.reference, score), str(score)) for score in SCORES)
    body = CitizenReply(
        ReplyKind.MENU, voice.say(texts.RATING_QUESTION, reference=case.reference), case.reference, options=options
    )
    await work.tx.enqueue(case_id=case.id, side=Side.CITIZEN, lane=citizen_lane(case.chat), target=case.chat, body=body)


def is_rating_choice(event: MenuChoice) -> bool:
    """Whether a menu choice is a press of a rating button."""
    return parse_rating_choice(event.choice) is not None


async def choose(work: Casework, event: MenuChoice) -> None:
    """A rating button was pressed: rate the case it names (only the chat's own case, only once)."""
    parsed = parse_rating_choice(event.choice)
    case = await work.tx.case_by_reference(parsed[0]) if parsed is not None else None
    if parsed is None or case is None or case.chat != event.chat:
        voice = await work.voice_of_sender(event.sender, event.chat, None)
        await work.tell(event.chat, None, ReplyKind.SYSTEM, voice.say(texts.MENU_STALE))
        return
    await _rate(work, case, parsed[1], event.sender, event.chat)


async def typed(work: Casework, sender: Sender, chat: Address, text: str, last: Case | None) -> bool:
    """A message from a chat with no open case: True if it was a rating or its comment (and is handled).

    ``last`` is the chat's last case (a rating is asked on a closed one).
    """
    if last is None or last.status is not CaseStatus.CLOSED:
        return False
    rating = await work.tx.rating_of(last.id)
    if rating is None:
        return False
    now = work.tx.now
    score = typed_score(text)
    if score is not None and (rating.awaits_score(now) or rating.awaits_comment(now)):
        await _rate(work, last, score, sender, chat)
        return True
    if not rating.awaits_comment(now) or not text.strip():
        return False
    await work.tx.save_rating_comment(last.id, text.strip())
    await work.system(last, texts.RATING_COMMENT_STAFF.format(comment=text.strip()))
    voice = await work.voice_of_sender(sender, chat, None)
    await work.tell(chat, last, ReplyKind.SYSTEM, voice.say(texts.RATING_COMMENT_THANKS))
    return True


async def _rate(work: Casework, case: Case, score: int, sender: Sender, chat: Address) -> None:
    """Record the first score; a second one (or one for a case never asked) is answered politely and ignored."""
    rating = await work.tx.rating_of(case.id)
    voice = await work.voice_of_sender(sender, chat, None)
    if rating is None or (rating.score is None and not rating.awaits_score(work.tx.now)):
        await work.tell(chat, None, ReplyKind.SYSTEM, voice.say(texts.MENU_STALE))
        return
    if not await work.tx.save_score(case.id, score):
        await work.tell(chat, case, ReplyKind.SYSTEM, voice.say(texts.RATING_ALREADY, reference=case.reference))
        return
    await work.system(case, texts.RATED_STAFF.format(score=score))
    await work.tell(chat, case, ReplyKind.SYSTEM, voice.say(texts.RATING_THANKS, score=score))
