"""The memory store keeps long journals as plain rows in sealed chunks.

What matters to a user: every entry, history page and past balance reads back
the same across chunk boundaries; a failed batch takes back entries across a
boundary; and a long book does not make the cycle collector's work grow.
"""

from __future__ import annotations

import gc
import random
from datetime import datetime, timedelta
from fractions import Fraction

import pytest

import giftledger as gl
from giftledger._stores.memory import _CHUNK

ENTRIES = 3 * _CHUNK + 5  # spans several sealed chunks and an open tail
OPENED = 4  # the ACCOUNT entries of the book fixture's accounts


@pytest.fixture
def book(clock: gl.ManualClock) -> gl.Ledger:
    gl.register_unit("COIN", 0, singular="coin")
    book = gl.Ledger(clock=clock)
    book.open_account("assets:bank", "USD")
    book.open_account("income:sales", "USD", normal="credit")
    book.open_account("assets:coins", "COIN")
    book.open_account("income:coins", "COIN", normal="credit")
    assert book.head[0] == OPENED
    return book


def _post(
    book: gl.Ledger, clock: gl.ManualClock, count: int, start: int = 0
) -> list[gl.Transaction]:
    posted = []
    for i in range(start, start + count):
        clock.advance(timedelta(seconds=1))
        posted.append(
            book.post(
                [gl.debit("assets:bank", i + 1), gl.credit("income:sales", i + 1)],
                memo=f"sale {i}",
                metadata={"n": i, "odd": i % 2 == 1},
                key=f"sale-{i}" if i % 3 == 0 else None,
            )
        )
    return posted


def test_every_entry_reads_back_equal_across_chunks(book: gl.Ledger, clock: gl.ManualClock) -> None:
    posted = _post(book, clock, ENTRIES)
    assert [book.transaction(tx.id) for tx in posted] == posted
    opened = list(book.transactions(1, OPENED + 1))
    assert [tx.kind for tx in opened] == [gl.EntryKind.ACCOUNT] * OPENED
    assert list(book.transactions()) == [*opened, *posted]
    assert book.find("sale-0") == posted[0]
    assert book.verify() == OPENED + ENTRIES


def test_history_pages_and_past_balances_cross_chunk_boundaries(
    book: gl.Ledger, clock: gl.ManualClock
) -> None:
    posted = _post(book, clock, ENTRIES)
    seen, cursor = [], None
    while True:
        page = book.history("income:sales", after=cursor, limit=_CHUNK - 1)
        seen += [entry.transaction.id for entry in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [tx.id for tx in posted]
    middle = posted[_CHUNK + 7]
    expected = sum(range(1, _CHUNK + 9))  # amounts 1 .. _CHUNK + 8 posted by then
    assert book.balance("income:sales", at=middle.effective_at).amount == expected
    assert book.balance("income:sales", recorded_through=middle.id).amount == expected


def test_a_failed_batch_takes_back_entries_across_a_chunk_boundary(
    book: gl.Ledger, clock: gl.ManualClock
) -> None:
    _post(book, clock, _CHUNK - 3 - OPENED)  # the batch below seals a chunk, then fails
    before = (book.head, book.balance("income:sales"), book.trial_balance())
    requests: list[list[gl.PostingSpec]] = [
        [gl.debit("assets:bank", 1), gl.credit("income:sales", 1)] for _ in range(10)
    ]
    requests.append([gl.debit("assets:bank", 1), gl.credit("nowhere", 1)])
    with pytest.raises(gl.UnknownAccount):
        book.post_many(requests)
    assert (book.head, book.balance("income:sales"), book.trial_balance()) == before
    _post(book, clock, 20, start=_CHUNK)
    assert book.verify() == _CHUNK - 3 + 20


def test_conversion_rates_read_back_exactly(book: gl.Ledger) -> None:
    book.open_trading_account("USD")
    book.open_trading_account("COIN")
    tx = book.convert(
        "assets:bank", "income:coins", "1.00", rate=Fraction(7, 3), rounding=gl.Rounding.DOWN
    )
    assert book.transaction(tx.id).rates == tx.rates
    assert book.transaction(tx.id) == tx


def test_a_long_journal_adds_no_objects_for_the_cycle_collector(
    book: gl.Ledger, clock: gl.ManualClock
) -> None:
    _post(book, clock, 50)
    gc.collect()
    tracked_before = len(gc.get_objects())
    _post(book, clock, 4 * _CHUNK, start=50)
    gc.collect()
    gc.collect()
    grown = len(gc.get_objects()) - tracked_before
    # Kept as records, each entry would leave a Transaction, its postings tuple
    # and its Posting objects tracked: over a thousand objects here.
    assert grown < _CHUNK, f"{grown} more objects tracked after {4 * _CHUNK} entries"


def _naive_net(book: gl.Ledger, name: str, at: datetime | None, through: int | None) -> int:
    net = 0
    for tx in book.transactions():
        if tx.kind not in (gl.EntryKind.POST, gl.EntryKind.POST_HOLD, gl.EntryKind.REVERSAL):
            continue
        if (through is not None and tx.id > through) or (at is not None and tx.effective_at > at):
            continue
        net += sum(p.signed for p in tx.postings if p.account == name)
    return net


@pytest.mark.parametrize("seed", range(3))
def test_past_balances_match_a_full_recount_with_back_dated_entries(
    book: gl.Ledger, clock: gl.ManualClock, seed: int
) -> None:
    rng = random.Random(seed)
    start = clock.now()
    accounts = ["assets:bank", "assets:cash", "assets:card"]
    for name in accounts[1:]:
        book.open_account(name, "USD", rule=gl.BalanceRule.unrestricted())
    first = book.head[0] + 1  # after the accounts' definitions
    for i in range(2 * _CHUNK + 9):
        clock.advance(timedelta(minutes=1))
        debit = rng.choice(accounts)
        # Back-date or post-date now and then, but never the bank: one account stays
        # in time order.
        shift = rng.random() if debit != "assets:bank" else 1.0
        when = None
        if shift < 0.1:
            when = clock.now() - timedelta(minutes=rng.randrange(1, i + 2))
        elif shift < 0.15:
            when = clock.now() + timedelta(minutes=rng.randrange(1, 30))
        amount = rng.randrange(1, 500)
        book.post([gl.debit(debit, amount), gl.credit("income:sales", amount)], effective_at=when)
    book.reverse(first + 4)  # a reversal is posted too, and part of the history
    last = book.head[0]
    for _ in range(60):
        name = rng.choice([*accounts, "income:sales"])
        at = rng.choice([None, start + timedelta(minutes=rng.randrange(0, 2 * _CHUNK + 20))])
        through = rng.choice([None, rng.randrange(0, last + 2)])
        got = book.balance(name, at=at, recorded_through=through)
        expected = _naive_net(book, name, at, through)
        sign = 1 if book.account(name).normal is gl.Side.DEBIT else -1
        assert got == gl.from_minor(sign * expected, "USD"), (name, at, through)


def test_an_entry_dated_later_elsewhere_keeps_other_accounts_on_the_binary_search(
    book: gl.Ledger, clock: gl.ManualClock
) -> None:
    store = book.store
    assert isinstance(store, gl.MemoryStore)
    book.open_account("assets:cash", "USD")
    book.open_account("income:other", "USD", normal="credit")
    _post(book, clock, 10)
    tomorrow = clock.now() + timedelta(days=1)
    request = gl.TransactionRequest(
        [gl.debit("assets:bank", 1), gl.credit("income:sales", 1)], effective_at=tomorrow
    )
    book.post_many([request], dry_run=True)  # rolled back, but it was appended first
    book.transfer("assets:cash", "income:other", 1, effective_at=tomorrow)
    _post(book, clock, 10, start=10)  # before tomorrow, but after each account's own last
    assert not store._backdated  # so past balances stay a binary search
    an_hour_ago = clock.now() - timedelta(hours=1)
    book.transfer("income:sales", "assets:bank", 1, effective_at=an_hour_ago)
    assert store._backdated == {"income:sales", "assets:bank"}
    for name in ("income:sales", "assets:bank", "assets:cash", "income:other"):
        for at in (an_hour_ago, clock.now(), tomorrow):
            sign = 1 if book.account(name).normal is gl.Side.DEBIT else -1
            expected = gl.from_minor(sign * _naive_net(book, name, at, None), "USD")
            assert book.balance(name, at=at) == expected, (name, at)


def test_a_batch_pauses_the_cycle_collector_and_restores_it(book: gl.Ledger) -> None:
    """post_many runs without the cycle collector and leaves it as it found it: on,
    off (the caller's choice is kept) or after a batch that failed."""
    seen: list[bool] = []

    class Spy:  # a "posting list" that records whether the collector runs while read
        def __iter__(self):  # type: ignore[no-untyped-def]
            seen.append(gc.isenabled())
            return iter([gl.debit("assets:bank", 1), gl.credit("income:sales", 1)])

        def __len__(self) -> int:
            return 2

    assert gc.isenabled()
    book.post_many([Spy()])  # type: ignore[list-item]
    assert seen == [False]
    assert gc.isenabled()
    with pytest.raises(gl.InsufficientFunds):
        book.post_many([[gl.debit("income:sales", 10**6), gl.credit("assets:bank", 10**6)]])
    assert gc.isenabled()
    gc.disable()
    try:
        book.post_many([[gl.debit("assets:bank", 1), gl.credit("income:sales", 1)]])
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert str(book.balance("income:sales").amount) == "2.00"
