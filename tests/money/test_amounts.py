from __future__ import annotations

import decimal
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt

R = gl.Rounding


@pytest.mark.parametrize(
    ("value", "unit", "minor"),
    [
        ("19.99", "USD", 1999),
        (Decimal("19.99"), "USD", 1999),
        (Money("19.99", "USD"), "USD", 1999),
        (19, "USD", 1900),
        ("19.9", "USD", 1990),
        ("-0.01", "USD", -1),
        ("1234", "JPY", 1234),
        ("1.234", "KWD", 1234),
        (" 5 ", "USD", 500),
        ("+5.", "USD", 500),
        (".5", "USD", 50),
        ("1.000", "USD", 100),  # trailing zeros are not excess precision
        (Money("10.00", "USD") * Decimal("1.50"), "USD", 1500),  # Money arithmetic: 15.0000
        ("-2.50000", "JPY", None),
        (Decimal("1E+2"), "USD", 10_000),
    ],
)
def test_to_minor_reads_exact_amounts(value: object, unit: str, minor: int | None) -> None:
    if minor is None:
        with pytest.raises(gl.ExcessPrecision):
            gl.to_minor(value, unit)
    else:
        assert gl.to_minor(value, unit) == minor


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1.5, "1.5"),
        (0.1, "0.1"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (True, "True"),
        (False, "False"),
    ],
)
def test_floats_and_bools_are_refused_naming_the_value(value: object, shown: str) -> None:
    with pytest.raises(gl.FloatNotAllowed, match=shown) as info:
        gl.to_minor(value, "USD")
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize(
    "value",
    [
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        "NaN",
        "Infinity",
        "-inf",
        "1e5",
        "1,000",
        "",
        "12abc",
        "0x10",
    ],
)
def test_non_finite_and_unreadable_values_are_invalid_amounts(value: object) -> None:
    with pytest.raises(gl.InvalidAmount) as info:
        gl.to_minor(value, "USD")
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [None, b"1", [1], object()])
def test_other_types_are_invalid_amounts_naming_the_value(value: object) -> None:
    with pytest.raises(gl.InvalidAmount) as info:
        gl.to_minor(value, "USD")
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    ("value", "unit"), [("0.001", "USD"), ("1.5", "JPY"), ("0.0001", "KWD"), ("19.999", "EUR")]
)
def test_excess_digits_are_refused_unless_a_rounding_is_named(value: str, unit: str) -> None:
    with pytest.raises(gl.ExcessPrecision, match=value.replace(".", r"\.")):
        gl.to_minor(value, unit)
    assert isinstance(gl.to_minor(value, unit, R.HALF_EVEN), int)


def test_money_with_excess_digits_is_refused() -> None:
    with pytest.raises(gl.ExcessPrecision):
        gl.to_minor(Money("1.005", "USD"), "USD")


def test_money_in_another_unit_is_a_currency_mismatch() -> None:
    with pytest.raises(gl.CurrencyMismatch, match="EUR"):
        gl.to_minor(Money("1.00", "EUR"), "USD")


# Each row: the rounding mode, then results for 12.5, -12.5, 13.5, -13.5 (ties) and
# 12.1, 12.9, -12.1, -12.9 cents.
ROUNDING_TABLE = {
    R.HALF_EVEN: (12, -12, 14, -14, 12, 13, -12, -13),
    R.HALF_UP: (13, -13, 14, -14, 12, 13, -12, -13),
    R.HALF_DOWN: (12, -12, 13, -13, 12, 13, -12, -13),
    R.DOWN: (12, -12, 13, -13, 12, 12, -12, -12),
    R.UP: (13, -13, 14, -14, 13, 13, -13, -13),
    R.FLOOR: (12, -13, 13, -14, 12, 12, -13, -13),
    R.CEILING: (13, -12, 14, -13, 13, 13, -12, -12),
}
INPUTS = ("0.125", "-0.125", "0.135", "-0.135", "0.121", "0.129", "-0.121", "-0.129")


@pytest.mark.parametrize("rounding", list(R))
def test_every_rounding_mode_on_ties_and_negatives(rounding: gl.Rounding) -> None:
    got = tuple(gl.to_minor(v, "USD", rounding) for v in INPUTS)
    assert got == ROUNDING_TABLE[rounding]


def test_the_rounding_table_covers_every_mode() -> None:
    assert set(ROUNDING_TABLE) == set(R)


_DECIMAL_MODES = {
    R.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    R.HALF_UP: decimal.ROUND_HALF_UP,
    R.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    R.DOWN: decimal.ROUND_DOWN,
    R.UP: decimal.ROUND_UP,
    R.FLOOR: decimal.ROUND_FLOOR,
    R.CEILING: decimal.ROUND_CEILING,
}


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False),
    glt.roundings(),
)
def test_rounding_agrees_with_decimal_quantize(value: Decimal, rounding: gl.Rounding) -> None:
    ctx = decimal.Context(prec=50, rounding=_DECIMAL_MODES[rounding])
    expected = int(value.quantize(Decimal("0.01"), context=ctx).scaleb(2, ctx))
    assert gl.to_minor(value, "USD", rounding) == expected


def test_rounding_ignores_the_ambient_decimal_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = decimal.ROUND_UP
        assert gl.to_minor("12345.675", "USD", R.HALF_EVEN) == 1234568
        assert gl.from_minor(123456789, "USD") == Money("1234567.89", "USD")


@pytest.mark.parametrize("value", [10**40, -(10**40), "1e40", Decimal(10) ** 40, 10**16 + 1])
def test_huge_amounts_are_out_of_range(value: object) -> None:
    expected = gl.AmountOutOfRange if not isinstance(value, str) else gl.InvalidAmount
    with pytest.raises(expected) as info:
        gl.to_minor(value, "USD")
    assert repr(value) in str(info.value)


def test_the_largest_amount_fits() -> None:
    assert gl.to_minor(10**16, "USD") == gl.MAX_MINOR
    assert gl.to_minor(-(10**16), "USD") == -gl.MAX_MINOR


@given(glt.units(), glt.minor_amounts())
def test_from_minor_and_to_minor_round_trip(unit: gl.Unit, minor: int) -> None:
    money = gl.from_minor(minor, unit)
    assert money.currency.code == unit.code
    assert money.amount.as_tuple().exponent == -unit.exponent
    assert gl.to_minor(money, unit) == minor
    assert gl.to_minor(str(money.amount), unit.code) == minor


@given(glt.amounts())
def test_drawn_amounts_are_exact_in_their_unit(money: Money) -> None:
    unit = gl.get_unit(money.currency.code)
    assert gl.from_minor(gl.to_minor(money, unit), unit) == money


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1/3", Fraction(1, 3)), ("30%", Fraction(3, 10)), ("0.25", Fraction(1, 4)), (2, Fraction(2))],
)
def test_round_fraction_inputs(value: str | int, expected: Fraction) -> None:
    from giftledger._money.amounts import to_fraction

    assert to_fraction(value) == expected


@pytest.mark.parametrize(
    ("minor", "error"),
    [
        (0.1, gl.FloatNotAllowed),
        (True, gl.FloatNotAllowed),
        ("5", gl.InvalidAmount),
        (Decimal(5), gl.InvalidAmount),
        (None, gl.InvalidAmount),
    ],
)
def test_from_minor_takes_only_ints(minor: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=re.escape(repr(minor))):
        gl.from_minor(minor, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("exponent", [19, 40, 10**6, 10**9, 999_999_999_999])
def test_huge_exponents_are_out_of_range_at_once(exponent: int) -> None:
    # Decimal("1E+999999999") once built a power of ten with a billion digits.
    value = Decimal(f"1E+{exponent}")
    with pytest.raises(gl.AmountOutOfRange) as info:
        gl.to_minor(value, "USD")
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    ("rounding", "positive", "negative"),
    [
        (R.HALF_EVEN, 0, 0),
        (R.HALF_UP, 0, 0),
        (R.HALF_DOWN, 0, 0),
        (R.DOWN, 0, 0),
        (R.UP, 1, -1),
        (R.FLOOR, 0, -1),
        (R.CEILING, 1, 0),
    ],
)
def test_vanishing_amounts_round_by_the_named_mode(
    rounding: gl.Rounding, positive: int, negative: int
) -> None:
    for exponent in (5, 10**9):
        assert gl.to_minor(Decimal(f"7E-{exponent}"), "USD", rounding) == positive
        assert gl.to_minor(Decimal(f"-7E-{exponent}"), "USD", rounding) == negative
    with pytest.raises(gl.ExcessPrecision):
        gl.to_minor(Decimal("1E-999999999"), "USD")


@pytest.mark.parametrize("value", [Decimal("0E-999999999"), Decimal("-0E+999999999"), "-0.000"])
def test_zero_in_any_spelling_is_zero(value: object) -> None:
    assert gl.to_minor(value, "USD") == 0


@pytest.mark.parametrize(
    "value", ["1" * 5000, Decimal("1" * 5000), "0." + "1" * 5000, Decimal("1" * 1001)]
)
def test_amounts_with_thousands_of_digits_are_invalid(value: object) -> None:
    with pytest.raises(gl.InvalidAmount, match="digits"):
        gl.to_minor(value, "USD", gl.Rounding.HALF_EVEN)


@pytest.mark.parametrize(
    "rate",
    [Decimal("1E+999999999"), Decimal("1E-999999999"), "1" * 5000 + "/3", "3/" + "1" * 5000],
)
def test_rates_and_ratios_of_absurd_size_are_invalid(rate: object) -> None:
    with pytest.raises(gl.InvalidAmount):
        gl.allocate(10, [rate, 1])  # type: ignore[list-item]


@pytest.mark.parametrize("rounding", ["bogus", "half_even", "HALF_EVEN", 1, decimal.ROUND_HALF_UP])
def test_to_minor_refuses_a_rounding_that_is_not_a_rounding_member(rounding: object) -> None:
    for value in ("0.126", "0.125", "1"):
        with pytest.raises(gl.InvalidArgument) as info:
            gl.to_minor(value, "USD", rounding)  # type: ignore[arg-type]
        assert repr(rounding) in str(info.value)


@pytest.mark.parametrize("rounding", ["bogus", None, 1, gl.Leftover.FIRST_IN_ORDER])
def test_round_fraction_refuses_a_rounding_that_is_not_a_rounding_member(
    rounding: object,
) -> None:
    for value in (Fraction(5, 2), Fraction(2), Fraction(13, 5)):
        with pytest.raises(gl.InvalidArgument) as info:
            gl.round_fraction(value, rounding)  # type: ignore[arg-type]
        assert repr(rounding) in str(info.value)


@pytest.mark.parametrize(
    "text", ["١٩.٩٩", "１２", "1٢", "٠", "1_000", "1e5", "1E5", "١/٢", "1.5e-1"]
)
def test_decimal_strings_take_only_ascii_digits_without_exponent(text: str) -> None:
    from giftledger._money.amounts import to_fraction

    with pytest.raises(gl.InvalidAmount) as info:
        gl.to_minor(text, "USD")
    assert repr(text) in str(info.value)
    with pytest.raises(gl.InvalidAmount):
        to_fraction(text)


@pytest.mark.parametrize(
    ("value", "minor"),
    [
        ("19.99", 1999),
        ("-0.50", -50),
        ("1.000", 100),
        ("+7", 700),
        (".5", 50),
        (Decimal("1E+1"), 1000),
        (19, 1900),
        (Money("19.99", "USD"), 1999),
    ],
)
def test_plain_ascii_amounts_still_read(value: object, minor: int) -> None:
    assert gl.to_minor(value, "USD") == minor
