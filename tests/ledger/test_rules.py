"""Balance rules: non-negative by default, overdraft limits, unrestricted and trading accounts."""

from __future__ import annotations

import pytest
from moneyed import Money

import giftledger as gl

from .helpers import snapshot


def _usd(n: str) -> Money:
    return Money(n, "USD")


def test_new_accounts_must_not_go_negative(book: gl.Ledger) -> None:
    wallet = book.open_account("wallet", "USD", normal="credit")
    asset = book.open_account("cash", "USD")
    assert wallet.rule == asset.rule == gl.BalanceRule.non_negative()
    with pytest.raises(gl.InsufficientFunds, match="must not go negative"):
        book.transfer("wallet", "cash", "0.01")
    book.open_account("supply", "USD", rule=gl.BalanceRule.unrestricted())
    with pytest.raises(gl.InsufficientFunds, match="'cash'"):
        book.post([gl.debit("supply", "0.01"), gl.credit("cash", "0.01")])


def test_an_overdraft_is_given_in_the_accounts_unit(book: gl.Ledger) -> None:
    book.open_account("world", "USD", rule=gl.BalanceRule.unrestricted())
    account = book.open_account("card", "USD", overdraft="50.00")
    assert account.rule == gl.BalanceRule.overdraft(5000)
    book.transfer("world", "card", "50.00")  # credit the asset: -50.00, at its limit
    assert book.balance("card") == _usd("-50.00")
    before = snapshot(book)
    with pytest.raises(gl.InsufficientFunds, match=r"-50\.00 USD"):
        book.transfer("world", "card", "0.01")
    assert snapshot(book) == before


def test_unrestricted_and_trading_accounts_take_any_balance(book: gl.Ledger) -> None:
    book.open_account("supply", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_trading_account("USD")
    book.open_account("wallet", "USD", normal="credit")
    book.transfer("supply", "wallet", "1000000.00")
    book.transfer("wallet", "trading:USD", "1000000.00")
    assert book.balance("trading:USD") == _usd("-1000000.00")
    assert book.account("trading:USD").trading


def test_a_posting_that_raises_a_balance_below_its_rule_is_allowed(book: gl.Ledger) -> None:
    book.open_account("supply", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("wallet", "USD", normal="credit")
    top_up = book.transfer("supply", "wallet", "10.00")
    book.transfer("wallet", "supply", "4.00")
    book.reverse(top_up, force=True)  # a chargeback: the wallet owes 4.00
    assert book.balance("wallet") == _usd("-4.00")
    last = book.transfer("supply", "wallet", "1.00")  # paying some back is fine
    assert book.balance("wallet") == _usd("-3.00")
    with pytest.raises(gl.InsufficientFunds):
        book.transfer("wallet", "supply", "0.01")  # spending more is not
    assert book.verify() == last.id == top_up.id + 3


def test_the_rule_counts_pending_holds_on_the_normal_side(book: gl.Ledger) -> None:
    book.open_account("supply", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("wallet", "USD", normal="credit")
    book.open_account("escrow", "USD", normal="credit")
    book.transfer("supply", "wallet", "10.00")
    book.hold("wallet", "escrow", "6.00")
    with pytest.raises(gl.InsufficientFunds, match=r"4\.00 USD"):
        book.hold("wallet", "escrow", "4.01")
    book.hold("wallet", "escrow", "4.00")
    assert book.available("wallet") == _usd("0.00")
