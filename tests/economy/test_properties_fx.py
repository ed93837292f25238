"""Random sequences across currencies: purchases in EUR, creators paid in EUR, books in USD.

Every unit balances on its own; each currency's fiat adds up once its trading
account is counted; every entry that crosses currencies stores its rate, and
its two legs agree with that rate to the named rounding.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl

from .chainkit import app_for, simple_economy, snapshot

_PROFILE = os.environ.get("GIFTLEDGER_HYPOTHESIS_PROFILE", "default")
EXAMPLES = int(
    os.environ.get("GIFTLEDGER_HYPOTHESIS_EXAMPLES")
    or {"default": 25, "ci": 100, "thorough": 1000}.get(_PROFILE, 25)
)

JAN = datetime(2020, 1, 1, tzinfo=UTC)
RATES = gl.RateTable.of(("USD", "EUR", "0.92", JAN, None))
OPS = (
    *("buy", "buy", "buy", "gift", "gift", "gift", "gift", "convert", "convert"),
    *("withdraw", "withdraw", "settle", "refund"),
)
REFUSED = (gl.InsufficientFunds, gl.LimitExceeded, gl.NotEligible, gl.AlreadyReversed)


def _minor(book: gl.Ledger, prefix: str, unit: str, suffix: str = "") -> int:
    total = Decimal(0)
    for name, money in book.balances(prefix).items():
        if money.currency.code == unit and name.endswith(suffix):
            total += money.amount
    return int(total * 100)


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_currency_adds_up_through_its_trading_account(data: st.DataObject) -> None:
    econ = simple_economy(
        withdrawal=gl.WithdrawalPolicy(minimum=Money("5", "USD"), fee_rate=Fraction(1, 100)),
        taxes=(gl.TaxRule("DE", Fraction(19, 100)),),
    )
    book, clock, app = app_for(econ, start=JAN + timedelta(days=1), rates=RATES)
    app.open_viewer("ann", region="US")
    app.open_viewer("max", region="DE")
    app.open_creator("cat", region="US")
    app.open_creator("eva", region="DE", payout_currency="EUR")
    paid = {"USD": 0, "EUR": 0}
    purchases: dict[int, tuple[str, int]] = {}
    withdrawals: list[gl.Withdrawal] = []
    for _ in range(data.draw(st.integers(1, 40), label="steps")):
        op = data.draw(
            st.sampled_from(OPS),
            label="op",
        )
        before = snapshot(book)
        try:
            if op == "buy":
                v = data.draw(st.sampled_from(["ann", "max"]), label="viewer")
                pack, channel = data.draw(
                    st.sampled_from([(100, "web"), (1400, "ios"), (10000, "web")]), label="pack"
                )
                tx = app.buy_coins(v, pack=pack, channel=channel)
                ccy = str(tx.meta["gl.currency"])
                gross = int(tx.meta["gl.gross"])  # VAT is inside the price here
                paid[ccy] += gross
                purchases[tx.id] = (ccy, gross)
            elif op == "gift":
                v = data.draw(st.sampled_from(["ann", "max"]), label="viewer")
                c = data.draw(st.sampled_from(["cat", "eva"]), label="creator")
                wallet = int(book.balance(f"viewers:{v}:coins").amount)
                g = "Galaxy" if wallet >= 1000 and data.draw(st.booleans()) else "Rose"
                app.send_gift(v, c, g, data.draw(st.integers(1, 3), label="n"))
            elif op == "convert":
                c = data.draw(st.sampled_from(["cat", "eva"]), label="creator")
                held = int(book.balance(f"creators:{c}:diamonds").amount)
                app.convert_diamonds(c, data.draw(st.none() | st.integers(1, max(held, 1))))
            elif op == "withdraw":
                c = data.draw(st.sampled_from(["cat", "eva"]), label="creator")
                withdrawals.append(app.request_withdrawal(c, "all"))
            elif op == "settle" and withdrawals:
                w = data.draw(st.sampled_from(withdrawals), label="withdrawal")
                (app.complete_withdrawal if data.draw(st.booleans()) else app.fail_withdrawal)(w)
            elif op == "refund" and purchases:
                pid = data.draw(st.sampled_from(sorted(purchases)), label="purchase")
                app.refund_purchase(pid)
                ccy, gross = purchases[pid]
                paid[ccy] -= gross
            event(f"{op}: done")
        except (*REFUSED, gl.HoldNotPending) as exc:
            event(f"{op}: refused ({type(exc).__name__})")
            assert snapshot(book) == before
        clock.advance(timedelta(hours=data.draw(st.integers(0, 30), label="hours")))

    assert book.trial_balance().is_balanced
    book.verify()
    for ccy in ("USD", "EUR"):
        stores = _minor(book, "assets:stores:", ccy) + _minor(book, "expenses:store-fees:", ccy)
        assert stores == paid[ccy]
        left = paid[ccy] + _minor(book, "viewers:", ccy, ":receivable")
        left += _minor(book, "trading:", ccy)  # what crossed into (out of) this currency
        right = (
            _minor(book, "liabilities:", ccy)
            + _minor(book, "creators:", ccy, ":cash")
            + _minor(book, "revenue:", ccy)
            - _minor(book, "expenses:", ccy)
            # The store fees were paid out of what the viewers paid (paid = stores + fees).
            + _minor(book, "expenses:store-fees:", ccy)
            - _minor(book, "assets:bank", ccy)
        )
        assert left == right
    for tx in book.transactions():
        for rate in tx.rates:
            out = sum(p.minor for p in tx.postings if p.account == f"trading:{rate.base}")
            into = sum(p.minor for p in tx.postings if p.account == f"trading:{rate.quote}")
            exact = Fraction(out) * rate.value
            assert abs(into - exact) <= Fraction(1, 2)  # half even, to the minor unit
