"""Thread roots that name their case: Slack message metadata on every root the bridge posts.

A root carries ``{"event_type": "civic_bridge_case", "event_payload": {"reference": …, "delivery": …}}``.
So a staff reply or button press in a thread whose root the bridge has not recorded yet
(Slack slow to answer, a crash between posting and recording) still finds its case
(``conversations.replies`` with ``include_all_metadata``), and a root posted before a
timeout or crash is found again instead of being posted twice (``conversations.history``). A consultation's
results message carries ``civic_bridge_results`` with its delivery, and is found again the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ROOT_EVENT_TYPE = "civic_bridge_case"
#: A consultation's results message (and an announcement's "sent" line) carries the delivery that posted it too.
RESULTS_EVENT_TYPE = "civic_bridge_results"
#: How many recent top-level messages are searched for a root posted before a timeout or a crash.
RECENT_ROOTS = 100


def root_metadata(reference: str, delivery_key: str) -> dict[str, Any]:
    """The metadata a thread root carries: the case reference, and the delivery that posted it."""
    return {"event_type": ROOT_EVENT_TYPE, "event_payload": {"reference": reference, "delivery": delivery_key}}


def results_metadata(delivery_key: str) -> dict[str, Any]:
    """The metadata a results message carries: the delivery that posted it (no case: it names none)."""
    return {"event_type": RESULTS_EVENT_TYPE, "event_payload": {"delivery": delivery_key}}


def _payload(
    message: Mapping[str, Any], *, bot_user_id: str | None, bot_id: str | None, event_type: str = ROOT_EVENT_TYPE
) -> Mapping[str, Any] | None:
    """The payload (of ``event_type``) of one of the bridge's own messages; None for anyone else's or a plain one."""
    ours = (bot_user_id is not None and message.get("user") == bot_user_id) or (
        bot_id is not None and message.get("bot_id") == bot_id
    )
    metadata = message.get("metadata")
    if not ours or not isinstance(metadata, Mapping) or metadata.get("event_type") != event_type:
        return None
    payload = metadata.get("event_payload")
    return payload if isinstance(payload, Mapping) else None


def reference_of_root(messages: object, thread_ts: str, *, bot_user_id: str | None, bot_id: str | None) -> str | None:
    """From a ``conversations.replies`` answer: the case reference its root (``thread_ts``) names, if ours."""
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, Mapping) and message.get("ts") == thread_ts:
            payload = _payload(message, bot_user_id=bot_user_id, bot_id=bot_id)
            reference = payload.get("reference") if payload else None
            return reference if isinstance(reference, str) and reference else None
    return None


def root_posted_by(
    messages: object,
    delivery_key: str,
    *,
    bot_user_id: str | None,
    bot_id: str | None,
    event_type: str = ROOT_EVENT_TYPE,
) -> str | None:
    """From a ``conversations.history`` answer: the ts of the message delivery ``delivery_key`` posted, if any.

    ``event_type`` says which of the bridge's messages: thread roots (the default) or results messages.
    """
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, Mapping):
            continue
        payload = _payload(message, bot_user_id=bot_user_id, bot_id=bot_id, event_type=event_type)
        if payload is not None and payload.get("delivery") == delivery_key and isinstance(message.get("ts"), str):
            return str(message["ts"])
    return None
