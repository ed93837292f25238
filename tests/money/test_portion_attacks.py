"""A Portion built by hand gets the checks fixed(), percent() and remaining() make.

Regressions from the hostile review of issue 9: before, ``Portion("percent",
ratio=0.5)`` crashed split() with AttributeError, ``ratio="0.5"`` with TypeError,
a negative ratio gave a negative part (and a remaining part larger than the total),
and ``Portion("fixed", amount=Decimal(1), amount_minor=5)`` silently took 5 cents.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl
from giftledger._money.allocation import Portion

TOTAL = Money("10.00", "USD")


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"kind": "percent", "ratio": 0.5}, gl.FloatNotAllowed, r"percent 0\.5 is a float"),
        ({"kind": "percent", "ratio": Fraction(-1, 2)}, gl.InvalidArgument, r"between 0%"),
        ({"kind": "percent", "ratio": Fraction(3, 2)}, gl.InvalidArgument, r"between 0%"),
        ({"kind": "percent"}, gl.InvalidArgument, r"needs a ratio"),
        (
            {"kind": "percent", "ratio": "1/2", "amount": Decimal(1)},
            gl.InvalidArgument,
            "no amount",
        ),
        (
            {"kind": "percent", "ratio": "1/2", "cap": Decimal(1), "cap_minor": 5},
            gl.InvalidArgument,
            r"either cap .* or cap_minor",
        ),
        ({"kind": "percent", "ratio": "1/2", "cap_minor": -1}, gl.InvalidArgument, r">= 0"),
        (
            {"kind": "fixed", "amount": Decimal(1), "amount_minor": 5},
            gl.InvalidArgument,
            r"exactly one of amount",
        ),
        ({"kind": "fixed"}, gl.InvalidArgument, r"exactly one of amount"),
        ({"kind": "fixed", "amount": Decimal("NaN")}, gl.InvalidAmount, r"not finite"),
        ({"kind": "fixed", "amount": 1.5}, gl.FloatNotAllowed, r"float"),
        ({"kind": "fixed", "amount_minor": True}, gl.FloatNotAllowed, r"bool"),
        (
            {"kind": "fixed", "amount": Decimal(1), "ratio": Fraction(1)},
            gl.InvalidArgument,
            "ratio",
        ),
        ({"kind": "remaining", "cap_minor": 5}, gl.InvalidArgument, r"takes no cap_minor"),
        ({"kind": "rest"}, gl.InvalidArgument, r"kind 'rest' must be"),
        ({"kind": None}, gl.InvalidArgument, r"kind None must be"),
    ],
)
def test_a_hand_built_portion_is_checked(
    fields: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Portion(**fields)  # type: ignore[arg-type]


def test_a_hand_built_portion_splits_as_the_builders_do() -> None:
    by_hand = [Portion("fixed", amount=1), Portion("percent", ratio="30%"), Portion("remaining")]
    built = [gl.fixed(1), gl.percent("30%"), gl.remaining()]
    assert by_hand == built
    assert (
        gl.split(TOTAL, by_hand)
        == gl.split(TOTAL, built)
        == (
            Money("1.00", "USD"),
            Money("2.70", "USD"),
            Money("6.30", "USD"),
        )
    )
