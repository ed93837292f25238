"""The in-memory store: the fastest, for tests, notebooks and simulations.

Everything lives in Python dicts and lists behind one re-entrant lock. The
ledger checks every rule before it calls a mutator, so a lone single write never
has to be undone; a single dry run never reaches the mutators. A batch
(``write(batch=True)``, as ``Ledger.post_many`` opens) is different: a later
request may fail after earlier ones were applied, so the batch rolls back on
an error. So do a dry run (always) and a caller's own ``write()`` block once
another write joins it (on an error), as every store's write block does. Such a
block rolls back by position: it notes the journal's length and takes back each
entry after it, newest first, from the entry's own stored row (its postings say
what it added to each account, history and total). Only what a row does not say
is logged as it happens: the changes of an entry that places or settles a hold,
the keys remembered and the accounts opened or closed in the block. A lone write
logs nothing.

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
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from fractions import Fraction
from itertools import chain, islice
from types import TracebackType
from typing import Any, Generic, TypeVar

import attrs

from .._errors import StoreError
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
from ._rows import KINDS, block_refused, block_rolled_back, doomed_by, holds_start

__all__ = ["MemoryStore"]

_DEBIT, _CREDIT = Side.DEBIT, Side.CREDIT
_POST, _POST_HOLD, _REVERSAL = EntryKind.POST, EntryKind.POST_HOLD, EntryKind.REVERSAL
_POSTED_KINDS = frozenset(kind._value_ for kind in (_POST, _POST_HOLD, _REVERSAL))

# A journal entry as stored: plain values only (see the module docstring). Its
# postings are one flat tuple, four values a posting: (account, is debit, minor,
# unit, account, is debit, …), one object for all of them.
_Postings = tuple[Any, ...]
_RateRow = tuple[str, str, int, int]  # base, quote, numerator, denominator
_Row = tuple[
    int,  # id
    str,  # kind
    _Postings,
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
    int,  # hash_version
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
            self._seal()

    def _seal(self) -> None:
        """Seal the full tail into a chunk (the store's hot path appends to ``_tail``
        itself and calls this when it is full)."""
        tail = self._tail
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


_ROW_INTS = 3 * _CHUNK  # ints in a sealed chunk of a _History


class _History:
    """One account's posted postings, in entry id order: ``(entry id, posting index,
    net after)`` rows.

    Kept flat, three ints a row, in a list sealed into tuples of ``_CHUNK`` rows:
    appending a row makes no object at all, and neither the ints nor a sealed
    tuple of ints is tracked by the cycle collector. Reading a row builds it.
    """

    __slots__ = ("_chunks", "_tail")

    def __init__(self) -> None:
        self._chunks: list[tuple[int, ...]] = []
        self._tail: list[int] = []  # the store appends to it and seals it when full

    def _seal(self) -> None:
        tail = self._tail
        self._chunks.append(tuple(tail))
        tail.clear()

    def __len__(self) -> int:
        return len(self._chunks) * _CHUNK + len(self._tail) // 3

    def __getitem__(self, index: int) -> tuple[int, int, int]:
        if index < 0:
            index += len(self)
        chunk, at = divmod(index, _CHUNK)
        chunks = self._chunks
        ints = chunks[chunk] if chunk < len(chunks) else self._tail
        at *= 3
        return ints[at], ints[at + 1], ints[at + 2]

    def pop(self) -> None:
        """Drop the last row."""
        if not self._tail:
            self._tail.extend(self._chunks.pop())
        del self._tail[-3:]

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        for ints in chain(self._chunks, (self._tail,)):
            for at in range(0, len(ints), 3):
                yield ints[at], ints[at + 1], ints[at + 2]

    def slice(self, start: int, stop: int) -> list[tuple[int, int, int]]:
        return [self[i] for i in range(start, min(stop, len(self)))]


def _flat(postings: Iterable[Posting]) -> _Postings:
    flat: list[object] = []
    for p in postings:  # a loop, not a comprehension: this runs on every write
        flat += (p.account, p.side is _DEBIT, p.minor, p.unit)
    return tuple(flat)


def _row(tx: Transaction) -> _Row:
    rates: tuple[_RateRow, ...] = ()
    if tx.rates:
        rates = tuple((r.base, r.quote, r.value.numerator, r.value.denominator) for r in tx.rates)
    return (
        tx.id,
        tx.kind._value_,
        _flat(tx.postings),
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
        tx.hash_version,
    )


def _posting(postings: _Postings, index: int) -> Posting:
    """Posting ``index`` of an entry's flat postings."""
    at = 4 * index
    account, is_debit, minor, unit = postings[at : at + 4]
    return Posting(account, _DEBIT if is_debit else _CREDIT, minor, unit)


def _transaction(row: _Row, reversed_by: int | None) -> Transaction:
    id, kind, postings, eff, rec, key, memo, meta, reverses, hold_id, exp, rates, prev, h, v = row
    return Transaction(
        id,
        KINDS[kind],
        tuple(_posting(postings, i) for i in range(len(postings) // 4)),
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
        hash_version=v,
    )


class MemoryStore:
    """A store that keeps the ledger in this process's memory.

    Example:
        >>> import giftledger as gl
        >>> book = gl.Ledger.open("memory:")
        >>> book.store.url
        'memory:'
    """

    # The ledger checks the balance rules itself, and nothing is linked at commit
    # (see the PostgreSQL store); class attributes: the write path asks for them.
    checks_at_commit = False
    defer_link = None
    read_ahead = None  # every read is in memory: nothing to send ahead

    url = "memory:"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        # Wakes change-feed followers (wait_for_entries) when the journal grows.
        self._grown = threading.Condition(self._lock)
        self._announced = 0  # the journal's length followers were last told of
        self._followers = 0  # how many wait for entries (counted under the lock)
        self._journal: _Log[_Row] = _Log()
        self._count = 0  # entries in the journal: the head's id
        self._hash = GENESIS_HASH
        self._head_time: datetime | None = None  # the last entry's recorded_at
        self._states: dict[str, AccountState] = {}
        self._names: list[str] = []  # sorted, for prefix queries
        # Per account: (entry id, posting index, net after) tuples, in id order.
        self._history: dict[str, _History] = {}
        self._holds: dict[int, Hold] = {}
        self._pending_by_account: dict[str, dict[int, Hold]] = {}
        self._holds_of: dict[str, list[int]] = {}  # per account: its holds' ids, in order
        self._pending: dict[int, Hold] = {}  # the pending holds of the book, by id
        self._reversed_by: dict[int, int] = {}
        self._keys: dict[str, _KeyRow] = {}
        self._carriers: dict[str, int] = {}  # key -> the first entry carrying it
        self._debits: dict[str, int] = {}
        self._credits: dict[str, int] = {}
        # The latest effective time of any posted entry (a cheap first test), and the
        # accounts that got an entry effective before their own previous one (see
        # net_at). Neither is rolled back with a batch: a stale value only costs a
        # check or a scan, never a wrong answer.
        self._latest: datetime | None = None
        self._backdated: set[str] = set()
        # What a rollback needs beyond the journal itself; None unless an open write
        # block can roll back (a batch, a dry run, or a write another write joined).
        self._undo: _Undo | None = None
        self._depth = 0  # write blocks open in the thread holding the lock
        self._doomed: str | None = None  # why the open block must roll back (see doom)
        # Per write joined to the open block, open now: what was written when it began.
        self._marks: list[tuple[int, int, int]] = []
        self._reader = _Read(self)
        #: Writes another write joined, counted as they end (see the Store protocol).
        self.joined_writes = 0

    # -- Store -------------------------------------------------------------------------

    def write(self, dry_run: bool = False, batch: bool = False) -> MemoryStore | _Batch:
        """A locked writer: it commits on a normal exit and rolls back on an error or a
        dry run, as every store's does.

        Args:
            dry_run: roll back whatever the block wrote.
            batch: the block may write several entries and fail after some: keep
                what a rollback needs from the start.

        A ``write()`` opened inside an open one, in the same thread, joins it: it
        commits or rolls back with the outer block (a dry run cannot join).
        """
        # A plain write is the store itself: entering takes the lock. A plain
        # __enter__/__exit__ pair costs far less than a generator-based one on the
        # hot path, and the ledger never mutates before every check has passed, so
        # a lone single write has nothing to roll back. Only once another write
        # joins it does the block keep what a rollback needs (see _join).
        return _Batch(self, dry_run) if batch or dry_run else self

    def read(self) -> AbstractContextManager[MemoryStore]:
        return self._reader

    def __enter__(self) -> MemoryStore:
        self._lock.acquire()
        if self._depth:
            self._join(False)
        self._depth += 1
        return self

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        depth = self._depth = self._depth - 1
        if depth:
            self._marks.pop()
            self._lock.release()
        elif self._undo is None:  # a lone write: nothing to roll back
            if self._count != self._announced:
                self._announce()
            self._lock.release()
        else:
            self._end(typ is not None)

    def _join(self, dry_run: bool) -> None:
        """A write opens inside an open one (lock held): it joins it, and the outer
        block keeps, from here on, what it needs to roll everything back."""
        doomed = self._doomed
        if dry_run or doomed is not None:
            self._lock.release()
            if doomed is not None:
                raise block_refused(doomed)
            raise StoreError("a dry run cannot be nested inside a write")
        undo = self._undo
        if undo is None:  # the outer block is a plain write, which wrote nothing yet
            undo = self._undo = _Undo(self._count, False)
        undo.joined = True
        self._marks.append(self._written(undo))

    def _written(self, undo: _Undo) -> tuple[int, int, int]:
        """What the open block has written so far (entries, keys, accounts)."""
        return self._count, len(undo.keys), len(undo.steps)

    def _end(self, failed: bool) -> None:
        """The outermost write block ends (lock held; released here): it rolls back
        if it failed, was a dry run or was doomed, and wakes followers."""
        undo, self._undo = self._undo, None
        doomed, self._doomed = self._doomed, None
        try:
            if undo is not None:
                if undo.joined:
                    self.joined_writes += 1
                if failed or undo.dry_run or doomed is not None:
                    self._roll_back(undo)
            if self._count != self._announced:
                self._announce()
        finally:
            self._lock.release()
        if doomed is not None and not failed:
            raise block_rolled_back(doomed)

    def doom(self, error: BaseException) -> None:
        """A write joined to the open block failed: if it wrote anything, the block can
        no longer commit (see the Store protocol). A no-op for the outermost block,
        which the error rolls back anyway."""
        undo = self._undo
        marks = self._marks
        if marks and undo is not None and self._doomed is None and self._written(undo) != marks[-1]:
            self._doomed = doomed_by(error)

    def _roll_back(self, undo: _Undo) -> None:
        # Entries first, newest first: an account opened in the block is dropped
        # only once no entry of the block posts to it.
        while self._count > undo.start:
            self._take_back(undo)
        for key, before in reversed(undo.keys):
            self._restore_key(key, before)
        for step in reversed(undo.steps):
            step()

    def _announce(self) -> None:
        """Wake change-feed followers: the journal's length changed (lock held)."""
        self._announced = self._count
        if self._followers:  # nobody waits, nobody to wake: the common case, free
            self._grown.notify_all()

    def wait_for_entries(self, after: int, timeout: float | None) -> bool:
        """Wait until the journal holds an entry past ``after`` (or ``timeout`` seconds).

        A follower of the change feed waits here instead of polling; the writer
        that commits wakes it. Returns whether the journal grew past ``after``.
        Inside this thread's own write block no other writer can write until the
        block ends (as on SQLite): it sleeps ``timeout`` holding the store's lock.

        Raises:
            StoreError: inside this thread's own write block, with no ``timeout``
                (the wait would never end).
        """
        with self._grown:
            if self._depth:
                # Inside this thread's own write block: no other writer can write until
                # it ends (as on SQLite), and a wait on the condition would hand them
                # the lock, and the open block, mid-block. Sleep holding it instead.
                if timeout is None:
                    raise StoreError(
                        "waiting for entries inside a write block would never end: no "
                        "other writer can write until the block does"
                    )
                if self._count <= after:
                    time.sleep(max(timeout, 0.0))
                return self._count > after
            self._followers += 1
            try:
                return self._grown.wait_for(lambda: self._count > after, timeout)
            finally:
                self._followers -= 1

    def close(self) -> None:
        """Nothing to release."""

    # -- reads -------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        return self._count, self._hash

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
        if not 1 <= id <= self._count:
            return None
        return _transaction(self._journal[id - 1], self._reversed_by.get(id))

    def transactions(self, start: int = 1, stop: int | None = None) -> Iterator[Transaction]:
        end = self._count + 1
        stop = end if stop is None else min(stop, end)
        for id in range(max(start, 1), stop):
            tx = self.transaction(id)
            assert tx is not None
            yield tx

    def hold(self, id: int) -> Hold | None:
        return self._holds.get(id)

    def holds(self, account: str | None = None, pending_only: bool = True) -> list[Hold]:
        if account is not None:
            if pending_only:
                return sorted(self._pending_by_account.get(account, {}).values(), key=_hold_id)
            return self.holds_from(account, 1)
        if pending_only:
            return sorted(self._pending.values(), key=_hold_id)
        return [h for _, h in sorted(self._holds.items())]

    def holds_from(self, account: str, first_id: int) -> list[Hold]:
        """The holds touching ``account`` placed by entry ``first_id`` or later, by id,
        whatever their status: a search of the account's own holds, not of the book's.
        A name that is not a string, or an id past 64 bits, has none."""
        start = holds_start(account, first_id)
        if start is None:
            return []
        ids = self._holds_of.get(account)
        if not ids:
            return []
        holds = self._holds
        return [holds[id] for id in ids[bisect.bisect_left(ids, start) :]]

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        row = self._keys.get(key)
        return None if row is None else IdempotencyRecord(*row)

    def keyed_entry(self, key: str) -> int | None:
        return self._carriers.get(key)

    def idempotency_records(self) -> Iterator[IdempotencyRecord]:
        for key in sorted(self._keys):
            yield IdempotencyRecord(*self._keys[key])

    def history(self, name: str, after: int | None, limit: int) -> list[PostingRow]:
        rows = self._history.get(name) or _History()
        start = 0 if after is None else bisect.bisect_right(rows, (after, 1 << 62, 0))
        journal = self._journal
        return [
            PostingRow(id, i, _posting(journal[id - 1][2], i), net)
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
                        is_debit, minor = entry[2][4 * i + 1 : 4 * i + 3]
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
            self._undo.steps.append(lambda: self._drop_account(account.name))
        self._states[account.name] = AccountState(account)
        bisect.insort(self._names, account.name)

    def _drop_account(self, name: str) -> None:
        del self._states[name]
        self._names.remove(name)

    def replace_account(self, account: Account) -> None:
        st = self._states[account.name]
        if self._undo is not None:
            before = st.account
            self._undo.steps.append(lambda: setattr(st, "account", before))
        st.account = account

    def append(
        self,
        tx: Transaction,
        deltas: Mapping[str, tuple[int, int, int]],
        net_after: Sequence[int],
        hold: Hold | None = None,
    ) -> None:
        kind = tx.kind
        postings = tx.postings
        posted = kind is _POST or kind is _POST_HOLD or kind is _REVERSAL
        if posted and len(postings) != len(net_after):  # check before changing anything
            raise ValueError(f"net_after has {len(net_after)} values for {len(postings)} postings")
        # The stored row, built before any change (nothing may fail halfway through
        # the append), straight from the postings: plain loops, no helper calls, as
        # this is the hot path of every write.
        flat: list[object] = []
        for p in postings:
            flat += (p.account, p.side is _DEBIT, p.minor, p.unit)
        rows = tuple(flat)
        rates: tuple[_RateRow, ...] = ()
        if tx.rates:
            rates = tuple(
                (r.base, r.quote, r.value.numerator, r.value.denominator) for r in tx.rates
            )
        id = tx.id
        entry: _Row = (
            id,
            kind._value_,
            rows,
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
            tx.hash_version,
        )
        undo = self._undo
        if undo is not None and hold is not None:
            # A row does not say what a hold was before this entry: log it.
            undo.exact[id] = (deltas, hold, self._holds.get(hold.id))
        states = self._states
        for name, (dnet, dpd, dpc) in deltas.items():
            st = states[name]
            if dnet:
                st.net += dnet
            if dpd or dpc:
                st.pending_debits += dpd
                st.pending_credits += dpc
                if undo is not None and id not in undo.exact:
                    undo.exact[id] = (deltas, None, None)
        if posted:
            history = self._history
            effective = tx.effective_at
            latest = self._latest
            if latest is None or effective >= latest:
                self._latest = effective
            else:  # earlier than some entry: is it earlier than its accounts' own last?
                journal = self._journal
                for p in postings:
                    log = history.get(p.account)
                    if log and journal[log[-1][0] - 1][3] > effective:
                        self._backdated.add(p.account)
            debits, credits = self._debits, self._credits
            for i, p in enumerate(postings):
                account, minor, unit = p.account, p.minor, p.unit
                log = history.get(account)
                if log is None:
                    log = history[account] = _History()
                tail = log._tail  # a row of three ints, appended in place
                tail.append(id)
                tail.append(i)
                tail.append(net_after[i])
                if len(tail) == _ROW_INTS:
                    log._seal()
                if p.side is _DEBIT:
                    debits[unit] = debits.get(unit, 0) + minor
                else:
                    credits[unit] = credits.get(unit, 0) + minor
            if tx.reverses is not None:
                self._reversed_by[tx.reverses] = id
        if hold is not None:
            self._put_hold(hold)
        key = tx.key
        if key is not None and key not in self._carriers:
            self._carriers[key] = id
        journal = self._journal
        entries = journal._tail
        entries.append(entry)
        if len(entries) == _CHUNK:
            journal._seal()
        self._count = id
        self._hash = tx.hash
        self._head_time = tx.recorded_at

    def _put_hold(self, hold: Hold, drop: bool = False) -> None:
        id = hold.id
        # The ledger refuses a hold on one account; a store fed such a row keeps it once.
        parties = (hold.debit,) if hold.credit == hold.debit else (hold.debit, hold.credit)
        if drop:
            del self._holds[id]
            for name in parties:
                ids = self._holds_of[name]
                del ids[bisect.bisect_left(ids, id)]  # a rollback drops a hold it placed
                if not ids:
                    del self._holds_of[name]
        else:
            if id not in self._holds:
                for name in parties:
                    ids = self._holds_of.setdefault(name, [])
                    if not ids or ids[-1] < id:
                        ids.append(id)  # holds are placed in id order: the common case
                    else:
                        bisect.insort(ids, id)
            self._holds[id] = hold
        if hold.status is HoldStatus.PENDING and not drop:
            self._pending[id] = hold
        else:
            self._pending.pop(id, None)
        for name in (hold.debit, hold.credit):
            pending = self._pending_by_account.setdefault(name, {})
            if hold.status is HoldStatus.PENDING and not drop:
                pending[hold.id] = hold
            else:
                pending.pop(hold.id, None)
            expiries = [h.expires_at for h in pending.values() if h.expires_at is not None]
            self._states[name].next_expiry = min(expiries) if expiries else None

    def _take_back(self, undo: _Undo) -> None:
        """Undo :meth:`append` of the last entry, from its row (and ``undo.exact``)."""
        row = self._journal.pop()
        id, kind, postings = row[0], row[1], row[2]
        self._count = id - 1
        if row[5] is not None and self._carriers.get(row[5]) == id:
            del self._carriers[row[5]]
        states = self._states
        exact = undo.exact.pop(id, None)
        if exact is not None:
            deltas, hold, placed = exact
            for name, (dnet, dpd, dpc) in deltas.items():
                st = states[name]
                st.net -= dnet
                st.pending_debits -= dpd
                st.pending_credits -= dpc
            if hold is not None:
                if placed is None:
                    self._put_hold(hold, drop=True)
                else:
                    self._put_hold(placed)
        if kind in _POSTED_KINDS:
            history, debits, credits = self._history, self._debits, self._credits
            for at in range(0, len(postings), 4):
                account, is_debit, minor, unit = postings[at : at + 4]
                if exact is None:
                    states[account].net -= minor if is_debit else -minor
                log = history[account]
                log.pop()
                if not log:
                    del history[account]
                totals = debits if is_debit else credits
                totals[unit] -= minor
                if not totals[unit]:
                    del totals[unit]
            if row[8] is not None:  # reverses
                del self._reversed_by[row[8]]
        journal = self._journal
        self._hash = journal[-1][13] if journal else GENESIS_HASH
        self._head_time = journal[-1][4] if journal else None

    def remember(self, record: IdempotencyRecord) -> None:
        if self._undo is not None:
            self._undo.keys.append((record.key, self._keys.get(record.key)))
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
            self._keys.pop(key, None)
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


class _Undo:
    """What a write block must log to roll back: see the module docstring.

    Attributes:
        start: the journal's length when the log started; entries after it
            are taken back from their rows.
        dry_run: the block rolls back even if it succeeds.
        joined: a write inside the block ran (it may have used its entries).
        exact: per entry that placed or settled a hold (or moved pending
            totals), its deltas, the hold it wrote and the hold as it was.
        keys: ``(key, what was remembered before)`` per key remembered.
        steps: how to undo each account opened or closed, newest last.
    """

    __slots__ = ("dry_run", "exact", "joined", "keys", "start", "steps")

    def __init__(self, start: int, dry_run: bool) -> None:
        self.start = start
        self.dry_run = dry_run
        self.joined = False
        self.exact: dict[
            int, tuple[Mapping[str, tuple[int, int, int]], Hold | None, Hold | None]
        ] = {}
        self.keys: list[tuple[str, _KeyRow | None]] = []
        self.steps: list[Callable[[], None]] = []


class _Batch:
    """A write block that can roll back from its start: a batch or a dry run."""

    __slots__ = ("_dry_run", "_store")

    def __init__(self, store: MemoryStore, dry_run: bool) -> None:
        self._store = store
        self._dry_run = dry_run

    def __enter__(self) -> MemoryStore:
        store = self._store
        store._lock.acquire()
        if store._depth:
            store._join(self._dry_run)
        else:
            store._undo = _Undo(store._count, self._dry_run)
        store._depth += 1
        return store

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._store.__exit__(typ, exc, tb)


class _Read:
    """A read block: the store's lock, nothing more (a read inside a write sees it)."""

    __slots__ = ("_lock", "_store")

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._lock = store._lock

    def __enter__(self) -> MemoryStore:
        self._lock.acquire()
        return self._store

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
