"""The desk's HTML, rendered on the server. Every piece of text passes through ``e`` (HTML escaping)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from html import escape

from bot.departments import Department
from bot.language import text_direction
from bot.model import CaseStatus, Direction, Message, Translation
from bot.notes import without_note_mark
from bot.ratings import Rating
from bot.saved_answers import SavedAnswer
from bot.speech import language_label, spoken_language
from bot.views import CaseView

#: Notices a redirect may ask a page to show (only these: nothing from the URL is echoed).
NOTICES = {
    "reply": "Your reply was sent to the citizen.",
    "note": "Your internal note was saved. The citizen does not see it.",
    "close": "The case is closed. The citizen was told.",
    "reopen": "The case is open again. The citizen was told.",
    "claim": "You are now handling this case. The citizen was told.",
    "transfer": "The case was transferred.",
    "erase": "Done: the case is erased if the citizen asked for it; the thread says which.",
    "keep": "Done: the citizen is told the case is kept, and why, if they asked for erasure.",
    "answer": "The saved answer was sent to the citizen (in their language when it has it).",
}
ERRORS = {
    "empty": "Write something before sending.",
    "too_long": "That text is too long. Please send it in shorter parts.",
    "not_ready": "This case is still being set up. Try again in a moment.",
    "unknown_action": "That action is not known.",
    "no_department": "Choose the department to transfer the case to.",
    "no_reason": "Write the reason the case is kept: the citizen is told it.",
    "no_answer": "Choose the saved answer to send.",
}


def e(text: object) -> str:
    """Escape text for HTML content and attribute values."""
    return escape(str(text), quote=True)


def when(moment: datetime, zone: tzinfo = UTC) -> str:
    """A timestamp as staff read it: in the office time zone (routing file ``timezone``), to the minute."""
    local = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or zone}"


@dataclass(frozen=True, slots=True)
class Frame:
    """What every desk page shows around its content."""

    title: str
    user: str | None = None
    banner: str | None = None
    csrf: str | None = None
    page: str = "desk"
    reference: str | None = None
    #: The office time zone the page's times are shown in.
    zone: tzinfo = UTC
    #: The signed-in user is an admin: the bar links to the reports.
    admin: bool = False
    #: More sections in the bar, as (path, label): the desk's other pages.
    links: tuple[tuple[str, str], ...] = ()


def _header(frame: Frame) -> str:
    """The bar on every page: the desk's name, its sections for a signed-in user, who is signed in, sign out."""
    if frame.user is None:
        return '<header class="bar"><p class="brand"><a href="/desk">Civic desk</a></p></header>'
    sections = [("Inbox", "/desk", frame.page in {"list", "case"})]
    sections.extend((label, path, frame.page == path.rsplit("/", 1)[-1]) for path, label in frame.links)
    if frame.admin:
        sections.append(("Reports", "/desk/reports", frame.page == "reports"))
    current_mark = ' aria-current="page"'
    links = "".join(
        f'<li><a href="{href}"{current_mark if current else ""}>{e(name)}</a></li>' for name, href, current in sections
    )
    logout = ""
    if frame.csrf is not None:
        logout = (
            '<form method="post" action="/desk/logout" class="sign-out">'
            f'<input type="hidden" name="csrf" value="{e(frame.csrf)}">'
            '<button type="submit" class="link">Sign out</button></form>'
        )
    role = '<span class="role">admin</span>' if frame.admin else ""
    return (
        '<header class="bar signed-in"><p class="brand"><a href="/desk">Civic desk</a></p>'
        f'<nav class="sections" aria-label="Desk"><ul>{links}</ul></nav>'
        f'<div class="account"><span class="who">Signed in as <strong>{e(frame.user)}</strong>{role}</span>'
        f"{logout}</div></header>"
    )


def layout(frame: Frame, content: str) -> str:
    """A whole desk page."""
    banner = f'<p class="banner" role="note">{e(frame.banner)}</p>' if frame.banner else ""
    reference = f' data-reference="{e(frame.reference)}"' if frame.reference else ""
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(frame.title)} · Civic desk</title>\n"
        '<link rel="stylesheet" href="/static/civic.css">\n'
        '<script src="/static/desk.js" defer></script>\n'
        f'</head>\n<body class="desk" data-page="{e(frame.page)}"{reference}>\n'
        '<a class="skip" href="#main">Skip to the content</a>\n'
        f"{_header(frame)}\n{banner}\n"
        f'<main id="main" tabindex="-1">\n{content}\n</main>\n'
        '<p id="live-note" class="visually-hidden" role="status" aria-live="polite"></p>\n'
        "</body>\n</html>\n"
    )


def notice(done: str | None, error: str | None) -> str:
    """The confirmation or error a redirect asked for."""
    if error in ERRORS:
        return f'<p class="notice error" role="alert">{e(ERRORS[error])}</p>'
    if done in NOTICES:
        return f'<p class="notice" role="status">{e(NOTICES[done])}</p>'
    return ""


def status_text(status: CaseStatus, *, awaiting: bool = False) -> str:
    """A case's status as staff read it."""
    label = {CaseStatus.OPEN: "Open", CaseStatus.PENDING: "Waiting for the citizen", CaseStatus.CLOSED: "Closed"}
    return label[status] + (" · awaiting reply" if awaiting else "")


def _message_item(message: Message, language: str | None = None, zone: tzinfo = UTC) -> str:
    """One message of the conversation; a citizen's carries their language and its direction (lang, dir)."""
    labels = {
        Direction.CITIZEN: ("citizen", message.author),
        Direction.STAFF: ("staff", message.author),
        Direction.NOTE: ("note", f"Internal note · {message.author}"),
        Direction.SYSTEM: ("system", "Bridge"),
    }
    css, who = labels[message.direction]
    text = message.text
    if message.direction is Direction.NOTE:
        text = without_note_mark(text)  # the label already says it is a note
    extra = ""
    if message.direction is Direction.STAFF:
        extra = (
            '<span class="delivered">delivered</span>'
            if message.delivered_id
            else '<span class="muted">sending…</span>'
        )
    files = "".join(f"<li>{e(a.name)} ({a.size} bytes)</li>" for a in message.attachments)
    files = f'<ul class="files" aria-label="Attachments">{files}</ul>' if files else ""
    spoken = ""
    if message.direction is Direction.CITIZEN and language:
        spoken = f' lang="{e(language)}" dir="{text_direction(language)}"'
    return (
        f'<li class="msg msg-{css}"{spoken}><p class="who">{e(who)} '
        f'<time datetime="{e(message.created_at.isoformat())}">{e(when(message.created_at, zone))}</time> {extra}</p>'
        f'<p class="text">{e(text)}</p>{translation_note(message.direction, message.translation)}{files}</li>'
    )


def translation_note(direction: Direction, translation: Translation | None) -> str:
    """A message's machine translation under it (staff replies: what the citizen was sent), or why there is none."""
    if translation is None:
        return ""
    languages = f"{translation.source} → {translation.target}"
    if translation.text is not None:
        label = "Sent to the citizen as" if direction is Direction.STAFF else "Translation"
        return (
            f'<p class="translation"><span class="muted">{e(label)} ({e(languages)}):</span> '
            f'<span lang="{e(translation.target)}">{e(translation.text)}</span></p>'
        )
    after = " The citizen got the reply as written." if direction is Direction.STAFF else ""
    return f'<p class="translation muted">Translation unavailable: {e(translation.error or "")}.{after}</p>'


@dataclass(frozen=True, slots=True)
class CaseForms:
    """What the case page lets this user do."""

    csrf: str
    event_id: str
    can_act: bool
    departments: Sequence[Department]
    #: The saved answers this case's department may send (the picker).
    answers: Sequence[SavedAnswer] = ()
    #: The case is already claimed by this user: no Claim button.
    claimed_by_you: bool = False


def case_page(  # each is a distinct part of the page
    frame: Frame, view: CaseView, department: Department, forms: CaseForms, message: str, *, aside: str = ""
) -> str:
    """One case: its facts, the whole conversation, the reply, note and action forms, and ``aside`` beside them."""
    case = view.case
    citizen = view.citizen
    language = spoken_language(citizen, case)
    facts = (
        '<dl id="case-facts" class="facts">'
        f"<dt>Department</dt><dd>{e(department.name)}</dd>"
        f'<dt>Status</dt><dd><span class="status status-{e(case.status.value)}">'
        f"{e(status_text(case.status))}</span></dd>"
        f"<dt>Handled by</dt><dd>{e(case.claimed_by or 'nobody yet')}</dd>"
        f"<dt>Citizen</dt><dd>{e(citizen.display_name if citizen else '?')} "
        f'<span class="muted">({e(citizen.platform if citizen else "?")})</span></dd>'
        f"<dt>Language</dt><dd>{e(language_label(language))}</dd>"
        f"<dt>Opened</dt><dd>{e(when(case.created_at, frame.zone))}</dd>"
        f"{_follows(view.previous_reference)}"
        f"{_due(case.answer_due_at, case.status, frame.zone, overdue=case.overdue)}"
        f"{_rating(view.rating)}"
        "</dl>"
    )
    conversation = "".join(_message_item(m, language, frame.zone) for m in view.messages)
    parts = [
        facts,
        '<section aria-labelledby="conversation-title"><h2 id="conversation-title">Conversation</h2>',
        f'<ol id="conversation" class="messages">{conversation}</ol></section>',
    ]
    if forms.can_act:
        parts.append(_forms(case.reference, case.status, forms))
    else:
        parts.append('<p class="notice">This case is handled outside the desk; you can read it only.</p>')
    head = f'<p><a href="/desk">← All cases</a></p><h1>Case {e(case.reference)}</h1>{message}'
    beside = " with-aside" if aside else ""
    body = f'<div class="case-layout{beside}"><div class="case-main">{"".join(parts)}</div>{aside}</div>'
    return layout(frame, head + body)


def _due(due: datetime | None, status: CaseStatus, zone: tzinfo, *, overdue: bool = False) -> str:
    """While an answer is due: ``Answer due by 2026-01-09 14:00 UTC``, or ``Answer overdue`` once late."""
    if due is None or status is CaseStatus.CLOSED:
        return ""
    if overdue:
        return f'<dt>Answer overdue</dt><dd id="answer-due" class="overdue">was due by {e(when(due, zone))}</dd>'
    return f'<dt>Answer due by</dt><dd id="answer-due">{e(when(due, zone))}</dd>'


def _rating(rating: Rating | None) -> str:
    """The citizen's satisfaction rating of a closed case: asked, or the score and their comment."""
    if rating is None:
        return ""
    if rating.score is None:
        return '<dt>Rating</dt><dd id="rating" class="muted">asked, not rated yet</dd>'
    comment = f" · “{e(rating.comment)}”" if rating.comment else ""
    return f'<dt>Rating</dt><dd id="rating">{rating.score} out of 5{comment}</dd>'


def _answer_picker(action: str, forms: CaseForms) -> str:
    """The saved-answers picker: sends the chosen answer in the citizen's language (else the office's)."""
    if not forms.answers:
        return ""
    options = "".join(f'<option value="{e(a.key)}">{e(a.title)} ({e(a.key)})</option>' for a in forms.answers)
    return (
        f'<form method="post" action="{action}" class="box answer">{_hidden(forms)}'
        '<label for="saved-answer">Saved answer</label>'
        f'<select id="saved-answer" name="answer" required><option value="">Choose an answer…</option>{options}'
        '</select><p class="hint">Sent in the citizen\'s language when the answer has it, '
        "else in the office language; the reference and names are filled in.</p>"
        '<button type="submit" name="do" value="answer" class="secondary">Send saved answer</button></form>'
    )


def _hidden(forms: CaseForms) -> str:
    return (
        f'<input type="hidden" name="csrf" value="{e(forms.csrf)}">'
        f'<input type="hidden" name="event_id" value="{e(forms.event_id)}">'
    )


def _follows(previous: str | None) -> str:
    """The facts row linking a follow-up case to the case it follows."""
    if previous is None:
        return ""
    return f'<dt>Follows up</dt><dd><a href="/desk/case/{e(previous)}">{e(previous)}</a></dd>'


def _forms(reference: str, status: CaseStatus, forms: CaseForms) -> str:
    action = f"/desk/case/{e(reference)}"
    closed_hint = (
        '<p class="hint">This case is closed: the citizen still receives your reply.</p>'
        if status is CaseStatus.CLOSED
        else ""
    )
    reply = (
        f'<form method="post" action="{action}" class="box reply">{_hidden(forms)}'
        '<input type="hidden" name="do" value="reply">'
        '<label for="reply-text">Reply to the citizen</label>'
        f'<textarea id="reply-text" name="text" rows="4" required aria-describedby="reply-hint"></textarea>'
        '<p id="reply-hint" class="hint">Sent to the citizen, signed with the department\'s name. Ctrl+Enter sends.</p>'
        f'{closed_hint}<button type="submit">Send reply</button></form>'
    )
    note = (
        f'<form method="post" action="{action}" class="box note">{_hidden(forms)}'
        '<input type="hidden" name="do" value="note">'
        '<label for="note-text">Internal note</label>'
        '<textarea id="note-text" name="text" rows="2" required aria-describedby="note-hint"></textarea>'
        '<p id="note-hint" class="hint">Only staff see notes. The citizen never does.</p>'
        '<button type="submit" class="secondary">Save note</button></form>'
    )
    toggle = (
        '<button type="submit" name="do" value="reopen" class="secondary">Reopen case</button>'
        if status is CaseStatus.CLOSED
        else '<button type="submit" name="do" value="close" class="secondary">Close case</button>'
    )
    claim = (
        ""
        if forms.claimed_by_you
        else '<button type="submit" name="do" value="claim" class="secondary">Claim (I handle it)</button>'
    )
    options = "".join(f'<option value="{e(d.key)}">{e(d.name)}</option>' for d in forms.departments)
    actions = (
        f'<form method="post" action="{action}" class="box actions" aria-labelledby="actions-title">{_hidden(forms)}'
        '<h2 id="actions-title">Actions</h2>'
        f'<div class="row">{claim}{toggle}</div>'
        '<div class="row"><label for="transfer-to">Transfer to</label>'
        f'<select id="transfer-to" name="department"><option value="">Choose a department…</option>{options}</select>'
        '<button type="submit" name="do" value="transfer" class="secondary">Transfer</button></div></form>'
    )
    erasure = (
        ""
        if status is CaseStatus.CLOSED
        else (
            f'<form method="post" action="{action}" class="box erasure" aria-labelledby="erasure-title">'
            f"{_hidden(forms)}"
            '<h2 id="erasure-title">The citizen asked for erasure</h2>'
            '<div class="row"><button type="submit" name="do" value="erase" class="secondary">Erase now</button></div>'
            '<div class="row"><label for="keep-reason">Or keep it (public task); reason told to the citizen</label>'
            '<input id="keep-reason" name="reason" maxlength="500">'
            '<button type="submit" name="do" value="keep" class="secondary">Keep</button></div></form>'
        )
    )
    return f'<div class="work">{reply}{_answer_picker(action, forms)}{note}{actions}{erasure}</div>'


def login_page(frame: Frame, *, csrf: str, next_path: str, error: str | None) -> str:
    """The desk's sign-in form."""
    problem = f'<p class="notice error" role="alert">{e(error)}</p>' if error else ""
    content = (
        "<h1>Sign in to the desk</h1>"
        f"{problem}"
        '<form method="post" action="/desk/login" class="box login">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        f'<input type="hidden" name="next" value="{e(next_path)}">'
        '<label for="username">Username</label>'
        '<input id="username" name="username" autocomplete="username" required>'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>'
        '<button type="submit">Sign in</button></form>'
    )
    return layout(frame, content)


def message_page(frame: Frame, heading: str, text: str) -> str:
    """A page that only explains something (no users configured, not found, …)."""
    return layout(frame, f'<h1>{e(heading)}</h1><p class="notice">{e(text)}</p>')
