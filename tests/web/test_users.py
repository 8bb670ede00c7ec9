"""Desk users: password hashing, the users file, and ``civic-bridge desk add-user``."""

from __future__ import annotations

import argparse
import io
import json
import stat
from pathlib import Path

from bot import desk_cli
from bot.desk_users import DeskRole, DeskUsers, check_password, hash_password


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    desk_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["desk", "add-user", *argv])


def test_password_hash_checks_only_the_right_password() -> None:
    """A stored hash accepts its password and nothing else, and never holds the password itself."""
    stored = hash_password("correct horse battery")
    assert "correct horse" not in stored
    assert check_password("correct horse battery", stored)
    assert not check_password("correct horse batterY", stored)


def test_same_password_hashes_differently_each_time() -> None:
    """Every hash has its own salt."""
    assert hash_password("correct horse battery") != hash_password("correct horse battery")


def test_add_user_reads_the_password_from_stdin(tmp_path: Path) -> None:
    """``desk add-user NAME --password-stdin --departments`` writes the user, hash and departments."""
    users_file = tmp_path / "desk-users.json"
    args = _parse("grace", "--departments", "roads,waste", "--password-stdin", "--file", str(users_file))
    out = io.StringIO()
    code = desk_cli.cmd_add_user(args, stdin=io.StringIO("correct horse battery\n"), stdout=out, stderr=io.StringIO())
    assert code == 0
    assert "grace" in out.getvalue()
    user = DeskUsers(path=users_file).authenticate("grace", "correct horse battery")
    assert user is not None
    assert user.departments == ("roads", "waste")


def test_users_file_is_private_to_its_owner(tmp_path: Path) -> None:
    """The users file is readable by its owner only."""
    users_file = tmp_path / "desk-users.json"
    DeskUsers(path=users_file).add("grace", "correct horse battery", None)
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    assert json.loads(users_file.read_text())["users"][0]["username"] == "grace"


def test_add_user_prompts_twice_and_refuses_a_mismatch(tmp_path: Path) -> None:
    """Without --password-stdin the password is asked twice; different answers change nothing."""
    users_file = tmp_path / "desk-users.json"
    answers = iter(["correct horse battery", "another horse battery"])
    err = io.StringIO()
    code = desk_cli.cmd_add_user(
        _parse("grace", "--file", str(users_file)), stderr=err, stdout=io.StringIO(), ask=lambda _p: next(answers)
    )
    assert code == 2
    assert "differ" in err.getvalue()
    assert not users_file.exists()


def test_add_user_refuses_a_short_password(tmp_path: Path) -> None:
    """A password shorter than ten characters is refused with the rule."""
    err = io.StringIO()
    args = _parse("grace", "--password-stdin", "--file", str(tmp_path / "u.json"))
    code = desk_cli.cmd_add_user(args, stdin=io.StringIO("short\n"), stdout=io.StringIO(), stderr=err)
    assert code == 2
    assert "at least 10" in err.getvalue()


def test_adding_an_existing_user_replaces_the_password(tmp_path: Path) -> None:
    """Adding a user again sets a new password; the old one stops working."""
    users = DeskUsers(path=tmp_path / "desk-users.json")
    assert users.add("grace", "correct horse battery", None) is True
    assert users.add("grace", "a brand new password", None) is False
    assert users.authenticate("grace", "correct horse battery") is None
    assert users.authenticate("grace", "a brand new password") is not None


ROUTING = """\
fallback: general
departments:
  - key: roads
    name: Roads
    desk: web
    keywords: [pothole]
  - key: general
    name: Citizen Services
    desk: web
"""


def _add(tmp_path: Path, *argv: str) -> tuple[int, str]:
    """Run ``desk add-user`` against a routing file of roads and general; the exit code and stderr."""
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING, encoding="utf-8")
    args = _parse(*argv, "--password-stdin", "--file", str(tmp_path / "desk-users.json"), "--routing", str(routing))
    err = io.StringIO()
    code = desk_cli.cmd_add_user(args, stdin=io.StringIO("correct horse battery\n"), stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def test_add_user_refuses_a_department_the_routing_file_lacks(tmp_path: Path) -> None:
    """A misspelt department key is refused with the closest match and every valid key; nothing is written."""
    code, err = _add(tmp_path, "grace", "--departments", "roadz")
    assert code == 2
    assert "'roadz' (did you mean 'roads'?)" in err
    assert "valid keys: roads, general" in err
    assert not (tmp_path / "desk-users.json").exists()


def test_add_user_stores_the_display_name(tmp_path: Path) -> None:
    """``--name "Grace Hopper"`` is the name the desk can show for the user."""
    code, _err = _add(tmp_path, "grace.hopper", "--name", "Grace Hopper", "--departments", "roads")
    user = DeskUsers(path=tmp_path / "desk-users.json").get("grace.hopper")
    assert code == 0
    assert user is not None
    assert user.display_name == "Grace Hopper"


def test_admin_sees_every_department(tmp_path: Path) -> None:
    """A user added with ``--admin`` is an admin and may see any department."""
    code, _err = _add(tmp_path, "ada", "--admin")
    user = DeskUsers(path=tmp_path / "desk-users.json").get("ada")
    assert code == 0
    assert user is not None
    assert (user.role, user.may_see("housing")) == (DeskRole.ADMIN, True)


def test_staff_see_only_their_departments(tmp_path: Path) -> None:
    """A user added with ``--departments roads`` is staff and may not see another department."""
    _add(tmp_path, "grace", "--departments", "roads")
    user = DeskUsers(path=tmp_path / "desk-users.json").get("grace")
    assert user is not None
    assert (user.role, user.may_see("roads"), user.may_see("general")) == (DeskRole.STAFF, True, False)


def test_admin_with_departments_is_refused(tmp_path: Path) -> None:
    """``--admin --departments`` contradicts itself and is refused."""
    code, err = _add(tmp_path, "ada", "--admin", "--departments", "roads")
    assert code == 2
    assert "admin sees every department" in err


def test_new_password_keeps_the_name_and_role(tmp_path: Path) -> None:
    """Running add-user again for a new password leaves the user's display name and admin role as they were."""
    _add(tmp_path, "ada", "--admin", "--name", "Ada Lovelace")
    _add(tmp_path, "ada")
    user = DeskUsers(path=tmp_path / "desk-users.json").get("ada")
    assert user is not None
    assert (user.display_name, user.role) == ("Ada Lovelace", DeskRole.ADMIN)


def test_users_file_from_before_names_and_roles_still_loads(tmp_path: Path) -> None:
    """A users file written without names and roles loads: each user is staff, named by their username."""
    users_file = tmp_path / "desk-users.json"
    old = {"username": "grace", "password": hash_password("correct horse battery"), "departments": ["roads"]}
    users_file.write_text(json.dumps({"users": [old]}), encoding="utf-8")
    user = DeskUsers(path=users_file).authenticate("grace", "correct horse battery")
    assert user is not None
    assert (user.display_name, user.role, user.departments) == ("grace", DeskRole.STAFF, ("roads",))
