"""What the bridge says to citizens and staff, in one place so it can be reviewed and translated.

Citizen texts are ``Msg`` (a ``str``: ``.format`` works as before) or ``Plural``; both are the English
source (the msgids) of the catalogs in ``bot/locales`` (``pybabel extract -F babel.cfg``, see README
"Languages"). Staff texts are plain strings: staff read the office language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class Msg(str):
    """A citizen text in English: the msgid its translations in ``bot/locales`` are looked up by."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Plural:
    """A citizen text that depends on a number: English singular and plural, the msgids of ``ngettext``."""

    singular: str
    plural: str


GREETING = Msg(
    "Hello! Write your question or report here and we will pass it to the right public office. "
    "A member of staff will answer in this chat."
)
#: The privacy notice, built from the settings by ``bot.privacy_notice``: this, then where text goes, then rights.
PRIVACY = Plural(
    "Privacy: we store your messages, your display name and your platform account id so that staff can "
    "answer you. Only staff of the department handling your case can read them. {count} day after a case "
    "closes, its messages, your name and your account id are deleted.",
    "Privacy: we store your messages, your display name and your platform account id so that staff can "
    "answer you. Only staff of the department handling your case can read them. {count} days after a case "
    "closes, its messages, your name and your account id are deleted.",
)
PRIVACY_LOCAL = Msg("Your messages stay on the office's own servers.")
PRIVACY_TRANSLATED = Msg(
    "To translate between your language and the office's, the text of your messages is sent to the office's "
    "translation service."
)
PRIVACY_RIGHTS = Msg("Write mydata to receive a copy of your data, or forget to ask us to erase it.")
HELP = Msg(
    "Just write your message. Commands: start (about this service), status (your cases), "
    "new (start a new case), help (this text)."
)
NO_CASES = Msg("You have no cases yet. Write a message to open one.")
TOO_LONG = Msg("Your message is too long ({length} characters; the limit is {limit}). Please send it in shorter parts.")
UNSUPPORTED = Msg("Sorry, I can't pass this kind of message on. Please write it as text.")
MENU = Msg("Which office should handle this? Choose one of the options, or reply with its number.")
MENU_AGAIN = Msg("Before we pass your messages on, please choose the office that should handle them.")
MENU_STALE = Msg("That choice is no longer open. Just write your message.")
OTHER = Msg("Other")
ACK = Msg("Thank you. Your case {reference} is with {department}. Staff will answer here.")
NEW_CASE = Msg("Your case {reference} is closed. Your next message opens a new case.")
RATING_QUESTION = Msg(
    "How satisfied are you with the answer to your case {reference}? Choose 1 (very poor) to 5 (very good), "
    "or reply with the number. After that you may send us one message with a comment, if you wish."
)
RATING_THANKS = Msg(
    "Thank you for your rating ({score} out of 5). If you wish, write a comment in your next message; "
    "after that, a new message opens a new case."
)
RATING_ALREADY = Msg("You have already rated case {reference}. Thank you; your first rating stands.")
RATING_COMMENT_THANKS = Msg("Thank you for your comment. Your next message opens a new case.")
NEW_NONE = Msg("You have no open case. Your next message opens a new case.")
CLOSED_CITIZEN = Msg("Your case {reference} has been closed by {department}. If you write again, a new case opens.")
REOPENED_CITIZEN = Msg("Your case {reference} has been reopened by {department}.")
TRANSFERRED_CITIZEN = Msg("Your case {reference} has been passed to {department}, who will answer here.")
CLAIMED_CITIZEN = Msg("{officer} of {department} is now handling your case {reference}.")
CLAIMED_CITIZEN_UNNAMED = Msg("An officer of {department} is now handling your case {reference}.")
STATUS_LINE = Msg("{reference} · {department} · {status}")
STATUS_OPEN = Msg("open")
STATUS_PENDING = Msg("waiting for you to choose an office")
STATUS_CLOSED = Msg("closed")
#: A case status (``CaseStatus`` value) as citizens read it, e.g. for ``STATUS_LINE``'s ``{status}``.
STATUS_WORDS: Mapping[str, Msg] = MappingProxyType(
    {"open": STATUS_OPEN, "pending": STATUS_PENDING, "closed": STATUS_CLOSED}
)
#: One case in the citizen's ``status`` list; ``{updated}`` is its last change, in their language and the office's zone.
STATUS_LINE_UPDATED = Msg("{reference} · {department} · {status} · {updated}")
STATUS_HEADER = Plural("You have {count} case:", "You have {count} cases:")
HELP_LANGUAGE = Msg("To choose the language we write to you in, write: language followed by its name, e.g. {example}.")
LANGUAGE_SET = Msg("From now on we will write to you in {language}.")
LANGUAGE_CURRENT = Msg("We write to you in {language}. Languages you can choose: {languages}.")
LANGUAGE_UNKNOWN = Msg("We do not offer that language. Languages you can choose: {languages}.")
LANGUAGE_NOT_OFFERED = Msg(
    "This office answers in {language}. You can keep writing in your language; our replies will be in {language}."
)
#: Under a staff reply that went out machine-translated: the reply as staff wrote it follows.
ORIGINAL = Msg("Original ({language}):")
MACHINE_TRANSLATED = Msg("Machine translation; the original follows.")
MYDATA_SENT = Msg("Here is a copy of the data we hold about you: your cases and messages, with their dates.")
MYDATA_NONE = Msg("We hold no cases of yours.")
FORGET_DONE = Plural(
    "Your data from {count} closed case has been erased.",
    "Your data from {count} closed cases has been erased.",
)
FORGET_ASKED = Msg(
    "Your case {reference} is still open. Staff will decide whether it can be erased now or must be kept "
    "for the office's public task, and we will tell you here."
)
FORGET_ERASED = Msg("Your case {reference} has been erased.")
FORGET_KEPT = Msg(
    "Your case {reference} is kept because the office needs it to carry out its public task: {reason}. "
    "It is deleted when the retention period ends."
)

ROOT_PREVIOUS = "Follows the citizen's earlier case {reference}."
CLOSED_STAFF = "Case closed by {actor}."
CLOSED_BY_CITIZEN = "The citizen started a new case; this case is closed."
REOPENED_STAFF = "Case reopened by {actor}."
REOPEN_REFUSED = "Cannot reopen: the citizen already has another open case ({reference})."
TRANSFERRED_STAFF = "Case transferred to {department} by {actor}."
TRANSFERRED_ROOT = "Transferred to {department}: the case continues in that department's thread."
TRANSFERRED_IN = "Transferred from {department}. Conversation so far:"
TRANSFER_UNKNOWN = "Cannot transfer: there is no department {name!r}. Departments: {known}."
TRANSFER_SAME = "This case is already with {department}."
CLAIMED_STAFF = "{actor} is handling this case."
ALREADY = "This case is already {status}."
EDIT_NOT_RELAYED = (
    "The citizen already has the original of that reply: edits and deletions do not reach them. "
    "Send a new reply to correct it."
)
DELIVERY_FAILED = "Could not deliver to the citizen: {reason}. The message was not sent."
EDITED = "edited: {text}"
FORGET_REQUEST_STAFF = (
    "The citizen asked for their data to be erased. Decide: `!erase` erases this case now; "
    "`!keep REASON` keeps it under the public-task exemption (the citizen is told the reason)."
)
FORGET_ERASED_STAFF = "Case erased at the citizen's request by {actor}."
FORGET_KEPT_STAFF = "{actor} kept this case under the public-task exemption: {reason}"
FORGET_KEEP_NEEDS_REASON = "Write the reason after the command, e.g. `!keep needed for the ongoing planning appeal`."
FORGET_NOT_ASKED = "The citizen has not asked for this case to be erased."
ANSWER_SENT = "Saved answer {key} sent by {actor} ({language}):"
ANSWER_REMINDER = "Reminder: most of the time to answer has passed. The answer is due by {due}."
ANSWER_OVERDUE = "Overdue: the answer was due by {due} and the citizen is still waiting."
ESCALATED = "Overdue answer: case {reference} ({department}) was due by {due} and the citizen is still waiting."
RATED_STAFF = "The citizen rated the answer {score} out of 5."
RATING_COMMENT_STAFF = "The citizen's comment on the rating: {comment}"
ANSWER_UNKNOWN = "There is no saved answer {key!r} for this department. Saved answers: {known}."

# Citizen texts the platform adapters and the web chat show (wired in by the adapters).
COMMAND_START = Msg("About this service and your privacy")
COMMAND_STATUS = Msg("Your cases and where they stand")
COMMAND_NEW = Msg("Close your case; your next message opens a new one")
COMMAND_HELP = Msg("How this chat works")
COMMAND_LANGUAGE = Msg("Choose the language we write to you in")
COMMAND_MYDATA = Msg("A copy of the data we hold about you")
COMMAND_FORGET = Msg("Erase your data")
COMMAND_SUBSCRIBE = Msg("Receive announcements and consultations")
COMMAND_TOPICS = Msg("What you follow")
COMMAND_STOP = Msg("Stop announcements and consultations")
GROUP_ONLY = Msg(
    "Hello! I only work in a private chat, so that what you tell a public office stays between you and them. "
    "Please write to me directly{link}. I will not read or store messages in this group."
)
FILE_TOO_BIG = Msg(
    "Sorry, that file is too large to pass on (the limit is {limit}). Nothing from that message was sent. "
    "Please send a smaller file, or describe it in text."
)
HELPDESK_INVITATION = Msg(
    "Hello! To keep your details private, please send me a direct message (click my name, then "
    '"Message") and a member of staff will answer you there. Nothing you post in this channel is passed on.'
)
FILE_TOO_LARGE = Msg(
    "Sorry, the file {name} is too large ({size}; the limit is {limit}). Nothing from that message was passed on: "
    "please send a smaller file, or the text on its own."
)
WEB_SESSION_ENDED = Msg("Your chat session has ended. Reload the page to start again.")
WEB_NOT_FROM_PAGE = Msg("This request did not come from the chat page. Reload the page and try again.")
WEB_UNAVAILABLE = Msg("The chat is starting or stopping. Please try again in a moment.")
WEB_NOT_UNDERSTOOD = Msg("The request was not understood.")
WEB_EMPTY = Msg("Please write a message before sending.")
WEB_CHOOSE_OFFERED = Msg("Please choose one of the offices offered.")
WEB_TOO_FAST = Plural(
    "You are sending messages too quickly. Please wait {count} second and send your message again.",
    "You are sending messages too quickly. Please wait {count} seconds and send your message again.",
)
WEB_TITLE = Msg("Ask the city")
WEB_HEADING = Msg("Chat with the city")
WEB_SKIP = Msg("Skip to the message box")
WEB_IDLE = Msg("Write to us: we pass your message to the right office.")
WEB_NOSCRIPT = Msg("This chat needs JavaScript. Please turn it on, or contact the city by phone or post.")
WEB_PRIVACY_SUMMARY = Msg("How we use your messages")
WEB_CONVERSATION = Msg("Conversation")
WEB_NAME = Msg("Your name")
WEB_OPTIONAL = Msg("(optional)")
WEB_MESSAGE = Msg("Your message")
WEB_HINT = Msg("Press Ctrl+Enter or the Send button to send.")
WEB_SEND = Msg("Send")
WEB_NEW_CASE = Msg("Start a new case")
WEB_LANGUAGE = Msg("Language")
WEB_YOU = Msg("You")
WEB_STAFF = Msg("Staff")
WEB_SERVICE = Msg("City contact service")
WEB_MENU_LABEL = Msg("Choose the office for your case")
WEB_RATING_LABEL = Msg("Rate the answer from 1 (very poor) to 5 (very good)")
WEB_ATTACHMENTS = Msg("Attachments: {names}")
WEB_CASE = Msg("Case {reference}")
WEB_LOAD_FAILED = Msg("The chat could not be loaded. Please reload the page.")
WEB_SEND_FAILED = Msg("Your message could not be sent. Please try again.")
WEB_CONNECTION_LOST = Msg("Your message could not be sent: the connection was lost. Please try again.")
WEB_CHOICE_FAILED = Msg("Your choice could not be sent.")
WEB_TRY_AGAIN = Msg("Please try again.")
WIDGET_LABEL = Msg("Chat with us")

# A thread root that failed for good (bot.relay.stranded): the case goes to the fallback, or stays open.
STRANDED_REROUTED = Msg(
    "We could not reach the office chosen for your case {reference}, so it has been passed to {department}, "
    "who will answer here."
)
STRANDED_KEPT = Msg(
    "Your case {reference} could not be passed on to an office yet. It stays open and we are working on it; "
    "you can keep writing here."
)
STRANDED_IN = "This case could not be opened in {department} ({reason}), so it came here. Conversation so far:"
STRANDED_RECORD = "The thread could not be opened in {department} ({reason})."

# Staff texts of machine translation (#14).
#: In the case's thread when a staff reply could not be translated and went out as written.
REPLY_UNTRANSLATED = "Translation unavailable ({reason}): the citizen gets this reply as written, in {language}."

# --- the department menu left unanswered (#13) ---------------------------------------------
MENU_TIMED_OUT = Msg("No office was chosen, so we have passed your message to {department}.")
#: Staff: the first line of a thread root whose citizen never answered the menu.
MENU_TIMEOUT_ROOT = (
    "The citizen did not choose a department within {minutes} minutes, so the case came to the fallback. "
    "The router hesitated between: {candidates}."
)

# Service levels (#16): office hours and the answer-time promise, added to the acknowledgement.
#: ``{opening}`` is a moment in words in the department's time zone (``Voice.when_in_words``).
OFFICE_CLOSED = Msg("The office is closed now and opens again on {opening}.")
#: ``{due}`` is when the first answer is due, in words in the department's time zone.
ANSWER_DUE = Msg("You can expect a first answer by {due}.")
#: The web chat's office status line.
WEB_OPEN_NOW = Msg("Open now")
#: ``{opening}``: a weekday and time (``Monday 9:00``), or a date in words when more than a week away.
WEB_OPENS = Msg("Opens {opening}")

# --- consultations and announcements (#18) ------------------------------------------------------
#: ``{example}`` is the command as the citizen's platform spells it (``/subscribe 1``, ``!subscribe 1``).
SUBSCRIBE_LIST = Msg(
    "You can receive announcements and consultations from these offices and topics. "
    "Choose one with its button, or write {example} with its number:"
)
SUBSCRIBE_NOTHING = Msg("There is nothing to follow yet.")
FOLLOWING = Msg("following")
#: The consent a citizen gives; stored, in their language, with the time they gave it.
CONSENT = Msg(
    "Yes, send me announcements and consultations from {name} in this chat. I can stop at any time by writing {stop}."
)
SUBSCRIBED = Msg('Done. You follow {name}. You agreed to this: "{consent}"')
ALREADY_SUBSCRIBED = Msg("You already follow {name}. To stop, write {stop}.")
SUBSCRIBE_UNKNOWN = Msg("There is nothing by that name to follow. Write {example} to see the list.")
TOPICS_NONE = Msg("You do not follow anything. Write {example} to see what you can follow.")
TOPICS_HEADER = Msg("You follow (to stop one, write {example}; to stop everything, write {stop}):")
UNSUBSCRIBED_ALL = Msg("Done. You will no longer receive announcements or consultations from us.")
UNSUBSCRIBED_ONE = Msg("Done. You no longer follow {name}.")
UNSUBSCRIBE_NOTHING = Msg("You do not follow anything, so you receive no announcements or consultations.")
OFFER = Msg(
    "Would you like to receive announcements and consultations from {department} in this chat? "
    "Press the button, or write {example}. We will not ask again."
)
ANNOUNCEMENT = Msg("Announcement from {department}:")
CONSULTATION_ASKS = Msg("{department} asks for your opinion:")
CONSULTATION_CHOOSE = Msg("Press a button, or reply with the option's number.")
CONSULTATION_FREE_TEXT = Msg("To answer, write {example} followed by your answer.")
CONSULTATION_CLOSES = Msg("Answers are taken until {closes}.")
#: The last line of every announcement and consultation.
HOW_TO_STOP = Msg("You receive this because you follow {name}. To stop, write {stop}.")
ANSWER_SAVED = Msg("Thank you, your answer is recorded: {answer}. You can change it until the consultation closes.")
CONSULTATION_CLOSED = Msg("Sorry, this consultation has closed, so we can no longer take answers. Thank you!")
ANSWER_NOTHING = Msg("There is no open consultation to answer here.")
ANSWER_INVALID = Msg("Please choose one of the options: a number from 1 to {count}.")
ANSWER_EMPTY = Msg("Please write your answer after {example}.")
#: The last line of ``help``.
HELP_FOLLOW = Msg(
    "To receive announcements and consultations from an office, write {subscribe}; {topics} shows what you follow, "
    "{stop} stops them."
)
