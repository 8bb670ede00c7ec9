"""The desk's Reports page and CSV download, for admins: the report's figures, with SVG bar charts.

``WebDesk`` adds these routes behind its sign-in (``ReportPages.add_routes``); everyone who is not an
admin gets 403, whatever URL they type. The figures come from an injected ``ReportsReader``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.web import pages
from adapters.web.charts import Series, bar_chart
from adapters.web.security import protect
from bot.departments import Directory
from bot.privacy import AuditRecorder
from bot.reports.model import Period, PeriodError, Report, ReportsReader, period_of
from bot.reports.render import CSV_COLUMNS, HOURS_NOTE, as_csv, row_values

if TYPE_CHECKING:
    from adapters.web.desk import Staff

    Handler = Callable[[web.Request, Staff], Awaitable[web.StreamResponse]]
    Guard = Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]
    FrameOf = Callable[[Staff, str], pages.Frame]

e = pages.e
_FORBIDDEN = "Reports are for desk admins. Ask an admin to give you the admin role if you need them."
_TABLE = (
    ("Opened", "opened"),
    ("Closed", "closed"),
    ("First response, median (h)", "first_response_hours_median"),
    ("First response, 90th pct (h)", "first_response_hours_p90"),
    ("Resolution, median (h)", "resolution_hours_median"),
    ("Resolution, 90th pct (h)", "resolution_hours_p90"),
    ("Within target (%)", "within_target_percent"),
    ("Transferred", "transferred"),
    ("Chose from menu", "menu_chosen"),
    ("Ratings", "ratings"),
    ("Mean rating", "rating_mean"),
    ("Languages", "languages"),
    ("Platforms", "platforms"),
)
assert {key for _, key in _TABLE} <= set(CSV_COLUMNS)  # noqa: S101  # the table shows CSV columns only


def _html(body: str, *, status: int = 200) -> web.Response:
    response = web.Response(text=body, content_type="text/html", charset="utf-8", status=status)
    response.headers["Cache-Control"] = "no-store"
    protect(response)
    return response


class ReportPages:
    """``/desk/reports`` (figures and charts) and ``/desk/reports.csv`` (the same figures as CSV)."""

    def __init__(
        self, *, reader: ReportsReader, directory: Directory, zone: tzinfo, audit: AuditRecorder | None = None
    ) -> None:
        self._reader = reader
        self._directory = directory
        self._zone = zone
        self._audit = audit

    def add_routes(self, app: web.Application, *, guard: Guard, frame: FrameOf) -> None:
        """Add the two routes, each behind the desk's sign-in (``guard``) and the admin check."""
        self._frame = frame
        app.router.add_get("/desk/reports", guard(self._admin_only(self._page)))
        app.router.add_get("/desk/reports.csv", guard(self._admin_only(self._csv)))

    def _admin_only(self, handler: Handler) -> Handler:
        async def checked(request: web.Request, staff: Staff) -> web.StreamResponse:
            if not staff.admin:
                frame = self._frame(staff, "Not allowed")
                return _html(pages.message_page(frame, "Reports are for admins", _FORBIDDEN), status=403)
            return await handler(request, staff)

        return checked

    def _period(self, request: web.Request) -> Period:
        today = self._reader.today(self._zone)
        since, until = request.query.get("since") or None, request.query.get("until") or None
        return period_of(since, until, today=today, zone=self._zone, labels=("From", "Until"))

    async def _report(self, period: Period) -> Report:
        names = {str(d.key): d.name for d in self._directory.departments}
        return await self._reader.report(period, names)

    async def _page(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        frame = replace(self._frame(staff, "Reports"), page="reports")
        try:
            period = self._period(request)
        except PeriodError as error:
            since, until = request.query.get("since", ""), request.query.get("until", "")
            problem = f'<p class="notice error" role="alert">{e(error)}</p>'
            body = pages.layout(frame, _heading() + problem + _form(since, until))
            return _html(body, status=400)
        report = await self._report(period)
        return _html(pages.layout(frame, report_content(report)))

    async def _csv(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        try:
            period = self._period(request)
        except PeriodError as error:
            response = web.Response(text=f"{error}\n", content_type="text/plain", charset="utf-8", status=400)
            protect(response)
            return response
        report = await self._report(period)
        if self._audit is not None:
            await self._audit(staff.name, "report_download", None)
        response = web.Response(text=as_csv(report), content_type="text/csv", charset="utf-8")
        name = f"civic-bridge-report-{period.since}-{period.until}.csv"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Cache-Control"] = "no-store"
        protect(response)
        return response


def _heading() -> str:
    return '<link rel="stylesheet" href="/static/reports.css"><p><a href="/desk">← All cases</a></p><h1>Reports</h1>'


def _form(since: str, until: str) -> str:
    return (
        '<form method="get" action="/desk/reports" class="box period" aria-label="Report period">'
        '<div class="row"><label for="since">From</label>'
        f'<input id="since" name="since" type="date" value="{e(since)}" required>'
        '<label for="until">Until (first day not counted)</label>'
        f'<input id="until" name="until" type="date" value="{e(until)}" required>'
        '<button type="submit">Show</button></div></form>'
    )


def _table(report: Report) -> str:
    head = "".join(f'<th scope="col">{e(label)}</th>' for label, _ in _TABLE)
    rows = []
    for row in report.rows:
        values = row_values(row)
        cells = "".join(f"<td>{e(values[key] or '–')}</td>" for _, key in _TABLE)
        rows.append(f'<tr><th scope="row">{e(row.name)}</th>{cells}</tr>')
    return (
        '<div class="table-scroll"><table id="report-table" class="cases report">'
        "<caption>Figures per department and overall</caption>"
        f'<thead><tr><th scope="col">Department</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def _charts(report: Report) -> str:
    rows = [r for r in report.departments if r.figures.opened]
    if not rows:
        return '<p class="notice">No cases were opened in this period.</p>'
    labels = [r.name for r in rows]
    f = [r.figures for r in rows]
    overall = report.overall
    charts = [
        _figure(
            chart_id="chart-cases",
            title="Cases opened and closed",
            description="Per department, the cases opened in the period and how many of them are closed.",
            labels=labels,
            series=[Series("Opened", [x.opened for x in f]), Series("Closed", [x.closed for x in f])],
        ),
        _figure(
            chart_id="chart-first-response",
            title="First response time (wall-clock hours)",
            description="Per department, the median and 90th percentile of the hours to the first staff answer.",
            labels=labels,
            series=[
                Series("Median", [x.first_response.median for x in f]),
                Series("90th percentile", [x.first_response.p90 for x in f]),
            ],
            unit=" h",
            digits=1,
        ),
        _figure(
            chart_id="chart-resolution",
            title="Resolution time (wall-clock hours)",
            description="Per department, the median and 90th percentile of the hours until the case was closed.",
            labels=labels,
            series=[
                Series("Median", [x.resolution.median for x in f]),
                Series("90th percentile", [x.resolution.p90 for x in f]),
            ],
            unit=" h",
            digits=1,
        ),
        _figure(
            chart_id="chart-target",
            title="Answered within target (%)",
            description="Per department, the share of cases with an answer target whose first answer came in time.",
            labels=labels,
            series=[Series("Within target", [_percent(x.within_target_share) for x in f])],
            unit="%",
            scale_max=100.0,
        ),
        _figure(
            chart_id="chart-routing",
            title="Transfers and menu choices",
            description="Per department, cases staff transferred in (misroutes) and cases the citizen chose it for.",
            labels=labels,
            series=[
                Series("Transferred", [x.transferred for x in f]),
                Series("Chose from menu", [x.menu_chosen for x in f]),
            ],
        ),
        _counts_chart("chart-languages", "Languages", "Cases by the citizen's language.", overall.languages),
        _counts_chart(
            "chart-platforms", "Platforms", "Cases by the platform the citizen wrote from.", overall.platforms
        ),
    ]
    if overall.ratings.count:
        charts.append(
            _figure(
                chart_id="chart-ratings",
                title=f"Ratings (mean {overall.ratings.mean:.2f} of {overall.ratings.count})",
                description="How many citizens gave each score from 1 to 5.",
                labels=[str(score) for score in range(1, 6)],
                series=[Series("Ratings", list(overall.ratings.distribution))],
            )
        )
    else:
        charts.append('<p class="muted">No ratings in this period.</p>')
    return "".join(charts)


def _figure(**chart: Any) -> str:  # noqa: ANN401  # bar_chart's keyword arguments
    """A chart with its title shown above it (the SVG's own title names it for screen readers)."""
    caption = f'<figcaption aria-hidden="true">{e(chart["title"])}</figcaption>'
    return f'<figure class="chart-box">{caption}{bar_chart(**chart)}</figure>'


def _percent(share: float | None) -> float | None:
    return None if share is None else share * 100


def _counts_chart(chart_id: str, title: str, description: str, counts: tuple[tuple[str, int], ...]) -> str:
    return _figure(
        chart_id=chart_id,
        title=title,
        description=description,
        labels=[key for key, _ in counts],
        series=[Series("Cases", [n for _, n in counts])],
    )


def report_content(report: Report) -> str:
    """The page's content: the period form, the CSV link, the figures table and the charts."""
    period = report.period
    query = f"since={period.since}&amp;until={period.until}"
    return (
        f"{_heading()}{_form(period.since.isoformat(), period.until.isoformat())}"
        f'<p class="muted">Cases opened from {e(period.since)} up to, not including, {e(period.until)} '
        f"({e(period.zone_name)}). {e(HOURS_NOTE)}</p>"
        f'<p><a id="csv-download" href="/desk/reports.csv?{query}" download>Download CSV</a></p>'
        f"{_table(report)}"
        f'<section aria-labelledby="charts-title"><h2 id="charts-title">Charts</h2>{_charts(report)}</section>'
    )
