"""Splitting an amount into parts that always sum to the whole.

:func:`allocate` is Fowler's allocate (also dinero.js's and Numscript's
portions): every part gets the floor of its exact share, and the few minor
units left over go out one each by a named :class:`Leftover` policy. Parts
therefore sum exactly to the total and each is within one minor unit of its
exact share. :func:`split` builds Numscript-style specs on top: fixed
amounts, percentages with an optional cap, and one ``remaining`` part.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import TypeVar, overload

import attrs
from moneyed import Money

from .._errors import CurrencyMismatch, FloatNotAllowed, InvalidArgument, InvalidTransaction
from .amounts import RatioLike, from_minor, to_fraction, to_minor

__all__ = ["Leftover", "Portion", "allocate", "fixed", "percent", "remaining", "split"]

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
        raise InvalidArgument(f"ratios {ratios!r} must be a sequence of numbers")
    if not ratios:
        raise InvalidArgument("ratios must not be empty")
    out = [to_fraction(r, "ratio") for r in ratios]
    for r, raw in zip(out, ratios, strict=True):
        if r < 0:
            raise InvalidArgument(f"ratio {raw!r} is negative; ratios must be >= 0")
    if sum(out) == 0:
        raise InvalidArgument(f"ratios {list(ratios)!r} sum to zero; at least one must be > 0")
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
        raise InvalidArgument(f"policy {policy!r} must be a giftledger.Leftover")
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
            indivisible units (coins, cents).
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
            f"total {total!r} is a {type(total).__name__}; pass moneyed.Money or an int "
            f"count of minor units"
        )
    if not isinstance(total, int):
        raise InvalidArgument(
            f"total {total!r} must be moneyed.Money or an int count of minor units"
        )
    return tuple(_allocate_int(total, fr, policy))


@attrs.frozen(slots=True)
class Portion:
    """One part of a :func:`split`: build it with :func:`fixed`, :func:`percent`
    or :func:`remaining`.

    Attributes:
        kind: ``"fixed"``, ``"percent"`` or ``"remaining"``.
        amount: the fixed amount (``Money`` or ``int``), for ``"fixed"``.
        ratio: the share of what is left after fixed parts, for ``"percent"``.
        cap: the most a percent part may take; the excess goes to ``remaining``.
    """

    kind: str
    amount: int | Money | None = None
    ratio: Fraction | None = None
    cap: int | Money | None = None


_KINDS = frozenset({"fixed", "percent", "remaining"})


def fixed(amount: int | Money) -> Portion:
    """A portion of exactly ``amount``, taken before any percentage."""
    return Portion("fixed", amount=amount)


def percent(share: RatioLike, *, cap: int | Money | None = None) -> Portion:
    """A share of what is left after fixed portions: ``percent("30%")``,
    ``percent("0.3")`` or ``percent("3/10")`` are the same; ``cap`` bounds it.

    ``cap`` is a magnitude (an ``int`` of minor units or a ``Money``, >= 0): it
    bounds the part of a negative total from below just as it bounds the part of
    a positive one from above.

    Raises:
        InvalidArgument: ``share`` is outside 0% to 100%, or ``cap`` is negative
            or neither an int nor a ``Money``.
        FloatNotAllowed: ``share`` or ``cap`` is a float or a bool.
    """
    ratio = to_fraction(share, "percent")
    if not 0 <= ratio <= 1:
        raise InvalidArgument(f"percent {share!r} must be between 0% and 100%")
    if cap is not None:
        if isinstance(cap, bool | float):
            raise FloatNotAllowed(
                f"cap {cap!r} is a {type(cap).__name__}; pass moneyed.Money or an int "
                f"count of minor units"
            )
        if isinstance(cap, Money):
            negative = not cap.amount.is_finite() or cap.amount < 0
        elif isinstance(cap, int):
            negative = cap < 0
        else:
            raise InvalidArgument(
                f"cap {cap!r} must be moneyed.Money, an int count of minor units, or None"
            )
        if negative:
            raise InvalidArgument(f"cap {cap!r} must be a finite amount >= 0")
    return Portion("percent", ratio=ratio, cap=cap)


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

    Returns:
        One part per portion, in order, summing exactly to ``total``.

    Raises:
        InvalidTransaction: fixed portions exceed the total, percentages exceed
            100%, or the spec leaves money with nowhere to go.
        InvalidArgument: an item is not a :class:`Portion`, or ``policy`` is
            not a :class:`Leftover`.

    Example:
        >>> split(1000, [fixed(100), percent("30%"), remaining()])
        (100, 270, 630)
        >>> split(-1000, [fixed(100), percent("30%"), remaining()])
        (-100, -270, -630)
        >>> split(1000, [percent("50%", cap=300), remaining()])
        (300, 700)
    """
    if isinstance(portions, str | bytes) or not isinstance(portions, Sequence):
        raise InvalidArgument(
            f"portions {portions!r} must be a sequence of fixed(), percent() and remaining()"
        )
    for p in portions:
        if not isinstance(p, Portion) or p.kind not in _KINDS:
            raise InvalidArgument(
                f"split item {p!r} is not a portion; build each with giftledger.fixed(), "
                f"giftledger.percent() or giftledger.remaining()"
            )
    if type(policy) is not Leftover:
        raise InvalidArgument(f"policy {policy!r} must be a giftledger.Leftover")
    is_money = isinstance(total, Money)
    unit = total.currency.code if isinstance(total, Money) else ""

    def minor(value: int | Money) -> int:
        if isinstance(value, Money):
            if not is_money:
                raise CurrencyMismatch(
                    f"portion {value!r} is Money but the total {total!r} is an int count; "
                    f"give both as Money or both as ints"
                )
            return to_minor(value, unit)
        if isinstance(value, bool | float):
            raise FloatNotAllowed(
                f"amount {value!r} is a {type(value).__name__}; pass moneyed.Money or an int"
            )
        if not isinstance(value, int):
            raise InvalidArgument(f"amount {value!r} must be moneyed.Money or an int")
        return value

    whole = minor(total)
    # A negative total is the mirror of the positive one: split its magnitude, negate.
    parts = _split_minor(abs(whole), portions, policy, minor)
    if whole < 0:
        parts = [-p for p in parts]
    if is_money:
        return tuple(from_minor(p, unit) for p in parts)  # type: ignore[misc]
    return tuple(parts)  # type: ignore[arg-type]


def _split_minor(
    whole: int,
    portions: Sequence[Portion],
    policy: Leftover,
    minor: Callable[[int | Money], int],
) -> list[int]:
    """Split ``whole`` >= 0 minor units by ``portions``."""
    rest_idx = [i for i, p in enumerate(portions) if p.kind == "remaining"]
    if len(rest_idx) > 1:
        raise InvalidArgument("a split may have at most one remaining() portion")
    parts = [0] * len(portions)
    for i, p in enumerate(portions):
        if p.kind == "fixed":
            assert p.amount is not None
            parts[i] = minor(p.amount)
            if parts[i] < 0:
                raise InvalidArgument(f"fixed portion {p.amount!r} is negative")
    rest = whole - sum(parts)
    if rest < 0:
        raise InvalidTransaction(
            f"fixed portions {sum(parts)} exceed the total's magnitude {whole}"
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
            cap = portions[i].cap
            if cap is not None and parts[i] > minor(cap):
                if not rest_idx:
                    raise InvalidTransaction("a capped percent portion needs a remaining() portion")
                parts[i] = minor(cap)
    left = whole - sum(parts)
    if rest_idx:
        parts[rest_idx[0]] = left
    elif left != 0:
        raise InvalidTransaction(
            f"the portions leave {left} of {whole} unassigned; add a remaining() portion"
        )
    return parts
