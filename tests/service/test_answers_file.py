"""The saved-answers file: loaded when right, every problem as FILE:LINE when wrong, and the language chosen."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.routes_cli import check_routing
from config.answers_file import load_answers_text
from config.routing_file import RoutingFileError
from tests.service.answers import ANSWERS_YAML, ROUTING, answers


def test_answers_load_in_file_order_per_department() -> None:
    """Answers without ``departments`` serve every department; the others only theirs."""
    loaded = answers()
    assert [a.key for a in loaded.for_department("waste")] == ["received", "bin-day"]
    assert [a.key for a in loaded.for_department("roads")] == ["received"]
    assert loaded.find("BIN-DAY", "roads") is None


def test_the_citizens_language_else_the_office_language() -> None:
    """A Spanish citizen gets the Spanish text; a Polish one the English (office) text, placeholders filled."""
    received = answers().find("received", "roads")
    assert received is not None
    fields = {"reference": "RB-1234", "citizen_name": "Ana", "department": "Carreteras"}
    assert received.render("es", "en", **fields) == ("es", "Gracias, Ana. Carreteras tiene su aviso RB-1234.")
    assert received.render("pl", "en", **fields)[0] == "en"


@pytest.mark.parametrize(
    ("old", "new", "line", "fault"),
    [
        ('{reference}."\n      es', '{ref}."\n      es', 5, "unknown placeholder {ref}"),
        ("departments: [waste]", "departments: [parks]", 9, "no department 'parks'"),
        ("key: bin-day", "key: received", 7, "'received' is used twice"),
        ('      en: "Bins', '      es: "Bins', 11, "no text in the office language 'en'"),
        ("    title: Collection day", "    title: Collection day\n    colour: red", 9, "unknown key 'colour'"),
    ],
)
def test_wrong_answers_are_reported_at_their_line(old: str, new: str, line: int, fault: str) -> None:
    """Each mistake is one ``FILE:LINE: message`` at the line to fix."""
    assert old in ANSWERS_YAML
    with pytest.raises(RoutingFileError) as caught:
        load_answers_text(ANSWERS_YAML.replace(old, new), "answers.yaml", ROUTING)
    found = [(p.line, p.message) for p in caught.value.problems]
    assert [(p_line, fault in message) for p_line, message in found] == [(line, True)], found


def test_routes_check_checks_the_answers_file_next_to_the_routing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``routes check`` fails on a broken ``answers.yaml`` beside the routing file, naming its line."""
    routing = tmp_path / "routing.yaml"
    routing.write_text("fallback: general\ndepartments:\n  - {key: general, name: General, desk: web}\n")
    (tmp_path / "answers.yaml").write_text("answers:\n  - key: hi\n    title: Hi\n    text: {en: 'Hi {nme}'}\n")
    assert check_routing(routing) == 1
    assert f"{tmp_path / 'answers.yaml'}:4: answer 'hi': text: unknown placeholder {{nme}}" in capsys.readouterr().out
