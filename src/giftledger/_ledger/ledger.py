"""The double-entry ledger: accounts, transactions, holds, reversals and queries.

The ledger knows nothing of gifts, coins or creators. It keeps a journal of
immutable, hash-chained entries over any :class:`~giftledger.Store`, and it
alone checks the rules: postings balance per unit, amounts are in the
account's unit, balance rules hold (counting pending holds), idempotency keys
are honoured, a transaction is reversed at most once. A call that fails
changes nothing.

This module holds :class:`Ledger` itself: construction, accounts, posting,
transfers, conversions and reversals. The write path they share is
:mod:`.writes`; holds (:mod:`.holds`), queries (:mod:`.queries`) and
verification (:mod:`.verify`) are mixed in on top of it; idempotency keys are
fingerprinted and replayed by :mod:`.idempotency`.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from fractions import Fraction
from typing import Literal, cast, overload

from .._boundary import boundary_methods
from .._errors import (
    AccountExists,
    AlreadyReversed,
    AmountOutOfRange,
    CurrencyMismatch,
    GiftLedgerError,
    InvalidArgument,
    InvalidTransaction,
    NotReversible,
    StoreError,
    UnknownAccount,
    UnknownTransaction,
)
from .._money.amounts import (
    MAX_MINOR,
    AmountLike,
    RatioLike,
    Rounding,
    from_minor,
    round_fraction,
    to_fraction,
    to_minor,
)
from .._money.units import get_unit
from .batch import TransactionRequest
from .checkpoints import CheckpointMixin
from .clock import Clock, SystemClock
from .feed import FeedMixin
from .holds import HoldsMixin
from .idempotency import _check_key, _fingerprint, _replay_transaction, amount_key, ratio_key
from .model import (
    Account,
    BalanceRule,
    EntryKind,
    MetaValue,
    Posting,
    PostingSpec,
    Rate,
    Side,
    Transaction,
    check_account_name,
    freeze_metadata,
)
from .queries import QueriesMixin, _check_name, _check_prefix
from .quoted import QuotedMixin
from .store import IdempotencyRecord, Store, StoreReader, StoreWriter
from .text import refuse_reserved, refuse_unstorable
from .verify import VerifyMixin
from .writes import (
    NotTradingAccount,
    Precheck,
    TransferUnitsDiffer,
    check_convert,
    check_transfer,
    is_outcome,
    is_trading_account,
    no_trading_account_message,
    refuse_carried,
    replayed_failure,
    units_differ_message,
)

__all__ = ["Ledger"]


def _account(r: StoreReader, name: str) -> Account | None:
    st = r.account_state(name)
    return None if st is None else st.account


def _one_unit(a: Account | None, b: Account | None) -> bool:
    return a is None or b is None or a.unit == b.unit


def _two_units(a: Account | None, b: Account | None) -> bool:
    return a is not None and b is not None and a.unit != b.unit


_DEBIT = Side.DEBIT
_CREDIT = Side.CREDIT
_MAX = MAX_MINOR


@boundary_methods
class Ledger(QuotedMixin, HoldsMixin, QueriesMixin, VerifyMixin, CheckpointMixin, FeedMixin):
    """A double-entry ledger over a store.

    ``Ledger()`` keeps everything in memory; :meth:`open` picks a store by URL.

    Args:
        store: where the journal lives (default: a new in-memory store).
        clock: where "now" comes from (default: the UTC wall clock). Each write
            reads it once, inside the locked store write, once the write holds
            its locks; a time behind the journal head's ``recorded_at`` is
            clamped to it, so ``recorded_at`` never goes backwards.

    Example:
        >>> import giftledger as gl
        >>> book = gl.Ledger()
        >>> _ = book.open_account("assets:bank", "USD")
        >>> _ = book.open_account("equity:owner", "USD", normal="credit")
        >>> tx = book.transfer("assets:bank", "equity:owner", "100.00")
        >>> book.balance("assets:bank")
        Money('100.00', 'USD')
        >>> book.verify()  # entries checked: each account's definition, then the transfer
        3
    """

    def __init__(self, store: Store | None = None, *, clock: Clock | None = None) -> None:
        if store is None:
            from .._stores.memory import MemoryStore

            store = MemoryStore()
        self.store: Store = store
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._units = {}
        self._scales = {}  # unit code -> 10 ** exponent, for the hot path

    @classmethod
    def open(cls, url: str = "memory:", *, clock: Clock | None = None) -> Ledger:
        """Open a ledger on the store named by ``url``.

        ``memory:`` keeps it in this process; ``sqlite:///path/to/file.db`` is the
        embedded default; ``postgresql://user@host/db`` needs the ``postgres``
        extra. A stored ledger reopens to exactly the same state.

        Example:
            >>> import giftledger as gl
            >>> gl.Ledger.open("memory:").store.url
            'memory:'
        """
        from .._stores import open_store

        return cls(open_store(url), clock=clock)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Ledger store={self.store.url!r}>"

    # -- accounts ----------------------------------------------------------------------

    def open_account(
        self,
        name: str,
        unit: str,
        *,
        normal: Side | str = Side.DEBIT,
        rule: BalanceRule | None = None,
        overdraft: AmountLike | None = None,
        trading: bool = False,
        metadata: Mapping[str, MetaValue] | None = None,
    ) -> Account:
        """Open an account, or return it if it is already open with the same settings.

        Args:
            name: hierarchical, ``:``-separated (``viewers:alice:coins``).
            unit: the one unit it holds (``"USD"``, ``"COIN"``).
            normal: ``"debit"`` (assets, expenses) or ``"credit"`` (liabilities,
                revenue, equity); balances are reported on this side.
            rule: the balance rule; default: must not go negative (trading
                accounts: unrestricted).
            overdraft: shorthand for ``BalanceRule.overdraft``: how far below zero
                the balance may go, in the account's unit.
            trading: a conversion account through which units are exchanged.
            metadata: str keys to str/int/bool/None values; keys starting with
                ``gl.`` are reserved for giftledger's chain.

        Raises:
            AccountExists: the name is open with other settings.
            InvalidArgument: a malformed name, side or rule, or a metadata key in
                the chain's namespace.
            UnknownUnit: the unit is not known.
        """
        metadata = refuse_reserved(None, metadata)
        return self._open_account(
            name,
            unit,
            normal=normal,
            rule=rule,
            overdraft=overdraft,
            trading=trading,
            metadata=metadata,
        )

    def _open_account(
        self,
        name: str,
        unit: str,
        *,
        normal: Side | str = Side.DEBIT,
        rule: BalanceRule | None = None,
        overdraft: AmountLike | None = None,
        trading: bool = False,
        metadata: Mapping[str, MetaValue] | None = None,
    ) -> Account:
        """:meth:`open_account` without the namespace check: for giftledger's chain."""
        check_account_name(name)
        u = self._unit(unit) if isinstance(unit, str) else get_unit(unit)
        side = (
            normal
            if isinstance(normal, Side)
            else Side(normal)
            if normal in ("debit", "credit")
            else None
        )
        if side is None:
            raise InvalidArgument(f"normal side {normal!r} must be 'debit' or 'credit'")
        if rule is not None and overdraft is not None:
            raise InvalidArgument("give either rule or overdraft, not both")
        if overdraft is not None:
            rule = BalanceRule.overdraft(to_minor(overdraft, u))
        if rule is None:
            rule = BalanceRule.unrestricted() if trading else BalanceRule.non_negative()
        if not isinstance(rule, BalanceRule):
            raise InvalidArgument(f"rule {rule!r} must be a giftledger.BalanceRule")
        account = Account(
            name=name,
            unit=u.code,
            normal=side,
            rule=rule,
            trading=bool(trading),
            metadata=freeze_metadata(metadata),
        )

        def body(w: StoreWriter, _: str | None) -> Account:
            existing = w.lock_accounts([name]).get(name)
            if existing is not None:
                if existing.account == account:
                    return existing.account
                raise AccountExists(
                    f"account {name!r} is already open as {existing.account!r}; "
                    f"it cannot be opened again as {account!r}"
                )
            w.add_account(account)
            self._journal_account(w, account, self._now(w))
            return account

        return self._run(None, None, False, body)

    def open_trading_account(self, unit: str, name: str | None = None) -> Account:
        """Open the trading account through which ``unit`` is converted.

        Its default name is ``trading:<UNIT>``, which :meth:`convert` looks for.
        """
        return self._open_trading_account(unit, name)

    def _open_trading_account(self, unit: str, name: str | None = None) -> Account:
        """:meth:`open_trading_account`, as giftledger's chain calls it."""
        return self._open_account(name or f"trading:{unit}", unit, normal=Side.DEBIT, trading=True)

    def close_account(self, name: str) -> Account:
        """Close an account with a zero balance and no pending holds.

        Raises:
            UnknownAccount: no such account.
            InvalidArgument: the balance is not zero or holds are pending.
        """
        _check_name(name)

        def body(w: StoreWriter, _: str | None) -> Account:
            st = self._states(w, [name])[name]
            if st.net or st.pending_debits or st.pending_credits:
                unit = st.account.unit
                posted = st.net if st.account.normal is Side.DEBIT else -st.net
                held = st.pending_debits + st.pending_credits
                raise InvalidArgument(
                    f"account {name!r} cannot be closed: its posted balance is "
                    f"{from_minor(posted, unit).amount} {unit} and its pending holds "
                    f"total {from_minor(held, unit).amount} {unit}; empty it first"
                )
            if st.account.closed:
                return st.account
            closed = Account(
                st.account.name,
                st.account.unit,
                st.account.normal,
                st.account.rule,
                True,
                st.account.trading,
                st.account.metadata,
            )
            w.replace_account(closed)
            self._journal_account(w, closed, self._now(w))
            return closed

        return self._run(None, None, False, body)

    def account(self, name: str) -> Account:
        """The account named ``name``.

        Raises:
            UnknownAccount: no such account.
        """
        _check_name(name)
        with self.store.read() as r:
            st = r.account_state(name)
        if st is None:
            raise UnknownAccount(f"unknown account {name!r}; open it with open_account()")
        return st.account

    def accounts(self, prefix: str = "") -> tuple[Account, ...]:
        """All accounts whose names start with ``prefix``, sorted by name."""
        _check_prefix(prefix)
        with self.store.read() as r:
            return tuple(st.account for st in r.account_states(prefix))

    # -- posting -----------------------------------------------------------------------

    def post(
        self,
        postings: Iterable[PostingSpec | Posting],
        *,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        effective_at: datetime | None = None,
        rates: Sequence[Rate] = (),
        dry_run: bool = False,
        guard: Callable[[StoreReader], object] | None = None,
    ) -> Transaction:
        """Post a balanced transaction of any number of postings, all or nothing.

        Args:
            postings: :func:`~giftledger.debit` and :func:`~giftledger.credit`
                postings; debits must equal credits in every unit.
            key: an idempotency key: the same key with the same content returns
                the original transaction; with other content it is an error.
            memo: free text stored on the entry.
            metadata: str keys to str/int/bool/None values.
            effective_at: when the money moved for the books (default: now);
                back-dating is allowed and stays visible as such.
            rates: exchange rates to store on the entry (see :meth:`convert`).
            dry_run: check everything and return the entry that would be
                posted, without posting it.
            guard: a check run inside the locked store write, before anything is
                written, with a read-only view of the ledger (balances, holds,
                the journal); if it raises, nothing is written. It makes a
                caller's check and this write one atomic step, even across
                processes on a SQL store. It is not part of the idempotency
                fingerprint and does not run when a key replays.

        Returns:
            The posted :class:`~giftledger.Transaction`.

        Raises:
            UnbalancedTransaction: debits differ from credits in some unit.
            InvalidTransaction: fewer than two postings, or an amount <= 0.
            UnknownAccount, AccountClosed, CurrencyMismatch: a bad account or unit.
            InsufficientFunds: a balance rule would break.
            DuplicateKeyConflict: ``key`` was used for other content.
            InvalidArgument: among others, ``key`` or a metadata key is in the
                chain's namespace.

        Example:
            >>> import giftledger as gl
            >>> book = gl.Ledger()
            >>> _ = book.open_account("assets:bank", "USD")
            >>> _ = book.open_account("revenue:sales", "USD", normal="credit")
            >>> tx = book.post(
            ...     [gl.debit("assets:bank", "9.99"), gl.credit("revenue:sales", "9.99")]
            ... )
            >>> tx.id, book.balance("revenue:sales")  # entries 1 and 2 opened the accounts
            (3, Money('9.99', 'USD'))
        """
        if metadata or (isinstance(key, str) and key.startswith("gl:")):
            metadata = refuse_reserved(key, metadata)
        # Positional: the cheapest call on the hot path (see _post).
        return self._post(postings, key, memo, metadata, effective_at, rates, dry_run, guard)

    def _post(
        self,
        postings: Iterable[PostingSpec | Posting],
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        effective_at: datetime | None = None,
        rates: Sequence[Rate] = (),
        dry_run: bool = False,
        guard: Callable[[StoreReader], object] | None = None,
        precheck: Precheck | None = None,
    ) -> Transaction:
        """:meth:`post` without the namespace check: for giftledger's chain.

        The same parameters as :meth:`post`; they may also be given by position,
        which is how :meth:`post` calls it (a call with nine keywords costs more
        than the check it follows). ``precheck``: what the request checked of its
        accounts before the write, checked again as the write locks them (see
        ``WriteCore._post_body``).
        """
        # type() tests, not isinstance(x, list | tuple): the union is built on each call.
        if type(postings) is not list and type(postings) is not tuple:
            postings = (
                list(postings)
                if isinstance(postings, Iterable)
                and not isinstance(postings, str | bytes | PostingSpec | Posting)
                else postings
            )
        if type(rates) is not tuple:
            if isinstance(rates, str | bytes | Rate) or not isinstance(rates, Iterable):
                raise InvalidArgument(f"rates {rates!r} must be a list of giftledger.Rate")
            rates = tuple(rates)
        # What a key's fingerprint covers; without a key nothing needs it.
        request = None if key is None else ("post", postings, memo, metadata, effective_at, rates)
        return self._run(
            key,
            request,
            dry_run,
            self._post_guarded,
            _replay_transaction,
            (postings, key, memo, metadata, effective_at, rates, dry_run, guard, precheck),
            # Nothing here needs the entry's id or the chain before the commit: a
            # store that can link at commit (PostgreSQL) holds its head only then.
            link=None if guard is not None or dry_run else effective_at is not None,
        )

    def _post_guarded(
        self,
        w: StoreWriter,
        fingerprint: str | None,
        postings: Iterable[PostingSpec | Posting],
        key: str | None,
        memo: str,
        metadata: Mapping[str, MetaValue] | None,
        effective_at: datetime | None,
        rates: Sequence[Rate],
        dry_run: bool,
        guard: Callable[[StoreReader], object] | None,
        precheck: Precheck | None,
    ) -> Transaction:
        """The body of :meth:`_post` in the write gate: the guard, then the post."""
        if guard is not None:
            guard(w)
        return self._post_body(
            w,
            None,
            fingerprint,
            postings,
            key,
            memo,
            metadata,
            effective_at,
            rates,
            dry_run,
            precheck=precheck,
        )

    @overload
    def post_many(
        self,
        requests: Iterable[TransactionRequest | Sequence[PostingSpec | Posting]],
        *,
        atomic: Literal[True] = True,
        dry_run: bool = False,
    ) -> list[Transaction]: ...

    @overload
    def post_many(
        self,
        requests: Iterable[TransactionRequest | Sequence[PostingSpec | Posting]],
        *,
        atomic: Literal[False],
        dry_run: bool = False,
    ) -> list[Transaction | GiftLedgerError]: ...

    def post_many(
        self,
        requests: Iterable[TransactionRequest | Sequence[PostingSpec | Posting]],
        *,
        atomic: bool = True,
        dry_run: bool = False,
    ) -> list[Transaction] | list[Transaction | GiftLedgerError]:
        """Post many transactions in one store write: one lock and one commit for all.

        Each request is checked against the state the requests before it left,
        exactly as if they were posted one by one with :meth:`post`, and gets
        the next id. Idempotency keys behave as in :meth:`post` (a key repeated
        within the batch returns the first entry).

        Args:
            requests: :class:`~giftledger.TransactionRequest` values, or plain
                lists of postings.
            atomic: True: all or nothing; the first failing request raises its
                error (with a note naming its index) and nothing in the batch
                is posted. False: each request on its own; the result for a
                failing request is its error, and the others are posted.
            dry_run: check everything and return what would be posted, posting
                nothing.

        Returns:
            One result per request, in order: the posted
            :class:`~giftledger.Transaction` (or, with ``atomic=False``, the
            :class:`~giftledger.GiftLedgerError` it failed with).

        Raises:
            GiftLedgerError: with ``atomic=True``, what the first failing
                request raises (see :meth:`post`).

        Example:
            >>> import giftledger as gl
            >>> book = gl.Ledger()
            >>> _ = book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
            >>> _ = book.open_account("alice", "USD", normal="credit")
            >>> txs = book.post_many(
            ...     [[gl.debit("mint", 5), gl.credit("alice", 5)]] * 3
            ... )
            >>> [tx.id for tx in txs], book.balance("alice")  # after the accounts' entries
            ([3, 4, 5], Money('15.00', 'USD'))
            >>> results = book.post_many(
            ...     [
            ...         gl.TransactionRequest([gl.debit("alice", 20), gl.credit("mint", 20)]),
            ...         gl.TransactionRequest([gl.debit("alice", 1), gl.credit("mint", 1)]),
            ...     ],
            ...     atomic=False,
            ... )
            >>> [type(r).__name__ for r in results]
            ['InsufficientFunds', 'Transaction']
        """
        if isinstance(requests, TransactionRequest | str | bytes) or not isinstance(
            requests, Iterable
        ):
            raise InvalidArgument(
                f"requests {requests!r} must be a list of TransactionRequest values or of "
                f"postings lists"
            )
        items = list(requests)
        if not items:
            return []
        results = self._post_batch(items, atomic, dry_run, refuse=True)
        return cast("list[Transaction]", results) if atomic else results

    def _post_many(
        self,
        requests: Iterable[TransactionRequest | Sequence[PostingSpec | Posting]],
        *,
        atomic: bool = True,
        dry_run: bool = False,
    ) -> list[Transaction] | list[Transaction | GiftLedgerError]:
        """:meth:`post_many` without the namespace check: for giftledger's chain."""
        if isinstance(requests, TransactionRequest | str | bytes) or not isinstance(
            requests, Iterable
        ):
            raise InvalidArgument(
                f"requests {requests!r} must be a list of TransactionRequest values or of "
                f"postings lists"
            )
        items = list(requests)
        if not items:
            return []
        results = self._post_batch(items, atomic, dry_run, refuse=False)
        return cast("list[Transaction]", results) if atomic else results

    def _post_batch(
        self,
        items: Sequence[TransactionRequest | Sequence[PostingSpec | Posting]],
        atomic: bool,
        dry_run: bool,
        *,
        refuse: bool,
    ) -> list[Transaction | GiftLedgerError]:
        """:meth:`post_many` in one store write, through the write gate (which runs it
        again, whole, if the store rolled it back for a lost race). ``refuse``: refuse
        the chain's namespace in each request, as the public API does."""
        from .._stores.memory import MemoryStore

        store = self.store
        failed: list[tuple[str, str, GiftLedgerError]] = []

        def body(w: StoreWriter, _: str | None) -> list[Transaction | GiftLedgerError]:
            failed.clear()
            results: list[Transaction | GiftLedgerError] = []
            if not isinstance(store, MemoryStore):
                # Lock every account of the batch at once: one round trip, and
                # one fixed order, so concurrent batches cannot deadlock.
                w.lock_accounts(_batch_accounts(items))
            # One time for the whole batch, read once its accounts are locked.
            now = self._now(w)
            postings: Sequence[PostingSpec | Posting]
            for i, item in enumerate(items):
                if isinstance(item, TransactionRequest):
                    postings, key, memo = item.postings, item.key, item.memo
                    metadata, effective_at, rates = item.metadata, item.effective_at, item.rates
                else:  # a plain list of postings: the common case, kept cheap
                    postings, key, memo = item, None, ""
                    metadata, effective_at, rates = None, None, ()
                fingerprint = None
                try:
                    if refuse and (key is not None or metadata):
                        metadata = refuse_reserved(key, metadata)
                    if key is not None:
                        _check_key(key)
                        # The same request tuple as post() builds, so a key posted
                        # one way replays the other way.
                        fingerprint = _fingerprint(
                            ("post", list(postings), memo, metadata, effective_at, rates)
                        )
                        record = w.idempotency(key)
                        if record is not None:
                            results.append(
                                self._replay(record, fingerprint, w, _replay_transaction)
                            )
                            continue
                        refuse_carried(w, key)
                    results.append(
                        self._post_body(
                            w,
                            now,
                            fingerprint,
                            postings,
                            key,
                            memo,
                            metadata,
                            effective_at,
                            rates,
                            False,  # a dry run is rolled back by the store, as a whole
                        )
                    )
                except StoreError:
                    raise  # the store failed, not the request: the batch rolls back
                except GiftLedgerError as exc:
                    remember = (
                        key is not None
                        and fingerprint is not None
                        and not dry_run
                        and is_outcome(exc)  # a StoreError was raised above
                    )
                    if atomic:
                        exc.add_note(
                            f"raised by request {i} of the batch; nothing in the batch was posted"
                        )
                        if remember and key is not None and fingerprint is not None:
                            failed.append((key, fingerprint, exc))
                        raise
                    if remember and key is not None and fingerprint is not None:
                        self._journal_record(
                            w,
                            IdempotencyRecord(
                                key,
                                fingerprint,
                                error_type=type(exc).__name__,
                                error_message=str(exc),
                            ),
                            now,
                        )
                    results.append(exc)
            return results

        try:
            with _collector_paused():
                return self._run(None, None, dry_run, body, batch=True)
        except GiftLedgerError:
            for key, fingerprint, exc in failed:
                self._remember_failure(key, fingerprint, exc)
            raise

    def transfer(
        self,
        debit: str,
        credit: str,
        amount: AmountLike,
        *,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        effective_at: datetime | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """Debit one account and credit another with the same amount.

        Both accounts must hold the same unit; to cross units use :meth:`convert`.

        Args:
            amount: ``Money`` in the accounts' unit, or an int, ``Decimal`` or
                decimal string in its major units (``1`` is one dollar on USD
                accounts, one yen on JPY ones); never rounded, never a float.

        Raises:
            CurrencyMismatch: the accounts hold different units.
            plus everything :meth:`post` raises.
        """
        if key is not None or metadata:
            metadata = refuse_reserved(key, metadata)
        return self._transfer(
            debit,
            credit,
            amount,
            key=key,
            memo=memo,
            metadata=metadata,
            effective_at=effective_at,
            dry_run=dry_run,
        )

    def _transfer(
        self,
        debit: str,
        credit: str,
        amount: AmountLike,
        *,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        effective_at: datetime | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """:meth:`transfer` without the namespace check: for giftledger's chain."""
        _check_name(debit)
        _check_name(credit)
        if debit == credit:
            raise InvalidTransaction(
                f"a transfer needs two different accounts, got {debit!r} twice"
            )
        # The units, for a clearer error than an unbalanced entry.
        a, b = self._records((debit, credit), _one_unit)
        if a is not None and b is not None and a.unit != b.unit:
            raise CurrencyMismatch(units_differ_message(debit, a.unit, credit, b.unit))
        try:
            return self._post(
                [PostingSpec(debit, _DEBIT, amount), PostingSpec(credit, _CREDIT, amount)],
                key=key,
                memo=memo,
                metadata=metadata,
                effective_at=effective_at,
                dry_run=dry_run,
                precheck=check_transfer,
            )
        except TransferUnitsDiffer as exc:
            # The records checked above were the store's knowledge (PostgreSQL's
            # known_account), and the accounts are not what it knew (a database
            # restored behind it): the write found it, and raises what the check
            # above raises on a store that read them (never remembered under a key).
            raise CurrencyMismatch(str(exc)) from None

    def convert(
        self,
        debit: str,
        credit: str,
        amount: AmountLike,
        *,
        rate: RatioLike,
        rounding: Rounding = Rounding.HALF_EVEN,
        via: tuple[str, str] | None = None,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        effective_at: datetime | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """Exchange ``amount`` of ``debit``'s unit for ``credit``'s unit at ``rate``.

        Four postings, two per unit, through the units' trading accounts
        (``trading:<UNIT>`` unless ``via`` names others)::

            debit  <debit>          amount      (unit A)
            credit trading:A        amount      (unit A)
            debit  trading:B        converted   (unit B)
            credit <credit>         converted   (unit B)

        ``converted = amount x rate``, rounded to B's exponent by ``rounding``;
        the rate is stored on the entry. Both legs apply or neither does.

        Args:
            amount: what leaves ``debit``: ``Money`` in A, or a bare number in
                A's major units (as in :meth:`transfer`).
            rate: major units of B per major unit of A, exact (``"0.005"``,
                ``"1/210"``, ``Decimal``, ``Fraction``; never float).

        Raises:
            UnknownAccount: a trading account is missing (open it with
                :meth:`open_trading_account`).
            InvalidArgument: both accounts hold the same unit, the rate is <= 0,
                ``via`` is not a pair of account names, or ``key`` is not a valid
                idempotency key.
            InvalidTransaction: the converted amount rounds to zero.

        Example:
            >>> import giftledger as gl
            >>> _ = gl.register_unit("DIAMOND", 0, singular="diamond")
            >>> book = gl.Ledger()
            >>> _ = book.open_account("bob:diamonds", "DIAMOND", normal="credit")
            >>> _ = book.open_account("bob:cash", "USD", normal="credit")
            >>> _ = book.open_account("mint", "DIAMOND", rule=gl.BalanceRule.unrestricted())
            >>> _ = book.open_trading_account("DIAMOND"), book.open_trading_account("USD")
            >>> _ = book.transfer("mint", "bob:diamonds", 1000)
            >>> tx = book.convert("bob:diamonds", "bob:cash", 1000, rate="0.005")
            >>> book.balance("bob:cash"), str(tx.rates[0])
            (Money('5.00', 'USD'), 'DIAMOND/USD=1/200')
        """
        if key is not None or metadata:
            metadata = refuse_reserved(key, metadata)
        return self._convert(
            debit,
            credit,
            amount,
            rate=rate,
            rounding=rounding,
            via=via,
            key=key,
            memo=memo,
            metadata=metadata,
            effective_at=effective_at,
            dry_run=dry_run,
        )

    def _convert(
        self,
        debit: str,
        credit: str,
        amount: AmountLike,
        *,
        rate: RatioLike,
        rounding: Rounding = Rounding.HALF_EVEN,
        via: tuple[str, str] | None = None,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        effective_at: datetime | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """:meth:`convert` without the namespace check: for giftledger's chain."""
        args = (debit, credit, amount, rate, rounding, via, key, memo, metadata, effective_at)
        if key is not None:
            _check_key(key)  # before a failure is remembered under it
        if key is None or dry_run:
            return self._convert_once(*args, dry_run)
        # Checks made here, before post(), may fail for a reason that later goes away (a
        # trading account not yet open): remember such a failure under the key too, so
        # the same request fails the same way again. The key is looked up only when the
        # convert fails (a remembered failure makes the post's own key check fail too:
        # its record is the convert's, not the post's), so a convert that goes through
        # reads nothing first.
        request = ("convert", debit, credit, amount_key(amount), ratio_key(rate), *args[4:])
        fingerprint = _fingerprint(request)
        try:
            return self._convert_once(*args, dry_run)
        except GiftLedgerError as exc:
            failure = exc
        if not isinstance(failure, StoreError) and failure.replayed_key is None:
            with self.store.read() as r:
                record = r.idempotency(key)
            if record is not None and record.error_type and record.fingerprint == fingerprint:
                raise replayed_failure(record)
        self._remember_failure(key, fingerprint, failure)
        raise failure

    def _convert_once(
        self,
        debit: str,
        credit: str,
        amount: AmountLike,
        rate: RatioLike,
        rounding: Rounding,
        via: tuple[str, str] | None,
        key: str | None,
        memo: str,
        metadata: Mapping[str, MetaValue] | None,
        effective_at: datetime | None,
        dry_run: bool,
    ) -> Transaction:
        if via is not None and (
            not isinstance(via, tuple | list)
            or len(via) != 2
            or not all(isinstance(v, str) for v in via)
        ):
            raise InvalidArgument(f"via {via!r} must be a pair of trading account names")
        fr = to_fraction(rate, "rate")
        if fr <= 0:
            raise InvalidArgument(f"rate {rate!r} must be greater than zero")
        if not isinstance(rounding, Rounding):
            raise InvalidArgument(f"rounding {rounding!r} must be a giftledger.Rounding")
        for name in (debit, credit):  # before any store looks, as transfer() does
            _check_name(name)
        for name in via or ():
            refuse_unstorable(name, "account name")
        a, b = self._records((debit, credit), _two_units)
        for name, account in ((debit, a), (credit, b)):
            if account is None:
                raise UnknownAccount(f"unknown account {name!r}; open it with open_account() first")
        assert a is not None
        assert b is not None
        ua, ub = self._unit(a.unit), self._unit(b.unit)
        if ua.code == ub.code:
            raise InvalidArgument(
                f"{debit!r} and {credit!r} both hold {ua.code}; use transfer() within one unit"
            )
        minor_a = to_minor(amount, ua)
        if minor_a <= 0:
            raise InvalidTransaction(f"conversion amount {amount!r} must be greater than zero")
        minor_b = round_fraction(Fraction(minor_a) * fr * ub.scale / ua.scale, rounding)
        if minor_b > _MAX:
            raise AmountOutOfRange(
                f"converting {from_minor(minor_a, ua).amount} {ua.code} at {fr} gives "
                f"{minor_b} minor units of {ub.code}, more than {_MAX}, the most one amount "
                f"may hold"
            )
        if minor_b <= 0:
            raise InvalidTransaction(
                f"converting {from_minor(minor_a, ua).amount} {ua.code} at {fr} gives "
                f"{from_minor(minor_b, ub).amount} {ub.code} after rounding; nothing to credit"
            )
        ta, tb = via if via is not None else (f"trading:{ua.code}", f"trading:{ub.code}")
        # The trading accounts as the store knows them (PostgreSQL: no round trip);
        # a record it knew from before a restore is checked again as the write locks
        # the accounts (check_convert), and by the server for a write that reads
        # nothing first (schema 5).
        traders = self._records(
            (ta, tb),
            lambda a, b: is_trading_account(a, ua.code) and is_trading_account(b, ub.code),
        )
        for name, code, t in zip((ta, tb), (ua.code, ub.code), traders, strict=True):
            if not is_trading_account(t, code):
                raise UnknownAccount(no_trading_account_message(name, code))
        postings = [
            Posting(debit, _DEBIT, minor_a, ua.code),
            Posting(ta, _CREDIT, minor_a, ua.code),
            Posting(tb, _DEBIT, minor_b, ub.code),
            Posting(credit, _CREDIT, minor_b, ub.code),
        ]
        try:
            return self._post(
                postings,
                key=key,
                memo=memo,
                metadata=metadata,
                effective_at=effective_at,
                rates=(Rate(ua.code, ub.code, fr),),
                dry_run=dry_run,
                precheck=check_convert,
            )
        except NotTradingAccount as exc:
            # The trading accounts' records checked above were the store's stale
            # knowledge: raise what the check raises on a store that read them.
            raise UnknownAccount(str(exc)) from None

    def _records(
        self, names: tuple[str, str], ok: Callable[[Account | None, Account | None], bool]
    ) -> list[Account | None]:
        """The records of two accounts (None: no such account), for a check made before
        a write: those the store keeps of accounts it has read (PostgreSQL,
        ``known_account``: no round trip), the others read; read as they are now too
        when ``ok`` says the check would fail on what the store knew (it may be stale).
        """
        known = getattr(self.store, "known_account", None)
        out: list[Account | None] = [None, None]
        if known is not None:
            out = [known(names[0]), known(names[1])]
            if None not in out and ok(*out):
                return out  # the common case: no query
        with self.store.read() as r:
            known_any = False
            for i, name in enumerate(names):
                if out[i] is None:
                    out[i] = _account(r, name)
                else:
                    known_any = True
            if known_any and not ok(*out):  # an error coming: on the accounts as they are
                out = [_account(r, name) for name in names]
        return out

    # -- reversal ----------------------------------------------------------------------

    def reverse(
        self,
        transaction: int | Transaction,
        *,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        effective_at: datetime | None = None,
        force: bool = False,
        dry_run: bool = False,
    ) -> Transaction:
        """Post the mirror image of a posted transaction, linked both ways; once only.

        Args:
            transaction: the entry (or its id) to reverse.
            force: post the reversal even if it breaks a balance rule (a
                chargeback that must be booked whatever the wallet holds).

        Raises:
            UnknownTransaction: no such entry.
            AlreadyReversed: it was reversed before.
            NotReversible: it is a hold, a void, an expiry or itself a reversal, or
                one of giftledger's chain entries (it carries ``gl.*`` metadata):
                those are undone through the chain (``refund_purchase``,
                ``fail_withdrawal`` …), so the chain's records stay true.
            InsufficientFunds: the reversal would break a balance rule and
                ``force`` is false.
        """
        if key is not None or metadata:
            metadata = refuse_reserved(key, metadata)
        return self._reverse(
            transaction,
            key=key,
            memo=memo,
            metadata=metadata,
            effective_at=effective_at,
            force=force,
            dry_run=dry_run,
            chain_entries=False,
        )

    def _reverse(
        self,
        transaction: int | Transaction,
        *,
        key: str | None = None,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        effective_at: datetime | None = None,
        force: bool = False,
        dry_run: bool = False,
        chain_entries: bool = True,
        guard: Callable[[StoreWriter, Transaction], object] | None = None,
    ) -> Transaction:
        """:meth:`reverse` without the namespace checks: for giftledger's chain, whose
        ``guard`` checks, inside the locked write, that the entry may still be undone."""
        tx_id = transaction.id if isinstance(transaction, Transaction) else transaction
        request = ("reverse", tx_id, memo, metadata, effective_at, force)

        def body(w: StoreWriter, fingerprint: str | None) -> Transaction:
            original = (
                w.transaction(tx_id)
                if isinstance(tx_id, int) and not isinstance(tx_id, bool)
                else None
            )
            if original is None:
                raise UnknownTransaction(f"no transaction with id {tx_id!r}")
            if original.kind not in (EntryKind.POST, EntryKind.POST_HOLD):
                raise NotReversible(
                    f"transaction {tx_id} is a {original.kind.value} entry; only posted "
                    f"transactions can be reversed"
                )
            if not chain_entries and any(k.startswith("gl.") for k, _ in original.metadata):
                raise NotReversible(
                    f"transaction {tx_id} is one of giftledger's chain entries (it carries "
                    f"gl.* metadata); undo it through the chain (refund_purchase, "
                    f"chargeback, fail_withdrawal …) so the chain's records stay true"
                )
            if guard is not None:
                guard(w, original)
            if original.reversed_by is not None:
                raise AlreadyReversed(
                    f"transaction {tx_id} was already reversed by transaction "
                    f"{original.reversed_by}; a transaction can be reversed once"
                )
            mirrored = [
                Posting(p.account, p.side.opposite, p.minor, p.unit) for p in original.postings
            ]
            return self._post_body(
                w,
                None,
                fingerprint,
                mirrored,
                key,
                memo or f"reversal of {tx_id}",
                metadata,
                effective_at,
                original.rates,
                dry_run,
                kind=EntryKind.REVERSAL,
                reverses=tx_id,
                force=force,
            )

        return self._run(key, request, dry_run, body, _replay_transaction)

    # -- notes -------------------------------------------------------------------------

    def note(
        self,
        *,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        key: str | None = None,
        effective_at: datetime | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """Record a fact in the journal that moves nothing: a ``NOTE`` entry.

        A note has no postings and changes no balance; its memo, metadata, key
        and times are under the hash chain like any entry's, so ``verify()``
        vouches for it and a reopened ledger gives it back unchanged. Use it for
        what the books must remember but that is not money: a decision, a
        document reference, a change of terms.

        Args:
            memo: free text (may hold newlines).
            metadata: str keys to str/int/bool/None values; keys starting with
                ``gl.`` are reserved for giftledger's chain.
            key: an idempotency key, as for :meth:`post` (not starting with
                ``gl:``).
            effective_at: when the fact took effect, for the books (default:
                now, the time it is recorded).
            dry_run: check everything and return the entry, recording nothing.

        Returns:
            The ``NOTE`` :class:`~giftledger.Transaction`.

        Raises:
            InvalidArgument: malformed text, metadata, time or key, or a key in
                the chain's namespace.
            DuplicateKeyConflict: ``key`` was used for other content.

        Example:
            >>> import giftledger as gl
            >>> book = gl.Ledger()
            >>> tx = book.note(memo="terms v2 signed", metadata={"doc": "T-2"}, key="terms-2")
            >>> tx.kind, tx.postings, book.verify()
            (<EntryKind.NOTE: 'note'>, (), 1)
        """
        if key is not None or metadata:
            metadata = refuse_reserved(key, metadata)
        return self._note(
            memo=memo, metadata=metadata, key=key, effective_at=effective_at, dry_run=dry_run
        )

    def _note(
        self,
        *,
        memo: str = "",
        metadata: Mapping[str, MetaValue] | None = None,
        key: str | None = None,
        effective_at: datetime | None = None,
        dry_run: bool = False,
    ) -> Transaction:
        """:meth:`note` without the namespace check: for giftledger's chain."""
        request = ("note", memo, metadata, effective_at)

        def body(w: StoreWriter, fingerprint: str | None) -> Transaction:
            return self._note_body(w, None, fingerprint, key, memo, metadata, effective_at, dry_run)

        return self._run(key, request, dry_run, body, _replay_transaction)


def _batch_accounts(
    items: Sequence[TransactionRequest | Sequence[PostingSpec | Posting]],
) -> set[str]:
    """The names of the accounts a batch posts to (what is malformed is left to the checks)."""
    names = set()
    for item in items:
        postings = item.postings if isinstance(item, TransactionRequest) else item
        if isinstance(postings, list | tuple):
            for p in postings:
                if isinstance(p, PostingSpec | Posting) and isinstance(p.account, str):
                    names.add(p.account)
    return names


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for one batch, if it was running.

    A batch keeps alive what its caller built and every record it returns until
    it ends, so young collections find them all alive, promote them and trigger
    full collections that walk the whole heap: 2.4 µs of collection per entry of
    a 1,000-entry batch against 0.7 µs for single posts (``gc.callbacks``,
    benchmarks/README.md). The batch makes no cycles of its own; whatever cycles
    an error's traceback makes are collected after it, when the collector runs
    again. A collector paused by the caller stays paused.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
