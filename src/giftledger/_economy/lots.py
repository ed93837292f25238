"""Coin lots: where every coin in a wallet came from, rebuilt from the journal.

A coin purchase is a *lot*: so many coins, bought for so much, with the store's
fee and the tax in it, on one channel in one region at one time. Gifts spend a
viewer's lots first in, first out. Every fact about a lot lives in the
metadata of the transactions that made it (``gl.op`` = ``buy_coins``,
``send_gift``, ``refund``), so :class:`LotBook` can be rebuilt at any time by
reading the journal: a :class:`~giftledger.GiftEconomy` opened over a stored
ledger knows every lot without any state of its own.

Slices of a lot are valued *cumulatively*: after ``s`` of ``N`` coins are
spent, ``round(V * s / N)`` of a value ``V`` has been released, with the named
rounding :data:`SLICE_ROUNDING`. A slice is the difference of two such
cumulative values, so the slices of a fully spent lot add up to exactly ``V``,
to the minor unit, however the lot was cut.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from fractions import Fraction

import attrs

from .._ledger.model import EntryKind, Transaction
from .._ledger.store import StoreReader
from .._money.amounts import Rounding, round_fraction

__all__ = ["SLICE_ROUNDING", "CoinLot", "LotBook", "LotSlice", "cumulative_share"]

#: How the value of part of a lot is rounded: half to even, on cumulative values,
#: so a lot that is spent to the last coin releases exactly its value.
SLICE_ROUNDING = Rounding.HALF_EVEN

OP = "gl.op"


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
    return round_fraction(Fraction(value * spent, whole), SLICE_ROUNDING) if whole else 0


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
    return attrs.evolve(
        lot,
        spent=lot.spent + sign * s.coins,
        released=lot.released + sign * s.released,
        cuts=(
            fee + sign * s.fee,
            tax + sign * s.tax,
            paid + sign * s.paid,
            fee_b + sign * s.fee_books,
            tax_b + sign * s.tax_books,
        ),
    )


def _int(meta: Mapping[str, object], key: str) -> int:
    value = meta.get(key)
    return value if isinstance(value, int) else 0


class LotBook:
    """Every coin lot of one ledger, kept in step with its journal.

    It only ever *reads* committed entries: :meth:`sync` applies the entries
    recorded since the last call, so it is a materialised view of the journal
    that any number of processes can keep over one stored ledger.
    """

    def __init__(self) -> None:
        self._lots: dict[int, CoinLot] = {}
        self._fifo: dict[str, list[int]] = {}
        self._ops: dict[int, Transaction] = {}  # chain entries that a reversal could undo
        self.last_id = 0
        self.lock = threading.RLock()

    def sync(self, reader: StoreReader, watch: frozenset[str] = frozenset()) -> bool:
        """Apply entries recorded since the last sync; return whether any touched ``watch``."""
        touched = False
        with self.lock:
            for tx in reader.transactions(self.last_id + 1):
                if watch and not touched:
                    touched = any(p.account in watch for p in tx.postings)
                self._apply(tx)
                self.last_id = tx.id
        return touched

    def _apply(self, tx: Transaction) -> None:
        if tx.kind is EntryKind.REVERSAL and tx.reverses in self._ops:
            self._undo(tx)
            return
        if tx.kind is not EntryKind.POST or not tx.metadata:
            return
        meta = dict(tx.metadata)
        op = meta.get(OP)
        if op in ("buy_coins", "send_gift", "refund", "chargeback"):
            self._ops[tx.id] = tx
        if op == "buy_coins":
            viewer = str(meta["gl.viewer"])
            self._lots[tx.id] = CoinLot(
                tx.id,
                viewer,
                _int(meta, "gl.coins"),
                str(meta["gl.currency"]),
                _int(meta, "gl.gross"),
                _int(meta, "gl.fee"),
                _int(meta, "gl.tax"),
                _int(meta, "gl.deferred"),
                _int(meta, "gl.fee_books"),
                _int(meta, "gl.tax_books"),
                str(meta.get("gl.channel", "")),
                str(meta.get("gl.region", "")),
                tx.effective_at,
            )
            self._fifo.setdefault(viewer, []).append(tx.id)
        elif op == "send_gift":
            for s in decode_slices(meta.get("gl.lots")):
                self._lots[s.lot] = _spend(self._lots[s.lot], s, +1)
        elif op in ("refund", "chargeback"):
            lot_id = _int(meta, "gl.lot")
            found = self._lots.get(lot_id)
            if found is not None:
                self._lots[lot_id] = attrs.evolve(found, refunded=tx.id)

    def _undo(self, reversal: Transaction) -> None:
        """A chain entry reversed with ``Ledger.reverse``: take its effect off the lots."""
        assert reversal.reverses is not None
        original = self._ops.pop(reversal.reverses)
        meta = original.meta
        op = meta.get(OP)
        if op == "send_gift":
            for s in decode_slices(meta.get("gl.lots")):
                self._lots[s.lot] = _spend(self._lots[s.lot], s, -1)
        elif op == "buy_coins":
            self._lots[original.id] = attrs.evolve(self._lots[original.id], refunded=reversal.id)
        else:  # a refund or chargeback reversed: the lot is back
            lot_id = _int(meta, "gl.lot")
            self._lots[lot_id] = attrs.evolve(self._lots[lot_id], refunded=None)

    def lot(self, lot_id: int) -> CoinLot | None:
        """The lot bought by transaction ``lot_id``, or None."""
        with self.lock:
            return self._lots.get(lot_id)

    def lots(self, viewer: str | None = None) -> tuple[CoinLot, ...]:
        """Lots of ``viewer`` (all viewers if None), oldest first."""
        with self.lock:
            if viewer is None:
                return tuple(self._lots[i] for i in sorted(self._lots))
            return tuple(self._lots[i] for i in self._fifo.get(viewer, ()))

    def take(self, viewer: str, coins: int) -> tuple[LotSlice, ...] | None:
        """The slices that spending ``coins`` of ``viewer``'s wallet takes, first in,
        first out; None when the lots hold fewer coins."""
        out = []
        left = coins
        with self.lock:
            for lot_id in self._fifo.get(viewer, ()):
                lot = self._lots[lot_id]
                n = min(lot.unspent, left)
                if n <= 0:
                    continue
                out.append(slice_of(lot, n))
                left -= n
                if left == 0:
                    return tuple(out)
        return None
