"""Slack's side of consultations: the ``/consult`` modal staff publish from, and the results message's blocks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from adapters.slack.render import escape
from bot.consultations.model import BroadcastKind
from bot.consultations.publishing import Draft, options_from_lines

COMMAND = "/consult"
CALLBACK_ID = "consult_create"
#: What the command answers (only its caller sees it) in a channel that is no department's.
NOT_A_DEPARTMENT = (
    "`/consult` works in a department's channel: run it in the channel of the department that publishes. "
    "This channel is no department's in the routing file."
)
NOT_AVAILABLE = "Consultations are not available on this bridge."
_FREE_TEXT = "free_text"
_SHOW_WHO = "show_who"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = "") -> Any:  # noqa: ANN401  # a Block Kit block
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {**element, "action_id": "value"},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def modal(department_key: str, department_name: str, channel: str) -> dict[str, Any]:
    """The modal that starts an announcement or a consultation for ``department_key``."""
    kinds = [
        {"text": _plain("Consultation (a question)"), "value": BroadcastKind.CONSULTATION.value},
        {"text": _plain("Announcement (a notice)"), "value": BroadcastKind.ANNOUNCEMENT.value},
    ]
    settings = [
        {"text": _plain("Answers are free text (no options)"), "value": _FREE_TEXT},
        {"text": _plain("Results show who answered what"), "value": _SHOW_WHO},
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps({"department": department_key, "channel": channel}),
        "title": _plain("Ask or announce"),
        "submit": _plain("Send"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"Sent to the subscribers of *{escape(department_name)}*."}],
            },
            _input("kind", "What", {"type": "radio_buttons", "options": kinds, "initial_option": kinds[0]}),
            _input("text", "Question or notice", {"type": "plain_text_input", "multiline": True, "max_length": 1500}),
            _input(
                "options",
                "Options",
                {"type": "plain_text_input", "multiline": True},
                optional=True,
                hint="One per line, two or more; leave empty for an announcement or free-text answers.",
            ),
            _input("settings", "Answers", {"type": "checkboxes", "options": settings}, optional=True),
            _input(
                "closes",
                "Last day to answer",
                {"type": "datepicker"},
                optional=True,
                hint="Answers close at the end of this day (office time); empty: until closed.",
            ),
        ],
    }


def _value(values: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    block = values.get(block_id)
    found = block.get("value") if isinstance(block, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def submitted(view: Mapping[str, Any]) -> tuple[str, str, Draft] | dict[str, str]:
    """The department key, its channel and the draft a submitted modal holds; or errors by block id."""
    try:
        meta = json.loads(str(view.get("private_metadata") or "{}"))
    except ValueError:
        meta = {}
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    if not isinstance(meta, dict) or not isinstance(values, Mapping):
        return {"text": "This form is out of date: close it and run /consult again."}
    selected = _value(values, "kind").get("selected_option")
    kind = BroadcastKind(selected["value"]) if isinstance(selected, Mapping) else BroadcastKind.CONSULTATION
    checked = {
        o.get("value") for o in _value(values, "settings").get("selected_options") or [] if isinstance(o, Mapping)
    }
    day = _value(values, "closes").get("selected_date")
    try:
        closes_on = date.fromisoformat(day) if isinstance(day, str) else None
    except ValueError:
        return {"closes": "Pick a day from the calendar."}
    draft = Draft(
        kind=kind,
        text=str(_value(values, "text").get("value") or ""),
        options=options_from_lines(str(_value(values, "options").get("value") or "")),
        free_text=_FREE_TEXT in checked,
        closes_on=closes_on,
        show_who_answered=_SHOW_WHO in checked,
    )
    return str(meta.get("department", "")), str(meta.get("channel", "")), draft


def error_block(problem: str) -> str:
    """The modal field a refusal is about, so Slack shows it there."""
    lowered = problem.lower()
    if "option" in lowered or "free text" in lowered:
        return "options"
    if "closing" in lowered:
        return "closes"
    return "text"


def results_blocks(text: str) -> list[dict[str, Any]]:
    """The results message: the question as a heading line, then the bars and totals as code-width text."""
    first, _, rest = text.partition("\n")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(first)}*"}}]
    if rest:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": escape(rest)}})
    return blocks
