"""The ``desk`` command: ``civic-bridge desk add-user USERNAME`` creates a web desk sign-in."""

from __future__ import annotations

import getpass
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.desk_users import MIN_PASSWORD_CHARS, USERNAME_CHARS, DeskUsers, UsersFileError
from config.settings import load_settings

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

_DEPARTMENT_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")
_MAX_USERNAME = 100


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``desk add-user``; it sets ``func(args) -> exit code`` on the namespace."""
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
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--file", type=Path, help="the users file (default: BRIDGE_DESK_USERS_FILE)")
    add.set_defaults(func=cmd_add_user)


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
    departments = _departments(args.departments)
    if isinstance(departments, str):
        print(f"civic-bridge: {departments}", file=err)
        return 2
    password = _password(args.password_stdin, stdin or sys.stdin, ask, err)
    if isinstance(password, int):
        return password
    path = args.file or load_settings().desk_users_file
    try:
        created = DeskUsers(path=path).add(username, password, departments)
    except UsersFileError as error:
        print(f"civic-bridge: {error}", file=err)
        return 1
    scope = ", ".join(departments) if departments else "every desk department"
    verb = "added" if created else "updated (their open desk sessions end)"
    print(f"desk user {username!r} {verb} in {path} ({scope}); the desk now asks for a sign-in", file=out)
    return 0


def _departments(value: str | None) -> tuple[str, ...] | str | None:
    """The department keys, None for all, or an error message."""
    if value is None:
        return None
    keys = tuple(key.strip() for key in value.split(",") if key.strip())
    bad = [key for key in keys if not _DEPARTMENT_KEY.match(key)]
    if bad or not keys:
        return f"--departments takes department keys from the routing file, such as roads,waste (got {value!r})"
    return keys


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
