"""The in-memory store: the fastest, for tests, notebooks and simulations.

Everything lives in Python dicts and lists behind one re-entrant lock. The
ledger checks every rule before it calls a mutator, so a single write never
has to be undone; a dry run simply never reaches the mutators. A batch
(``write(batch=True)``, as ``Ledger.post_many`` opens) is different: a later
request may fail after earlier ones were applied, so while a batch is open
every mutator logs how to undo itself, and the batch rolls back on an error
(or always, for a dry run). Outside a batch the log is off and costs nothing.

The journal and the idempotency keys are kept as tuples of plain values (str,
int, bool, None, datetime), not as the records the ledger hands in. CPython's
cycle collector stops tracking such tuples the first time it sees them, so a
book of millions of entries adds nothing to each full collection; kept as
records, 100k gift-shaped entries made every full collection walk 600k objects
and halved the write rate by the end of the run. Records are rebuilt on read. For
the same reason the long lists (the journal, each account's history) are kept
in sealed tuples of ``_CHUNK`` rows: the collector stops walking a sealed
chunk, where it would walk every element of one long list on each full
collection.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from fractions import Fraction
from itertools import chain, islice
from types import TracebackType
from typing import Generic, TypeVar

import attrs

from .._ledger.hashing import GENESIS_HASH
from .._ledger.model import (
    Account,
    EntryKind,
    Hold,
    HoldStatus,
    Metadata,
    Posting,
    Rate,
    Side,
    Transaction,
)
from .._ledger.store import AccountState, IdempotencyRecord, PostingRow
from ._rows import KINDS

__all__ = ["MemoryStore"]

_DEBIT, _CREDIT = Side.DEBIT, Side.CREDIT
_POST, _POST_HOLD, _REVERSAL = EntryKind.POST, EntryKind.POST_HOLD, EntryKind.REVERSAL

# A journal entry as stored: plain values only (see the module docstring).
_PostingRow = tuple[str, bool, int, str]  # account, is debit, minor, unit
_RateRow = tuple[str, str, int, int]  # base, quote, numerator, denominator
_Row = tuple[
    int,  # id
    str,  # kind
    tuple[_PostingRow, ...],
    datetime,  # effective_at
    datetime,  # recorded_at
    "str | None",  # key
    str,  # memo
    Metadata,
    "int | None",  # reverses
    "int | None",  # hold_id
    "datetime | None",  # expires_at
    tuple[_RateRow, ...],
    str,  # prev_hash
    str,  # hash
]
_KeyRow = tuple[str, str, "int | None", "str | None", "str | None", "str | None"]


_T = TypeVar("_T")
_CHUNK = 64


class _Log(Generic[_T]):
    """An append-only list of rows, sealed into tuples of ``_CHUNK`` rows as it grows.

    A tuple of untracked tuples is itself untracked by the cycle collector, so
    only the short open tail and the list of chunks are walked on a collection.
    """

    __slots__ = ("_chunks", "_tail")

    def __init__(self) -> None:
        self._chunks: list[tuple[_T, ...]] = []
        self._tail: list[_T] = []

    def append(self, row: _T) -> None:
        tail = self._tail
        tail.append(row)
        if len(tail) == _CHUNK:
            self._chunks.append(tuple(tail))
            tail.clear()

    def pop(self) -> _T:
        if not self._tail and self._chunks:
            self._tail.extend(self._chunks.pop())
        return self._tail.pop()

    def __len__(self) -> int:
        return len(self._chunks) * _CHUNK + len(self._tail)

    def __getitem__(self, index: int) -> _T:
        if index < 0:
            index += len(self)
        chunk, at = divmod(index, _CHUNK)
        chunks = self._chunks
        return chunks[chunk][at] if chunk < len(chunks) else self._tail[at]

    def __setitem__(self, index: int, row: _T) -> None:  # for _tamper only
        chunk, at = divmod(index, _CHUNK)
        if chunk < len(self._chunks):
            rows = list(self._chunks[chunk])
            rows[at] = row
            self._chunks[chunk] = tuple(rows)
        else:
            self._tail[at] = row

    def __iter__(self) -> Iterator[_T]:
        return chain(chain.from_iterable(self._chunks), self._tail)

    def slice(self, start: int, stop: int) -> list[_T]:
        return [self[i] for i in range(start, min(stop, len(self)))]


def _row(tx: Transaction) -> _Row:
    postings = []
    for p in tx.postings:  # a loop, not a comprehension: this runs on every write
        postings.append((p.account, p.side is _DEBIT, p.minor, p.unit))
    rates: tuple[_RateRow, ...] = ()
    if tx.rates:
        rates = tuple((r.base, r.quote, r.value.numerator, r.value.denominator) for r in tx.rates)
    return (
        tx.id,
        tx.kind._value_,
        tuple(postings),
        tx.effective_at,
        tx.recorded_at,
        tx.key,
        tx.memo,
        tx.metadata,
        tx.reverses,
        tx.hold_id,
        tx.expires_at,
        rates,
        tx.prev_hash,
        tx.hash,
    )


def _posting(row: _PostingRow) -> Posting:
    account, is_debit, minor, unit = row
    return Posting(account, _DEBIT if is_debit else _CREDIT, minor, unit)


def _transaction(row: _Row, reversed_by: int | None) -> Transaction:
    id, kind, postings, eff, rec, key, memo, meta, reverses, hold_id, exp, rates, prev, h = row
    return Transaction(
        id,
        KINDS[kind],
        tuple(map(_posting, postings)),
        eff,
        rec,
        key,
        memo,
        meta,
        reverses,
        hold_id,
        exp,
        tuple(Rate(base, quote, Fraction(n, d)) for base, quote, n, d in rates),
        prev,
        h,
        reversed_by,
    )


class MemoryStore:
    """A store that keeps the ledger in this process's memory.

    Example:
        >>> import giftledger as gl
        >>> book = gl.Ledger.open("memory:")
        >>> book.store.url
        'memory:'
    """

    url = "memory:"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._journal: _Log[_Row] = _Log()
        self._hash = GENESIS_HASH
        self._head_time: datetime | None = None  # the last entry's recorded_at
        self._states: dict[str, AccountState] = {}
        self._names: list[str] = []  # sorted, for prefix queries
        # Per account: (entry id, posting index, net after) tuples, in id order.
        self._history: dict[str, _Log[tuple[int, int, int]]] = {}
        self._holds: dict[int, Hold] = {}
        self._pending_by_account: dict[str, dict[int, Hold]] = {}
        self._reversed_by: dict[int, int] = {}
        self._keys: dict[str, _KeyRow] = {}
        self._debits: dict[str, int] = {}
        self._credits: dict[str, int] = {}
        # The latest effective time of any posted entry (a cheap first test), and the
        # accounts that got an entry effective before their own previous one (see
        # net_at). Neither is rolled back with a batch: a stale value only costs a
        # check or a scan, never a wrong answer.
        self._latest: datetime | None = None
        self._backdated: set[str] = set()
        # How to undo each mutation, newest last; None unless a batch is open.
        self._undo: list[Callable[[], None]] | None = None

    # -- Store -------------------------------------------------------------------------

    def write(self, dry_run: bool = False, batch: bool = False) -> MemoryStore | _Batch:
        """A writer; with ``batch``, one that can roll back several entries.

        Args:
            dry_run: roll back whatever the block wrote (only a batch writes in
                a dry run: a single dry run never reaches the mutators).
            batch: the block may write several entries and fail after some:
                log undo steps and roll back on an error.
        """
        # The store is its own context manager: entering takes the lock. A plain
        # __enter__/__exit__ pair costs far less than a generator-based one on the
        # hot path, and the ledger never mutates before every check has passed,
        # so a single write has nothing to roll back.
        return _Batch(self, dry_run) if batch else self

    def read(self) -> MemoryStore:
        return self

    def __enter__(self) -> MemoryStore:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def close(self) -> None:
        """Nothing to release."""

    # -- reads -------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        return len(self._journal), self._hash

    def head_time(self) -> datetime | None:
        return self._head_time

    def account_state(self, name: str) -> AccountState | None:
        state = self._states.get(name)
        return None if state is None else attrs.evolve(state)

    def account_states(self, prefix: str = "") -> list[AccountState]:
        i = bisect.bisect_left(self._names, prefix)
        out = []
        while i < len(self._names) and self._names[i].startswith(prefix):
            out.append(attrs.evolve(self._states[self._names[i]]))
            i += 1
        return out

    def transaction(self, id: int) -> Transaction | None:
        if not 1 <= id <= len(self._journal):
            return None
        return _transaction(self._journal[id - 1], self._reversed_by.get(id))

    def transactions(self, start: int = 1, stop: int | None = None) -> Iterator[Transaction]:
        stop = len(self._journal) + 1 if stop is None else min(stop, len(self._journal) + 1)
        for id in range(max(start, 1), stop):
            tx = self.transaction(id)
            assert tx is not None
            yield tx

    def hold(self, id: int) -> Hold | None:
        return self._holds.get(id)

    def holds(self, account: str | None = None, pending_only: bool = True) -> list[Hold]:
        if account is not None and pending_only:
            return sorted(self._pending_by_account.get(account, {}).values(), key=_hold_id)
        return [
            h
            for _, h in sorted(self._holds.items())
            if (not pending_only or h.status is HoldStatus.PENDING)
            and (account is None or account in (h.debit, h.credit))
        ]

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        row = self._keys.get(key)
        return None if row is None else IdempotencyRecord(*row)

    def history(self, name: str, after: int | None, limit: int) -> list[PostingRow]:
        rows = self._history.get(name) or _Log()
        start = 0 if after is None else bisect.bisect_right(rows, (after, 1 << 62, 0))
        journal = self._journal
        return [
            PostingRow(id, i, _posting(journal[id - 1][2][i]), net)
            for id, i, net in rows.slice(start, start + limit)
        ]

    def net_at(self, name: str, effective_at: datetime | None, through_id: int | None) -> int:
        # Each history row carries the account's net right after it, in id order, so
        # a cut by id is a binary search. So is a cut by effective time, unless the
        # account got an entry effective before its previous one: only then are its
        # postings effective by a time not a prefix of its history, and only then is
        # it a scan.
        rows = self._history.get(name)
        if rows is None:
            return 0
        end = len(rows)
        if through_id is not None:
            end = bisect.bisect_right(rows, (through_id, 1 << 62, 0))
        if effective_at is not None and end:
            journal = self._journal
            if name not in self._backdated:
                end = bisect.bisect_right(
                    rows, effective_at, hi=end, key=lambda row: journal[row[0] - 1][3]
                )
            else:
                net = 0
                for id, i, _ in islice(rows, end):
                    entry = journal[id - 1]
                    if entry[3] <= effective_at:
                        _, is_debit, minor, _ = entry[2][i]
                        net += minor if is_debit else -minor
                return net
        return rows[end - 1][2] if end else 0

    def totals(self) -> tuple[dict[str, int], dict[str, int]]:
        return dict(self._debits), dict(self._credits)

    # -- writes ------------------------------------------------------------------------

    def lock_accounts(self, names: Iterable[str]) -> dict[str, AccountState]:
        states = self._states
        out = {}
        for n in names:  # a loop, not a comprehension: cheaper on this hot path
            st = states.get(n)
            if st is not None:
                out[n] = st
        return out

    def add_account(self, account: Account) -> None:
        if self._undo is not None:
            self._undo.append(lambda: self._drop_account(account.name))
        self._states[account.name] = AccountState(account)
        bisect.insort(self._names, account.name)

    def _drop_account(self, name: str) -> None:
        del self._states[name]
        self._names.remove(name)

    def replace_account(self, account: Account) -> None:
        st = self._states[account.name]
        if self._undo is not None:
            before = st.account
            self._undo.append(lambda: setattr(st, "account", before))
        st.account = account

    def append(
        self,
        tx: Transaction,
        deltas: Mapping[str, tuple[int, int, int]],
        net_after: Sequence[int],
        hold: Hold | None = None,
    ) -> None:
        kind = tx.kind
        posted = kind is _POST or kind is _POST_HOLD or kind is _REVERSAL
        if posted and len(tx.postings) != len(net_after):  # check before changing anything
            raise ValueError(
                f"net_after has {len(net_after)} values for {len(tx.postings)} postings"
            )
        entry = _row(tx)  # before any change: nothing may fail halfway through the append
        placed = None if hold is None or self._undo is None else self._holds.get(hold.id)
        # The hot path of every write: plain loops, no per-posting helper calls.
        states = self._states
        for name, (dnet, dpd, dpc) in deltas.items():
            st = states[name]
            if dnet:
                st.net += dnet
            if dpd or dpc:
                st.pending_debits += dpd
                st.pending_credits += dpc
        if posted:
            postings = tx.postings
            history = self._history
            effective = tx.effective_at
            latest = self._latest
            if latest is None or effective >= latest:
                self._latest = effective
            else:  # earlier than some entry: is it earlier than its accounts' own last?
                journal = self._journal
                for p in postings:
                    rows = history.get(p.account)
                    if rows and journal[rows[-1][0] - 1][3] > effective:
                        self._backdated.add(p.account)
            debits, credits = self._debits, self._credits
            id = tx.id
            for i, p in enumerate(postings):
                account, unit = p.account, p.unit
                row = (id, i, net_after[i])
                rows = history.get(account)
                if rows is None:
                    rows = history[account] = _Log()
                rows.append(row)
                if p.side is _DEBIT:
                    debits[unit] = debits.get(unit, 0) + p.minor
                else:
                    credits[unit] = credits.get(unit, 0) + p.minor
            if tx.reverses is not None:
                self._reversed_by[tx.reverses] = tx.id
        if hold is not None:
            self._put_hold(hold)
        self._journal.append(entry)
        self._hash = tx.hash
        self._head_time = tx.recorded_at
        if self._undo is not None:  # a batch is open: log how to take this entry back
            self._undo.append(lambda: self._unappend(tx, deltas, hold, placed))

    def _put_hold(self, hold: Hold, drop: bool = False) -> None:
        if drop:
            del self._holds[hold.id]
        else:
            self._holds[hold.id] = hold
        for name in (hold.debit, hold.credit):
            pending = self._pending_by_account.setdefault(name, {})
            if hold.status is HoldStatus.PENDING and not drop:
                pending[hold.id] = hold
            else:
                pending.pop(hold.id, None)
            expiries = [h.expires_at for h in pending.values() if h.expires_at is not None]
            self._states[name].next_expiry = min(expiries) if expiries else None

    def _unappend(
        self,
        tx: Transaction,
        deltas: Mapping[str, tuple[int, int, int]],
        hold: Hold | None,
        placed: Hold | None,
    ) -> None:
        """Undo :meth:`append` of the last entry ``tx``; ``placed`` is the hold before it."""
        states = self._states
        for name, (dnet, dpd, dpc) in deltas.items():
            st = states[name]
            st.net -= dnet
            st.pending_debits -= dpd
            st.pending_credits -= dpc
        kind = tx.kind
        if kind is _POST or kind is _POST_HOLD or kind is _REVERSAL:
            for p in tx.postings:
                rows = self._history[p.account]
                rows.pop()
                if not rows:
                    del self._history[p.account]
                totals = self._debits if p.side is _DEBIT else self._credits
                totals[p.unit] -= p.minor
                if not totals[p.unit]:
                    del totals[p.unit]
            if tx.reverses is not None:
                del self._reversed_by[tx.reverses]
        if hold is not None:
            if placed is None:
                self._put_hold(hold, drop=True)
            else:
                self._put_hold(placed)
        self._journal.pop()
        journal = self._journal
        self._hash = journal[-1][13] if journal else GENESIS_HASH
        self._head_time = journal[-1][4] if journal else None

    def remember(self, record: IdempotencyRecord) -> None:
        if self._undo is not None:
            before = self._keys.get(record.key)
            self._undo.append(lambda: self._restore_key(record.key, before))
        self._keys[record.key] = (
            record.key,
            record.fingerprint,
            record.transaction_id,
            record.result,
            record.error_type,
            record.error_message,
        )

    def _restore_key(self, key: str, before: _KeyRow | None) -> None:
        if before is None:
            del self._keys[key]
        else:
            self._keys[key] = before

    # -- for tests of tamper evidence ----------------------------------------------------

    def _tamper(self, id: int, /, **changes: object) -> None:
        """Replace stored fields of entry ``id`` behind the ledger's back (tests only)."""
        original = self.transaction(id)
        assert original is not None
        tx = attrs.evolve(original, **changes)  # type: ignore[arg-type]
        self._journal[id - 1] = _row(tx)
        # A changed time or posting may break the order net_at relies on.
        self._backdated.update(p.account for p in (*original.postings, *tx.postings))
        if tx.reversed_by is None:  # the link is kept beside the entry, not in its row
            self._reversed_by.pop(id, None)
        else:
            self._reversed_by[id] = tx.reversed_by


def _hold_id(hold: Hold) -> int:
    return hold.id


class _Batch:
    """A write block that can roll back: the undo log is on while it is open."""

    __slots__ = ("_dry_run", "_outer", "_store")

    def __init__(self, store: MemoryStore, dry_run: bool) -> None:
        self._store = store
        self._dry_run = dry_run
        self._outer = False

    def __enter__(self) -> MemoryStore:
        store = self._store
        store._lock.acquire()
        if store._undo is None:  # else a batch inside a batch: the outer one decides
            store._undo = []
            self._outer = True
        return store

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        store = self._store
        try:
            if self._outer:
                undo, store._undo = store._undo, None
                if undo and (typ is not None or self._dry_run):
                    for step in reversed(undo):
                        step()
        finally:
            store._lock.release()
