"""Acceptance points 2, 3, 4, 6 and 7 of issue 2, one test per behaviour.

Every test takes the ``book`` fixture and opens its accounts with ``open_books``,
so a store runs them all by parametrizing that fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl

from .helpers import OPENED, fund, open_books, snapshot

ALICE = "viewers:alice:coins"
ESCROW = "platform:escrow"


# -- 2. unbalanced -------------------------------------------------------------------------


def test_debit_of_99_9_against_credit_of_99_8_is_rejected_as_unbalanced(book: gl.Ledger) -> None:
    books = open_books(book)
    before = snapshot(books)
    with pytest.raises(gl.UnbalancedTransaction) as info:
        books.post([gl.debit("assets:bank", "99.9"), gl.credit("revenue:sales", "99.8")])
    assert "99.90" in str(info.value)
    assert "99.80" in str(info.value)
    assert "USD" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert snapshot(books) == before


def test_balance_is_checked_per_unit_not_in_total(book: gl.Ledger) -> None:
    books = open_books(book)
    before = snapshot(books)
    with pytest.raises(gl.UnbalancedTransaction, match="COIN"):
        books.post(
            [
                gl.debit("platform:coin-supply", 100),
                gl.credit(ALICE, 50),
                gl.debit("platform:diamond-supply", 50),
                gl.credit("creators:bob:diamonds", 100),
            ]
        )
    assert snapshot(books) == before


# -- 3. units and conversion -----------------------------------------------------------


def test_a_posting_from_a_coin_account_to_a_diamond_account_is_rejected(book: gl.Ledger) -> None:
    books = open_books(book)
    fund(books, ALICE, 100)
    before = snapshot(books)
    with pytest.raises(gl.UnbalancedTransaction, match="COIN"):
        books.post([gl.debit(ALICE, 100), gl.credit("creators:bob:diamonds", 100)])
    with pytest.raises(gl.CurrencyMismatch) as info:
        books.transfer(ALICE, "creators:bob:diamonds", 100)
    assert "COIN" in str(info.value)
    assert "DIAMOND" in str(info.value)
    assert isinstance(info.value, TypeError)
    assert snapshot(books) == before


def test_an_amount_in_another_unit_than_the_account_is_rejected(book: gl.Ledger) -> None:
    books = open_books(book)
    before = snapshot(books)
    with pytest.raises(gl.CurrencyMismatch, match="EUR"):
        books.transfer("assets:bank", "revenue:sales", Money("5.00", "EUR"))
    assert snapshot(books) == before


def test_a_conversion_applies_both_legs_and_stores_its_rate(book: gl.Ledger) -> None:
    books = open_books(book)
    books.transfer("platform:diamond-supply", "creators:bob:diamonds", 1000)
    tx = books.convert("creators:bob:diamonds", "creators:bob:cash", 1000, rate="0.005")
    assert books.balance("creators:bob:diamonds") == Money(0, "DIAMOND")
    assert books.balance("creators:bob:cash") == Money("5.00", "USD")
    assert books.balance("trading:DIAMOND") == Money(-1000, "DIAMOND")
    assert books.balance("trading:USD") == Money("5.00", "USD")
    assert tx.rates == (gl.Rate("DIAMOND", "USD", Fraction(1, 200)),)
    assert books.transaction(tx.id).rates == tx.rates
    assert len(tx.postings) == 4
    assert books.trial_balance().is_balanced
    assert books.verify() == tx.id


def test_a_conversion_whose_second_leg_fails_applies_neither_leg(book: gl.Ledger) -> None:
    books = open_books(book)
    books.transfer("platform:diamond-supply", "creators:bob:diamonds", 1000)
    books.open_account("creators:bob:old-cash", "USD", normal="credit")
    books.close_account("creators:bob:old-cash")
    before = snapshot(books)
    with pytest.raises(gl.AccountClosed, match="creators:bob:old-cash"):
        books.convert("creators:bob:diamonds", "creators:bob:old-cash", 1000, rate="0.005")
    assert snapshot(books) == before


def test_a_conversion_beyond_the_balance_applies_neither_leg(book: gl.Ledger) -> None:
    books = open_books(book)
    books.transfer("platform:diamond-supply", "creators:bob:diamonds", 999)
    before = snapshot(books)
    with pytest.raises(gl.InsufficientFunds, match="creators:bob:diamonds"):
        books.convert("creators:bob:diamonds", "creators:bob:cash", 1000, rate="0.005")
    assert snapshot(books) == before


def test_a_conversion_rounds_by_the_named_mode(book: gl.Ledger) -> None:
    books = open_books(book)
    books.transfer("platform:diamond-supply", "creators:bob:diamonds", 1000)
    up = books.convert(
        "creators:bob:diamonds", "creators:bob:cash", 1, rate="0.005", rounding=gl.Rounding.UP
    )
    assert up.postings[-1].minor == 1
    with pytest.raises(gl.InvalidTransaction, match="1/200"):
        books.convert(
            "creators:bob:diamonds", "creators:bob:cash", 1, rate="0.005", rounding=gl.Rounding.DOWN
        )


def test_a_conversion_without_a_trading_account_is_refused(book: gl.Ledger) -> None:
    book.open_account("a", "COIN", rule=gl.BalanceRule.unrestricted())
    book.open_account("b", "USD", normal="credit")
    book.open_trading_account("COIN")
    before = snapshot(book)
    with pytest.raises(gl.UnknownAccount, match="trading:USD"):
        book.convert("a", "b", 10, rate="1/10")
    assert snapshot(book) == before


def test_reversing_a_conversion_restores_both_units(book: gl.Ledger) -> None:
    books = open_books(book)
    books.transfer("platform:diamond-supply", "creators:bob:diamonds", 1000)
    before = books.balances()
    tx = books.convert("creators:bob:diamonds", "creators:bob:cash", 1000, rate="0.005")
    rev = books.reverse(tx)
    assert books.balances() == before
    assert rev.rates == tx.rates


# -- 4. holds --------------------------------------------------------------------------


def _five_holds(books: gl.Ledger) -> list[gl.Hold]:
    fund(books, ALICE, 5000)
    return [books.hold(ALICE, ESCROW, 1000) for _ in range(5)]


def test_five_holds_of_1000_on_5000_succeed(book: gl.Ledger) -> None:
    books = open_books(book)
    holds = _five_holds(books)
    assert all(h.status is gl.HoldStatus.PENDING for h in holds)
    balance = books.account_balance(ALICE)
    assert balance.posted == Money(5000, "COIN")
    assert balance.pending_debits == Money(5000, "COIN")
    assert balance.available == Money(0, "COIN")
    assert books.balance(ALICE) == Money(5000, "COIN")


def test_sixth_hold_fails_with_insufficient_funds_and_changes_nothing(book: gl.Ledger) -> None:
    books = open_books(book)
    _five_holds(books)
    before = snapshot(books)
    with pytest.raises(gl.InsufficientFunds) as info:
        books.hold(ALICE, ESCROW, 1000)
    assert ALICE in str(info.value)
    assert "-1000" in str(info.value)
    assert snapshot(books) == before


def test_a_transfer_counts_pending_holds(book: gl.Ledger) -> None:
    books = open_books(book)
    _five_holds(books)
    before = snapshot(books)
    with pytest.raises(gl.InsufficientFunds, match=ALICE):
        books.transfer(ALICE, "platform:coin-supply", 1)
    assert snapshot(books) == before


def test_void_restores_the_available_balance(book: gl.Ledger) -> None:
    books = open_books(book)
    holds = _five_holds(books)
    books.void_hold(holds[0])
    assert books.available(ALICE) == Money(1000, "COIN")
    assert books.balance(ALICE) == Money(5000, "COIN")
    assert books.get_hold(holds[0].id).status is gl.HoldStatus.VOIDED
    assert books.hold(ALICE, ESCROW, 1000).status is gl.HoldStatus.PENDING


def test_a_partial_post_moves_the_part_and_releases_the_rest(book: gl.Ledger) -> None:
    books = open_books(book)
    holds = _five_holds(books)
    tx = books.post_hold(holds[0], 400)
    assert tx.kind is gl.EntryKind.POST_HOLD
    assert books.balance(ALICE) == Money(4600, "COIN")
    assert books.balance(ESCROW) == Money(400, "COIN")
    assert books.available(ALICE) == Money(600, "COIN")
    settled = books.get_hold(holds[0].id)
    assert (settled.status, settled.posted_minor, settled.resolved_by) == (
        gl.HoldStatus.POSTED,
        400,
        tx.id,
    )


def test_a_full_post_moves_the_whole_hold(book: gl.Ledger) -> None:
    books = open_books(book)
    holds = _five_holds(books)
    books.post_hold(holds[1])
    assert books.balance(ALICE) == Money(4000, "COIN")
    assert books.available(ALICE) == Money(0, "COIN")
    assert books.balance(ESCROW) == Money(1000, "COIN")


def test_a_second_post_or_void_of_the_same_hold_is_rejected(book: gl.Ledger) -> None:
    books = open_books(book)
    posted, voided, *_ = _five_holds(books)
    books.post_hold(posted)
    books.void_hold(voided)
    before = snapshot(books)
    for call in (
        lambda: books.post_hold(posted),
        lambda: books.void_hold(posted),
        lambda: books.post_hold(voided),
        lambda: books.void_hold(voided),
    ):
        with pytest.raises(gl.HoldNotPending, match="already"):
            call()
    assert snapshot(books) == before


def test_an_expired_hold_cannot_be_posted(book: gl.Ledger, clock: gl.ManualClock) -> None:
    books = open_books(book)
    fund(books, ALICE, 5000)
    hold = books.hold(ALICE, ESCROW, 5000, timeout=timedelta(hours=1))
    assert books.available(ALICE) == Money(0, "COIN")
    clock.advance(timedelta(hours=1))
    assert books.available(ALICE) == Money(5000, "COIN")
    assert books.get_hold(hold.id).status is gl.HoldStatus.EXPIRED
    before = snapshot(books)
    with pytest.raises(gl.HoldExpired, match=str(hold.id)):
        books.post_hold(hold)
    with pytest.raises(gl.HoldExpired):
        books.void_hold(hold)
    assert snapshot(books) == before
    (entry,) = books.expire_holds()
    assert (entry.kind, entry.hold_id) == (gl.EntryKind.EXPIRE_HOLD, hold.id)
    with pytest.raises(gl.HoldNotPending, match="expired"):
        books.post_hold(hold)
    assert books.expire_holds() == ()
    assert books.verify() == entry.id


def test_a_hold_may_not_expire_in_the_past(book: gl.Ledger, clock: gl.ManualClock) -> None:
    books = open_books(book)
    fund(books, ALICE, 10)
    before = snapshot(books)
    with pytest.raises(gl.InvalidArgument, match="2025-12-31"):
        books.hold(ALICE, ESCROW, 1, expires_at=datetime(2025, 12, 31, tzinfo=UTC))
    assert snapshot(books) == before


def test_posting_more_than_the_hold_is_rejected(book: gl.Ledger) -> None:
    books = open_books(book)
    holds = _five_holds(books)
    before = snapshot(books)
    with pytest.raises(gl.InvalidTransaction, match="1001"):
        books.post_hold(holds[0], 1001)
    with pytest.raises(gl.InvalidTransaction):
        books.post_hold(holds[0], 0)
    assert snapshot(books) == before


# -- 6. reversal -----------------------------------------------------------------------


def test_a_reversal_mirrors_the_postings_and_links_both_ways(book: gl.Ledger) -> None:
    books = open_books(book)
    tx = books.transfer("assets:bank", "revenue:sales", "19.99", memo="order 1")
    rev = books.reverse(tx.id)
    assert rev.kind is gl.EntryKind.REVERSAL
    assert rev.reverses == tx.id
    assert books.transaction(tx.id).reversed_by == rev.id
    assert [(p.account, p.side.opposite, p.minor) for p in tx.postings] == [
        (p.account, p.side, p.minor) for p in rev.postings
    ]
    assert books.balance("assets:bank") == Money("0.00", "USD")
    assert books.balance("revenue:sales") == Money("0.00", "USD")


def test_second_reversal_fails_with_already_reversed_and_moves_nothing(book: gl.Ledger) -> None:
    books = open_books(book)
    tx = books.transfer("assets:bank", "revenue:sales", "19.99")
    rev = books.reverse(tx)
    before = snapshot(books)
    with pytest.raises(gl.AlreadyReversed) as info:
        books.reverse(tx)
    assert str(tx.id) in str(info.value)
    assert str(rev.id) in str(info.value)
    assert snapshot(books) == before


def test_a_reversal_cannot_itself_be_reversed(book: gl.Ledger) -> None:
    books = open_books(book)
    rev = books.reverse(books.transfer("assets:bank", "revenue:sales", 1))
    fund(books, ALICE, 10)
    hold = books.hold(ALICE, ESCROW, 5)
    before = snapshot(books)
    with pytest.raises(gl.NotReversible, match="reversal"):
        books.reverse(rev)
    with pytest.raises(gl.NotReversible, match="hold"):
        books.reverse(hold.id)
    assert snapshot(books) == before


def test_a_reversal_that_would_break_a_balance_rule_fails_unless_forced(book: gl.Ledger) -> None:
    books = open_books(book)
    purchase = fund(books, ALICE, 100)
    books.transfer(ALICE, ESCROW, 60)  # alice spends 60 of the 100
    before = snapshot(books)
    with pytest.raises(gl.InsufficientFunds, match=ALICE):
        books.reverse(purchase)
    assert snapshot(books) == before
    books.reverse(purchase, force=True)  # a chargeback is booked whatever the wallet holds
    assert books.balance(ALICE) == Money(-60, "COIN")
    assert books.verify() == OPENED + 3


# -- 7. back-dating --------------------------------------------------------------------


def test_a_back_dated_entry_changes_the_balance_at_its_effective_time_only(
    book: gl.Ledger, clock: gl.ManualClock
) -> None:
    books = open_books(book)
    jan_1 = clock.now()
    clock.advance(timedelta(days=10))
    first = books.transfer("assets:bank", "revenue:sales", "10.00")
    clock.advance(timedelta(days=1))
    late = books.transfer("assets:bank", "revenue:sales", "1.00", effective_at=jan_1)
    assert late.effective_at == jan_1
    assert late.recorded_at == clock.now()
    usd = lambda s: Money(s, "USD")  # noqa: E731
    # As the books now stand: the back-dated entry counts from its effective time.
    assert books.balance("assets:bank") == usd("11.00")
    assert books.balance("assets:bank", at=jan_1) == usd("1.00")
    assert books.balance("assets:bank", at=jan_1 - timedelta(microseconds=1)) == usd("0.00")
    assert books.balance("assets:bank", at=jan_1 + timedelta(days=10)) == usd("11.00")
    # As recorded after the first entry: the later, back-dated one is not there yet.
    assert books.balance("assets:bank", recorded_through=first.id) == usd("10.00")
    assert books.balance("assets:bank", at=jan_1, recorded_through=first.id) == usd("0.00")
    assert books.balance("assets:bank", recorded_through=late.id) == usd("11.00")
