"""The chain on the TikTok LIVE preset: the fact sheet's worked numbers, step by step."""

from __future__ import annotations

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import snapshot, tiktok, usd


def _bal(book: gl.Ledger, name: str) -> Money:
    return book.balance(name)


# Each step: (action, expected balances after it). Numbers from facts/gift-economy.md:
# 1,400 coins for $19.99 on iOS with Apple's 30%: 13.99 to us, 6.00 to Apple; a Galaxy
# (1,000 coins) releases 19.99 * 1000/1400 = 14.2785… → 14.28; Model A pays 1,000
# Diamonds x $0.005 = $5.00; the last 400 coins release exactly the rest, 5.71.
TIKTOK_STEPS = [
    (
        ("buy", "alice", 1400, "ios"),
        {
            "assets:stores:apple": usd("13.99"),
            "expenses:store-fees:apple": usd("6.00"),
            "liabilities:deferred-revenue": usd("19.99"),
            "viewers:alice:coins": Money(1400, "COIN"),
            "platform:coin-supply": Money(1400, "COIN"),
        },
    ),
    (
        ("gift", "alice", "bob", "Galaxy", 1),
        {
            "viewers:alice:coins": Money(400, "COIN"),
            "liabilities:deferred-revenue": usd("5.71"),
            "liabilities:creators-payable:bob": usd("5.00"),
            "revenue:gifts": usd("9.28"),
            "creators:bob:diamonds": Money(1000, "DIAMOND"),
        },
    ),
    (
        ("gift", "alice", "bob", "Rose", 400),
        {
            "viewers:alice:coins": Money(0, "COIN"),
            "liabilities:deferred-revenue": usd("0.00"),
            "liabilities:creators-payable:bob": usd("7.00"),
            "revenue:gifts": usd("12.99"),
            "creators:bob:diamonds": Money(1400, "DIAMOND"),
        },
    ),
    (
        ("convert", "bob"),
        {
            "creators:bob:diamonds": Money(0, "DIAMOND"),
            "liabilities:creators-payable:bob": usd("0.00"),
            "creators:bob:cash": usd("7.00"),
            "platform:diamond-supply": Money(0, "DIAMOND"),
        },
    ),
    # Two 17,500-coin packs at $249.99 (Apple keeps 74.997 → 75.00), then 2 x
    # Interstellar (20,000 coins): the first lot releases all of its 249.99, the
    # second 2,500/17,500 of it = 35.7128… → 35.71; bob is owed 20,000 x $0.005.
    (
        ("buy", "alice", 17500, "ios"),
        {"assets:stores:apple": usd("188.98"), "expenses:store-fees:apple": usd("81.00")},
    ),
    (("buy", "alice", 17500, "ios"), {"liabilities:deferred-revenue": usd("499.98")}),
    (
        ("gift", "alice", "bob", "Interstellar", 2),
        {
            "liabilities:deferred-revenue": usd("214.28"),
            "liabilities:creators-payable:bob": usd("100.00"),
            "revenue:gifts": usd("198.69"),
        },
    ),
    (("convert", "bob"), {"creators:bob:cash": usd("107.00")}),
    (
        ("withdraw", "bob", "100.00"),
        {"creators:bob:cash": usd("107.00")},  # a hold: posted balance unchanged
    ),
    (
        ("complete",),
        {
            "creators:bob:cash": usd("7.00"),
            "liabilities:payouts-in-flight": usd("0.00"),
            "assets:bank": usd("-100.00"),
        },
    ),
]


def test_tiktok_worked_numbers_step_by_step() -> None:
    book, _clock, app = tiktok()
    app.open_viewer("alice", region="US", age=30)
    app.open_creator("bob", region="US", age=30)
    last_withdrawal = None
    for i, (action, expected) in enumerate(TIKTOK_STEPS):
        kind = action[0]
        if kind == "buy":
            app.buy_coins(action[1], pack=action[2], channel=action[3], key=f"step-{i}")
        elif kind == "gift":
            app.send_gift(action[1], action[2], action[3], action[4], key=f"step-{i}")
        elif kind == "convert":
            app.convert_diamonds(action[1], key=f"step-{i}")
        elif kind == "withdraw":
            last_withdrawal = app.request_withdrawal(action[1], usd(action[2]), key=f"step-{i}")
            assert book.available("creators:bob:cash") == usd("7.00")
        elif kind == "complete":
            assert last_withdrawal is not None
            app.complete_withdrawal(last_withdrawal)
        for name, amount in expected.items():
            assert _bal(book, name) == amount, (i, action, name)
        assert book.trial_balance().is_balanced
    assert book.verify() == len(list(book.transactions()))


def test_a_fully_spent_lot_releases_exactly_its_price() -> None:
    book, _, app = tiktok()
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    app.buy_coins("alice", pack=70, channel="ios")
    released = []
    for _ in range(7):  # ten coins at a time: 0.99 * 10/70 = 0.1414… each, cumulatively
        tx = app.send_gift("alice", "bob", "Rosa")
        released.append(tx.meta["gl.released"])
    assert sum(released) == 99
    assert book.balance("liabilities:deferred-revenue") == usd("0.00")


def test_gift_lots_are_consumed_first_in_first_out() -> None:
    _book, _, app = tiktok()
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    web = app.buy_coins("alice", pack=70, channel="web")
    ios = app.buy_coins("alice", pack=70, channel="ios")
    tx = app.send_gift("alice", "bob", "Doughnut", 3)  # 90 coins: 70 web + 20 iOS
    lots = [s.split(":")[:2] for s in str(tx.meta["gl.lots"]).split(";")]
    assert lots == [[str(web.id), "70"], [str(ios.id), "20"]]
    assert app.coin_lot(web.id).unspent == 0
    assert app.coin_lot(ios.id).unspent == 50


def test_many_small_gifts_owe_what_one_big_gift_owes() -> None:
    book, _, app = tiktok()
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    app.buy_coins("alice", pack=1400, channel="ios")
    for _ in range(3):
        app.send_gift("alice", "bob", "Rose")  # 1 Diamond = $0.005 each
    assert book.balance("liabilities:creators-payable:bob") == usd("0.01")  # floor(0.015)
    app.send_gift("alice", "bob", "Rose")
    assert book.balance("liabilities:creators-payable:bob") == usd("0.02")
    app.convert_diamonds("bob", 3)  # converts 2 (= 0.01); an odd Diamond makes no whole cent
    assert book.balance("creators:bob:diamonds") == Money(2, "DIAMOND")
    app.convert_diamonds("bob")
    assert book.balance("creators:bob:cash") == usd("0.02")
    assert book.balance("liabilities:creators-payable:bob") == usd("0.00")


def test_same_key_same_request_replays_and_other_request_conflicts() -> None:
    book, _, app = tiktok()
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    first = app.buy_coins("alice", pack=1400, channel="ios", key="order-1")
    again = app.buy_coins("alice", pack=1400, channel="ios", key="order-1")
    assert again.id == first.id
    assert book.balance("viewers:alice:coins") == Money(1400, "COIN")
    with pytest.raises(gl.DuplicateKeyConflict):
        app.buy_coins("alice", pack=700, channel="ios", key="order-1")
    g = app.send_gift("alice", "bob", "Galaxy", key="gift-1")
    assert app.send_gift("alice", "bob", "Galaxy", key="gift-1").id == g.id
    assert book.balance("viewers:alice:coins") == Money(400, "COIN")


def test_dry_run_returns_the_entry_and_writes_nothing() -> None:
    book, _, app = tiktok()
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    app.buy_coins("alice", pack=1400, channel="ios")
    before = snapshot(book)
    tx = app.send_gift("alice", "bob", "Galaxy", dry_run=True)
    assert tx.meta["gl.released"] == 1428
    assert snapshot(book) == before
    assert app.buy_coins("alice", pack=70, channel="web", dry_run=True).postings
    assert snapshot(book) == before


def test_lots_are_rebuilt_from_a_reopened_sqlite_ledger(tmp_path: object) -> None:
    import pathlib

    url = f"sqlite:///{pathlib.Path(str(tmp_path)) / 'gifts.db'}"
    econ = gl.presets.load("tiktok-live")
    clock = gl.ManualClock(gl.presets.load("tiktok-live").latest.effective_from)
    with gl.Ledger.open(url, clock=clock) as book:
        app = gl.GiftEconomy(book, econ)
        app.open_viewer("alice", region="US", age=21)
        app.open_creator("bob", region="US", age=40, verified=True)
        app.buy_coins("alice", pack=1400, channel="ios", key="order-1")
        app.send_gift("alice", "bob", "Galaxy", key="gift-1")
    with gl.Ledger.open(url, clock=clock) as book:
        app = gl.GiftEconomy(book, econ)
        assert app.viewer("alice").age == 21
        assert app.creator("bob").verified is True
        app.send_gift("alice", "bob", "Hand Heart", 4, key="gift-2")
        (lot,) = app.coin_lots("alice")
        assert lot.spent == 1400
        assert lot.released == 1999
        assert book.balance("liabilities:deferred-revenue") == usd("0.00")
        assert app.explain("bob").paid == usd("19.99")
        book.verify()


def test_a_gift_reversed_in_the_ledger_gives_its_lot_slices_back() -> None:
    book, _, app = tiktok()
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US")
    buy = app.buy_coins("alice", pack=70, channel="ios")
    first = app.send_gift("alice", "bob", "Rosa")
    second = app.send_gift("alice", "bob", "Doughnut")
    with pytest.raises(gl.NotReversible, match="chain"):
        book.reverse(first)  # the core refuses to undo a chain entry behind the chain
    app.reverse_gift(first)
    lot = app.coin_lot(buy)
    assert lot.spent == 30
    assert book.balance("viewers:alice:coins") == Money(40, "COIN")
    assert [g.transaction for g in app.explain("bob").gifts] == [second.id]
    for _ in range(4):
        app.send_gift("alice", "bob", "Rosa")
    lot = app.coin_lot(buy)
    assert lot.spent == lot.coins
    assert lot.released == lot.deferred == 99  # still exactly the price, to the cent
    assert book.balance("liabilities:deferred-revenue") == usd("0.00")
    assert app.explain("bob").paid == usd("0.99")
