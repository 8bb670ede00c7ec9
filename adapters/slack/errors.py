"""Slack Web API failures as the outbox reads them: retry later, retry after Slack's wait, or give up."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.errors import SlackApiError

from bot.ports import DeliveryError

#: Slack error codes that no retry can fix: the outbox gives up and the relay is told.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "message_not_found",
        "cant_update_message",
        "thread_not_found",
        "restricted_action",
        "invalid_name",
    }
)


def error_code(error: SlackApiError) -> str | None:
    """The ``error`` field of Slack's answer (``channel_not_found``, …), if it has one."""
    try:
        code = error.response.get("error")
    except (AttributeError, ValueError):
        return None
    return code if isinstance(code, str) else None


def delivery_error(error: SlackApiError) -> DeliveryError:
    """429 → retry after Slack's wish; 5xx → transient; known hopeless codes → permanent; else transient."""
    status = int(error.response.status_code)
    code = error_code(error)
    if status == 429 or code == "ratelimited":  # noqa: PLR2004  # Too Many Requests
        wait = _header(error.response.headers, "Retry-After")
        try:
            retry_after = float(wait) if wait is not None else 1.0
        except ValueError:
            retry_after = 1.0
        return DeliveryError("Slack rate limit", retry_after=retry_after)
    if status >= 500:  # noqa: PLR2004  # server errors pass
        return DeliveryError(f"Slack answered {status}")
    if code in PERMANENT_ERRORS:
        return DeliveryError(f"Slack refused: {code}", permanent=True)
    return DeliveryError(f"Slack refused: {code or status}")


def _header(headers: object, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) and value else value)
    return None
