from __future__ import annotations

from decimal import Decimal

import pytest
from babel import Locale
from babel.numbers import format_currency, format_decimal, get_group_symbol
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt

POINT = gl.register_unit("TESTPOINT", 2, singular="point")
LOCALES = ("en_US", "de_DE", "fr_FR", "ja_JP", "hi_IN", "ar_EG")


@pytest.mark.parametrize(
    ("amount", "locale"),
    [
        (Money("1234.50", "USD"), "en_US"),
        (Money("1234.50", "EUR"), "de_DE"),
        (Money("1234.50", "EUR"), "fr_FR"),
        (Money("1234", "JPY"), "ja_JP"),
        (Money("-1234.567", "KWD"), "en_US"),
        (Money("1234567.89", "INR"), "hi_IN"),
    ],
)
def test_fiat_goes_through_babel(amount: Money, locale: str) -> None:
    assert gl.format_money(amount, locale) == format_currency(
        amount.amount, amount.currency.code, locale=locale
    )


def test_fiat_examples() -> None:
    assert gl.format_money(Money("1234.5", "USD")) == "$1,234.50"
    assert gl.format_money(Money("1234.5", "EUR"), "de_DE") == "1.234,50\xa0€"


def test_virtual_units_are_plural_aware() -> None:
    assert gl.format_money(Money(1, "COIN")) == "1 coin"
    assert gl.format_money(Money(0, "COIN")) == "0 coins"
    assert gl.format_money(Money(2, "COIN")) == "2 coins"
    assert gl.format_money(Money(1234, "COIN")) == "1,234 coins"
    assert gl.format_money(Money(1, "DIAMOND"), "de_DE") == "1 diamond"


def test_virtual_units_use_the_locale_grouping() -> None:
    group = get_group_symbol("fr_FR")
    assert gl.format_money(Money(1234, "COIN"), "fr_FR") == f"1{group}234 coins"
    assert gl.format_money(Money(1234, "COIN"), "de_DE") == "1.234 coins"


def test_virtual_plural_follows_the_locale_rules() -> None:
    # French counts 0 as singular, English does not.
    zero_fr = "coin" if Locale.parse("fr_FR").plural_form(0) == "one" else "coins"
    assert gl.format_money(Money(0, "COIN"), "fr_FR") == f"0 {zero_fr}"


def test_virtual_units_keep_their_exponent() -> None:
    assert gl.format_money(Money("1.5", "TESTPOINT")) == "1.50 points"
    assert gl.format_money(Money("1234.05", "TESTPOINT"), "de_DE") == "1.234,05 points"


def test_virtual_units_use_the_locale_grouping_pattern() -> None:
    assert gl.format_money(Money("100000", "TESTPOINT"), "hi_IN") == "1,00,000.00 points"
    assert gl.format_money(Money(1234567, "COIN"), "hi_IN") == "12,34,567 coins"


def test_formatting_refuses_excess_digits() -> None:
    with pytest.raises(gl.ExcessPrecision):
        gl.format_money(Money("1.005", "USD"))


@pytest.mark.parametrize(
    ("text", "unit", "locale", "expected"),
    [
        ("1,234.50", "USD", "en_US", Money("1234.50", "USD")),
        ("1234.5", "USD", "en_US", Money("1234.50", "USD")),
        ("1.234,50", "EUR", "de_DE", Money("1234.50", "EUR")),
        ("1234", "COIN", "en_US", Money(1234, "COIN")),
        ("-7", "JPY", "ja_JP", Money(-7, "JPY")),
    ],
)
def test_parse_reads_the_locale_notation(
    text: str, unit: str, locale: str, expected: Money
) -> None:
    assert gl.parse_money(text, unit, locale) == expected


def test_parse_reads_the_french_group_symbol() -> None:
    group = get_group_symbol("fr_FR")
    assert gl.parse_money(f"1{group}234,50", "EUR", "fr_FR") == Money("1234.50", "EUR")


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("1,23,4.50", "en_US"),
        ("12,34", "en_US"),
        ("1.234,50", "en_US"),
        ("1,234.50", "de_DE"),
        ("12.34.56", "de_DE"),
        ("abc", "en_US"),
        ("", "en_US"),
        ("1,234 coins", "en_US"),
        ("$1.00", "en_US"),
    ],
)
def test_strict_parse_rejects_bad_grouping_and_non_numbers(text: str, locale: str) -> None:
    with pytest.raises(gl.InvalidAmount) as info:
        gl.parse_money(text, "USD", locale)
    assert repr(text) in str(info.value)


def test_parse_refuses_excess_digits_naming_the_text() -> None:
    with pytest.raises(gl.ExcessPrecision, match=r"'1,234\.567'"):
        gl.parse_money("1,234.567", "USD", "en_US")


@given(
    st.one_of(glt.virtual_units(), st.just(POINT)).flatmap(
        lambda u: glt.amounts(u, min_value=-(10**6), max_value=10**6)
    ),
    st.sampled_from(LOCALES),
)
def test_virtual_amounts_round_trip_through_format_and_parse(amount: Money, locale: str) -> None:
    unit = gl.get_unit(amount.currency.code)
    text = gl.format_money(amount, locale)
    number, _, name = text.rpartition(" ")
    assert name in (unit.singular, unit.plural)
    assert gl.parse_money(number, unit, locale) == amount


@given(glt.fiat_units(), st.sampled_from(LOCALES), st.data())
def test_fiat_numbers_round_trip_through_parse(
    unit: gl.Unit, locale: str, data: st.DataObject
) -> None:
    amount = data.draw(glt.amounts(unit, min_value=-(10**9), max_value=10**9))
    text = format_decimal(amount.amount, locale=locale, decimal_quantization=False)
    assert gl.parse_money(text, unit, locale) == amount


def test_format_money_accepts_decimal_amounts_with_trailing_zeros() -> None:
    assert gl.format_money(Money(Decimal("3.000"), "USD")) == "$3.00"


@pytest.mark.parametrize("locale", ["xx_YY", "5", "", 5])
def test_an_unknown_locale_is_an_invalid_argument_naming_it(locale: object) -> None:
    with pytest.raises(gl.InvalidArgument) as info:
        gl.format_money(Money(1, "COIN"), locale)  # type: ignore[arg-type]
    assert repr(locale) in str(info.value)
    with pytest.raises(gl.InvalidArgument):
        gl.format_money(Money(1, "USD"), locale)  # type: ignore[arg-type]
    with pytest.raises(gl.InvalidArgument):
        gl.parse_money("1", "USD", locale)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [None, 5, b"1"])
def test_parse_refuses_what_is_not_text(text: object) -> None:
    with pytest.raises(gl.InvalidAmount, match=repr(text)):
        gl.parse_money(text, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Money("1.234", "IQD"), "IQD1.234"),
        (Money("-1234.5", "RSD"), "-RSD1,234.50"),
        (Money("12.34", "LBP"), "LBP12.34"),
    ],
)
def test_format_money_writes_exactly_the_units_exponent(amount: Money, expected: str) -> None:
    # CLDR gives these currencies 0 digits; their ISO exponent (py-moneyed) is 3 or 2.
    assert gl.format_money(amount) == expected


# IQD, RSD, LBP, CLF: CLDR's currency digits differ from the ISO exponent.
@given(
    glt.fiat_units((*glt.FIAT_CODES, "IQD", "RSD", "LBP", "CLF")),
    st.sampled_from(LOCALES),
    st.data(),
)
def test_fiat_formatting_writes_every_minor_digit(
    unit: gl.Unit, locale: str, data: st.DataObject
) -> None:
    minor = data.draw(st.integers(-(10**12), 10**12))
    text = gl.format_money(gl.from_minor(minor, unit), locale)
    digits = "".join(c for c in text if "0" <= c <= "9")
    assert digits == str(abs(minor)).zfill(unit.exponent + 1)


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "KWD", "INR", "GBP", "CHF", "BHD"])
@pytest.mark.parametrize("locale", LOCALES)
def test_fiat_formatting_matches_babel_where_cldr_agrees(code: str, locale: str) -> None:
    amount = gl.from_minor(-123456789, code)
    assert gl.format_money(amount, locale) == format_currency(amount.amount, code, locale=locale)


@pytest.mark.parametrize("value", ["5", 5, Decimal("5"), None, gl.get_unit("USD")])
def test_format_money_refuses_what_is_not_money_naming_it(value: object) -> None:
    with pytest.raises(gl.InvalidAmount) as info:
        gl.format_money(value)  # type: ignore[arg-type]
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    "text", ["1E5", "1e5", "1.5E+3", "NaN", "Infinity", "-inf", "sNaN", "1_000", "١٩.٩٩", "１２"]
)
def test_parse_refuses_exponents_specials_and_non_ascii_digits(text: str) -> None:
    with pytest.raises(gl.InvalidAmount) as info:
        gl.parse_money(text, "USD")
    assert repr(text) in str(info.value)
