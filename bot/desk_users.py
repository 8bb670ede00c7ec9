"""The web desk's users: a JSON file of usernames, display names, roles, scrypt password hashes and departments.

Files written before names and roles existed still load: each user there is staff, named by their username.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_KEY_BYTES = 32
_FIELDS = 6
#: Compared against when the username is unknown, so a login takes as long either way.
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

MIN_PASSWORD_CHARS = 10
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@ ")


class UsersFileError(Exception):
    """The users file cannot be read or written; the message names the file and the fix."""


class DeskRole(enum.StrEnum):
    """What a desk user may do: staff work their departments' cases; admins see every department and the reports."""

    STAFF = "staff"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class DeskUser:
    """A person who may use the desk; ``departments`` None means every desk department.

    ``name`` is the display name (``desk add-user --name``); None for a user added without one.
    """

    username: str
    password_hash: str
    departments: tuple[str, ...] | None = None
    name: str | None = None
    role: DeskRole = DeskRole.STAFF

    @property
    def display_name(self) -> str:
        """The name to show people: the display name, else the username."""
        return self.name or self.username

    @property
    def is_admin(self) -> bool:
        """Whether this user sees every department and the reports."""
        return self.role is DeskRole.ADMIN

    def may_see(self, department: str) -> bool:
        """Whether this user works for ``department`` (an admin sees every one)."""
        return self.is_admin or self.departments is None or department in self.departments


def hash_password(password: str) -> str:
    """A salted scrypt hash, self-describing: ``scrypt$N$r$p$salt$key`` (base64)."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_KEY_BYTES)
    encoded = base64.b64encode(salt).decode(), base64.b64encode(key).decode()
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${encoded[0]}${encoded[1]}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by ``hash_password``."""
    parts = stored.split("$")
    if len(parts) != _FIELDS or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = base64.b64decode(parts[4]), base64.b64decode(parts[5])
        given = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(key), maxmem=2**26)
    except ValueError:
        return False
    return hmac.compare_digest(given, key)


class DeskUsers:
    """Reads the users file on every lookup, so ``desk add-user`` takes effect without a restart."""

    def __init__(self, *, path: Path) -> None:
        self._path = path

    @property
    def path(self) -> Path:
        """The users file."""
        return self._path

    def all(self) -> list[DeskUser]:
        """Every user in the file (none when the file does not exist)."""
        try:
            raw = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as error:
            raise UsersFileError(f"{self._path}: cannot read the desk users file ({error.strerror})") from None
        try:
            data = json.loads(raw)
            return [_user(item) for item in data.get("users", [])]
        except (ValueError, TypeError, KeyError, AttributeError):
            msg = f"{self._path}: not a desk users file; fix it or delete it and run `civic-bridge desk add-user`"
            raise UsersFileError(msg) from None

    def any(self) -> bool:
        """Whether at least one user is configured."""
        return bool(self.all())

    def get(self, username: str) -> DeskUser | None:
        """The user with this name, if any."""
        return next((user for user in self.all() if user.username == username), None)

    def authenticate(self, username: str, password: str) -> DeskUser | None:
        """The user, if the password is theirs; as slow for unknown names as for known ones."""
        user = self.get(username)
        ok = check_password(password, user.password_hash if user else _DUMMY_HASH)
        return user if ok and user is not None else None

    def add(
        self,
        username: str,
        password: str,
        departments: tuple[str, ...] | None,
        *,
        name: str | None = None,
        role: DeskRole | None = None,
    ) -> bool:
        """Add a user or replace their password and departments; True when the user is new.

        ``name`` and ``role`` left None keep what an existing user has (a new user: no name, staff).
        """
        existing = self.all()
        users = [user for user in existing if user.username != username]
        is_new = len(users) == len(existing)
        before = next((user for user in existing if user.username == username), None)
        name = name if name is not None else (before.name if before else None)
        role = role if role is not None else (before.role if before else DeskRole.STAFF)
        users.append(DeskUser(username, hash_password(password), departments, name=name, role=role))
        payload = {"users": [_json(user) for user in users]}
        temporary = self._path.with_name(self._path.name + ".tmp")
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(payload, file, indent=2)
                file.write("\n")
            temporary.replace(self._path)
        except OSError as error:
            raise UsersFileError(f"{self._path}: cannot write the desk users file ({error.strerror})") from None
        return is_new


def _user(item: dict[str, Any]) -> DeskUser:
    departments = item.get("departments")
    name = item.get("name")
    return DeskUser(
        username=str(item["username"]),
        password_hash=str(item["password"]),
        departments=tuple(str(d) for d in departments) if departments is not None else None,
        name=str(name) if name else None,
        role=DeskRole(item.get("role", DeskRole.STAFF)),
    )


def _json(user: DeskUser) -> dict[str, Any]:
    departments = list(user.departments) if user.departments is not None else None
    return {
        "username": user.username,
        "name": user.name,
        "role": str(user.role),
        "password": user.password_hash,
        "departments": departments,
    }
