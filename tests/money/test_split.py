from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt


def test_fixed_then_percent_then_remaining() -> None:
    assert gl.split(1000, [gl.fixed(100), gl.percent("30%"), gl.remaining()]) == (100, 270, 630)


def test_a_capped_percent_sends_the_excess_to_remaining() -> None:
    assert gl.split(1000, [gl.percent("50%", cap=300), gl.remaining()]) == (300, 700)
    assert gl.split(400, [gl.percent("50%", cap=300), gl.remaining()]) == (200, 200)


def test_rounding_losses_go_to_remaining() -> None:
    assert gl.split(Money("10.00", "USD"), [gl.percent("1/3"), gl.remaining()]) == (
        Money("3.33", "USD"),
        Money("6.67", "USD"),
    )


def test_percentages_of_exactly_100_follow_the_leftover_policy() -> None:
    thirds = [gl.percent("1/3")] * 3
    assert gl.split(100, thirds) == (34, 33, 33)
    assert gl.split(100, thirds, gl.Leftover.LAST_IN_ORDER) == (33, 33, 34)


def test_percent_spellings_are_equal() -> None:
    assert gl.percent("30%") == gl.percent("0.3") == gl.percent("3/10")


def test_remaining_may_sit_anywhere_in_the_spec() -> None:
    assert gl.split(1000, [gl.remaining(), gl.fixed(1), gl.percent("10%")]) == (900, 1, 99)


@pytest.mark.parametrize(
    ("total", "portions", "error", "shown"),
    [
        (100, [gl.fixed(101), gl.remaining()], gl.InvalidTransaction, "101"),
        (100, [gl.percent("60%"), gl.percent("50%")], gl.InvalidTransaction, "110"),
        (100, [gl.percent("60%")], gl.InvalidTransaction, "remaining"),
        (100, [gl.remaining(), gl.remaining()], gl.InvalidArgument, "remaining"),
        (100, [gl.percent("100%", cap=10)], gl.InvalidTransaction, "remaining"),
        (100, [gl.fixed(40)], gl.InvalidTransaction, "60"),
        (10.5, [gl.remaining()], gl.FloatNotAllowed, "10.5"),
        ("10.00", [gl.remaining()], gl.InvalidArgument, "Money('10.00', 'USD')"),
        (Money("10", "USD"), [gl.fixed(11), gl.remaining()], gl.InvalidTransaction, "11.00 USD"),
        (Money("10", "USD"), [gl.fixed(6)], gl.InvalidTransaction, "4.00 USD of 10.00 USD"),
    ],
)
def test_impossible_specs_are_refused(
    total: object, portions: list[gl.Portion], error: type[Exception], shown: str
) -> None:
    with pytest.raises(error) as info:
        gl.split(total, portions)  # type: ignore[type-var]
    assert shown in str(info.value)


@pytest.mark.parametrize(
    ("build", "error", "shown"),
    [
        (lambda: gl.fixed(-1), gl.InvalidArgument, "-1"),
        (lambda: gl.fixed("-0.01"), gl.InvalidArgument, "-0.01"),
        (lambda: gl.fixed(2.5), gl.FloatNotAllowed, "2.5"),  # type: ignore[arg-type]
        (lambda: gl.fixed("ten"), gl.InvalidAmount, "ten"),
        (lambda: gl.fixed_minor(-1), gl.InvalidArgument, "-1"),
        (lambda: gl.fixed_minor(2.5), gl.FloatNotAllowed, "2.5"),  # type: ignore[arg-type]
        (lambda: gl.fixed_minor("250"), gl.InvalidArgument, "fixed()"),  # type: ignore[arg-type]
        (lambda: gl.percent("50%", cap_minor=-1), gl.InvalidArgument, "-1"),
        (lambda: gl.percent("50%", cap_minor="250"), gl.InvalidArgument, "cap="),  # type: ignore[arg-type]
        (lambda: gl.percent("50%", cap=1, cap_minor=100), gl.InvalidArgument, "not both"),
    ],
)
def test_a_bad_portion_is_refused_when_it_is_built(
    build: object, error: type[gl.GiftLedgerError], shown: str
) -> None:
    with pytest.raises(error) as info:
        build()  # type: ignore[operator]
    assert shown in str(info.value)


def test_money_portions_need_a_money_total_in_the_same_unit() -> None:
    with pytest.raises(gl.CurrencyMismatch, match="int count"):
        gl.split(1000, [gl.percent("50%", cap=Money("3", "USD")), gl.remaining()])
    with pytest.raises(gl.CurrencyMismatch, match="EUR"):
        gl.split(Money("10", "USD"), [gl.fixed(Money("1", "EUR")), gl.remaining()])
    assert gl.split(Money("10", "USD"), [gl.fixed(Money("1", "USD")), gl.remaining()]) == (
        Money("1.00", "USD"),
        Money("9.00", "USD"),
    )


@pytest.mark.parametrize("share", ["150%", "-1%", "2", 0.5])
def test_percent_outside_0_to_100_or_float_is_refused(share: object) -> None:
    with pytest.raises(gl.GiftLedgerError) as info:
        gl.percent(share)  # type: ignore[arg-type]
    assert str(share) in str(info.value)


@given(glt.split_specs(remainder=True))
def test_parts_sum_to_the_whole(spec: tuple[int, list[gl.Portion]]) -> None:
    total, portions = spec
    parts = gl.split(total, portions)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    for part, portion in zip(parts, portions, strict=True):
        if portion.kind == "fixed":
            assert part == portion.amount
        if portion.kind == "percent" and portion.cap is not None:
            assert part <= portion.cap


@given(glt.amounts("KWD", min_value=0, max_value="100000"), st.fractions(0, 1, max_denominator=97))
def test_money_splits_sum_to_the_whole(total: Money, share: Fraction) -> None:
    parts = gl.split(total, [gl.percent(share), gl.remaining()])
    assert sum(gl.to_minor(p, "KWD") for p in parts) == gl.to_minor(total, "KWD")


def test_split_of_a_negative_total_mirrors_the_positive_one() -> None:
    spec = [gl.fixed(100), gl.percent("30%"), gl.remaining()]
    assert gl.split(-1000, spec) == (-100, -270, -630)
    assert gl.split(-1, [gl.fixed(1)]) == (-1,)
    assert gl.split(-1000, [gl.percent("50%", cap=300), gl.remaining()]) == (-300, -700)
    assert gl.split(Money("-10.00", "USD"), [gl.percent("1/3"), gl.remaining()]) == (
        Money("-3.33", "USD"),
        Money("-6.67", "USD"),
    )


def test_a_negative_total_refuses_what_the_positive_one_refuses() -> None:
    with pytest.raises(gl.InvalidTransaction, match="101"):
        gl.split(-100, [gl.fixed(101), gl.remaining()])
    with pytest.raises(gl.InvalidTransaction, match="60"):
        gl.split(-100, [gl.fixed(40)])


@given(glt.split_specs(), glt.leftovers())
def test_split_of_minus_the_total_is_minus_the_split(
    spec: tuple[int, list[gl.Portion]], policy: gl.Leftover
) -> None:
    total, portions = spec
    positive = gl.split(total, portions, policy)
    negative = gl.split(-total, portions, policy)
    assert negative == tuple(-p for p in positive)
    assert sum(positive) == total
    assert sum(negative) == -total


@pytest.mark.parametrize("cap", [-1, -100, Money("-0.01", "USD"), Money("NaN", "USD")])
def test_a_negative_cap_is_refused_when_the_portion_is_built(cap: object) -> None:
    with pytest.raises(gl.InvalidArgument) as info:
        gl.percent("50%", cap=cap)  # type: ignore[arg-type]
    assert repr(cap) in str(info.value)


@pytest.mark.parametrize(
    ("cap", "error"),
    [
        ("three hundred", gl.InvalidAmount),
        ("NaN", gl.InvalidAmount),
        (Decimal("Infinity"), gl.InvalidAmount),
        ([300], gl.InvalidAmount),
        (2.5, gl.FloatNotAllowed),
        (True, gl.FloatNotAllowed),
    ],
)
def test_a_cap_that_is_not_an_amount_is_refused(
    cap: object, error: type[gl.GiftLedgerError]
) -> None:
    with pytest.raises(error) as info:
        gl.percent("50%", cap=cap)  # type: ignore[arg-type]
    assert repr(cap) in str(info.value)


def test_a_zero_cap_is_a_valid_cap() -> None:
    assert gl.split(1000, [gl.percent("50%", cap=0), gl.remaining()]) == (0, 1000)


@pytest.mark.parametrize("item", [50, "50%", None, Money("1", "USD")])
def test_split_refuses_items_that_are_not_portions(item: object) -> None:
    with pytest.raises(gl.InvalidArgument) as info:
        gl.split(100, [item, gl.remaining()])  # type: ignore[list-item]
    assert repr(item) in str(info.value)
    assert "fixed()" in str(info.value)
    assert "remaining()" in str(info.value)


def test_split_refuses_a_bogus_leftover_policy() -> None:
    with pytest.raises(gl.InvalidArgument, match="'bogus'"):
        gl.split(100, [gl.percent("50%"), gl.remaining()], "bogus")  # type: ignore[arg-type]
