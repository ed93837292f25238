"""The quoted write the chain posts through (``Ledger._write_quoted``), on every store:
accounts opened and the entry posted in one write, a dry run that leaves the store
exactly as it was, failures remembered under the key, and the quote run under the
write's locks with the write's (clamped) time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import giftledger as gl
from giftledger._ledger.quoted import Quote

from ..ledger.helpers import only_a_failure_journaled, snapshot
from .conftest import OpenBook

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
D, C = gl.Side.DEBIT, gl.Side.CREDIT
FREE = gl.BalanceRule.unrestricted()
SUPPLY = gl.Account("platform:supply", "COIN", D, FREE)
WALLET = gl.Account("viewers:alice:coins", "COIN", C, metadata=(("gl.viewer", "alice"),))
LOCK = (SUPPLY.name, WALLET.name)


class SteppingClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now_ = now

    def now(self) -> datetime:
        return self.now_


def _buy(coins: int, calls: list[datetime] | None = None) -> Any:
    """A quote that opens the supply and the wallet if missing and issues ``coins``."""

    def quote(w: gl.StoreWriter, now: datetime) -> Quote:
        if calls is not None:
            calls.append(now)
        return Quote(
            gl.EntryKind.POST,
            (gl.Posting(SUPPLY.name, D, coins, "COIN"), gl.Posting(WALLET.name, C, coins, "COIN")),
            memo=f"alice buys {coins} coins",
            metadata={"gl.op": "buy_coins", "gl.coins": coins},
            opens=(SUPPLY, WALLET),
        )

    return quote


def _keys(book: gl.Ledger, *keys: str) -> dict[str, gl.IdempotencyRecord | None]:
    with book.store.read() as r:
        return {k: r.idempotency(k) for k in keys}


def test_a_quote_opens_its_accounts_and_posts_in_one_write(open_book: OpenBook) -> None:
    book = open_book(SteppingClock())
    tx = book._write_quoted("gl:buy:1", ("buy", 70), LOCK, _buy(70))
    assert (tx.id, tx.kind, tx.key) == (3, gl.EntryKind.POST, "gl:buy:1")
    # Entries 1 and 2, in the same write: the definitions of the accounts it opens.
    assert [t.kind for t in book.transactions(1, tx.id)] == [gl.EntryKind.ACCOUNT] * 2
    assert tx.meta == {"gl.op": "buy_coins", "gl.coins": 70}
    assert book.accounts() == (SUPPLY, WALLET)
    assert book.balance(WALLET.name) == gl.from_minor(70, "COIN")
    # The accounts exist now: a second quote opens nothing and posts.
    assert book._write_quoted("gl:buy:2", ("buy", 30), LOCK, _buy(30)).id == tx.id + 1
    assert book.balance(WALLET.name) == gl.from_minor(100, "COIN")
    assert book.verify() == tx.id + 1
    again = open_book(SteppingClock())
    assert list(again.transactions()) == list(book.transactions())
    assert again.accounts() == (SUPPLY, WALLET)


def test_a_key_replays_the_first_entry_without_quoting_again(open_book: OpenBook) -> None:
    book = open_book(SteppingClock())
    calls: list[datetime] = []
    first = book._write_quoted("gl:buy:1", ("buy", 70), LOCK, _buy(70, calls))
    assert book._write_quoted("gl:buy:1", ("buy", 70), LOCK, _buy(70, calls)) == first
    assert len(calls) == 1
    with pytest.raises(gl.DuplicateKeyConflict):
        book._write_quoted("gl:buy:1", ("buy", 71), LOCK, _buy(71, calls))
    assert len(calls) == 1
    assert book.head[0] == first.id


def test_a_dry_run_leaves_the_store_exactly_as_it_was(open_book: OpenBook) -> None:
    book = open_book(SteppingClock())
    before = snapshot(book)
    tx = book._write_quoted("gl:buy:1", ("buy", 70), LOCK, _buy(70), dry_run=True)
    # after the two ACCOUNT entries of the accounts it would open
    assert (tx.id, tx.kind) == (3, gl.EntryKind.POST)
    assert tx.prev_hash != before["head"][1] == "0" * 64
    assert snapshot(book) == before
    assert book.accounts() == ()
    assert _keys(book, "gl:buy:1") == {"gl:buy:1": None}
    # and the real write after it is the entry the dry run showed
    real = book._write_quoted("gl:buy:1", ("buy", 70), LOCK, _buy(70))
    assert real == tx
    # A dry run on a ledger with entries leaves head, accounts and keys alone too.
    before = snapshot(book)
    book._write_quoted("gl:buy:2", ("buy", 5), LOCK, _buy(5), dry_run=True)
    assert snapshot(book) == before
    assert _keys(book, "gl:buy:2") == {"gl:buy:2": None}


def test_a_refused_quote_fails_the_same_way_again_under_its_key(open_book: OpenBook) -> None:
    book = open_book(SteppingClock())
    eligible = False

    def quote(w: gl.StoreWriter, now: datetime) -> Quote:
        if not eligible:
            raise gl.NotEligible("alice is 12; the rules require 18 to buy coins")
        return _buy(70)(w, now)  # type: ignore[no-any-return]

    with pytest.raises(gl.NotEligible) as first:
        book._write_quoted("order-1", ("buy", 70), LOCK, quote)
    assert first.value.replayed_key is None
    eligible = True  # the request would pass now, but its key already has an outcome
    with pytest.raises(gl.NotEligible, match="require 18") as again:
        book._write_quoted("order-1", ("buy", 70), LOCK, quote)
    assert again.value.replayed_key == "order-1"
    # Nothing written but the failure's record under its key, once.
    (journaled,) = book.transactions()
    assert (journaled.kind, journaled.meta["gl.key"]) == (gl.EntryKind.KEY, "order-1")
    assert book.accounts() == ()
    # Another process reopening the book sees the same remembered failure.
    with pytest.raises(gl.NotEligible):
        open_book(SteppingClock())._write_quoted("order-1", ("buy", 70), LOCK, quote)
    # A dry run's failure is not remembered.
    eligible = False
    with pytest.raises(gl.NotEligible):
        book._write_quoted("order-2", ("buy", 70), LOCK, quote, dry_run=True)
    eligible = True
    # After order-1's KEY entry and the two accounts' definitions.
    assert book._write_quoted("order-2", ("buy", 70), LOCK, quote).id == 4


def test_a_failure_after_opening_leaves_no_account(open_book: OpenBook) -> None:
    book = open_book(SteppingClock())

    def overspend(w: gl.StoreWriter, now: datetime) -> Quote:
        return Quote(
            gl.EntryKind.POST,
            (gl.Posting(WALLET.name, D, 5, "COIN"), gl.Posting(SUPPLY.name, C, 5, "COIN")),
            opens=(SUPPLY, WALLET),
        )

    before = snapshot(book)
    with pytest.raises(gl.InsufficientFunds):
        book._write_quoted("gl:spend:1", ("spend", 5), LOCK, overspend)
    assert only_a_failure_journaled(before, snapshot(book), "gl:spend:1")
    assert book.accounts() == ()
    with pytest.raises(gl.InsufficientFunds, match="replayed"):
        book._write_quoted("gl:spend:1", ("spend", 5), LOCK, overspend)


def test_the_quote_gets_the_clamped_time_and_reads_under_the_lock(open_book: OpenBook) -> None:
    clock = SteppingClock()
    book = open_book(clock)
    seen: list[tuple[datetime, int, int | None]] = []

    def quote(w: gl.StoreWriter, now: datetime) -> Quote:
        st = w.account_state(WALLET.name)
        seen.append((now, w.head()[0], None if st is None else st.net))
        return _buy(10)(w, now)  # type: ignore[no-any-return]

    book._write_quoted(None, None, LOCK, quote)
    clock.now_ = T0 - timedelta(minutes=1)  # the clock steps back
    tx = book._write_quoted(None, None, LOCK, quote)
    assert seen == [(T0, 0, None), (T0, 3, -10)]  # 2 ACCOUNT entries, then the post
    assert tx.recorded_at == T0


def test_a_hold_quote_places_a_hold(open_book: OpenBook) -> None:
    book = open_book(SteppingClock())
    book._write_quoted(None, None, LOCK, _buy(100))
    cash = gl.Account("liabilities:in-flight", "COIN", C)
    lock = (WALLET.name, cash.name)

    def quote(w: gl.StoreWriter, now: datetime) -> Quote:
        return Quote(
            gl.EntryKind.HOLD,
            # credit first: the order of the two postings does not matter
            (gl.Posting(cash.name, C, 40, "COIN"), gl.Posting(WALLET.name, D, 40, "COIN")),
            memo="withdrawal",
            metadata={"gl.op": "withdraw"},
            opens=(cash,),
            expires_at=now + timedelta(days=3),
        )

    tx = book._write_quoted("gl:wd:1", ("wd", 40), lock, quote)
    assert tx.kind is gl.EntryKind.HOLD
    hold = book.get_hold(tx.id)
    assert (hold.debit, hold.credit, hold.minor) == (WALLET.name, cash.name, 40)
    assert hold.expires_at == T0 + timedelta(days=3)
    assert book.available(WALLET.name) == gl.from_minor(60, "COIN")
    assert book.balance(WALLET.name) == gl.from_minor(100, "COIN")
    assert book.verify() == tx.id == 5  # 2 accounts, the post, 1 account, the hold


def test_a_note_quote_may_open_accounts(open_book: OpenBook) -> None:
    book = open_book(SteppingClock())

    def quote(w: gl.StoreWriter, now: datetime) -> Quote:
        return Quote(
            gl.EntryKind.NOTE,
            memo="viewer alice opened",
            metadata={"gl.party": "viewer:alice"},
            opens=(WALLET,),
        )

    tx = book._write_quoted("gl:party:viewer:alice:0", ("party", "alice"), [WALLET.name], quote)
    assert (tx.kind, tx.postings) == (gl.EntryKind.NOTE, ())
    assert book.accounts() == (WALLET,)
    assert book.verify() == tx.id == 2  # the wallet's definition, then the note


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (Quote(gl.EntryKind.REVERSAL), gl.InvalidArgument, "POST, a HOLD or a NOTE"),
        (
            Quote(gl.EntryKind.NOTE, (gl.Posting(SUPPLY.name, D, 1, "COIN"),)),
            gl.InvalidArgument,
            "no postings",
        ),
        (
            Quote(
                gl.EntryKind.POST,
                (gl.Posting(SUPPLY.name, D, 1, "COIN"), gl.Posting("elsewhere", C, 1, "COIN")),
                opens=(SUPPLY,),
            ),
            gl.UnknownAccount,
            "'elsewhere'",
        ),
        (
            Quote(
                gl.EntryKind.HOLD,
                (gl.Posting(SUPPLY.name, D, 1, "COIN"), gl.Posting(WALLET.name, C, 1, "COIN")),
                opens=(WALLET,),
                effective_at=T0,
            ),
            gl.InvalidArgument,
            "no effective time",
        ),
        (
            Quote(gl.EntryKind.NOTE, opens=(gl.Account("bad\u2028name", "COIN"),)),
            gl.InvalidArgument,
            "U\\+2028",
        ),
        (
            Quote(gl.EntryKind.NOTE, opens=(gl.Account(SUPPLY.name, "USD"),)),
            gl.AccountExists,
            "already open",
        ),
        (
            Quote(
                gl.EntryKind.HOLD,
                (gl.Posting(SUPPLY.name, D, 1, "COIN"), gl.Posting(WALLET.name, D, 1, "COIN")),
                opens=(WALLET,),
            ),
            gl.InvalidTransaction,
            "one debit and one credit",
        ),
    ],
)
def test_a_malformed_quote_writes_nothing(
    open_book: OpenBook, bad: Quote, error: type[Exception], match: str
) -> None:
    book = open_book(SteppingClock())
    book.open_account(SUPPLY.name, "COIN", rule=FREE)
    before = snapshot(book)
    with pytest.raises(error, match=match):
        book._write_quoted(None, None, LOCK, lambda w, now: bad)
    assert snapshot(book) == before


def test_a_quote_may_open_and_post_to_accounts_it_did_not_lock(open_book: OpenBook) -> None:
    # Locked when reached (on PostgreSQL after the head: allowed, though outside the one
    # lock order), and opened and posted in the same write.
    book = open_book(SteppingClock())
    fees = gl.Account("expenses:fees", "COIN", D, FREE)

    def quote(w: gl.StoreWriter, now: datetime) -> Quote:
        return Quote(
            gl.EntryKind.POST,
            (gl.Posting(fees.name, D, 3, "COIN"), gl.Posting(WALLET.name, C, 3, "COIN")),
            opens=(WALLET, fees),
            effective_at=T0 - timedelta(days=1),
        )

    tx = book._write_quoted(None, None, [WALLET.name], quote)
    assert tx.effective_at == T0 - timedelta(days=1)
    assert tx.recorded_at == T0
    assert book.accounts() == (fees, WALLET)
    assert book.verify() == tx.id == 3  # the two accounts' definitions, then the entry
    note = book._write_quoted(
        None,
        None,
        (),
        lambda w, now: Quote(gl.EntryKind.NOTE, memo="dated", effective_at=T0 - timedelta(days=2)),
    )
    assert (note.effective_at, note.recorded_at) == (T0 - timedelta(days=2), T0)


def test_aliases_find_the_entry_and_only_a_written_one(open_book: OpenBook) -> None:
    book = open_book(SteppingClock())
    short = True

    def quote(w: gl.StoreWriter, now: datetime) -> Quote:
        if short:
            raise gl.InsufficientFunds("the wallet is briefly short")
        return Quote(
            gl.EntryKind.NOTE, memo="party", opens=(WALLET,), aliases=("gl:party:alice:0",)
        )

    # A failed attempt is not remembered under the alias (nor is a dry run), so it
    # cannot block a later, valid one.
    with pytest.raises(gl.InsufficientFunds):
        book._write_quoted(None, ("party", 0), [WALLET.name], quote)
    short = False
    book._write_quoted(None, ("party", 0), [WALLET.name], quote, dry_run=True)
    assert _keys(book, "gl:party:alice:0") == {"gl:party:alice:0": None}
    tx = book._write_quoted(None, ("party", 0), [WALLET.name], quote)
    assert book.find("gl:party:alice:0") == tx
    # Taken now: the same alias again is a conflict, checked under the lock.
    before = snapshot(book)
    with pytest.raises(gl.DuplicateKeyConflict, match="'gl:party:alice:0' is already taken"):
        book._write_quoted(None, ("party", 0), [WALLET.name], quote)
    assert snapshot(book) == before
    # With a key of its own, the entry is found by both.
    other = Quote(gl.EntryKind.NOTE, memo="again", aliases=("gl:party:alice:1", "k"))
    tx2 = book._write_quoted("k", ("party", 1), (), lambda w, now: other)
    assert book.find("k") == book.find("gl:party:alice:1") == tx2
    assert book._write_quoted("k", ("party", 1), (), lambda w, now: other) == tx2
    # The alias that no entry carries under its own key is a KEY entry after it.
    alias = book.transaction(tx2.id + 1)
    assert (alias.kind, alias.meta["gl.key"]) == (gl.EntryKind.KEY, "gl:party:alice:1")
    assert book.verify() == tx2.id + 1
