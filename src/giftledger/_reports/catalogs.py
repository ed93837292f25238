"""Keeping the message catalogs in step with the code (a tool for maintainers).

``python -m giftledger._reports.catalogs`` extracts every message the reports
use (babel's Python extractor over ``giftledger/_reports``; ``gettext`` /
``ngettext`` calls) and the display names of the presets' units (context
``unit``), writes the template ``locale/giftledger.pot``, merges it into each
language's ``giftledger.po`` (new messages arrive untranslated, for a
translator) and compiles every ``giftledger.mo``. The tests check that the
committed ``.mo`` files are what the ``.po`` files compile to and that every
message is translated in every catalog.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract as extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .i18n import CATALOG_LANGUAGES, DOMAIN, LOCALE_DIR, UNIT_CONTEXT

__all__ = ["compile_catalog", "extract", "main", "po_path", "unit_messages"]

_SOURCES = Path(__file__).resolve().parent
_KEYWORDS = {"gettext": None, "ngettext": (1, 2), "N_": None}


def po_path(language: str) -> Path:
    """Where ``language``'s catalog lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def unit_messages() -> list[tuple[str, str]]:
    """``(singular, plural)`` of every preset's units, as the presets name them."""
    from .. import presets

    seen: list[tuple[str, str]] = []
    for info in presets.list():
        econ = presets.load(info.name)
        for code in (econ.coin_unit, econ.creator_unit):
            pair = econ.unit_names.get(code)
            if pair is not None and pair not in seen:
                seen.append(pair)
    return seen


def extract() -> Catalog:
    """The template: every message of the reports' code and the presets' unit names."""
    template = Catalog(
        domain=DOMAIN, project="giftledger", copyright_holder="giftledger developers", fuzzy=False
    )
    for path in sorted(_SOURCES.glob("*.py")):
        with path.open("rb") as f:
            found = list(
                extract_python("python", f, keywords=_KEYWORDS, comment_tags=("Translators:",))
            )
        for lineno, message, comments, context in found:
            where = (f"giftledger/_reports/{path.name}", lineno)
            template.add(message, locations=[where], auto_comments=comments, context=context)
    for singular, plural in unit_messages():
        template.add((singular, plural), context=UNIT_CONTEXT, locations=[("presets", 0)])
    return template


def compile_catalog(po: Path) -> bytes:
    """The ``.mo`` bytes that ``po`` compiles to."""
    with po.open("rb") as f:
        catalog = read_po(f, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def main() -> None:
    """Extract, merge into every language's catalog, and compile."""
    template = extract()
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as f:
        write_po(f, template, omit_header=False, sort_output=True, include_lineno=False)
    for language in CATALOG_LANGUAGES:
        po = po_path(language)
        if po.exists():
            with po.open("rb") as f:
                catalog = read_po(f, locale=language, domain=DOMAIN)
        else:
            po.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(
                locale=Locale.parse(language),
                domain=DOMAIN,
                project="giftledger",
                copyright_holder="giftledger developers",
                fuzzy=False,
            )
        catalog.update(template, update_header_comment=False)
        catalog.obsolete.clear()
        with po.open("wb") as f:
            write_po(f, catalog, sort_output=True, include_lineno=False, ignore_obsolete=True)
        po.with_suffix(".mo").write_bytes(compile_catalog(po))


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    main()
