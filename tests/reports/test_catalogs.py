"""The message catalogs: compiled, complete, really translated, and loaded by babel."""

from __future__ import annotations

import re
import string

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

import giftledger as gl
from giftledger._reports.catalogs import compile_catalog, extract, po_path, unit_messages
from giftledger._reports.i18n import CATALOG_LANGUAGES, LOCALE_DIR, Reader, translations

FOREIGN = [lang for lang in CATALOG_LANGUAGES if lang != "en"]


def _read(language: str):  # type: ignore[no-untyped-def]
    with po_path(language).open("rb") as f:
        return read_po(f, locale=language, domain="giftledger")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _key(message) -> tuple[str | None, str]:  # type: ignore[no-untyped-def]
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


@pytest.mark.parametrize("language", CATALOG_LANGUAGES)
def test_the_committed_mo_file_is_what_the_po_file_compiles_to(language: str) -> None:
    po = po_path(language)
    assert po.with_suffix(".mo").read_bytes() == compile_catalog(po), (
        f"{po.with_suffix('.mo')} is stale: run python -m giftledger._reports.catalogs"
    )


@pytest.mark.parametrize("language", CATALOG_LANGUAGES)
def test_every_message_of_the_code_is_translated_in_every_catalog(language: str) -> None:
    used = {_key(m): m for m in extract() if m.id}
    catalog = _read(language)
    have = {_key(m): m for m in catalog if m.id}
    assert set(used) - set(have) == set(), "messages missing from the catalog"
    assert set(have) - set(used) == set(), "messages the code no longer uses"
    for key, m in have.items():
        assert not m.fuzzy, key
        forms = (m.string,) if isinstance(m.string, str) else tuple(m.string)
        assert len(forms) == (1 if isinstance(m.id, str) else catalog.num_plurals), key
        assert all(forms), f"{language}: {key} has an empty translation"
        ids = (m.id,) if isinstance(m.id, str) else tuple(m.id)
        # A translation keeps every placeholder of the message and invents none.
        for form in forms:
            assert _fields(form) == _fields(ids[-1]), (language, key, form)


def test_the_extraction_finds_the_reports_messages_and_the_presets_unit_names() -> None:
    ids = {_key(m) for m in extract() if m.id}
    assert (None, "Store fees") in ids
    assert (None, "Statement for {creator} ({n} entry)") in ids
    assert ("unit", "diamond") in ids
    assert len(unit_messages()) >= 5


@pytest.mark.parametrize("language", FOREIGN)
def test_foreign_catalogs_are_translations_not_english_copies(language: str) -> None:
    catalog = _read(language)
    messages = [m for m in catalog if m.id]
    same = [
        m.id
        for m in messages
        if (m.string if isinstance(m.string, str) else m.string[-1])
        == (m.id if isinstance(m.id, str) else m.id[-1])
    ]
    # Only brand names may stay as they are (Twitch's "Bits" are "Bits" everywhere).
    assert len(same) <= 2, same


def test_catalogs_load_as_babel_translations_with_their_plural_rules() -> None:
    for language in CATALOG_LANGUAGES:
        assert isinstance(translations(language), Translations)
    de = translations("de_DE")
    assert de.ngettext("{n} coin", "{n} coins", 1) == "{n} Münze"
    assert de.ngettext("{n} coin", "{n} coins", 2) == "{n} Münzen"
    fr = translations("fr_FR")
    assert fr.ngettext("{n} coin", "{n} coins", 0) == "{n} pièce"  # French: 0 is singular
    assert fr.ngettext("{n} coin", "{n} coins", 1_000_000) == "{n} de pièces"
    ja = translations("ja_JP")
    assert ja.ngettext("{n} coin", "{n} coins", 1) == ja.ngettext("{n} coin", "{n} coins", 5)


def test_a_locale_without_a_catalog_falls_back_by_language_then_to_english() -> None:
    assert Reader("fr_CA").gettext("Store fees") == Reader("fr_FR").gettext("Store fees")
    italian = Reader("it_IT")
    assert italian.gettext("Store fees") == "Store fees"
    assert italian.ngettext("{n} coin", "{n} coins", 1234) == "1.234 coins"


def test_the_catalogs_ship_inside_the_package() -> None:
    found = sorted(p.relative_to(LOCALE_DIR).as_posix() for p in LOCALE_DIR.rglob("*.mo"))
    assert found == [f"{lang}/LC_MESSAGES/giftledger.mo" for lang in CATALOG_LANGUAGES]
    assert LOCALE_DIR.parent == __import__("pathlib").Path(gl.__file__).parent


def test_an_unknown_locale_names_itself() -> None:
    for bad in ("xx_NOPE", "", "en_US_x_y"):
        with pytest.raises(gl.UnknownLocale, match=re.escape(repr(bad))):
            Reader(bad)
    assert issubclass(gl.UnknownLocale, gl.InvalidArgument)
