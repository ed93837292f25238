"""Random sequences across currencies: purchases in EUR, creators paid in EUR, books in USD.

The testing kit draws the sequences (``giftledger.testing.chain_scenarios``).
Every unit balances on its own; each currency's fiat adds up once its trading
account is counted (``check_every_cent``); every entry that crosses currencies
stores its rate, and its two legs agree with that rate to the named rounding
(``check_no_arbitrage``, and by hand below).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt

from .chainkit import simple_economy

_PROFILE = os.environ.get("GIFTLEDGER_HYPOTHESIS_PROFILE", "default")
EXAMPLES = int(
    os.environ.get("GIFTLEDGER_HYPOTHESIS_EXAMPLES")
    or {"default": 25, "ci": 100, "thorough": 1000}.get(_PROFILE, 25)
)

JAN = datetime(2020, 1, 1, tzinfo=UTC)
RATES = gl.RateTable.of(("USD", "EUR", "0.92", JAN, None))
# Purchases in USD and EUR (VAT in Germany), gifts, conversions (creators paid in
# EUR through the trading accounts), withdrawals and settlements, refunds, time.
KINDS = (
    glt.BuyCoins,
    glt.SendGift,
    glt.ConvertDiamonds,
    glt.RequestWithdrawal,
    glt.CompleteWithdrawal,
    glt.FailWithdrawal,
    glt.RefundPurchase,
    glt.AdvanceClock,
)


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=glt.FAST_PHASES,
)
@given(data=st.data())
def test_every_currency_adds_up_through_its_trading_account(data: st.DataObject) -> None:
    econ = simple_economy(
        withdrawal=gl.WithdrawalPolicy(minimum=Money("5", "USD"), fee_rate=Fraction(1, 100)),
        taxes=(gl.TaxRule("DE", Fraction(19, 100)),),
    )
    scenario = data.draw(
        glt.chain_scenarios(
            econ, rates=RATES, start=JAN + timedelta(days=1), max_operations=40, kinds=KINDS
        ),
        label="scenario",
    )
    with glt.run_chain(econ, scenario) as run:
        assert run.book.trial_balance().is_balanced
        run.app.verify()
        # Per currency, what viewers paid (read from the purchases, less refunds) is
        # what the stores hold and kept, and every cent of it is accounted for.
        glt.check_every_cent(run.app)
        # Every entry that crosses currencies stores its rate, and its two legs agree
        # with that rate to the named rounding (half even, to the minor unit).
        glt.check_no_arbitrage(run.app)
        for tx in run.book.transactions():
            for rate in tx.rates:
                out = sum(p.minor for p in tx.postings if p.account == f"trading:{rate.base}")
                into = sum(p.minor for p in tx.postings if p.account == f"trading:{rate.quote}")
                assert abs(into - Fraction(out) * rate.value) <= Fraction(1, 2)
