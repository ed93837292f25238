from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt

L = gl.Leftover
Ratios = Sequence[int | Decimal | Fraction]


def _exact(total: int, ratios: Ratios) -> list[Fraction]:
    whole = sum(Fraction(r) for r in ratios)
    return [total * Fraction(r) / whole for r in ratios]


@given(st.integers(-(10**12), 10**12), glt.ratios(), glt.leftovers())
def test_parts_sum_to_the_total(total: int, ratios: Ratios, policy: gl.Leftover) -> None:
    parts = gl.allocate(total, ratios, policy)
    assert len(parts) == len(ratios)
    assert sum(parts) == total
    assert all(type(p) is int for p in parts)


@given(st.integers(-(10**12), 10**12), glt.ratios(), glt.leftovers())
def test_each_part_is_within_one_minor_unit_of_its_exact_share(
    total: int, ratios: Ratios, policy: gl.Leftover
) -> None:
    parts = gl.allocate(total, ratios, policy)
    for part, exact in zip(parts, _exact(total, ratios), strict=True):
        assert abs(part - exact) < 1


@given(st.integers(0, 10**12), glt.ratios(), glt.leftovers())
def test_zero_ratios_get_nothing(total: int, ratios: Ratios, policy: gl.Leftover) -> None:
    parts = gl.allocate(total, ratios, policy)
    assert all(p == 0 for p, r in zip(parts, ratios, strict=True) if r == 0)


@given(st.integers(0, 10**12), glt.ratios(), glt.leftovers())
def test_a_negative_total_mirrors_the_positive_one(
    total: int, ratios: Ratios, policy: gl.Leftover
) -> None:
    assert gl.allocate(-total, ratios, policy) == tuple(
        -p for p in gl.allocate(total, ratios, policy)
    )


@given(glt.amounts("USD", min_value="-1000000", max_value="1000000"), glt.ratios())
def test_money_is_allocated_in_cents_and_keeps_every_cent(total: Money, ratios: Ratios) -> None:
    parts = gl.allocate(total, ratios)
    assert all(p.currency.code == "USD" for p in parts)
    assert sum(gl.to_minor(p, "USD") for p in parts) == gl.to_minor(total, "USD")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (L.FIRST_IN_ORDER, (13, 1, 1)),
        (L.LAST_IN_ORDER, (12, 1, 2)),
        (L.LARGEST_REMAINDER, (12, 1, 2)),
    ],
)
def test_fifteen_by_80_8_12(policy: gl.Leftover, expected: tuple[int, ...]) -> None:
    assert gl.allocate(15, [80, 8, 12], policy) == expected


def test_first_in_order_is_the_default() -> None:
    assert gl.allocate(15, [80, 8, 12]) == (13, 1, 1)


def test_largest_remainder_gives_leftovers_to_the_biggest_losses() -> None:
    # Exact shares 3.33.., 3.6, 3.066..: the 0.6 remainder wins the single leftover unit.
    assert gl.allocate(
        10, [Fraction(1, 3), Decimal("0.36"), Fraction(23, 75)], L.LARGEST_REMAINDER
    ) == (3, 4, 3)
    # Ties go to the earlier part.
    assert gl.allocate(2, [1, 1, 1], L.LARGEST_REMAINDER) == (1, 1, 0)


def test_leftovers_skip_zero_ratios() -> None:
    assert gl.allocate(5, [0, 1, 0, 1], L.FIRST_IN_ORDER) == (0, 3, 0, 2)
    assert gl.allocate(5, [1, 0, 1, 0], L.LAST_IN_ORDER) == (2, 0, 3, 0)


def test_money_allocation_example() -> None:
    assert gl.allocate(Money("0.05", "USD"), [1, 1]) == (Money("0.03", "USD"), Money("0.02", "USD"))
    assert gl.allocate(Money("100", "JPY"), ["1/3", "1/3", "1/3"]) == (
        Money(34, "JPY"),
        Money(33, "JPY"),
        Money(33, "JPY"),
    )


@pytest.mark.parametrize(
    ("ratios", "error", "shown"),
    [
        ([], gl.InvalidArgument, "empty"),
        ([0, 0], gl.InvalidArgument, "[0, 0]"),
        ([1, -1], gl.InvalidArgument, "-1"),
        ([1, 0.5], gl.FloatNotAllowed, "0.5"),
        ([1, True], gl.FloatNotAllowed, "True"),
        ([1, Decimal("NaN")], gl.InvalidAmount, "NaN"),
        ("12", gl.InvalidArgument, "'12'"),
        ([1, "1/0"], gl.InvalidAmount, "1/0"),
    ],
)
def test_bad_ratios_are_refused_naming_the_value(
    ratios: object, error: type[Exception], shown: str
) -> None:
    with pytest.raises(error) as info:
        gl.allocate(10, ratios)  # type: ignore[arg-type]
    assert shown in str(info.value)


@pytest.mark.parametrize(
    ("total", "error"),
    [(1.5, gl.FloatNotAllowed), (True, gl.FloatNotAllowed), ("10", gl.InvalidArgument)],
)
def test_bad_totals_are_refused(total: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=repr(total).replace(".", r"\.")):
        gl.allocate(total, [1, 1])  # type: ignore[call-overload]


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(gl.InvalidArgument, match="policy"):
        gl.allocate(10, [1, 2], "first")  # type: ignore[call-overload]
