"""Files across Slack: staff files fetched for the citizen, citizen files uploaded into a case's thread.

A staff file is fetched with the bot token, only from Slack's own hosts and up
to the size limit; what cannot be passed on is said in the thread. An upload
remembers what was posted before it, so a retry after a failed upload does
not post the message twice.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.inbound import SlackFile, ThreadWords
from bot.model import FileData, Outgoing, ThreadPost

log = logging.getLogger("adapters.slack.adapter")  # the adapter's logger name from before the split

#: How many deliveries (or thread roots) each memo of the adapter holds.
MEMO_SIZE = 1000


class _DownloadFailedError(Exception):
    """A staff file could not be fetched for now; Slack redelivers the event (we did not acknowledge)."""


class Downloads:
    """Fetches the files staff post in a case's thread, to pass on to the citizen."""

    def __init__(
        self,
        *,
        bot_token: SecretStr,
        api_url: str,
        max_file_bytes: int,
        timeout: int,
        session: Callable[[], aiohttp.ClientSession | None],
        web: Callable[[], AsyncWebClient],
    ) -> None:
        self._bot_token = bot_token
        self._api_url = api_url
        self._max_file_bytes = max_file_bytes
        self._timeout = timeout
        self._session = session
        self._web = web

    def _trusted_file_url(self, url: str) -> bool:
        """Only send the bot token to the API's host or its domain (files.slack.com for slack.com/api)."""
        api, target = urlsplit(self._api_url), urlsplit(url)
        if not api.hostname or not target.hostname or target.scheme not in {"https", api.scheme}:
            return False
        domains = {api.hostname}
        labels = api.hostname.split(".")
        if len(labels) > 2 and not api.hostname.replace(".", "").isdigit():  # noqa: PLR2004  # a subdomain
            domains.add(".".join(labels[1:]))
        return any(target.hostname == d or target.hostname.endswith("." + d) for d in domains)

    async def download(self, words: ThreadWords, file: SlackFile) -> FileData | None:
        """A staff file's bytes, or None (and a line in the thread) if it cannot be passed on."""
        limit = self._max_file_bytes
        if file.size > limit:
            await self._tell_thread(words, f"The file {file.name} is too large to pass on (limit {_megabytes(limit)}).")
            return None
        session = self._session()
        if not self._trusted_file_url(file.url) or session is None:
            await self._tell_thread(words, f"The file {file.name} could not be fetched and was not passed on.")
            return None
        headers = {"Authorization": f"Bearer {self._bot_token.get_secret_value()}"}
        try:
            async with session.get(
                file.url,
                headers=headers,
                proxy=self._web().proxy or None,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                if response.status >= 500 or response.status == 429:  # noqa: PLR2004  # Slack's transient answers
                    raise _DownloadFailedError(f"file download answered {response.status}")
                if response.status != 200:  # noqa: PLR2004  # HTTP OK
                    await self._tell_thread(words, f"The file {file.name} could not be fetched and was not passed on.")
                    return None
                data = await response.content.read(limit + 1)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise _DownloadFailedError(f"file download failed: {type(error).__name__}") from None
        if len(data) > limit:
            await self._tell_thread(words, f"The file {file.name} is too large to pass on (limit {_megabytes(limit)}).")
            return None
        return FileData(name=file.name, mime_type=file.mime_type, data=data)

    async def _tell_thread(self, words: ThreadWords, line: str) -> None:
        """A direct note to staff in the thread (not through the outbox: it only explains what was not relayed)."""
        try:
            await self._web().chat_postMessage(
                channel=words.channel, thread_ts=words.thread_ts, text=render.system_line(line)
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError):
            log.warning("Slack: could not post a note in a thread of %s", words.channel)


class Uploads:
    """Uploads a post's files into its thread, remembering the post until they are up."""

    def __init__(self, *, web: Callable[[], AsyncWebClient]) -> None:
        self._web = web
        self._posted: OrderedDict[str, str] = OrderedDict()

    def posted(self, key: str) -> str | None:
        """The ts an earlier try of this delivery posted before its upload failed; None if there was none."""
        return self._posted.get(key) if key else None

    async def upload(self, out: Outgoing[ThreadPost], thread: str) -> None:
        """Upload ``out``'s files (if any) into ``thread``; then the delivery is done."""
        if not out.files:
            return
        await self._web().files_upload_v2(
            channel=out.target.chat,
            thread_ts=thread,
            file_uploads=[{"content": f.data, "filename": f.name, "title": f.name} for f in out.files],
        )
        self._posted.pop(out.idempotency_key, None)

    def remember(self, key: str, ts: str) -> None:
        """What was posted for a delivery with files, so a retry after a failed upload does not post it twice."""
        if not key:
            return
        self._posted[key] = ts
        while len(self._posted) > MEMO_SIZE:
            self._posted.popitem(last=False)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"
