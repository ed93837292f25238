"""Property: purchases and paid gifts in random currencies lose and create no cent.

For random sequences of coin purchases (USD, GBP, EUR, JPY ladders per region and
channel), coin gifts, gifts paid in money in any of four currencies, conversions to
creators paid in four currencies, at random exchange rates (the testing kit's
``chain_scenarios`` and ``rate_tables``), this holds per currency ``X``, exactly, to
the minor unit (the kit's ``check_every_cent``)::

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
import giftledger.testing as glt

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


def _minor(book: gl.Ledger, prefix: str, ccy: str) -> int:
    """Sum of the normal-side balances under ``prefix`` in ``ccy``, minor units."""
    return sum(
        int(m.amount * SCALE[ccy])
        for name, m in book.balances(prefix).items()
        if m.currency.code == ccy and name.startswith(prefix)
    )


# The testing kit draws the sequences: purchases on the ladders of the viewer's
# region, gifts of coins held, gifts paid in any of four currencies, conversions
# for creators paid in four currencies, time passing.
KINDS = (glt.BuyCoins, glt.SendGift, glt.SendPaidGift, glt.ConvertDiamonds, glt.AdvanceClock)


@pytest.mark.slow
@pytest.mark.parametrize("share_after_fees", [True, False])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=glt.FAST_PHASES,
)
@given(data=st.data())
def test_every_cent_in_every_currency_is_accounted_for(
    share_after_fees: bool, data: st.DataObject
) -> None:
    econ = _economy(share_after_fees)
    rates = data.draw(glt.rate_tables(currencies=tuple(SCALE), valid_from=T0), label="rates")
    scenario = data.draw(
        glt.chain_scenarios(
            econ,
            rates=rates,
            start=T0 + timedelta(hours=1),
            viewers=5,
            creators=4,
            max_operations=25,
            kinds=KINDS,
        ),
        label="scenario",
    )
    regions = {v.name: v.region or "*" for v in scenario.viewers}
    paid: dict[str, int] = defaultdict(int)
    taxes: dict[str, int] = defaultdict(int)
    fees: dict[str, int] = defaultdict(int)
    rules = econ.latest
    with glt.run_chain(econ, scenario) as run:
        book = run.book
        for step in run.steps:
            op, tx = step.operation, step.result
            if not isinstance(tx, gl.Transaction):
                continue
            if isinstance(op, glt.BuyCoins):
                pack = rules.pack(op.pack, op.channel, regions[op.viewer])
                ccy = pack.price.currency.code
                price, channel = int(pack.price.amount * SCALE[ccy]), op.channel
            elif isinstance(op, glt.SendPaidGift):
                ccy = op.amount.currency.code
                price, channel = int(op.amount.amount * SCALE[ccy]), op.channel
            else:
                continue
            gross, tax, fee = _sale(price, regions[op.viewer], channel)
            rec = gl.record_of(tx)
            assert isinstance(rec, gl.PurchaseRecord | gl.PaidGiftRecord)
            assert (rec.currency, rec.gross, rec.tax, rec.fee) == (ccy, gross, tax, fee)
            paid[ccy] += gross
            taxes[ccy] += tax
            fees[ccy] += fee

        for ccy in SCALE:
            store_fees = _minor(book, "expenses:store-fees:", ccy)
            tax = _minor(book, "liabilities:tax-payable:", ccy)
            assert (store_fees, tax) == (fees[ccy], taxes[ccy]), ccy
        # Per currency: paid = store fees + taxes + platform + creators + deferred +
        # what moved through trading:X; the stores hold what they did not keep.
        glt.check_every_cent(run.app, paid=paid)
        glt.check_no_arbitrage(run.app)
        # A creator's explanation traces their gifts to what viewers paid, per currency.
        glt.check_explanations(run.app)
        for creator in scenario.creators:
            ex = run.app.explain(creator.name)
            for p in ex.paid_in:
                ccy = p.paid.currency.code
                slices = [s for g in ex.gifts for s in g.purchases if s.paid.currency.code == ccy]
                assert sum((s.paid for s in slices), Money(0, ccy)) == p.paid
                assert {(s.rate, s.bought_at.date()) for s in slices if s.rate} == set(p.rates)
