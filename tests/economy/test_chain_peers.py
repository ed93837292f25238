"""The fact sheet's worked numbers for Twitch Bits and YouTube Super Chat, step by step."""

from __future__ import annotations

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import T0, snapshot, usd


def _app(preset: str) -> tuple[gl.Ledger, gl.GiftEconomy, gl.Economy]:
    econ = gl.presets.load(preset)
    book = gl.Ledger(clock=gl.ManualClock(T0))
    return book, gl.GiftEconomy(book, econ), econ


def test_twitch_bits_desktop_purchase_cheer_conversion_and_payout() -> None:
    book, app, econ = _app("twitch-bits")
    earned = econ.creator_unit
    app.open_viewer("vic", region="US")
    app.open_creator("streamer", region="US", age=25, verified=True)
    # 100 Bits for $1.40 on twitch.tv; the card processor's 3% is 0.042 → 0.04.
    app.buy_coins("vic", pack=100, channel="web")
    assert book.balance("assets:stores:web") == usd("1.36")
    assert book.balance("expenses:store-fees:web") == usd("0.04")
    assert book.balance("liabilities:deferred-revenue") == usd("1.40")
    # Cheer 100: $0.01 per Bit to the streamer, Twitch keeps $0.40 of the $1.40.
    app.send_gift("vic", "streamer", "Cheer 100")
    assert book.balance("liabilities:creators-payable:streamer") == usd("1.00")
    assert book.balance("revenue:gifts") == usd("0.40")
    assert book.balance(f"creators:streamer:{'diamonds'}") == Money(100, earned)
    # 5,000 Bits for $64.40 (fee 1.932 → 1.93), cheered at once: $50.00 to the streamer.
    app.buy_coins("vic", pack=5000, channel="web")
    app.send_gift("vic", "streamer", "Cheer 5000")
    assert book.balance("revenue:gifts") == usd("14.80")
    app.convert_diamonds("streamer")
    assert book.balance("creators:streamer:cash") == usd("51.00")
    # Minimum payout $50 (2022 onward): one cent less is refused and writes nothing.
    before = snapshot(book)
    with pytest.raises(gl.BelowWithdrawalThreshold):
        app.request_withdrawal("streamer", usd("49.99"))
    assert snapshot(book) == before
    w = app.request_withdrawal("streamer", usd("50.00"))
    app.complete_withdrawal(w)
    assert book.balance("creators:streamer:cash") == usd("1.00")
    assert book.balance("assets:bank") == usd("-50.00")


def test_twitch_bits_in_the_ios_app_cost_more_and_leave_the_platform_less() -> None:
    book, app, _ = _app("twitch-bits")
    app.open_viewer("vic", region="US")
    app.open_creator("streamer", region="US", age=25)
    app.buy_coins("vic", pack=1050, channel="ios")  # $19.99, Apple keeps 5.997 → 6.00
    assert book.balance("expenses:store-fees:apple") == usd("6.00")
    tx = app.send_gift("vic", "streamer", "Cheer 1000")
    assert tx.meta["gl.released"] == 1904  # 19.99 x 1000/1050 = 19.038… → 19.04
    assert book.balance("liabilities:creators-payable:streamer") == usd("10.00")
    assert book.balance("revenue:gifts") == usd("9.04")


def test_twitch_requires_a_verified_streamer_to_withdraw() -> None:
    _, app, _ = _app("twitch-bits")
    app.open_viewer("vic", region="US")
    app.open_creator("anon", region="US", age=25, verified=False)
    app.buy_coins("vic", pack=5000, channel="web")
    app.send_gift("vic", "anon", "Cheer 5000")
    app.convert_diamonds("anon")
    with pytest.raises(gl.NotEligible, match="not verified"):
        app.request_withdrawal("anon", "all")


@pytest.mark.parametrize(
    ("channel", "region", "fee", "tax", "creator", "platform_cut"),
    [
        # iOS: 70% of what is left after Apple's 30%: 0.7 x 7.00 = 4.90.
        ("ios", "US", "3.00", "0.00", "4.90", "5.10"),
        # Web: no store fee: 0.7 x 10.00 = 7.00.
        ("web", "US", "0.00", "0.00", "7.00", "3.00"),
        # Germany: 19% VAT inside the $10: 1.5966… → 1.60; 0.7 x 8.40 = 5.88.
        ("web", "DE", "0.00", "1.60", "5.88", "2.52"),
    ],
)
def test_youtube_super_chat_pays_70_percent_after_tax_and_the_ios_fee(
    channel: str, region: str, fee: str, tax: str, creator: str, platform_cut: str
) -> None:
    book, app, econ = _app("youtube-super-chat")
    app.open_viewer("fan", region=region)
    app.open_creator("host", region="US", age=30)
    buy = app.buy_coins("fan", pack=1000, channel=channel)
    assert buy.meta["gl.fee"] == int(usd(fee).amount * 100)
    assert buy.meta["gl.tax"] == int(usd(tax).amount * 100)
    app.send_gift("fan", "host", "Super Chat $10")
    assert book.balance("liabilities:creators-payable:host") == usd(creator)
    assert book.balance("revenue:gifts") == usd(platform_cut)
    assert book.balance("liabilities:deferred-revenue") == usd("0.00")
    app.convert_diamonds("host")
    assert book.balance("creators:host:cash") == usd(creator)
    ex = app.explain("host")
    assert ex.paid == usd("10.00")
    assert ex.store_fees + ex.taxes + ex.platform + ex.earned == usd("10.00")
    assert book.balance(f"creators:host:{'diamonds'}") == Money(0, econ.creator_unit)


def test_youtube_pays_out_from_the_adsense_threshold_of_100() -> None:
    book, app, _ = _app("youtube-super-chat")
    app.open_viewer("fan", region="US")
    app.open_creator("host", region="US", age=30)
    for _ in range(15):
        app.buy_coins("fan", pack=1000, channel="web")
        app.send_gift("fan", "host", "Super Chat $10")
    app.convert_diamonds("host")
    assert book.balance("creators:host:cash") == usd("105.00")
    with pytest.raises(gl.BelowWithdrawalThreshold):
        app.request_withdrawal("host", usd("99.99"))
    assert app.request_withdrawal("host", usd("100")).net == usd("100.00")
