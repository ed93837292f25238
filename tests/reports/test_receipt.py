"""An explanation reads like a receipt whose lines sum exactly, on any chain."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
from giftledger.testing import chain_scenarios, run_chain

PRESETS = ["tiktok-live", "youtube-super-chat", "twitch-bits", "bigo-live", "facebook-stars"]


def _bank(book: gl.Ledger) -> dict[str, Money]:
    """What reached the bank per creator, read from the settling entries' postings."""
    out: dict[str, Money] = defaultdict(lambda: Money(0, "USD"))
    for tx in book.transactions():
        rec = gl.record_of(tx)
        if not isinstance(rec, gl.WithdrawalSettleRecord):
            continue
        hold = gl.record_of(book.transaction(rec.withdrawal))
        assert isinstance(hold, gl.WithdrawalRecord)
        for p in tx.postings:
            if p.account.startswith("assets:bank"):
                paid = gl.from_minor(p.minor, p.unit)
                have = out.get(hold.creator)
                out[hold.creator] = paid if have is None else have + paid
    return out


def _check(app: gl.GiftEconomy, creators: list[str]) -> None:
    bank = _bank(app.ledger)
    for creator in creators:
        ex = app.explain(creator, locale="pt_BR")
        receipt = ex.receipt()
        assert [s.total.key for s in receipt.steps] == ["earned", "converted", "bank"]
        for step in receipt.steps:
            ccy = step.total.amount.currency
            assert all(line.amount.currency == ccy for line in step.lines)
            assert sum((x.amount for x in step.lines), Money(0, ccy)) == step.total.amount, (
                creator,
                step,
            )
        first, second, _ = receipt.steps
        assert second.lines[0] == first.total  # each step starts where the last ended
        assert receipt.steps[-1].total.amount == ex.paid_out
        if ex.paid_out.amount:
            assert bank[creator] == ex.paid_out
        # Per gift and per purchase slice, every part adds up.
        for g in ex.gifts:
            assert g.paid == g.store_fee + g.tax + g.platform + g.creator
            zero = Money(0, g.paid.currency)
            for field in ("creator", "platform"):
                assert sum((getattr(s, field) for s in g.purchases), zero) == getattr(g, field)
            assert sum((s.store_fee_books for s in g.purchases), zero) == g.store_fee
            assert sum((s.tax_books for s in g.purchases), zero) == g.tax
            for s in g.purchases:
                assert s.paid_books == s.store_fee_books + s.tax_books + s.platform + s.creator


@pytest.mark.parametrize("preset", PRESETS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_receipt_lines_sum_exactly_on_random_chains(preset: str, data: st.DataObject) -> None:
    econ = gl.presets.load(preset)
    scenario = data.draw(chain_scenarios(econ, max_operations=25))
    with run_chain(econ, scenario) as run:
        _check(run.app, [c.name for c in run.creators])


def test_a_receipt_walks_from_viewers_to_the_bank_with_fx_and_fees() -> None:
    from fractions import Fraction

    from ..economy.chainkit import app_for, simple_economy

    econ = simple_economy(
        withdrawal=gl.WithdrawalPolicy(minimum=Money("1", "EUR"), fee_rate=Fraction(1, 100))
    )
    _book, _, app = app_for(econ, rates={("USD", "EUR"): "0.5"})
    app.open_viewer("v", region="US")
    app.open_creator("eva", region="DE", payout_currency="EUR")
    app.buy_coins("v", pack=10000, channel="web")
    app.send_gift("v", "eva", "Galaxy", 2)  # 2,000 Diamonds = $10.00 = €5.00
    app.convert_diamonds("eva")
    app.complete_withdrawal(app.request_withdrawal("eva", Money("4.00", "EUR")))
    receipt = app.explain("eva", locale="de_DE").receipt()
    keys = [[x.key for x in s.lines] for s in receipt.steps]
    assert keys[-1] == ["fx", "cash", "withdrawal_fees"]
    fx, cash, fees = receipt.steps[-1].lines
    assert fx.amount == Money("5.00", "EUR")
    assert "USD → EUR 0,5" in fx.label
    assert (cash.amount, fees.amount) == (Money("-1.00", "EUR"), Money("-0.04", "EUR"))
    assert receipt.steps[-1].total.amount == Money("3.96", "EUR")
    assert receipt.steps[-1].total.label == "Auf das Bankkonto ausgezahlt"
    text = receipt.render()
    assert text.splitlines()[-1].endswith("3,96\xa0€")
    _check(app, ["eva"])  # and the bank got what the receipt says, from the books


def test_a_pending_withdrawal_shows_as_held_and_the_bank_total_matches_the_books() -> None:
    from .test_statements_i18n import _busy

    _, app = _busy()
    w = app.request_withdrawal("bob", Money("5.00", "USD"))
    receipt = app.explain("bob", locale="en_US").receipt()
    cash = next(x for x in receipt.steps[-1].lines if x.key == "cash")
    assert "$5.00 held for pending withdrawals" in cash.label
    _check(app, ["bob"])
    app.fail_withdrawal(w)
    _check(app, ["bob"])
