"""A platform's rules as immutable, dated data.

An :class:`Economy` is a frozen value: the units it uses, and one or more
dated :class:`RuleSet` versions (coin packs per channel and region, store
fees, taxes, the gift catalog, how gifts pay the creator, withdrawal, refund
and view-rewards policies). Every number can carry a :class:`Source` saying
where it came from, when, and how sure it is, so a preset can answer "where
did this figure come from?".

Old transactions keep the rules they were made under: the chain asks
``economy.rules_at(when)`` for the version in force at each operation.

Every record checks itself when built (one ``__attrs_post_init__`` with plain
checks, no validator stack) and raises :class:`~giftledger.InvalidEconomy`
naming the field and the value: ``"rate: 13/10 must be between 0 and 1"``.
A float anywhere is refused with an error that is both an ``InvalidEconomy``
and a :class:`~giftledger.FloatNotAllowed`. Exact inputs (``int``,
``Decimal``, ``"3/10"``, ``"30%"``) are normalised to :class:`~fractions.Fraction`.
The TOML loader prefixes each message with the full path
(``"versions[0].store_fees[1].rate: ..."``).

Provenance is keyed by the same paths. A source recorded for a record
(``"versions[0].withdrawal"``) covers each figure inside it unless a figure has
its own (``"versions[0].withdrawal.minimum"``).
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import attrs
from moneyed import Money

from .._boundary import boundary_methods, shown
from .._errors import (
    FloatNotAllowed,
    GiftLedgerError,
    InvalidArgument,
    InvalidEconomy,
    UnknownRule,
)
from .._ledger.text import check_text
from .._money.amounts import _MAX_DIGITS, MAX_MINOR, Rounding, round_fraction, to_minor
from .._money.units import UnitKind, get_unit, register_unit

__all__ = [
    "AmountRange",
    "CoinPack",
    "Confidence",
    "CreatorPay",
    "Economy",
    "Figure",
    "FloatInEconomy",
    "FrozenMap",
    "Gift",
    "PayoutModel",
    "RefundPolicy",
    "RewardsProgram",
    "RuleSet",
    "Source",
    "SpentCoinPolicy",
    "StoreFee",
    "TaxRule",
    "WithdrawalPolicy",
    "fraction_text",
    "normalize_path",
]


class FloatInEconomy(InvalidEconomy, FloatNotAllowed):
    """A float in an economy's rules: both ``InvalidEconomy`` and ``FloatNotAllowed``."""


_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenMap(Mapping[_K, _V]):
    """A read-only, hashable mapping: the mapping fields of the rules records.

    It compares equal to a ``dict`` with the same items and prints like one, so
    the rules stay frozen values (hashable, safe to share) without surprising
    anyone who reads them.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[_K, _V] | Iterable[tuple[_K, _V]] = ()) -> None:
        self._data: dict[_K, _V] = dict(data)
        self._hash: int | None = None

    def __getitem__(self, key: _K) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[type[FrozenMap[_K, _V]], tuple[dict[_K, _V]]]:
        return (type(self), (self._data,))


# --------------------------------------------------------------------------- checks
# Plain functions, called from each record's __attrs_post_init__. Each names the
# field and shows the value as the user wrote it.


def _show(value: object) -> str:
    if isinstance(value, Money):
        return f"{value.amount} {value.currency.code}"
    if isinstance(value, Fraction):
        return fraction_text(value)
    if isinstance(value, Decimal):
        return str(value)
    return shown(value)  # ints of any length, and a repr that cannot fail


def fraction_text(value: Fraction) -> str:
    """Write a fraction exactly: as a decimal when it terminates, else as ``p/q``.

    Example:
        >>> fraction_text(Fraction(13, 10)), fraction_text(Fraction(1, 210))
        ('1.3', '1/210')
    """
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    digits = max(twos, fives)
    scaled = value * 10**digits
    assert scaled.denominator == 1
    # Integer arithmetic, not Decimal: a decimal context (the ambient one has 28
    # digits, and any library may lower it) would round a long ratio as it writes it.
    sign = "-" if scaled.numerator < 0 else ""
    whole, part = divmod(abs(scaled.numerator), 10**digits)
    fraction = str(part).rjust(digits, "0").rstrip("0") if digits else ""
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


#: More bits than a numerator or denominator of _MAX_DIGITS decimal digits has.
_RATIO_BITS = (10**_MAX_DIGITS).bit_length()


def _ratio(obj: object, field: str, *, low: int = 0, high: int | None = None) -> Fraction:
    """Read ``obj.field`` as an exact ratio, store it back as a Fraction, check its range."""
    value = getattr(obj, field)
    if isinstance(value, float | bool):
        raise FloatInEconomy(
            f"{field}: {value!r} is a {type(value).__name__}; write an exact ratio "
            f"such as Fraction(3, 10), Decimal('0.3'), '3/10' or '30%'"
        )
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, int | Decimal | str):
        from .._money.amounts import to_fraction

        try:
            result = to_fraction(value, field)
        except GiftLedgerError as exc:
            raise InvalidEconomy(f"{field}: {_show(value)} is not an exact ratio ({exc})") from None
    else:
        raise InvalidEconomy(
            f"{field}: {_show(value)} of type {type(value).__name__} is not a ratio; "
            f"use a Fraction, an int, a Decimal or a string such as '3/10' or '30%'"
        )
    if max(result.numerator.bit_length(), result.denominator.bit_length()) > _RATIO_BITS or (
        len(fraction_text(result)) > _MAX_DIGITS
    ):
        # Rules are recorded in the journal as TOML and read back from it, where a
        # ratio is text of at most _MAX_DIGITS characters.
        raise InvalidEconomy(
            f"{field}: a ratio of type {type(value).__name__} that takes more than "
            f"{_MAX_DIGITS} characters to write exactly; round it (no rate needs that many "
            f"digits)"
        )
    if result < low or (high is not None and result > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidEconomy(f"{field}: {_show(value)} must be {bound}")
    if result is not value:
        object.__setattr__(obj, field, result)
    return result


def _int(
    obj: object, field: str, *, low: int = 0, high: int = MAX_MINOR, optional: bool = False
) -> None:
    """An int field from ``low`` to ``high`` (by default 10^18: no count, price or age
    of an economy needs more, and an amount of more minor units fits no store)."""
    value = getattr(obj, field)
    if value is None and optional:
        return
    if isinstance(value, float):
        raise FloatInEconomy(f"{field}: {value!r} is a float; write a whole number")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEconomy(
            f"{field}: {_show(value)} of type {type(value).__name__} must be an int"
        )
    if value < low:
        raise InvalidEconomy(f"{field}: {_show(value)} must be at least {low}")
    if value > high:
        raise InvalidEconomy(f"{field}: {_show(value)} must be at most {high:,}")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _unicode(value: str, field: str) -> None:
    """Refuse a lone surrogate: rules are written as UTF-8 TOML, which cannot hold one."""
    found = _SURROGATE.search(value)
    if found is not None:
        raise InvalidEconomy(
            f"{field}: {value!r} holds a lone surrogate U+{ord(found.group()):04X} at index "
            f"{found.start()}; rules are text that UTF-8 TOML can hold"
        )


def _one_line(value: str, field: str, what: str) -> None:
    """Refuse text that could add or reorder a line where it is printed (check_text)."""
    try:
        check_text(value, what)
    except InvalidArgument as exc:
        raise InvalidEconomy(f"{field}: {exc}") from None


def _text(obj: object, field: str, *, empty: bool = False) -> str:
    value = getattr(obj, field)
    if not isinstance(value, str):
        raise InvalidEconomy(f"{field}: {_show(value)} must be a string")
    _unicode(value, field)
    if not empty and not value.strip():
        raise InvalidEconomy(f"{field}: {value!r} must not be empty")
    return value


def _flag(obj: object, field: str) -> None:
    value = getattr(obj, field)
    if not isinstance(value, bool):
        raise InvalidEconomy(f"{field}: {_show(value)} must be true or false")


def _enum(obj: object, field: str, kind: type[enum.Enum]) -> None:
    value = getattr(obj, field)
    if isinstance(value, kind):
        return
    try:
        object.__setattr__(obj, field, kind(value))
    except (ValueError, TypeError):
        options = ", ".join(repr(m.value) for m in kind)
        raise InvalidEconomy(f"{field}: {value!r} must be one of {options}") from None


def _currency(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidEconomy(f"{field}: {_show(value)} must be a currency code such as 'USD'")
    try:
        unit = get_unit(value)
    except GiftLedgerError:
        raise InvalidEconomy(f"{field}: {value!r} is not a known currency (ISO 4217)") from None
    if unit.kind is not UnitKind.FIAT:
        raise InvalidEconomy(f"{field}: {value!r} is a virtual unit, not a currency")
    return value


def _money(obj: object, field: str, *, positive: bool = False, optional: bool = False) -> None:
    value = getattr(obj, field)
    if value is None and optional:
        return
    if isinstance(value, float):
        raise FloatInEconomy(f"{field}: {value!r} is a float; write Money('19.99', 'USD')")
    if not isinstance(value, Money):
        raise InvalidEconomy(
            f"{field}: {_show(value)} must be moneyed.Money, such as Money('19.99', 'USD')"
        )
    code = _currency(value.currency.code, field)
    try:
        minor = to_minor(value, code)
    except GiftLedgerError as exc:
        raise InvalidEconomy(f"{field}: {_show(value)} is not an exact amount ({exc})") from None
    if minor < 0 or (positive and minor == 0):
        raise InvalidEconomy(
            f"{field}: {_show(value)} must be {'greater than' if positive else 'at least'} 0"
        )


def _region(obj: object, field: str) -> None:
    value = getattr(obj, field)
    if value == "*":
        return
    if not (isinstance(value, str) and len(value) == 2 and value.isascii() and value.isupper()):
        raise InvalidEconomy(
            f"{field}: {value!r} must be an ISO 3166 country code such as 'US', or '*'"
        )


def _tuple_of(obj: object, field: str, kind: type | tuple[type, ...]) -> tuple[Any, ...]:
    value = getattr(obj, field)
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidEconomy(f"{field}: {_show(value)} must be a sequence")
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            kinds = (kind,) if isinstance(kind, type) else kind
            want = " or ".join(k.__name__ for k in kinds)
            raise InvalidEconomy(
                f"{field}[{i}]: {_show(item)} of type {type(item).__name__} must be a {want}"
            )
    if type(value) is not tuple:
        object.__setattr__(obj, field, items)
    return items


def _prefixed(prefix: str, exc: InvalidEconomy) -> InvalidEconomy:
    """The same error with ``prefix`` in front of its path."""
    return type(exc)(f"{prefix}{exc}")


# --------------------------------------------------------------------------- records


class Confidence(enum.Enum):
    """How sure a figure is, after the fact sheet's tags."""

    OFFICIAL = "official"  # the platform's own page [OFF]
    OFFICIAL_PRESS = "official-press"  # the platform quoted by the press [OFF-press]
    THIRD_PARTY = "third-party"  # a blog, agency or press estimate [3P]
    CODE = "code"  # community code or API data [CODE]
    DERIVED = "derived"  # arithmetic from cited numbers [DER]
    ASSUMPTION = "assumption"  # not published anywhere: the preset's own, documented choice


@attrs.frozen(slots=True)
class Source:
    """Where a figure came from.

    Attributes:
        citation: the source, as a reader could find it again.
        as_of: the date the source itself states, or None when undated.
        confidence: how sure the figure is.
        note: anything a reader must know (conflicts, what was assumed and why).

    Example:
        >>> from datetime import date
        >>> Source("support.tiktok.com withdrawal-instructions", date(2019, 2, 19),
        ...        Confidence.OFFICIAL).confidence.value
        'official'
    """

    citation: str
    as_of: date | None
    confidence: Confidence
    note: str = ""

    def __attrs_post_init__(self) -> None:
        _text(self, "citation")
        if self.as_of is not None and not isinstance(self.as_of, date):
            raise InvalidEconomy(f"as_of: {self.as_of!r} must be a date or None")
        if isinstance(self.confidence, str):
            # Accept the enum's name as well as its value ("THIRD_PARTY", "third-party").
            by_name = Confidence.__members__.get(self.confidence.upper().replace("-", "_"))
            if by_name is not None:
                object.__setattr__(self, "confidence", by_name)
        _enum(self, "confidence", Confidence)
        _text(self, "note", empty=True)

    def __str__(self) -> str:
        when = self.as_of.isoformat() if self.as_of else "undated"
        note = f" — {self.note}" if self.note else ""
        return f"{self.citation} ({when}; {self.confidence.value}){note}"


@attrs.frozen(slots=True)
class CoinPack:
    """A coin package sold on one sales channel in one region.

    Attributes:
        coins: coins credited (bonus included).
        price: what the viewer pays, in local currency, as the store shows it.
        channel: sales channel (``"ios"``, ``"android"``, ``"web"``).
        region: ISO 3166 country code, or ``"*"`` for everywhere else.
    """

    coins: int
    price: Money
    channel: str
    region: str = "*"

    def __attrs_post_init__(self) -> None:
        _int(self, "coins", low=1)
        _money(self, "price", positive=True)
        _text(self, "channel")
        _region(self, "region")


@attrs.frozen(slots=True)
class StoreFee:
    """What a sales channel keeps of each purchase.

    Attributes:
        channel: the sales channel.
        rate: the share kept (``Fraction(3, 10)`` for 30%).
        fixed: a fixed part per purchase, in the purchase currency, or None.
        account: the segment naming the store's accounts (``"apple"`` gives
            ``assets:stores:apple`` and ``expenses:store-fees:apple``); when
            left empty it is the channel's name.
        rounding: how the percentage part is rounded to the minor unit.
    """

    channel: str
    rate: Fraction
    fixed: Money | None = None
    account: str = ""
    rounding: Rounding = Rounding.HALF_UP

    def __attrs_post_init__(self) -> None:
        _text(self, "channel")
        _ratio(self, "rate", high=1)
        _money(self, "fixed", optional=True)
        _text(self, "account", empty=True)
        if not self.account.strip():
            object.__setattr__(self, "account", self.channel)
        _enum(self, "rounding", Rounding)


@attrs.frozen(slots=True)
class TaxRule:
    """Sales tax or VAT on coin purchases in one region, over a period of days.

    Attributes:
        region: ISO 3166 country code, or ``"*"``.
        rate: the tax rate (``Fraction(19, 100)``).
        inclusive: True when store prices include the tax (EU VAT), False when
            it is added on top (US sales tax).
        rounding: how the tax amount is rounded to the minor unit.
        valid_from: the first day the rule is in force (None: since always).
        valid_to: the first day it is no longer in force, exclusive (None: open-ended).
            Days are UTC calendar days: a purchase at ``at`` falls on
            ``at.astimezone(UTC).date()``.

    One region may have several rules whose periods do not overlap, so a rate
    change is data, not code (Germany's 16% of 2020-H2)::

        TaxRule("DE", Fraction(16, 100), valid_from=date(2020, 7, 1),
                valid_to=date(2021, 1, 1))

    Example:
        >>> from datetime import date
        >>> rule = TaxRule("DE", "16%", valid_from=date(2020, 7, 1), valid_to=date(2021, 1, 1))
        >>> rule.in_force(date(2020, 12, 31)), rule.in_force(date(2021, 1, 1))
        (True, False)
    """

    region: str
    rate: Fraction
    inclusive: bool = True
    rounding: Rounding = Rounding.HALF_UP
    valid_from: date | None = None
    valid_to: date | None = None

    def __attrs_post_init__(self) -> None:
        _region(self, "region")
        _ratio(self, "rate", high=1)
        _flag(self, "inclusive")
        _enum(self, "rounding", Rounding)
        for field in ("valid_from", "valid_to"):
            value = getattr(self, field)
            # A datetime is a date too; a rule's period is whole days.
            if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
                raise InvalidEconomy(
                    f"{field}: {value!r} must be a date such as date(2020, 7, 1), or None"
                )
        if (
            self.valid_from is not None
            and self.valid_to is not None
            and self.valid_to <= self.valid_from
        ):
            raise InvalidEconomy(
                f"valid_to: {self.valid_to.isoformat()} must be after valid_from "
                f"{self.valid_from.isoformat()} (valid_to is the first day no longer in force)"
            )

    def in_force(self, day: date) -> bool:
        """Whether the rule applies on ``day`` (``valid_from <= day < valid_to``)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )

    @property
    def period(self) -> str:
        """The period in words: ``"2020-07-01 to 2021-01-01"``, ``"from 2021-01-01"``."""
        start, end = self.valid_from, self.valid_to
        if start is None and end is None:
            return "all dates"
        if end is None:
            assert start is not None
            return f"from {start.isoformat()}"
        if start is None:
            return f"until {end.isoformat()}"
        return f"{start.isoformat()} to {end.isoformat()}"


def tax_day(at: datetime | date | None) -> date | None:
    """The UTC calendar day ``at`` falls on (None stays None).

    Raises:
        InvalidEconomy: ``at`` is a naive datetime or not a date at all.
    """
    if at is None:
        return None
    if isinstance(at, datetime):
        if at.utcoffset() is None:
            raise InvalidEconomy(f"at: {at!r} must be a date or a timezone-aware datetime")
        return at.astimezone(UTC).date()
    if isinstance(at, date):
        return at
    raise InvalidEconomy(f"at: {at!r} must be a date or a timezone-aware datetime")


def check_tax_periods(taxes: tuple[TaxRule, ...], field: str = "taxes") -> None:
    """Refuse two rules of one region whose periods overlap, naming both indexes."""
    by_region: dict[str, list[int]] = {}
    for j, rule in enumerate(taxes):
        for i in by_region.get(rule.region, ()):
            other = taxes[i]
            if _overlap(other, rule):
                raise InvalidEconomy(
                    f"{field}[{j}].region: {rule.region!r} already has a tax rule for some "
                    f"of the same days: {field}[{i}] ({other.period}) overlaps {field}[{j}] "
                    f"({rule.period}); the periods of one region must not overlap"
                )
        by_region.setdefault(rule.region, []).append(j)


def _overlap(a: TaxRule, b: TaxRule) -> bool:
    # Half-open periods [from, to): they overlap when each starts before the other ends.
    a_starts_before_b_ends = b.valid_to is None or a.valid_from is None or a.valid_from < b.valid_to
    b_starts_before_a_ends = a.valid_to is None or b.valid_from is None or b.valid_from < a.valid_to
    return a_starts_before_b_ends and b_starts_before_a_ends


def pick_tax(taxes: Iterable[TaxRule], region: str, day: date | None) -> TaxRule | None:
    """The rule of exactly ``region`` in force on ``day``, or None.

    With ``day`` None: the region's open-ended rule, else the one that ended last.
    """
    found: TaxRule | None = None
    for rule in taxes:
        if rule.region != region:
            continue
        if day is not None:
            if rule.in_force(day):
                return rule
        elif rule.valid_to is None:
            return rule
        elif found is None or (found.valid_to is not None and rule.valid_to > found.valid_to):
            found = rule
    return found


@attrs.frozen(slots=True)
class AmountRange:
    """The amounts a viewer may pay for a money-priced gift, in one currency.

    Attributes:
        minimum: the smallest amount (greater than 0).
        maximum: the largest amount, in the same currency, at least ``minimum``.

    Example:
        >>> AmountRange(Money("1.00", "GBP"), Money("400.00", "GBP")).currency
        'GBP'
    """

    minimum: Money
    maximum: Money

    def __attrs_post_init__(self) -> None:
        _money(self, "minimum", positive=True)
        _money(self, "maximum", positive=True)
        if self.maximum.currency != self.minimum.currency:
            raise InvalidEconomy(
                f"maximum: {_show(self.maximum)} is not in the minimum's currency "
                f"{self.minimum.currency.code}"
            )
        if self.maximum < self.minimum:
            raise InvalidEconomy(
                f"maximum: {_show(self.maximum)} is below minimum {_show(self.minimum)}"
            )

    @property
    def currency(self) -> str:
        """The range's currency code."""
        return str(self.minimum.currency.code)

    def __contains__(self, amount: object) -> bool:
        return (
            isinstance(amount, Money)
            and amount.currency == self.minimum.currency
            and self.minimum <= amount <= self.maximum
        )


@attrs.frozen(slots=True)
class Gift:
    """A gift in the catalog, priced in coins or in money.

    Attributes:
        name: its name as the app shows it (``"Galaxy"``).
        coins: its price in the viewer unit; 0 for a gift priced in money.
        amounts: for a gift priced in money (Super Chat, a tip), the amounts a
            viewer may pay, one :class:`AmountRange` per currency; empty for a
            coin gift. A money-priced gift is bought and sent in one entry
            (:meth:`GiftEconomy.send_gift` with ``amount=``).

    Example:
        >>> Gift("Galaxy", 1000).priced_in_money
        False
        >>> chat = Gift("Super Chat", amounts=(
        ...     AmountRange(Money("1", "USD"), Money("500", "USD")),))
        >>> chat.amount_range("USD").maximum
        Money('500', 'USD')
    """

    name: str
    coins: int = 0
    amounts: tuple[AmountRange, ...] = ()

    def __attrs_post_init__(self) -> None:
        _text(self, "name")
        try:
            check_text(self.name, "gift name")
        except InvalidArgument as exc:
            raise InvalidEconomy(f"name: {exc}") from None
        ranges = _tuple_of(self, "amounts", AmountRange)
        if ranges:
            _int(self, "coins")
            if self.coins:
                raise InvalidEconomy(
                    f"coins: {self.coins} given for {self.name!r}, which is priced in money "
                    f"(amounts); a gift is priced in coins or in money, not both"
                )
            seen: set[str] = set()
            for i, r in enumerate(ranges):
                if r.currency in seen:
                    raise InvalidEconomy(f"amounts[{i}]: a second range in {r.currency}")
                seen.add(r.currency)
        else:
            if type(self.coins) is int and self.coins > MAX_MINOR:
                raise InvalidEconomy(
                    f"coins: {_show(self.coins)} for gift {self.name!r} must be at most "
                    f"{MAX_MINOR:,}; no gift costs more coins than one amount can hold"
                )
            _int(self, "coins", low=1)

    @property
    def priced_in_money(self) -> bool:
        """Whether viewers pay for the gift in money (any amount in a range)."""
        return bool(self.amounts)

    def amount_range(self, currency: str) -> AmountRange:
        """The range of amounts in ``currency``.

        Raises:
            UnknownRule: the gift is not sold in that currency (the message lists
                the currencies it is).
        """
        for r in self.amounts:
            if r.currency == currency:
                return r
        raise UnknownRule(
            f"{self.name!r} cannot be paid in {currency!r}; currencies: "
            f"{_names(r.currency for r in self.amounts)}"
        )


class PayoutModel(enum.Enum):
    """How a gift becomes the creator's money.

    - ``DIAMOND_VALUE``: each coin of gift gives ``creator_units_per_coin``
      creator units (Diamonds), each worth ``value_per_unit`` of the payout
      currency (TikTok's Model A: 1 Diamond per coin, $0.005 each).
    - ``SHARE_OF_PRICE``: the creator is owed ``share`` of what the spent coins
      were bought for, net of store fees and taxes when ``share_after_fees``
      (YouTube Supers: 70% after tax and the iOS fee).
    """

    DIAMOND_VALUE = "diamond_value"
    SHARE_OF_PRICE = "share_of_price"


@attrs.frozen(slots=True)
class CreatorPay:
    """How gifts pay creators.

    Attributes:
        model: :class:`PayoutModel`.
        creator_units_per_coin: creator units (Diamonds) per coin of gift.
        unit_rounding: how fractional creator units are rounded; the leftover
            stays with the platform (documented in the preset).
        value_per_unit: payout-currency value of one creator unit (DIAMOND_VALUE).
        value_currency: the currency ``value_per_unit`` is in.
        share: the creator's share (SHARE_OF_PRICE).
        share_after_fees: whether ``share`` applies after store fees and taxes.
        cash_rounding: how the creator's cash value is rounded to the minor unit;
            the platform's cut takes the remainder, so the parts sum to the whole.
    """

    model: PayoutModel
    creator_units_per_coin: Fraction = Fraction(1)
    unit_rounding: Rounding = Rounding.FLOOR
    value_per_unit: Fraction = Fraction(0)
    value_currency: str = "USD"
    share: Fraction = Fraction(0)
    share_after_fees: bool = False
    cash_rounding: Rounding = Rounding.FLOOR

    def __attrs_post_init__(self) -> None:
        _enum(self, "model", PayoutModel)
        units = _ratio(self, "creator_units_per_coin")
        _enum(self, "unit_rounding", Rounding)
        value = _ratio(self, "value_per_unit")
        _currency(self.value_currency, "value_currency")
        share = _ratio(self, "share", high=1)
        _flag(self, "share_after_fees")
        _enum(self, "cash_rounding", Rounding)
        if units == 0:  # no units: nothing could ever convert what the creator is owed
            raise InvalidEconomy(
                f"creator_units_per_coin: 0 must be greater than 0 for model {self.model.value}"
            )
        if self.model is PayoutModel.DIAMOND_VALUE:
            if value == 0:
                raise InvalidEconomy(
                    "value_per_unit: 0 must be greater than 0 for model diamond_value"
                )
        elif share == 0:
            raise InvalidEconomy("share: 0 must be greater than 0 for model share_of_price")


@attrs.frozen(slots=True)
class WithdrawalPolicy:
    """When and how a creator may withdraw cash.

    Attributes:
        minimum: the smallest withdrawal (None: no minimum).
        daily_cap: the most per calendar day, UTC (None: no cap).
        fee_fixed: a fixed fee per withdrawal (None: none).
        fee_rate: a share of the amount charged as a fee.
        min_age: the youngest creator allowed to withdraw.
        requires_verification: whether identity verification (KYC) is required.
        regions: regions allowed to withdraw (empty: all).
        review_days: days a request may wait for review.
        holding_days: extra days a payment processor may hold the money.
        methods: payout methods offered (``"paypal"``, ``"bank"``).
        weekly_cap: the most per rolling 7 days (None: no cap). Added for Bigo.
        withdrawals_per_week: how many withdrawals 7 days allow (None: any).
        minimum_units: the fewest creator units one cash-out may take, where the
            platform states its minimum in them (Bigo: 6,700 Beans), or None.
            Cash cannot tell 6,699 Beans from 6,700 (both pay $31.90), so it is
            checked on the units asked for when they are converted to cash;
            ``minimum`` then holds what those units pay.
    """

    minimum: Money | None = None
    daily_cap: Money | None = None
    fee_fixed: Money | None = None
    fee_rate: Fraction = Fraction(0)
    min_age: int = 18
    requires_verification: bool = False
    regions: frozenset[str] = frozenset()
    review_days: int = 0
    holding_days: int = 0
    methods: tuple[str, ...] = ()
    weekly_cap: Money | None = None
    withdrawals_per_week: int | None = None
    minimum_units: int | None = None

    def __attrs_post_init__(self) -> None:
        _money(self, "minimum", optional=True)
        _int(self, "minimum_units", low=1, optional=True)
        _money(self, "daily_cap", positive=True, optional=True)
        _money(self, "fee_fixed", optional=True)
        _ratio(self, "fee_rate", high=1)
        _int(self, "min_age")
        _flag(self, "requires_verification")
        regions = self.regions
        if isinstance(regions, str) or not isinstance(regions, Iterable):
            raise InvalidEconomy(f"regions: {regions!r} must be a set of country codes")
        if type(regions) is not frozenset:
            regions = frozenset(regions)
            object.__setattr__(self, "regions", regions)
        for region in sorted(regions, key=str):
            if not (isinstance(region, str) and len(region) == 2 and region.isupper()):
                raise InvalidEconomy(f"regions: {region!r} must be an ISO 3166 country code")
        _int(self, "review_days")
        _int(self, "holding_days")
        for i, method in enumerate(_tuple_of(self, "methods", str)):
            if not method.strip():
                raise InvalidEconomy(f"methods[{i}]: {method!r} must not be empty")
        _money(self, "weekly_cap", positive=True, optional=True)
        _int(self, "withdrawals_per_week", low=1, optional=True)
        for cap in ("daily_cap", "weekly_cap"):
            limit = getattr(self, cap)
            if (
                limit is not None
                and self.minimum is not None
                and limit.currency == self.minimum.currency
                and limit < self.minimum
            ):
                raise InvalidEconomy(
                    f"{cap}: {_show(limit)} is below minimum {_show(self.minimum)}; "
                    f"no withdrawal could ever pass"
                )


class SpentCoinPolicy(enum.Enum):
    """What a refund or chargeback does about coins already spent on gifts."""

    VIEWER_DEBT = "viewer_debt"  # the viewer owes the platform; booked as a receivable
    PLATFORM_LOSS = "platform_loss"  # the platform absorbs it as an expense


@attrs.frozen(slots=True)
class RefundPolicy:
    """Refunds and chargebacks of coin purchases.

    Attributes:
        spent_coins: what happens to the value of coins already spent.
        refund_store_fee: whether the store returns its fee on a refund.
    """

    spent_coins: SpentCoinPolicy = SpentCoinPolicy.PLATFORM_LOSS
    refund_store_fee: bool = True

    def __attrs_post_init__(self) -> None:
        _enum(self, "spent_coins", SpentCoinPolicy)
        _flag(self, "refund_store_fee")


@attrs.define(slots=True)
class _Holder:
    """Lets the field checks run on a loose value (one item of a mapping)."""

    value: object


_TIER = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def _country(value: object) -> bool:
    return isinstance(value, str) and len(value) == 2 and value.isascii() and value.isupper()


def _rate_map(obj: object, field: str, currency: str, tiers: Mapping[str, Any]) -> None:
    """A mapping of region (a country, a tier of ``tiers`` or ``"*"``) to a rate in ``currency``.

    A rate per 1,000 views is not an amount paid: it may be finer than the minor
    unit (Hank Green's $0.025), since only a total is ever rounded.
    """
    value = getattr(obj, field)
    if not isinstance(value, Mapping):
        raise InvalidEconomy(f"{field}: {_show(value)} must be a mapping of region to Money")
    copy = FrozenMap(value)
    for region, amount in copy.items():
        if region != "*" and not _country(region) and region not in tiers:
            raise InvalidEconomy(
                f"{field}.{region}: region must be a country code, a tier of region_tiers "
                f"({_names(tiers)}) or '*'"
            )
        where = f"{field}.{region}"
        if isinstance(amount, float):
            raise FloatInEconomy(f"{where}: {amount!r} is a float; write Money('0.45', 'USD')")
        if not isinstance(amount, Money):
            raise InvalidEconomy(
                f"{where}: {_show(amount)} must be moneyed.Money, such as Money('0.45', 'USD')"
            )
        _currency(amount.currency.code, where)
        if not amount.amount.is_finite() or amount.amount < 0:
            raise InvalidEconomy(f"{where}: {_show(amount)} must be a finite amount, at least 0")
        if amount.currency.code != currency:
            raise InvalidEconomy(
                f"{where}: {_show(amount)} is not in the program's currency {currency}"
            )
    object.__setattr__(obj, field, copy)


def _int_map(obj: object, field: str, *, low: int = 0) -> None:
    """A mapping of country code to a whole number (a regional threshold)."""
    value = getattr(obj, field)
    if not isinstance(value, Mapping):
        raise InvalidEconomy(f"{field}: {_show(value)} must be a mapping of country code to int")
    for region, number in value.items():
        if not _country(region):
            raise InvalidEconomy(f"{field}.{region}: {region!r} must be an ISO 3166 country code")
        try:
            _int(_Holder(number), "value", low=low)
        except InvalidEconomy as exc:
            raise type(exc)(f"{field}.{region}{str(exc).removeprefix('value')}") from None
    object.__setattr__(obj, field, FrozenMap(value))


def _countries(value: object, field: str) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidEconomy(f"{field}: {_show(value)} must be a set of country codes")
    result = frozenset(value)
    for region in sorted(result, key=str):
        if not _country(region):
            raise InvalidEconomy(f"{field}: {region!r} must be an ISO 3166 country code")
    return result


@attrs.frozen(slots=True)
class RewardsProgram:
    """View-based pay: a pool paid per 1,000 qualified views.

    Rates follow the region of the *views* (the audience): a region's own rate,
    else the rate of the tier that lists it (:attr:`region_tiers`), else ``"*"``
    (:meth:`rate_key`). Eligibility follows the region of the *creator*: where
    the program runs (:attr:`regions`, :attr:`ends`) and the thresholds there
    (:meth:`followers_needed`, :meth:`age_needed`).

    Attributes:
        name: the program's name.
        rpm: payout per 1,000 qualified views, per region, tier or ``"*"``.
            Where sources give a range, this is its low end. A rate may be finer
            than the minor unit (``Money("0.025", "USD")``): only totals are rounded.
        engagement_weights: multipliers by engagement tier (``"low"``, ``"high"``).
        min_followers: followers needed to qualify (a region in
            :attr:`min_followers_by_region` needs its own number instead).
        min_views_30d: views in the last 30 days needed to qualify.
        min_video_seconds: shortest video that earns, in whole seconds.
        min_qualified_views_per_video: views a video needs before it earns.
        currency: the currency of the rates.
        rpm_high: the high end of the range per region or tier, where sources give one.
        rpm_typical: a typical rate per region or tier, where a source gives one;
            it lies within ``rpm`` … ``rpm_high``.
        region_tiers: named groups of countries that share one rate, as a source
            states it (``{"southeast-asia": {"ID", "TH", …}}``); keys of the rate
            mappings may name a tier. A country is in one tier at most.
        regions: the creators' countries where the program runs (empty: anywhere).
        ends: the day the program closed in a country: from 00:00 UTC that day
            creators there are no longer paid.
        min_followers_by_region: follower thresholds of single countries.
        min_age: the youngest creator who qualifies.
        min_age_by_region: minimum ages of single countries.
        min_video_seconds_exclusive: True when a video must be *longer* than
            ``min_video_seconds`` ("over 1 minute": 60 s fails, 61 s earns);
            False when as long is enough.
        payout_minimum: the smallest payout of the program's earnings (None:
            none stated).
        payout_day: the day of the month the program pays, roughly (None: not stated).

    Example:
        >>> from moneyed import Money
        >>> usd = lambda text: Money(text, "USD")
        >>> fund = RewardsProgram(
        ...     "fund", {"US": usd("1.00"), "nordics": usd("0.80"), "*": usd("0.10")},
        ...     region_tiers={"nordics": {"DK", "NO", "SE"}}, rpm_high={"US": usd("2.00")})
        >>> fund.rate_key("US"), fund.rate_key("SE"), fund.rate_key("JP")
        ('US', 'nordics', '*')
    """

    name: str
    rpm: Mapping[str, Money]
    engagement_weights: Mapping[str, Fraction] = attrs.field(factory=dict)
    min_followers: int = 0
    min_views_30d: int = 0
    min_video_seconds: int = 0
    min_qualified_views_per_video: int = 0
    currency: str = "USD"
    rpm_high: Mapping[str, Money] = attrs.field(factory=dict)
    rpm_typical: Mapping[str, Money] = attrs.field(factory=dict)
    region_tiers: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    regions: frozenset[str] = frozenset()
    ends: Mapping[str, date] = attrs.field(factory=dict)
    min_followers_by_region: Mapping[str, int] = attrs.field(factory=dict)
    min_age: int = 0
    min_age_by_region: Mapping[str, int] = attrs.field(factory=dict)
    min_video_seconds_exclusive: bool = False
    payout_minimum: Money | None = None
    payout_day: int | None = None

    def __attrs_post_init__(self) -> None:
        _text(self, "name")
        _one_line(self.name, "name", "program name")  # it heads a printed estimate
        _currency(self.currency, "currency")
        self._check_tiers()
        tiers = self.region_tiers
        _rate_map(self, "rpm", self.currency, tiers)
        if not self.rpm:
            raise InvalidEconomy("rpm: {} must name at least one region (or '*')")
        _rate_map(self, "rpm_high", self.currency, tiers)
        for region, high in self.rpm_high.items():
            low = self.rpm.get(region)
            if low is None:
                raise InvalidEconomy(f"rpm_high.{region}: no rpm for region {region!r}")
            if high < low:
                raise InvalidEconomy(f"rpm_high.{region}: {_show(high)} is below rpm {_show(low)}")
        _rate_map(self, "rpm_typical", self.currency, tiers)
        for region, typical in self.rpm_typical.items():
            low = self.rpm.get(region)
            if low is None:
                raise InvalidEconomy(f"rpm_typical.{region}: no rpm for region {region!r}")
            high = self.rpm_high.get(region, low)
            if not low <= typical <= high:
                raise InvalidEconomy(
                    f"rpm_typical.{region}: {_show(typical)} is outside the range "
                    f"{_show(low)} … {_show(high)}"
                )
        for tier in tiers:
            if tier not in self.rpm:
                raise InvalidEconomy(f"region_tiers.{tier}: the tier has no rpm")
        weights = self.engagement_weights
        if not isinstance(weights, Mapping):
            raise InvalidEconomy(f"engagement_weights: {weights!r} must be a mapping")
        checked = {}
        for tier, weight in weights.items():
            if not isinstance(tier, str) or not tier.strip():
                raise InvalidEconomy(f"engagement_weights: {tier!r} must be a tier name")
            _one_line(tier, f"engagement_weights[{tier!r}]", "engagement tier")
            holder = _Holder(weight)
            try:
                checked[tier] = _ratio(holder, "value")
            except InvalidEconomy as exc:
                message = str(exc).removeprefix("value")
                raise type(exc)(f"engagement_weights.{tier}{message}") from None
        object.__setattr__(self, "engagement_weights", FrozenMap(checked))
        for field in (
            "min_followers",
            "min_views_30d",
            "min_video_seconds",
            "min_qualified_views_per_video",
            "min_age",
        ):
            _int(self, field)
        _flag(self, "min_video_seconds_exclusive")
        object.__setattr__(self, "regions", _countries(self.regions, "regions"))
        self._check_ends()
        _int_map(self, "min_followers_by_region")
        _int_map(self, "min_age_by_region")
        _money(self, "payout_minimum", optional=True)
        if self.payout_minimum is not None and self.payout_minimum.currency.code != self.currency:
            raise InvalidEconomy(
                f"payout_minimum: {_show(self.payout_minimum)} is not in the program's "
                f"currency {self.currency}"
            )
        _int(self, "payout_day", low=1, optional=True)
        if self.payout_day is not None and self.payout_day > 31:
            raise InvalidEconomy(f"payout_day: {self.payout_day} must be a day of the month, 1-31")

    def _check_tiers(self) -> None:
        tiers = self.region_tiers
        if not isinstance(tiers, Mapping):
            raise InvalidEconomy(f"region_tiers: {_show(tiers)} must map a tier name to countries")
        checked: dict[str, frozenset[str]] = {}
        member: dict[str, str] = {}
        for tier, countries in tiers.items():
            if not (isinstance(tier, str) and _TIER.fullmatch(tier)):
                raise InvalidEconomy(
                    f"region_tiers: {tier!r} must be a lower-case name such as 'southeast-asia' "
                    f"(a country code names a country, not a tier)"
                )
            found = _countries(countries, f"region_tiers.{tier}")
            if not found:
                raise InvalidEconomy(f"region_tiers.{tier}: must list at least one country")
            for country in sorted(found):
                if country in member:
                    raise InvalidEconomy(
                        f"region_tiers.{tier}: {country!r} is already in tier {member[country]!r}"
                    )
                member[country] = tier
            checked[tier] = found
        object.__setattr__(self, "region_tiers", FrozenMap(checked))

    def _check_ends(self) -> None:
        ends = self.ends
        if not isinstance(ends, Mapping):
            raise InvalidEconomy(f"ends: {_show(ends)} must be a mapping of country code to date")
        for region, day in ends.items():
            if not _country(region):
                raise InvalidEconomy(f"ends.{region}: {region!r} must be an ISO 3166 country code")
            if isinstance(day, datetime) or not isinstance(day, date):
                raise InvalidEconomy(f"ends.{region}: {day!r} must be a date")
            if self.regions and region not in self.regions:
                raise InvalidEconomy(
                    f"ends.{region}: the program does not run in {region!r}; regions: "
                    f"{_names(self.regions)}"
                )
        object.__setattr__(self, "ends", FrozenMap(ends))

    # ----------------------------------------------------------------- lookups

    def rate_key(self, region: str) -> str | None:
        """Which rates views from ``region`` earn: its own key, its tier, ``"*"``, or None."""
        if region in self.rpm:
            return region
        for tier, countries in self.region_tiers.items():
            if region in countries:
                return tier
        return "*" if "*" in self.rpm else None

    def followers_needed(self, region: str | None = None) -> int:
        """The followers a creator in ``region`` needs (None: the general threshold)."""
        if region is None:
            return self.min_followers
        return self.min_followers_by_region.get(region, self.min_followers)

    def age_needed(self, region: str | None = None) -> int:
        """The minimum age of a creator in ``region`` (None: the general one)."""
        if region is None:
            return self.min_age
        return self.min_age_by_region.get(region, self.min_age)

    def runs_in(self, region: str, at: datetime | None = None) -> bool:
        """Whether creators in ``region`` are paid at ``at``.

        A region the program never ran in is False; one in :attr:`ends` is False
        from 00:00 UTC of that day on, and always when ``at`` is None (the end
        is on record).
        """
        if self.regions and region not in self.regions:
            return False
        end = self.ends.get(region)
        if end is None:
            return True
        if at is None:
            return False
        return at.astimezone(UTC).date() < end


def _names(items: Iterable[str]) -> str:
    found = sorted(set(items))
    return ", ".join(found) if found else "none"


def _check_fee_leaves_something(fee: StoreFee, price: Money, where: str) -> None:
    """Refuse a store fee that takes a whole price (with no tax, its largest share):
    every sale at that price would fail, so the rules are wrong, not the sale."""
    ccy = price.currency.code
    minor = to_minor(price, ccy)
    kept = round_fraction(minor * fee.rate, fee.rounding)
    if fee.fixed is not None:
        kept += to_minor(fee.fixed, ccy)
    if kept >= minor:
        raise InvalidEconomy(
            f"{where}: the {fee.channel!r} store's fee ({fraction_text(fee.rate)} of the price"
            f"{f' plus {_show(fee.fixed)}' if fee.fixed is not None else ''}) takes the whole "
            f"price of {_show(price)}; a sale must leave the platform something"
        )


@boundary_methods
@attrs.frozen(slots=True)
class RuleSet:
    """One version of an economy's rules, in force from ``effective_from``.

    Attributes:
        effective_from: when this version takes effect (aware datetime, UTC).
        coin_packs: every pack on sale.
        store_fees: one per sales channel.
        taxes: tax rules per region.
        gifts: the gift catalog.
        creator_pay: how gifts pay creators.
        withdrawal: the withdrawal policy.
        refunds: the refund and chargeback policy.
        rewards: view-based programs.
        min_buyer_age: the youngest viewer allowed to buy coins.
        payout_currencies: currencies creators may be paid in.

    The lookups (:meth:`pack`, :meth:`gift`, :meth:`store_fee`, :meth:`tax`)
    raise :class:`~giftledger.UnknownRule` naming the value and listing what
    exists.
    """

    effective_from: datetime
    coin_packs: tuple[CoinPack, ...]
    store_fees: tuple[StoreFee, ...]
    gifts: tuple[Gift, ...]
    creator_pay: CreatorPay
    withdrawal: WithdrawalPolicy = WithdrawalPolicy()
    refunds: RefundPolicy = RefundPolicy()
    taxes: tuple[TaxRule, ...] = ()
    rewards: tuple[RewardsProgram, ...] = ()
    min_buyer_age: int = 18
    payout_currencies: tuple[str, ...] = ("USD",)

    def __attrs_post_init__(self) -> None:
        when = self.effective_from
        if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
            raise InvalidEconomy(
                f"effective_from: {when!r} must be a timezone-aware datetime (UTC)"
            )
        packs = _tuple_of(self, "coin_packs", CoinPack)
        fees = _tuple_of(self, "store_fees", StoreFee)
        gifts = _tuple_of(self, "gifts", Gift)
        taxes = _tuple_of(self, "taxes", TaxRule)
        rewards = _tuple_of(self, "rewards", RewardsProgram)
        for field, kind in (
            ("creator_pay", CreatorPay),
            ("withdrawal", WithdrawalPolicy),
            ("refunds", RefundPolicy),
        ):
            value = getattr(self, field)
            if not isinstance(value, kind):
                raise InvalidEconomy(f"{field}: {_show(value)} must be a {kind.__name__}")
        _int(self, "min_buyer_age")
        currencies = _tuple_of(self, "payout_currencies", str)
        if not currencies:
            raise InvalidEconomy("payout_currencies: () must name at least one currency")
        for i, code in enumerate(currencies):
            _currency(code, f"payout_currencies[{i}]")

        channels: dict[str, int] = {}
        for i, fee in enumerate(fees):
            if fee.channel in channels:
                raise InvalidEconomy(
                    f"store_fees[{i}].channel: {fee.channel!r} already has a fee "
                    f"(store_fees[{channels[fee.channel]}])"
                )
            channels[fee.channel] = i
        if not packs:
            raise InvalidEconomy("coin_packs: () must list at least one pack")
        seen: dict[tuple[int, str, str], int] = {}
        for i, pack in enumerate(packs):
            if pack.channel not in channels:
                raise InvalidEconomy(
                    f"coin_packs[{i}].channel: {pack.channel!r} has no store fee; "
                    f"store fees exist for {_names(channels)}"
                )
            key = (pack.coins, pack.channel, pack.region)
            if key in seen:
                raise InvalidEconomy(
                    f"coin_packs[{i}]: a {pack.coins}-coin pack on {pack.channel!r} in "
                    f"region {pack.region!r} is already coin_packs[{seen[key]}]"
                )
            seen[key] = i
        if not gifts:
            raise InvalidEconomy("gifts: () must list at least one gift")
        names: dict[str, int] = {}
        for i, gift in enumerate(gifts):
            if gift.name in names:
                raise InvalidEconomy(
                    f"gifts[{i}].name: {gift.name!r} is already gifts[{names[gift.name]}]"
                )
            names[gift.name] = i
        check_tax_periods(taxes)
        money_gifts = [i for i, g in enumerate(gifts) if g.priced_in_money]
        if money_gifts and self.creator_pay.model is not PayoutModel.SHARE_OF_PRICE:
            i = money_gifts[0]
            raise InvalidEconomy(
                f"gifts[{i}]: {gifts[i].name!r} is priced in money, which needs "
                f"creator_pay.model share_of_price (a share of what was paid), not "
                f"{self.creator_pay.model.value}"
            )
        for fee in fees:
            if fee.fixed is None:
                continue
            fixed_ccy = fee.fixed.currency.code
            for i, pack in enumerate(packs):
                if pack.channel == fee.channel and pack.price.currency.code != fixed_ccy:
                    raise InvalidEconomy(
                        f"coin_packs[{i}]: priced in {pack.price.currency.code} on "
                        f"{fee.channel!r}, whose store fee has a fixed part in {fixed_ccy}; "
                        f"a fixed fee is charged in the purchase's own currency"
                    )
        for i, pack in enumerate(packs):
            _check_fee_leaves_something(
                fees[channels[pack.channel]], pack.price, f"coin_packs[{i}]"
            )
        for i, gift in enumerate(gifts):
            # A paid gift's amount is the viewer's choice: refuse only a fee that takes
            # even the largest amount (what is left grows with the amount).
            for fee in fees:
                for r in gift.amounts:
                    if fee.fixed is None or fee.fixed.currency == r.maximum.currency:
                        where = f"gifts[{i}] ({gift.name!r} on {fee.channel!r})"
                        _check_fee_leaves_something(fee, r.maximum, where)
        programs: set[str] = set()
        for i, program in enumerate(rewards):
            if program.name in programs:
                raise InvalidEconomy(f"rewards[{i}].name: {program.name!r} appears twice")
            programs.add(program.name)

    # ----------------------------------------------------------------- lookups

    @property
    def channels(self) -> tuple[str, ...]:
        """The sales channels with a store fee, in rule order."""
        return tuple(fee.channel for fee in self.store_fees)

    def pack(self, coins: int, channel: str, region: str = "*") -> CoinPack:
        """The pack of ``coins`` a buyer in ``region`` sees on ``channel``.

        A buyer sees the region's own packs, and the ``"*"`` packs of the sizes
        the region does not price itself in the currencies its own packs use:
        a region that reprices a few packs keeps the rest of the ladder, and a
        local price list in another currency (the UK's GBP ladder) replaces it.

        Raises:
            UnknownRule: no such pack; the message lists the packs on that channel.
        """
        if isinstance(coins, bool) or not isinstance(coins, int):
            raise UnknownRule(f"no pack of {_show(coins)} coins: a pack's size is an int")
        ladder = self._ladder(channel, region)
        for pack in ladder:
            if pack.coins == coins:
                return pack
        if channel not in self.channels:
            raise UnknownRule(
                f"unknown sales channel {channel!r}; channels: {_names(self.channels)}"
            )
        sizes = sorted({p.coins for p in ladder})
        raise UnknownRule(
            f"no {coins}-coin pack on {channel!r} in region {region!r}; packs there: "
            f"{', '.join(map(str, sizes)) or 'none'}"
        )

    def _ladder(self, channel: str, region: str) -> list[CoinPack]:
        own = [p for p in self.coin_packs if p.channel == channel and p.region == region]
        sizes = {p.coins for p in own}
        currencies = {p.price.currency.code for p in own}
        return own + [
            p
            for p in self.coin_packs
            if p.channel == channel
            and p.region == "*"
            and p.coins not in sizes
            and (not currencies or p.price.currency.code in currencies)
        ]

    def packs(self, channel: str, region: str = "*") -> tuple[CoinPack, ...]:
        """Every pack a buyer in ``region`` sees on ``channel``, smallest first."""
        return tuple(sorted(self._ladder(channel, region), key=lambda p: p.coins))

    def gift(self, name: str) -> Gift:
        """The gift called ``name``.

        Raises:
            UnknownRule: no such gift; the message lists the catalog.
        """
        for gift in self.gifts:
            if gift.name == name:
                return gift
        raise UnknownRule(
            f"unknown gift {name!r}; the catalog has: {', '.join(g.name for g in self.gifts)}"
        )

    def store_fee(self, channel: str) -> StoreFee:
        """The fee of sales channel ``channel``.

        Raises:
            UnknownRule: no fee for that channel; the message lists the channels.
        """
        for fee in self.store_fees:
            if fee.channel == channel:
                return fee
        raise UnknownRule(f"unknown sales channel {channel!r}; channels: {_names(self.channels)}")

    def tax(self, region: str, at: datetime | date | None = None) -> TaxRule:
        """The tax rule of ``region`` in force at ``at``, else the ``"*"`` rule in force.

        Args:
            region: an ISO 3166 country code.
            at: a date or an aware datetime (its UTC day counts). None: the
                region's open-ended rule (an undated rule is open-ended), else
                the one that ended last.

        Raises:
            UnknownRule: neither the region nor ``"*"`` has a rule in force then;
                the message names the region and the day and lists the regions.
            InvalidEconomy: ``at`` is a naive datetime.
        """
        day = tax_day(at)
        if not isinstance(region, str):  # not even the '*' rule: it is no region at all
            raise UnknownRule(
                f"unknown region {region!r}; use an ISO 3166 country code such as 'GB'"
            )
        rule = pick_tax(self.taxes, region, day) or pick_tax(self.taxes, "*", day)
        if rule is not None:
            return rule
        when = "" if day is None else f" in force on {day.isoformat()}"
        raise UnknownRule(
            f"no tax rule for region {region!r}{when} and no '*' rule then; regions: "
            f"{_names(t.region for t in self.taxes)}"
        )

    def rewards_program(self, name: str | None = None) -> RewardsProgram:
        """The rewards program called ``name`` (or the only one, when None).

        Raises:
            UnknownRule: no such program, or several and no name given.
        """
        if name is None and len(self.rewards) == 1:
            return self.rewards[0]
        for program in self.rewards:
            if program.name == name:
                return program
        raise UnknownRule(
            f"unknown rewards program {name!r}; programs: {_names(p.name for p in self.rewards)}"
        )


# --------------------------------------------------------------------------- paths

_INDEX = re.compile(r"\.(\d+)(?=\.|\[|$)")
_LAST = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


def normalize_path(path: str) -> str:
    """Write a figure path in the bracket form: ``versions.0.rate`` -> ``versions[0].rate``.

    Example:
        >>> normalize_path("versions.0.store_fees.1.rate")
        'versions[0].store_fees[1].rate'
    """
    if not isinstance(path, str):
        raise InvalidEconomy(f"path: {path!r} must be a string such as 'versions[0].gifts[2]'")
    return _INDEX.sub(r"[\1]", path.strip())


def _parent(path: str) -> str:
    return _LAST.sub("", path)


@attrs.frozen(slots=True)
class Figure:
    """One number in an economy, with where it came from.

    Attributes:
        path: where it is (``"versions[0].withdrawal.minimum"``).
        value: the number (int, Fraction or Money).
        source: its provenance, or None when none is recorded.
    """

    path: str
    value: object
    source: Source | None


def _figures_of(rules: RuleSet, prefix: str) -> Iterator[tuple[str, object]]:
    """Every number a rule set holds, with its path. Defaults count: they are claims too."""
    for i, pack in enumerate(rules.coin_packs):
        yield f"{prefix}.coin_packs[{i}].coins", pack.coins
        yield f"{prefix}.coin_packs[{i}].price", pack.price
    for i, fee in enumerate(rules.store_fees):
        yield f"{prefix}.store_fees[{i}].rate", fee.rate
        if fee.fixed is not None:
            yield f"{prefix}.store_fees[{i}].fixed", fee.fixed
    for i, tax in enumerate(rules.taxes):
        yield f"{prefix}.taxes[{i}].rate", tax.rate
    for i, gift in enumerate(rules.gifts):
        if not gift.priced_in_money:
            yield f"{prefix}.gifts[{i}].coins", gift.coins
        for j, r in enumerate(gift.amounts):
            yield f"{prefix}.gifts[{i}].amounts[{j}].minimum", r.minimum
            yield f"{prefix}.gifts[{i}].amounts[{j}].maximum", r.maximum
    pay = rules.creator_pay
    yield f"{prefix}.creator_pay.creator_units_per_coin", pay.creator_units_per_coin
    if pay.model is PayoutModel.DIAMOND_VALUE:
        yield f"{prefix}.creator_pay.value_per_unit", pay.value_per_unit
    else:
        yield f"{prefix}.creator_pay.share", pay.share
    w = rules.withdrawal
    for field in (
        "minimum",
        "daily_cap",
        "weekly_cap",
        "fee_fixed",
        "fee_rate",
        "min_age",
        "review_days",
        "holding_days",
        "withdrawals_per_week",
        "minimum_units",
    ):
        value = getattr(w, field)
        if value is not None:
            yield f"{prefix}.withdrawal.{field}", value
    for i, program in enumerate(rules.rewards):
        base = f"{prefix}.rewards[{i}]"
        for region, amount in program.rpm.items():
            yield f"{base}.rpm.{region}", amount
        for region, amount in program.rpm_high.items():
            yield f"{base}.rpm_high.{region}", amount
        for region, amount in program.rpm_typical.items():
            yield f"{base}.rpm_typical.{region}", amount
        for tier, weight in program.engagement_weights.items():
            yield f"{base}.engagement_weights.{tier}", weight
        for field in (
            "min_followers",
            "min_views_30d",
            "min_video_seconds",
            "min_qualified_views_per_video",
        ):
            yield f"{base}.{field}", getattr(program, field)
        # Added later: listed when set, so rules written before need no new source.
        if program.min_age:
            yield f"{base}.min_age", program.min_age
        for field in ("min_followers_by_region", "min_age_by_region", "ends"):
            for region, number in getattr(program, field).items():
                yield f"{base}.{field}.{region}", number
        for field in ("payout_minimum", "payout_day"):
            value = getattr(program, field)
            if value is not None:
                yield f"{base}.{field}", value
    yield f"{prefix}.min_buyer_age", rules.min_buyer_age


def _resolve(economy: Economy, path: str) -> object:
    """The value at ``path`` in ``economy``; KeyError when there is none."""
    node: object = economy
    for name, index in re.findall(r"\.?([^.\[\]]+)|\[(\d+)\]", path):
        if index:
            if not isinstance(node, tuple) or int(index) >= len(node):
                raise KeyError(path)
            node = node[int(index)]
        elif isinstance(node, Mapping):
            if name not in node:
                raise KeyError(path)
            node = node[name]
        elif attrs.has(type(node)):
            if name not in {a.name for a in attrs.fields(type(node))}:  # type: ignore[arg-type]
                raise KeyError(path)
            node = getattr(node, name)
        else:
            raise KeyError(path)
    return node


# --------------------------------------------------------------------------- economy


def _unit_code(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidEconomy(f"{field}: {_show(value)} must be a unit code such as 'COIN'")
    try:
        unit = get_unit(value)
    except GiftLedgerError:
        return value  # not registered yet: Economy registers it
    if unit.kind is UnitKind.FIAT:
        raise InvalidEconomy(f"{field}: {value!r} is a currency; a virtual unit needs its own code")
    return value


@boundary_methods
@attrs.frozen(slots=True, repr=False)
class Economy:
    """A platform's rules over time.

    Attributes:
        name: a short id (``"tiktok-live"``).
        title: a human title.
        books_currency: the currency the platform keeps its books in.
        coin_unit: the viewer-side virtual unit (``"COIN"``, ``"BIT"``, ``"STAR"``).
        creator_unit: the creator-side unit (``"DIAMOND"``, ``"BEAN"``).
        versions: rule sets, sorted by ``effective_from``; the first is the oldest.
        sources: provenance per figure or record, keyed by a path in the form
            ``"versions[0].creator_pay.value_per_unit"`` (the dotted form
            ``"versions.0.creator_pay.value_per_unit"`` is accepted and normalised).
        assumptions: plain-language notes on every figure the platform never published.
        unit_names: display names per virtual unit code, ``(singular, plural)``.
        as_of: the date the rules were last checked against their sources.
        variant: the preset options these rules were built with (``{"model": "A"}``).

    Building an Economy registers its two virtual units (exponent 0) with
    :func:`~giftledger.register_unit`, so amounts in them work at once.

    Example:
        >>> import giftledger as gl
        >>> econ = gl.presets.load("tiktok-live")
        >>> from datetime import datetime, UTC
        >>> econ.gift("Galaxy", datetime(2024, 8, 1, tzinfo=UTC)).coins
        1000
    """

    name: str
    title: str
    books_currency: str
    coin_unit: str
    creator_unit: str
    versions: tuple[RuleSet, ...]
    sources: Mapping[str, Source] = attrs.field(factory=dict)
    assumptions: tuple[str, ...] = ()
    unit_names: Mapping[str, tuple[str, str]] = attrs.field(factory=dict)
    as_of: date | None = None
    variant: Mapping[str, str] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        _text(self, "name")
        try:
            # The name is journaled in each ledger the chain runs on (memo, metadata).
            check_text(self.name, "economy name")
        except InvalidArgument as exc:
            raise InvalidEconomy(f"name: {exc}") from None
        _text(self, "title", empty=True)
        _currency(self.books_currency, "books_currency")
        _unit_code(self.coin_unit, "coin_unit")
        _unit_code(self.creator_unit, "creator_unit")
        if self.coin_unit == self.creator_unit:
            raise InvalidEconomy(
                f"creator_unit: {self.creator_unit!r} is also the coin_unit; "
                f"the two sides need distinct units"
            )
        versions = _tuple_of(self, "versions", RuleSet)
        if not versions:
            raise InvalidEconomy("versions: () must hold at least one RuleSet")
        for i in range(1, len(versions)):
            if versions[i].effective_from <= versions[i - 1].effective_from:
                raise InvalidEconomy(
                    f"versions[{i}].effective_from: {versions[i].effective_from.isoformat()} "
                    f"is not after versions[{i - 1}].effective_from "
                    f"{versions[i - 1].effective_from.isoformat()}; versions must be sorted "
                    f"oldest first, each strictly later"
                )
        for i, version in enumerate(versions):
            pay = version.creator_pay
            if pay.model is PayoutModel.DIAMOND_VALUE and pay.value_currency != self.books_currency:
                raise InvalidEconomy(
                    f"versions[{i}].creator_pay.value_currency: {pay.value_currency!r} is not "
                    f"the books' currency {self.books_currency!r}; the chain values "
                    f"{self.creator_unit} in the books' currency (payouts in other currencies "
                    f"are converted at withdrawal)"
                )
        for i, text in enumerate(_tuple_of(self, "assumptions", str)):
            if not text.strip():
                raise InvalidEconomy(f"assumptions[{i}]: {text!r} must not be empty")
            _unicode(text, f"assumptions[{i}]")
        if self.as_of is not None and not isinstance(self.as_of, date):
            raise InvalidEconomy(f"as_of: {self.as_of!r} must be a date or None")
        if not isinstance(self.variant, Mapping):
            raise InvalidEconomy(f"variant: {self.variant!r} must be a mapping")
        object.__setattr__(self, "variant", FrozenMap(self.variant))
        self._check_names()
        self._check_sources()
        self._register_units()

    def _check_names(self) -> None:
        if not isinstance(self.unit_names, Mapping):
            raise InvalidEconomy(f"unit_names: {self.unit_names!r} must be a mapping")
        names: dict[str, tuple[str, str]] = {}
        for code, pair in self.unit_names.items():
            if code not in (self.coin_unit, self.creator_unit):
                raise InvalidEconomy(
                    f"unit_names.{code}: not one of this economy's units "
                    f"({self.coin_unit}, {self.creator_unit})"
                )
            if (
                not isinstance(pair, tuple | list)
                or len(pair) != 2
                or not all(isinstance(p, str) and p for p in pair)
            ):
                raise InvalidEconomy(
                    f"unit_names.{code}: {pair!r} must be (singular, plural) strings"
                )
            names[code] = (pair[0], pair[1])
        object.__setattr__(self, "unit_names", FrozenMap(names))

    def _check_sources(self) -> None:
        if not isinstance(self.sources, Mapping):
            raise InvalidEconomy(f"sources: {self.sources!r} must be a mapping of path to Source")
        sources: dict[str, Source] = {}
        for key, source in self.sources.items():
            path = normalize_path(key)
            if not isinstance(source, Source):
                raise InvalidEconomy(f"sources[{key!r}]: {source!r} must be a Source")
            try:
                _resolve(self, path)
            except KeyError:
                raise InvalidEconomy(
                    f"sources[{key!r}]: no figure or record at that path in {self.name!r}"
                ) from None
            sources[path] = source
        object.__setattr__(self, "sources", FrozenMap(sources))

    def _register_units(self) -> None:
        for field in ("coin_unit", "creator_unit"):
            code = getattr(self, field)
            singular, plural = self.unit_names.get(code, (None, None))
            try:
                register_unit(code, 0, singular=singular, plural=plural)
            except GiftLedgerError as exc:
                raise InvalidEconomy(f"{field}: {code!r} cannot be registered ({exc})") from None

    def __repr__(self) -> str:
        # The full value runs to thousands of figures; show what identifies it.
        starts = ", ".join(v.effective_from.date().isoformat() for v in self.versions)
        variant = f", variant={dict(self.variant)!r}" if self.variant else ""
        return f"Economy(name={self.name!r}, versions=[{starts}]{variant})"

    # ----------------------------------------------------------------- time

    @property
    def latest(self) -> RuleSet:
        """The newest version."""
        return self.versions[-1]

    def rules_at(self, when: datetime) -> RuleSet:
        """The version in force at ``when``: the last one whose ``effective_from`` <= ``when``.

        A version takes effect at its ``effective_from`` exactly.

        Raises:
            UnknownRule: ``when`` is before the first version.
            InvalidEconomy: ``when`` is not a timezone-aware datetime.
        """
        if not isinstance(when, datetime) or when.utcoffset() is None:
            raise InvalidEconomy(f"when: {when!r} must be a timezone-aware datetime")
        starts = [v.effective_from for v in self.versions]
        i = bisect.bisect_right(starts, when)
        if i == 0:
            raise UnknownRule(
                f"no rules of {self.name!r} are in force at {when.isoformat()}: the first "
                f"version takes effect at {starts[0].isoformat()}"
            )
        return self.versions[i - 1]

    def version_index(self, when: datetime) -> int:
        """The index in :attr:`versions` of the version in force at ``when``."""
        rules = self.rules_at(when)
        return next(i for i, v in enumerate(self.versions) if v is rules)

    def _at(self, at: datetime | None) -> RuleSet:
        return self.latest if at is None else self.rules_at(at)

    def with_change(
        self,
        effective_from: datetime,
        *,
        sources: Mapping[str, Source] | None = None,
        **changes: Any,
    ) -> Economy:
        """A new economy with one more version, derived from the latest.

        Args:
            effective_from: when the change takes effect; after the latest version.
            sources: provenance for the changed figures, keyed by paths relative
                to the new version (``{"withdrawal.minimum": Source(...)}``).
            **changes: :class:`RuleSet` fields to replace.

        Returns:
            A new :class:`Economy`; this one is unchanged. Sources of fields the
            change leaves alone carry over to the new version.

        Raises:
            InvalidEconomy: an unknown field, a date not after the latest version,
                or a change that fails validation (the path names the new version).

        Example:
            >>> import giftledger as gl
            >>> from datetime import datetime, UTC
            >>> from moneyed import Money
            >>> econ = gl.presets.load("tiktok-live")
            >>> w = econ.latest.withdrawal
            >>> import attrs
            >>> later = econ.with_change(datetime(2030, 1, 1, tzinfo=UTC),
            ...     withdrawal=attrs.evolve(w, minimum=Money("50", "USD")))
            >>> later.rules_at(datetime(2030, 1, 2, tzinfo=UTC)).withdrawal.minimum
            Money('50', 'USD')
        """
        fields = attrs.fields_dict(RuleSet)
        for name in changes:
            if name not in fields or name == "effective_from":
                raise InvalidEconomy(
                    f"{name}: not a RuleSet field; fields: "
                    f"{', '.join(f for f in fields if f != 'effective_from')}"
                )
        n = len(self.versions)
        prefix = f"versions[{n}]."
        try:
            new = attrs.evolve(self.latest, effective_from=effective_from, **changes)
        except InvalidEconomy as exc:
            raise _prefixed(prefix, exc) from None
        old = f"versions[{n - 1}]"
        carried = dict(self.sources)
        for path, source in self.sources.items():
            if path.startswith(old + ".") or path == old:
                rest = path[len(old) :]
                field = re.split(r"[.\[]", rest.lstrip("."), maxsplit=1)[0]
                if field not in changes:
                    carried[f"versions[{n}]{rest}"] = source
        for path, source in (sources or {}).items():
            carried[prefix + normalize_path(path)] = source
        return attrs.evolve(self, versions=(*self.versions, new), sources=carried)

    # ----------------------------------------------------------------- lookups

    def pack(
        self, coins: int, channel: str, region: str = "*", at: datetime | None = None
    ) -> CoinPack:
        """The pack of ``coins`` on ``channel`` for ``region`` in the rules at ``at``.

        ``at=None`` means the latest version. See :meth:`RuleSet.pack`.
        """
        return self._at(at).pack(coins, channel, region)

    def gift(self, name: str, at: datetime | None = None) -> Gift:
        """The gift called ``name`` in the rules at ``at`` (None: the latest)."""
        return self._at(at).gift(name)

    def store_fee(self, channel: str, at: datetime | None = None) -> StoreFee:
        """The store fee of ``channel`` in the rules at ``at`` (None: the latest)."""
        return self._at(at).store_fee(channel)

    def tax(self, region: str, at: datetime | date | None = None) -> TaxRule:
        """The tax rule of ``region`` (else ``"*"``) in force at ``at``.

        ``at`` picks both the version (:meth:`rules_at`; a date means its midnight
        UTC) and the rule's period within it (:meth:`RuleSet.tax`). None: the
        latest version and its open-ended rules.

        Example:
            >>> import giftledger as gl
            >>> from datetime import date
            >>> econ = gl.presets.load("youtube-super-chat")
            >>> [str(econ.tax("DE", date(y, m, 1)).rate * 100) for y, m in ((2020, 8), (2021, 2))]
            ['16', '19']
        """
        if at is None:
            return self.latest.tax(region)
        when = at if isinstance(at, datetime) else datetime.combine(at, time(0), tzinfo=UTC)
        return self.rules_at(when).tax(region, at)

    # ----------------------------------------------------------------- provenance

    def figures(self) -> tuple[Figure, ...]:
        """Every number in every version, with its path and source (None when missing)."""
        rows = []
        for i, rules in enumerate(self.versions):
            for path, value in _figures_of(rules, f"versions[{i}]"):
                rows.append(Figure(path, value, self._find_source(path)))
        return tuple(rows)

    def _find_source(self, path: str) -> Source | None:
        node = path
        while node:
            source = self.sources.get(node)
            if source is not None:
                return source
            parent = _parent(node)
            if parent == node or parent in ("", "versions"):
                return None
            node = parent
        return None

    def source_of(self, path: str) -> Source:
        """Where the figure at ``path`` came from.

        ``path`` is written as in error messages (``"versions[0].store_fees[1].rate"``;
        dots for indexes work too). A source recorded for an enclosing record
        covers the figures inside it.

        Raises:
            UnknownRule: nothing is at ``path``, or no source covers it.

        Example:
            >>> import giftledger as gl
            >>> econ = gl.presets.load("tiktok-live")
            >>> econ.source_of("versions[0].withdrawal.minimum").confidence.value
            'official'
        """
        norm = normalize_path(path)
        try:
            _resolve(self, norm)
        except KeyError:
            raise UnknownRule(
                f"no figure at {path!r} in {self.name!r}; paths look like "
                f"'versions[0].coin_packs[2].price' (see Economy.figures())"
            ) from None
        source = self._find_source(norm)
        if source is None:
            raise UnknownRule(
                f"no source is recorded for {norm!r} in {self.name!r} or any record "
                f"enclosing it; the figure's provenance is unknown"
            )
        return source

    def missing_sources(self) -> tuple[str, ...]:
        """The paths of figures no source covers (empty for every shipped preset)."""
        return tuple(f.path for f in self.figures() if f.source is None)

    def explain_sources(self) -> str:
        """A readable table: every figure, its value and where it came from.

        Example:
            >>> import giftledger as gl
            >>> text = gl.presets.load("tiktok-live").explain_sources()
            >>> "creator_pay.value_per_unit" in text
            True
        """
        lines = [f"{self.title or self.name} — figures and their sources"]
        for figure in self.figures():
            value = _show(figure.value)
            where = str(figure.source) if figure.source else "NO SOURCE RECORDED"
            lines.append(f"{figure.path} = {value}: {where}")
        if self.assumptions:
            lines.append("Assumptions:")
            lines.extend(f"- {text}" for text in self.assumptions)
        return "\n".join(lines)

    # ----------------------------------------------------------------- files

    @classmethod
    def from_toml(cls, text_or_path: str | Path, **variant: str) -> Economy:
        """Load an economy from TOML text or a file (a ``Path``, or a str ending in .toml).

        See :func:`giftledger.load_economy` for the format.
        """
        from .loading import economy_from_toml

        return economy_from_toml(text_or_path, **variant)

    def to_toml(self) -> str:
        """This economy as TOML that :meth:`from_toml` reads back to an equal value."""
        from .loading import economy_to_toml

        return economy_to_toml(self)
