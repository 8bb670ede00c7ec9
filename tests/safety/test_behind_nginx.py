"""The bridge behind a real nginx configured with the site block of docs/deploy.md.

``python -m bot run`` runs as a process on a temporary SQLite database, with
Telegram (webhook mode) and Slack (Events API) pointed at their emulators in
this test's event loop; nginx runs in the foreground with a temporary prefix,
on loopback, in plain http (the guide's TLS lines are taken out; nginx still
sets ``X-Forwarded-Proto``). Requests go through nginx the way the internet's would.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from adapters.slack.signature import sign
from tests.emulators.slack import BOT_TOKEN, SIGNING_SECRET, SlackEmulator
from tests.emulators.telegram import TelegramEmulator
from tests.safety.process import REPO, environment, free_port
from tests.waiting import eventually

pytestmark = [pytest.mark.nginx, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

GUIDE = REPO / "docs" / "deploy.md"
WEBHOOK_SECRET = "s3cret_webhook-token"  # noqa: S105  # a made-up secret for the test
CITIZEN = 111
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


def nginx_binary() -> str:
    """The nginx executable (scripts/install-nginx.sh installs Debian's); under CI its absence fails the test."""
    found: str | None = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed under CI: run scripts/install-nginx.sh")
        pytest.skip("nginx is not installed: run scripts/install-nginx.sh")
    return found


def guide_site_block() -> str:
    """The nginx site block docs/deploy.md shows (the one with the ``civic_bridge`` upstream)."""
    blocks = re.findall(r"```nginx\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    sites: list[str] = [block for block in blocks if "upstream civic_bridge" in block]
    assert len(sites) == 1, "docs/deploy.md must show exactly one site block with `upstream civic_bridge`"
    return sites[0]


def loopback_site(block: str, *, listen: int, bridge: int) -> str:
    """The guide's block on loopback ports in plain http: TLS lines out, one upstream server, one listen."""
    lines = []
    upstream_done = False
    for line in block.splitlines():
        stripped = line.strip()
        if stripped.startswith(("ssl_", "listen [::]")):
            continue
        if stripped == "listen 443 ssl;":
            lines.append(f"    listen 127.0.0.1:{listen};")
            continue
        if re.fullmatch(r"server 127\.0\.0\.1:\d+;", stripped):
            if not upstream_done:
                lines.append(f"    server 127.0.0.1:{bridge};")
                upstream_done = True
            continue
        lines.append(line)
    site = "\n".join(lines)
    assert upstream_done, "the guide's upstream no longer lists 127.0.0.1 servers: update this test"
    assert f"listen 127.0.0.1:{listen};" in site, "the guide's server no longer listens on 443 ssl: update this test"
    return site


def nginx_conf(prefix: Path, site: str) -> str:
    """A whole nginx.conf around ``site`` that runs unprivileged in ``prefix``."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the test's private temp folders
    temp = "\n".join(
        f"    {name}_temp_path {prefix / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log off;\n{temp}\n{site}\n}}\n"
    )


@dataclass
class Site:
    """The running bridge behind nginx, and the emulated platforms around it."""

    public: str
    direct: str
    tmp: Path
    telegram: TelegramEmulator
    slack: SlackEmulator


async def _wait_answering(url: str, *, process: subprocess.Popen[bytes], log: Path) -> None:
    async def answering() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited early:\n{_tail(log)}")
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                return response.status < 500  # any answer but a gateway error
        except aiohttp.ClientError:
            return False

    await eventually(answering, timeout=60, what=url)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"


def _launch(command: list[str], *, cwd: Path, env: dict[str, str] | None, log: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` with its output in ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603  # ours


def _add_desk_user(tmp: Path, users: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # our own command
        [sys.executable, "-m", "bot", "desk", "add-user", "grace", "--password-stdin", "--file", str(users)],
        cwd=tmp,
        env=environment(tmp),
        input="correct horse battery staple\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """Emulators, ``civic-bridge run`` on a temporary SQLite, and nginx in front, for this module's tests."""
    nginx = nginx_binary()
    saved = {name: os.environ.pop(name) for name in PROXY_VARIABLES if name in os.environ}
    tmp = tmp_path_factory.mktemp("behind-nginx")
    bridge_port, nginx_port = free_port(), free_port()
    async with SlackEmulator(channels=("C0ROADS",)) as slack, TelegramEmulator() as telegram:
        env = environment(
            tmp,
            BRIDGE_HTTP_PORT=str(bridge_port),
            BRIDGE_TRUSTED_PROXIES="127.0.0.1",
            BRIDGE_DESK_USERS_FILE=str(tmp / "desk-users.json"),
            BRIDGE_TELEGRAM_TOKEN=telegram.token,
            BRIDGE_TELEGRAM_API_URL=telegram.api_url,
            BRIDGE_TELEGRAM_WEBHOOK_URL="https://chat.example.gov/telegram/webhook",
            BRIDGE_TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            BRIDGE_SLACK_BOT_TOKEN=BOT_TOKEN,
            BRIDGE_SLACK_SIGNING_SECRET=SIGNING_SECRET,
            BRIDGE_SLACK_API_URL=slack.api_url,
        )
        bridge_log = tmp / "bridge.log"
        bridge = _launch([sys.executable, "-m", "bot", "run"], cwd=tmp, env=env, log=bridge_log)
        prefix = tmp / "nginx"
        prefix.mkdir()
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_conf(prefix, loopback_site(guide_site_block(), listen=nginx_port, bridge=bridge_port)))
        proxy: subprocess.Popen[bytes] | None = None
        try:
            direct = f"http://127.0.0.1:{bridge_port}"
            await _wait_answering(direct + "/healthz", process=bridge, log=bridge_log)
            command = [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"), "-g", "daemon off;"]
            proxy = _launch(command, cwd=prefix, env=None, log=prefix / "nginx.out")
            public = f"http://127.0.0.1:{nginx_port}"
            await _wait_answering(public + "/", process=proxy, log=prefix / "error.log")
            yield Site(public, direct, tmp, telegram, slack)
        finally:
            if proxy is not None:
                _stop(proxy)
            _stop(bridge)
            os.environ.update(saved)


def browser() -> aiohttp.ClientSession:
    """A client that keeps cookies for an IP-address host and never follows redirects on its own."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


# --- what must work through nginx ------------------------------------------------------------


async def test_chat_page_and_widget_load_through_nginx(site: Site) -> None:
    """The chat page, the widget script and a static asset load through the proxy."""
    async with browser() as session:
        for path, kind in (("/", "text/html"), ("/?embed=1", "text/html"), ("/widget.js", "javascript")):
            async with session.get(site.public + path) as response:
                assert response.status == 200, path
                assert kind in response.headers["Content-Type"]
        async with session.get(site.public + "/static/chat.js") as response:
            assert response.status == 200


async def test_citizen_message_through_nginx_is_acknowledged(site: Site) -> None:
    """A citizen posts a message through the proxy and the acknowledgement with a reference comes back."""
    async with browser() as session:
        await (await session.get(site.public + "/")).read()
        async with session.get(site.public + "/chat/history") as response:
            csrf = (await response.json())["csrf"]
        message = {"event_id": str(uuid.uuid4()), "text": "The street light outside number 4 is out"}
        headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
        async with session.post(site.public + "/chat/send", data=json.dumps(message), headers=headers) as response:
            assert response.status == 200, await response.text()

        async def acknowledged() -> bool:
            async with session.get(site.public + "/chat/history") as history:
                items = (await history.json())["items"]
            return any(item["reference"] for item in items)

        await eventually(acknowledged, what="the acknowledgement in the chat history")


async def test_telegram_webhook_with_the_right_secret_works_through_nginx(site: Site) -> None:
    """An update posted through the proxy with the secret is taken, and the citizen is acknowledged on Telegram."""
    update = site.telegram.update(message=site.telegram.message(user=CITIZEN, text="Bins not collected on Elm Road"))
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    async with browser() as session, session.post(site.public + "/telegram/webhook", json=update, headers=headers) as r:
        assert r.status == 200
    await eventually(lambda: len(site.telegram.texts_to(CITIZEN)) >= 1, what="the acknowledgement on Telegram")


async def test_telegram_webhook_with_a_wrong_secret_is_refused_through_nginx(site: Site) -> None:
    """The webhook's secret check holds through the proxy."""
    update = site.telegram.update(message=site.telegram.message(user=222, text="hello"))
    headers = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
    async with browser() as session, session.post(site.public + "/telegram/webhook", json=update, headers=headers) as r:
        assert r.status == 403


async def test_slack_url_verification_works_through_nginx(site: Site) -> None:
    """Slack's signed URL check is answered with its challenge through the proxy."""
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(SIGNING_SECRET, stamp, body),
    }
    async with browser() as session, session.post(site.public + "/slack/events", data=body, headers=headers) as r:
        assert r.status == 200
        assert "c-123" in await r.text()


# --- what must not be reachable through nginx ---------------------------------------------------


async def test_metrics_are_404_through_nginx_but_served_directly(site: Site) -> None:
    """/metrics is not reachable through the proxy, while monitoring on the host still reads it."""
    async with browser() as session:
        async with session.get(site.public + "/metrics") as response:
            assert response.status == 404
        async with session.get(site.direct + "/metrics") as response:
            assert response.status == 200


async def test_healthz_is_not_public(site: Site) -> None:
    """/healthz is for the host's monitoring, not the internet."""
    async with browser() as session, session.get(site.public + "/healthz") as response:
        assert response.status == 404


async def test_webhook_get_is_refused_through_nginx(site: Site) -> None:
    """The webhook paths take POST only at the proxy."""
    async with browser() as session, session.get(site.public + "/telegram/webhook") as response:
        assert response.status == 403


async def test_two_mib_body_is_refused_through_nginx(site: Site) -> None:
    """A 2 MiB post is refused with 413 before it reaches the bridge."""
    body = io.BytesIO(b"{" + b" " * (2 * 1024 * 1024) + b"}")
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
    async with browser() as session:
        try:
            async with session.post(site.public + "/telegram/webhook", data=body, headers=headers) as response:
                status = response.status
        except aiohttp.ClientOSError:
            status = 413  # nginx answered and closed while the body was still being sent
    assert status == 413


# --- the desk -------------------------------------------------------------------------------------


def _asks_for_sign_in(status: int, location: str) -> bool:
    return status == 401 or (status in {302, 303, 307} and location.startswith("/desk/login"))


async def test_desk_without_users_asks_for_sign_in_through_nginx(site: Site) -> None:
    """With no desk users, the desk reached through the proxy asks for a sign-in and shows no case."""
    async with browser() as session, session.get(site.public + "/desk", allow_redirects=False) as response:
        assert _asks_for_sign_in(response.status, response.headers.get("Location", ""))


async def test_desk_with_a_user_asks_for_sign_in_through_nginx(site: Site) -> None:
    """Once a desk user exists (as the guide says to do first), the desk through the proxy asks for a sign-in."""
    users = site.tmp / "desk-users.json"
    added = await asyncio.to_thread(_add_desk_user, site.tmp, users)
    assert added.returncode == 0, added.stderr
    try:
        async with browser() as session, session.get(site.public + "/desk", allow_redirects=False) as response:
            assert _asks_for_sign_in(response.status, response.headers.get("Location", ""))
    finally:
        users.unlink()
