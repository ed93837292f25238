"""Refunds and chargebacks: unspent coins reversed, spent coins by the rules' policy."""

from __future__ import annotations

from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import app_for, simple_economy, snapshot, usd


def _setup(
    policy: gl.SpentCoinPolicy, refund_store_fee: bool = True
) -> tuple[gl.Ledger, gl.GiftEconomy, gl.Transaction]:
    econ = simple_economy(refunds=gl.RefundPolicy(policy, refund_store_fee))
    book, _, app = app_for(econ)
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    buy = app.buy_coins("alice", pack=1400, channel="ios", key="order-1")
    app.send_gift("alice", "bob", "Galaxy")  # releases 14.28, bob is owed 5.00
    return book, app, buy


def test_refund_reverses_unspent_coins_and_books_spent_ones_as_a_platform_loss() -> None:
    book, app, buy = _setup(gl.SpentCoinPolicy.PLATFORM_LOSS)
    tx = app.refund_purchase(buy)
    assert tx.meta["gl.coins"] == 400
    assert book.balance("viewers:alice:coins") == Money(0, "COIN")
    assert book.balance("platform:coin-supply") == Money(0, "COIN")
    assert book.balance("assets:stores:apple") == usd("0.00")
    assert book.balance("expenses:store-fees:apple") == usd("0.00")
    assert book.balance("liabilities:deferred-revenue") == usd("0.00")
    assert book.balance("expenses:refund-losses") == usd("14.28")
    # What the creator was owed and the platform recognised stays: the gift happened.
    assert book.balance("liabilities:creators-payable:bob") == usd("5.00")
    assert book.balance("revenue:gifts") == usd("9.28")
    assert app.coin_lot(buy.id).refunded == tx.id
    assert book.trial_balance().is_balanced


def test_refund_with_viewer_debt_books_a_receivable() -> None:
    book, app, _buy = _setup(gl.SpentCoinPolicy.VIEWER_DEBT)
    app.refund_purchase("order-1")  # by the purchase's idempotency key
    assert book.balance("viewers:alice:receivable") == usd("14.28")
    assert "expenses:refund-losses" not in book.balances()


def test_chargeback_leaves_the_store_fee_with_the_platform() -> None:
    book, app, buy = _setup(gl.SpentCoinPolicy.PLATFORM_LOSS)
    tx = app.chargeback(buy.id)
    assert tx.meta["gl.store_keeps_fee"] is True
    assert book.balance("assets:stores:apple") == usd("-6.00")
    assert book.balance("expenses:store-fees:apple") == usd("6.00")
    assert book.trial_balance().is_balanced


def test_a_purchase_is_refunded_once() -> None:
    book, app, buy = _setup(gl.SpentCoinPolicy.PLATFORM_LOSS)
    app.refund_purchase(buy, key="refund-1")
    assert app.refund_purchase(buy, key="refund-1").meta["gl.lot"] == buy.id  # replay
    before = snapshot(book)
    with pytest.raises(gl.AlreadyReversed, match=f"purchase {buy.id}"):
        app.refund_purchase(buy)
    with pytest.raises(gl.AlreadyReversed):
        app.chargeback(buy)
    assert snapshot(book) == before


def test_refunded_coins_cannot_be_spent_and_other_lots_still_can() -> None:
    book, app, buy = _setup(gl.SpentCoinPolicy.PLATFORM_LOSS)
    app.refund_purchase(buy)
    with pytest.raises(gl.InsufficientFunds):
        app.send_gift("alice", "bob", "Rose")
    app.buy_coins("alice", pack=100, channel="web")
    app.send_gift("alice", "bob", "Rose")
    assert book.balance("viewers:alice:coins") == Money(99, "COIN")


def test_refunding_something_that_is_not_a_purchase_is_unknown_transaction() -> None:
    _book, app, buy = _setup(gl.SpentCoinPolicy.PLATFORM_LOSS)
    with pytest.raises(gl.UnknownTransaction):
        app.refund_purchase(buy.id + 1)  # the gift
    with pytest.raises(gl.UnknownTransaction):
        app.refund_purchase("no-such-key")


@pytest.mark.parametrize(
    ("tax", "expected"),
    [
        # US-style sales tax on top: 19.99 + 10% = 2.00 (1.999, half up); Apple's 30% is
        # of the tax-exclusive price (5.997 → 6.00); the store owes us 21.99 - 6.00.
        (
            gl.TaxRule("US", Fraction(1, 10), inclusive=False),
            {"store": "15.99", "fee": "6.00", "tax": "2.00", "deferred": "19.99"},
        ),
        # VAT inside the price: 19.99 * 19/119 = 3.1917 → 3.19; fee 30% of 16.80.
        (
            gl.TaxRule("US", Fraction(19, 100), inclusive=True),
            {"store": "14.95", "fee": "5.04", "tax": "3.19", "deferred": "16.80"},
        ),
    ],
)
def test_tax_is_booked_as_payable_and_refunded_with_the_purchase(
    tax: gl.TaxRule, expected: dict[str, str]
) -> None:
    econ = simple_economy(taxes=(tax,))
    book, _, app = app_for(econ)
    app.open_viewer("alice", region="US")
    buy = app.buy_coins("alice", pack=1400, channel="ios")
    assert book.balance("assets:stores:apple") == usd(expected["store"])
    assert book.balance("expenses:store-fees:apple") == usd(expected["fee"])
    assert book.balance("liabilities:tax-payable:US") == usd(expected["tax"])
    assert book.balance("liabilities:deferred-revenue") == usd(expected["deferred"])
    app.refund_purchase(buy)
    for name in ("assets:stores:apple", "liabilities:tax-payable:US"):
        assert book.balance(name) == usd("0.00")
    assert book.balance("liabilities:deferred-revenue") == usd("0.00")
