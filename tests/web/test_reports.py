"""The desk's Reports page and CSV download: admins see figures and charts; everyone else gets 403."""

from __future__ import annotations

import csv
import io
import re

import pytest

from bot.desk_users import DeskRole
from bot.privacy import audit_entries
from bot.storage.store import Store, Tx
from tests.reports.seed import seed
from tests.web.harness import Browser, Web

PERIOD = "since=2026-01-01&until=2026-01-08"
PASSWORD = "correct horse battery"  # noqa: S105  # a test user's password


async def _signed_in(web_bridge: Web, username: str, role: DeskRole) -> Browser:
    web_bridge.users.add(username, PASSWORD, None, role=role)
    browser = await web_bridge.browser()
    html = await (await browser.client.get("/desk/login")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "next": "/desk", "username": username, "password": PASSWORD}
    response = await browser.client.post("/desk/login", data=form, allow_redirects=False)
    assert response.status == 303
    return browser


@pytest.fixture
async def admin(web_bridge: Web, store: Store) -> Browser:
    """An admin's browser, signed in with a password, over the seeded database."""
    await seed(store)
    return await _signed_in(web_bridge, "ada", DeskRole.ADMIN)


async def test_admin_sees_figures_and_charts(admin: Browser) -> None:
    """The page shows the figures table and SVG charts whose bars name their values."""
    html = await admin.desk_page(f"/desk/reports?{PERIOD}")
    assert '<table id="report-table"' in html
    assert re.search(r'<svg id="chart-first-response" class="chart" role="img"', html)
    assert "<title>Roads &amp; Transport, 90th percentile: 7.6 h</title>" in html
    assert "<title>Roads &amp; Transport: 75%</title>" in html
    assert 'href="/desk/reports.csv?since=2026-01-01&amp;until=2026-01-08"' in html


async def test_admin_downloads_the_figures_as_csv(admin: Browser) -> None:
    """The CSV download has a header row and the same figures, as an attachment named by its period."""
    response = await admin.client.get(f"/desk/reports.csv?{PERIOD}")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "civic-bridge-report-2026-01-01-2026-01-08.csv" in response.headers["Content-Disposition"]
    roads = rows[0]
    assert (roads["department"], roads["first_response_hours_median"], roads["within_target_percent"]) == (
        "roads",
        "3.0",
        "75",
    )


async def test_case_list_links_admins_to_reports(admin: Browser) -> None:
    """An admin's case list links to the Reports page."""
    assert '<a href="/desk/reports">Reports</a>' in await admin.desk_page("/desk")


@pytest.mark.parametrize("path", ["/desk/reports", f"/desk/reports?{PERIOD}", f"/desk/reports.csv?{PERIOD}"])
async def test_staff_get_403_even_with_a_typed_url(web_bridge: Web, path: str) -> None:
    """A member of staff who types the page's or the CSV's URL is refused with 403 and no figures."""
    browser = await _signed_in(web_bridge, "grace", DeskRole.STAFF)
    response = await browser.client.get(path)
    body = await response.text()
    assert response.status == 403
    assert "Reports are for admins" in body
    assert "opened" not in body


async def test_staff_case_list_has_no_reports_link(web_bridge: Web) -> None:
    """Staff see no Reports link."""
    browser = await _signed_in(web_bridge, "grace", DeskRole.STAFF)
    assert "/desk/reports" not in await browser.desk_page("/desk")


async def test_strangers_are_sent_to_sign_in(web_bridge: Web) -> None:
    """Without a session, the CSV URL redirects to the sign-in page."""
    browser = await web_bridge.browser()
    response = await browser.client.get(f"/desk/reports.csv?{PERIOD}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/desk/login")


async def test_a_bad_date_is_explained_on_the_page(admin: Browser) -> None:
    """A date that is not YYYY-MM-DD answers 400 with the form and how to write it."""
    response = await admin.client.get("/desk/reports?since=2026-02-30&until=2026-03-01")
    html = await response.text()
    assert response.status == 400
    assert "From &#x27;2026-02-30&#x27; is not a date: write it as YYYY-MM-DD" in html
    assert 'value="2026-02-30"' in html


async def test_a_backwards_range_is_refused_for_the_csv(admin: Browser) -> None:
    """A CSV asked for with since after until answers 400 in plain text."""
    response = await admin.client.get("/desk/reports.csv?since=2026-02-01&until=2026-01-01")
    assert response.status == 400
    assert "must be before Until" in await response.text()


async def test_the_one_time_link_session_is_an_admin(staff: Browser) -> None:
    """The office's first sign-in (the one-time link, no users yet) may see the reports."""
    html = await staff.desk_page("/desk/reports")
    assert "<h1>Reports</h1>" in html
    assert "No cases were opened in this period." in html


async def test_each_csv_download_is_audited(admin: Browser, store: Store) -> None:
    """Downloading the CSV leaves an audit entry naming the admin (figures only: no reference, no text)."""
    await admin.client.get(f"/desk/reports.csv?{PERIOD}")

    async def read(tx: Tx) -> list[tuple[str, str, str | None]]:
        return [(a.actor, a.action, a.reference) for a in await audit_entries(tx, actor="ada")]

    assert ("ada", "report_download", None) in await store.read(read)
