"""Pending and available balances as of a past time or journal point, on every store.

A hold counts as pending at a cut if the entry that placed it is within the cut,
the entry that resolved it is not, and it had not run past its expiry by then.
"""

from __future__ import annotations

from datetime import timedelta

import giftledger as gl

WALLET = "viewers:ann:coins"
SHOP = "platform:escrow"
MINT = "platform:mint"


def _open(book: gl.Ledger) -> None:
    gl.register_unit("COIN", 0, singular="coin")
    book.open_account(MINT, "COIN", rule=gl.BalanceRule.unrestricted())
    book.open_account(WALLET, "COIN", normal="credit")
    book.open_account(SHOP, "COIN", normal="credit")


def _coins(n: int) -> gl.Money:
    return gl.from_minor(n, "COIN")


def test_a_hold_counts_as_pending_between_its_placing_and_its_resolution(
    book: gl.Ledger, clock: gl.ManualClock
) -> None:
    _open(book)
    funded = book.transfer(MINT, WALLET, 100)
    clock.advance(timedelta(minutes=1))
    hold = book.hold(WALLET, SHOP, 30)
    placed_at = clock.now()
    clock.advance(timedelta(minutes=1))
    posted = book.post_hold(hold, 10)  # 10 move, the other 20 are released
    clock.advance(timedelta(minutes=1))

    before = book.account_balance(WALLET, recorded_through=funded.id)
    assert (before.posted, before.pending_debits, before.available) == (
        _coins(100),
        _coins(0),
        _coins(100),
    )
    during = book.account_balance(WALLET, recorded_through=hold.id)
    assert (during.posted, during.pending_debits, during.available) == (
        _coins(100),
        _coins(30),
        _coins(70),
    )
    assert book.account_balance(WALLET, at=placed_at) == during
    assert book.account_balance(SHOP, at=placed_at).pending_credits == _coins(30)
    after = book.account_balance(WALLET, recorded_through=posted.id)
    assert (after.posted, after.pending_debits, after.available) == (
        _coins(90),
        _coins(0),
        _coins(90),
    )
    assert book.account_balance(WALLET, at=clock.now()) == book.account_balance(WALLET)
    assert book.available(WALLET, recorded_through=hold.id) == _coins(70)


def test_a_hold_stops_counting_once_past_its_expiry_even_before_it_is_recorded(
    book: gl.Ledger, clock: gl.ManualClock
) -> None:
    _open(book)
    book.transfer(MINT, WALLET, 100)
    hold = book.hold(WALLET, SHOP, 40, timeout=timedelta(minutes=10))
    start = clock.now()
    clock.advance(timedelta(minutes=30))
    book.transfer(MINT, WALLET, 1)  # recorded after the expiry, before expire_holds()

    assert book.available(WALLET, at=start + timedelta(minutes=9)) == _coins(60)
    assert book.available(WALLET, at=start + timedelta(minutes=10)) == _coins(100)
    assert book.available(WALLET, recorded_through=hold.id) == _coins(60)
    assert book.available(WALLET, recorded_through=hold.id + 1) == _coins(101)
    book.expire_holds()
    assert book.available(WALLET, recorded_through=hold.id) == _coins(60)
    assert book.available(WALLET) == _coins(101)


def test_a_voided_hold_and_a_cut_before_the_journal_starts(
    book: gl.Ledger, clock: gl.ManualClock
) -> None:
    _open(book)
    book.transfer(MINT, WALLET, 50)
    hold = book.hold(WALLET, SHOP, 50)
    clock.advance(timedelta(seconds=1))
    voided = book.void_hold(hold)
    assert book.available(WALLET, recorded_through=hold.id) == _coins(0)
    assert book.available(WALLET, recorded_through=voided.id) == _coins(50)
    assert book.available(WALLET, recorded_through=0) == _coins(0)
    assert book.available(WALLET, recorded_through=10**6) == book.available(WALLET)
