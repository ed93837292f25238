"""Quoted writes: an entry computed under the write's locks, then written by the ledger.

giftledger's chain computes each operation as a *quote*: a function that reads
what it needs through the locked writer (balances, history, holds, keys) at the
write's time and returns a :class:`Quote` of the entry to write. The ledger
runs it in one store write through its one write gate (:meth:`WriteCore._run
<giftledger._ledger.writes.WriteCore._run>`): idempotency first, then every
account the operation may touch locked at once, the time read under those
locks, the quote, the accounts it needs opened, and the entry posted with the
same checks as :meth:`~giftledger.Ledger.post`, :meth:`~giftledger.Ledger.hold`
or :meth:`~giftledger.Ledger.note`. A dry run writes nothing at all, not even
an account.

It is private: the public API refuses the ``gl.`` metadata and ``gl:`` key
namespace a quote may use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from .._errors import AccountExists, DuplicateKeyConflict, InvalidArgument, InvalidTransaction
from .clock import require_aware
from .holds import HoldsMixin
from .idempotency import _check_key, _fingerprint, _replay_transaction
from .model import (
    Account,
    EntryKind,
    MetaValue,
    Posting,
    Rate,
    Side,
    Transaction,
    check_account_name,
    freeze_metadata,
)
from .store import AccountState, IdempotencyRecord, StoreReader, StoreWriter

__all__ = ["Quote", "QuotedMixin", "date_before", "hold_head"]

_KINDS = (EntryKind.POST, EntryKind.HOLD, EntryKind.NOTE)

#: How near the time an entry must be dated before (``until``) a write no longer links
#: at commit: more than a round trip and the clocks' usual skew. Further from it, the
#: store refuses at commit to date the entry there (``link_before``).
UNTIL_NEAR = timedelta(minutes=1)


def hold_head(w: StoreWriter) -> None:
    """In a write linking at commit, raise the retryable conflict that runs it again
    holding the chain's head (the store's optional ``need_head``); else nothing.

    A quote calls it when what it is about to do needs the head: a time that must
    not move, an account to open, a read it could not make before the head.
    """
    need_head = getattr(w, "need_head", None)
    conflict = None if need_head is None else need_head()
    if conflict is not None:
        raise conflict


def date_before(w: StoreWriter, now: datetime, when: datetime) -> None:
    """In a write linking at commit, see that its entry is dated before ``when`` (a change
    of what its quote priced it by, after its time ``now``); else nothing.

    Within :data:`UNTIL_NEAR` of it, the write runs again holding the head
    (:func:`hold_head`), its time read under it; further, the store refuses at commit to
    date the entry at or after ``when`` (its optional ``link_before``: a writer whose
    clock runs ahead committed meanwhile), and it runs again holding the head.
    """
    if when <= now + UNTIL_NEAR:
        hold_head(w)
    else:
        link_before = getattr(w, "link_before", None)
        if link_before is not None:
            link_before(when)


@attrs.frozen(slots=True)
class Quote:
    """What one chain operation would write: computed purely, posted by the executor.

    Attributes:
        kind: ``POST`` (balanced postings, balance rules checked), ``HOLD`` (one
            debit and one credit posting of one unit and amount, reserved as
            :meth:`~giftledger.Ledger.hold` does) or ``NOTE`` (no postings).
        postings: the entry's postings (resolved :class:`~giftledger.Posting`
            values or ``debit()``/``credit()`` specs); none for a ``NOTE``.
        memo: free text stored on the entry.
        metadata: str keys to str/int/bool/None values; may hold ``gl.`` keys.
        rates: exchange rates stored on a ``POST``.
        opens: accounts to open in the same write if they do not exist yet (one
            that exists with other settings is :class:`~giftledger.AccountExists`).
        expires_at: for a ``HOLD``, when it lapses (None: never).
        effective_at: for a ``POST`` or a ``NOTE``, when it takes effect for the
            books (None: the write's time).
        aliases: more idempotency keys that find the entry once it is written:
            each must be free (else :class:`~giftledger.DuplicateKeyConflict`,
            checked under the lock) and is remembered with the entry, never with
            a failure, so a failed attempt cannot block a later one.
    """

    kind: EntryKind
    postings: tuple[Posting, ...] = ()
    memo: str = ""
    metadata: Mapping[str, MetaValue] | None = attrs.field(default=None, hash=False)
    rates: tuple[Rate, ...] = ()
    opens: tuple[Account, ...] = ()
    expires_at: datetime | None = None
    effective_at: datetime | None = None
    aliases: tuple[str, ...] = ()


class QuotedMixin(HoldsMixin):
    """The quoted write of :class:`~giftledger.Ledger`, for giftledger's chain."""

    def _write_quoted(
        self,
        key: str | None,
        request: object,
        lock: Iterable[str],
        quote: Callable[[StoreWriter, datetime], Quote],
        *,
        dry_run: bool = False,
        keys_ahead: Sequence[str] = (),
        history_ahead: Sequence[tuple[str, int | None, int]] = (),
        on_replay: Callable[[], None] | None = None,
        at_commit: Iterable[str] | None = None,
        until: Callable[[datetime], datetime | None] | None = None,
    ) -> Transaction:
        """Write the entry ``quote`` computes, in one locked store write.

        Inside the write, in this order: a ``key`` already used replays its first
        entry (or its remembered failure) without calling ``quote``; every name
        in ``lock`` is locked in one call (accounts that do not exist yet too, so
        two writers cannot open one at once; on PostgreSQL the chain's head is
        taken with them, in the same round trip); the write's
        time is read (the clock, clamped to the journal head's ``recorded_at``);
        ``quote(writer, now)`` runs, reading through ``writer``; its aliases are
        checked to be free; the accounts in ``quote.opens`` that do not exist are
        opened; the entry is checked and written as a ``POST``, ``HOLD`` or
        ``NOTE``; and the aliases are remembered with it.

        Args:
            key: an idempotency key (``gl:`` keys allowed), or None.
            request: what identifies the request for ``key``: its fingerprint
                decides between a replay and a :class:`~giftledger.DuplicateKeyConflict`.
            lock: every account the quote may post to or open. An account the
                quote touches that is not named here is locked when it is reached,
                which on PostgreSQL is after the chain's head, outside the one lock
                order (key, accounts by name, head): it may deadlock with another
                writer, and then the write is rolled back and run again. Name them
                all when they are known before the quote runs.
            quote: computes the entry; a :class:`~giftledger.GiftLedgerError` it
                raises is the request's outcome, remembered under ``key`` like
                any failed write, so the same key fails the same way again.
            dry_run: run everything and return the entry that would be written;
                the store is left exactly as it was (no entry, key or account).
            keys_ahead: keys whose records ``quote`` checks (and does not claim),
                and ``history_ahead``: the ``history(name, after, limit)`` pages it
                reads; a store that can (PostgreSQL) locks ``lock`` with ``key`` and
                reads them in the same round trip, instead of one round trip each.
            on_replay: called when an attempt replays ``key``'s entry instead of
                calling ``quote`` (attempts run in order: of ``quote`` and this, the
                last called tells what the returned entry is).
            at_commit: the accounts whose states ``quote`` reads (None: it may need
                the chain's head). Given, a store that can (PostgreSQL) takes the head
                only as it commits, so writers of different accounts overlap: the
                entry is numbered from the head read without its lock and renumbered
                as it is linked (``quote`` must use ``writer.head()`` only for a
                provisional id, and ``on_replay`` to tell a replay); its time (recorded
                and effective) may move up to the head's, past the time ``quote`` was
                given. Of the other accounts in ``lock``, it only posts to them: the
                store checks their balance rules as it links.
            until: with ``at_commit``, given the write's time under its locks: the
                time the entry must be dated before (the next change of the rules
                ``quote`` prices by), or None. Within :data:`UNTIL_NEAR` of it, the
                write takes the head before ``quote`` runs (the store runs it again:
                ``need_head``), so its time is read under the head and cannot move;
                further, the store refuses at commit to date the entry at or after it
                (``link_before``: a writer whose clock runs ahead committed meanwhile),
                and the write runs again holding the head.

        Returns:
            The entry written (for a ``HOLD``, the entry that placed it: its id
            is the hold's id).

        Raises:
            InvalidArgument: a quote of another kind or of the wrong shape.
            AccountExists: an account to open exists with other settings.
            DuplicateKeyConflict: an alias of the quote is already taken.
            plus whatever ``quote`` raises and what :meth:`~giftledger.Ledger.post`,
            :meth:`~giftledger.Ledger.hold` or :meth:`~giftledger.Ledger.note`
            raise for the entry.
        """
        names = sorted(set(lock))
        if at_commit is None:
            until = None  # the write holds the head: its time cannot move
        for name in names:
            if type(name) is not str:
                raise InvalidArgument(f"lock {name!r}: every name to lock must be a string")

        def body(w: StoreWriter, fingerprint: str | None) -> Transaction:
            states = dict(w.lock_accounts(names)) if names else {}
            now = self._now(w)
            before = None if until is None else until(now)
            if before is not None:
                date_before(w, now, before)
            q = quote(w, now)
            if not isinstance(q, Quote):
                raise TypeError(f"a quote must return a Quote, not {q!r}")
            if q.kind not in _KINDS:
                raise InvalidArgument(
                    f"a quote writes a POST, a HOLD or a NOTE, not a {q.kind!r} entry"
                )
            aliases = [a for a in q.aliases if a != key]
            for alias in aliases:
                _check_key(alias)
                if w.idempotency(alias) is not None:
                    raise DuplicateKeyConflict(
                        f"idempotency key {alias!r} is already taken; the entry it names "
                        f"was written before"
                    )
            for account in q.opens:
                self._open_quoted(w, account, states, now)
            tx = self._write_quote(w, now, fingerprint, key, q, dry_run)
            if aliases and not dry_run:
                fp = fingerprint if fingerprint is not None else _fingerprint(request)
                for alias in aliases:
                    self._journal_record(w, IdempotencyRecord(alias, fp, tx.id), now)
            return tx

        replay = _replay_transaction
        if on_replay is not None:
            told = on_replay

            def replay(r: StoreReader, record: IdempotencyRecord) -> Transaction:
                told()
                return _replay_transaction(r, record)

        return self._run(
            key,
            request,
            dry_run,
            body,
            replay,
            batch=True,
            ahead=(names, keys_ahead, history_ahead),
            link=None if at_commit is None or dry_run else False,
            link_reads=None if at_commit is None else frozenset(at_commit),
        )

    def _write_quote(
        self,
        w: StoreWriter,
        now: datetime,
        fingerprint: str | None,
        key: str | None,
        q: Quote,
        dry_run: bool,
    ) -> Transaction:
        """Check and write the entry of ``q`` (its accounts open) in ``w``."""
        if q.kind is EntryKind.POST:
            return self._post_body(
                w,
                now,
                fingerprint,
                q.postings,
                key,
                q.memo,
                q.metadata,
                q.effective_at,
                q.rates,
                dry_run,
            )
        if q.rates:
            raise InvalidArgument(f"a {q.kind.value} quote carries no rates")
        if q.kind is EntryKind.NOTE:
            if q.postings or q.expires_at is not None:
                raise InvalidArgument("a note quote has no postings and no expiry")
            return self._note_body(
                w, now, fingerprint, key, q.memo, q.metadata, q.effective_at, dry_run
            )
        if q.effective_at is not None:
            raise InvalidArgument("a hold quote has no effective time (a hold moves nothing)")
        return self._hold_quoted(w, now, fingerprint, key, q, dry_run)

    def _open_quoted(
        self, w: StoreWriter, account: Account, states: dict[str, AccountState], now: datetime
    ) -> None:
        """Open ``account`` in ``w`` unless it exists with the same settings."""
        if not isinstance(account, Account):
            raise InvalidArgument(f"a quote opens accounts, not {account!r}")
        name = check_account_name(account.name)
        self._unit(account.unit)  # an unknown unit is UnknownUnit
        existing = states.get(name)
        if existing is None:
            # Not in lock, or missing: locked now (see _write_quoted), holding the head
            # (a write linking at commit runs again so: an account not named up front
            # is locked out of the one lock order, and only the head's holder opens one).
            hold_head(w)
            existing = w.lock_accounts([name]).get(name)
        if existing is not None:
            if existing.account != account:
                raise AccountExists(
                    f"account {name!r} is already open as {existing.account!r}; "
                    f"it cannot be opened again as {account!r}"
                )
            return
        w.add_account(account)
        self._journal_account(w, account, now)
        states[name] = AccountState(account)

    def _hold_quoted(
        self,
        w: StoreWriter,
        now: datetime,
        fingerprint: str | None,
        key: str | None,
        q: Quote,
        dry_run: bool,
    ) -> Transaction:
        memo = self._text(q.memo, "memo")
        meta = freeze_metadata(q.metadata)
        exp = None if q.expires_at is None else require_aware(q.expires_at, "expires_at")
        postings, states = self._resolve(q.postings, w)
        sides = sorted(postings, key=lambda p: p.side is not Side.DEBIT)
        if len(postings) != 2 or sides[0].side is sides[1].side:
            raise InvalidTransaction(
                f"a hold quote needs one debit and one credit posting, got {len(postings)} postings"
            )
        pd, pc = sides
        if pd.account == pc.account:
            raise InvalidTransaction(
                f"a hold needs two different accounts, got {pd.account!r} twice"
            )
        _, tx = self._place_hold(w, now, fingerprint, pd, pc, states, exp, key, memo, meta, dry_run)
        return tx
