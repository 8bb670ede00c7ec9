"""What the bridge says to citizens and staff, in one place so it can be reviewed and translated."""

from __future__ import annotations

GREETING = (
    "Hello! Write your question or report here and we will pass it to the right public office. "
    "A member of staff will answer in this chat."
)
PRIVACY = (
    "Privacy: we store your messages, your display name and your platform account id so that staff can "
    "answer you. Only staff of the department handling your case can read them. Cases are kept for two "
    "years after they close and then deleted."
)
HELP = (
    "Just write your message. Commands: start (about this service), status (your cases), "
    "new (start a new case), help (this text)."
)
NO_CASES = "You have no cases yet. Write a message to open one."
TOO_LONG = "Your message is too long ({length} characters; the limit is {limit}). Please send it in shorter parts."
UNSUPPORTED = "Sorry, I can't pass this kind of message on. Please write it as text."
MENU = "Which office should handle this? Choose one of the options, or reply with its number."
MENU_AGAIN = "Before we pass your messages on, please choose the office that should handle them."
MENU_STALE = "That choice is no longer open. Just write your message."
OTHER = "Other"
ACK = "Thank you. Your case {reference} is with {department}. Staff will answer here."
NEW_CASE = "Your case {reference} is closed. Your next message opens a new case."
NEW_NONE = "You have no open case. Your next message opens a new case."
CLOSED_CITIZEN = "Your case {reference} has been closed by {department}. If you write again, a new case opens."
REOPENED_CITIZEN = "Your case {reference} has been reopened by {department}."
TRANSFERRED_CITIZEN = "Your case {reference} has been passed to {department}, who will answer here."
CLAIMED_CITIZEN = "{officer} of {department} is now handling your case {reference}."
STATUS_LINE = "{reference} · {department} · {status}"

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
