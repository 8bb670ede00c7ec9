"""The routing file's ``privacy`` key: validated, with the line of the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.routing_file import RoutingFileError, load_routing

BASE = """\
fallback: general
departments:
  - key: general
    name: Citizen Services
    desk: web
"""


def _write(tmp_path: Path, privacy: str) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(BASE + privacy)
    return path


def test_retention_days_is_read_from_the_routing_file(tmp_path: Path) -> None:
    """``privacy: {retention_days: 365}`` sets the retention period."""
    assert load_routing(_write(tmp_path, "privacy:\n  retention_days: 365\n")).privacy.retention_days == 365


def test_retention_defaults_to_two_years(tmp_path: Path) -> None:
    """Without the key, closed cases keep their data 730 days, as the notice has always said."""
    assert load_routing(_write(tmp_path, "")).privacy.retention_days == 730


@pytest.mark.parametrize("privacy", ["privacy:\n  retention_days: 0\n", "privacy:\n  retention_dayz: 30\n"])
def test_bad_privacy_key_names_file_and_line(tmp_path: Path, privacy: str) -> None:
    """A zero period or a misspelt key is refused as ``FILE:LINE: message`` at the privacy block."""
    with pytest.raises(RoutingFileError) as refused:
        load_routing(_write(tmp_path, privacy))
    assert str(refused.value).startswith(f"{tmp_path / 'routing.yaml'}:7:")
