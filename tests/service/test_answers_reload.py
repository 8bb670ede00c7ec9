"""Saved answers follow the routing file: a running bridge reloads answers.yaml with it, on change or SIGHUP."""

from __future__ import annotations

from pathlib import Path

from bot.app import App
from tests.core.test_routing_reload import running_app
from tests.waiting import eventually

ANSWERS = """\
answers:
  - key: received
    title: Report received
    text:
      en: "Thank you, {citizen_name}. Your reference is {reference}."
"""
MORE_ANSWERS = (
    ANSWERS
    + """\
  - key: fixed
    title: Pothole fixed
    departments: [roads]
    text:
      en: "The pothole was filled today ({reference})."
"""
)
#: An answer for a department the routing file does not have, on line 8.
BROKEN = MORE_ANSWERS.replace("departments: [roads]", "departments: [parks]")


def _keys(app: App, department: str = "roads") -> list[str]:
    assert app.relay is not None
    return [answer.key for answer in app.relay.answers.for_department(department)]


async def test_a_changed_answers_file_is_picked_up_without_a_restart(tmp_path: Path) -> None:
    """Saving answers.yaml with a new answer offers it to staff within the watch interval."""
    (tmp_path / "answers.yaml").write_text(ANSWERS, encoding="utf-8")
    async with running_app(tmp_path) as app:
        assert _keys(app) == ["received"]
        (tmp_path / "answers.yaml").write_text(MORE_ANSWERS, encoding="utf-8")
        await eventually(lambda: _keys(app) == ["received", "fixed"], what="answers reload")


async def test_sighup_reloads_the_answers_with_the_routing(tmp_path: Path) -> None:
    """A forced reload (what SIGHUP does) reads the answers file again too."""
    async with running_app(tmp_path) as app:
        assert _keys(app) == []
        (tmp_path / "answers.yaml").write_text(ANSWERS, encoding="utf-8")
        assert app.routing is not None
        assert await app.routing.reload(forced=True)
        assert _keys(app) == ["received"]


async def test_a_broken_answers_file_is_refused_and_the_old_answers_stay(tmp_path: Path) -> None:
    """An answer for an unknown department is reported as FILE:LINE in /healthz; the answers in force stay."""
    (tmp_path / "answers.yaml").write_text(ANSWERS, encoding="utf-8")
    async with running_app(tmp_path) as app:
        (tmp_path / "answers.yaml").write_text(BROKEN, encoding="utf-8")
        assert app.routing is not None
        assert not await app.routing.reload(forced=False)
        [problem] = app.routing.status().error
        assert problem.startswith(f"{tmp_path / 'answers.yaml'}:")
        assert "parks" in problem
        assert _keys(app) == ["received"]
