"""explain() and statement(): every cent traced to real purchases, exactly."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import tiktok, usd


def _busy_day(seed: int) -> tuple[gl.Ledger, gl.GiftEconomy, list[str]]:
    rng = random.Random(seed)
    book, clock, app = tiktok()
    viewers, creators = ["ann", "ben", "cat"], ["bob", "dee"]
    for v in viewers:
        app.open_viewer(v, region="US")
    for c in creators:
        app.open_creator(c, region="US", age=30)
    econ = app.economy.latest
    gifts = [g.name for g in econ.gifts if g.coins <= 1100]
    for _ in range(60):
        v = rng.choice(viewers)
        roll = rng.random()
        if roll < 0.3:
            pack = rng.choice([70, 350, 1400, 3500])
            app.buy_coins(v, pack=pack, channel=rng.choice(["ios", "android", "web"]))
        elif roll < 0.9:
            try:
                app.send_gift(v, rng.choice(creators), rng.choice(gifts), rng.randint(1, 5))
            except gl.InsufficientFunds:
                pass
        else:
            c = rng.choice(creators)
            held = book.balance(f"creators:{c}:diamonds").amount
            if held:
                try:
                    app.convert_diamonds(c, rng.randint(1, int(held)))
                except gl.InsufficientFunds:
                    pass  # fewer Diamonds than make a whole cent: they stay in the wallet
        clock.advance(timedelta(minutes=7))
    return book, app, creators


@pytest.mark.parametrize("seed", range(5))
def test_explain_sums_exactly_to_earnings_and_traces_to_purchases(seed: int) -> None:
    book, app, creators = _busy_day(seed)
    spent_by_lot: dict[int, int] = {}
    paid_by_lot: dict[int, Money] = {}
    fee_by_lot: dict[int, Money] = {}
    for c in creators:
        ex = app.explain(c)
        for g in ex.gifts:
            assert g.paid == g.store_fee + g.tax + g.platform + g.creator
            assert sum(s.coins for s in g.purchases) == g.coins
            assert sum((s.released for s in g.purchases), usd("0")) + g.tax == g.paid
            for s in g.purchases:
                buy = book.transaction(s.purchase)
                assert buy.meta["gl.op"] == "buy_coins"  # a real purchase entry
                assert buy.meta["gl.viewer"] == s.viewer == g.viewer
                spent_by_lot[s.purchase] = spent_by_lot.get(s.purchase, 0) + s.coins
                paid_by_lot[s.purchase] = paid_by_lot.get(s.purchase, usd("0")) + s.paid
                fee_by_lot[s.purchase] = fee_by_lot.get(s.purchase, usd("0")) + s.store_fee
        total = ex.store_fees + ex.taxes + ex.platform + ex.earned
        assert ex.paid == total
        # Earned from gifts = still payable + released by conversions, to the cent.
        assert ex.earned == ex.payable + ex.converted
        assert ex.payable == book.balance(f"liabilities:creators-payable:{c}")
        assert ex.cash == ex.cash_from_conversions + ex.views - ex.withdrawn
    for lot in app.coin_lots():
        assert spent_by_lot.get(lot.id, 0) == lot.spent
        if lot.spent == lot.coins:  # a fully spent lot: every cent the viewer paid
            assert paid_by_lot[lot.id] == Money(lot.gross, "USD") / 100
            assert fee_by_lot[lot.id] == Money(lot.fee, "USD") / 100


def test_explain_shows_every_cut_of_the_tiktok_example() -> None:
    _book, _, app = tiktok()
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US", age=30)
    buy = app.buy_coins("alice", pack=1400, channel="ios")
    app.send_gift("alice", "bob", "Galaxy")
    ex = app.explain("bob")
    (g,) = ex.gifts
    assert (g.paid, g.store_fee, g.tax, g.platform, g.creator) == (
        usd("14.28"),
        usd("4.29"),  # 6.00 x 1000/1400 = 4.2857…
        usd("0.00"),
        usd("4.99"),
        usd("5.00"),
    )
    (s,) = g.purchases
    assert (s.purchase, s.channel, s.coins) == (buy.id, "ios", 1000)
    assert re.search(r"^= Earned from gifts +\$5\.00$", str(ex), re.M)
    # The slice gave the creator and the platform what the gift gave them.
    assert (s.creator, s.platform) == (g.creator, g.platform)


def test_explain_counts_fx_and_withdrawal_fees() -> None:
    from fractions import Fraction

    from .chainkit import app_for, simple_economy

    econ = simple_economy(
        withdrawal=gl.WithdrawalPolicy(minimum=Money("1", "EUR"), fee_rate=Fraction(1, 100))
    )
    _book, _, app = app_for(econ, rates={("USD", "EUR"): "0.5"})
    app.open_viewer("v", region="US")
    app.open_creator("eva", region="DE", payout_currency="EUR")
    app.buy_coins("v", pack=10000, channel="web")
    app.send_gift("v", "eva", "Galaxy", 2)  # 2,000 Diamonds = $10.00 = €5.00
    app.convert_diamonds("eva")
    w = app.request_withdrawal("eva", Money("4.00", "EUR"))
    app.complete_withdrawal(w)
    ex = app.explain("eva")
    assert ex.converted == usd("10.00")
    assert ex.cash_from_conversions == Money("5.00", "EUR")
    assert [str(r) for r in ex.rates] == ["USD/EUR=1/2"]
    assert ex.withdrawn == Money("4.00", "EUR")
    assert ex.withdrawal_fees == Money("0.04", "EUR")
    assert ex.cash == Money("1.00", "EUR")


def test_statement_is_itemised_and_localised() -> None:
    _book, clock, app = tiktok()
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US", age=30)
    app.buy_coins("alice", pack=1400, channel="ios")
    app.send_gift("alice", "bob", "Galaxy")
    clock.advance(timedelta(days=2))
    app.convert_diamonds("bob")
    st = app.statement("bob", locale="de_DE")
    assert [line.kind for line in st.lines] == ["gift", "conversion"]
    text = st.render()
    assert "1 × Galaxy von alice" in text
    assert "5,00\xa0$" in text
    assert "1.000 Diamanten" in text
    only_first_day = app.statement(
        "bob", start=datetime(2025, 9, 1, tzinfo=UTC), end=datetime(2025, 9, 2, tzinfo=UTC)
    )
    assert [line.kind for line in only_first_day.lines] == ["gift"]
    assert "$5.00" in str(only_first_day)
    with pytest.raises(gl.UnknownLocale, match="xx_NOPE"):
        app.statement("bob", locale="xx_NOPE")
