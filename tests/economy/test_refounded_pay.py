"""Issue 8, acceptance 5: rounding does not quietly cost creators.

Under ``SHARE_OF_PRICE`` (tiktok-live's model D: the creator is owed 50% of what
the viewer paid for the spent coins, rounded down) a creator's total pay over many
gifts equals the split of the total of those gifts within one minor unit — the
rounding remainder is carried, not dropped at each gift.

Under ``DIAMOND_VALUE`` at $0.005 a Diamond (model A), a conversion converts only
the Diamonds that make whole cents: converting an odd number leaves exactly one
Diamond in the creator's wallet, and it is paid once a later Diamond makes it whole.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import T0

GIFTS = 1000


def _minor(m: Money) -> int:
    return gl.to_minor(m, m.currency.code)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_share_of_price_pay_over_random_gifts_is_the_split_of_their_total(seed: int) -> None:
    econ = gl.presets.load("tiktok-live", model="D")
    pay = econ.rules_at(T0).creator_pay
    assert pay.model is gl.PayoutModel.SHARE_OF_PRICE
    assert pay.share == Fraction(1, 2)
    assert not pay.share_after_fees
    book = gl.Ledger(clock=gl.ManualClock(T0))
    app = gl.GiftEconomy(book, econ)
    app.open_creator("bob", region="US", age=30)
    rng = random.Random(seed)
    rules = econ.rules_at(T0)
    catalog = {g.name: g.coins for g in rules.gifts if g.coins <= 100}
    names = sorted(catalog)

    # 1,000 random gifts from three viewers, who buy random packs on web and in the app
    # as they run short; at the end every coin bought has been spent on bob, so what
    # the gifts released is exactly what was paid (US: no tax).
    viewers = ("ann", "ben", "cat")
    for v in viewers:
        app.open_viewer(v, region="US", age=30)
    paid = 0  # cents the viewers paid, in USD
    coins = dict.fromkeys(viewers, 0)
    for i in range(GIFTS):
        v = viewers[i % len(viewers)]
        gift = rng.choice(names)
        quantity = rng.randint(1, 3)
        cost = catalog[gift] * quantity
        while coins[v] < cost:
            channel = rng.choice(("web", "ios", "android"))
            pack = rng.choice((70, 350, 700, 1400))
            app.buy_coins(v, pack=pack, channel=channel)
            coins[v] += pack
            paid += _minor(rules.pack(pack, channel, "US").price)  # US: no tax on top
        app.send_gift(v, "bob", gift, quantity)
        coins[v] -= cost
    for v in viewers:  # spend the rest, so every lot is spent to its last coin
        if coins[v]:
            app.send_gift(v, "bob", "Rose", coins[v])
    assert all(book.balance(f"viewers:{v}:coins") == Money(0, "COIN") for v in viewers)
    assert book.balance("liabilities:deferred-revenue") == Money("0.00", "USD")

    app.convert_diamonds("bob")
    total_pay = _minor(book.balance("creators:bob:cash")) + _minor(
        book.balance("liabilities:creators-payable:bob")
    )
    exact = Fraction(paid) * pay.share  # the split of the total, not yet rounded
    assert abs(total_pay - exact) < 1, (
        f"bob was paid {total_pay / 100} USD for gifts worth {paid / 100} USD; "
        f"the 50% split of their total is {float(exact) / 100:.4f} USD"
    )
    assert book.trial_balance().is_balanced
    book.verify()


@pytest.mark.parametrize("how", ["all", "explicit"])
def test_converting_an_odd_number_of_diamonds_leaves_the_one_that_makes_no_cent(
    how: str,
) -> None:
    econ = gl.presets.load("tiktok-live", model="A")
    pay = econ.rules_at(T0).creator_pay
    assert pay.model is gl.PayoutModel.DIAMOND_VALUE
    assert pay.value_per_unit == Fraction(1, 200)  # $0.005 a Diamond
    book = gl.Ledger(clock=gl.ManualClock(T0))
    app = gl.GiftEconomy(book, econ)
    app.open_creator("bob", region="US", age=30)
    app.open_viewer("fan", region="US", age=30)
    for _ in range(2):
        app.buy_coins("fan", pack=17500, channel="web")
    app.send_gift("fan", "bob", "Lion")  # 29,999 Diamonds: $149.995
    assert book.balance("creators:bob:diamonds") == Money(29999, "DIAMOND")

    if how == "all":
        app.convert_diamonds("bob")
    else:
        app.convert_diamonds("bob", 29999)
    assert book.balance("creators:bob:diamonds") == Money(1, "DIAMOND")
    assert book.balance("creators:bob:cash") == Money("149.99", "USD")  # 29,998 x $0.005

    # The odd Diamond's half cent is still the creator's: one more makes a cent.
    app.send_gift("fan", "bob", "Rose")
    app.convert_diamonds("bob")
    assert book.balance("creators:bob:diamonds") == Money(0, "DIAMOND")
    assert book.balance("creators:bob:cash") == Money("150.00", "USD")  # 30,000 x $0.005
    assert book.balance("liabilities:creators-payable:bob") == Money("0.00", "USD")
    assert book.trial_balance().is_balanced
    book.verify()
