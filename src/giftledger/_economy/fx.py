"""Exchange rates with dates: a table of exact rates, and the protocol to plug in your own.

A conversion in the books stores the rate it used, so the rate must be exact
and must be the one in force at the time: :class:`RateTable` holds
:class:`DatedRate` rows (``1 base = rate quote`` from ``valid_from``, up to but
not including ``valid_to``) and answers :meth:`RateTable.rate`. A pair with no
row covering the time is :class:`~giftledger.RateUnavailable` naming the pair
and the time — never the nearest rate, never a guess. The inverse of a known
row (``EUR/USD`` from ``USD/EUR``) is its exact reciprocal and is used when
the direct pair has no row; no other pair is derived (no triangulation).

Any object with a ``rate(base, quote, at) -> Fraction`` method is a
:class:`RateSource`, so a user can plug in a database, a central-bank feed or a
fixed table of their own.

Example:
    >>> from datetime import datetime, UTC
    >>> from fractions import Fraction
    >>> jan, feb = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)
    >>> table = RateTable.of(("USD", "EUR", "0.92", jan, feb), ("USD", "EUR", "0.95", feb, None))
    >>> table.rate("USD", "EUR", datetime(2025, 1, 31, 23, 59, tzinfo=UTC))
    Fraction(23, 25)
    >>> table.rate("EUR", "USD", datetime(2025, 3, 1, tzinfo=UTC))
    Fraction(20, 19)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs
from moneyed import Money

from .._boundary import boundary, boundary_methods, shown
from .._errors import (
    FloatNotAllowed,
    GiftLedgerError,
    InvalidAmount,
    InvalidArgument,
    RateUnavailable,
)
from .._money.amounts import Rounding, from_minor, round_fraction, to_fraction, to_minor
from .._money.units import get_unit
from .rules import Source

__all__ = ["DatedRate", "RateSource", "RateTable", "convert_at"]


@runtime_checkable
class RateSource(Protocol):
    """Anything that answers "how many ``quote`` for one ``base`` at ``at``", exactly.

    Implementations return a :class:`~fractions.Fraction` and raise
    :class:`~giftledger.RateUnavailable` when they do not know the rate.
    """

    def rate(self, base: str, quote: str, at: datetime) -> Fraction:
        """One ``base`` is worth this many ``quote`` at ``at``."""
        ...


def _aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidArgument(f"{what}: {value!r} must be a timezone-aware datetime")
    return value


@attrs.frozen(slots=True)
class DatedRate:
    """One exchange rate, valid over a period.

    Attributes:
        base: the unit sold (``"USD"``).
        quote: the unit bought (``"EUR"``).
        rate: how many ``quote`` one ``base`` buys, exactly (``Fraction(23, 25)``).
        valid_from: the first instant the rate applies (aware datetime).
        valid_to: the first instant it no longer applies, or None (open-ended).
        source: where the rate came from, if known.
    """

    base: str
    quote: str
    rate: Fraction
    valid_from: datetime
    valid_to: datetime | None = None
    source: Source | None = None

    def __attrs_post_init__(self) -> None:
        for field in ("base", "quote"):
            code = getattr(self, field)
            try:
                get_unit(code)
            except GiftLedgerError as exc:
                raise InvalidArgument(f"{field}: {exc}") from None
        if self.base == self.quote:
            raise InvalidArgument(f"rate {self.base}/{self.quote}: base and quote are the same")
        if isinstance(self.rate, float | bool):
            raise FloatNotAllowed(
                f"rate {self.base}/{self.quote}: {self.rate!r} is a float; pass a Fraction, "
                f"a Decimal or a string such as '0.92'"
            )
        try:
            value = to_fraction(self.rate, f"rate {self.base}/{self.quote}")
        except GiftLedgerError as exc:
            raise InvalidArgument(str(exc)) from None
        if value <= 0:
            raise InvalidArgument(f"rate {self.base}/{self.quote}: {self.rate} must be positive")
        object.__setattr__(self, "rate", value)
        _aware(self.valid_from, "valid_from")
        if self.valid_to is not None and _aware(self.valid_to, "valid_to") <= self.valid_from:
            raise InvalidArgument(
                f"rate {self.base}/{self.quote}: valid_to {self.valid_to.isoformat()} is not "
                f"after valid_from {self.valid_from.isoformat()}"
            )

    def covers(self, at: datetime) -> bool:
        """Whether the rate applies at ``at``."""
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)

    def _period(self) -> str:
        end = self.valid_to.isoformat() if self.valid_to else "open-ended"
        return f"{self.valid_from.isoformat()} to {end}"


@boundary_methods
@attrs.frozen(slots=True)
class RateTable:
    """Dated, exact exchange rates; a :class:`RateSource`.

    Attributes:
        rates: the rows; periods of one pair must not overlap (a gap is allowed,
            and asking for a time inside it is ``RateUnavailable``).
    """

    rates: tuple[DatedRate, ...] = ()

    def __attrs_post_init__(self) -> None:
        rows = tuple(self.rates)
        for i, row in enumerate(rows):
            if not isinstance(row, DatedRate):
                raise InvalidArgument(f"rates[{i}]: {row!r} must be a DatedRate")
        object.__setattr__(self, "rates", rows)
        by_pair: dict[tuple[str, str], list[DatedRate]] = {}
        for row in rows:
            by_pair.setdefault((row.base, row.quote), []).append(row)
        for (base, quote), pair_rows in by_pair.items():
            pair_rows.sort(key=lambda r: r.valid_from)
            for a, b in itertools.pairwise(pair_rows):
                if a.valid_to is None or a.valid_to > b.valid_from:
                    raise InvalidArgument(
                        f"rates for {base}/{quote} overlap: {a._period()} and {b._period()}"
                    )

    @classmethod
    def of(
        cls,
        *rows: tuple[str, str, Fraction | Decimal | int | str, datetime, datetime | None],
    ) -> RateTable:
        """Build a table from ``(base, quote, rate, valid_from, valid_to)`` tuples."""
        for i, row in enumerate(rows):
            if not isinstance(row, tuple | list) or len(row) != 5:
                raise InvalidArgument(
                    f"rows[{i}]: {shown(row)} must be a (base, quote, rate, valid_from, "
                    f"valid_to) tuple"
                )
        return cls(tuple(DatedRate(b, q, r, f, t) for b, q, r, f, t in rows))  # type: ignore[arg-type]

    def with_rate(
        self,
        base: str,
        quote: str,
        rate: Fraction | Decimal | int | str,
        valid_from: datetime,
        valid_to: datetime | None = None,
        source: Source | None = None,
    ) -> RateTable:
        """A new table with one more row."""
        row = DatedRate(base, quote, rate, valid_from, valid_to, source)  # type: ignore[arg-type]
        return RateTable((*self.rates, row))

    def rate(self, base: str, quote: str, at: datetime) -> Fraction:
        """How many ``quote`` one ``base`` buys at ``at``, exactly.

        Raises:
            RateUnavailable: no row for the pair (or its inverse) covers ``at``;
                the message names the pair, the time and the periods known.
        """
        _aware(at, "at")
        if base == quote:
            return Fraction(1)
        for row in self.rates:
            if row.base == base and row.quote == quote and row.covers(at):
                return row.rate
        for row in self.rates:
            if row.base == quote and row.quote == base and row.covers(at):
                return 1 / row.rate
        known = [
            f"{r.base}/{r.quote} {r._period()}"
            for r in self.rates
            if {r.base, r.quote} == {base, quote}
        ]
        detail = "; known: " + ", ".join(known) if known else "; the table has no rate for it"
        raise RateUnavailable(
            f"no {base}/{quote} rate at {at.isoformat()}{detail}. Add a rate covering that "
            f"time; giftledger never guesses one"
        )

    def source_of(self, base: str, quote: str, at: datetime) -> Source | None:
        """The source of the row :meth:`rate` uses (None when the row has none)."""
        self.rate(base, quote, at)
        for row in self.rates:
            if {row.base, row.quote} == {base, quote} and row.covers(at):
                return row.source
        return None  # pragma: no cover - rate() raised already

    @classmethod
    def from_toml(cls, text_or_path: str | Path) -> RateTable:
        """Load a table from TOML text or a file: one ``[[rates]]`` table per row with
        ``base``, ``quote``, ``rate`` (a string such as ``"0.92"`` or ``"23/25"``; a TOML
        float is refused), ``valid_from``, optional ``valid_to`` (a date means midnight
        UTC) and an optional ``source = {citation, as_of, confidence, note}``.

        Raises:
            InvalidArgument: a missing or wrong field, or overlapping rows; the
                message names the row (``rates[1].rate``).
            FloatNotAllowed: a TOML float.

        Example:
            >>> table = RateTable.from_toml('''
            ... [[rates]]
            ... base = "USD"
            ... quote = "EUR"
            ... rate = "23/25"
            ... valid_from = 2025-01-01
            ... ''')
            >>> table.rates[0].rate
            Fraction(23, 25)
        """
        from .loading import rate_table_from_toml

        return rate_table_from_toml(text_or_path)

    def to_toml(self) -> str:
        """This table as TOML that :meth:`from_toml` reads back equal."""
        from .loading import rate_table_to_toml

        return rate_table_to_toml(self)

    def pairs(self) -> Iterable[tuple[str, str]]:
        """The pairs with at least one row."""
        return sorted({(r.base, r.quote) for r in self.rates})


@boundary
def convert_at(
    amount: Money,
    quote: str,
    at: datetime,
    source: RateSource,
    rounding: Rounding = Rounding.HALF_EVEN,
) -> tuple[Money, Fraction]:
    """Convert ``amount`` into ``quote`` at the rate in force at ``at``.

    Args:
        amount: what to convert.
        quote: the unit wanted.
        at: when (the rate in force then is used).
        source: where rates come from (a :class:`RateTable` or your own).
        rounding: how the result is rounded to ``quote``'s minor unit.

    Returns:
        The converted amount and the exact rate used (store it with the conversion).

    Raises:
        RateUnavailable: the source has no rate for the pair at ``at``.

    Example:
        >>> from datetime import datetime, UTC
        >>> table = RateTable.of(("USD", "EUR", "0.92", datetime(2025, 1, 1, tzinfo=UTC), None))
        >>> convert_at(Money("10.00", "USD"), "EUR", datetime(2025, 6, 1, tzinfo=UTC), table)
        (Money('9.20', 'EUR'), Fraction(23, 25))
    """
    if not isinstance(amount, Money):
        raise InvalidAmount(
            f"amount {shown(amount)} of type {type(amount).__name__} is not moneyed.Money"
        )
    get_unit(quote)  # an unknown code (or not a string) fails here, naming it
    base = amount.currency.code
    rate = source.rate(base, quote, at)
    if isinstance(rate, float) or not isinstance(rate, Fraction):
        raise FloatNotAllowed(
            f"rate source {source!r} returned {rate!r} for {base}/{quote}; "
            f"it must return a Fraction"
        )
    base_unit, quote_unit = get_unit(base), get_unit(quote)
    minor = to_minor(amount, base_unit)
    exact = Fraction(minor, base_unit.scale) * rate * quote_unit.scale
    return from_minor(round_fraction(exact, rounding), quote_unit), rate
