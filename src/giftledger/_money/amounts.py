"""Exact amounts: the edge between the user's values and integers of minor units.

Inside giftledger an amount is an ``int`` of minor units plus a unit code.
At the API edge users pass ``int``, ``Decimal``, decimal strings or
``moneyed.Money`` and get ``Money`` back. A bare number always means major units
of the amount's unit (``1`` USD is 100 cents, ``1`` KWD 1000 fils); only names
that say so (``from_minor``, ``fixed_minor``, ``cap_minor``, ``limit_minor``)
take minor units. Floats never cross that edge: a float amount, rate or ratio
is a :class:`FloatNotAllowed` (a ``TypeError``).

All rounding here is exact arithmetic on :class:`fractions.Fraction` with a
named :class:`Rounding` mode, so the ambient :mod:`decimal` context (which any
other library in the process may change) never affects a result.
"""

from __future__ import annotations

import enum
import re
from decimal import Context, Decimal, InvalidOperation
from fractions import Fraction

from moneyed import Money

from .._boundary import shown
from .._errors import (
    AmountOutOfRange,
    CurrencyMismatch,
    ExcessPrecision,
    FloatNotAllowed,
    InvalidAmount,
    InvalidArgument,
)
from .units import Unit, get_unit

__all__ = [
    "MAX_MINOR",
    "AmountLike",
    "RatioLike",
    "Rounding",
    "from_minor",
    "round_fraction",
    "to_fraction",
    "to_minor",
]

#: The largest magnitude of one amount, in minor units: what a signed 64-bit
#: column holds with room for sums. Larger values are :class:`AmountOutOfRange`.
MAX_MINOR = 10**18

AmountLike = int | Decimal | str | Money
RatioLike = int | Decimal | str | Fraction

#: The most digits an amount, ratio or rate may be written with (Python refuses to
#: read integers of more than 4,300 digits; no amount needs a hundredth of that).
_MAX_DIGITS = 1000

# giftledger's own decimal context: the ambient one belongs to the application.
_CONTEXT = Context(prec=40)

# ASCII digits only: ``\d`` would admit "١٩.٩٩" or "１２", which Decimal() reads as numbers.
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_FRACTION_TEXT = re.compile(r"[+-]?[0-9]+/[0-9]+")


class Rounding(enum.Enum):
    """A named rounding rule. Every operation that may round takes one.

    ``HALF_EVEN`` is banker's rounding; ``DOWN`` truncates toward zero;
    ``FLOOR`` rounds toward minus infinity; ``UP`` away from zero;
    ``CEILING`` toward plus infinity; ``HALF_UP`` and ``HALF_DOWN`` break ties
    away from or toward zero.
    """

    HALF_EVEN = "half_even"
    HALF_UP = "half_up"
    HALF_DOWN = "half_down"
    DOWN = "down"
    UP = "up"
    FLOOR = "floor"
    CEILING = "ceiling"


def round_fraction(value: Fraction, rounding: Rounding) -> int:
    """Round an exact fraction to an integer by the named rule.

    Example:
        >>> from fractions import Fraction
        >>> round_fraction(Fraction(5, 2), Rounding.HALF_EVEN)
        2
        >>> round_fraction(Fraction(-5, 2), Rounding.HALF_UP)
        -3

    Raises:
        InvalidArgument: ``rounding`` is not a :class:`Rounding` member.
        InvalidAmount: ``value`` is neither a Fraction nor an int.
    """
    if type(rounding) is not Rounding:
        raise _bad_rounding(rounding)
    if isinstance(value, bool) or not isinstance(value, Fraction | int):
        raise InvalidAmount(
            f"value {shown(value)} of type {type(value).__name__} is not an exact fraction; "
            f"pass a fractions.Fraction or an int"
        )
    floor = value.numerator // value.denominator
    rest = value - floor  # 0 <= rest < 1
    if rest == 0:
        return floor
    if rounding is Rounding.FLOOR:
        return floor
    if rounding is Rounding.CEILING:
        return floor + 1
    if rounding is Rounding.DOWN:
        return floor if value > 0 else floor + 1
    if rounding is Rounding.UP:
        return floor + 1 if value > 0 else floor
    half = Fraction(1, 2)
    if rest != half:
        return floor + 1 if rest > half else floor
    if rounding is Rounding.HALF_EVEN:
        return floor if floor % 2 == 0 else floor + 1
    if rounding is Rounding.HALF_UP:
        return floor + 1 if value > 0 else floor
    # Checked on entry: only HALF_DOWN is left.
    return floor if value > 0 else floor + 1


def _bad_rounding(rounding: object) -> InvalidArgument:
    return InvalidArgument(
        f"rounding {shown(rounding)} is not a rounding mode; pass a giftledger.Rounding member "
        f"such as Rounding.HALF_EVEN"
    )


def _decimal_of(value: object, what: str) -> Decimal:
    if isinstance(value, bool | float):
        raise FloatNotAllowed(
            f"{what} {shown(value)} is a {type(value).__name__}; pass an int, a Decimal or a "
            f"decimal string such as '19.99' (floats are never exact)"
        )
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _DECIMAL_TEXT.fullmatch(text):
            raise InvalidAmount(f"{what} {shown(value)} is not a decimal number such as '19.99'")
        try:
            d = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
            raise InvalidAmount(f"{what} {shown(value)} is not a decimal number") from None
    else:
        raise InvalidAmount(
            f"{what} {shown(value)} of type {type(value).__name__} is not an amount; "
            f"pass an int, a Decimal, a decimal string or moneyed.Money"
        )
    if not d.is_finite():
        raise InvalidAmount(f"{what} {shown(value)} is not finite")
    return d


def to_fraction(value: object, what: str = "ratio") -> Fraction:
    """Read an exact ratio or rate: int, Decimal, decimal or ``"p/q"`` string, Fraction.

    Raises:
        FloatNotAllowed: for float or bool.
        InvalidAmount: for NaN, infinity or text that is not a number.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str) and len(value) > _MAX_DIGITS:
        raise InvalidAmount(f"{what} {value[:20]!r}… is longer than {_MAX_DIGITS} characters")
    if isinstance(value, str) and _FRACTION_TEXT.fullmatch(value.strip()):
        num, den = value.strip().split("/")
        if int(den) == 0:
            raise InvalidAmount(f"{what} {shown(value)} divides by zero")
        return Fraction(int(num), int(den))
    if isinstance(value, str) and value.strip().endswith("%"):
        return _decimal_fraction(_decimal_of(value.strip()[:-1], what), value, what) / 100
    return _decimal_fraction(_decimal_of(value, what), value, what)


def _decimal_fraction(d: Decimal, value: object, what: str) -> Fraction:
    _, digits, exp = d.as_tuple()
    if len(digits) > _MAX_DIGITS or not isinstance(exp, int) or abs(exp) > _MAX_DIGITS:
        # Fraction(Decimal("1E+999999999")) would build a billion-digit integer.
        raise InvalidAmount(
            f"{what} {shown(value)} has more than {_MAX_DIGITS} digits or an exponent beyond "
            f"±{_MAX_DIGITS}; no ratio or rate needs that"
        )
    return Fraction(d)


def _check_range(minor: int, value: object, unit: Unit) -> int:
    if -MAX_MINOR <= minor <= MAX_MINOR:
        return minor
    raise AmountOutOfRange(
        f"amount {shown(value)} {unit.code} is out of range: at most 10^18 minor units "
        f"({MAX_MINOR // unit.scale} {unit.code}) fit in one amount"
    )


def to_minor(
    value: object,
    unit: Unit | str,
    rounding: Rounding | None = None,
) -> int:
    """Turn a user's amount into integer minor units of ``unit``.

    ``int``, ``Decimal`` and decimal strings are amounts in major units
    (``"19.99"`` USD is 1999 cents). ``Money`` must be in ``unit``.

    Args:
        value: the amount.
        unit: the unit (or its code) the amount is in.
        rounding: how to round when the value has more (non-zero) fraction digits
            than the unit allows; ``None`` (the default) makes that an error.
            Trailing zeros are not excess: ``"1.000"`` USD is exactly 100 cents.

    Returns:
        The amount in minor units.

    Raises:
        FloatNotAllowed: for float or bool.
        InvalidAmount: NaN, infinity, unreadable text.
        ExcessPrecision: too many fraction digits and no rounding named.
        AmountOutOfRange: more than 10^18 minor units.
        CurrencyMismatch: a Money in another unit.
        InvalidArgument: ``rounding`` is neither None nor a :class:`Rounding` member.

    Example:
        >>> to_minor("19.99", "USD")
        1999
        >>> to_minor("0.125", "USD", Rounding.HALF_EVEN)
        12
    """
    if rounding is not None and type(rounding) is not Rounding:
        raise _bad_rounding(rounding)
    if not isinstance(unit, Unit):
        unit = get_unit(unit)
    if type(value) is int:  # fast path: whole major units
        return _check_range(value * unit.scale, value, unit)
    if isinstance(value, Money):
        if value.currency.code != unit.code:
            raise CurrencyMismatch(
                f"amount {value.amount} {value.currency.code} is not in {unit.code}"
            )
        d = value.amount
        if not isinstance(d, Decimal) or not d.is_finite():
            raise InvalidAmount(f"amount {shown(value)} is not a finite decimal")
    else:
        d = _decimal_of(value, "amount")
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    if len(digits) > _MAX_DIGITS:
        raise InvalidAmount(f"amount {d!s:.20}… has more than {_MAX_DIGITS} digits")
    n = int("".join(map(str, digits)) or "0")
    if n == 0:
        return 0
    shift = exp + unit.exponent  # the amount is n * 10**shift minor units
    # Settle huge and vanishing magnitudes from the digit count before any power of
    # ten is built: Decimal("1E+999999999") must fail at once, not after minutes.
    if len(digits) + shift > 19:
        return _check_range(MAX_MINOR + 1, value, unit)
    if shift >= 0:
        m = n * 10**shift
        return _check_range(-m if sign else m, value, unit)
    if len(digits) + shift >= -1:
        drop = 10**-shift
        if n % drop == 0:
            # Only zeros beyond the unit's exponent ("1.000" USD, or Money arithmetic
            # such as Money("10.00") * Decimal("1.50")): exact, nothing rounds.
            return _check_range(-(n // drop) if sign else n // drop, value, unit)
    if rounding is None:
        raise ExcessPrecision(
            f"amount {shown(value)} has more fraction digits than {unit.code} allows "
            f"({unit.exponent}); round it first or name a rounding mode"
        )
    if len(digits) + shift < -1:
        # Less than a tenth of a minor unit: every mode rounds it as it rounds 0.01.
        return round_fraction(Fraction(-1 if sign else 1, 100), rounding)
    minor = round_fraction(Fraction(d) * unit.scale, rounding)
    return _check_range(minor, value, unit)


def from_minor(minor: int, unit: Unit | str) -> Money:
    """Turn integer minor units back into ``moneyed.Money`` with the unit's exponent.

    Example:
        >>> from_minor(1999, "USD")
        Money('19.99', 'USD')
    """
    if type(minor) is not int:
        if isinstance(minor, bool | float):
            raise FloatNotAllowed(
                f"minor units {shown(minor)} is a {type(minor).__name__}; pass an int"
            )
        if not isinstance(minor, int):
            raise InvalidAmount(f"minor units {shown(minor)} must be an int")
    if not isinstance(unit, Unit):
        unit = get_unit(unit)
    return Money(Decimal(minor).scaleb(-unit.exponent, _CONTEXT), unit.code)
