"""Property: purchases and paid gifts in random currencies lose and create no cent.

For random sequences of coin purchases (USD, GBP, EUR, JPY ladders per region and
channel), coin gifts, gifts paid in money in any of four currencies, conversions to
creators paid in four currencies, at random exchange rates, this holds per currency
``X``, exactly, to the minor unit::

    fiat viewers paid in X = store fees + taxes + platform + creators
                             + still deferred + what moved through trading:X

The left side is computed here from the published rules (the shelf price, the
region's VAT or sales tax, the store's percentage and fixed fee), independently of
the chain; the right side is read from the books. The money also sits where it
should (the stores hold what they did not keep), and each creator's explanation
traces what they were paid, per currency, back to what viewers paid.

``GIFTLEDGER_HYPOTHESIS_EXAMPLES=N`` sets the number of sequences (default 60).
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl

EXAMPLES = int(os.environ.get("GIFTLEDGER_HYPOTHESIS_EXAMPLES") or 60)
T0 = datetime(2025, 1, 1, tzinfo=UTC)
SCALE = {"USD": 100, "GBP": 100, "EUR": 100, "JPY": 1}
REGIONS = {"US": "USD", "GB": "GBP", "DE": "EUR", "JP": "JPY", "BR": "USD"}
# Tax rules by region: (rate, included in the price?)
TAX = {
    "GB": (Fraction(20, 100), True),
    "DE": (Fraction(19, 100), True),
    "JP": (Fraction(10, 100), True),
    "US": (Fraction(5, 100), False),
}
FEES = {"ios": (Fraction(30, 100), 0), "web": (Fraction(29, 1000), 30)}  # web: +$0.30


def _economy(share_after_fees: bool) -> gl.Economy:
    packs = []
    for coins, usd in ((100, "1.40"), (500, "7.00"), (1000, "14.00")):
        packs += [gl.CoinPack(coins, Money(usd, "USD"), ch) for ch in ("ios", "web")]
    for region, ccy, prices in (
        ("GB", "GBP", ((100, "1.19"), (1000, "11.99"))),
        ("DE", "EUR", ((100, "1.29"), (500, "6.49"))),
        ("JP", "JPY", ((100, "160"), (1000, "1600"))),
    ):
        packs += [gl.CoinPack(c, Money(p, ccy), "ios", region) for c, p in prices]
    tip = gl.Gift(
        "Tip",
        amounts=(
            gl.AmountRange(Money("1.00", "USD"), Money("500.00", "USD")),
            gl.AmountRange(Money("1.00", "GBP"), Money("400.00", "GBP")),
            gl.AmountRange(Money("1.00", "EUR"), Money("500.00", "EUR")),
            gl.AmountRange(Money("100", "JPY"), Money("50000", "JPY")),
        ),
    )
    rules = gl.RuleSet(
        effective_from=T0,
        coin_packs=tuple(packs),
        store_fees=(
            gl.StoreFee("ios", FEES["ios"][0], account="apple"),
            gl.StoreFee("web", FEES["web"][0], fixed=Money("0.30", "USD"), account="card"),
        ),
        gifts=(gl.Gift("Rose", 1), gl.Gift("Heart", 7), gl.Gift("Galaxy", 1000), tip),
        creator_pay=gl.CreatorPay(
            gl.PayoutModel.SHARE_OF_PRICE,
            share=Fraction(7, 10),
            share_after_fees=share_after_fees,
        ),
        taxes=(
            *(gl.TaxRule(r, rate, inclusive) for r, (rate, inclusive) in TAX.items()),
            gl.TaxRule("*", Fraction(0)),
        ),
        payout_currencies=("USD", "GBP", "EUR", "JPY"),
    )
    return gl.Economy("fx-test", "FX test", "USD", "COIN", "DIAMOND", (rules,))


def _round(x: Fraction) -> int:
    return int(Decimal(x.numerator / Decimal(x.denominator)).to_integral_value(ROUND_HALF_UP))


def _sale(price: int, region: str, channel: str) -> tuple[int, int, int]:
    """(gross, tax, fee) in minor units, from the published rules, by hand."""
    rate, inclusive = TAX.get(region, (Fraction(0), True))
    if inclusive:
        tax, gross = _round(price * rate / (1 + rate)), price
    else:
        tax = _round(price * rate)
        gross = price + tax
    pct, fixed = FEES[channel]
    return gross, tax, _round((gross - tax) * pct) + fixed


rates_st = st.fixed_dictionaries(
    {
        "GBP": st.integers(11000, 15000).map(lambda n: Decimal(n) / 10000),
        "EUR": st.integers(9000, 13000).map(lambda n: Decimal(n) / 10000),
        "JPY": st.integers(5000, 10000).map(lambda n: Decimal(n) / 1000000),
    }
)


def _minor(book: gl.Ledger, prefix: str, ccy: str) -> int:
    """Sum of the normal-side balances under ``prefix`` in ``ccy``, minor units."""
    return sum(
        int(m.amount * SCALE[ccy])
        for name, m in book.balances(prefix).items()
        if m.currency.code == ccy and name.startswith(prefix)
    )


@pytest.mark.slow
@pytest.mark.parametrize("share_after_fees", [True, False])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), rates=rates_st)
def test_every_cent_in_every_currency_is_accounted_for(
    share_after_fees: bool, data: st.DataObject, rates: dict[str, Decimal]
) -> None:
    econ = _economy(share_after_fees)
    clock = gl.ManualClock(T0 + timedelta(hours=1))
    book = gl.Ledger(clock=clock)
    table = gl.RateTable.of(*((c, "USD", r, T0, None) for c, r in rates.items()))
    app = gl.GiftEconomy(book, econ, rates=table)
    viewers = {f"v-{r}": r for r in REGIONS}
    for name, region in viewers.items():
        app.open_viewer(name, region=region, age=30)
    creators = {f"c-{c}": c for c in ("USD", "GBP", "EUR", "JPY")}
    for name, ccy in creators.items():
        app.open_creator(name, region="US", age=30, payout_currency=ccy)
    paid: dict[str, int] = defaultdict(int)
    taxes: dict[str, int] = defaultdict(int)
    fees: dict[str, int] = defaultdict(int)
    rules = econ.latest

    for _ in range(data.draw(st.integers(1, 25), label="steps")):
        op = data.draw(st.sampled_from(["buy", "buy", "gift", "tip", "convert", "time"]))
        v = data.draw(st.sampled_from(sorted(viewers)), label="viewer")
        region = viewers[v]
        c = data.draw(st.sampled_from(sorted(creators)), label="creator")
        if op == "buy":
            channel = data.draw(st.sampled_from(["ios", "web"]), label="channel")
            pack = data.draw(st.sampled_from(rules.packs(channel, region)), label="pack")
            ccy = pack.price.currency.code
            tx = app.buy_coins(v, pack=pack.coins, channel=channel)
            gross, tax, fee = _sale(int(pack.price.amount * SCALE[ccy]), region, channel)
        elif op == "tip":
            ccy = data.draw(st.sampled_from(["USD", "GBP", "EUR", "JPY"]), label="currency")
            channel = "ios" if ccy != "USD" else data.draw(st.sampled_from(["ios", "web"]))
            bounds = rules.gift("Tip").amount_range(ccy)
            lo, hi = (int(m.amount * SCALE[ccy]) for m in (bounds.minimum, bounds.maximum))
            price = data.draw(st.integers(lo, hi), label="amount")
            tx = app.send_gift(v, c, "Tip", amount=Money(price, ccy) / SCALE[ccy], channel=channel)
            gross, tax, fee = _sale(price, region, channel)
        elif op == "gift":
            held = int(book.balance(f"viewers:{v}:coins").amount)
            coin_gifts = [g for g in rules.gifts if not g.priced_in_money and g.coins <= held]
            if coin_gifts:
                g = data.draw(st.sampled_from(coin_gifts), label="gift")
                app.send_gift(v, c, g.name)
            continue
        elif op == "convert":
            if book.balance(f"creators:{c}:diamonds").amount:
                app.convert_diamonds(c)
            continue
        else:
            clock.advance(timedelta(hours=data.draw(st.integers(1, 48), label="hours")))
            continue
        rec = gl.record_of(tx)
        assert isinstance(rec, gl.PurchaseRecord | gl.PaidGiftRecord)
        assert (rec.currency, rec.gross, rec.tax, rec.fee) == (ccy, gross, tax, fee)
        paid[ccy] += gross
        taxes[ccy] += tax
        fees[ccy] += fee

    assert book.trial_balance().is_balanced
    for ccy in SCALE:
        store_fees = _minor(book, "expenses:store-fees:", ccy)
        tax = _minor(book, "liabilities:tax-payable:", ccy)
        assert (store_fees, tax) == (fees[ccy], taxes[ccy]), ccy
        # The stores hold what they did not keep.
        assert _minor(book, "assets:stores:", ccy) + store_fees == paid[ccy], ccy
        platform = (
            _minor(book, "revenue:", ccy)
            - store_fees
            - _minor(book, "expenses:gift-shortfall", ccy)
            - _minor(book, "expenses:creator-pay-adjustments", ccy)
        )
        creators_x = _minor(book, "liabilities:creators-payable:", ccy) + sum(
            int(m.amount * SCALE[ccy])
            for n, m in book.balances("creators:").items()
            if n.endswith(":cash") and m.currency.code == ccy
        )
        deferred = _minor(book, "liabilities:deferred-revenue", ccy)
        # trading:X is debit-normal: what was carried out of X is a credit balance.
        fx = -_minor(book, "trading:", ccy)
        assert paid[ccy] == tax + store_fees + platform + creators_x + deferred + fx, ccy
    # A creator's explanation traces their gifts to what viewers paid, per currency.
    for name in creators:
        ex = app.explain(name)
        assert ex.paid == ex.store_fees + ex.taxes + ex.platform + ex.earned
        assert sum((p.paid_books for p in ex.paid_in), Money(0, "USD")) == ex.paid
        for p in ex.paid_in:
            ccy = p.paid.currency.code
            slices = [s for g in ex.gifts for s in g.purchases if s.paid.currency.code == ccy]
            assert sum((s.paid for s in slices), Money(0, ccy)) == p.paid
            assert {(s.rate, s.bought_at.date()) for s in slices if s.rate} == set(p.rates)
