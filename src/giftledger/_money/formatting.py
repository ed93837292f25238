"""Writing amounts for people and reading them back, through babel.

Fiat amounts use babel's currency format for the locale, but always with exactly
the unit's exponent of fraction digits: CLDR's digits for a currency (IQD 0,
RSD 0) may disagree with the ISO 4217 exponent py-moneyed gives the unit (IQD
3, RSD 2), and formatting must never round an amount away. babel knows nothing
of COIN or DIAMOND, so virtual units are written as a locale-formatted number
with exactly the unit's exponent of fraction digits, followed by the unit's
singular or plural name chosen by the locale's plural rules ("1 coin",
"1 234 coins" in fr_FR). Parsing is strict: babel's ``strict=True`` refuses
text whose grouping does not fit the locale, and giftledger refuses what
babel's ``Decimal()`` would still read (exponents, NaN, infinity, ``_``,
digits other than ASCII 0-9).
"""

from __future__ import annotations

import copy
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberFormatError, format_currency, parse_decimal
from moneyed import Money

from .._boundary import shown
from .._errors import ExcessPrecision, InvalidAmount, InvalidArgument
from .amounts import from_minor, to_minor
from .units import Unit, UnitKind, get_unit

__all__ = ["format_money", "parse_money"]


def format_money(amount: Money, locale: str = "en_US") -> str:
    """Write ``amount`` for a reader in ``locale``, with exactly its unit's fraction digits.

    Raises:
        InvalidAmount: ``amount`` is not a ``moneyed.Money``.
        ExcessPrecision: the amount has more fraction digits than its unit.
        InvalidArgument: babel does not know ``locale``.

    Example:
        >>> from moneyed import Money
        >>> format_money(Money("1234.5", "EUR"), "de_DE")
        '1.234,50\\xa0€'
        >>> import giftledger
        >>> _ = giftledger.register_unit("COIN", 0, singular="coin")
        >>> format_money(Money(1, "COIN"))
        '1 coin'
    """
    if not isinstance(amount, Money):
        raise InvalidAmount(
            f"amount {shown(amount)} of type {type(amount).__name__} is not moneyed.Money; "
            f"build one with giftledger.from_minor() or moneyed.Money(amount, code)"
        )
    unit = get_unit(amount.currency.code)
    # Normalise to the unit's exponent exactly (no rounding: excess digits are an error).
    value = from_minor(to_minor(amount, unit), unit).amount
    if unit.kind is UnitKind.FIAT:
        return _format_fiat(value, unit, locale)
    return _format_virtual(value, unit, locale)


def _format_fiat(value: Decimal, unit: Unit, locale: str) -> str:
    loc = _locale(locale)
    # The locale's currency pattern with the unit's exponent, not CLDR's currency
    # digits: those would write 1.234 IQD as "IQD1" (CLDR gives IQD 0 digits).
    pattern = copy.copy(loc.currency_formats["standard"])
    pattern.frac_prec = (unit.exponent, unit.exponent)
    return str(format_currency(value, unit.code, pattern, locale=loc, currency_digits=False))


def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale)
    except (TypeError, ValueError, UnknownLocaleError):
        raise InvalidArgument(
            f"locale {shown(locale)} is not a locale babel knows; pass one such as 'en_US' "
            f"or 'de_DE'"
        ) from None


def _format_virtual(value: Decimal, unit: Unit, locale: str) -> str:
    loc = _locale(locale)
    # The locale's own decimal pattern (its grouping: 1,00,000 in hi_IN) with exactly
    # the unit's exponent of fraction digits.
    pattern = copy.copy(loc.decimal_formats[None])
    pattern.frac_prec = (unit.exponent, unit.exponent)
    number = pattern.apply(value, loc)
    name = unit.singular if loc.plural_form(abs(value)) == "one" else unit.plural
    return f"{number} {name}"


def parse_money(text: str, unit: str | Unit, locale: str = "en_US") -> Money:
    """Read a number written for ``locale`` as an amount of ``unit``, strictly.

    A trailing unit name (``"coins"``) or currency symbol is not accepted: pass
    the number alone.

    Raises:
        InvalidAmount: the text is not a number in that locale's notation.
        ExcessPrecision: more fraction digits than the unit allows.

    Example:
        >>> parse_money("1.234,50", "EUR", "de_DE")
        Money('1234.50', 'EUR')
    """
    u = unit if isinstance(unit, Unit) else get_unit(unit)
    if not isinstance(text, str):
        raise InvalidAmount(f"{shown(text)} is not text to parse; pass a str")
    loc = _locale(locale)
    # babel hands the text to Decimal(), which also reads "1E5", "NaN", "1_000" and
    # digits of any script ("١٩"); user text gets plain ASCII digits or nothing.
    for c in text:
        if c.isalpha() or c == "_" or (c.isdigit() and not "0" <= c <= "9"):
            raise InvalidAmount(
                f"{shown(text)} is not a plain number: {shown(c)} is not allowed; write ASCII "
                f"digits 0-9 with the {locale} separators, without exponent or unit"
            )
    try:
        value = parse_decimal(text, locale=loc, strict=True)
    except NumberFormatError as exc:
        raise InvalidAmount(f"{shown(text)} is not a number in {locale} notation: {exc}") from None
    try:
        minor = to_minor(value, u)
    except ExcessPrecision:
        raise ExcessPrecision(
            f"{shown(text)} has more fraction digits than {u.code} allows ({u.exponent})"
        ) from None
    return from_minor(minor, u)
