"""Dry runs, history pages, balances by prefix and the trial balance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt

from .helpers import OPENED, fund, open_books, snapshot

ALICE = "viewers:alice:coins"
CAROL = "viewers:carol:coins"
ESCROW = "platform:escrow"

# -- dry runs ------------------------------------------------------------------------------

DRY_RUNS: list[tuple[str, Callable[[gl.Ledger], object]]] = [
    ("post", lambda b: b.post([gl.debit(ALICE, 5), gl.credit(ESCROW, 5)], dry_run=True)),
    ("transfer", lambda b: b.transfer(ALICE, ESCROW, 5, dry_run=True)),
    (
        "convert",
        lambda b: b.convert(
            "creators:bob:diamonds", "creators:bob:cash", 100, rate="0.005", dry_run=True
        ),
    ),
    ("hold", lambda b: b.hold(ALICE, ESCROW, 5, dry_run=True)),
    ("post_hold", lambda b: b.post_hold(OPENED + 3, 2, dry_run=True)),
    ("void_hold", lambda b: b.void_hold(OPENED + 3, dry_run=True)),
    ("reverse", lambda b: b.reverse(OPENED + 2, dry_run=True)),
]


def _prepared(book: gl.Ledger) -> gl.Ledger:
    books = open_books(book)
    fund(books, ALICE, 100)  # OPENED + 1
    books.transfer("platform:diamond-supply", "creators:bob:diamonds", 100)  # OPENED + 2
    assert books.hold(ALICE, ESCROW, 10).id == OPENED + 3
    return books


@pytest.mark.parametrize("call", [c for _, c in DRY_RUNS], ids=[n for n, _ in DRY_RUNS])
def test_a_dry_run_says_what_would_happen_and_changes_nothing(
    book: gl.Ledger, call: Callable[[gl.Ledger], object]
) -> None:
    prepared = _prepared(book)
    before = snapshot(prepared)
    result = call(prepared)
    assert snapshot(prepared) == before
    assert getattr(result, "id", None) == OPENED + 4
    assert prepared.verify() == OPENED + 3


def test_a_dry_run_shows_the_entry_as_it_would_be_posted(book: gl.Ledger) -> None:
    prepared = _prepared(book)
    preview = prepared.transfer(ALICE, ESCROW, 5, memo="gift", dry_run=True)
    real = prepared.transfer(ALICE, ESCROW, 5, memo="gift")
    assert (preview.id, preview.kind, preview.postings, preview.memo, preview.prev_hash) == (
        real.id,
        real.kind,
        real.postings,
        real.memo,
        real.prev_hash,
    )


def test_a_failing_dry_run_raises_what_the_real_call_would(book: gl.Ledger) -> None:
    prepared = _prepared(book)
    before = snapshot(prepared)
    with pytest.raises(gl.InsufficientFunds, match=ALICE):
        prepared.transfer(ALICE, ESCROW, 91, dry_run=True)
    assert snapshot(prepared) == before


# -- history -------------------------------------------------------------------------------


def test_history_pages_through_every_posting_with_running_balances(book: gl.Ledger) -> None:
    books = open_books(book)
    for n in range(1, 26):
        fund(books, ALICE, n)
    books.hold(ALICE, ESCROW, 5)  # holds move nothing: not in the history
    seen: list[tuple[int, Money]] = []
    cursor = None
    pages = 0
    while True:
        page = books.history(ALICE, after=cursor, limit=10)
        pages += 1
        seen += [(e.transaction.id, e.balance_after) for e in page.items]
        assert all(e.posting.account == ALICE for e in page.items)
        if page.next_cursor is None:
            break
        assert page.next_cursor == page.items[-1].transaction.id
        cursor = page.next_cursor
    assert pages == 3
    assert [tx_id for tx_id, _ in seen] == list(range(OPENED + 1, OPENED + 26))
    assert [b for _, b in seen] == [Money(n * (n + 1) // 2, "COIN") for n in range(1, 26)]


def test_history_of_an_account_without_postings_is_one_empty_page(book: gl.Ledger) -> None:
    books = open_books(book)
    page = books.history(CAROL)
    assert (page.items, page.next_cursor) == ((), None)


def test_a_page_that_ends_exactly_at_the_last_entry_has_no_next_cursor(book: gl.Ledger) -> None:
    books = open_books(book)
    for _ in range(4):
        fund(books, ALICE, 1)
    first = books.history(ALICE, limit=2)
    second = books.history(ALICE, after=first.next_cursor, limit=2)
    assert len(second.items) == 2
    assert second.next_cursor is None


def test_history_of_an_unknown_account_is_refused(book: gl.Ledger) -> None:
    books = open_books(book)
    with pytest.raises(gl.UnknownAccount, match="viewers:nobody"):
        books.history("viewers:nobody")


# -- balances by prefix --------------------------------------------------------------------


def test_balances_by_prefix(book: gl.Ledger) -> None:
    books = open_books(book)
    fund(books, ALICE, 7)
    fund(books, CAROL, 3)
    assert books.balances("viewers:") == {ALICE: Money(7, "COIN"), CAROL: Money(3, "COIN")}
    assert books.balances("viewers:alice") == {ALICE: Money(7, "COIN")}
    assert books.balances("nobody") == {}
    everything = books.balances()
    assert everything["platform:coin-supply"] == Money(10, "COIN")
    assert set(everything) == {a.name for a in books.accounts()}


@given(st.lists(glt.account_names(), min_size=1, max_size=12, unique=True), st.data())
def test_balances_by_prefix_match_string_prefixes_of_any_names(
    names: list[str], data: st.DataObject
) -> None:
    book = gl.Ledger(clock=gl.ManualClock())
    for name in names:
        book.open_account(name, "USD", rule=gl.BalanceRule.unrestricted())
    name = data.draw(st.sampled_from(names))
    prefix = name[: data.draw(st.integers(0, len(name)))]
    assert set(book.balances(prefix)) == {n for n in names if n.startswith(prefix)}
    assert [a.name for a in book.accounts(prefix)] == sorted(
        n for n in names if n.startswith(prefix)
    )


# -- trial balance -------------------------------------------------------------------------


def test_trial_balance_totals_posted_debits_and_credits_per_unit(book: gl.Ledger) -> None:
    books = open_books(book)
    fund(books, ALICE, 100)
    books.transfer("assets:bank", "revenue:sales", "19.99")
    books.hold(ALICE, ESCROW, 50)  # pending: not in the trial balance
    trial = books.trial_balance()
    assert trial.units == ("COIN", "USD")
    assert dict(trial.debits) == {"COIN": 100, "USD": 1999}
    assert dict(trial.credits) == {"COIN": 100, "USD": 1999}
    assert trial.is_balanced
    assert trial.difference("COIN") == 0
    assert trial.difference("DIAMOND") == 0


def test_an_empty_ledger_is_in_balance(book: gl.Ledger) -> None:
    trial = book.trial_balance()
    assert trial.is_balanced
    assert trial.units == ()
    assert book.verify() == 0
    assert book.head == (0, "0" * 64)


def test_a_trial_balance_with_a_difference_is_not_balanced() -> None:
    trial = gl.TrialBalance({"USD": 5}, {"USD": 4})
    assert not trial.is_balanced
    assert trial.difference("USD") == 1


def test_account_balance_splits_posted_pending_and_available(
    book: gl.Ledger, clock: gl.ManualClock
) -> None:
    books = open_books(book)
    fund(books, ALICE, 100)
    books.hold(ALICE, ESCROW, 30, timeout=timedelta(hours=1))
    alice = books.account_balance(ALICE)
    escrow = books.account_balance(ESCROW)
    coin = lambda n: Money(n, "COIN")  # noqa: E731
    assert (alice.posted, alice.pending_debits, alice.available) == (coin(100), coin(30), coin(70))
    # A pending credit does not raise a credit-normal account's available balance.
    assert (escrow.posted, escrow.pending_credits, escrow.available) == (coin(0), coin(30), coin(0))
    clock.advance(timedelta(hours=1))
    assert books.account_balance(ALICE).available == coin(100)
    assert books.account_balance(ALICE).pending_debits == coin(0)
