"""The reader's language: gettext catalogs, locales, and amounts written for them.

Labels come from the gettext catalogs shipped in ``giftledger/locale`` (domain
``giftledger``: en, de, fr, es, pt_BR, ja), loaded with
:class:`babel.support.Translations`; a locale without a catalog of its own
falls back to its language's (``fr_CA`` reads ``fr``) and then to English,
while its numbers and dates are still written the locale's way. Amounts go
through babel: fiat with the locale's currency format, virtual units as a
locale-formatted number and the unit's name in the right plural form. The names
are the economy's own (a platform that calls its Diamonds "kicks" reads
"kicks"); the names of the presets' units are translated too (context
``unit`` in the catalogs), so a German reader of a TikTok statement reads
"Diamanten".
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.support import NullTranslations, Translations
from moneyed import Money

from .._economy.rules import fraction_text
from .._errors import UnknownLocale
from .._money.amounts import from_minor, to_minor
from .._money.formatting import format_money
from .._money.units import UnitKind, get_unit

__all__ = [
    "CATALOG_LANGUAGES",
    "DOMAIN",
    "LOCALE_DIR",
    "N_",
    "UNIT_CONTEXT",
    "Reader",
    "locale_code",
    "parse_locale",
    "translations",
]

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
"""Where the catalogs live: ``LOCALE_DIR/<lang>/LC_MESSAGES/giftledger.{po,mo}``."""
DOMAIN = "giftledger"
CATALOG_LANGUAGES = ("de", "en", "es", "fr", "ja", "pt_BR")
"""The languages giftledger ships a catalog for."""
UNIT_CONTEXT = "unit"
"""The gettext context (``msgctxt``) of unit names in the catalogs."""


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message


def parse_locale(value: str | Locale) -> Locale:
    """The babel ``Locale`` for ``value`` (``"de_DE"``, ``"de-DE"``, ``"ja"`` or a Locale).

    Raises:
        UnknownLocale: babel knows no such locale; the message names it.

    Example:
        >>> str(parse_locale("pt-BR"))
        'pt_BR'
    """
    if isinstance(value, Locale):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return Locale.parse(value.strip().replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            pass
    raise UnknownLocale(
        f"unknown locale {value!r}: babel knows no such locale; pass one such as "
        f"'en_US', 'de_DE' or 'ja_JP'"
    )


def locale_code(value: str | Locale) -> str:
    """``value`` as the canonical string babel writes (``"de-DE"`` gives ``"de_DE"``)."""
    return str(parse_locale(value))


@functools.lru_cache(maxsize=64)
def translations(locale: str) -> NullTranslations:
    """The catalog for ``locale`` (its own, its language's, else no translation).

    Example:
        >>> translations("de_DE").gettext("Store fees")
        'Store-Gebühren'
    """
    loaded = Translations.load(str(LOCALE_DIR), [locale], DOMAIN)
    if not isinstance(loaded, Translations):
        # No catalog for this language: the messages stay English; plural forms
        # still follow the locale (see Reader.ngettext).
        return NullTranslations()
    return loaded


class Reader:
    """Writes labels, amounts and dates for one locale and one economy's unit names.

    Args:
        locale: a babel Locale or its name.
        unit_names: ``code -> (singular, plural)`` display names (an economy's
            ``unit_names``); other units use their registered names.

    Example:
        >>> from moneyed import Money
        >>> import giftledger as gl
        >>> _ = gl.register_unit("KICK_DEMO", 0, singular="kick")
        >>> r = Reader("de_DE", {"KICK_DEMO": ("kick", "kicks")})
        >>> r.money(Money(1234, "KICK_DEMO")), r.money(Money("1234.5", "EUR"))
        ('1.234 kicks', '1.234,50\\xa0€')
    """

    def __init__(
        self, locale: str | Locale, unit_names: Mapping[str, tuple[str, str]] | None = None
    ) -> None:
        self.locale = parse_locale(locale)
        self.code = str(self.locale)
        self.names = dict(unit_names or {})
        self._t = translations(self.code)
        self._has_catalog = isinstance(self._t, Translations)

    def gettext(self, message: str, **values: Any) -> str:
        """``message`` translated, its ``{placeholders}`` filled with ``values``."""
        text: str = self._t.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """The plural form for ``n`` of a message, translated; ``{n}`` is ``n`` written
        for the locale, other placeholders are filled with ``values``."""
        if self._has_catalog:
            text: str = self._t.ngettext(singular, plural, n)
        else:
            text = singular if self.locale.plural_form(abs(n)) == "one" else plural
        return text.format(n=self.number(n), **values)

    def number(self, n: int) -> str:
        """A count written for the locale (``1.000`` in de_DE)."""
        pattern = copy.copy(self.locale.decimal_formats[None])
        pattern.frac_prec = (0, 0)
        return str(pattern.apply(n, self.locale))

    def unit_name(self, code: str, value: Any) -> str:
        """The name of ``value`` units of ``code``: the economy's name (or the
        registered one), translated when the catalog knows it, in the locale's
        plural form for ``value``."""
        unit = get_unit(code)
        singular, plural = self.names.get(code, (unit.singular, unit.plural))
        one = self.locale.plural_form(abs(value)) == "one"
        if self._has_catalog and value == int(value):
            text: str = self._t.npgettext(UNIT_CONTEXT, singular, plural, abs(int(value)))
            if text not in (singular, plural):
                return text
        return singular if one else plural

    def money(self, amount: Money) -> str:
        """``amount`` written for the locale: babel's currency format for fiat, a
        number and the unit's name for virtual units, exactly the unit's digits."""
        unit = get_unit(amount.currency.code)
        if unit.kind is UnitKind.FIAT:
            return format_money(amount, self.code)
        value = from_minor(to_minor(amount, unit), unit).amount
        pattern = copy.copy(self.locale.decimal_formats[None])
        pattern.frac_prec = (unit.exponent, unit.exponent)
        return f"{pattern.apply(value, self.locale)} {self.unit_name(unit.code, value)}"

    def signed(self, amount: Money) -> str:
        """``amount`` with an explicit sign: ``+5,00 $`` or ``-5,00 $`` (zero: ``5,00 $``)."""
        if amount.amount > 0:
            return "+" + self.money(amount)
        if amount.amount < 0:
            return "-" + self.money(-amount)
        return self.money(amount)

    def date(self, day: date | datetime) -> str:
        """A date in the locale's medium format (``01.09.2025``, ``1 sept. 2025``)."""
        if isinstance(day, datetime):
            day = day.date()
        return str(format_date(day, format="medium", locale=self.locale))

    def datetime(self, at: datetime) -> str:
        """A moment in the locale's medium format, in its own offset."""
        return str(format_datetime(at, format="medium", tzinfo=at.tzinfo, locale=self.locale))

    def rate(self, value: Fraction) -> str:
        """An exact rate for the locale: ``1,27`` in de_DE; one that does not end as a
        decimal stays a fraction (``1/210``)."""
        text = fraction_text(value)
        if "/" in text:
            return text
        digits = len(text.partition(".")[2])
        pattern = copy.copy(self.locale.decimal_formats[None])
        pattern.frac_prec = (digits, digits)
        return str(pattern.apply(Decimal(text), self.locale))
