"""Slack text both ways: mrkdwn escaping and Block Kit for what the bridge posts, decoding for what staff write.

Pure functions, no I/O: the adapter calls them; tests can too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from bot.departments import Directory
from bot.events import StaffActionKind
from bot.model import CaseCard, CaseStatus, Translation
from bot.speech import language_label

#: Action ids of the root card's controls; the adapter's interactivity listener matches the prefix.
ACTION_PREFIX = "case_"
CLOSE_ACTION = "case_close"
REOPEN_ACTION = "case_reopen"
CLAIM_ACTION = "case_claim"
TRANSFER_ACTION = "case_transfer"
ACTION_KINDS = {
    CLOSE_ACTION: StaffActionKind.CLOSE,
    REOPEN_ACTION: StaffActionKind.REOPEN,
    CLAIM_ACTION: StaffActionKind.CLAIM,
    TRANSFER_ACTION: StaffActionKind.TRANSFER,
}
STATUS_BLOCK = "case_status"
ACTIONS_BLOCK = "case_actions"

#: Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
SECTION_CHARS = 3000
HEADER_CHARS = 150
OPTION_CHARS = 75
MAX_OPTIONS = 100
MAX_MESSAGE_BLOCKS = 40  # of Slack's 50 per message; the card needs the rest
SLACK_MAX_BLOCKS = 50
FALLBACK_PREVIEW = 300

_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_SPECIAL = re.compile(r"<([^<>\n]*)>")
_COMMAND = re.compile(r"!(close|reopen|claim|transfer|erase|keep|answer)\b(.*)", re.IGNORECASE | re.DOTALL)
#: Commands that take words after them: a department, or the reason a case is kept.
_WITH_ARGUMENT = frozenset({StaffActionKind.TRANSFER, StaffActionKind.KEEP, StaffActionKind.ANSWER})


def escape(text: str) -> str:
    """Text safe to put into Slack mrkdwn: no pings, no forged links (``&``, ``<``, ``>`` escaped)."""
    for raw, entity in _ENTITIES:
        text = text.replace(raw, entity)
    return text


def unescape(text: str) -> str:
    """The reverse of ``escape``: what a person typed, from Slack's message text."""
    for raw, entity in reversed(_ENTITIES):
        text = text.replace(entity, raw)
    return text


def mentioned_users(text: str) -> set[str]:
    """User ids mentioned as ``<@U123>`` without a label, to be resolved to names."""
    return {inner[1:] for inner in _SPECIAL.findall(text) if inner.startswith("@") and "|" not in inner}


def decode(text: str, names: Mapping[str, str]) -> str:
    """Slack message text as the person typed it: mentions and links made readable, entities decoded.

    ``names`` maps user ids to display names for ``<@U123>`` mentions.
    """

    def readable(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (label or names.get(target[1:], target[1:]))
        if target.startswith("#"):
            return "#" + (label or "channel")
        if target.startswith("!"):
            return _special_mention(target, label)
        return _link(target, label)

    return unescape(_SPECIAL.sub(readable, text))


def _special_mention(target: str, label: str) -> str:
    """``<!here>``, ``<!subteam^S1|@team>``, ``<!date^…|fallback>`` as a person reads them."""
    if not label:
        return "@" + target[1:].split("^", 1)[0]
    if label.startswith("@") or target.startswith("!date"):
        return label
    return "@" + label


def _link(target: str, label: str) -> str:
    """A link as typed: its label when that is the address itself, else ``label (address)``."""
    if not label:
        return target.removeprefix("mailto:")
    bare = target.removeprefix("mailto:").split("://", 1)[-1].rstrip("/")
    if label.rstrip("/") in {target, bare}:
        return label
    return f"{label} ({target})"


@dataclass(frozen=True, slots=True)
class Command:
    """A ``!command`` typed in a case thread."""

    action: StaffActionKind
    argument: str | None = None


def parse_command(text: str) -> Command | None:
    """``!close``, ``!reopen``, ``!claim``, ``!transfer <department>`` or ``!answer <key>``, any case; else None."""
    match = _COMMAND.fullmatch(text.strip())
    if match is None:
        return None
    action = StaffActionKind(match.group(1).lower())
    argument = match.group(2).strip() or None
    if action not in _WITH_ARGUMENT and argument is not None:
        return None  # "!close the window" is a sentence, not a command
    return Command(action, argument)


def chunks(text: str, size: int) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters, preferring line breaks, never splitting an entity."""
    pieces: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        if cut <= 0:
            cut = size
            amp = text.rfind("&", max(0, cut - 5), cut)
            if amp != -1 and ";" not in text[amp:cut]:
                cut = amp
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text or not pieces:
        pieces.append(text)
    return pieces


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def status_line(card: CaseCard) -> str:
    """The root's status line (mrkdwn): status and who handles the case."""
    handler = f"*Handled by:* {escape(card.claimed_by)}" if card.claimed_by else "Not claimed yet"
    return f"*Status:* {card.status.value} · {handler}{due_part(card)}"


def due_part(card: CaseCard) -> str:
    """`` · *Answer due by:* …`` while an answer is due (`` · :warning: *Overdue* since …`` once late).

    Slack shows the moment in each reader's zone.
    """
    if card.answer_due_at is None or card.status is CaseStatus.CLOSED:
        return ""
    stamp = int(card.answer_due_at.timestamp())
    fallback = card.answer_due_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    label = ":warning: *Overdue:* was due by" if card.overdue else "*Answer due by:*"
    return f" · {label} <!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"


def status_block(card: CaseCard) -> dict[str, Any]:
    """The context block that carries the status line."""
    return {"type": "context", "block_id": STATUS_BLOCK, "elements": [{"type": "mrkdwn", "text": status_line(card)}]}


def actions_block(card: CaseCard, directory: Directory) -> dict[str, Any]:
    """The buttons: Close (or Reopen once closed), Claim, and a Transfer… menu of the other departments."""
    primary = (
        _button("Reopen", REOPEN_ACTION, card.reference)
        if card.status is CaseStatus.CLOSED
        else _button("Close", CLOSE_ACTION, card.reference, style="danger")
    )
    elements: list[dict[str, Any]] = [primary]
    if card.status is not CaseStatus.CLOSED:
        elements.append(_button("Claim", CLAIM_ACTION, card.reference, style="primary"))
    options = [
        {"text": {"type": "plain_text", "text": _clip(d.name, OPTION_CHARS)}, "value": d.key}
        for d in directory.departments
        if d.key != card.department_key
    ][:MAX_OPTIONS]
    if options and card.status is not CaseStatus.CLOSED:
        elements.append(
            {
                "type": "static_select",
                "action_id": TRANSFER_ACTION,
                "placeholder": {"type": "plain_text", "text": "Transfer…"},
                "options": options,
            }
        )
    return {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": elements}


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def card_blocks(
    card: CaseCard, text: str, directory: Directory, *, translation: Translation | None = None
) -> list[dict[str, Any]]:
    """The thread root: the case card, the first message (escaped) with its translation, and the controls."""
    language = language_label(card.language)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(f"{card.reference} · {card.department_name}", HEADER_CHARS)},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Reference*\n{escape(card.reference)}"},
                {"type": "mrkdwn", "text": f"*Department*\n{escape(card.department_name)}"},
                {"type": "mrkdwn", "text": f"*Citizen*\n{escape(card.citizen_name)}"},
                {"type": "mrkdwn", "text": f"*Platform · language*\n{escape(card.platform)} · {escape(language)}"},
            ],
        },
    ]
    blocks.extend(message_blocks(text))
    blocks.extend(translation_blocks(translation, room=SLACK_MAX_BLOCKS - len(blocks) - 2))  # 2: status, actions
    blocks.extend([status_block(card), actions_block(card, directory)])
    return blocks


def message_blocks(text: str) -> list[dict[str, Any]]:
    """The citizen's words as mrkdwn sections, escaped and cut to Slack's section size."""
    if not text.strip():
        return []
    pieces = chunks(escape(text), SECTION_CHARS)
    if len(pieces) > MAX_MESSAGE_BLOCKS:
        pieces = [*pieces[: MAX_MESSAGE_BLOCKS - 1], "_(message shortened: the rest is in the bridge's records)_"]
    return [
        {"type": "section", "block_id": f"case_message_{number}", "text": {"type": "mrkdwn", "text": piece}}
        for number, piece in enumerate(pieces, start=1)
    ]


def refresh_blocks(
    blocks: Iterable[Mapping[str, Any]], card: CaseCard, directory: Directory, *, moved: str = ""
) -> list[dict[str, Any]]:
    """The root's existing blocks with a fresh status line and controls (the rest kept as posted).

    ``moved`` (the case was transferred away) replaces the status line and removes the controls.
    """
    if moved:
        line = {"type": "context", "block_id": STATUS_BLOCK, "elements": [{"type": "mrkdwn", "text": escape(moved)}]}
        kept = [line if block.get("block_id") == STATUS_BLOCK else dict(block) for block in blocks]
        return [block for block in kept if block.get("block_id") != ACTIONS_BLOCK]
    fresh = {STATUS_BLOCK: status_block(card), ACTIONS_BLOCK: actions_block(card, directory)}
    kept = [fresh.get(str(block.get("block_id")), dict(block)) for block in blocks]
    for block_id, block in fresh.items():
        if all(existing.get("block_id") != block_id for existing in kept):
            kept.append(block)
    return kept


def root_fallback(card: CaseCard, text: str) -> str:
    """The root's notification text (what Slack shows where blocks cannot be drawn)."""
    preview = _clip(text.strip(), FALLBACK_PREVIEW)
    return escape(f"{card.reference} · {card.department_name} — {card.citizen_name}: {preview}")


def citizen_line(author: str, text: str, *, translation: Translation | None = None) -> str:
    """A later citizen message as a thread reply, attributed to the citizen, its translation below."""
    if not text.strip():
        return f"*{escape(author)}* sent a file:"
    below = translation_line(translation)
    return f"*{escape(author)}:* {escape(text)}" + (f"\n{below}" if below else "")


def translation_line(translation: Translation | None) -> str:
    """The machine translation under a citizen's words (mrkdwn), or why there is none; empty without either."""
    if translation is None:
        return ""
    if translation.text is not None:
        languages = f"{escape(translation.source)} → {escape(translation.target)}"
        return f"*Translation ({languages}):* {escape(translation.text)}"
    if translation.error:
        return f"_Translation unavailable: {escape(translation.error)}_"
    return ""


def translation_blocks(translation: Translation | None, *, room: int) -> list[dict[str, Any]]:
    """The translation line as at most ``room`` sections under the root's message (cut to Slack's section size)."""
    line = translation_line(translation)
    if not line or room < 1:
        return []
    pieces = chunks(line, SECTION_CHARS)
    if len(pieces) > room:
        pieces = [*pieces[: room - 1], "_(translation shortened: the rest is in the bridge's records)_"]
    return [
        {"type": "section", "block_id": f"case_translation_{number}", "text": {"type": "mrkdwn", "text": piece}}
        for number, piece in enumerate(pieces, start=1)
    ]


def system_line(text: str) -> str:
    """A line from the bridge, in italics (each line on its own, as mrkdwn requires)."""
    lines = [line.strip() for line in escape(text).splitlines()]
    return "\n".join(f"_{line}_" if line else "" for line in lines)


def escalation_line(text: str, mention: str | None) -> str:
    """An escalation post: the group's mention (``<!subteam^S…>``, or ``<@U…>`` for one person), then the line."""
    if mention is None:
        return f":warning: {escape(text)}"
    ping = f"<@{mention}>" if mention[0] in "UW" else f"<!subteam^{mention}>"
    return f":warning: {ping} {escape(text)}"


def erased_blocks(card: CaseCard, text: str) -> list[dict[str, Any]]:
    """What an erased post shows: the case reference and "[erased]", nothing of the citizen."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": escape(f"{card.reference} · {text}")}}]
