"""``--help`` on every command: each prints its own usage, and ``run --help`` lists the settings."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from bot.cli import build_parser
from config.settings import Settings


def commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every runnable command path, such as ``("db", "upgrade")``, found by walking the parser."""
    found = False
    for action in parser._actions:  # argparse offers no public way to list subcommands
        if isinstance(action, argparse._SubParsersAction):
            found = True
            for name, child in action.choices.items():
                yield from commands(child, (*prefix, name))
    if not found:
        yield prefix


def help_of(words: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    """What ``civic-bridge WORDS --help`` prints."""
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*words, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_every_command_has_help_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    """``COMMAND SUBCOMMAND --help`` prints the subcommand's usage, not its parent's, for every command."""
    paths = list(commands(build_parser()))
    assert ("db", "upgrade") in paths
    for words in paths:
        assert help_of(words, capsys).startswith(f"usage: civic-bridge {' '.join(words)} "), words


def test_run_help_lists_every_setting_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    """``run --help`` names each BRIDGE_ variable with its default, as the settings model defines them."""
    text = help_of(("run",), capsys)
    for name in Settings.model_fields:
        assert f"BRIDGE_{name.upper()}" in text
    assert "BRIDGE_HTTP_PORT                     8080" in text
    assert "BRIDGE_TELEGRAM_TOKEN                unset (secret)" in text
