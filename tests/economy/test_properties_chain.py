"""Random operation sequences on every preset: nothing is created, lost or left unexplained.

For each preset, and each preset variant, the testing kit draws scenarios a real
user could play (``giftledger.testing.chain_scenarios``: purchases, gifts of
coins held, paid gifts, conversions, withdrawals completed or failed, refunds,
chargebacks, view pay, profile changes, time passing) and plays them
(``run_chain``: a refused operation must change nothing). Then every invariant
of the kit holds (``check_all``: each unit conserved, no balance below its rule,
lots and deferred revenue in step, every cent viewers paid accounted for per
currency, explanations adding up, no FX round trip that makes money), no preset
is a money machine (``check_creator_share``), and so do this test's own tallies,
kept independently of the chain's arithmetic: the coins bought, gifted and
refunded (first in, first out), the creator units given and converted, and
what viewers paid per currency at the shelf price.

Examples per case (each preset, and each preset variant): 40 by default
(about a minute in all on two cores); ``GIFTLEDGER_HYPOTHESIS_PROFILE=thorough``
runs 2,000 per case (10,000 sequences for the five presets as shipped, more
with the variants), ``=ci`` runs 100; ``GIFTLEDGER_HYPOTHESIS_EXAMPLES=N`` sets
the count directly.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import giftledger as gl
import giftledger.testing as glt

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


@dataclass
class Tally:
    """What the test itself knows happened, independent of the chain's arithmetic."""

    coins_bought: int = 0
    coins_gifted: int = 0
    coins_refunded: int = 0
    units_given: int = 0
    units_converted: int = 0
    paid: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # purchase entry id -> [viewer, currency, price, coins still unspent]
    lots: dict[int, list[object]] = field(default_factory=dict)

    def spend(self, viewer: str, coins: int) -> None:
        for lot in self.lots.values():  # first in, first out
            if lot[0] == viewer and coins:
                taken = min(coins, lot[3])  # type: ignore[call-overload]
                lot[3] -= taken  # type: ignore[operator]
                coins -= taken
        assert coins == 0, "a gift spent coins the viewer did not hold"


def _tally(run: glt.ChainRun) -> Tally:
    t = Tally()
    for step in run.steps:
        op, tx = step.operation, step.result
        event(f"{type(op).__name__}: {type(step.refused).__name__ if step.refused else 'done'}")
        if not isinstance(tx, gl.Transaction):
            continue
        rec = gl.record_of(tx)
        rules = run.economy.rules_at(tx.recorded_at)
        if isinstance(op, glt.BuyCoins):
            assert isinstance(rec, gl.PurchaseRecord)
            pack = rules.pack(op.pack, op.channel, rec.region)
            ccy = pack.price.currency.code
            price = gl.to_minor(pack.price, ccy)
            # Every preset's taxes are inside the price: the viewer pays the shelf price.
            assert (rec.currency, rec.gross) == (ccy, price)
            t.paid[ccy] += price
            t.coins_bought += pack.coins
            t.lots[tx.id] = [op.viewer, ccy, price, pack.coins]
        elif isinstance(op, glt.SendGift):
            assert isinstance(rec, gl.GiftRecord)
            coins = rules.gift(op.gift).coins * op.quantity
            t.spend(op.viewer, coins)
            t.coins_gifted += coins
            units = coins * rules.creator_pay.creator_units_per_coin
            assert rec.units == int(units)  # FLOOR in every preset
            t.units_given += rec.units
        elif isinstance(op, glt.SendPaidGift):
            assert isinstance(rec, gl.PaidGiftRecord)
            ccy = op.amount.currency.code
            assert rec.gross == gl.to_minor(op.amount, ccy)  # no tax added on top
            t.paid[ccy] += rec.gross
            t.units_given += rec.units
        elif isinstance(op, glt.ConvertDiamonds):
            assert isinstance(rec, gl.ConversionRecord)
            t.units_converted += rec.units
        elif isinstance(op, glt.RefundPurchase | glt.Chargeback):
            _, ccy, price, unspent = t.lots.pop(run.purchases[op.purchase].id)
            t.coins_refunded += unspent  # type: ignore[operator]
            t.paid[ccy] -= price  # type: ignore[index, operator]
    return t


def _held(book: gl.Ledger, role: str, suffix: str) -> int:
    return sum(int(m.amount) for n, m in book.balances(f"{role}:").items() if n.endswith(suffix))


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
    phases=glt.FAST_PHASES,
)
@given(data=st.data())
def test_random_sequences_conserve_every_unit_and_every_cent(
    preset: str, variant: dict[str, str], data: st.DataObject
) -> None:
    econ = gl.presets.load(preset, **variant)
    scenario = data.draw(glt.chain_scenarios(econ, max_operations=STEPS), label="scenario")
    with glt.run_chain(econ, scenario) as run:
        t = _tally(run)
        book = run.book
        wallets = _held(book, "viewers", ":coins")
        assert wallets == t.coins_bought - t.coins_gifted - t.coins_refunded
        assert _held(book, "creators", ":diamonds") == t.units_given - t.units_converted
        glt.check_all(run.app, paid=t.paid)
        glt.check_creator_share(run.app)  # no preset is a money machine
