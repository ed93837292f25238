"""Typed chain events on the change feed, and the payout threshold monitor.

The chain writes one typed record per entry (:mod:`.records`). An app built on
the books (a creator dashboard, a payout service, a fraud check) wants those as
events: :func:`chain_events` turns the feed's entries into one event class per
thing that happened, read from the typed records (never from metadata text),
and skips entries that are no chain event (rule changes, party changes, plain
ledger entries).

==========================  =================================================
event                       record
==========================  =================================================
:class:`GiftReceived`       :class:`GiftRecord` (coins) or :class:`PaidGiftRecord`
                            (paid in money: a Super Chat)
:class:`CoinsBought`        :class:`PurchaseRecord`
:class:`UnitsConverted`     :class:`ConversionRecord` (creator units to cash)
:class:`WithdrawalRequested`  :class:`WithdrawalRecord` (the hold is placed)
:class:`WithdrawalPaid`     :class:`WithdrawalSettleRecord` (settled to the bank)
:class:`WithdrawalFailed`   :class:`WithdrawalFailRecord` (the hold was voided)
:class:`Refunded`           :class:`RefundRecord` with ``chargeback`` False
:class:`ChargedBack`        :class:`RefundRecord` with ``chargeback`` True
==========================  =================================================

The step between a withdrawal's request and its settlement (the hold posted,
:class:`WithdrawalPostRecord`) is not an event of its own: the settlement that
follows it is the payment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs
from moneyed import Money

from .._boundary import boundary, shown
from .._errors import InvalidArgument
from .._ledger.feed import FeedCursor
from .._ledger.model import Transaction
from .._ledger.monitors import BalanceMonitor, Watch
from .._money.amounts import from_minor
from .chain import GiftEconomy
from .records import (
    ConversionRecord,
    GiftRecord,
    PaidGiftRecord,
    PurchaseRecord,
    RefundRecord,
    WithdrawalFailRecord,
    WithdrawalRecord,
    WithdrawalSettleRecord,
    record_of,
)

__all__ = [
    "ChainEvent",
    "ChargedBack",
    "CoinsBought",
    "GiftReceived",
    "Refunded",
    "UnitsConverted",
    "WithdrawalFailed",
    "WithdrawalPaid",
    "WithdrawalRequested",
    "chain_events",
    "event_of",
    "withdrawal_monitor",
]


@attrs.frozen(slots=True)
class ChainEvent:
    """Something that happened in the gift chain, with the entry that recorded it.

    Attributes:
        entry: the journal entry.
    """

    entry: Transaction

    @property
    def cursor(self) -> FeedCursor:
        """The feed cursor just after this event's entry: save it to resume after it."""
        return FeedCursor.of(self.entry)


@attrs.frozen(slots=True)
class GiftReceived(ChainEvent):
    """A creator received a gift.

    Attributes:
        record: a :class:`~giftledger.GiftRecord` (a gift bought with coins) or a
            :class:`~giftledger.PaidGiftRecord` (a gift paid in money).
    """

    record: GiftRecord | PaidGiftRecord

    @property
    def creator(self) -> str:
        """Who received it."""
        return self.record.creator

    @property
    def viewer(self) -> str:
        """Who sent it."""
        return self.record.viewer


@attrs.frozen(slots=True)
class CoinsBought(ChainEvent):
    """A viewer bought coins.

    Attributes:
        record: the purchase (its entry id is the coin lot's id).
    """

    record: PurchaseRecord

    @property
    def paid(self) -> Money:
        """What the viewer paid, in the currency paid in."""
        return from_minor(self.record.gross, self.record.currency)


@attrs.frozen(slots=True)
class UnitsConverted(ChainEvent):
    """A creator converted creator units (Diamonds, Beans …) to cash.

    Attributes:
        record: the conversion.
    """

    record: ConversionRecord


@attrs.frozen(slots=True)
class WithdrawalRequested(ChainEvent):
    """A creator asked to withdraw cash: a hold on their cash account was placed.

    Attributes:
        record: the request; the withdrawal's id is the entry's id.
    """

    record: WithdrawalRecord

    @property
    def withdrawal(self) -> int:
        """The withdrawal's id (the id of the entry that placed its hold)."""
        return self.entry.id


@attrs.frozen(slots=True)
class WithdrawalPaid(ChainEvent):
    """A withdrawal was paid: settled to the bank.

    Attributes:
        record: the settlement (``record.withdrawal`` is the withdrawal's id).
    """

    record: WithdrawalSettleRecord


@attrs.frozen(slots=True)
class WithdrawalFailed(ChainEvent):
    """A withdrawal failed: its hold was voided and the cash is available again.

    Attributes:
        record: the failure (``record.withdrawal`` is the withdrawal's id).
    """

    record: WithdrawalFailRecord


@attrs.frozen(slots=True)
class Refunded(ChainEvent):
    """A coin purchase was refunded.

    Attributes:
        record: the refund (``record.lot`` is the purchase's entry id).
    """

    record: RefundRecord


@attrs.frozen(slots=True)
class ChargedBack(ChainEvent):
    """A coin purchase was charged back by the payment provider.

    Attributes:
        record: the chargeback (a refund record with ``chargeback`` True).
    """

    record: RefundRecord


@boundary
def event_of(entry: Transaction) -> ChainEvent | None:
    """The chain event ``entry`` records, or None if it records none.

    Raises:
        InvalidArgument: ``entry`` is not a Transaction.

    Example:
        >>> import giftledger as gl
        >>> econ = gl.presets.load("tiktok-live")
        >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)), econ)
        >>> _ = app.open_viewer("alice", region="US")
        >>> tx = app.buy_coins("alice", pack=70, channel="web")
        >>> gl.event_of(tx).paid
        Money('0.74', 'USD')
    """
    if not isinstance(entry, Transaction):
        raise InvalidArgument(f"{shown(entry)} is not a giftledger.Transaction")
    rec = record_of(entry)
    if isinstance(rec, GiftRecord | PaidGiftRecord):
        return GiftReceived(entry, rec)
    if isinstance(rec, PurchaseRecord):
        return CoinsBought(entry, rec)
    if isinstance(rec, ConversionRecord):
        return UnitsConverted(entry, rec)
    if isinstance(rec, WithdrawalRecord):
        return WithdrawalRequested(entry, rec)
    if isinstance(rec, WithdrawalSettleRecord):
        return WithdrawalPaid(entry, rec)
    if isinstance(rec, WithdrawalFailRecord):
        return WithdrawalFailed(entry, rec)
    if isinstance(rec, RefundRecord):
        return ChargedBack(entry, rec) if rec.chargeback else Refunded(entry, rec)
    return None


def chain_events(entries: Iterable[Transaction]) -> Iterator[ChainEvent]:
    """The chain events among ``entries`` (a change feed), in order.

    Example:
        >>> import giftledger as gl
        >>> econ = gl.presets.load("tiktok-live")
        >>> app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)), econ)
        >>> _ = app.open_viewer("alice", region="US")
        >>> _ = app.open_creator("bob", region="US", age=30, verified=True)
        >>> _ = app.buy_coins("alice", pack=70, channel="web")
        >>> _ = app.send_gift("alice", "bob", "Rose", quantity=3)
        >>> [type(e).__name__ for e in gl.chain_events(app.ledger.changes())]
        ['CoinsBought', 'GiftReceived']
    """
    for entry in entries:
        event = event_of(entry)
        if event is not None:
            yield event


@boundary
def withdrawal_monitor(app: GiftEconomy, pattern: str = "creators:*:cash") -> BalanceMonitor:
    """A monitor on creators' posted cash reaching the economy's withdrawal minimum.

    The minimum is the one the rules in force at each entry's effective time
    set (in the policy's currency, converted to each cash account's currency
    at the economy's rate for that time); where the rules set none, any
    positive balance counts (one minor unit of the books' currency).

    Args:
        app: the gift economy.
        pattern: the cash accounts to watch.

    Raises:
        InvalidArgument: ``app`` is not a GiftEconomy, or a malformed pattern.

    Example:
        >>> import giftledger as gl
        >>> econ = gl.presets.load("tiktok-live")
        >>> app = gl.GiftEconomy(gl.Ledger(), econ)
        >>> gl.withdrawal_monitor(app).watches[0].name
        'creators:*:cash >= the withdrawal minimum'
    """
    if not isinstance(app, GiftEconomy):
        raise InvalidArgument(f"app {shown(app)} must be a giftledger.GiftEconomy")
    smallest = from_minor(1, app.books)

    def minimum(entry: Transaction) -> Money:
        found = app.economy.rules_at(entry.effective_at).withdrawal.minimum
        return smallest if found is None else found

    watch = Watch(pattern, ">=", minimum, name=f"{pattern} >= the withdrawal minimum")
    return BalanceMonitor(app.ledger, (watch,), rates=app._rate)
