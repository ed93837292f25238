"""The storage contract between the ledger and a storage engine.

The :class:`~giftledger.Ledger` owns every rule; a store only keeps what the
ledger decided, atomically, and answers questions about it. A write goes
through :meth:`Store.write`, a context manager yielding a :class:`StoreWriter`:
a view that is locked for this writer (a process-wide lock in memory,
``BEGIN IMMEDIATE`` in SQLite, row locks in a fixed order in PostgreSQL) and
that commits when the block ends normally and rolls back when it raises (or
always, for a dry run).

The ledger reads the state it needs through the writer, checks every rule,
and only then calls the writer's mutators. A store therefore never checks a
business rule, and all stores share one implementation of the rules.

Amounts are integers of minor units. ``net`` is ``debits - credits`` of posted
postings; ``pending_debits``/``pending_credits`` are the totals of pending
holds (including holds whose expiry has passed but that were not yet voided,
posted or recorded as expired: the ledger discounts those itself, using
``next_expiry`` to know when it must look).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

import attrs

from .model import Account, Hold, Posting, Transaction

__all__ = [
    "AccountState",
    "IdempotencyRecord",
    "PostingRow",
    "Store",
    "StoreReader",
    "StoreWriter",
    "take_records",
]


@attrs.define(slots=True)
class AccountState:
    """An account with its running totals, as the store holds them.

    Treat it as read-only: a store may hand the ledger its live object inside
    a writer, to keep the hot path free of copies.

    Attributes:
        account: the account record.
        net: posted debits minus posted credits, in minor units.
        pending_debits: debits reserved by pending holds.
        pending_credits: credits promised by pending holds.
        next_expiry: the earliest ``expires_at`` among this account's pending
            holds, or None.
    """

    account: Account
    net: int = 0
    pending_debits: int = 0
    pending_credits: int = 0
    next_expiry: datetime | None = None


@attrs.frozen(slots=True)
class IdempotencyRecord:
    """What the ledger remembers of an idempotency key.

    Attributes:
        key: the caller's key.
        fingerprint: a digest of the request's content.
        transaction_id: the entry the request created (or the first of them),
            or None if it failed.
        result: an operation-specific reference to the result (for example a
            hold id), or None.
        error_type: the name of the GiftLedgerError class it failed with.
        error_message: that error's message.
    """

    key: str
    fingerprint: str
    transaction_id: int | None = None
    result: str | None = None
    error_type: str | None = None
    error_message: str | None = None


def take_records(
    keys: Iterable[str],
    record_of: Callable[[str], IdempotencyRecord | None],
    entry_of: Callable[[int], Transaction | None],
    out: list[tuple[IdempotencyRecord, Transaction]],
) -> bool:
    """Append to ``out`` the record of each of ``keys`` in turn with the entry it names,
    up to the first key not taken (or taken by a failure, or naming no entry); return
    whether every key was taken (``records_from`` reads on from the next ones)."""
    for key in keys:
        record = record_of(key)
        if record is None or record.transaction_id is None:
            return False
        tx = entry_of(record.transaction_id)
        if tx is None:
            return False
        out.append((record, tx))
    return True


@attrs.frozen(slots=True)
class PostingRow:
    """One posted posting of an account's history, with the account's ``net`` after it."""

    transaction_id: int
    index: int
    posting: Posting
    net_after: int


class StoreReader(Protocol):
    """Questions a store answers from committed state.

    Optional (the ledger looks for it with ``getattr``): ``first_id_at(at)``, the id of
    the first entry recorded at or after ``at`` (the head's id + 1 if none), for a
    store that finds it cheaper than a binary search over ``transaction()`` (PostgreSQL:
    one round trip, not one per probe). It answers from what the reader sees; in a
    writer it does not take the chain's head (the client's search does, through
    ``head()``): call it holding the head when the answer must stay exact. And
    ``transactions_of(ids)``: the entries with these ids there are, in id order, for a
    store that reads many at once cheaper than one by one. And
    ``holds_from(account, first_id)``: the holds touching ``account`` placed by entry
    ``first_id`` or later, whatever their status, by id, for a store that finds them
    without reading every hold the account ever had (a withdrawal's caps look at a
    week of them). And ``records_from(prefix, seq)``: the records under keys
    ``<prefix><seq>``, ``<prefix><seq + 1>`` … with the entries they name, up to the
    first key not taken (or taken by a failure, or naming no entry), as pairs, for a
    store that reads them together cheaper than key by key (PostgreSQL's reader); None
    to be asked key by key.
    """

    def head(self) -> tuple[int, str]:
        """The last entry's id and hash: ``(0, GENESIS_HASH)`` for an empty journal."""
        ...

    def head_time(self) -> datetime | None:
        """The last entry's ``recorded_at``, or None for an empty journal.

        The ledger clamps its clock to it, so ``recorded_at`` never goes
        backwards. A writer answers it as cheaply as :meth:`head` (on
        PostgreSQL from the same locked read of the chain's head).
        """
        ...

    def account_state(self, name: str) -> AccountState | None:
        """The account and its totals, or None if no such account."""
        ...

    def account_states(self, prefix: str = "") -> list[AccountState]:
        """All accounts whose name starts with ``prefix``, sorted by name."""
        ...

    def transaction(self, id: int) -> Transaction | None:
        """The entry ``id``, with ``reversed_by`` filled in, or None."""
        ...

    def transactions(self, start: int = 1, stop: int | None = None) -> Iterator[Transaction]:
        """Entries with ``start <= id < stop`` (to the end when ``stop`` is None), in order."""
        ...

    def hold(self, id: int) -> Hold | None:
        """The hold placed by entry ``id``, or None."""
        ...

    def holds(self, account: str | None = None, pending_only: bool = True) -> list[Hold]:
        """Holds (pending ones only, by default) touching ``account``, or all; by id."""
        ...

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """What is remembered of ``key``, or None."""
        ...

    def keyed_entry(self, key: str) -> int | None:
        """The id of the first entry that carries ``key``, or None.

        An indexed lookup the write path asks only when no record of ``key`` is
        remembered: an entry carrying it then means its record was removed behind
        the ledger's back. A writer need not see the entries it has buffered (each
        carrying a key is remembered in the same write).
        """
        ...

    def idempotency_records(self) -> Iterator[IdempotencyRecord]:
        """Every remembered key's record, by key (for an export: the chain's aliases
        and remembered failures are found nowhere else)."""
        ...

    def history(self, name: str, after: int | None, limit: int) -> list[PostingRow]:
        """Up to ``limit`` posted postings of ``name`` with entry id > ``after``, by id."""
        ...

    def net_at(self, name: str, effective_at: datetime | None, through_id: int | None) -> int:
        """``debits - credits`` of posted postings of ``name`` with ``effective_at <=``
        the time given and ``id <= through_id`` (either bound may be None)."""
        ...

    def totals(self) -> tuple[dict[str, int], dict[str, int]]:
        """Posted debit and credit totals per unit."""
        ...


class StoreWriter(StoreReader, Protocol):
    """A locked view for one write. Mutators are called only after every check passed.

    Optional hooks the ledger looks for (``getattr``), for a store that links a post at
    commit (PostgreSQL): ``defer_link(effective_given)``, called before the key is
    looked up for a write that needs nothing from the chain before it commits, and
    ``defer_link(effective_given, reads)`` for one that uses the states of the accounts
    ``reads`` only and the head only for a provisional id (a coin gift), which the store
    may lock alone; ``checks_at_commit``, true when the store checks the balance rules
    at commit (the states ``lock_accounts`` returned are known records with zero totals,
    or some were read without a lock; then ``idempotency`` may also answer None for a
    key the commit checks); ``need_head()``, for such a write whose time must not move
    after all (read under its locks, it is near a change of the rules it is priced
    by): the retryable ``WriteConflict`` that runs it again holding the head, or None
    if it holds the head already; ``link_before(when)``, for such a write whose entry
    must be dated before ``when`` (the next change of those rules, further off): a
    commit that would date it at or after ``when`` (another writer's clock ran ahead)
    raises the retryable ``WriteConflict`` that runs it again holding the head. A store whose
    commit refuses such a write raises a retryable ``WriteConflict`` and serves the
    next attempt by reading. On the store, ``known_account(name)``: a record known
    without a query. For a store whose reads cost a round trip (PostgreSQL):
    ``read_ahead(lock, keys, histories)``, called before the key is looked up with the
    accounts the write will lock (``lock_accounts``), the keys (``idempotency``) and the
    history pages (``history(name, after, limit)``) it will read once it holds its
    locks, for the store to take and read them in the key's round trip.
    """

    def lock_accounts(self, names: Iterable[str]) -> dict[str, AccountState]:
        """Lock the named accounts (in sorted order) and return the states of those
        that exist."""
        ...

    def add_account(self, account: Account) -> None:
        """Store a new account with zero totals."""
        ...

    def replace_account(self, account: Account) -> None:
        """Replace an account's record (to close it); totals are unchanged."""
        ...

    def append(
        self,
        tx: Transaction,
        deltas: Mapping[str, tuple[int, int, int]],
        net_after: Sequence[int],
        hold: Hold | None = None,
    ) -> None:
        """Append ``tx`` (its hash already set) and apply its effect on account totals.

        Args:
            tx: the entry; its id is ``head()[0] + 1``.
            deltas: for every account ``tx`` touches, the change to
                ``(net, pending_debits, pending_credits)``.
            net_after: for each posting of a posted entry, the account's ``net``
                right after it (empty for entries that post nothing).
            hold: a new hold (``tx`` is a ``HOLD``) or the new state of the hold
                ``tx`` settles; None otherwise. The store keeps each account's
                ``next_expiry`` in step with its pending holds.
        """
        ...

    def remember(self, record: IdempotencyRecord) -> None:
        """Remember an idempotency key's outcome."""
        ...


class Store(Protocol):
    """A storage engine: memory, SQLite or PostgreSQL.

    Optional (looked for with ``getattr``): ``joined_writes``, an int counting the
    writes of this store object that another write joined (a ``write()`` opened inside
    an open one, in the same thread: it commits or rolls back with the outer one),
    counted as each ends, before it releases its locks, committed or not. A caller that
    keeps what it read inside such a write (giftledger's chain keeps a viewer's lots, a
    creator's carries, a party's profile) drops it when the count moves: if the outer
    write rolled back, those entries never were, and their ids go to later ones. And
    ``joined`` on a writer or reader, a bool: it reads inside a write another write
    joined, whose changes are not committed; a store whose other threads do not wait
    for that write to end (PostgreSQL) says so, and a caller keeps nothing it read
    there for other threads. And ``doom(error)`` on a writer, which the ledger calls for
    a write that failed with ``error``: if that write was joined to another and wrote
    anything before it failed (an atomic ``post_many`` whose later request is refused),
    the outer write must not commit: later writes joining it are refused with
    ``WriteBlockFailed``, and it rolls back at its end, raising ``WriteBlockFailed`` if
    it ended without an error. A store without it lets the outer write commit what the
    failed write left.
    """

    url: str

    def write(self, dry_run: bool = False) -> AbstractContextManager[StoreWriter]:
        """A locked writer; commits on a normal exit, rolls back on an error or dry run.

        Opened inside an open write in the same thread, it joins it (a dry run
        cannot: ``StoreError``); see ``doom`` above for a joined write that fails.
        """
        ...

    def read(self) -> AbstractContextManager[StoreReader]:
        """A reader over a consistent snapshot of committed state."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
