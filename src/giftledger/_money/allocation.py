"""Splitting an amount into parts that always sum to the whole.

:func:`allocate` is Fowler's allocate (also dinero.js's and Numscript's
portions): every part gets the floor of its exact share, and the few minor
units left over go out one each by a named :class:`Leftover` policy. Parts
therefore sum exactly to the total and each is within one minor unit of its
exact share. :func:`split` builds Numscript-style specs on top: fixed
amounts, percentages with an optional cap, and one ``remaining`` part.

A bare number in a spec means what it means everywhere in giftledger: major
units of the total's unit (``fixed(1)`` of a USD total is one dollar, as
``debit(account, 1)`` is). Minor units are only read behind names that say so
(:func:`fixed_minor`, ``percent(..., cap_minor=)``), and a fixed amount or a cap
is never rounded to fit the unit.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar, overload

import attrs
from moneyed import Money

from .._boundary import shown
from .._errors import (
    AmountOutOfRange,
    CurrencyMismatch,
    ExcessPrecision,
    FloatNotAllowed,
    InvalidArgument,
    InvalidTransaction,
)
from .amounts import (
    AmountLike,
    RatioLike,
    _decimal_fraction,
    _decimal_of,
    from_minor,
    to_fraction,
    to_minor,
)
from .units import Unit, get_unit

__all__ = [
    "Leftover",
    "Portion",
    "allocate",
    "fixed",
    "fixed_minor",
    "percent",
    "remaining",
    "split",
]

T = TypeVar("T", int, Money)


class Leftover(enum.Enum):
    """Who receives the minor units that flooring every share leaves over.

    - ``FIRST_IN_ORDER``: one each to the first parts with a non-zero ratio
      (Fowler, Numscript): 15 by [80, 8, 12] is [13, 1, 1].
    - ``LAST_IN_ORDER``: one each to the last parts with a non-zero ratio.
    - ``LARGEST_REMAINDER``: to the parts whose exact shares lost the most to
      flooring (Hamilton's method); ties go to the earlier part. 15 by
      [80, 8, 12] is [12, 1, 2].
    """

    FIRST_IN_ORDER = "first_in_order"
    LAST_IN_ORDER = "last_in_order"
    LARGEST_REMAINDER = "largest_remainder"


def _ratios(ratios: Sequence[RatioLike]) -> list[Fraction]:
    if isinstance(ratios, str | bytes) or not isinstance(ratios, Sequence):
        raise InvalidArgument(f"ratios {shown(ratios)} must be a sequence of numbers")
    if not ratios:
        raise InvalidArgument("ratios must not be empty")
    out = [to_fraction(r, "ratio") for r in ratios]
    for r, raw in zip(out, ratios, strict=True):
        if r < 0:
            raise InvalidArgument(f"ratio {shown(raw)} is negative; ratios must be >= 0")
    if sum(out) == 0:
        raise InvalidArgument(f"ratios {shown(list(ratios))} sum to zero; at least one must be > 0")
    return out


def _allocate_int(total: int, ratios: list[Fraction], policy: Leftover) -> list[int]:
    if total < 0:
        return [-p for p in _allocate_int(-total, ratios, policy)]
    whole = sum(ratios)
    exact = [total * r / whole for r in ratios]
    parts = [e.numerator // e.denominator for e in exact]
    left = total - sum(parts)
    eligible = [i for i, r in enumerate(ratios) if r > 0]
    if policy is Leftover.FIRST_IN_ORDER:
        order = eligible
    elif policy is Leftover.LAST_IN_ORDER:
        order = eligible[::-1]
    elif policy is Leftover.LARGEST_REMAINDER:
        order = sorted(eligible, key=lambda i: (-(exact[i] - parts[i]), i))
    else:
        raise InvalidArgument(f"policy {shown(policy)} must be a giftledger.Leftover")
    # left < number of eligible parts, since each floor lost less than one unit.
    for i in order[:left]:
        parts[i] += 1
    return parts


@overload
def allocate(
    total: int, ratios: Sequence[RatioLike], policy: Leftover = ...
) -> tuple[int, ...]: ...
@overload
def allocate(
    total: Money, ratios: Sequence[RatioLike], policy: Leftover = ...
) -> tuple[Money, ...]: ...
def allocate(
    total: int | Money,
    ratios: Sequence[RatioLike],
    policy: Leftover = Leftover.FIRST_IN_ORDER,
) -> tuple[int, ...] | tuple[Money, ...]:
    """Split ``total`` by ``ratios`` so that the parts sum exactly to it.

    Args:
        total: a ``Money`` (split in its minor units) or an ``int`` count of
            indivisible units (coins, or minor units you keep yourself); a count
            is split as a count. A ``Decimal`` or a decimal string is refused:
            it has no unit, so pass ``Money("10.00", "USD")``.
        ratios: non-negative numbers, not all zero; a zero ratio gets nothing.
        policy: who receives the leftover minor units.

    Returns:
        One part per ratio, in the type of ``total``. A negative total gives the
        mirror image of the positive one.

    Example:
        >>> allocate(15, [80, 8, 12])
        (13, 1, 1)
        >>> from moneyed import Money
        >>> allocate(Money("0.05", "USD"), [1, 1])
        (Money('0.03', 'USD'), Money('0.02', 'USD'))
    """
    fr = _ratios(ratios)
    if isinstance(total, Money):
        unit = total.currency.code
        parts = _allocate_int(to_minor(total, unit), fr, policy)
        return tuple(from_minor(p, unit) for p in parts)
    if isinstance(total, bool | float):
        raise FloatNotAllowed(
            f"total {shown(total)} is a {type(total).__name__}; pass moneyed.Money or an int count"
        )
    if not isinstance(total, int):
        raise InvalidArgument(
            f"total {shown(total)} must be moneyed.Money or an int count of indivisible units; "
            f"to allocate 10.00 USD pass Money('10.00', 'USD')"
        )
    return tuple(_allocate_int(total, fr, policy))


@attrs.frozen(slots=True)
class Portion:
    """One part of a :func:`split`: build it with :func:`fixed`, :func:`fixed_minor`,
    :func:`percent` or :func:`remaining`.

    A bare number on a portion means major units of the total's unit, as it does
    everywhere in giftledger (``fixed(1)`` of a USD total is one dollar). Minor
    units are only read from the fields whose names say so.

    Attributes:
        kind: ``"fixed"``, ``"percent"`` or ``"remaining"``.
        amount: the fixed amount in major units of the total's unit (a
            ``Decimal``: ``fixed(1)`` holds ``Decimal('1')``) or a ``Money``, for
            ``"fixed"`` built by :func:`fixed`.
        ratio: the share of what is left after fixed parts, for ``"percent"``.
        cap: the most a percent part may take, in major units (a ``Decimal``)
            or a ``Money``; the excess goes to ``remaining``.
        amount_minor: the fixed amount as an int count of the total's minor
            units, for ``"fixed"`` built by :func:`fixed_minor`.
        cap_minor: the cap as an int count of minor units
            (``percent(..., cap_minor=)``).
    """

    kind: str
    amount: Decimal | Money | None = None
    ratio: Fraction | None = None
    cap: Decimal | Money | None = None
    amount_minor: int | None = None
    cap_minor: int | None = None

    def __attrs_post_init__(self) -> None:
        # A Portion built by hand gets the checks fixed(), percent() and remaining()
        # make, so split() never sees a float ratio, a negative share or two amounts.
        given = {
            name: getattr(self, name)
            for name in ("amount", "ratio", "cap", "amount_minor", "cap_minor")
            if getattr(self, name) is not None
        }
        allowed = (
            {
                "fixed": {"amount", "amount_minor"},
                "percent": {"ratio", "cap", "cap_minor"},
                "remaining": set(),
            }.get(self.kind)
            if isinstance(self.kind, str)
            else None
        )
        if allowed is None:
            raise InvalidArgument(
                f"portion kind {shown(self.kind)} must be 'fixed', 'percent' or 'remaining'; build "
                f"portions with giftledger.fixed(), percent() and remaining()"
            )
        extra = sorted(set(given) - allowed)
        if extra:
            raise InvalidArgument(f"a {self.kind} portion takes no {', '.join(extra)}")
        if self.kind == "fixed":
            if ("amount" in given) == ("amount_minor" in given):
                raise InvalidArgument(
                    "a fixed portion needs exactly one of amount (major units) and "
                    "amount_minor (minor units)"
                )
            if self.amount is not None:
                object.__setattr__(self, "amount", _major(self.amount, "fixed amount"))
            else:
                _minor_count(self.amount_minor, "fixed amount in minor units")
        elif self.kind == "percent":
            if self.ratio is None:
                raise InvalidArgument("a percent portion needs a ratio; use giftledger.percent()")
            ratio = to_fraction(self.ratio, "percent")
            if not 0 <= ratio <= 1:
                raise InvalidArgument(f"percent {shown(self.ratio)} must be between 0% and 100%")
            object.__setattr__(self, "ratio", ratio)
            if self.cap is not None and self.cap_minor is not None:
                raise InvalidArgument(
                    f"give either cap ({shown(self.cap)}, major units) or cap_minor "
                    f"({shown(self.cap_minor)}, minor units), not both"
                )
            if self.cap is not None:
                object.__setattr__(self, "cap", _major(self.cap, "cap"))
            if self.cap_minor is not None:
                _minor_count(self.cap_minor, "cap_minor")


_KINDS = frozenset({"fixed", "percent", "remaining"})


def _major(value: object, what: str) -> Decimal | Money:
    """Read a fixed amount or a cap given in major units: a ``Money``, or an int,
    ``Decimal`` or decimal string kept as an exact ``Decimal``. Whether it fits the
    total's unit is only known once :func:`split` sees the total."""
    if isinstance(value, Money):
        d = value.amount
        if not isinstance(d, Decimal) or not d.is_finite() or d < 0:
            raise InvalidArgument(f"{what} {shown(value)} must be a finite amount >= 0")
        return value
    d = _decimal_of(value, what)  # floats, bools, NaN, infinity and junk text stop here
    if d < 0:
        raise InvalidArgument(f"{what} {shown(value)} must be a finite amount >= 0")
    return d


def _minor_count(value: object, what: str) -> int:
    """Read an int count of minor units (for the ``*_minor`` forms), >= 0."""
    if isinstance(value, bool | float):
        raise FloatNotAllowed(
            f"{what} {shown(value)} is a {type(value).__name__}; pass an int count of minor units"
        )
    if not isinstance(value, int):
        major = "fixed()" if what.startswith("fixed") else "cap="
        raise InvalidArgument(
            f"{what} {shown(value)} must be an int count of minor units; for an amount in major "
            f"units (a Decimal, a decimal string or Money) use {major}"
        )
    if value < 0:
        raise InvalidArgument(f"{what} {shown(value)} must be >= 0")
    return value


def fixed(amount: AmountLike) -> Portion:
    """A portion of exactly ``amount``, taken before any percentage.

    ``amount`` is in major units of the total's unit: an ``int``, a ``Decimal``
    or a decimal string (``fixed(1)`` and ``fixed("1.00")`` of a USD total are
    one dollar; of a JPY total one yen; of a KWD total 1.000 KWD), or a
    ``Money`` in the total's unit. :func:`split` never rounds it: an amount
    finer than the unit's minor unit (``"0.001"`` USD, ``"1.5"`` JPY) is
    refused. Of an ``int`` count total, it is a count and must be whole. For
    minor units use :func:`fixed_minor`.

    Raises:
        FloatNotAllowed: ``amount`` is a float or a bool.
        InvalidAmount: ``amount`` is NaN, infinity or not a number.
        InvalidArgument: ``amount`` is negative.

    Example:
        >>> from moneyed import Money
        >>> split(Money("10.00", "USD"), [fixed(1), remaining()])
        (Money('1.00', 'USD'), Money('9.00', 'USD'))
        >>> split(Money("10", "KWD"), [fixed("2.5"), remaining()])
        (Money('2.500', 'KWD'), Money('7.500', 'KWD'))
    """
    return Portion("fixed", amount=_major(amount, "fixed amount"))


def fixed_minor(minor: int) -> Portion:
    """A portion of exactly ``minor`` minor units of the total's unit (cents of
    USD, fils of KWD), taken before any percentage. See :func:`fixed`.

    Raises:
        FloatNotAllowed: ``minor`` is a float or a bool.
        InvalidArgument: ``minor`` is negative or not an int.

    Example:
        >>> from moneyed import Money
        >>> split(Money("10.00", "USD"), [fixed_minor(1), remaining()])
        (Money('0.01', 'USD'), Money('9.99', 'USD'))
    """
    return Portion("fixed", amount_minor=_minor_count(minor, "fixed amount in minor units"))


def percent(
    share: RatioLike,
    *,
    cap: AmountLike | None = None,
    cap_minor: int | None = None,
) -> Portion:
    """A share of what is left after fixed portions: ``percent("30%")``,
    ``percent("0.3")`` or ``percent("3/10")`` are the same; ``cap`` bounds it.

    ``cap`` is in major units of the total's unit, like :func:`fixed`'s amount
    (``cap=1`` or ``cap="1.00"`` of a USD total is one dollar; a ``Money`` in
    the total's unit works too), and is never rounded. ``cap_minor`` gives the
    bound as an int count of minor units instead; give at most one of them.
    A cap is a magnitude (>= 0): it bounds the part of a negative total from
    below just as it bounds the part of a positive one from above.

    Raises:
        InvalidArgument: ``share`` is outside 0% to 100%, a cap is negative,
            ``cap_minor`` is not an int, or both caps are given.
        InvalidAmount: ``cap`` is NaN, infinity or not a number.
        FloatNotAllowed: ``share`` or a cap is a float or a bool.

    Example:
        >>> from moneyed import Money
        >>> split(Money("10.00", "USD"), [percent("50%", cap="2.00"), remaining()])
        (Money('2.00', 'USD'), Money('8.00', 'USD'))
        >>> split(Money("10.00", "USD"), [percent("50%", cap_minor=150), remaining()])
        (Money('1.50', 'USD'), Money('8.50', 'USD'))
    """
    ratio = to_fraction(share, "percent")
    if not 0 <= ratio <= 1:
        raise InvalidArgument(f"percent {shown(share)} must be between 0% and 100%")
    if cap is not None and cap_minor is not None:
        raise InvalidArgument(
            f"give either cap ({shown(cap)}, major units) or cap_minor ({shown(cap_minor)}, minor "
            f"units), not both"
        )
    return Portion(
        "percent",
        ratio=ratio,
        cap=None if cap is None else _major(cap, "cap"),
        cap_minor=None if cap_minor is None else _minor_count(cap_minor, "cap_minor"),
    )


def remaining() -> Portion:
    """The portion that receives whatever the others leave, rounding included."""
    return Portion("remaining")


def split(
    total: T,
    portions: Sequence[Portion],
    policy: Leftover = Leftover.FIRST_IN_ORDER,
) -> tuple[T, ...]:
    """Split ``total`` by a spec of fixed, percent and remaining portions.

    Fixed portions are taken first, in order. Percent portions share what is
    left, each rounded down; with a ``remaining`` portion the units lost to
    rounding and any amount above a cap go to it, and without one the
    percentages must add up to 100% and the leftover units follow ``policy``.
    A negative total gives the mirror image of the positive one (as in
    :func:`allocate`): fixed amounts and caps are magnitudes.

    Args:
        total: a ``Money``, or an ``int`` count of indivisible units (coins,
            or minor units you keep yourself). Fixed amounts and caps are read
            in major units of a ``Money`` total's unit; of a count, as counts.
        portions: the spec, built with :func:`fixed`, :func:`fixed_minor`,
            :func:`percent` and :func:`remaining`.
        policy: who receives the leftover units when the percentages add up
            to 100% and there is no ``remaining`` portion.

    Returns:
        One part per portion, in order, summing exactly to ``total``.

    Raises:
        InvalidTransaction: fixed portions exceed the total, percentages exceed
            100%, or the spec leaves money with nowhere to go.
        ExcessPrecision: a fixed amount or a cap is finer than the total's unit
            allows (``"0.001"`` USD, ``"1.5"`` JPY, ``"1.5"`` of a count).
        CurrencyMismatch: a ``Money`` portion in another unit than the total,
            or with an ``int`` count total.
        InvalidArgument: an item is not a :class:`Portion`, or ``policy`` is
            not a :class:`Leftover`.

    Example:
        >>> from moneyed import Money
        >>> split(Money("10.00", "USD"), [fixed(1), percent("30%"), remaining()])
        (Money('1.00', 'USD'), Money('2.70', 'USD'), Money('6.30', 'USD'))
        >>> split(Money("1000", "JPY"), [percent("50%", cap=300), remaining()])
        (Money('300', 'JPY'), Money('700', 'JPY'))
        >>> split(1000, [fixed(100), percent("30%"), remaining()])
        (100, 270, 630)
        >>> split(-1000, [fixed(100), percent("30%"), remaining()])
        (-100, -270, -630)
    """
    if isinstance(portions, str | bytes) or not isinstance(portions, Sequence):
        raise InvalidArgument(
            f"portions {shown(portions)} must be a sequence of fixed(), percent() and remaining()"
        )
    for p in portions:
        if not isinstance(p, Portion) or p.kind not in _KINDS:
            raise InvalidArgument(
                f"split item {shown(p)} is not a portion; build each with giftledger.fixed(), "
                f"giftledger.percent() or giftledger.remaining()"
            )
    if type(policy) is not Leftover:
        raise InvalidArgument(f"policy {shown(policy)} must be a giftledger.Leftover")
    if isinstance(total, Money):
        unit: Unit | None = get_unit(total.currency.code)
        whole = to_minor(total, total.currency.code)
    elif isinstance(total, bool | float):
        raise FloatNotAllowed(
            f"total {shown(total)} is a {type(total).__name__}; pass moneyed.Money or an int count"
        )
    elif isinstance(total, int):
        unit, whole = None, total
    else:
        raise InvalidArgument(
            f"total {shown(total)} must be moneyed.Money or an int count of indivisible units; "
            f"to split 10.00 USD pass Money('10.00', 'USD')"
        )
    reader = _Reader(total, unit)
    fixed_parts = [reader.fixed(p) if p.kind == "fixed" else None for p in portions]
    caps = [reader.cap(p) if p.kind == "percent" else None for p in portions]
    # A negative total is the mirror of the positive one: split its magnitude, negate.
    parts = _split_minor(abs(whole), portions, fixed_parts, caps, policy, reader.show)
    if whole < 0:
        parts = [-p for p in parts]
    if unit is not None:
        return tuple(from_minor(p, unit) for p in parts)
    return tuple(parts)  # type: ignore[arg-type]


@attrs.frozen(slots=True)
class _Reader:
    """Reads a split's fixed amounts and caps in the total's unit: bare numbers in
    major units (exactly, never rounded), ``*_minor`` fields as minor units.
    ``unit`` is None for an ``int`` count total, which reads like a unit with
    no fraction digits."""

    total: object
    unit: Unit | None

    def fixed(self, p: Portion) -> int:
        if p.amount_minor is not None:
            return _minor_count(p.amount_minor, "fixed amount in minor units")
        if p.amount is None:
            raise InvalidArgument(
                f"fixed portion {shown(p)} has no amount; build it with giftledger.fixed() or "
                f"giftledger.fixed_minor()"
            )
        minor = self.minor(p.amount, "fixed amount")
        if minor < 0:
            raise InvalidArgument(f"fixed portion {shown(p.amount)} is negative")
        return minor

    def cap(self, p: Portion) -> int | None:
        if p.cap_minor is not None:
            return _minor_count(p.cap_minor, "cap_minor")
        if p.cap is None:
            return None
        minor = self.minor(p.cap, "cap")
        if minor < 0:
            raise InvalidArgument(f"cap {shown(p.cap)} must be a finite amount >= 0")
        return minor

    def minor(self, value: object, what: str) -> int:
        """``value`` (major units, or Money) in minor units of the total's unit."""
        unit = self.unit
        if isinstance(value, Money):
            code = value.currency.code
            if unit is None:
                raise CurrencyMismatch(
                    f"{what} {value.amount} {code} is Money but the total {shown(self.total)} is "
                    f"an int count; give the total as Money, or the portion as a bare number"
                )
            if code != unit.code:
                raise CurrencyMismatch(
                    f"{what} {value.amount} {code} is not in {unit.code}, the unit of the "
                    f"total {shown(self.total)}"
                )
        if unit is None:
            if type(value) is int:
                return value
            exact = _decimal_fraction(_decimal_of(value, what), value, what)
            if exact.denominator != 1:
                raise ExcessPrecision(
                    f"{what} {_shown(value)} is not a whole number, but the total "
                    f"{shown(self.total)} is an int count of indivisible units: a split never "
                    f"rounds a fixed amount or a cap"
                )
            return exact.numerator
        try:
            return to_minor(value, unit)
        except ExcessPrecision:
            hint = "fixed_minor()" if what.startswith("fixed") else "cap_minor="
            raise ExcessPrecision(
                f"{what} {_shown(value)} has more fraction digits than {unit.code} allows "
                f"({unit.exponent}; its smallest amount is {from_minor(1, unit).amount}), and a "
                f"split never rounds a fixed amount or a cap: a bare number is in major units "
                f"of the total's unit, so write it with at most {unit.exponent} fraction "
                f"digits, or give whole minor units with {hint}"
            ) from None
        except AmountOutOfRange as exc:
            raise AmountOutOfRange(f"{what}: {exc}") from None

    def show(self, minor: int) -> str:
        if self.unit is None:
            return str(minor)
        return f"{from_minor(minor, self.unit).amount} {self.unit.code}"


def _shown(value: object) -> str:
    if isinstance(value, Money):
        return f"{value.amount} {value.currency.code}"
    return str(value) if isinstance(value, Decimal) else repr(value)


def _split_minor(
    whole: int,
    portions: Sequence[Portion],
    fixed_parts: Sequence[int | None],
    caps: Sequence[int | None],
    policy: Leftover,
    show: Callable[[int], str],
) -> list[int]:
    """Split ``whole`` >= 0 minor units by ``portions``, whose fixed amounts and
    caps are already read into minor units (``fixed_parts``, ``caps``)."""
    rest_idx = [i for i, p in enumerate(portions) if p.kind == "remaining"]
    if len(rest_idx) > 1:
        raise InvalidArgument("a split may have at most one remaining() portion")
    parts = [f or 0 for f in fixed_parts]
    rest = whole - sum(parts)
    if rest < 0:
        raise InvalidTransaction(
            f"fixed portions {show(sum(parts))} exceed the total's magnitude {show(whole)}"
        )
    pct = [i for i, p in enumerate(portions) if p.kind == "percent"]
    ratios = [portions[i].ratio or Fraction(0) for i in pct]
    if sum(ratios) > 1:
        raise InvalidTransaction(f"percent portions add up to {sum(ratios) * 100}% > 100%")
    if pct:
        if rest_idx:
            for i, r in zip(pct, ratios, strict=True):
                e = rest * r
                parts[i] = e.numerator // e.denominator
        elif sum(ratios) == 1:
            for i, part in zip(pct, _allocate_int(rest, ratios, policy), strict=True):
                parts[i] = part
        else:
            raise InvalidTransaction(
                f"percent portions add up to {sum(ratios) * 100}% and there is no remaining() "
                f"portion to take the rest"
            )
        for i in pct:
            cap = caps[i]
            if cap is not None and parts[i] > cap:
                if not rest_idx:
                    raise InvalidTransaction("a capped percent portion needs a remaining() portion")
                parts[i] = cap
    left = whole - sum(parts)
    if rest_idx:
        parts[rest_idx[0]] = left
    elif left != 0:
        raise InvalidTransaction(
            f"the portions leave {show(left)} of {show(whole)} unassigned; add a remaining() "
            f"portion"
        )
    return parts
