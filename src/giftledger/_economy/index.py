"""Per-party reads: a viewer's coin lots, found through the viewer's own wallet.

Nothing here reads the journal from its start. A viewer's lots are the fold of
the entries in the history of ``viewers:<name>:coins`` (purchases add a lot,
gifts spend slices of lots, refunds and reversals take them back), read through
the store's per-account index. :class:`LotIndex` keeps that fold for recently
used viewers and brings it up to date by reading only the wallet's entries
after the last one it saw, so a gift costs O(the viewer's new entries), and a
fresh process O(that viewer's entries), whatever the journal's length. It is
bounded (least recently used viewers are dropped), so memory does not grow with
the journal either.

The fold runs inside the chain's locked write (the wallet is locked, so no
other writer can add to its history meanwhile) or over a read snapshot.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import count

import attrs

from .._ledger.model import EntryKind, Hold, Side, Transaction
from .._ledger.store import IdempotencyRecord, StoreReader, take_records
from .lots import CoinLot, LotSlice, _spend, slice_of
from .records import GiftRecord, PurchaseRecord, RefundRecord, record_of

__all__ = [
    "LotIndex",
    "ViewerLots",
    "entries_by_id",
    "first_id_at",
    "history_ids",
    "history_page",
    "holds_from",
    "records_from",
]


def history_page(name: str, after: int | None) -> tuple[str, int, int]:
    """The first history page :func:`history_ids` reads, as ``(name, after, limit)``:
    what a write reads ahead when it knows where the walk will start."""
    return (name, 0 if after is None else after, _PAGE)


def history_ids(
    r: StoreReader, name: str, after: int | None = None, stop: int | None = None
) -> Iterator[int]:
    """Ids of the entries in ``name``'s history after ``after`` and before ``stop``,
    in order, each once (an entry may post to an account more than once)."""
    last = after
    while True:
        rows = r.history(name, after, _PAGE)
        for row in rows:
            entry = row.transaction_id
            if stop is not None and entry >= stop:
                return
            if entry != last:
                last = entry
                yield entry
        if len(rows) < _PAGE:
            return
        after = rows[-1].transaction_id


def entries_by_id(r: StoreReader, ids: Iterable[int]) -> dict[int, Transaction]:
    """The entries with these ids there are, by id, in id order for sorted ``ids``: read
    together when the store can (``transactions_of``: PostgreSQL, one round trip per
    thousand), else one by one."""
    many = getattr(r, "transactions_of", None)
    if many is not None:
        return {tx.id: tx for tx in many(ids)}
    out = {}
    for id in ids:
        tx = r.transaction(id)
        if tx is not None:
            out[id] = tx
    return out


def records_from(
    r: StoreReader, prefix: str, seq: int = 0
) -> list[tuple[IdempotencyRecord, Transaction]]:
    """The records remembered under keys ``<prefix><seq>``, ``<prefix><seq + 1>`` …, each
    with the entry it names, up to the first key not taken (or taken by a failure, or
    naming no entry): read together when the store can (``records_from``: a PostgreSQL
    reader, one round trip where key by key takes two a record and one more), else key
    by key (also where the store answers None: a writer locks each key it reads)."""
    many = getattr(r, "records_from", None)
    if many is not None:
        found = many(prefix, seq)
        if found is not None:
            return list(found)
    out: list[tuple[IdempotencyRecord, Transaction]] = []
    take_records((f"{prefix}{n}" for n in count(seq)), r.idempotency, r.transaction, out)
    return out


def holds_from(r: StoreReader, account: str, first_id: int) -> list[Hold]:
    """The holds touching ``account`` placed by entry ``first_id`` or later, whatever
    their status, by id: asked of the store when it can answer (``holds_from``: each
    store giftledger ships, without reading the account's older holds), else its
    every hold, filtered."""
    search = getattr(r, "holds_from", None)
    if search is not None:
        return list(search(account, first_id))
    return [h for h in r.holds(account, False) if h.id >= first_id]


def first_id_at(r: StoreReader, at: datetime) -> int:
    """The id of the first entry recorded at or after ``at`` (the head's id + 1 if
    none): a binary search, since ``recorded_at`` never goes backwards (run by the store
    when it has ``first_id_at``: PostgreSQL's in one round trip)."""
    search = getattr(r, "first_id_at", None)
    if search is not None:
        return int(search(at))
    lo, hi = 1, r.head()[0] + 1
    while lo < hi:
        mid = (lo + hi) // 2
        tx = r.transaction(mid)
        if tx is not None and tx.recorded_at < at:
            lo = mid + 1
        else:
            hi = mid
    return lo


_PAGE = 4096


@attrs.define(slots=True)
class ViewerLots:
    """One viewer's lots as of wallet entry ``last_id``.

    Attributes:
        last_id: the last wallet entry folded in.
        lots: lot id -> lot, in purchase order.
        first_open: index into ``order`` before which every lot is used up (a
            hint: lots before it are skipped when spending).
    """

    last_id: int = 0
    lots: dict[int, CoinLot] = attrs.Factory(dict)
    order: list[int] = attrs.Factory(list)
    first_open: int = 0
    # The gift this process just wrote, as (the id of its entry, the coins it took
    # from the wallet, its slices): when that entry shows up in the wallet's
    # history, its slices are applied without reading and parsing it again.
    pending: tuple[int, int, tuple[LotSlice, ...]] | None = None

    def take(self, coins: int) -> tuple[LotSlice, ...] | None:
        """The slices that spending ``coins`` takes, first in, first out; None if the
        lots hold fewer."""
        out = []
        left = coins
        lots, order = self.lots, self.order
        i = self.first_open
        while i < len(order) and lots[order[i]].unspent == 0:
            i += 1
        self.first_open = i
        for lot_id in order[i:]:
            lot = lots[lot_id]
            n = lot.unspent if lot.unspent < left else left
            if n <= 0:
                continue
            out.append(slice_of(lot, n))
            left -= n
            if left == 0:
                return tuple(out)
        return None

    def expect(self, entry_id: int, slices: tuple[LotSlice, ...]) -> None:
        """Remember that entry ``entry_id`` is the gift spending ``slices``, once its
        write has committed (the chain calls :meth:`LotIndex.settle` after the write
        either way, so a failed or dry-run write leaves nothing expected)."""
        self.pending = (entry_id, sum(s.coins for s in slices), slices)

    def _spend_pending(self, slices: tuple[LotSlice, ...]) -> None:
        lots = self.lots
        for s in slices:
            lot = lots.get(s.lot)
            if lot is not None:
                lots[s.lot] = _spend(lot, s, +1)

    def apply(self, tx: Transaction, r: StoreReader, wallet: str = "") -> None:
        """Fold one wallet entry in."""
        if tx.kind is EntryKind.REVERSAL and tx.reverses is not None:
            original = r.transaction(tx.reverses)
            if original is not None and record_of(original) is not None:
                self._undo(original, tx.id)
                return
        rec = record_of(tx) if tx.kind is EntryKind.POST else None
        if rec is None:
            self._unrecorded(tx, wallet)
            return
        if isinstance(rec, PurchaseRecord):
            self.lots[tx.id] = CoinLot(
                tx.id,
                rec.viewer,
                rec.coins,
                rec.currency,
                rec.gross,
                rec.fee,
                rec.tax,
                rec.deferred,
                rec.fee_books,
                rec.tax_books,
                rec.channel,
                rec.region,
                tx.effective_at,
            )
            self.order.append(tx.id)
        elif isinstance(rec, GiftRecord):
            for s in rec.lots:
                lot = self.lots.get(s.lot)
                if lot is not None:
                    self.lots[s.lot] = _spend(lot, s, +1)
        elif isinstance(rec, RefundRecord):
            lot = self.lots.get(rec.lot)
            if lot is not None:
                self.lots[rec.lot] = attrs.evolve(lot, refunded=tx.id)

    def _unrecorded(self, tx: Transaction, wallet: str) -> None:
        """Coins moved by an entry the chain did not write (a promotional credit, a
        clawback, a reversal posted through the core): a credit is a lot worth
        nothing (no purchase paid for it); a debit spends the oldest coins, releasing
        nothing. So the lots always hold what the wallet holds."""
        net = 0
        for p in tx.postings:
            if p.account == wallet:
                net += p.minor if p.side is Side.CREDIT else -p.minor
        if tx.kind not in (EntryKind.POST, EntryKind.REVERSAL, EntryKind.POST_HOLD):
            return
        if net > 0:
            name = wallet.split(":")[1] if wallet.count(":") == 2 else wallet
            self.lots[tx.id] = CoinLot(
                tx.id, name, net, "", 0, 0, 0, 0, 0, 0, "", "", tx.effective_at
            )
            self.order.append(tx.id)
        elif net < 0:
            left = -net
            for lot_id in self.order:
                lot = self.lots[lot_id]
                n = min(lot.unspent, left)
                if n > 0:
                    self.lots[lot_id] = attrs.evolve(lot, spent=lot.spent + n)
                    left -= n
                if not left:
                    break

    def _undo(self, original: Transaction, reversal_id: int) -> None:
        """A chain entry reversed with ``Ledger.reverse``: take its effect off the lots."""
        rec = record_of(original)
        if isinstance(rec, GiftRecord):
            for s in rec.lots:
                lot = self.lots.get(s.lot)
                if lot is not None:
                    self.lots[s.lot] = _spend(lot, s, -1)
            self.first_open = 0
        elif isinstance(rec, PurchaseRecord):
            lot = self.lots.get(original.id)
            if lot is not None:
                self.lots[original.id] = attrs.evolve(lot, refunded=reversal_id)
        elif isinstance(rec, RefundRecord):
            lot = self.lots.get(rec.lot)
            if lot is not None:
                self.lots[rec.lot] = attrs.evolve(lot, refunded=None)
            self.first_open = 0


def _fold(r: StoreReader, wallet: str, state: ViewerLots) -> ViewerLots:
    """Bring ``state`` up to date with the wallet's history after ``state.last_id``."""
    while True:
        rows = r.history(wallet, state.last_id, _PAGE)
        if not rows:
            return state
        last = state.last_id
        # The entries to read, all at once: every one but the gift this process just
        # wrote (read alone below if it is not, after all).
        pending = state.pending
        skip = pending[0] if pending is not None else None
        read = entries_by_id(r, sorted({row.transaction_id for row in rows} - {last, skip}))
        for row in rows:
            if row.transaction_id == last:
                continue  # several postings of one entry
            last = row.transaction_id
            pending = state.pending
            if (
                pending is not None
                and pending[0] == last
                and row.posting.side is Side.DEBIT
                and row.posting.minor == pending[1]
            ):
                # The gift this process just wrote (its write committed): no need to
                # read its entry and parse its record again.
                state.pending = None
                state._spend_pending(pending[2])
                continue
            tx = read.get(last)
            if tx is None:  # the pending one after all: read alone
                tx = r.transaction(last)
            if tx is not None:
                state.apply(tx, r, wallet)
        state.last_id = last
        if len(rows) < _PAGE:
            return state


class LotIndex:
    """The lots of recently used viewers, each kept up to date on demand.

    Args:
        size: how many viewers to keep (least recently used dropped first).
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._viewers: OrderedDict[str, ViewerLots] = OrderedDict()
        self._lock = threading.RLock()

    def of(self, r: StoreReader, viewer: str) -> ViewerLots:
        """``viewer``'s lots, up to date with what ``r`` sees.

        Call it inside a write that locks the wallet when the result decides
        what to write; the state returned is then exactly the wallet's.
        """
        wallet = f"viewers:{viewer}:coins"
        with self._lock:
            state = self._viewers.pop(viewer, None)
            if state is None:
                state = ViewerLots()
            head = r.head()[0]
            if state.last_id > head:  # a store rolled back past what we saw: start over
                state = ViewerLots()
            state = _fold(r, wallet, state)
            self._viewers[viewer] = state
            while len(self._viewers) > self._size:
                self._viewers.popitem(last=False)
            return state

    def clear(self) -> None:
        """Forget every viewer's lots (they are read again on their next use)."""
        with self._lock:
            self._viewers.clear()

    def page_ahead(self, viewer: str) -> tuple[str, int, int]:
        """The wallet history page :meth:`of` will read first for ``viewer``, as
        ``(name, after, limit)`` (a guess: it is right unless another thread or the
        store moves the lots meanwhile), for a write to read it ahead."""
        with self._lock:
            state = self._viewers.get(viewer)
            return (f"viewers:{viewer}:coins", 0 if state is None else state.last_id, _PAGE)

    def snapshot(self, r: StoreReader, viewer: str) -> tuple[CoinLot, ...]:
        """``viewer``'s lots, oldest first (copies; safe to keep)."""
        with self._lock:
            state = self.of(r, viewer)
            lots = [state.lots[i] for i in state.order]
        # A refund of a lot whose coins were all spent does not touch the wallet:
        # it is found by its key.
        for i, lot in enumerate(lots):
            if lot.refunded is None and lot.unspent == 0:
                found = r.idempotency(f"gl:refund:{lot.id}")
                if found is not None and found.transaction_id is not None:
                    lots[i] = attrs.evolve(lot, refunded=found.transaction_id)
        return tuple(lots)

    def settle(self, viewer: str, written: Transaction | None, expected: int | None = None) -> None:
        """After a gift's write: keep what :meth:`ViewerLots.expect` noted only if the
        entry it expected was written (not a failure, a dry run or a replay).

        ``expected``: the id the quote that wrote ``written`` expected it to get (None
        if ``written`` is a replay): a store that links entries at commit may have
        numbered it otherwise, and the entry noted is then known by its real id."""
        with self._lock:
            state = self._viewers.get(viewer)
            if state is None or state.pending is None:
                return
            if written is not None and expected is not None and state.pending[0] == expected:
                state.pending = (written.id, *state.pending[1:])
            elif written is None or written.id != state.pending[0]:
                state.pending = None
