"""Sessions the server issues: web chat cookies, desk sign-ins and the one-time link, and their limits."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from aiohttp import ClientResponse
from sqlalchemy import func, select, text

from adapters.web.desk import SignInLimits
from adapters.web.security import derive, new_token
from bot.client_address import TrustedProxies
from bot.events import CitizenMessage, Sender
from bot.model import WEB, Address
from bot.sessions import SessionKind, token_hash
from bot.storage.store import Store
from bot.storage.tables import cases, web_sessions
from tests.fakes import FakeClock
from tests.web.harness import Browser, Web, running_web

PASSWORD = "correct horse battery"  # noqa: S105  # a made-up password for the tests


async def _cases(store: Store) -> int:
    async with store.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(cases))).scalar_one())


async def _sessions(store: Store, kind: SessionKind) -> int:
    async with store.engine.connect() as connection:
        query = select(func.count()).select_from(web_sessions).where(web_sessions.c.kind == kind.value)
        return int((await connection.execute(query)).scalar_one())


def _plant(browser: Browser, name: str, token: str) -> None:
    browser.client.session.cookie_jar.update_cookies({name: token})


async def _forged_send(browser: Browser, token: str, text: str) -> ClientResponse:
    """What an attacker sends with a cookie they made up (its CSRF token computed as the page would)."""
    _plant(browser, "cb_chat", token)
    headers = {"X-CSRF-Token": derive(token, "web-chat-csrf"), "Content-Type": "application/json"}
    body = f'{{"event_id": "{uuid.uuid4()}", "text": "{text}"}}'
    return await browser.client.post("/chat/send", data=body, headers=headers)


# --- the web chat -------------------------------------------------------------------------------------


async def test_invented_chat_cookie_is_not_a_session(web_bridge: Web) -> None:
    """A well-formed cookie the server never issued cannot send a message: 401, and no case opens."""
    browser = await web_bridge.browser()
    response = await _forged_send(browser, new_token(), "pothole on Mill Lane")
    assert response.status == 401
    await web_bridge.bridge.settle()
    assert await _cases(web_bridge.bridge.store) == 0


async def test_hundred_invented_cookies_from_one_address_open_no_cases(web_bridge: Web) -> None:
    """100 made-up cookies from one address open no case at all (they used to open 100)."""
    browser = await web_bridge.browser()
    statuses = {(await _forged_send(browser, new_token(), f"pothole {n}")).status for n in range(100)}
    await web_bridge.bridge.settle()
    assert statuses == {401}
    assert await _cases(web_bridge.bridge.store) == 0


async def test_planted_chat_cookie_is_replaced_and_never_reads_the_conversation(web_bridge: Web) -> None:
    """A page load with a cookie the server does not know gets a new session; the planted one reads nothing."""
    planted = new_token()
    victim = await web_bridge.browser()
    _plant(victim, "cb_chat", planted)
    await victim.open_chat()
    assert victim.chat_cookie() != planted
    await victim.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    attacker = await web_bridge.browser()
    _plant(attacker, "cb_chat", planted)
    response = await attacker.client.get("/chat/history")
    assert response.status == 401


async def test_new_chat_sessions_are_limited_per_address(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """One address gets at most the configured number of new chat sessions a minute, so it opens that many cases."""
    async with running_web(store, clock, tmp_path, sessions_per_address=3) as running:
        opened = 0
        for n in range(10):
            browser = await running.browser()
            if (await browser.client.get("/")).status != 200:
                continue
            await browser.history()
            opened += (await browser.say(f"pothole number {n}")).status == 200
        await running.bridge.settle()
        assert (opened, await _cases(store)) == (3, 3)


async def test_chat_messages_are_limited_per_address(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Messages are counted per address too: many sessions from one address share one allowance."""
    async with running_web(store, clock, tmp_path, per_address=3) as running:
        statuses = []
        for n in range(4):
            browser = await running.browser()
            await browser.open_chat()
            statuses.append((await browser.say(f"pothole number {n}")).status)
        assert statuses == [200, 200, 200, 429]


async def test_chat_limits_count_the_address_trusted_proxies_name(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """Behind a trusted proxy each client address has its own allowance (not one for the proxy's 127.0.0.1)."""
    trusted = TrustedProxies.parse("127.0.0.1")
    async with running_web(store, clock, tmp_path, sessions_per_address=1, trusted_proxies=trusted) as running:
        statuses = []
        for client in ("203.0.113.1", "203.0.113.2", "203.0.113.1"):
            browser = await running.browser()
            response = await browser.client.get("/", headers={"X-Forwarded-For": client})
            statuses.append(response.status)
        assert statuses == [200, 200, 429]


async def test_chat_session_works_in_another_process(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """A chat session opened on one process is the same session on another (and after a restart)."""
    async with running_web(store, clock, tmp_path) as first, running_web(store, clock, tmp_path) as second:
        citizen = await first.browser()
        await citizen.open_chat()
        await citizen.say("There is a pothole on Mill Lane")
        await first.bridge.settle()
        elsewhere = await second.browser()
        _plant(elsewhere, "cb_chat", citizen.chat_cookie())
        assert (await elsewhere.texts())[0] == "There is a pothole on Mill Lane"


async def test_unused_chat_session_expires_after_a_day(web_bridge: Web, clock: FakeClock) -> None:
    """A session that never sent anything ends after a day; its row is deleted when the next session opens."""
    idle = await web_bridge.browser()
    await idle.open_chat()
    clock.advance(2 * 24 * 3600)
    assert (await idle.client.get("/chat/history")).status == 401
    await (await web_bridge.browser()).open_chat()
    assert await _sessions(web_bridge.bridge.store, SessionKind.CHAT) == 1


async def test_chat_session_from_before_the_upgrade_keeps_its_conversation(web_bridge: Web) -> None:
    """A cookie from before sessions were stored still opens its own conversation (nobody else's)."""
    old = new_token()
    browser = await web_bridge.browser()
    response = await _forged_send(browser, old, "placeholder")  # refused: not a session yet
    assert response.status == 401
    chat = Address(WEB, derive(old, "web-chat-session"))
    sender = Sender(WEB, chat.chat, "Ada", None)
    await web_bridge.bridge.relay.accept(CitizenMessage("old-1", sender, chat, "There is a pothole on Mill Lane"))
    await web_bridge.bridge.settle()
    await browser.open_chat()
    assert browser.chat_cookie() == old
    assert (await browser.texts())[0] == "There is a pothole on Mill Lane"


async def test_chat_session_is_found_by_an_indexed_lookup(web_bridge: Web) -> None:
    """Finding a session is a primary-key search, never a scan of every session."""
    async with web_bridge.bridge.store.engine.connect() as connection:
        plan = await connection.execute(
            text("EXPLAIN QUERY PLAN SELECT subject FROM web_sessions WHERE token_hash = :h AND kind = 'chat'"),
            {"h": token_hash("x")},
        )
        details = " ".join(str(row[-1]) for row in plan)
    assert "SEARCH web_sessions USING INDEX" in details


# --- the desk -------------------------------------------------------------------------------------------


async def _sign_in(browser: Browser, username: str, password: str, **headers: str) -> int:
    html = await (await browser.client.get("/desk/login", headers=headers)).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "next": "/desk", "username": username, "password": password}
    response = await browser.client.post("/desk/login", data=form, allow_redirects=False, headers=headers)
    return response.status


async def _desk_status(browser: Browser) -> int:
    return (await browser.client.get("/desk", allow_redirects=False)).status


async def test_sign_in_link_works_once(web_bridge: Web) -> None:
    """The one-time link opens the desk the first time; the same link used again is refused."""
    link = await web_bridge.sign_in_link()
    first, second = await web_bridge.browser(), await web_bridge.browser()
    assert (await first.client.get(link, allow_redirects=False)).status == 303
    assert await _desk_status(first) == 200
    assert (await second.client.get(link, allow_redirects=False)).status == 403
    assert await _desk_status(second) == 303


async def test_sign_in_link_expires(web_bridge: Web, clock: FakeClock) -> None:
    """A sign-in link older than its lifetime (24 h here) no longer works."""
    link = await web_bridge.sign_in_link()
    clock.advance(25 * 3600)
    browser = await web_bridge.browser()
    assert (await browser.client.get(link, allow_redirects=False)).status == 403


async def test_sign_in_link_is_stored_hashed(web_bridge: Web) -> None:
    """The database holds the link's hash, never the token itself."""
    token = (await web_bridge.sign_in_link()).rsplit("/", 1)[1]
    async with web_bridge.bridge.store.engine.connect() as connection:
        stored = list((await connection.execute(select(web_sessions.c.token_hash))).scalars())
    assert stored == [token_hash(token)]


async def test_link_session_ends_once_a_user_exists(web_bridge: Web, staff: Browser) -> None:
    """Once a desk user is added, the session opened with the link ends: everyone signs in with a password."""
    web_bridge.users.add("grace", PASSWORD, None)
    assert await _desk_status(staff) == 303


async def test_anonymous_desk_requests_create_no_session(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Visiting the desk, its sign-in page and failing to sign in store no session at all."""
    async with running_web(store, clock, tmp_path) as running:
        running.users.add("grace", PASSWORD, None)
        browser = await running.browser()
        for _ in range(5):
            await browser.client.get("/desk", allow_redirects=False)
            await browser.client.get("/desk/events", allow_redirects=False)
        await _sign_in(browser, "grace", "wrong password!")
        assert await _sessions(store, SessionKind.DESK) == 0


async def test_desk_session_works_in_another_process(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """A desk sign-in on one process is valid on another sharing the database (and after a restart)."""
    async with running_web(store, clock, tmp_path) as first, running_web(store, clock, tmp_path) as second:
        first.users.add("grace", PASSWORD, None)
        signed_in = await first.browser()
        assert await _sign_in(signed_in, "grace", PASSWORD) == 303
        cookie = signed_in.client.session.cookie_jar.filter_cookies(signed_in.client.make_url("/desk"))["cb_desk"]
        elsewhere = await second.browser()
        _plant(elsewhere, "cb_desk", cookie.value)
        assert await _desk_status(elsewhere) == 200


async def test_sign_out_ends_the_session_everywhere(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """After signing out on one process, the same session cookie is refused by every process."""
    async with running_web(store, clock, tmp_path) as first, running_web(store, clock, tmp_path) as second:
        first.users.add("grace", PASSWORD, None)
        browser = await first.browser()
        await _sign_in(browser, "grace", PASSWORD)
        cookie = browser.client.session.cookie_jar.filter_cookies(browser.client.make_url("/desk"))["cb_desk"].value
        html = await browser.desk_page("/desk")
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        assert csrf is not None
        await browser.client.post("/desk/logout", data={"csrf": csrf.group(1)}, allow_redirects=False)
        elsewhere = await second.browser()
        _plant(elsewhere, "cb_desk", cookie)
        assert await _desk_status(elsewhere) == 303


async def test_new_password_ends_the_users_sessions(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Setting a desk user's new password (``desk add-user`` again) signs out their open sessions."""
    async with running_web(store, clock, tmp_path) as running:
        running.users.add("grace", PASSWORD, None)
        browser = await running.browser()
        await _sign_in(browser, "grace", PASSWORD)
        assert await _desk_status(browser) == 200
        running.users.add("grace", "a brand new password", None)
        assert await _desk_status(browser) == 303


async def test_sign_in_limit_per_address_spares_other_addresses_behind_a_proxy(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """Behind a trusted proxy, one address guessing is slowed down without locking out staff elsewhere."""
    trusted = TrustedProxies.parse("127.0.0.1")
    limits = SignInLimits(per_user=100, per_address=3)
    async with running_web(store, clock, tmp_path, trusted_proxies=trusted, sign_in_limits=limits) as running:
        running.users.add("grace", PASSWORD, None)
        guesser, colleague = await running.browser(), await running.browser()
        guesses = [
            await _sign_in(guesser, f"user{n}", "guess", **{"X-Forwarded-For": "198.51.100.7"}) for n in range(4)
        ]
        assert guesses == [401, 401, 401, 429]
        assert await _sign_in(colleague, "grace", PASSWORD, **{"X-Forwarded-For": "198.51.100.8"}) == 303


async def test_sign_in_limit_per_user_holds_across_addresses(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Guessing one account's password from many addresses is slowed down all the same."""
    trusted = TrustedProxies.parse("127.0.0.1")
    limits = SignInLimits(per_user=3, per_address=100)
    async with running_web(store, clock, tmp_path, trusted_proxies=trusted, sign_in_limits=limits) as running:
        running.users.add("grace", PASSWORD, None)
        browser = await running.browser()
        statuses = [
            await _sign_in(browser, "grace", "guess", **{"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(4)
        ]
        assert statuses == [401, 401, 401, 429]


async def test_sign_in_limit_is_shared_between_processes(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Attempts on one process count on the other: the limit lives in the database."""
    limits = SignInLimits(per_user=3, per_address=100)
    async with (
        running_web(store, clock, tmp_path, sign_in_limits=limits) as first,
        running_web(store, clock, tmp_path, sign_in_limits=limits) as second,
    ):
        first.users.add("grace", PASSWORD, None)
        one, other = await first.browser(), await second.browser()
        statuses = [await _sign_in(one, "grace", "guess") for _ in range(3)]
        statuses.append(await _sign_in(other, "grace", "guess"))
        assert statuses == [401, 401, 401, 429]


async def test_sign_in_is_allowed_again_after_the_window(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Once the minute has passed, the right password signs in again."""
    async with running_web(store, clock, tmp_path, sign_in_limits=SignInLimits(per_user=2)) as running:
        running.users.add("grace", PASSWORD, None)
        browser = await running.browser()
        assert [await _sign_in(browser, "grace", "guess") for _ in range(3)] == [401, 401, 429]
        clock.advance(61)
        assert await _sign_in(browser, "grace", PASSWORD) == 303
