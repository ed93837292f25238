"""How gifts pay creators: Diamond value, share of price, rounding, and the platform's shortfall."""

from __future__ import annotations

from fractions import Fraction

from moneyed import Money

import giftledger as gl

from .chainkit import app_for, simple_economy, usd


def test_a_creator_owed_more_than_the_coins_released_is_a_platform_expense() -> None:
    # 100 coins sell for $1.00 on the web, but each Diamond is worth $0.015 here.
    econ = simple_economy(
        creator_pay=gl.CreatorPay(gl.PayoutModel.DIAMOND_VALUE, value_per_unit=Fraction(3, 200))
    )
    book, _, app = app_for(econ)
    app.open_viewer("v", region="US")
    app.open_creator("c", region="US")
    app.buy_coins("v", pack=100, channel="web")
    tx = app.send_gift("v", "c", "Rose", 100)
    assert tx.meta["gl.released"] == 100
    assert book.balance("liabilities:creators-payable:c") == usd("1.50")
    assert book.balance("expenses:gift-shortfall") == usd("0.50")  # never a silent negative
    assert book.balance("revenue:gifts") == usd("0.00")
    (gift,) = app.explain("c").gifts
    assert gift.platform == usd("-0.50")
    assert gift.paid == gift.store_fee + gift.tax + gift.platform + gift.creator


def test_model_b_gives_half_a_diamond_per_coin_rounded_down_for_the_platform() -> None:
    econ = gl.presets.load("tiktok-live", model="B")
    book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from))
    b_app = gl.GiftEconomy(book, econ)
    b_app.open_viewer("v", region="US")
    b_app.open_creator("c", region="US")
    b_app.buy_coins("v", pack=70, channel="web")
    one = b_app.send_gift("v", "c", "Rose")  # 1 coin → 0.5 Diamond → 0
    assert one.meta["gl.units"] == 0
    five = b_app.send_gift("v", "c", "Finger Heart")  # 5 coins → 2.5 → 2
    assert five.meta["gl.units"] == 2
    assert book.balance("creators:c:diamonds") == Money(2, "DIAMOND")
    assert book.balance("liabilities:creators-payable:c") == usd("0.01")  # 2 x $0.005


def test_model_d_pays_half_of_what_the_viewer_paid_tax_included() -> None:
    econ = gl.presets.load("tiktok-live", model="D")
    book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from))
    app = gl.GiftEconomy(book, econ)
    app.open_viewer("v", region="DE")  # VAT 19% inside the price
    app.open_creator("c", region="US")
    app.buy_coins("v", pack=1400, channel="ios")  # 19.99: VAT 3.19, Apple 30% of 16.80
    tx = app.send_gift("v", "c", "Galaxy")
    # Released 16.80 x 1000/1400 = 12.00; the VAT in those coins 3.19 x 1000/1400 = 2.28;
    # half of what the viewer paid for them (14.28) is 7.14.
    assert tx.meta["gl.released"] == 1200
    assert book.balance("liabilities:creators-payable:c") == usd("7.14")
    assert book.balance("revenue:gifts") == usd("4.86")


def test_share_of_price_converts_in_parts_without_losing_a_cent() -> None:
    econ = gl.presets.load("youtube-super-chat")
    book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from))
    app = gl.GiftEconomy(book, econ)
    app.open_viewer("v", region="US")
    app.open_creator("c", region="US")
    app.buy_coins("v", pack=100, channel="ios")  # $1.00, Apple 0.30
    app.send_gift("v", "c", "Super Chat $1")  # 70% of 0.70 = 0.49
    assert book.balance("liabilities:creators-payable:c") == usd("0.49")
    for _ in range(3):
        app.convert_diamonds("c", 33)
    app.convert_diamonds("c")
    assert book.balance("creators:c:cash") == usd("0.49")
    assert book.balance("liabilities:creators-payable:c") == usd("0.00")
