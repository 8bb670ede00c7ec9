"""The shipped catalogs: complete, in sync with bot/texts.py, and packaged."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot import texts
from bot.i18n import LOCALES, placeholders

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("es", "fr", "de", "pl", "ar", "uk", "pt", "it", "tr")
SHIPPED = sorted(path.parent.parent.name for path in LOCALES.glob("*/LC_MESSAGES/messages.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def _entries(catalog: Catalog) -> dict[str, Message]:
    return {str(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id}


def _problems(language: str) -> list[str]:
    """Everything wrong with one shipped catalog, as a translator would fix it."""
    template = _entries(_read(LOCALES / "messages.pot"))
    catalog = _read(LOCALES / language / "LC_MESSAGES" / "messages.po")
    entries = _entries(catalog)
    problems = [f"missing: {key!r}" for key in template if key not in entries]
    problems += [f"not in the template (run scripts/catalogs): {key!r}" for key in entries if key not in template]
    for key, message in entries.items():
        if message.fuzzy:
            problems.append(f"fuzzy: {key!r}")
        forms = [str(form) for form in (message.string if isinstance(message.string, tuple) else (message.string,))]
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = frozenset().union(*(placeholders(str(source)) for source in sources))
        if message.pluralizable and len(forms) != catalog.num_plurals:
            problems.append(f"{len(forms)} plural forms instead of {catalog.num_plurals}: {key!r}")
        for form in forms:
            if not form:
                problems.append(f"empty: {key!r}")
            elif placeholders(form) != wanted:  # the str() above: Babel types a form as str | list[str]
                problems.append(f"placeholders {sorted(placeholders(form))} instead of {sorted(wanted)}: {key!r}")
    return problems


def test_every_required_language_is_shipped() -> None:
    """Spanish, French, German, Polish, Arabic, Ukrainian, Portuguese, Italian and Turkish have catalogs."""
    assert set(REQUIRED) <= set(SHIPPED)


@pytest.mark.parametrize("language", SHIPPED)
def test_catalog_is_complete(language: str) -> None:
    """Every citizen text is translated, not fuzzy, with exactly the placeholders of its English source."""
    assert _problems(language) == []


def test_completeness_check_catches_a_wrong_placeholder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A translation whose placeholder differs from the source's is reported, so the check is not vacuous."""
    for path in LOCALES.rglob("*.po*"):
        target = tmp_path / path.relative_to(LOCALES)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes().replace(b"Su caso {reference}", b"Su caso {referencia}"))
    monkeypatch.setattr(f"{__name__}.LOCALES", tmp_path)
    assert any("placeholders" in problem for problem in _problems("es"))


def test_template_holds_every_citizen_text_of_the_source() -> None:
    """Extracting bot/texts.py with babel.cfg gives exactly the msgids of bot/locales/messages.pot."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]  # Babel leaves it untyped
    extracted = {
        message[0] if isinstance(message, tuple) else message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
        )
    }
    assert extracted == set(_entries(_read(LOCALES / "messages.pot")))


def test_every_msg_constant_is_in_the_template() -> None:
    """Each Msg and Plural constant of bot/texts.py has an entry in the template (none built at run time)."""
    template = set(_entries(_read(LOCALES / "messages.pot")))
    constants = [value for value in vars(texts).values() if isinstance(value, texts.Msg | texts.Plural)]
    missing = [c for c in constants if (c.singular if isinstance(c, texts.Plural) else c) not in template]
    assert missing == []


def test_package_data_ships_the_catalogs() -> None:
    """The package-data patterns cover the template and every .po, so a wheel carries them."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["bot"]
    files = [p.relative_to(LOCALES.parent) for p in LOCALES.rglob("*") if p.suffix in {".po", ".pot"}]
    assert files
    assert [f for f in files if not any(f.match(pattern) for pattern in patterns)] == []
