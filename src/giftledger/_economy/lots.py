"""Coin lots: where every coin in a wallet came from.

A coin purchase is a *lot*: so many coins, bought for so much, with the store's
fee and the tax in it, on one channel in one region at one time. Gifts spend a
viewer's lots first in, first out. Every fact about a lot lives in the typed
records of the entries that made it (purchases, gifts, refunds), so a viewer's
lots are the fold of the entries in the viewer's wallet (see ``index``): a
:class:`~giftledger.GiftEconomy` opened over a stored ledger knows every lot
without any state of its own.

Slices of a lot are valued *cumulatively*: after ``s`` of ``N`` coins are
spent, ``round(V * s / N)`` of a value ``V`` has been released, with the named
rounding :data:`SLICE_ROUNDING`. A slice is the difference of two such
cumulative values, so the slices of a fully spent lot add up to exactly ``V``,
to the minor unit, however the lot was cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from fractions import Fraction

import attrs

from .._money.amounts import Rounding, round_fraction

__all__ = ["SLICE_ROUNDING", "CoinLot", "LotSlice", "cumulative_share"]

#: How the value of part of a lot is rounded: half to even, on cumulative values,
#: so a lot that is spent to the last coin releases exactly its value.
SLICE_ROUNDING = Rounding.HALF_EVEN


def cumulative_share(value: int, done: int, step: int, whole: int) -> int:
    """The part of ``value`` (minor units) that ``step`` more of ``whole`` units carry,
    after ``done`` were taken: ``round(value*(done+step)/whole) - round(value*done/whole)``.

    Example:
        >>> cumulative_share(1999, 0, 1000, 1400), cumulative_share(1999, 1000, 400, 1400)
        (1428, 571)
    """
    if whole <= 0:
        return 0
    before = round_fraction(Fraction(value * done, whole), SLICE_ROUNDING)
    after = round_fraction(Fraction(value * (done + step), whole), SLICE_ROUNDING)
    return after - before


@attrs.frozen(slots=True)
class CoinLot:
    """One coin purchase and what is left of it.

    Attributes:
        id: the id of the purchase transaction (it names the lot).
        viewer: who bought it.
        coins: coins credited.
        currency: the currency the viewer paid in.
        gross: what the viewer paid, in minor units of ``currency``.
        fee: the store's fee in it.
        tax: the tax in it.
        deferred: what was deferred, in minor units of the books' currency
            (``gross - tax``, converted at the purchase's rate when the
            currencies differ).
        fee_books: the fee in the books' currency.
        tax_books: the tax in the books' currency.
        channel: the sales channel.
        region: the buyer's region.
        bought_at: when.
        spent: coins already spent on gifts.
        released: books minor units already released from deferred revenue.
        refunded: the id of the refund, chargeback or reversal that took the
            lot back, if any.
        cuts: what the spent coins carried so far of the fee, the tax, the
            price, the fee in the books' currency and the tax in it (running
            sums, so the next slice is cut from exactly where the last ended).
    """

    id: int
    viewer: str
    coins: int
    currency: str
    gross: int
    fee: int
    tax: int
    deferred: int
    fee_books: int
    tax_books: int
    channel: str
    region: str
    bought_at: datetime
    spent: int = 0
    released: int = 0
    refunded: int | None = None
    cuts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    @property
    def unspent(self) -> int:
        """Coins of this lot still in the wallet (0 once refunded)."""
        return 0 if self.refunded is not None else self.coins - self.spent


@attrs.frozen(slots=True)
class LotSlice:
    """The part of one lot that one gift spent, every value cut cumulatively.

    Attributes:
        lot: the lot's id (its purchase transaction).
        coins: coins spent from it.
        released: deferred revenue released, books minor units.
        fee: the store fee these coins carried, minor units of the lot's currency.
        tax: the tax they carried, lot currency.
        paid: what the viewer paid for them, lot currency (``tax`` + their
            deferred part in the lot's currency).
        fee_books: the fee, books minor units.
        tax_books: the tax, books minor units.
    """

    lot: int
    coins: int
    released: int
    fee: int
    tax: int
    paid: int
    fee_books: int
    tax_books: int

    def encode(self) -> str:
        return ":".join(
            str(v)
            for v in (
                self.lot,
                self.coins,
                self.released,
                self.fee,
                self.tax,
                self.paid,
                self.fee_books,
                self.tax_books,
            )
        )

    @classmethod
    def decode(cls, text: str) -> LotSlice:
        lot, coins, released, fee, tax, paid, fee_b, tax_b = (int(x) for x in text.split(":"))
        return cls(lot, coins, released, fee, tax, paid, fee_b, tax_b)


def encode_slices(slices: Iterable[LotSlice]) -> str:
    return ";".join(s.encode() for s in slices)


def decode_slices(text: object) -> tuple[LotSlice, ...]:
    if not isinstance(text, str) or not text:
        return ()
    return tuple(LotSlice.decode(part) for part in text.split(";"))


def _upto(value: int, spent: int, whole: int) -> int:
    """``round(value * spent / whole)``, half to even, in integers (no Fraction on the
    gift path)."""
    if not whole:
        return 0
    q, r = divmod(value * spent, whole)
    twice = 2 * r
    if twice > whole or (twice == whole and q & 1):
        q += 1
    return q


def slice_of(lot: CoinLot, coins: int) -> LotSlice:
    """The next ``coins`` of ``lot`` (after those already spent), valued cumulatively:
    each value's slice takes it from what was cut so far to ``round(V * spent / N)``."""
    after, whole = lot.spent + coins, lot.coins
    fee, tax, paid, fee_b, tax_b = lot.cuts
    tax_to = _upto(lot.tax, after, whole)
    return LotSlice(
        lot.id,
        coins,
        _upto(lot.deferred, after, whole) - lot.released,
        _upto(lot.fee, after, whole) - fee,
        tax_to - tax,
        tax_to + _upto(lot.gross - lot.tax, after, whole) - paid,
        _upto(lot.fee_books, after, whole) - fee_b,
        _upto(lot.tax_books, after, whole) - tax_b,
    )


def _spend(lot: CoinLot, s: LotSlice, sign: int) -> CoinLot:
    fee, tax, paid, fee_b, tax_b = lot.cuts
    # Built directly, not with attrs.evolve: this runs for every slice of every gift.
    return CoinLot(
        lot.id,
        lot.viewer,
        lot.coins,
        lot.currency,
        lot.gross,
        lot.fee,
        lot.tax,
        lot.deferred,
        lot.fee_books,
        lot.tax_books,
        lot.channel,
        lot.region,
        lot.bought_at,
        lot.spent + sign * s.coins,
        lot.released + sign * s.released,
        lot.refunded,
        (
            fee + sign * s.fee,
            tax + sign * s.tax,
            paid + sign * s.paid,
            fee_b + sign * s.fee_books,
            tax_b + sign * s.tax_books,
        ),
    )
