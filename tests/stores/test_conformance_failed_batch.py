"""A post_many batch that fails at request k leaves the store exactly as it was: the
journal, each account's history and past balances, pending holds and their expiries,
the idempotency keys and the trial balance; and the next write gets the id and hash
a ledger that never saw the batch gives it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

import giftledger as gl

from .conftest import OpenBook

ACCOUNTS = ("mint", "a", "b", "c")


def _world(book: gl.Ledger, clock: gl.ManualClock) -> gl.Ledger:
    book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
    for name in ACCOUNTS[1:]:
        book.open_account(name, "USD")
    book.transfer("a", "mint", 50, key="fund-a")
    clock.advance(timedelta(minutes=1))
    book.transfer("b", "mint", 30, effective_at=clock.now() - timedelta(hours=2))
    book.hold("mint", "a", 5, timeout=timedelta(hours=1), key="hold-1")
    book.hold("mint", "b", 3, timeout=timedelta(minutes=5))
    settled = book.hold("mint", "a", 4)
    book.post_hold(settled, 2)
    clock.advance(timedelta(minutes=1))
    return book


def _snapshot(
    book: gl.Ledger, keys: tuple[str, ...] = ("fund-a", "hold-1", "k1", "k2", "k3")
) -> object:
    cuts = {
        tx.effective_at + timedelta(microseconds=d) for tx in book.transactions() for d in (-1, 0)
    }
    times = [None, *sorted(cuts)]
    head = book.head[0]
    with book.store.read() as r:
        remembered = {k: r.idempotency(k) for k in keys}
        states = r.account_states("")
        history = {n: r.history(n, None, 1000) for n in ACCOUNTS}
    return (
        book.head,
        list(book.transactions()),
        states,
        history,
        remembered,
        book.holds(pending_only=False),
        book.holds("a"),
        book.trial_balance(),
        {
            (n, at, through): book.balance(n, at=at, recorded_through=through)
            for n in ACCOUNTS
            for at in times
            for through in (None, *range(head + 1))
        },
    )


def _batch(clock: gl.ManualClock) -> list[gl.TransactionRequest]:
    earlier = clock.now() - timedelta(hours=5)
    return [
        gl.TransactionRequest([gl.debit("c", 7), gl.credit("mint", 7)], key="k1"),
        gl.TransactionRequest([gl.debit("c", 10), gl.credit("a", 10)], effective_at=earlier),
        gl.TransactionRequest(
            [gl.debit("b", 3), gl.credit("a", 1), gl.credit("c", 2)],
            key="k2",
            effective_at=clock.now() + timedelta(days=1),
        ),
        gl.TransactionRequest([gl.debit("c", 7), gl.credit("mint", 7)], key="k1"),  # replay
        gl.TransactionRequest([gl.debit("mint", 999), gl.credit("c", 999)], key="bad"),
        gl.TransactionRequest([gl.debit("a", 1), gl.credit("mint", 1)], key="k3"),
    ]


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_batch_failing_at_request_k_changes_nothing(
    open_book: OpenBook, clock: gl.ManualClock, dry_run: bool
) -> None:
    twin_clock = gl.ManualClock(clock.now())
    twin = _world(gl.Ledger(clock=twin_clock), twin_clock)
    with _world(open_book(clock), clock) as book:
        before = _snapshot(book)
        assert before == _snapshot(twin)
        with pytest.raises(gl.InsufficientFunds, match="'c'") as raised:
            book.post_many(_batch(clock), dry_run=dry_run)
        assert "request 4 of the batch" in raised.value.__notes__[-1]
        # An atomic batch's failing key is remembered as failed, as post() would, in
        # one KEY entry that moves nothing; nothing else is new, and nothing at all
        # after a dry run.
        after = _snapshot(book)
        with book.store.read() as r:
            record = r.idempotency("bad")
        if dry_run:
            assert after == before
            assert record is None
        else:
            assert record is not None
            assert record.error_type == "InsufficientFunds"
            assert book.head[0] == before[0][0] + 1
            (journaled,) = list(book.transactions(book.head[0]))
            assert journaled.kind is gl.EntryKind.KEY
            assert not journaled.postings
            assert journaled.meta["gl.key"] == "bad"
            assert after[1] == [*before[1], journaled]  # the journal: that entry only
            for was, now in zip(before[2:8], after[2:8], strict=True):
                assert now == was  # accounts, history, records, holds, trial balance
            old_cuts, new_cuts = before[8], after[8]
            assert isinstance(old_cuts, dict)
            assert isinstance(new_cuts, dict)
            # Every balance at every earlier cut; the new entry's own time and id are
            # cuts too, and change nothing either.
            assert {k: new_cuts[k] for k in old_cuts} == old_cuts
            # The twin fails the same way, so the two stay comparable below.
            with pytest.raises(gl.InsufficientFunds):
                twin.post_many(_batch(twin_clock))
        for ledger in (book, twin):
            clock_of = clock if ledger is book else twin_clock
            clock_of.advance(timedelta(minutes=10))  # the short hold expires
            ledger.expire_holds()
            ledger.transfer("c", "mint", 1, key="k1")
            ledger.transfer("a", "c", 1, effective_at=clock_of.now() - timedelta(days=1))
        assert book.head == twin.head
        assert _snapshot(book) == _snapshot(twin)
        assert book.verify() == twin.verify()
