"""The desk's Consultations pages: list, create, close, results with a bar chart, live refresh and CSV export.

``WebDesk`` adds these routes behind its sign-in (``ConsultationPages.add_routes``). Staff see and act on
their departments' consultations only (admins, a desk user with no department list and the one-time
link's session see every department's); any other id answers 404, whatever URL is typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

from aiohttp import web

from adapters.web import pages
from adapters.web.charts import Series, bar_chart
from adapters.web.security import protect, same
from bot.consultations.live_results import results_reference
from bot.consultations.model import BroadcastKind, Consultation, ConsultationError, Results
from bot.consultations.publishing import Draft, StaffConsultations, options_from_lines
from bot.departments import Department, Directory
from bot.privacy import AuditRecorder

if TYPE_CHECKING:
    from adapters.web.desk import Staff

    Handler = Callable[[web.Request, Staff], Awaitable[web.StreamResponse]]
    Guard = Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]
    FrameOf = Callable[[Staff, str], pages.Frame]
    Stream = Callable[[web.Request, Staff, tuple[str, ...]], Awaitable[web.StreamResponse]]

e = pages.e
#: The link every desk page's header bar shows: (path, label).
NAV_LINK = ("/desk/consultations", "Consultations")
PATH = "/desk/consultations"
_ID = r"{id:\d+}"
_DONE = {"announced": '<p class="notice" role="status">The announcement was sent to the subscribers.</p>'}


def _html(body: str, *, status: int = 200) -> web.Response:
    response = web.Response(text=body, content_type="text/html", charset="utf-8", status=status)
    response.headers["Cache-Control"] = "no-store"
    protect(response)
    return response


def _redirect(location: str) -> web.Response:
    response = web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
    protect(response)
    return response


def _field(form: object, name: str) -> str:
    value = form.get(name) if hasattr(form, "get") else None
    return value if isinstance(value, str) else ""


class ConsultationPages:
    """``/desk/consultations`` and below, reading and publishing through an injected ``StaffConsultations``."""

    def __init__(
        self,
        *,
        consultations: StaffConsultations,
        directory: Directory,
        zone: tzinfo,
        audit: AuditRecorder | None = None,
    ) -> None:
        self._consultations = consultations
        self._directory = directory
        self._zone = zone
        self._audit = audit

    def add_routes(self, app: web.Application, *, guard: Guard, frame: FrameOf, stream: Stream) -> None:
        """Add the pages, each behind the desk's sign-in (``guard``)."""
        self._frame = frame
        self._stream = stream
        app.router.add_get(PATH, guard(self._list))
        app.router.add_post(PATH, guard(self._create))
        app.router.add_get(f"{PATH}/events", guard(self._events))
        app.router.add_get(f"{PATH}/{_ID}", guard(self._results))
        app.router.add_get(f"{PATH}/{_ID}.csv", guard(self._csv))
        app.router.add_post(f"{PATH}/{_ID}/close", guard(self._close))

    # --- whose ------------------------------------------------------------------------------

    def _departments(self, staff: Staff) -> list[Department]:
        """Every department this person works for (in Slack or on the desk)."""
        every = staff.admin or staff.departments is None
        return [d for d in self._directory.departments if every or d.key in (staff.departments or ())]

    def _keys(self, staff: Staff) -> set[str] | None:
        return None if staff.admin or staff.departments is None else {str(d.key) for d in self._departments(staff)}

    async def _found(self, request: web.Request, staff: Staff) -> Consultation | None:
        return await self._consultations.one(int(request.match_info["id"]), self._keys(staff))

    def _not_found(self, staff: Staff) -> web.Response:
        text = "There is no consultation with this number among your departments'."
        return _html(pages.message_page(self._frame(staff, "Not found"), "Not found", text), status=404)

    # --- pages ------------------------------------------------------------------------------

    async def _list(self, request: web.Request, staff: Staff, problem: str = "", status: int = 200) -> web.Response:
        frame = replace(self._frame(staff, "Consultations"), page="consultations")
        departments = self._departments(staff)
        listed = await self._consultations.listed(self._keys(staff))
        notice = _DONE.get(request.query.get("done") or "", "")
        if problem:
            notice = f'<p class="notice error" role="alert">{e(problem)}</p>'
        content = (
            '<p><a href="/desk">← All cases</a></p><h1>Consultations and announcements</h1>'
            f"{notice}{_table(listed, self._directory, self._zone)}"
            f"{_form(departments, staff.csrf) if departments else ''}"
        )
        return _html(pages.layout(frame, content), status=status)

    async def _create(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        form = await request.post()
        if not same(_field(form, "csrf"), staff.csrf):
            return _html(pages.message_page(self._frame(staff, "Refused"), "Refused", "The form expired."), status=403)
        department = _field(form, "department")
        if department not in {d.key for d in self._departments(staff)}:
            return await self._list(request, staff, "Choose one of your departments.", 403)
        try:
            closes_on = date.fromisoformat(_field(form, "closes_on")) if _field(form, "closes_on") else None
            draft = Draft(
                kind=BroadcastKind(_field(form, "kind") or BroadcastKind.CONSULTATION.value),
                text=_field(form, "text"),
                options=options_from_lines(_field(form, "options")),
                free_text=_field(form, "free_text") == "on",
                closes_on=closes_on,
                show_who_answered=_field(form, "show_who") == "on",
            )
            created = await self._consultations.publish(department=department, draft=draft, actor=f"desk:{staff.name}")
        except (ConsultationError, ValueError) as error:
            return await self._list(request, staff, str(error), 400)
        if created.kind is BroadcastKind.ANNOUNCEMENT:
            return _redirect(f"{PATH}?done=announced")
        return _redirect(f"{PATH}/{created.id}")

    async def _results(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        found = await self._found(request, staff)
        if found is None:
            return self._not_found(staff)
        results = await self._consultations.results(found.id)
        frame = replace(
            self._frame(staff, f"Consultation #{found.id}"), page="consultation", reference=results_reference(found.id)
        )
        return _html(pages.layout(frame, results_content(results, self._directory, self._zone, staff.csrf)))

    async def _events(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        return await self._stream(request, staff, tuple(f"desk:{d.key}" for d in self._departments(staff)))

    async def _close(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        form = await request.post()
        found = await self._found(request, staff)
        if found is None:
            return self._not_found(staff)
        if not same(_field(form, "csrf"), staff.csrf):
            return _html(pages.message_page(self._frame(staff, "Refused"), "Refused", "The form expired."), status=403)
        try:
            await self._consultations.close(found.id, actor=f"desk:{staff.name}")
        except ConsultationError as error:
            return _html(pages.message_page(self._frame(staff, "Not closed"), "Not closed", str(error)), status=400)
        return _redirect(f"{PATH}/{found.id}")

    async def _csv(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        found = await self._found(request, staff)
        if found is None:
            return self._not_found(staff)
        results = await self._consultations.results(found.id)
        if self._audit is not None:
            await self._audit(staff.name, "consult_download", results_reference(found.id))
        response = web.Response(text=as_csv(results), content_type="text/csv", charset="utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="consultation-{found.id}.csv"'
        response.headers["Cache-Control"] = "no-store"
        protect(response)
        return response


def as_csv(results: Results) -> str:
    """One row per option (its count), then one per free-text answer; ``who`` only when the consultation shows it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["consultation", "kind", "option", "label", "count", "text", "answered_at", "who"])
    number = results.consultation.id
    for option in results.counts:
        writer.writerow([number, "option", option.number, option.label, option.count, "", "", ""])
    for answer in results.texts:
        writer.writerow([number, "text", "", "", "", answer.text, answer.answered_at.isoformat(), answer.who or ""])
    for voter in results.voters:
        label = results.consultation.options[voter.option - 1]
        writer.writerow([number, "vote", voter.option, label, "", "", "", voter.who])
    return out.getvalue()


def _when(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment is not None else "–"


def _state(consultation: Consultation) -> str:
    if consultation.sending:
        return "sending"
    if consultation.kind is BroadcastKind.ANNOUNCEMENT:
        return "sent"
    return "closed" if consultation.closed_at is not None else "open"


def _table(listed: list[Consultation], directory: Directory, zone: tzinfo) -> str:
    if not listed:
        return '<p class="muted" id="consultation-list">Nothing was published yet.</p>'
    rows = []
    for c in listed:
        name = directory.get(c.department)
        text = c.text if len(c.text) <= 80 else c.text[:79] + "…"  # noqa: PLR2004  # a list line
        link = f'<a href="{PATH}/{c.id}">{e(text)}</a>' if c.kind is BroadcastKind.CONSULTATION else e(text)
        rows.append(
            f"<tr><td>#{c.id}</td><td>{e(c.kind.value)}</td><td>{e(name.name if name else c.department)}</td>"
            f"<td>{link}</td><td>{e(_state(c))}</td><td>{c.recipients}</td><td>{e(_when(c.created_at, zone))}</td></tr>"
        )
    head = "".join(
        f'<th scope="col">{h}</th>' for h in ("No.", "Kind", "Department", "Text", "State", "Sent to", "Sent")
    )
    return (
        '<div class="table-scroll"><table id="consultation-list" class="cases">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _form(departments: list[Department], csrf: str) -> str:
    choices = "".join(f'<option value="{e(d.key)}">{e(d.name)}</option>' for d in departments)
    return (
        f'<form method="post" action="{PATH}" class="box" aria-labelledby="new-title">'
        '<h2 id="new-title">Ask or announce</h2>'
        f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        '<p><label for="department">Department</label> '
        f'<select id="department" name="department">{choices}</select></p>'
        "<fieldset><legend>What</legend>"
        '<label><input type="radio" name="kind" value="consultation" checked> Consultation (a question)</label> '
        '<label><input type="radio" name="kind" value="announcement"> Announcement (a notice)</label></fieldset>'
        '<p><label for="text">Question or notice</label><br>'
        '<textarea id="text" name="text" rows="3" maxlength="1500" required></textarea></p>'
        '<p><label for="options">Options, one per line (two or more; empty for free text or an announcement)</label>'
        '<br><textarea id="options" name="options" rows="4"></textarea></p>'
        '<p><label><input type="checkbox" name="free_text"> Answers are free text</label> '
        '<label><input type="checkbox" name="show_who"> Results show who answered what</label></p>'
        '<p><label for="closes_on">Last day to answer (optional)</label> '
        '<input id="closes_on" name="closes_on" type="date"></p>'
        '<p><button type="submit">Send to subscribers</button></p></form>'
    )


def results_content(results: Results, directory: Directory, zone: tzinfo, csrf: str) -> str:
    """The results page: facts, the close button, the chart, the free-text answers (in a live region)."""
    c = results.consultation
    department = directory.get(c.department)
    close = ""
    if c.closed_at is None:
        close = (
            f'<form method="post" action="{PATH}/{c.id}/close" class="inline">'
            f'<input type="hidden" name="csrf" value="{e(csrf)}"><button type="submit">Close now</button></form>'
        )
    closes = _when(c.closes_at, zone) if c.closes_at else "when closed"
    facts = (
        f'<p class="muted">{e(department.name if department else c.department)} · sent to {c.recipients} · '
        f"answers until {e(closes)} · {e(_state(c))}</p>"
    )
    chart = ""
    if c.options:
        chart = bar_chart(
            chart_id="chart-results",
            title="Answers per option",
            description=f"How many chose each option of consultation {c.id}.",
            labels=[f"{o.number}. {o.label}" for o in results.counts],
            series=[Series("Answers", [o.count for o in results.counts])],
        )
    texts = "".join(
        f"<li>{e(t.text)}{f' <span class=muted>({e(t.who)})</span>' if t.who else ''}</li>" for t in results.texts
    )
    voters = "".join(f"<li>{e(v.who)}: {e(c.options[v.option - 1])}</li>" for v in results.voters)
    return (
        f'<p><a href="{PATH}">← All consultations</a></p><h1>Consultation #{c.id}</h1>'
        f"<p><strong>{e(c.text)}</strong></p>{facts}{close}"
        f'<p><a id="csv-download" href="{PATH}/{c.id}.csv" download>Download CSV</a></p>'
        f'<section id="consultation-results" aria-live="polite"><h2>Results</h2>'
        f'<p id="answered">Answers: {results.answered}</p>{chart}'
        f"{f'<h3>Free-text answers</h3><ul id=free-texts>{texts}</ul>' if texts else ''}"
        f"{f'<h3>Who answered what</h3><ul>{voters}</ul>' if voters else ''}</section>"
    )
