"""Random operation sequences on every preset: nothing is created, lost or left unexplained.

For each preset, Hypothesis draws sequences of purchases, gifts, conversions,
withdrawals (completed or failed), refunds, chargebacks, view pay and the
passing of time, then checks: every unit's trial balance is zero; no coin or
creator unit is created or lost; the fiat the viewers paid in equals store fees
+ taxes + platform revenue + creator earnings + what is still deferred, to the
cent; and every refused operation changed nothing.

Examples per case (each preset, and each preset variant): 40 by default
(about a minute in all on two cores); ``GIFTLEDGER_HYPOTHESIS_PROFILE=thorough``
runs 2,000 per case (10,000 sequences for the five presets as shipped, more
with the variants), ``=ci`` runs 100; ``GIFTLEDGER_HYPOTHESIS_EXAMPLES=N`` sets
the count directly.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl

from .chainkit import snapshot

_PROFILE = os.environ.get("GIFTLEDGER_HYPOTHESIS_PROFILE", "default")
EXAMPLES = int(
    os.environ.get("GIFTLEDGER_HYPOTHESIS_EXAMPLES")
    or {"default": 40, "ci": 100, "thorough": 2000}.get(_PROFILE, 40)
)
STEPS = 30

# Every preset as shipped, then each of its variants (TikTok's ladders, conversion
# models and withdrawal rules) one at a time.
CASES = [(p.name, {}) for p in gl.presets.list()] + [
    (p.name, {option: value})
    for p in gl.presets.list()
    for option, values in sorted(p.variants.items())
    for value in values
]
# Operations, repeated to weight them; "whale" buys big and gifts enough to withdraw.
OPS = (
    *("buy", "buy", "gift", "gift", "gift", "convert", "convert", "withdraw", "withdraw"),
    *("settle", "refund", "views", "time", "whale", "paid"),
)

# Refusals a random sequence is expected to meet; each must leave the books unchanged.
REFUSED = (
    gl.InsufficientFunds,  # BelowWithdrawalThreshold is one
    gl.LimitExceeded,
    gl.NotEligible,
    gl.AlreadyReversed,
    gl.HoldNotPending,
)


def _sum(book: gl.Ledger, prefix: str, unit: str) -> int:
    """Sum of posted balances (normal side) under ``prefix``, in minor units."""
    total = Decimal(0)
    for name, money in book.balances(prefix).items():
        if money.currency.code == unit and name.startswith(prefix):
            total += money.amount
    return int(total * 100)


class Model:
    """What the test itself knows happened, independent of the chain's arithmetic."""

    def __init__(self) -> None:
        self.coins_bought = 0
        self.coins_gifted = 0
        self.coins_refunded = 0
        self.units_given = 0
        self.units_converted = 0
        self.paid_in = 0  # minor units of the books' currency, net of refunds
        self.purchases: dict[int, int] = {}  # purchase id -> price paid
        self.withdrawals: list[gl.Withdrawal] = []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("preset", "variant"),
    CASES,
    ids=[f"{n}" + "".join(f"-{k}={v}" for k, v in o.items()) for n, o in CASES],
)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_sequences_conserve_every_unit_and_every_cent(
    preset: str, variant: dict[str, str], data: st.DataObject
) -> None:
    econ = gl.presets.load(preset, **variant)
    # Any version of the rules: start somewhere in the economy's history.
    version = data.draw(st.sampled_from(econ.versions), label="version")
    clock = gl.ManualClock(version.effective_from + timedelta(hours=1))
    book = gl.Ledger(clock=clock)
    app = gl.GiftEconomy(book, econ)
    books = econ.books_currency
    viewers = ["ann", "ben"]
    creators = ["cat", "dan"]
    app.open_viewer("ann", region="US", age=30)
    app.open_viewer("ben", region="DE", age=40)
    app.open_creator("cat", region="US", age=30, verified=True)
    app.open_creator("dan", region="US", age=17)  # never eligible to withdraw
    model = Model()

    def buy(v: str, pack: gl.CoinPack) -> None:
        tx = app.buy_coins(v, pack=pack.coins, channel=pack.channel)
        model.coins_bought += pack.coins
        # US has no sales tax and German VAT is inside the price: the viewer pays
        # the shelf price.
        price = int(pack.price.amount * 100)
        assert tx.meta["gl.gross"] == price
        model.paid_in += price
        model.purchases[tx.id] = price

    def gift(v: str, c: str, g: gl.Gift, n: int, rules: gl.RuleSet) -> None:
        tx = app.send_gift(v, c, g.name, n)
        coins = g.coins * n
        model.coins_gifted += coins
        units = coins * rules.creator_pay.creator_units_per_coin
        assert tx.meta["gl.units"] == int(units)  # FLOOR in every preset
        model.units_given += int(units)

    def convert(c: str, part: int | None) -> None:
        held = int(book.balance(f"creators:{c}:diamonds").amount)
        app.convert_diamonds(c, part)
        # Only Diamonds worth whole minor units convert; the rest stay in the wallet.
        model.units_converted += held - int(book.balance(f"creators:{c}:diamonds").amount)

    for _ in range(data.draw(st.integers(1, STEPS), label="steps")):
        rules = econ.rules_at(clock.now())
        op = data.draw(
            st.sampled_from(OPS),
            label="op",
        )
        before = snapshot(book)
        try:
            if op == "buy":
                packs = [p for p in rules.coin_packs if p.price.currency.code == books]
                pack = data.draw(st.sampled_from(packs), label="pack")
                buy(data.draw(st.sampled_from(viewers), label="viewer"), pack)
            elif op == "gift":
                v = data.draw(st.sampled_from(viewers), label="viewer")
                c = data.draw(st.sampled_from(creators), label="creator")
                wallet = int(book.balance(f"viewers:{v}:coins").amount)
                coin_gifts = [g for g in rules.gifts if not g.priced_in_money]
                affordable = [g for g in coin_gifts if g.coins <= wallet] or coin_gifts
                g = data.draw(st.sampled_from(affordable), label="gift")
                gift(v, c, g, data.draw(st.integers(1, 3), label="quantity"), rules)
            elif op == "convert":
                c = data.draw(st.sampled_from(creators), label="creator")
                held = int(book.balance(f"creators:{c}:diamonds").amount)
                convert(c, data.draw(st.none() | st.integers(1, max(1, held)), label="units"))
            elif op == "whale":
                # A big spender: enough for a withdrawal on every preset.
                packs = [p for p in rules.coin_packs if p.price.currency.code == books]
                big = max(packs, key=lambda p: p.coins)
                for _ in range(data.draw(st.integers(1, 4), label="packs")):
                    buy("ann", big)
                for _ in range(40):
                    wallet = int(book.balance("viewers:ann:coins").amount)
                    affordable = [
                        g for g in rules.gifts if not g.priced_in_money and g.coins <= wallet
                    ]
                    if not affordable:
                        break
                    gift("ann", "cat", max(affordable, key=lambda g: g.coins), 1, rules)
                if book.balance("creators:cat:diamonds").amount:
                    convert("cat", None)
            elif op == "withdraw":
                c = data.draw(st.sampled_from(["cat", "cat", "cat", "dan"]), label="creator")
                cash = int(book.available(f"creators:{c}:cash").amount * 100)
                amount = data.draw(
                    st.just("all")
                    | st.integers(1, max(1, cash)).map(lambda m: Money(m, books) / 100),
                    label="amount",
                )
                model.withdrawals.append(app.request_withdrawal(c, amount))
            elif op == "settle" and model.withdrawals:
                w = data.draw(st.sampled_from(model.withdrawals), label="withdrawal")
                if data.draw(st.booleans(), label="completes"):
                    app.complete_withdrawal(w)
                else:
                    app.fail_withdrawal(w)
            elif op == "refund" and model.purchases:
                pid = data.draw(st.sampled_from(sorted(model.purchases)), label="purchase")
                lot = app.coin_lot(pid)
                if data.draw(st.booleans(), label="chargeback"):
                    app.chargeback(pid)
                else:
                    app.refund_purchase(pid)
                model.coins_refunded += lot.unspent
                model.paid_in -= model.purchases[pid]
            elif op == "views" and rules.rewards:
                c = data.draw(st.sampled_from(creators), label="creator")
                prog = rules.rewards[0]
                views = data.draw(st.integers(0, 5_000_000), label="views")
                app.pay_views(
                    c,
                    f"p{len(list(book.transactions()))}",
                    {"US": views},
                    followers=prog.min_followers,
                    views_30d=prog.min_views_30d,
                    # "over 1 minute": a video must be longer than an exclusive minimum
                    video_seconds=prog.min_video_seconds + prog.min_video_seconds_exclusive,
                    program=prog.name,
                )
            elif op == "paid" and any(g.priced_in_money for g in rules.gifts):
                # A gift paid in money as it is sent (a Super Chat), in the books' currency.
                g = data.draw(
                    st.sampled_from([g for g in rules.gifts if g.priced_in_money]), label="gift"
                )
                bounds = g.amount_range(books)
                cents = data.draw(
                    st.integers(int(bounds.minimum.amount * 100), int(bounds.maximum.amount * 100)),
                    label="cents",
                )
                v = data.draw(st.sampled_from(viewers), label="viewer")
                c = data.draw(st.sampled_from(creators), label="creator")
                channel = data.draw(st.sampled_from(rules.channels), label="channel")
                tx = app.send_gift(v, c, g.name, amount=Money(cents, books) / 100, channel=channel)
                assert tx.meta["gl.gross"] == cents  # no tax is added on top in any preset
                model.paid_in += cents
                model.units_given += int(tx.meta["gl.units"])
            elif op in ("settle", "refund", "views", "paid"):
                continue  # nothing to act on yet
            elif op == "time":
                clock.advance(timedelta(hours=data.draw(st.integers(1, 72), label="hours")))
            event(f"{op}: done")
        except REFUSED as exc:
            event(f"{op}: refused ({type(exc).__name__})")
            assert snapshot(book) == before, op
        assert book.trial_balance().is_balanced

    _check(book, app, econ, model)


def _check(book: gl.Ledger, app: gl.GiftEconomy, econ: gl.Economy, model: Model) -> None:
    assert book.verify() >= 0
    tb = book.trial_balance()
    assert tb.is_balanced
    b = econ.books_currency
    # No coin created or lost.
    wallets = sum(
        int(m.amount) for n, m in book.balances("viewers:").items() if n.endswith(":coins")
    )
    assert wallets == model.coins_bought - model.coins_gifted - model.coins_refunded
    assert int(book.balance("platform:coin-supply").amount) == wallets
    # No creator unit created or lost.
    held = sum(
        int(m.amount) for n, m in book.balances("creators:").items() if n.endswith(":diamonds")
    )
    assert held == model.units_given - model.units_converted
    assert int(book.balance("platform:diamond-supply").amount) == held
    assert all(m.amount >= 0 for m in book.balances("viewers:").values())
    assert all(m.amount >= 0 for n, m in book.balances("creators:").items())
    # Fiat: paid in = store fees + taxes + platform revenue + creator earnings + deferred.
    store_fees = _sum(book, "expenses:store-fees:", b)
    taxes = _sum(book, "liabilities:tax-payable:", b)
    deferred = _sum(book, "liabilities:deferred-revenue", b)
    # The platform's net: its revenue less every expense, the store fees included
    # (deferred revenue holds the gross, so the fee is paid out of the platform's cut).
    platform = (
        _sum(book, "revenue:", b)
        - store_fees
        - _sum(book, "expenses:gift-shortfall", b)
        - _sum(book, "expenses:refund-losses", b)
        - _sum(book, "expenses:creator-pay-adjustments", b)
    )
    creators = (
        _sum(book, "liabilities:creators-payable:", b)
        + sum(
            int(m.amount * 100)
            for n, m in book.balances("creators:").items()
            if n.endswith(":cash") and m.currency.code == b
        )
        + _sum(book, "liabilities:payouts-in-flight", b)
        - _sum(book, "assets:bank", b)
    )
    viewer_debt = sum(
        int(m.amount * 100)
        for n, m in book.balances("viewers:").items()
        if n.endswith(":receivable")
    )
    rewards = _sum(book, "platform:rewards-pool", b)
    assert model.paid_in + viewer_debt + rewards == (
        store_fees + taxes + platform + creators + deferred
    )
    # What is still deferred is exactly the unreleased value of the unrefunded lots.
    lots = app.coin_lots()
    assert deferred == sum(lot.deferred - lot.released for lot in lots if lot.refunded is None)
    for lot in lots:
        if lot.spent == lot.coins:
            assert lot.released == lot.deferred  # a fully spent lot releases all of it
    # Every creator's explanation adds up.
    for c in ("cat", "dan"):
        ex = app.explain(c)
        assert ex.paid == ex.store_fees + ex.taxes + ex.platform + ex.earned
        assert ex.earned == ex.payable + ex.converted
