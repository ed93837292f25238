"""The write path every writing method shares: one write under a key, checking and
resolving postings, balance rules, and committing an entry to the store.

:class:`WriteCore` is the base of :class:`~giftledger.Ledger` and of the mixins
that add holds, queries and verification to it, so each of them calls these
methods directly. Every write runs through :meth:`WriteCore._run`: idempotency
first, then a body that checks everything before it calls a store mutator.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TypeVar

from .. import _errors
from .._boundary import shown
from .._errors import (
    AccountClosed,
    AmountOutOfRange,
    ChainBroken,
    CurrencyMismatch,
    DuplicateKeyConflict,
    GiftLedgerError,
    InsufficientFunds,
    InvalidArgument,
    InvalidTransaction,
    StoreError,
    UnbalancedTransaction,
    UnknownAccount,
    WriteBlockFailed,
    WriteConflict,
)
from .._money.amounts import (
    MAX_MINOR,
    from_minor,
    to_minor,
)
from .._money.units import Unit, get_unit
from .clock import Clock, require_aware
from .definitions import DEFINING, DEFINITIONS_KEY, definition_text, record_metadata
from .hashing import HASH_VERSION, entry_hash
from .idempotency import _check_key, _fingerprint
from .model import (
    Account,
    EntryKind,
    Hold,
    HoldStatus,
    Metadata,
    MetaValue,
    Posting,
    PostingSpec,
    Rate,
    Side,
    Transaction,
    freeze_metadata,
    is_encodable,
)
from .store import AccountState, IdempotencyRecord, Store, StoreReader, StoreWriter
from .text import refuse_unstorable

__all__ = ["WriteCore"]

R = TypeVar("R")
# What a write locks and reads once it holds its locks: account names, keys, and
# history pages (name, after, limit); see WriteCore._run.
Ahead = tuple[Sequence[str], Sequence[str], Sequence[tuple[str, int | None, int]]]
_DEBIT = Side.DEBIT
_CREDIT = Side.CREDIT
_RETRIES = 20  # re-runs of a write the store rolled back for a lost race
_MAX = MAX_MINOR
#: The most an account's net may reach either way, in minor units: what the stores
#: keep in a signed 64-bit integer (SQLite's INTEGER, PostgreSQL's bigint).
_NET_MAX = 2**63 - 1


def _describe(p: Posting, index: int) -> str:
    amount = from_minor(p.minor, p.unit).amount
    return f"posting {index} ({p.side.value} {amount} {p.unit} to {p.account!r})"


class WriteCore:
    """The write-path methods of a :class:`~giftledger.Ledger`; see the module docstring."""

    #: Whether this ledger's store is known to journal its definitions (checked once).
    _defined: bool = False
    store: Store
    clock: Clock
    _units: dict[str, Unit]
    _scales: dict[str, int]

    # -- units -------------------------------------------------------------------------

    def _unit(self, code: str) -> Unit:
        unit = self._units.get(code)
        if unit is None:
            unit = self._units[code] = get_unit(code)
        return unit

    # -- the write path ----------------------------------------------------------------

    def _run(
        self,
        key: str | None,
        request: object,
        dry_run: bool,
        body: Callable[..., R],
        replay: Callable[[StoreReader, IdempotencyRecord], R] | None = None,
        args: tuple[object, ...] = (),
        *,
        batch: bool = False,
        retrying: bool = False,
        link: bool | None = None,
        ahead: Ahead | None = None,
        link_reads: Collection[str] | None = None,
    ) -> R:
        """Run one write through the ledger's one gate.

        In order: the key is checked and the request fingerprinted; inside a
        locked store write, a key already used replays its first result (or its
        remembered failure) through ``replay``; otherwise ``body(writer,
        fingerprint, *args)`` runs (``args`` spare the hot path a closure).
        ``body`` locks what it needs, reads the time with :meth:`_now` once it
        holds its locks, and checks everything before it calls a mutator. A
        failure under a key is remembered, so the same key fails the same way
        again; a store failure is not (it is not the request's outcome), and
        one the store marks ``retryable`` (a lost race) runs the whole write
        again. ``batch``: ``body`` may mutate and then fail
        (several entries, or accounts opened before a check), so the store must
        be able to roll the block back (the memory store keeps an undo log only
        when asked). ``link``: ``body`` needs nothing from the chain before it
        commits (a plain post), and the caller gave the entry's effective time
        (True) or not (False); a store that can link at commit (PostgreSQL) is told
        so before the key is looked up, which it may then check at commit.
        ``ahead``: the accounts ``body`` locks, the keys and the history pages it
        reads; a store that can (PostgreSQL: ``read_ahead``) is told so before the
        key is looked up, and locks and reads them with the key. ``link_reads``: with
        ``link``, ``body`` reads the chain's head only for a provisional id and its
        time, and uses the states of these accounts alone (of the others it locks,
        it only posts to them): the store may lock these only, and check the other
        accounts' balance rules as it links.
        """
        fingerprint = None
        if key is not None:
            _check_key(key)
            fingerprint = _fingerprint(request)
        try:
            with self.store.write(dry_run) if not batch else self._batch_block(dry_run) as w:
                defining = not self._defined and not dry_run
                if defining:
                    self._define(w)
                if link is not None:
                    defer = getattr(w, "defer_link", None)
                    if defer is not None:
                        if link_reads is None:
                            defer(link)
                        else:
                            defer(link, link_reads)
                if ahead is not None:
                    read_ahead = getattr(w, "read_ahead", None)
                    if read_ahead is not None:
                        read_ahead(*ahead)
                if key is not None:
                    record = w.idempotency(key)
                    if record is not None:
                        assert replay is not None
                        return self._replay(record, fingerprint, w, replay)
                    refuse_carried(w, key)
                try:
                    out = body(w, fingerprint, *args)
                except BaseException as exc:
                    # Joined to an open write block, a write that failed after it wrote
                    # (a batch) leaves that block unable to commit: the store knows.
                    doom = getattr(w, "doom", None)
                    if doom is not None:
                        doom(exc)
                    raise
            if defining:
                self._defined = True  # committed: this book journals its definitions
            return out
        except GiftLedgerError as exc:
            if isinstance(exc, StoreError):
                # A store failure is not the request's outcome: never remember it.
                if exc.retryable and not retrying:
                    return self._retry(
                        exc,
                        lambda: self._run(
                            key,
                            request,
                            dry_run,
                            body,
                            replay,
                            args,
                            batch=batch,
                            retrying=True,
                            link=link,
                            ahead=ahead,
                            link_reads=link_reads,
                        ),
                    )
                raise
            if key is not None and not dry_run and fingerprint is not None:
                self._remember_failure(key, fingerprint, exc)
            raise

    def _batch_block(self, dry_run: bool) -> AbstractContextManager[StoreWriter]:
        """A store write that rolls back whatever it did if it fails (see :meth:`_run`)."""
        store = self.store
        from .._stores.memory import MemoryStore

        if isinstance(store, MemoryStore):
            return store.write(dry_run, batch=True)
        return store.write(dry_run)

    def _retry(self, exc: StoreError, rerun: Callable[[], R]) -> R:
        """Run a write again (``rerun``: :meth:`_run`, retrying) after the store rolled it
        back for a lost race (``exc``).

        PostgreSQL aborts a write on a deadlock or serialization failure; only the
        whole body, run again on fresh state, can redo it. Waits a short, random,
        growing time between attempts so the contenders do not collide again.

        Raises:
            WriteConflict: every attempt lost (a public error: the store's own
                classes never reach a caller).
        """
        for attempt in range(_RETRIES):
            # A store may ask for the next attempt at once: it lost no race, it only
            # needs to read more first (PostgreSQL's one-round-trip post).
            if not getattr(exc, "at_once", False):
                time.sleep(random.random() * min(0.002 * 2**attempt, 0.2))
            try:
                return rerun()
            except StoreError as again:
                if not again.retryable:
                    raise
                exc = again
        raise WriteConflict(
            f"gave up after {_RETRIES + 1} attempts, each rolled back for a lost race with "
            f"other writers (last: {exc}); nothing was written, send the request again"
        ) from exc

    def _clock_now(self) -> datetime:
        """The clock's time, checked to be an aware datetime."""
        now = self.clock.now()
        if type(now) is not datetime or now.tzinfo is None:
            now = require_aware(now, "the clock's now()")
        return now

    def _now(self, r: StoreReader) -> datetime:
        """The time of a write: the clock, never earlier than the journal's head.

        Called inside the locked write, once the write holds its locks (on
        PostgreSQL, the chain's head too), so the time of every check and of the
        entry is read under them. ``recorded_at`` never goes backwards within a
        ledger: a clock behind the head's ``recorded_at`` (a step back, or
        another process's clock ahead of this one) is clamped to it, so the
        entry gets the head's time, not an error.
        """
        now = self.clock.now()  # as _clock_now(), inlined: this is every write's path
        if type(now) is not datetime or now.tzinfo is None:
            now = require_aware(now, "the clock's now()")
        head = r.head_time()
        if head is not None and now < head:
            return head
        return now

    def _replay(
        self,
        record: IdempotencyRecord,
        fingerprint: str | None,
        r: StoreReader,
        replay: Callable[[StoreReader, IdempotencyRecord], R],
    ) -> R:
        if record.fingerprint != fingerprint:
            raise DuplicateKeyConflict(
                f"idempotency key {record.key!r} was already used for a different request; "
                f"use a new key for new content"
            )
        if record.error_type is not None:
            raise replayed_failure(record)
        return replay(r, record)

    def _remember_failure(self, key: str, fingerprint: str, exc: GiftLedgerError) -> None:
        """Remember that the request under ``key`` failed with ``exc`` (unless the key
        already has an outcome, or ``exc`` is itself a replay or a key conflict)."""
        if not is_outcome(exc):
            return

        def body(w: StoreWriter, _: str | None) -> None:
            if w.idempotency(key) is None:
                self._journal_record(
                    w,
                    IdempotencyRecord(
                        key, fingerprint, error_type=type(exc).__name__, error_message=str(exc)
                    ),
                )

        try:
            self._run(None, None, False, body)
        except WriteBlockFailed as refused:
            # The request's own error stays the answer: it failed after writing inside
            # a caller's write block, which refuses the record and rolls back anyway.
            exc.add_note(f"its outcome was not remembered under key {key!r}: {refused}")

    # -- definitions under the hash ----------------------------------------------------

    def _define(self, w: StoreWriter) -> None:
        """Make sure the book journals its definitions (see :mod:`.definitions`).

        A new book does from its first entry; a book written by an earlier release
        has every account and record it holds journaled now, in this write, before
        the write's own entries. Reads two rows at most, once per ledger object.
        """
        first = w.transaction(1)
        if first is None or first.kind in DEFINING:
            return
        if w.idempotency(DEFINITIONS_KEY) is not None:
            return
        now = self._now(w)  # holds the chain's head: no other writer snapshots at once
        if w.idempotency(DEFINITIONS_KEY) is not None:
            return
        # The book is defined if an entry carries the key, remembered or not: its
        # record was removed behind the ledger's back, and journaling the definitions
        # again would break the chain. Refuse, changing nothing (verify() names it).
        refuse_carried(w, DEFINITIONS_KEY)
        states = w.account_states("")
        records = [rec for rec in w.idempotency_records() if not _carried(w, rec)]
        self._commit(
            w,
            EntryKind.DEFINITIONS,
            (),
            {},
            {},
            now,
            None,
            DEFINITIONS_KEY,
            _DEFINITIONS_FINGERPRINT,
            "the accounts and idempotency records of a book written before they were "
            "journaled, journaled by the entries that follow",
            (("gl.accounts", len(states)), ("gl.records", len(records))),
            False,
        )
        for st in states:
            self._journal_account(w, st.account, now)
        for rec in records:
            self._journal_record(w, rec, now, remember=False)

    def _journal_account(self, w: StoreWriter, account: Account, now: datetime) -> Transaction:
        """Journal ``account``'s definition, as opened or closed, in an ``ACCOUNT`` entry."""
        return self._commit(
            w,
            EntryKind.ACCOUNT,
            (),
            {},
            {},
            now,
            None,
            None,
            None,
            definition_text(account),
            account.metadata,
            False,
        )

    def _journal_record(
        self,
        w: StoreWriter,
        record: IdempotencyRecord,
        now: datetime | None = None,
        *,
        remember: bool = True,
    ) -> None:
        """Remember ``record``, journaled in a ``KEY`` entry: for a record that no entry
        carries under its own key (a remembered failure, an alias). It moves nothing."""
        memo, meta = record_metadata(record)
        if now is None:
            now = self._now(w)
        self._commit(w, EntryKind.KEY, (), {}, {}, now, None, None, None, memo, meta, False)
        if remember:
            w.remember(record)

    def _states(self, w: StoreWriter, names: Iterable[str]) -> dict[str, AccountState]:
        wanted = set(names)
        states = w.lock_accounts(sorted(wanted))
        if len(states) != len(wanted):
            missing = sorted(wanted - states.keys())
            for name in missing:  # a store finds no such name, and names none of them
                refuse_unstorable(name, "account name")
            raise UnknownAccount(
                f"unknown account {missing[0]!r}; open it with open_account() first"
            )
        return states

    def _resolve(
        self, specs: Iterable[PostingSpec | Posting], w: StoreWriter
    ) -> tuple[tuple[Posting, ...], dict[str, AccountState]]:
        resolved, states, _, _, _ = self._resolve_sums(specs, w)
        return resolved, states

    def _resolve_sums(
        self,
        specs: Iterable[PostingSpec | Posting],
        w: StoreWriter,
        locked: dict[str, AccountState] | None = None,
    ) -> tuple[
        tuple[Posting, ...], dict[str, AccountState], dict[str, int], dict[str, int], list[int]
    ]:
        """Check and resolve postings, and sum them in the same pass.

        Returns the postings, the states of their accounts, ``debits - credits``
        per unit (all zero when balanced), the change to each account's ``net``,
        and each account's ``net`` right after each posting. One pass over the
        postings: this is the hot path of every write. ``locked``: the states of the
        postings' accounts, already locked by ``w`` (a name missing is no account).
        """
        if type(specs) is not list and type(specs) is not tuple:
            if isinstance(specs, PostingSpec | Posting | str | bytes) or not isinstance(
                specs, Iterable
            ):
                raise InvalidTransaction(
                    f"postings {specs!r} must be a list of debit(...)/credit(...) postings"
                )
            specs = list(specs)
        if len(specs) < 2:
            raise InvalidTransaction(f"a transaction needs at least two postings, got {len(specs)}")
        # Plain loops, not comprehensions: in CPython 3.11 each comprehension
        # builds a function and a frame, which shows on a path this hot.
        names: set[str] = set()
        add = names.add
        try:
            for s in specs:
                add(s.account)
        except (AttributeError, TypeError):  # not a posting, or an unhashable name
            names = set()
            for i, s in enumerate(specs):
                account = getattr(s, "account", None)
                if type(s) in (Posting, PostingSpec) and not isinstance(account, str):
                    raise InvalidTransaction(
                        f"posting {i}: account {account!r} must be an account name (a str)"
                    ) from None
        states = w.lock_accounts(names) if locked is None else locked
        scales = self._scales
        out = []
        sums: dict[str, int] = {}
        nets: dict[str, int] = {}
        net_after: list[int] = []
        # Each branch does the common case with as few operations as it can, and
        # leaves naming what is wrong (in a fixed order) to _posting_error.
        for i, s in enumerate(specs):
            # type() is, not isinstance(): exact, cheaper, and mypy narrows on it too.
            if type(s) is Posting:
                name = s.account
                st = states.get(name)
                if st is None:
                    raise self._posting_error(i, s, None)
                account = st.account
                code = account.unit
                side = s.side
                minor = s.minor
                if (
                    account.closed
                    or (side is not _DEBIT and side is not _CREDIT)
                    or s.unit != code
                    or type(minor) is not int
                    or not 0 < minor <= _MAX
                ):
                    raise self._posting_error(i, s, account)
                p = s
            elif type(s) is PostingSpec:
                name = s.account
                st = states.get(name)
                if st is None:
                    raise self._posting_error(i, s, None)
                account = st.account
                code = account.unit
                side = s.side
                if account.closed or (side is not _DEBIT and side is not _CREDIT):
                    raise self._posting_error(i, s, account)
                amount = s.amount
                if type(amount) is int:
                    scale = scales.get(code) or self._scale(code)
                    minor = amount * scale
                    if not 0 < minor <= _MAX:
                        minor = self._spec_minor(i, s, code)
                else:
                    minor = self._spec_minor(i, s, code)
                p = Posting(name, side, minor, code)
            else:
                raise InvalidTransaction(
                    f"posting {i} is {s!r}; build postings with giftledger.debit() or credit()"
                )
            out.append(p)
            signed = minor if side is _DEBIT else -minor
            sums[code] = sums.get(code, 0) + signed
            net = nets[name] = nets.get(name, 0) + signed
            net_after.append(st.net + net)
        if (max(net_after) > _NET_MAX or min(net_after) < -_NET_MAX) and not getattr(
            w, "checks_at_commit", False
        ):  # else the running balances are this entry's alone: the server checks them
            raise _net_out_of_range(out, net_after)
        return tuple(out), states, sums, nets, net_after

    def _scale(self, code: str) -> int:
        scale = self._scales[code] = self._unit(code).scale
        return scale

    @staticmethod
    def _posting_error(i: int, s: PostingSpec | Posting, account: Account | None) -> Exception:
        """The error for posting ``i``, checked in a fixed order: account, closed, side, unit,
        amount."""
        if account is None:
            refuse_unstorable(s.account, f"posting {i}: account name")
            return UnknownAccount(
                f"posting {i}: unknown account {s.account!r}; open it with open_account() first"
            )
        if account.closed:
            return AccountClosed(f"posting {i}: account {s.account!r} is closed")
        side = s.side
        if side is not _DEBIT and side is not _CREDIT:
            return InvalidTransaction(f"posting {i}: side {side!r} must be a giftledger.Side")
        assert isinstance(s, Posting)
        code = account.unit
        if s.unit != code:
            return CurrencyMismatch(
                f"posting {i}: unit {s.unit} does not match account {s.account!r} ({code})"
            )
        minor = s.minor
        if type(minor) is not int:
            return InvalidTransaction(f"posting {i}: minor {shown(minor)} must be an int")
        if minor > _MAX:
            return AmountOutOfRange(
                f"posting {i} to {s.account!r}: amount {shown(minor)} minor units is more than "
                f"{_MAX}, the most one amount may hold"
            )
        return InvalidTransaction(
            f"posting {i} to {s.account!r}: amount {shown(minor)} minor units must be greater "
            f"than zero"
        )

    def _spec_minor(self, i: int, s: PostingSpec, code: str) -> int:
        """A requested amount in minor units of ``code``, or the error that names the posting."""
        amount = s.amount
        unit = self._unit(code)
        if type(amount) is int and -_MAX <= (minor := amount * unit.scale) <= _MAX:
            pass
        else:
            try:
                minor = to_minor(amount, unit)
            except CurrencyMismatch:
                raise CurrencyMismatch(
                    f"posting {i}: amount {amount!r} is not in {code}, the unit of "
                    f"account {s.account!r}"
                ) from None
            except GiftLedgerError as exc:
                raise type(exc)(f"posting {i} to {s.account!r}: {exc}") from None
        if minor <= 0:
            raise InvalidTransaction(
                f"posting {i} to {s.account!r}: amount {amount!r} must be greater "
                f"than zero (use the other side for the opposite direction)"
            )
        return minor

    @staticmethod
    def _check_balanced(postings: Sequence[Posting]) -> None:
        sums: dict[str, int] = {}
        for p in postings:
            sums[p.unit] = sums.get(p.unit, 0) + (p.minor if p.side is _DEBIT else -p.minor)
        for unit, diff in sums.items():
            if diff:
                debits = sum(p.minor for p in postings if p.unit == unit and p.side is _DEBIT)
                credits = sum(p.minor for p in postings if p.unit == unit and p.side is _CREDIT)
                raise UnbalancedTransaction(
                    f"unbalanced in {unit}: debits {from_minor(debits, unit).amount} != credits "
                    f"{from_minor(credits, unit).amount}; every unit must balance on its own "
                    f"(cross units only through trading accounts with convert())"
                )

    def _live_pending(self, r: StoreReader, st: AccountState, now: datetime) -> tuple[int, int]:
        """Pending debit and credit totals of an account, less holds past their expiry."""
        pd, pc = st.pending_debits, st.pending_credits
        if st.next_expiry is not None and now >= st.next_expiry:
            name = st.account.name
            for h in r.holds(name):
                if h.expires_at is not None and now >= h.expires_at:
                    if h.debit == name:
                        pd -= h.minor
                    if h.credit == name:
                        pc -= h.minor
        return pd, pc

    def _check_rules(
        self,
        w: StoreReader,
        states: Mapping[str, AccountState],
        deltas: Mapping[str, tuple[int, int, int]],
        now: datetime,
        postings: Sequence[Posting],
        what: str,
    ) -> None:
        for name, (dnet, dpd, dpc) in deltas.items():
            st = states[name]
            account = st.account
            floor = account.rule.min_balance
            if floor is None or account.trading:
                continue
            debit_normal = account.normal is _DEBIT
            pd, pc = st.pending_debits, st.pending_credits
            if st.next_expiry is not None and now >= st.next_expiry:
                pd, pc = self._live_pending(w, st, now)
            if debit_normal:
                before = st.net - pc
                after = before + dnet - dpc
            else:
                before = -st.net - pd
                after = before - dnet - dpd
            if after < before and after < floor:
                unit = account.unit
                culprit = ""
                for i, p in enumerate(postings):
                    if p.account == name and p.side is not account.normal:
                        culprit = _describe(p, i) + ": "
                        break
                rule = (
                    "must not go negative"
                    if floor == 0
                    else f"may not go below {from_minor(floor, unit).amount} {unit}"
                )
                raise InsufficientFunds(
                    f"{culprit}{what} would take {name!r} to an available balance of "
                    f"{from_minor(after, unit).amount} {unit} (available now "
                    f"{from_minor(before, unit).amount} {unit}); its balance rule: {rule}"
                )

    def _commit(
        self,
        w: StoreWriter,
        kind: EntryKind,
        postings: tuple[Posting, ...],
        states: Mapping[str, AccountState],
        deltas: dict[str, tuple[int, int, int]],
        now: datetime,
        effective_at: datetime | None,
        key: str | None,
        fingerprint: str | None,
        memo: str,
        metadata: Metadata,
        dry_run: bool,
        *,
        reverses: int | None = None,
        hold_id: int | None = None,
        expires_at: datetime | None = None,
        rates: tuple[Rate, ...] = (),
        hold: Hold | None = None,
        result: str | None = None,
        net_after: list[int] | None = None,
    ) -> Transaction:
        last_id, last_hash = w.head()
        tx = Transaction(
            last_id + 1,
            kind,
            postings,
            now if effective_at is None else effective_at,
            now,
            key,
            memo,
            metadata,
            reverses,
            hold_id,
            expires_at,
            rates,
            last_hash,
            "",
            hash_version=HASH_VERSION,
        )
        # The hash covers every field above, and a keyed entry's idempotency record
        # (the fingerprint and result remembered below; formula 3); set it on the
        # frozen value once, here, rather than building the record twice on the hot path.
        object.__setattr__(tx, "hash", entry_hash(tx, last_hash, fingerprint, result))
        if dry_run:
            return tx
        if net_after is None:  # else computed while resolving the postings
            net_after = []
            if kind is EntryKind.POST or kind is EntryKind.POST_HOLD or kind is EntryKind.REVERSAL:
                running = {name: st.net for name, st in states.items()}
                for p in postings:
                    running[p.account] += p.minor if p.side is _DEBIT else -p.minor
                    net_after.append(running[p.account])
        if hold is not None:
            hold = _with_resolution(hold, tx.id)
        w.append(tx, deltas, net_after, hold)
        if key is not None:
            assert fingerprint is not None
            w.remember(IdempotencyRecord(key, fingerprint, tx.id, result))
        return tx

    def _post_body(
        self,
        w: StoreWriter,
        now: datetime | None,
        fingerprint: str | None,
        postings: Iterable[PostingSpec | Posting],
        key: str | None,
        memo: str,
        metadata: Mapping[str, MetaValue] | None,
        effective_at: datetime | None,
        rates: Sequence[Rate],
        dry_run: bool,
        kind: EntryKind = EntryKind.POST,
        reverses: int | None = None,
        force: bool = False,
        precheck: Precheck | None = None,
    ) -> Transaction:
        """Check and post one transaction inside the locked writer ``w``.

        ``now`` is the write's time, or None to read it (with :meth:`_now`) once
        the postings' accounts are locked. ``precheck``: what the request (a
        transfer, a convert) checked of its accounts before the write, checked again
        as the write locks them (:func:`check_transfer`, :func:`check_convert`).
        """
        # The hot path: skip the helpers for the common defaults (an empty memo, no
        # metadata, no effective time, no rates); they check the rest.
        if type(memo) is not str or memo:
            memo = self._text(memo, "memo")
        meta = freeze_metadata(metadata) if metadata else ()
        eff = None if effective_at is None else self._effective(effective_at)
        if rates:
            for rate in rates:
                if not isinstance(rate, Rate):
                    raise InvalidArgument(f"rate {rate!r} must be a giftledger.Rate")
                rate.check()
        locked = None if precheck is None else precheck(w, postings)
        resolved, states, sums, nets, net_after = self._resolve_sums(postings, w, locked)
        if now is None:  # self._now(w), inlined: this is the hot path of every post
            now = self.clock.now()
            if type(now) is not datetime or now.tzinfo is None:
                now = require_aware(now, "the clock's now()")
            head = w.head_time()
            if head is not None and now < head:
                now = head
        for diff in sums.values():
            if diff:
                self._check_balanced(resolved)  # raises, naming the unit and the totals
        deltas: dict[str, tuple[int, int, int]] = {}
        for name, net in nets.items():
            deltas[name] = (net, 0, 0)
        # A store that links a post in one round trip (PostgreSQL) read no totals:
        # its server checks the rules at commit, and has the write run again,
        # reading them, when one would break (then this check names it).
        if not force and not getattr(w, "checks_at_commit", False):
            self._check_rules(w, states, deltas, now, resolved, "the transaction")
        return self._commit(
            w,
            kind,
            resolved,
            states,
            deltas,
            now,
            eff,
            key,
            fingerprint,
            memo,
            meta,
            dry_run,
            reverses=reverses,
            rates=tuple(rates) if rates else (),
            net_after=net_after,
        )

    def _note_body(
        self,
        w: StoreWriter,
        now: datetime | None,
        fingerprint: str | None,
        key: str | None,
        memo: str,
        metadata: Mapping[str, MetaValue] | None,
        effective_at: datetime | None,
        dry_run: bool,
    ) -> Transaction:
        """Check and record one ``NOTE`` entry (no postings) inside ``w``; ``now`` as
        for :meth:`_post_body`."""
        memo = self._text(memo, "memo")
        meta = freeze_metadata(metadata)
        eff = self._effective(effective_at)
        if now is None:
            now = self._now(w)
        return self._commit(
            w, EntryKind.NOTE, (), {}, {}, now, eff, key, fingerprint, memo, meta, dry_run
        )

    @staticmethod
    def _text(value: object, what: str) -> str:
        if not isinstance(value, str):
            raise InvalidArgument(f"{what} {value!r} must be a string")
        if value and not is_encodable(value):
            raise InvalidArgument(
                f"{what} {value!r} is not storable text (a lone surrogate or a NUL character)"
            )
        return value

    def _effective(self, effective_at: datetime | None) -> datetime | None:
        return None if effective_at is None else require_aware(effective_at, "effective_at")


#: The fingerprint under which the ``DEFINITIONS`` entry's key is remembered.
_DEFINITIONS_FINGERPRINT = _fingerprint(("definitions",))


def is_outcome(exc: GiftLedgerError) -> bool:
    """Whether ``exc`` is the outcome of the request that raised it, to remember under
    its key: not a key conflict, broken books, a store that failed, a replay, or what
    a transfer or a convert checks before its key (found again inside the write)."""
    return not isinstance(exc, _NOT_OUTCOMES) and exc.replayed_key is None


class TransferUnitsDiffer(CurrencyMismatch):
    """A transfer's accounts hold two units, found inside the write (internal).

    :meth:`Ledger.transfer` checks the units before it writes, from the records a store
    keeps (PostgreSQL: ``known_account``), and raises :class:`CurrencyMismatch` without
    touching its key. Those records are a guess (a database restored behind a running
    store): the write checks again with the accounts it locked, and raises this, which
    is not remembered under the key; ``transfer`` raises it as a plain
    :class:`CurrencyMismatch`, as the check before the write would have.
    """


class NotTradingAccount(UnknownAccount):
    """A convert's trading account is not one, found inside the write (internal).

    As :class:`TransferUnitsDiffer`: :meth:`Ledger.convert` checks its trading
    accounts before it writes, from the records a store keeps; the write checks them
    again as it locks them, and raises this, which ``_run`` does not remember under the
    key; ``convert`` raises it as a plain :class:`UnknownAccount`, remembered as the
    check before the write remembers it.
    """


#: Errors that are not a request's outcome (see :func:`is_outcome`).
_NOT_OUTCOMES = (
    DuplicateKeyConflict,
    ChainBroken,
    StoreError,
    TransferUnitsDiffer,
    NotTradingAccount,
)


def units_differ_message(debit: str, debit_unit: str, credit: str, credit_unit: str) -> str:
    """The message of a transfer between accounts of two units."""
    return (
        f"cannot transfer from {credit!r} ({credit_unit}) to {debit!r} "
        f"({debit_unit}): units differ; convert through trading accounts with convert()"
    )


#: A request's check of its accounts inside the write: it locks the postings' accounts
#: in the writer and returns their states (see ``WriteCore._post_body``).
Precheck = Callable[[StoreWriter, Iterable[PostingSpec | Posting]], dict[str, AccountState]]


def check_transfer(
    w: StoreWriter, postings: Iterable[PostingSpec | Posting]
) -> dict[str, AccountState]:
    """Lock a transfer's two accounts in ``w`` and return their states; raise
    :class:`TransferUnitsDiffer` if they hold different units (then nothing else about
    the postings is checked)."""
    debit, credit = postings  # a transfer's: built by Ledger._transfer
    states = w.lock_accounts((debit.account, credit.account))
    a, b = states.get(debit.account), states.get(credit.account)
    if a is not None and b is not None and a.account.unit != b.account.unit:
        raise TransferUnitsDiffer(
            units_differ_message(debit.account, a.account.unit, credit.account, b.account.unit)
        )
    return states


def check_convert(
    w: StoreWriter, postings: Iterable[PostingSpec | Posting]
) -> dict[str, AccountState]:
    """Lock a convert's four accounts in ``w`` and return their states; raise
    :class:`NotTradingAccount`, as ``convert`` does before it writes, if its second and
    third postings' accounts are not trading accounts of their units (the records
    ``convert`` checked may be a store's stale knowledge: PostgreSQL's
    ``known_account``)."""
    postings = tuple(postings)  # built by Ledger._convert_once: debit, trading, trading, credit
    states = w.lock_accounts([p.account for p in postings])
    for p in postings[1:3]:
        st = states.get(p.account)
        code = p.unit if type(p) is Posting else ""
        if not is_trading_account(None if st is None else st.account, code):
            raise NotTradingAccount(no_trading_account_message(p.account, code))
    return states


def is_trading_account(account: Account | None, code: str) -> bool:
    """Whether ``account`` is a trading account of the unit ``code``."""
    return account is not None and account.trading and account.unit == code


def no_trading_account_message(name: str, code: str) -> str:
    """The message of a convert through an account that is not a trading account of
    ``code``."""
    return f"no trading account {name!r} for {code}; open it with open_trading_account({code!r})"


def replayed_failure(record: IdempotencyRecord) -> GiftLedgerError:
    """The error a failure remembered in ``record`` is replayed as: its type (a
    giftledger error) and message, marked with the key (``replayed_key``)."""
    assert record.error_type is not None
    cls = getattr(_errors, record.error_type, GiftLedgerError)
    if not (isinstance(cls, type) and issubclass(cls, GiftLedgerError)):
        cls = GiftLedgerError
    exc = cls(f"{record.error_message} (replayed for idempotency key {record.key!r})")
    exc.replayed_key = record.key
    return exc


def refuse_carried(r: StoreReader, key: str) -> None:
    """Refuse a write under ``key``, of which the store remembers nothing, if an entry
    carries ``key`` all the same.

    The entry carries its key under the hash; its record was removed behind the
    ledger's back, and writing would post the request a second time. One indexed
    lookup, asked only when no record of ``key`` is remembered.

    Raises:
        ChainBroken: names the key and the entry that carries it.
    """
    carrier = r.keyed_entry(key)
    if carrier is not None:
        raise ChainBroken(
            f"transaction {carrier} carries idempotency key {key!r}, which the store no "
            f"longer remembers: its record was removed behind the ledger's back; the "
            f"request is refused rather than written a second time, and nothing changed",
            carrier,
        )


def _carried(r: StoreReader, record: IdempotencyRecord) -> bool:
    """Whether ``record`` is the record of the entry that carries its key."""
    tid = record.transaction_id
    if record.error_type is not None or tid is None:
        return False
    tx = r.transaction(tid)
    return tx is not None and tx.key == record.key


def _with_resolution(hold: Hold, entry_id: int) -> Hold:
    if hold.status is HoldStatus.PENDING:
        return hold
    return Hold(
        hold.id,
        hold.debit,
        hold.credit,
        hold.minor,
        hold.unit,
        hold.expires_at,
        hold.status,
        hold.posted_minor,
        entry_id,
    )


def _net_out_of_range(postings: Sequence[Posting], net_after: Sequence[int]) -> AmountOutOfRange:
    """The error for the first posting that takes its account's net past 64 bits."""
    for i, (p, net) in enumerate(zip(postings, net_after, strict=True)):
        if not -_NET_MAX <= net <= _NET_MAX:
            return AmountOutOfRange(
                f"posting {i}: account {p.account!r} would hold {net:,} minor units of "
                f"{p.unit}; an account's balance must stay within ±{_NET_MAX:,} minor units "
                f"(a signed 64-bit integer, what every store keeps)"
            )
    raise AssertionError("no posting is out of range")  # pragma: no cover
