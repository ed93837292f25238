"""Queries: balances, history, single entries, the journal's head and its trial balance.

:class:`QueriesMixin` gives :class:`~giftledger.Ledger` its read methods; none
of them writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from moneyed import Money

from .._boundary import boundary_methods
from .._errors import InvalidArgument, UnknownAccount, UnknownTransaction
from .._money.amounts import from_minor
from .clock import require_aware
from .idempotency import _check_key
from .model import Account, AccountBalance, HistoryEntry, Page, Side, Transaction, TrialBalance
from .store import AccountState, StoreReader
from .text import refuse_unstorable
from .writes import WriteCore

__all__ = ["QueriesMixin", "_check_name"]

_DEBIT = Side.DEBIT
# Entries read per turn of the store's read lock by Ledger.transactions(): the lock is
# released between chunks, so a caller iterating slowly never holds up the writers.
_CHUNK = 1000
# No store's entry ids go past a signed 64-bit integer: a larger bound means "all of them".
_MAX_ID = (1 << 63) - 1


@boundary_methods
class QueriesMixin(WriteCore):
    """The read methods of :class:`~giftledger.Ledger`."""

    def _state(self, r: StoreReader, name: str) -> AccountState:
        # Before the store looks: PostgreSQL cannot even send a NUL, SQLite a lone
        # surrogate, and each store must answer such a name alike.
        refuse_unstorable(name, "account name")
        st = r.account_state(name)
        if st is None:
            raise UnknownAccount(f"unknown account {name!r}")
        return st

    @staticmethod
    def _normal(account: Account, net: int) -> int:
        return net if account.normal is _DEBIT else -net

    def balance(
        self,
        name: str,
        *,
        at: datetime | None = None,
        recorded_through: int | None = None,
    ) -> Money:
        """The posted balance of an account, on its normal side.

        Args:
            at: count only postings effective at or before this time.
            recorded_through: count only entries with id up to this one: the
                balance as it was recorded at that point of the journal, so a
                later back-dated entry does not change it.

        Example:
            >>> import giftledger as gl
            >>> book = gl.Ledger()
            >>> _ = book.open_account("a", "USD"), book.open_account("b", "USD", normal="credit")
            >>> t1 = book.transfer("a", "b", 5)
            >>> t2 = book.transfer("a", "b", 7)
            >>> book.balance("a"), book.balance("a", recorded_through=t1.id)
            (Money('12.00', 'USD'), Money('5.00', 'USD'))
        """
        if type(name) is not str:  # one cheap check on the hot path; see _check_name
            _check_name(name)
        when = None
        if at is not None or recorded_through is not None:
            when = _check_cut(at, recorded_through)
        with self.store.read() as r:
            st = self._state(r, name)
            if when is None and recorded_through is None:
                net = st.net
            else:
                through = None if recorded_through is None else min(recorded_through, _MAX_ID)
                net = r.net_at(name, when, through)
        return from_minor(self._normal(st.account, net), st.account.unit)

    def account_balance(
        self,
        name: str,
        *,
        at: datetime | None = None,
        recorded_through: int | None = None,
    ) -> AccountBalance:
        """Posted, pending and available balances of an account, on its normal side.

        Without arguments, as of now (by the ledger's clock). With ``at`` or
        ``recorded_through``, as of that time or journal point, as :meth:`balance`
        counts postings: a hold counts as pending if the entry that placed it is
        within the cut, the entry that posted, voided or expired it is not, and
        its expiry lies after ``at`` (or, with ``recorded_through`` alone, after
        the time that entry was recorded).

        Example:
            >>> import giftledger as gl
            >>> book = gl.Ledger()
            >>> _ = book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
            >>> _ = book.open_account("wallet", "USD", normal="credit")
            >>> _ = book.open_account("shop", "USD", normal="credit")
            >>> funded = book.transfer("mint", "wallet", 10)
            >>> hold = book.hold("wallet", "shop", 4)
            >>> _ = book.void_hold(hold)
            >>> book.available("wallet"), book.available("wallet", recorded_through=hold.id)
            (Money('10.00', 'USD'), Money('6.00', 'USD'))
        """
        _check_name(name)
        when = _check_cut(at, recorded_through)
        if when is None and recorded_through is None:
            now = self.clock.now()
            with self.store.read() as r:
                st = self._state(r, name)
                net = st.net
                pd, pc = self._live_pending(r, st, now)
        else:
            with self.store.read() as r:
                st = self._state(r, name)
                head = r.head()[0]
                through = None if recorded_through is None else min(recorded_through, head)
                net = r.net_at(name, when, through)
                pd, pc = _pending_at(r, name, when, through)
        a = st.account
        posted = self._normal(a, net)
        available = posted - (pc if a.normal is _DEBIT else pd)
        return AccountBalance(
            name,
            from_minor(posted, a.unit),
            from_minor(pd, a.unit),
            from_minor(pc, a.unit),
            from_minor(available, a.unit),
        )

    def available(
        self,
        name: str,
        *,
        at: datetime | None = None,
        recorded_through: int | None = None,
    ) -> Money:
        """The available balance: posted less what pending holds would take out.

        ``at`` and ``recorded_through`` as in :meth:`account_balance`.
        """
        return self.account_balance(name, at=at, recorded_through=recorded_through).available

    def balances(self, prefix: str = "") -> dict[str, Money]:
        """Posted balances of every account whose name starts with ``prefix``."""
        _check_prefix(prefix)
        with self.store.read() as r:
            states = r.account_states(prefix)
        return {
            st.account.name: from_minor(self._normal(st.account, st.net), st.account.unit)
            for st in states
        }

    def history(self, name: str, *, after: int | None = None, limit: int = 100) -> Page:
        """Posted postings of an account, oldest first, a page at a time.

        Args:
            after: the ``next_cursor`` of the previous page (an entry id).
            limit: entries per page, 1 to 10,000.
        """
        _check_name(name)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise InvalidArgument(f"limit {limit!r} must be an int from 1 to 10000")
        if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
            raise InvalidArgument(f"after {after!r} must be None or a page's next_cursor (an int)")
        if after is not None:
            after = min(after, _MAX_ID)
        with self.store.read() as r:
            st = self._state(r, name)
            rows = r.history(name, after, limit + 1)
            more = len(rows) > limit
            page = rows[:limit]
            if more and rows[limit].transaction_id == page[-1].transaction_id:
                # The cursor is an entry id, so a page must not end inside an entry that
                # posts to this account more than once: end before it, or, if that entry
                # alone overflows the page, take all of its postings.
                split_id = page[-1].transaction_id
                kept = [row for row in page if row.transaction_id != split_id]
                if kept:
                    page = kept
                else:
                    page = [
                        row
                        for row in r.history(name, after, 1_000_000)
                        if row.transaction_id == split_id
                    ]
                    more = bool(r.history(name, split_id, 1))
            txs = {row.transaction_id: r.transaction(row.transaction_id) for row in page}
        items = []
        for row in page:
            tx = txs[row.transaction_id]
            assert tx is not None
            items.append(
                HistoryEntry(
                    tx,
                    row.posting,
                    from_minor(self._normal(st.account, row.net_after), st.account.unit),
                )
            )
        return Page(tuple(items), page[-1].transaction_id if more else None)

    def transaction(self, transaction_id: int) -> Transaction:
        """The entry with this id.

        Raises:
            UnknownTransaction: no such entry.
        """
        tx = None
        if isinstance(transaction_id, int) and not isinstance(transaction_id, bool):
            with self.store.read() as r:
                tx = r.transaction(transaction_id)
        if tx is None:
            raise UnknownTransaction(f"no transaction with id {transaction_id!r}")
        return tx

    def transactions(self, start: int = 1, stop: int | None = None) -> Iterator[Transaction]:
        """Entries with ``start <= id < stop`` (to the end when ``stop`` is None), in order.

        The journal is read a chunk at a time and the store is not locked while
        the caller holds an entry, so writers in other threads go on meanwhile.
        Without ``stop`` the end is the head when iteration begins: entries
        appended after that, by any thread or by the loop itself, are not
        included; none is repeated or skipped.

        Raises:
            InvalidArgument: ``start`` or ``stop`` is not an int (an entry id).
        """
        _check_entry_id(start, "start")
        if stop is not None:
            _check_entry_id(stop, "stop")
        return self._chunks(max(start, 1), stop)

    def _chunks(self, lo: int, stop: int | None) -> Iterator[Transaction]:
        while stop is None or lo < stop:
            with self.store.read() as r:
                if stop is None:  # the end is the head when iteration begins
                    stop = r.head()[0] + 1
                hi = min(stop, lo + _CHUNK)
                chunk = list(r.transactions(lo, hi)) if lo < hi else []
            yield from chunk
            if len(chunk) < hi - lo:
                return  # ids have no gaps: a short chunk ended at the head
            lo = hi

    def find(self, key: str) -> Transaction | None:
        """The entry created under idempotency key ``key``, if any.

        Raises:
            InvalidArgument: ``key`` is not a key any write could have used.
        """
        _check_key(key)
        with self.store.read() as r:
            record = r.idempotency(key)
            if record is None or record.transaction_id is None:
                return None
            return r.transaction(record.transaction_id)

    @property
    def head(self) -> tuple[int, str]:
        """The id and hash of the last entry: ``(0, "000…")`` for an empty ledger."""
        with self.store.read() as r:
            return r.head()

    def trial_balance(self) -> TrialBalance:
        """Posted debit and credit totals per unit; balanced when each pair is equal."""
        with self.store.read() as r:
            debits, credits = r.totals()
        return TrialBalance(debits, credits)


def _pending_at(
    r: StoreReader, name: str, when: datetime | None, through: int | None
) -> tuple[int, int]:
    """Pending debit and credit totals of ``name`` as of ``when`` and journal point ``through``.

    ``through`` is None or at most the head. Reads every hold the account ever had,
    with the entries that placed and resolved them: a past view, not a hot path.
    """
    if through is not None and through < 1:
        return 0, 0

    def within(entry_id: int) -> bool:
        if through is not None and entry_id > through:
            return False
        if when is None:
            return True
        entry = r.transaction(entry_id)
        return entry is not None and entry.effective_at <= when

    horizon = when
    if horizon is None and through is not None:
        last = r.transaction(through)
        horizon = None if last is None else last.recorded_at
    pd = pc = 0
    for h in r.holds(name, pending_only=False):
        if not within(h.id) or (h.resolved_by is not None and within(h.resolved_by)):
            continue
        if h.expires_at is not None and horizon is not None and h.expires_at <= horizon:
            continue
        if h.debit == name:
            pd += h.minor
        if h.credit == name:
            pc += h.minor
    return pd, pc


def _check_name(name: object) -> None:
    """Refuse an account name that is not a string (UnknownAccount: no account could
    have it) or that no store can hold (InvalidArgument, alike on every store)."""
    if not isinstance(name, str):
        raise UnknownAccount(f"unknown account {name!r}: an account name is a string")
    refuse_unstorable(name, "account name")


def _check_cut(at: object, recorded_through: object) -> datetime | None:
    """Check a past cut's ``at`` and ``recorded_through``; return ``at`` as an aware time."""
    when = None if at is None else require_aware(at, "at")
    if recorded_through is not None:
        _check_entry_id(recorded_through, "recorded_through", 0)
    return when


def _check_entry_id(value: object, what: str, minimum: int | None = None) -> None:
    """Refuse an entry id that is not an int (a bool is not one) or is below ``minimum``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (minimum is not None and value < minimum)
    ):
        floor = "" if minimum is None else f" >= {minimum}"
        raise InvalidArgument(f"{what} {value!r} must be an int{floor} (an entry id)")


def _check_prefix(prefix: object) -> None:
    if not isinstance(prefix, str):
        raise InvalidArgument(f'prefix {prefix!r} must be a string ("" for every account)')
    refuse_unstorable(prefix, "prefix")  # no account's name holds it, on any store
