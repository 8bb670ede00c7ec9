"""The desk's inbox page: views with counts, a department filter, search, and the list of cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from urllib.parse import urlencode

from adapters.web.pages import Frame, e, layout, status_text, when
from bot.departments import Department
from bot.model import Case
from bot.speech import spoken_language
from bot.views import CaseSummary, Inbox, InboxView

#: The longest search the desk accepts (longer text is cut).
MAX_SEARCH_CHARS = 200
_LABELS = {
    InboxView.OPEN: "All open",
    InboxView.MINE: "Mine",
    InboxView.UNASSIGNED: "Unassigned",
    InboxView.OVERDUE: "Overdue",
    InboxView.CLOSED: "Closed",
}
_EMPTY = {
    InboxView.OPEN: "No open cases.",
    InboxView.MINE: "You handle no open case. Claim one to see it here.",
    InboxView.UNASSIGNED: "Every open case has someone handling it.",
    InboxView.OVERDUE: "No case is waiting past its answer time.",
    InboxView.CLOSED: "No closed cases.",
}


@dataclass(frozen=True, slots=True)
class InboxChoice:
    """What the inbox URL asks for: ``/desk?view=mine&department=roads&q=pothole``."""

    view: InboxView = InboxView.OPEN
    department: str | None = None
    search: str = ""

    @classmethod
    def parse(cls, query: Mapping[str, str], departments: Sequence[Department], *, overdue_shown: bool) -> InboxChoice:
        """The choice in a request's query string; anything unknown falls back to the default."""
        try:
            view = InboxView(query.get("view", InboxView.OPEN.value))
        except ValueError:
            view = InboxView.OPEN
        if view is InboxView.OVERDUE and not overdue_shown:
            view = InboxView.OPEN
        department = query.get("department") or None
        if department not in {d.key for d in departments}:
            department = None
        search = " ".join(query.get("q", "").split())[:MAX_SEARCH_CHARS]
        return cls(view, department, search)

    def link(self, *, view: InboxView | None = None, department: str | bool | None = False) -> str:
        """The URL of this choice with the view and/or department changed (``department=None``: every department)."""
        chosen = self.department if department is False else department
        params = {"view": (view or self.view).value}
        if isinstance(chosen, str):
            params["department"] = chosen
        if self.search:
            params["q"] = self.search
        return "/desk?" + urlencode(params)


def inbox_page(  # each is a distinct part of the page
    frame: Frame,
    departments: Sequence[Department],
    inbox: Inbox,
    choice: InboxChoice,
    *,
    overdue_shown: bool,
    message: str = "",
) -> str:
    """The desk's front page."""
    if not departments:
        content = (
            f"<h1>Cases</h1>{message}"
            '<p class="notice">No department answers on this desk for you. Departments answer here when the '
            "routing file says <code>desk: web</code> for them, and your desk user is allowed to see them.</p>"
        )
        return layout(frame, content)
    views = [v for v in InboxView if v is not InboxView.OVERDUE or overdue_shown]
    content = (
        f"<h1>Cases</h1>{message}{_search_form(choice)}"
        f'<div id="case-list">{_view_nav(views, inbox, choice)}{_department_nav(departments, inbox, choice)}'
        f"{_results(departments, inbox, choice, frame.zone)}</div>"
    )
    return layout(frame, content)


def _search_form(choice: InboxChoice) -> str:
    department = f'<input type="hidden" name="department" value="{e(choice.department)}">' if choice.department else ""
    clear = f'<a href="{e(InboxChoice(choice.view, choice.department).link())}">Clear search</a>'
    return (
        '<form method="get" action="/desk" role="search" class="search">'
        f'<input type="hidden" name="view" value="{e(choice.view.value)}">{department}'
        '<label for="search">Search cases</label>'
        f'<input id="search" name="q" type="search" value="{e(choice.search)}" maxlength="{MAX_SEARCH_CHARS}" '
        'aria-describedby="search-hint">'
        '<button type="submit">Search</button>'
        f"{clear if choice.search else ''}"
        '<p id="search-hint" class="hint">A case reference, words from a message, or a citizen\'s name or '
        "platform id (<code>telegram:12345</code>).</p></form>"
    )


def _view_nav(views: Sequence[InboxView], inbox: Inbox, choice: InboxChoice) -> str:
    current = ' aria-current="page"'
    items = "".join(
        f'<li><a href="{e(choice.link(view=view))}" data-view="{view.value}"'
        f"{current if view is choice.view else ''}>"
        f'{e(_LABELS[view])} <span class="count">{inbox.counts.get(view, 0)}</span></a></li>'
        for view in views
    )
    return f'<nav class="views" aria-label="Inbox views"><ul>{items}</ul></nav>'


def _department_nav(departments: Sequence[Department], inbox: Inbox, choice: InboxChoice) -> str:
    if len(departments) < 2:  # noqa: PLR2004  # one department needs no filter
        return ""
    everyone = sum(inbox.per_department.values())
    current = ' aria-current="true"'
    every = (
        f'<li><a href="{e(choice.link(department=None))}"{current if choice.department is None else ""}>'
        f'All departments <span class="count">{everyone}</span></a></li>'
    )
    items = [every]
    items.extend(
        f'<li><a href="{e(choice.link(department=d.key))}" data-department="{e(d.key)}"'
        f"{current if choice.department == d.key else ''}>"
        f'{e(d.name)} <span class="count">{inbox.per_department.get(d.key, 0)}</span></a></li>'
        for d in departments
    )
    return f'<nav class="departments" aria-label="Departments (open cases)"><ul>{"".join(items)}</ul></nav>'


def _results(departments: Sequence[Department], inbox: Inbox, choice: InboxChoice, zone: tzinfo) -> str:
    names: dict[str, str] = {d.key: d.name for d in departments}
    label = _LABELS[choice.view]
    where = f" of {names[choice.department]}" if choice.department else ""
    if choice.search:
        found = len(inbox.rows)
        heading = f"{found} {'case' if found == 1 else 'cases'} matching “{choice.search}” in {label}{where}"
    else:
        heading = f"{label}{where}"
    if not inbox.rows:
        empty = "No case matches your search." if choice.search else _EMPTY[choice.view]
        return f'<h2 id="results-title">{e(heading)}</h2><p class="muted" id="no-cases">{e(empty)}</p>'
    return f'<h2 id="results-title">{e(heading)}</h2>{case_table(heading, inbox.rows, names, zone)}'


def case_table(caption: str, rows: Sequence[CaseSummary], names: Mapping[str, str], zone: tzinfo) -> str:
    """The inbox's table of cases."""
    body = "".join(_row(s, names, zone) for s in rows)
    return (
        f'<table class="cases" aria-describedby="results-title"><caption class="visually-hidden">{e(caption)}</caption>'
        '<thead><tr><th scope="col">Case</th><th scope="col">Department</th><th scope="col">Citizen</th>'
        '<th scope="col">Status</th><th scope="col">Handled by</th><th scope="col">Last activity</th>'
        f'<th scope="col">Latest message</th></tr></thead><tbody>{body}</tbody></table>'
    )


def _row(s: CaseSummary, names: Mapping[str, str], zone: tzinfo) -> str:
    citizen = s.citizen
    late = '<span class="status overdue">Overdue</span>' if s.overdue else ""
    department = names.get(s.case.department or "", s.case.department or "—")
    return (
        f'<tr data-reference="{e(s.case.reference)}">'
        f'<th scope="row"><a href="/desk/case/{e(s.case.reference)}">{e(s.case.reference)}</a></th>'
        f"<td>{e(department)}</td>"
        f"<td>{e(citizen.display_name if citizen else '?')}"
        f'<span class="muted"> · {e(citizen.platform if citizen else "")}'
        f" · {e(spoken_language(citizen, s.case) or '?')}</span></td>"
        f'<td><span class="status status-{e(s.case.status.value)}{" awaiting" if s.awaiting_reply else ""}">'
        f"{e(status_text(s.case.status, awaiting=s.awaiting_reply))}</span> {late}</td>"
        f"<td>{e(s.case.claimed_by or '—')}</td>"
        f"<td>{e(when(s.case.updated_at, zone))}</td>"
        f"<td>{e(_snippet(s.last_text))}</td>"
        "</tr>"
    )


def _snippet(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def earlier_cases(cases: Sequence[Case], names: Mapping[str, str], zone: tzinfo, *, hidden: int) -> str:
    """The citizen's other cases beside the open one: those this user may see, linked, and how many others."""
    if not cases and not hidden:
        return ""
    items = "".join(
        f'<li><a href="/desk/case/{e(c.reference)}">{e(c.reference)}</a> '
        f'<span class="status status-{e(c.status.value)}">{e(status_text(c.status))}</span>'
        f'<span class="muted"> · {e(names.get(c.department or "", c.department or "—"))} · '
        f"{e(when(c.created_at, zone))}</span></li>"
        for c in cases
    )
    more = f'<p class="muted">{hidden} more in departments you do not work for.</p>' if hidden else ""
    listed = f'<ul class="earlier">{items}</ul>' if items else ""
    return (
        '<aside id="earlier-cases" class="box earlier-cases" aria-labelledby="earlier-title">'
        f'<h2 id="earlier-title">This citizen\'s other cases</h2>{listed}{more}</aside>'
    )
