"""Settings read from ``BRIDGE_*`` environment variables and ``.env`` (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.client_address import TrustedProxies

DEFAULT_ROUTING_FILE = Path("config/routing.yaml")
#: Settings that must never be set to an empty value: an empty signing secret checks signatures with an empty key.
SECRET_FIELDS = (
    "telegram_token",
    "telegram_webhook_secret",
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "discord_token",
    "translate_api_key",
)


def _proxies(value: object) -> object:
    """``BRIDGE_TRUSTED_PROXIES`` as written (comma-separated) into ``TrustedProxies``."""
    return TrustedProxies.parse(value) if isinstance(value, str) else value


class Settings(BaseSettings):
    """Everything an operator can set. Secrets are ``SecretStr`` and never logged."""

    model_config = SettingsConfigDict(
        env_prefix="BRIDGE_",
        env_file=".env",
        extra="ignore",
        frozen=True,
    )

    database_url: str = "sqlite+aiosqlite:///civic-bridge.db"
    routing_file: Path = DEFAULT_ROUTING_FILE
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    discord_token: SecretStr | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg"
    #: A guild channel id where public posts get a short invitation to write to the bot by DM (nothing stored).
    discord_helpdesk_channel: int | None = None

    #: Largest file relayed in either direction, in bytes.
    max_file_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    #: Longest citizen message accepted, in characters.
    max_message_chars: int = Field(default=8000, gt=0)
    #: A pending delivery older than this makes /healthz say "degraded".
    stuck_after_seconds: float = Field(default=300.0, gt=0)
    #: How long a claimed delivery is reserved for the process sending it; after a crash it is
    #: retried once this has passed (a clean shutdown gives its claims back at once).
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    #: A LibreTranslate-compatible server the office runs (``http://127.0.0.1:5000``); unset: nothing is
    #: translated and no text leaves the office's servers.
    translate_url: str | None = None
    translate_api_key: SecretStr | None = None
    #: How long one call to the translation server may take before the original goes through untranslated.
    translate_timeout_seconds: float = Field(default=10.0, gt=0)
    #: Where the web desk keeps its users (``civic-bridge desk add-user``).
    desk_users_file: Path = Path("desk-users.json")
    log_level: str = "INFO"
    #: Reverse proxies whose X-Forwarded-For/Forwarded headers are believed (comma-separated IPs and CIDRs).
    trusted_proxies: Annotated[TrustedProxies, NoDecode, BeforeValidator(_proxies)] = TrustedProxies()
    #: Serve /metrics to requests that came through a proxy (X-Forwarded-For or Forwarded present).
    metrics_behind_proxy: bool = False
    #: How long a desk sign-in lasts.
    desk_session_hours: float = Field(default=12.0, gt=0)
    #: How long the one-time desk sign-in link printed at start (while the desk has no users) works.
    desk_sign_in_link_hours: float = Field(default=24.0, gt=0)
    #: Desk sign-in attempts a minute, per username and per client address (counted in the database).
    desk_sign_ins_per_user: int = Field(default=5, gt=0)
    desk_sign_ins_per_address: int = Field(default=20, gt=0)
    #: Web chat messages a minute, per chat session and per client address.
    chat_messages_per_minute: int = Field(default=10, gt=0)
    chat_messages_per_address: int = Field(default=60, gt=0)
    #: New web chat sessions a minute from one client address.
    chat_sessions_per_address: int = Field(default=10, gt=0)
    #: Open live-update streams (``/chat/events``, ``/desk/events``) per session, per client address, per process.
    live_streams_per_session: int = Field(default=5, gt=0)
    live_streams_per_address: int = Field(default=50, gt=0)
    live_streams_total: int = Field(default=500, gt=0)

    #: Broadcasts to subscribers (announcements, consultations), per platform over every process sharing the
    #: database: bulk sends a second (0: no limit), and seconds between two bulk sends to one chat (Telegram,
    #: Discord). Case traffic is never held back by these. Telegram allows about 30 a second overall, Discord
    #: 50 requests a second (DMs in bulk are better kept well under).
    bulk_telegram_per_second: float = Field(default=25.0, ge=0)
    bulk_discord_per_second: float = Field(default=10.0, ge=0)
    bulk_web_per_second: float = Field(default=0.0, ge=0)
    bulk_chat_interval_seconds: float = Field(default=1.0, ge=0)
    #: This process's own pace of Telegram sends, case traffic and bulk together (keeps clear of 429s).
    telegram_sends_per_second: float = Field(default=30.0, gt=0)
    #: The same for Discord, whose global limit is 50 requests a second a bot (discord.py learns of it only by 429s).
    discord_sends_per_second: float = Field(default=50.0, gt=0)

    @field_validator(*SECRET_FIELDS)
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError(
                "is empty: set it to the value the platform gave you, or remove the variable to turn the platform off"
            )
        return value

    @field_validator("translate_url")
    @classmethod
    def _translate_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be the translation server's http:// or https:// address, e.g. http://127.0.0.1:5000")
        return value or None


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one message per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # pydantic validates the values
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = "BRIDGE_" + "_".join(str(part) for part in problem["loc"]).upper()
            secret = any(word in name for word in ("TOKEN", "SECRET", "PASSWORD", "KEY"))
            shown = "" if secret else f" (got {problem.get('input')!r})"
            message = str(problem["msg"]).removeprefix("Value error, ")
            lines.append(f"{name}: {message}{shown}; fix it in the environment or .env")
        raise SettingsError("\n".join(lines)) from None


def _shown_default(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float | Path):
        return str(value)
    try:
        empty = value == type(value)()
    except TypeError:
        empty = False
    return "unset" if empty else str(value)


def settings_help() -> str:
    """Every setting as ``BRIDGE_NAME  default``, read from ``Settings`` itself (for ``run --help``)."""
    rows = []
    for name, field in Settings.model_fields.items():
        variable = f"BRIDGE_{name.upper()}"
        default = _shown_default(field.get_default(call_default_factory=True))
        secret = " (secret)" if name in SECRET_FIELDS else ""
        rows.append(f"  {variable:<36} {default}{secret}")
    return "settings (environment variables, also read from .env; README explains each):\n" + "\n".join(rows)
