from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from config.routing_file import (
    EXAMPLE_ROUTING_PATH,
    Department,
    Problem,
    RoutingConfig,
    RoutingFileError,
    load_routing,
    load_routing_text,
)

VALID = """\
fallback: general
departments:
  - key: roads
    name: Roads & Transport
    slack_channel: C0ROADS01
    keywords: [pothole, road]
  - key: general
    name: Citizen Services
    desk: web
"""


def problems_of(text: str) -> list[tuple[int, str]]:
    """Load ``text`` expecting failure; return (line, message) of every problem."""
    with pytest.raises(RoutingFileError) as caught:
        load_routing_text(text, "routing.yaml")
    return [(problem.line, problem.message) for problem in caught.value.problems]


def test_valid_file_loads_departments_in_file_order() -> None:
    """A valid routing file gives its departments in the order written."""
    config = load_routing_text(VALID, "routing.yaml")
    assert config.department_keys == ("roads", "general")


def test_department_lookup_by_key() -> None:
    """``department(key)`` returns that department."""
    config = load_routing_text(VALID, "routing.yaml")
    assert config.department("roads").slack_channel == "C0ROADS01"


def test_department_lookup_of_unknown_key_names_the_known_ones() -> None:
    """Looking up an unknown key raises KeyError listing the known keys."""
    config = load_routing_text(VALID, "routing.yaml")
    with pytest.raises(KeyError, match="roads, general"):
        config.department("parks")


def test_built_in_example_is_valid_and_answers_on_the_web_desk() -> None:
    """The packaged example routing loads, falls back to general and needs no Slack."""
    config = load_routing(EXAMPLE_ROUTING_PATH)
    assert config.fallback == "general"
    assert {dept.desk for dept in config.departments} == {"web"}


def test_problem_renders_as_file_line_message() -> None:
    """A problem prints as FILE:LINE: message."""
    assert str(Problem("r.yaml", 7, "bad")) == "r.yaml:7: bad"


def test_error_text_is_every_problem_one_per_line() -> None:
    """The error's text lists every problem, one per line, sorted by line."""
    text = VALID.replace("fallback: general", "fallback: nowhere\ncolour: red")
    with pytest.raises(RoutingFileError) as caught:
        load_routing_text(text, "routing.yaml")
    lines = str(caught.value).splitlines()
    assert [line.split(":")[:2] for line in lines] == [["routing.yaml", "1"], ["routing.yaml", "2"]]


def test_bad_yaml_is_reported_at_yaml_line() -> None:
    """Broken YAML is one problem at the line the YAML parser stopped on."""
    text = VALID.replace("keywords: [pothole, road]", "keywords: [pothole, road")
    assert problems_of(text)[0][0] == 7


def test_empty_file_is_a_problem() -> None:
    """An empty file says what it needs."""
    assert problems_of("") == [(1, "the routing file is empty: it needs 'fallback:' and 'departments:'")]


def test_top_level_list_is_a_problem() -> None:
    """A file that is not a mapping at the top is rejected at line 1."""
    assert problems_of("- roads\n- waste\n")[0][0] == 1


def test_unknown_department_key_is_reported_at_its_line_with_a_suggestion() -> None:
    """A misspelt department key is reported where it is written, suggesting the right one."""
    text = VALID.replace("keywords: [pothole, road]", "keyword: [pothole, road]")
    [(line, message)] = problems_of(text)
    assert line == 6
    assert "unknown key 'keyword'" in message
    assert "did you mean 'keywords'?" in message


def test_unknown_top_level_key_is_reported_at_its_line() -> None:
    """An unknown top-level key is reported at its line."""
    text = VALID.replace("departments:", "colour: red\ndepartments:")
    [(line, message)] = problems_of(text)
    assert (line, message.startswith("unknown key 'colour'")) == (2, True)


def test_fallback_naming_no_department_is_reported_at_fallback_line() -> None:
    """A fallback that is no department is reported on the fallback line, listing the keys."""
    [(line, message)] = problems_of(VALID.replace("fallback: general", "fallback: nowhere"))
    assert line == 1
    assert "use one of: roads, general" in message


def test_duplicate_department_key_is_reported_at_second_key() -> None:
    """A department key used twice is reported where it is used the second time."""
    text = VALID.replace("key: general", "key: roads").replace("fallback: general", "fallback: roads")
    [(line, message)] = problems_of(text)
    assert line == 7
    assert "'roads' is used twice" in message


def test_duplicate_slack_channel_is_reported_at_second_channel() -> None:
    """Two departments in one Slack channel are reported at the second channel's line."""
    text = VALID.replace("desk: web", "slack_channel: C0ROADS01")
    [(line, message)] = problems_of(text)
    assert line == 9
    assert "C0ROADS01 is used by two departments" in message


def test_department_without_keywords_or_examples_is_reported_at_department() -> None:
    """A non-fallback department with no keywords or examples is reported at its first line."""
    text = VALID + "  - key: parks\n    name: Parks\n    desk: web\n"
    [(line, message)] = problems_of(text)
    assert line == 10
    assert "neither keywords nor examples" in message


def test_fallback_may_have_no_keywords() -> None:
    """The fallback department needs no keywords or examples."""
    assert load_routing_text(VALID, "routing.yaml").department("general").keywords == ()


def test_missing_name_is_reported_at_department() -> None:
    """A department without a name is reported at its first line, saying what to add."""
    [(line, message)] = problems_of(VALID.replace("    name: Roads & Transport\n", ""))
    assert line == 3
    assert message.startswith("department 'roads': 'name' is missing: add 'name:'")


def test_department_with_slack_channel_and_desk_is_a_problem() -> None:
    """A department answering both in Slack and on the web desk is rejected."""
    text = VALID.replace("    slack_channel: C0ROADS01\n", "    slack_channel: C0ROADS01\n    desk: web\n")
    [(line, message)] = problems_of(text)
    assert line == 3
    assert "exactly one place to answer" in message


def test_department_with_nowhere_to_answer_is_a_problem() -> None:
    """A department with neither Slack channel nor desk is rejected."""
    [(line, message)] = problems_of(VALID.replace("    desk: web\n", ""))
    assert line == 7
    assert "exactly one place to answer" in message


def test_malformed_slack_channel_id_is_reported_at_its_line() -> None:
    """A Slack channel that is not a channel id is reported at its line with what one looks like."""
    [(line, message)] = problems_of(VALID.replace("C0ROADS01", "roads-team"))
    assert line == 5
    assert "looks like C0ROADS01" in message


def test_unknown_desk_is_a_problem() -> None:
    """Only the web desk exists."""
    [(line, message)] = problems_of(VALID.replace("desk: web", "desk: paper"))
    assert line == 9
    assert "the only desk is 'desk: web'" in message


def test_keywords_given_as_text_instead_of_list_is_a_problem() -> None:
    """Keywords written as one string are reported at their line."""
    [(line, message)] = problems_of(VALID.replace("[pothole, road]", "pothole"))
    assert line == 6
    assert "keywords must be a list" in message


def test_blank_keyword_is_a_problem() -> None:
    """An empty keyword is reported by its position."""
    [(line, message)] = problems_of(VALID.replace("[pothole, road]", "[pothole, '  ']"))
    assert line == 6
    assert "keyword number 2 is blank" in message


def test_key_written_twice_in_one_department_is_reported() -> None:
    """A YAML key written twice, which YAML would silently drop, is reported at the second one."""
    text = VALID.replace("    desk: web\n", "    desk: web\n    desk: web\n")
    [(line, message)] = problems_of(text)
    assert line == 10
    assert "'desk' is written twice" in message


def test_reserved_other_key_is_a_problem() -> None:
    """No department may be called 'other': that is the citizen's Other choice."""
    text = VALID.replace("key: general", "key: other").replace("fallback: general", "fallback: other")
    [(line, message)] = problems_of(text)
    assert line == 7
    assert "reserved" in message


def test_every_problem_is_reported_at_once() -> None:
    """Problems in several departments and at the top are all reported together."""
    text = (
        VALID.replace("fallback: general", "fallback: nowhere")
        .replace("C0ROADS01", "roads")
        .replace("desk: web", "desk: paper")
    )
    assert [line for line, _ in problems_of(text)] == [1, 5, 9]


def test_unreadable_file_is_one_problem_naming_it(tmp_path: Path) -> None:
    """A missing routing file is a problem at line 1 of that path."""
    path = tmp_path / "missing.yaml"
    with pytest.raises(RoutingFileError) as caught:
        load_routing(path)
    assert str(caught.value).startswith(f"{path}:1: cannot read the routing file")


def test_config_built_in_code_is_checked_across_departments() -> None:
    """A RoutingConfig built directly still rejects a fallback that is no department."""
    roads = Department(key="roads", name="Roads", desk="web", keywords=("road",))
    with pytest.raises(ValidationError, match="fallback 'general' is not a department"):
        RoutingConfig(fallback="general", departments=(roads,))


def test_slack_channel_written_as_hash_name_is_reported_as_blank() -> None:
    """``slack_channel: #roads`` is a YAML comment; the blank value is reported at its line."""
    [(line, message)] = problems_of(VALID.replace("C0ROADS01", "#roads"))
    assert line == 5
    assert "'slack_channel' has no value" in message


def test_office_language_languages_timezone_and_learning_have_defaults() -> None:
    """Without the new keys the office speaks English, expects the shipped languages, runs on UTC, learns nothing."""
    config = load_routing_text(VALID, "routing.yaml")
    assert (config.office_language, config.languages, config.timezone, config.learning.use_confirmed_examples) == (
        "en",
        ("en", "es", "fr", "de", "pl", "ar", "uk", "pt", "it", "tr"),
        "UTC",
        False,
    )


def test_new_top_level_keys_are_read() -> None:
    """office_language, languages, timezone and the learning switch are taken from the file."""
    text = (
        "office_language: pl\nlanguages: [pl, uk]\ntimezone: Europe/Warsaw\nlearning: {use_confirmed_examples: true}\n"
    )
    config = load_routing_text(text + VALID, "routing.yaml")
    assert (config.office_language, config.languages, config.timezone, config.learning.use_confirmed_examples) == (
        "pl",
        ("pl", "uk"),
        "Europe/Warsaw",
        True,
    )


def test_an_unknown_timezone_is_reported_at_its_line() -> None:
    """A time zone that is not IANA's is a problem on its line, with an example of a good one."""
    assert problems_of("timezone: Mars/Olympus\n" + VALID) == [
        (1, "timezone: 'Mars/Olympus' is not an IANA time zone: write one such as 'Europe/London' or 'UTC'"),
    ]


def test_a_language_that_is_not_a_two_letter_code_is_reported() -> None:
    """``languages: [english]`` names the code format to use, at its line."""
    [(line, message)] = problems_of("languages: [english]\n" + VALID)
    assert (line, message.startswith("languages 'english' is not valid: use two-letter ISO 639-1")) == (1, True)


def test_an_unknown_learning_key_is_rejected_with_a_suggestion() -> None:
    """A misspelt key under ``learning`` is refused, naming the allowed one."""
    [(line, message)] = problems_of("learning: {use_confirmed: true}\n" + VALID)
    assert (line, "did you mean 'use_confirmed_examples'?" in message) == (1, True)


def test_department_names_per_language_are_read() -> None:
    """``names: {es: ...}`` gives the department's name in that language, the plain name otherwise."""
    text = VALID.replace("    name: Roads & Transport\n", "    name: Roads & Transport\n    names: {es: Carreteras}\n")
    roads = load_routing_text(text, "routing.yaml").department("roads")
    assert (roads.name_in("es"), roads.name_in("es-MX"), roads.name_in("fr")) == (
        "Carreteras",
        "Carreteras",
        "Roads & Transport",
    )


def test_a_department_name_in_a_language_the_bot_does_not_speak_is_reported() -> None:
    """A name in a language missing from ``languages`` is a problem that says how to fix it."""
    text = "languages: [en]\n" + VALID.replace(
        "    name: Roads & Transport\n", "    name: Roads\n    names: {es: Carreteras}\n"
    )
    [(_, message)] = problems_of(text)
    assert message.startswith("department 'roads': names in es, which 'languages' does not list")


def test_menu_timeout_defaults_to_ten_minutes() -> None:
    """Without a ``menu`` key an unanswered menu goes to the fallback after ten minutes."""
    assert load_routing_text(VALID, "routing.yaml").menu.timeout_minutes == 10


def test_menu_timeout_is_read_from_the_file() -> None:
    """``menu: {timeout_minutes: 30}`` gives the citizen half an hour to choose."""
    assert load_routing_text("menu: {timeout_minutes: 30}\n" + VALID, "routing.yaml").menu.timeout_minutes == 30


@pytest.mark.parametrize("value", ["0", "-5", "ten", "20000"])
def test_menu_timeout_outside_one_minute_to_a_week_is_reported_at_its_line(value: str) -> None:
    """A menu timeout that is no whole number of minutes from 1 to a week is a problem on its line."""
    [(line, message)] = problems_of(f"menu:\n  timeout_minutes: {value}\n" + VALID)
    assert (line, message.startswith("timeout_minutes: ")) == (2, True)
