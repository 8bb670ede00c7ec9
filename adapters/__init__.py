"""Platform adapters: the only code that speaks Telegram, Discord, Slack or the web chat's wire format."""
