"""The ``desk`` command: ``civic-bridge desk add-user USERNAME`` creates a web desk sign-in.

Department keys are checked against the routing file (``--routing``, default BRIDGE_ROUTING_FILE).
"""

from __future__ import annotations

import difflib
import getpass
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.desk_users import MIN_PASSWORD_CHARS, USERNAME_CHARS, DeskRole, DeskUsers, UsersFileError
from config.routing_file import RoutingFileError, load_routing
from config.settings import load_settings

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

_MAX_USERNAME = 100
_MAX_NAME = 100


def _bridge_routing() -> Path:
    """The routing file the bridge runs on: BRIDGE_ROUTING_FILE, or the built-in example when that has none."""
    from bot.startup import choose_routing  # noqa: PLC0415  # loaded only when --routing is not given

    return choose_routing(load_settings()).path


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    default_routing: Callable[[], Path] = _bridge_routing,
) -> None:
    """Add ``desk add-user``; it sets ``func(args) -> exit code`` on the namespace.

    ``default_routing`` names the routing file whose department keys ``--departments`` must use.
    """
    desk = subparsers.add_parser("desk", help="manage the web desk's users")
    commands = desk.add_subparsers(dest="desk_command", metavar="{add-user}", required=True)
    add = commands.add_parser(
        "add-user",
        help="add a desk user, or set a user's new password and departments",
        description="Adds a user to BRIDGE_DESK_USERS_FILE (default desk-users.json). "
        "Once a user exists, the desk asks everyone to sign in.",
    )
    add.add_argument("username", metavar="USERNAME")
    add.add_argument(
        "--departments",
        metavar="KEY,KEY",
        help="department keys from the routing file this user works for (default: every desk department)",
    )
    add.add_argument("--name", help="the name people see, such as 'Grace Hopper' (default: the username)")
    role = add.add_mutually_exclusive_group()
    role.add_argument(
        "--admin",
        dest="role",
        action="store_const",
        const=DeskRole.ADMIN,
        help="an admin: sees every department and the reports",
    )
    role.add_argument(
        "--staff",
        dest="role",
        action="store_const",
        const=DeskRole.STAFF,
        help="staff of the departments given (the default for a new user; an existing user keeps their role)",
    )
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--file", type=Path, help="the users file (default: BRIDGE_DESK_USERS_FILE)")
    add.add_argument(
        "--routing",
        type=Path,
        metavar="FILE",
        help="the routing file whose department keys --departments uses (default: BRIDGE_ROUTING_FILE)",
    )
    add.set_defaults(func=cmd_add_user, default_routing=default_routing)


def cmd_add_user(
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    ask: Callable[[str], str] = getpass.getpass,
) -> int:
    """Hash the password and write the user into the users file."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    username = str(args.username).strip()
    if not username or len(username) > _MAX_USERNAME or not set(username) <= USERNAME_CHARS:
        print(
            f"civic-bridge: the username {username!r} is not usable: use letters, digits, spaces and . _ - @ "
            f"(at most {_MAX_USERNAME} characters)",
            file=err,
        )
        return 2
    checked = _checked(args)
    if isinstance(checked, str):
        print(f"civic-bridge: {checked}", file=err)
        return 2
    departments, name = checked
    password = _password(args.password_stdin, stdin or sys.stdin, ask, err)
    if isinstance(password, int):
        return password
    path = args.file or load_settings().desk_users_file
    users = DeskUsers(path=path)
    try:
        created = users.add(username, password, departments, name=name, role=args.role)
        user = users.get(username)
    except UsersFileError as error:
        print(f"civic-bridge: {error}", file=err)
        return 1
    if user is not None and user.is_admin:
        scope = "admin: every department and the reports"
    else:
        scope = "staff of " + (", ".join(departments) if departments else "every desk department")
    verb = "added" if created else "updated (their open desk sessions end)"
    print(f"desk user {username!r} {verb} in {path} ({scope}); the desk now asks for a sign-in", file=out)
    return 0


def _checked(args: argparse.Namespace) -> tuple[tuple[str, ...] | None, str | None] | str:
    """The departments (None for all) and display name, or an error message."""
    name = _display_name(args.name)
    if name is not None and not name:
        return f"--name {args.name!r} is not usable: give the name people should see, at most {_MAX_NAME} characters"
    if args.departments is None:
        return None, name
    if args.role is DeskRole.ADMIN:
        return "an admin sees every department: leave out --departments, or leave out --admin"
    keys = tuple(dict.fromkeys(key.strip() for key in str(args.departments).split(",") if key.strip()))
    routing = args.routing or args.default_routing()
    try:
        known = load_routing(routing).department_keys
    except RoutingFileError as error:
        return f"cannot check --departments against the routing file:\n{error}"
    unknown = [key for key in keys if key not in known]
    if unknown or not keys:
        return _unknown_departments(unknown, known, routing)
    return keys, name


def _unknown_departments(unknown: list[str], known: tuple[str, ...], routing: Path) -> str:
    """Which keys are not departments, the closest match, and every valid key; nothing was changed."""
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1)
        hints.append(f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key))
    wrong = f"{', '.join(hints)} {'is' if len(unknown) == 1 else 'are'} not" if unknown else "no keys given: give"
    return (
        f"--departments: {wrong} a department in the routing file {routing}; "
        f"valid keys: {', '.join(known)} (set another file with --routing or BRIDGE_ROUTING_FILE); nothing was changed"
    )


def _display_name(value: str | None) -> str | None:
    """The display name with its spaces tidied; "" when unusable; None when not given."""
    if value is None:
        return None
    name = " ".join(value.split())
    if len(name) > _MAX_NAME or any(unicodedata.category(char).startswith("C") for char in name):
        return ""
    return name


def _password(from_stdin: bool, stdin: TextIO, ask: Callable[[str], str], err: TextIO) -> str | int:
    """The new password, or an exit code when none usable was given."""
    if from_stdin:
        password = stdin.readline().rstrip("\r\n")
    else:
        password = ask("Password: ")
        if ask("Repeat the password: ") != password:
            print("civic-bridge: the passwords differ; nothing was changed", file=err)
            return 2
    if len(password) < MIN_PASSWORD_CHARS:
        print(
            f"civic-bridge: the password needs at least {MIN_PASSWORD_CHARS} characters; nothing was changed",
            file=err,
        )
        return 2
    return password
