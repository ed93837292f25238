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
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from .. import _errors
from .._errors import (
    AccountClosed,
    AmountOutOfRange,
    CurrencyMismatch,
    DuplicateKeyConflict,
    GiftLedgerError,
    InsufficientFunds,
    InvalidArgument,
    InvalidTransaction,
    StoreError,
    UnbalancedTransaction,
    UnknownAccount,
)
from .._money.amounts import (
    MAX_MINOR,
    from_minor,
    to_minor,
)
from .._money.units import Unit, get_unit
from .clock import Clock, require_aware
from .hashing import entry_hash
from .idempotency import _check_key, _fingerprint
from .model import (
    Account,
    EntryKind,
    Hold,
    HoldStatus,
    Metadata,
    Posting,
    PostingSpec,
    Rate,
    Side,
    Transaction,
    is_encodable,
)
from .store import AccountState, IdempotencyRecord, Store, StoreReader, StoreWriter

__all__ = ["WriteCore"]

R = TypeVar("R")
_DEBIT = Side.DEBIT
_CREDIT = Side.CREDIT
_RETRIES = 20  # re-runs of a write the store rolled back for a lost race
_MAX = MAX_MINOR


def _describe(p: Posting, index: int) -> str:
    amount = from_minor(p.minor, p.unit).amount
    return f"posting {index} ({p.side.value} {amount} {p.unit} to {p.account!r})"


class WriteCore:
    """The write-path methods of a :class:`~giftledger.Ledger`; see the module docstring."""

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
        body: Callable[[StoreWriter, datetime, str | None], R],
        replay: Callable[[StoreReader, IdempotencyRecord], R],
        retrying: bool = False,
    ) -> R:
        """Run one write: idempotency first, then ``body`` inside a locked writer.

        ``body`` must check everything before it calls a mutator. A failure under
        a key is remembered, so the same key fails the same way again.
        """
        fingerprint = None
        if key is not None:
            _check_key(key)
            fingerprint = _fingerprint(request)
        now = self.clock.now()
        if type(now) is not datetime or now.tzinfo is None:
            now = require_aware(now, "the clock's now()")
        try:
            with self.store.write(dry_run) as w:
                if key is not None:
                    record = w.idempotency(key)
                    if record is not None:
                        return self._replay(record, fingerprint, w, replay)
                return body(w, now, fingerprint)
        except GiftLedgerError as exc:
            if isinstance(exc, StoreError):
                # A store failure is not the request's outcome: never remember it.
                if getattr(exc, "retryable", False) and not retrying:
                    return self._retry(exc, key, request, dry_run, body, replay)
                raise
            if key is not None and not dry_run and fingerprint is not None:
                self._remember_failure(key, fingerprint, exc)
            raise

    def _retry(
        self,
        exc: StoreError,
        key: str | None,
        request: object,
        dry_run: bool,
        body: Callable[[StoreWriter, datetime, str | None], R],
        replay: Callable[[StoreReader, IdempotencyRecord], R],
    ) -> R:
        """Run a write again after the store rolled it back for a lost race.

        PostgreSQL aborts a write on a deadlock or serialization failure; only the
        whole body, run again on fresh state, can redo it. Waits a short, random,
        growing time between attempts so the contenders do not collide again.
        """
        for attempt in range(_RETRIES):
            time.sleep(random.random() * min(0.002 * 2**attempt, 0.2))
            try:
                return self._run(key, request, dry_run, body, replay, retrying=True)
            except StoreError as again:
                if not getattr(again, "retryable", False):
                    raise
                exc = again
        raise StoreError(f"gave up after {_RETRIES + 1} attempts: {exc}") from exc

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
            cls = getattr(_errors, record.error_type, GiftLedgerError)
            if not (isinstance(cls, type) and issubclass(cls, GiftLedgerError)):
                cls = GiftLedgerError
            raise cls(f"{record.error_message} (replayed for idempotency key {record.key!r})")
        return replay(r, record)

    def _remember_failure(self, key: str, fingerprint: str, exc: GiftLedgerError) -> None:
        if isinstance(exc, DuplicateKeyConflict) or "(replayed for idempotency key" in str(exc):
            return
        with self.store.write() as w:
            if w.idempotency(key) is None:
                w.remember(
                    IdempotencyRecord(
                        key, fingerprint, error_type=type(exc).__name__, error_message=str(exc)
                    )
                )

    def _states(self, w: StoreWriter, names: Iterable[str]) -> dict[str, AccountState]:
        wanted = set(names)
        states = w.lock_accounts(sorted(wanted))
        if len(states) != len(wanted):
            missing = sorted(wanted - states.keys())
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
        self, specs: Iterable[PostingSpec | Posting], w: StoreWriter
    ) -> tuple[
        tuple[Posting, ...], dict[str, AccountState], dict[str, int], dict[str, int], list[int]
    ]:
        """Check and resolve postings, and sum them in the same pass.

        Returns the postings, the states of their accounts, ``debits - credits``
        per unit (all zero when balanced), the change to each account's ``net``,
        and each account's ``net`` right after each posting. One pass over the
        postings: this is the hot path of every write.
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
        states = w.lock_accounts(names)
        scales = self._scales
        out = []
        sums: dict[str, int] = {}
        nets: dict[str, int] = {}
        net_after: list[int] = []
        # Each branch does the common case with as few operations as it can, and
        # leaves naming what is wrong (in a fixed order) to _posting_error.
        for i, s in enumerate(specs):
            cls = type(s)
            if cls is Posting:
                assert isinstance(s, Posting)
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
            elif cls is PostingSpec:
                assert isinstance(s, PostingSpec)
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
        return tuple(out), states, sums, nets, net_after

    def _scale(self, code: str) -> int:
        scale = self._scales[code] = self._unit(code).scale
        return scale

    @staticmethod
    def _posting_error(i: int, s: PostingSpec | Posting, account: Account | None) -> Exception:
        """The error for posting ``i``, checked in a fixed order: account, closed, side, unit,
        amount."""
        if account is None:
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
            return InvalidTransaction(f"posting {i}: minor {minor!r} must be an int")
        if minor > _MAX:
            return AmountOutOfRange(
                f"posting {i} to {s.account!r}: amount {minor} minor units is more than "
                f"{_MAX}, the most one amount may hold"
            )
        return InvalidTransaction(
            f"posting {i} to {s.account!r}: amount {minor} minor units must be greater than zero"
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
        )
        # The hash covers every field above; set it on the frozen value once, here,
        # rather than building the record twice on the hot path.
        object.__setattr__(tx, "hash", entry_hash(tx, last_hash))
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
