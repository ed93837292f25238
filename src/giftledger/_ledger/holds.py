"""Holds: reserve an amount now, post or void it later, or let it expire.

:class:`HoldsMixin` gives :class:`~giftledger.Ledger` its hold methods; they
write through the ledger's write path (``_run``, the checks and ``_commit``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

import attrs

from .._boundary import boundary_methods
from .._errors import HoldExpired, HoldNotPending, InvalidArgument, InvalidTransaction, UnknownHold
from .._money.amounts import AmountLike, from_minor, to_minor
from .clock import require_aware
from .idempotency import _replay_transaction, _unreplayable, amount_key
from .model import (
    EntryKind,
    Hold,
    HoldStatus,
    Metadata,
    MetaValue,
    Posting,
    PostingSpec,
    Side,
    Transaction,
    freeze_metadata,
)
from .queries import _check_name
from .store import AccountState, IdempotencyRecord, StoreReader, StoreWriter
from .text import refuse_reserved, refuse_unstorable
from .writes import WriteCore

__all__ = ["HoldsMixin"]

R = TypeVar("R")
_DEBIT = Side.DEBIT
_CREDIT = Side.CREDIT


@boundary_methods
class HoldsMixin(WriteCore):
    """The hold methods of :class:`~giftledger.Ledger`."""

    def hold(
        self,
        debit: str,
        credit: str,
        amount: AmountLike,
        *,
        expires_at: datetime | None = None,
        timeout: timedelta | None = None,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        dry_run: bool = False,
        guard: Callable[[StoreReader], object] | None = None,
    ) -> Hold:
        """Reserve ``amount`` for a transfer from ``credit`` to ``debit``, to settle later.

        The available balances drop at once (balance rules count pending
        holds); posted balances move only when the hold is posted with
        :meth:`post_hold`. :meth:`void_hold` releases it; past ``expires_at``
        (or ``now + timeout``) it can no longer be posted and stops counting.

        Args:
            amount: ``Money`` in the accounts' unit, or an int, ``Decimal`` or
                decimal string in its major units, as in :meth:`transfer`.
            guard: a check run inside the locked store write before anything is
                written, as for :meth:`post`: a threshold check and the hold
                become one atomic step.

        Returns:
            The pending :class:`~giftledger.Hold`; its ``id`` names it later.

        Raises:
            InsufficientFunds: the reservation would break a balance rule.
            InvalidArgument: among others, ``key`` or a metadata key is in the
                chain's namespace (``gl:``, ``gl.``), or ``expires_at`` is not
                after the write's time.
            plus what :meth:`transfer` raises.
        """
        if key is not None or metadata:
            metadata = refuse_reserved(key, metadata)
        return self._hold(
            debit,
            credit,
            amount,
            expires_at=expires_at,
            timeout=timeout,
            key=key,
            memo=memo,
            metadata=metadata,
            dry_run=dry_run,
            guard=guard,
        )

    def _hold(
        self,
        debit: str,
        credit: str,
        amount: AmountLike,
        *,
        expires_at: datetime | None = None,
        timeout: timedelta | None = None,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        dry_run: bool = False,
        guard: Callable[[StoreReader], object] | None = None,
    ) -> Hold:
        """:meth:`hold` without the namespace check: for giftledger's chain."""
        _check_name(debit)
        _check_name(credit)
        if expires_at is not None and timeout is not None:
            raise InvalidArgument("give either expires_at or timeout, not both")
        request = ("hold", debit, credit, amount_key(amount), expires_at, timeout, memo, metadata)

        def body(w: StoreWriter, fingerprint: str | None) -> Hold:
            if guard is not None:
                guard(w)
            memo_ = self._text(memo, "memo")
            meta = freeze_metadata(metadata)
            exp = require_aware(expires_at, "expires_at") if expires_at is not None else None
            if timeout is not None and (
                not isinstance(timeout, timedelta) or timeout <= timedelta(0)
            ):
                raise InvalidArgument(f"timeout {timeout!r} must be a positive timedelta")
            if debit == credit:
                raise InvalidTransaction(
                    f"a hold needs two different accounts, got {debit!r} twice"
                )
            (pd, pc), states = self._resolve(
                [PostingSpec(debit, _DEBIT, amount), PostingSpec(credit, _CREDIT, amount)], w
            )
            now = self._now(w)
            if timeout is not None:
                exp = now + timeout
            hold, _ = self._place_hold(
                w, now, fingerprint, pd, pc, states, exp, key, memo_, meta, dry_run
            )
            return hold

        return self._run(key, request, dry_run, body, _replay_hold)

    def _place_hold(
        self,
        w: StoreWriter,
        now: datetime,
        fingerprint: str | None,
        pd: Posting,
        pc: Posting,
        states: Mapping[str, AccountState],
        exp: datetime | None,
        key: str | None,
        memo: str,
        meta: Metadata,
        dry_run: bool,
    ) -> tuple[Hold, Transaction]:
        """Check and record a ``HOLD`` of the resolved debit ``pd`` and credit ``pc``
        (their accounts locked in ``states``) at the write's time ``now``."""
        if exp is not None and exp <= now:
            raise InvalidArgument(
                f"expires_at {exp.isoformat()} is not after now ({now.isoformat()})"
            )
        self._check_balanced((pd, pc))
        deltas = {pd.account: (0, pd.minor, 0), pc.account: (0, 0, pc.minor)}
        self._check_rules(w, states, deltas, now, (pd, pc), "the hold")
        last_id = w.head()[0]
        hold = Hold(last_id + 1, pd.account, pc.account, pd.minor, pd.unit, exp)
        tx = self._commit(
            w,
            EntryKind.HOLD,
            (pd, pc),
            states,
            deltas,
            now,
            None,
            key,
            fingerprint,
            memo,
            meta,
            dry_run,
            expires_at=exp,
            hold=hold,
        )
        return hold, tx

    def _pending_hold(self, w: StoreReader, hold_id: int, action: str) -> Hold:
        """The pending hold ``hold_id`` (locked, on PostgreSQL), or the error that says
        why it cannot be ``action``; its expiry is checked by :meth:`_unexpired`, at
        the time read once its accounts are locked."""
        if isinstance(hold_id, Hold):
            hold_id = hold_id.id
        hold = (
            w.hold(hold_id) if isinstance(hold_id, int) and not isinstance(hold_id, bool) else None
        )
        if hold is None:
            raise UnknownHold(f"no hold with id {hold_id!r}")
        if hold.status is not HoldStatus.PENDING:
            raise HoldNotPending(
                f"hold {hold.id} is already {hold.status.value} (by entry {hold.resolved_by}); "
                f"it cannot be {action}"
            )
        return hold

    @staticmethod
    def _unexpired(hold: Hold, now: datetime, action: str) -> None:
        if hold.expires_at is not None and now >= hold.expires_at:
            raise HoldExpired(
                f"hold {hold.id} expired at {hold.expires_at.isoformat()}; it cannot be {action}"
            )

    def post_hold(
        self,
        hold: int | Hold,
        amount: AmountLike | None = None,
        *,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        effective_at: datetime | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """Post a pending hold, fully or (with ``amount``) partly; the rest is released.

        ``amount`` is ``Money`` in the hold's unit or a bare number in its major
        units, as in :meth:`transfer`.

        Raises:
            UnknownHold: no such hold.
            HoldNotPending: already posted or voided.
            HoldExpired: past its expiry.
            InvalidTransaction: ``amount`` is more than the hold or not positive.
        """
        if key is not None or metadata:
            metadata = refuse_reserved(key, metadata)
        return self._post_hold(
            hold,
            amount,
            key=key,
            memo=memo,
            metadata=metadata,
            effective_at=effective_at,
            dry_run=dry_run,
        )

    def _post_hold(
        self,
        hold: int | Hold,
        amount: AmountLike | None = None,
        *,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        effective_at: datetime | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """:meth:`post_hold` without the namespace check: for giftledger's chain."""
        hold_id = hold.id if isinstance(hold, Hold) else hold
        request = ("post_hold", hold_id, amount_key(amount), memo, metadata, effective_at)

        def body(w: StoreWriter, fingerprint: str | None) -> Transaction:
            memo_ = self._text(memo, "memo")
            meta = freeze_metadata(metadata)
            eff = self._effective(effective_at)
            h = self._pending_hold(w, hold_id, "posted")
            states = self._states(w, [h.debit, h.credit])
            now = self._now(w)
            self._unexpired(h, now, "posted")
            minor = h.minor if amount is None else to_minor(amount, self._unit(h.unit))
            if not 0 < minor <= h.minor:
                raise InvalidTransaction(
                    f"cannot post {from_minor(minor, h.unit).amount} {h.unit} of hold {h.id}: "
                    f"the amount must be > 0 and at most the {h.amount.amount} {h.unit} held"
                )
            postings = (
                Posting(h.debit, _DEBIT, minor, h.unit),
                Posting(h.credit, _CREDIT, minor, h.unit),
            )
            deltas = {h.debit: (minor, -h.minor, 0), h.credit: (-minor, 0, -h.minor)}
            self._check_rules(w, states, deltas, now, postings, "posting the hold")
            settled = Hold(
                h.id,
                h.debit,
                h.credit,
                h.minor,
                h.unit,
                h.expires_at,
                HoldStatus.POSTED,
                minor,
                None,
            )
            return self._commit(
                w,
                EntryKind.POST_HOLD,
                postings,
                states,
                deltas,
                now,
                eff,
                key,
                fingerprint,
                memo_,
                meta,
                dry_run,
                hold_id=h.id,
                hold=settled,
            )

        return self._run(key, request, dry_run, body, _replay_transaction)

    def void_hold(
        self,
        hold: int | Hold,
        *,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """Release a pending hold; nothing moves and the reserved amount is available again.

        Raises:
            UnknownHold, HoldNotPending, HoldExpired: as for :meth:`post_hold`.
        """
        if key is not None or metadata:
            metadata = refuse_reserved(key, metadata)
        return self._void_hold(hold, key=key, memo=memo, metadata=metadata, dry_run=dry_run)

    def _void_hold(
        self,
        hold: int | Hold,
        *,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """:meth:`void_hold` without the namespace check: for giftledger's chain."""
        hold_id = hold.id if isinstance(hold, Hold) else hold
        request = ("void_hold", hold_id, memo, metadata)

        def body(w: StoreWriter, fingerprint: str | None) -> Transaction:
            memo_ = self._text(memo, "memo")
            meta = freeze_metadata(metadata)
            h = self._pending_hold(w, hold_id, "voided")
            states = self._states(w, [h.debit, h.credit])
            now = self._now(w)
            self._unexpired(h, now, "voided")
            deltas = {h.debit: (0, -h.minor, 0), h.credit: (0, 0, -h.minor)}
            voided = Hold(h.id, h.debit, h.credit, h.minor, h.unit, h.expires_at, HoldStatus.VOIDED)
            return self._commit(
                w,
                EntryKind.VOID_HOLD,
                (),
                states,
                deltas,
                now,
                None,
                key,
                fingerprint,
                memo_,
                meta,
                dry_run,
                hold_id=h.id,
                hold=voided,
            )

        return self._run(key, request, dry_run, body, _replay_transaction)

    def expire_holds(self) -> tuple[Transaction, ...]:
        """Record every pending hold past its expiry as expired; return the new entries.

        Expired holds stop counting against balances as soon as their time
        passes, whether or not this is called; calling it writes that fact into
        the journal and keeps later balance checks fast. It is one write through
        the ledger's write gate (run again if the store rolled it back for a lost
        race), timed like any write (the clock read under the write's locks, never
        earlier than the journal's head): a hold is recorded as expired when that
        time has reached its ``expires_at``.
        """
        # The time of the write is read once its locks are held, and the holds to lock
        # depend on it: pick them by an earlier estimate of it (the clock, clamped to the
        # head as last committed), then expire those the write's own time has reached.
        with self.store.read() as r:
            floor = r.head_time()

        def body(w: StoreWriter, _: str | None) -> tuple[Transaction, ...]:
            # Lock the due holds (PostgreSQL locks them FOR UPDATE, in id order), then
            # all their accounts in one call, then read the time under those locks.
            soon = self._clock_now()
            if floor is not None and soon < floor:
                soon = floor
            due = [
                h
                for h in w.holds(None, pending_only=True)
                if h.expires_at is not None and soon >= h.expires_at
            ]
            if not due:
                return ()
            states = self._states(w, {name for h in due for name in (h.debit, h.credit)})
            now = self._now(w)
            out = []
            for h in due:
                assert h.expires_at is not None
                if now < h.expires_at:
                    continue
                deltas = {h.debit: (0, -h.minor, 0), h.credit: (0, 0, -h.minor)}
                expired = Hold(
                    h.id, h.debit, h.credit, h.minor, h.unit, h.expires_at, HoldStatus.EXPIRED
                )
                out.append(
                    self._commit(
                        w,
                        EntryKind.EXPIRE_HOLD,
                        (),
                        states,
                        deltas,
                        now,
                        None,
                        None,
                        None,
                        "",
                        (),
                        False,
                        hold_id=h.id,
                        hold=expired,
                    )
                )
            return tuple(out)

        return self._run(None, None, False, body)

    def get_hold(self, hold_id: int) -> Hold:
        """The hold placed by entry ``hold_id``, with its current status.

        A pending hold whose expiry has passed is reported as ``EXPIRED``.

        Raises:
            UnknownHold: no such hold (an id that is not an int names none).
        """
        hold = None
        if isinstance(hold_id, int) and not isinstance(hold_id, bool):
            with self.store.read() as r:
                hold = r.hold(hold_id)
        if hold is None:
            raise UnknownHold(f"no hold with id {hold_id!r}")
        if (
            hold.status is HoldStatus.PENDING
            and hold.expires_at is not None
            and self.clock.now() >= hold.expires_at
        ):
            return Hold(
                hold.id,
                hold.debit,
                hold.credit,
                hold.minor,
                hold.unit,
                hold.expires_at,
                HoldStatus.EXPIRED,
            )
        return hold

    def holds(self, account: str | None = None, *, pending_only: bool = True) -> tuple[Hold, ...]:
        """Holds touching ``account`` (all accounts if None), pending ones only by default.

        Raises:
            InvalidArgument: ``account`` is not a string or None, or
                ``pending_only`` is not a bool.
        """
        if account is not None and not isinstance(account, str):
            raise InvalidArgument(f"account {account!r} must be an account name (a string) or None")
        refuse_unstorable(account, "account name")
        if not isinstance(pending_only, bool):
            raise InvalidArgument(f"pending_only {pending_only!r} must be True or False")
        with self.store.read() as r:
            return tuple(r.holds(account, pending_only))


def _replay_hold(r: StoreReader, record: IdempotencyRecord) -> Hold:
    # A replay returns the original result, as post()'s does: the hold as it was
    # placed (pending, unresolved), not as a later post, void or expiry left it. Only
    # the status fields change after placing; the rest is the hold's stored record.
    # The entry is checked as post()'s replay checks it: it carries the key, and its
    # hash was made with the record.
    placed = _replay_transaction(r, record)
    hold = r.hold(placed.id)
    if hold is None:
        raise _unreplayable(record, None)
    return attrs.evolve(hold, status=HoldStatus.PENDING, posted_minor=0, resolved_by=None)
