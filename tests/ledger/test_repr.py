"""Short reprs: a Transaction, a Hold and an Account read in one line, with no hashes."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

import giftledger as gl


def _book() -> gl.Ledger:
    book = gl.Ledger(clock=gl.ManualClock(datetime(2026, 1, 5, 10, tzinfo=UTC)))
    book.open_account("assets:bank", "USD")
    book.open_account("equity", "USD", normal="credit")
    return book


def test_transaction_repr_is_short_and_has_no_hash() -> None:
    book = _book()
    tx = book.transfer("assets:bank", "equity", "5.00", key="g-1", memo="a gift")
    text = repr(tx)
    assert tx.id == 3  # after the two accounts' definitions
    assert text == "<Transaction #3 post 2026-01-05T10:00:00Z key='g-1' 2 postings memo='a gift'>"
    assert tx.hash not in text
    long = book.transfer("assets:bank", "equity", "1.00", memo="x" * 100)
    assert len(repr(long)) < 120
    assert "…" in repr(long)
    rev = book.reverse(tx.id)
    assert f"reverses=#{tx.id}" in repr(rev)
    assert repr(book.transaction(tx.id)).endswith(f"reversed by #{rev.id}>")


def test_hold_and_account_reprs() -> None:
    book = _book()
    assert repr(book.account("equity")) == "<Account 'equity' USD credit>"
    assert "trading" in repr(book.open_trading_account("EUR"))
    hold = book.hold("assets:bank", "equity", "2.50")
    assert repr(hold) == f"<Hold #{hold.id} pending 2.50 USD 'assets:bank' -> 'equity'>"
    posted = book.post_hold(hold.id, "1.00")
    assert repr(book.get_hold(hold.id)) == (
        f"<Hold #{hold.id} posted 2.50 USD 'assets:bank' -> 'equity' posted 1.00 by #{posted.id}>"
    )


def test_a_short_repr_keeps_equality_and_hashing() -> None:
    book = _book()
    tx = book.transfer("assets:bank", "equity", "5.00")
    again = book.transaction(tx.id)
    assert tx == again
    assert hash(tx) == hash(again)
    assert attrs.evolve(tx, memo="other") != tx
    acct = book.account("equity")
    assert {acct: 1}[attrs.evolve(acct)] == 1
