"""Regressions found in review of the economy layer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import app_for, simple_economy


def _rich_creator(econ: gl.Economy, payout: str = "USD", **kw: object) -> tuple:
    book, clock, app = app_for(econ, **kw)
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US", payout_currency=payout)
    for _ in range(6):
        app.buy_coins("alice", pack=10000, channel="web")
    app.send_gift("alice", "bob", "Lion", 2)
    app.convert_diamonds("bob")
    return book, clock, app


def test_withdraw_all_stays_within_a_daily_cap_in_another_currency() -> None:
    # 100.00 USD is 91.79 EUR at 1 EUR = 1.0895 USD, but 91.79 EUR is 100.01 USD.
    econ = simple_economy(
        withdrawal=gl.WithdrawalPolicy(daily_cap=Money("100.00", "USD"), min_age=0)
    )
    book, _, app = _rich_creator(econ, "EUR", rates={("EUR", "USD"): "1.0895"})
    w = app.request_withdrawal("bob", "all")
    assert w.amount == Money("91.78", "EUR")
    assert book.balance("creators:bob:cash").amount > 100


def test_withdraw_all_stays_within_the_weekly_cap() -> None:
    econ = simple_economy(
        withdrawal=gl.WithdrawalPolicy(weekly_cap=Money("50.00", "USD"), min_age=0)
    )
    _, clock, app = _rich_creator(econ)
    assert app.request_withdrawal("bob", "all").amount == Money("50.00", "USD")
    clock.advance(timedelta(days=1))
    with pytest.raises(gl.LimitExceeded, match=r"50\.00 USD"):
        app.request_withdrawal("bob", "all")


@pytest.mark.parametrize("region", ["us", "USA", 1])
def test_views_in_an_unknown_region_are_refused_not_paid_the_fallback_rate(
    region: object,
) -> None:
    econ = gl.presets.load("tiktok-live")
    with pytest.raises(gl.UnknownRule, match=repr(region)):
        gl.estimate_view_earnings(econ, {region: 1_000_000})  # type: ignore[dict-item]


def test_a_gift_planned_before_another_worker_spent_the_same_lot_is_planned_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Thread A plans a gift from lot 1; meanwhile B spends lot 1 and C syncs the
    # shared lot view past B's entry. A's guard must still see B's entry.
    econ = simple_economy()
    book, _, app = app_for(econ)
    other = gl.GiftEconomy(book, econ)
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    app.buy_coins("alice", pack=1400, channel="ios")
    app.buy_coins("alice", pack=1400, channel="ios")
    write = book._write_quoted
    raced: list[bool] = []

    def racing_write(*args: object, **kw: object) -> gl.Transaction:
        if not raced:
            raced.append(True)
            other.send_gift("alice", "bob", "Galaxy")
            app.coin_lots("alice")
        return write(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(book, "_write_quoted", racing_write)
    app.send_gift("alice", "bob", "Galaxy")
    monkeypatch.undo()
    first, second = app.coin_lots("alice")
    assert (first.spent, first.released) == (1400, first.deferred)
    assert second.spent == 600
    assert sum(lot.unspent for lot in (first, second)) == 800


def test_a_request_that_failed_under_a_key_fails_the_same_way_again() -> None:
    econ = simple_economy(withdrawal=gl.WithdrawalPolicy(min_age=0))
    book, _, app = app_for(econ)
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    with pytest.raises(gl.InsufficientFunds):
        app.send_gift("alice", "bob", "Galaxy", key="gift-1")
    with pytest.raises(gl.BelowWithdrawalThreshold):
        app.request_withdrawal("bob", "all", key="wd-1")
    for _ in range(4):
        app.buy_coins("alice", pack=10000, channel="web")
    app.send_gift("alice", "bob", "Lion")
    app.convert_diamonds("bob")
    head = book.head
    with pytest.raises(gl.InsufficientFunds, match="replayed for idempotency key 'gift-1'"):
        app.send_gift("alice", "bob", "Galaxy", key="gift-1")
    with pytest.raises(gl.BelowWithdrawalThreshold, match="replayed for idempotency key 'wd-1'"):
        app.request_withdrawal("bob", "all", key="wd-1")
    with pytest.raises(gl.DuplicateKeyConflict):
        app.send_gift("alice", "bob", "Rose", key="gift-1")
    assert book.head == head
    assert app.send_gift("alice", "bob", "Galaxy", key="gift-2").key == "gift-2"


def test_a_failed_dry_run_is_not_remembered() -> None:
    _, _, app = app_for(simple_economy())
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    with pytest.raises(gl.InsufficientFunds):
        app.send_gift("alice", "bob", "Galaxy", key="gift-1", dry_run=True)
    app.buy_coins("alice", pack=10000, channel="web")
    assert app.send_gift("alice", "bob", "Galaxy", key="gift-1").key == "gift-1"


def test_share_of_price_without_creator_units_is_refused() -> None:
    # Owed cash with no Diamonds could never be converted: it would stay payable forever.
    with pytest.raises(gl.InvalidEconomy, match="creator_units_per_coin: 0"):
        gl.CreatorPay(gl.PayoutModel.SHARE_OF_PRICE, creator_units_per_coin=0, share="1/2")


def test_a_minimum_in_another_currency_is_compared_exactly_not_after_rounding() -> None:
    # 9.17 EUR at 1 EUR = 1.0905 USD is 9.999885 USD: under a 10.00 USD minimum.
    econ = simple_economy(withdrawal=gl.WithdrawalPolicy(minimum=Money("10.00", "USD"), min_age=0))
    book, _, app = _rich_creator(econ, "EUR", rates={("EUR", "USD"): "1.0905"})
    head = book.head
    with pytest.raises(gl.BelowWithdrawalThreshold, match=r"9\.17 EUR"):
        app.request_withdrawal("bob", Money("9.17", "EUR"))
    assert book.head == head
    assert app.request_withdrawal("bob", Money("9.18", "EUR")).amount == Money("9.18", "EUR")


def test_a_store_failure_while_planning_is_not_remembered_under_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, _, app = app_for(simple_economy())
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    app.buy_coins("alice", pack=10000, channel="web")

    def busy(*args: object, **kw: object) -> None:
        raise gl.StoreError("database is locked")

    monkeypatch.setattr(app._lots, "of", busy)
    with pytest.raises(gl.StoreError):
        app.send_gift("alice", "bob", "Galaxy", key="gift-1")
    monkeypatch.undo()
    assert app.send_gift("alice", "bob", "Galaxy", key="gift-1").key == "gift-1"


def test_a_refused_withdrawal_opens_no_account() -> None:
    econ = gl.presets.load("tiktok-live")
    book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from))
    app = gl.GiftEconomy(book, econ)
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    app.buy_coins("alice", pack=1400, channel="ios")
    app.send_gift("alice", "bob", "Galaxy")
    app.convert_diamonds("bob")
    before = book.accounts()
    head = book.head
    with pytest.raises(gl.BelowWithdrawalThreshold):
        app.request_withdrawal("bob", "5.00")
    assert book.accounts() == before
    assert book.head == head
