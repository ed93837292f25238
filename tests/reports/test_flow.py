"""money_flow(): where the money went, as nodes and links that balance exactly."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt
from tests.economy.chainkit import app_for, simple_economy, tiktok


def _sums(flow: gl.MoneyFlow) -> tuple[dict[str, Money], dict[str, Money]]:
    """Inflows and outflows per node, added up here from the links alone."""
    into: dict[str, Money] = defaultdict(lambda: Money(0, flow.currency))
    out: dict[str, Money] = defaultdict(lambda: Money(0, flow.currency))
    for link in flow.links:
        into[link.target] += link.amount
        out[link.source] += link.amount
    return into, out


def assert_balances(flow: gl.MoneyFlow) -> None:
    """Every node's outflows sum to its inflows and to its amount, to the minor unit;
    what entered is what ended up somewhere."""
    into, out = _sums(flow)
    keys = {n.key for n in flow.nodes}
    entered = ended = Money(0, flow.currency)
    for link in flow.links:
        assert link.source in keys, link
        assert link.target in keys, link
        assert link.amount.currency.code == flow.currency
        assert link.amount.amount > 0, link
    for node in flow.nodes:
        assert node.amount.currency.code == flow.currency, node
        if node.key in into and node.key in out:
            assert into[node.key] == out[node.key] == node.amount, node
        elif node.key in out:
            assert out[node.key] == node.amount, node
            entered += node.amount
        elif node.key in into:
            assert into[node.key] == node.amount, node
            ended += node.amount
    assert entered == ended
    for link in flow.links:  # a link into a later stage, never back
        stage = {n.key: n.stage for n in flow.nodes}
        assert stage[link.source] < stage[link.target], link


def assert_paid_balances(flow: gl.MoneyFlow) -> None:
    """After the conversion, the payout-currency amounts balance too."""
    if flow.payout is None:
        assert all(n.paid is None for n in flow.nodes)
        return
    cash = flow.node("cash") if any(n.key == "cash" for n in flow.nodes) else None
    if cash is None:
        return
    assert cash.paid is not None
    into = [link.paid for link in flow.links if link.target == "cash"]
    out = [link.paid for link in flow.links if link.source == "cash"]
    zero = Money(0, flow.payout)
    assert sum((p for p in into if p is not None), zero) == cash.paid
    assert sum((p for p in out if p is not None), zero) == cash.paid


def _viewers(flow: gl.MoneyFlow) -> Money:
    found = [n.amount for n in flow.nodes if n.key == "viewers"]
    return found[0] if found else Money(0, flow.currency)


PRESETS = [p.name for p in gl.presets.list()]


@pytest.mark.parametrize("preset", PRESETS)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=glt.FAST_PHASES,
)
@given(data=st.data())
def test_every_node_of_a_random_chains_flow_balances_and_matches_the_books(
    preset: str, data: st.DataObject
) -> None:
    econ = gl.presets.load(preset)
    scenario = data.draw(glt.chain_scenarios(econ, max_operations=30), label="scenario")
    with glt.run_chain(econ, scenario) as run:
        app, book = run.app, run.book
        for c in scenario.creators:
            ex = app.explain(c.name)
            flow = gl.money_flow(ex)
            assert_balances(flow)
            assert_paid_balances(flow)
            found = {n.key: n for n in flow.nodes}
            zero = Money(0, ex.paid.currency.code)
            # The cuts are the explanation's, exactly.
            assert found.get("viewers") is None or found["viewers"].amount == ex.paid
            assert (found["store_fees"].amount if "store_fees" in found else zero) == ex.store_fees
            assert (found["tax"].amount if "tax" in found else zero) == ex.taxes
            platform = found["platform"].amount if "platform" in found else zero
            top_up = found["top_up"].amount if "top_up" in found else zero
            assert platform - top_up == ex.platform
            # What is the creator's at the end is, in the payout currency, the books'.
            payout = ex.cash.currency.code
            pzero = Money(0, payout)

            def paid(key: str, found: dict[str, gl.FlowNode] = found, zero: Money = pzero) -> Money:
                n = found.get(key)
                if n is None:
                    return zero
                return n.paid if n.paid is not None else n.amount

            assert paid("held") + paid("in_flight") == book.balance(f"creators:{c.name}:cash")
            assert paid("bank") + paid("withdrawal_fees") == ex.withdrawn
            owed = found["owed"].amount if "owed" in found else zero
            back = found["clawback"].amount if "clawback" in found else zero
            assert owed - back == book.balance(f"liabilities:creators-payable:{c.name}")
            # Each gift alone, and the gifts of two halves of the run, balance too.
            for g in ex.gifts:
                one = gl.money_flow(g)
                assert_balances(one)
                assert _viewers(one) == g.paid
                assert one.total == g.paid + max(-g.platform, Money(0, flow.currency))
            if ex.gifts:
                mid = ex.gifts[len(ex.gifts) // 2].at
                early = gl.money_flow(ex, end=mid)
                late = gl.money_flow(ex, start=mid)
                assert_balances(early)
                assert_balances(late)
                assert _viewers(early) + _viewers(late) == ex.paid


def test_a_creator_paid_in_euros_shows_fx_withdrawal_fee_and_bank_exactly() -> None:
    econ = simple_economy(
        withdrawal=gl.WithdrawalPolicy(minimum=Money("1", "EUR"), fee_rate=Fraction(1, 100))
    )
    _book, _, app = app_for(econ, rates={("USD", "EUR"): "0.5"})
    app.open_viewer("v", region="US")
    app.open_creator("eva", region="DE", payout_currency="EUR")
    app.buy_coins("v", pack=10000, channel="web")
    app.send_gift("v", "eva", "Galaxy", 3)  # 3,000 Diamonds = $15.00
    app.convert_diamonds("eva", 2000)  # $10.00 = €5.00
    w = app.request_withdrawal("eva", Money("4.00", "EUR"))
    app.complete_withdrawal(w)
    flow = gl.money_flow(app.explain("eva"))
    assert_balances(flow)
    assert_paid_balances(flow)
    assert flow.payout == "EUR"
    assert flow.currency == "USD"
    n = {node.key: node for node in flow.nodes}
    assert n["viewers"].amount == Money("30.00", "USD")  # 3,000 of 10,000 coins at $100
    assert n["creator_share"].amount == Money("15.00", "USD")
    assert n["owed"].amount == Money("5.00", "USD")
    assert n["converted"].label == "Converted to EUR"
    assert (n["converted"].amount, n["converted"].paid) == (
        Money("10.00", "USD"),
        Money("5.00", "EUR"),
    )
    # €5.00 of cash: €0.04 fee, €3.96 to the bank, €1.00 held; $10.00 split alike.
    assert n["withdrawal_fees"].paid == Money("0.04", "EUR")
    assert n["withdrawal_fees"].amount == Money("0.08", "USD")
    assert n["bank"].paid == Money("3.96", "EUR")
    assert n["bank"].amount == Money("7.92", "USD")
    assert n["held"].paid == Money("1.00", "EUR")
    assert n["held"].amount == Money("2.00", "USD")
    assert "in_flight" not in n
    assert list(n) == [
        "viewers",
        "platform",
        "creator_share",
        "owed",
        "converted",
        "cash",
        "withdrawal_fees",
        "bank",
        "held",
    ]
    assert flow.ends()[-1].key == "held"


def test_a_platform_that_pays_more_than_the_coins_released_is_a_top_up() -> None:
    econ = simple_economy(
        creator_pay=gl.CreatorPay(gl.PayoutModel.DIAMOND_VALUE, value_per_unit=Fraction(1, 50))
    )
    _book, _, app = app_for(econ)
    app.open_viewer("v", region="US")
    app.open_creator("bob", region="US")
    app.buy_coins("v", pack=100, channel="web")  # $1.00 for 100 coins
    app.send_gift("v", "bob", "Rose", 10)  # 10 Diamonds at $0.02: $0.20 for $0.10 of coins
    ex = app.explain("bob")
    assert ex.platform == Money("-0.10", "USD")
    flow = gl.money_flow(ex)
    assert_balances(flow)
    n = {node.key: node for node in flow.nodes}
    assert "platform" not in n
    assert n["top_up"].amount == Money("0.10", "USD")
    assert n["top_up"].kind is gl.FlowKind.SOURCE
    assert flow.total == Money("0.20", "USD")


def test_a_gift_paid_from_two_purchases_shows_each_purchase() -> None:
    _book, _clock, app = tiktok()
    app.open_viewer("ann", region="US")
    app.open_creator("bob", region="US", age=30)
    first = app.buy_coins("ann", pack=70, channel="web")
    second = app.buy_coins("ann", pack=1400, channel="ios")
    app.send_gift("ann", "bob", "Rose", 100)  # 70 coins of the first, 30 of the second
    ex = app.explain("bob")
    (g,) = ex.gifts
    flow = gl.money_flow(ex, gift=g.transaction)
    assert_balances(flow)
    sources = [n for n in flow.nodes if n.stage == 0]
    assert [n.key for n in sources] == [f"purchase:{first.id}", f"purchase:{second.id}"]
    assert sum((n.amount for n in sources), Money(0, "USD")) == g.paid
    assert flow.node("viewers").label == "100 x Rose"
    assert flow.title == f"100 x Rose from ann to bob (entry #{g.transaction})"
    assert gl.money_flow(g).title == f"100 x Rose from ann (entry #{g.transaction})"


def test_a_period_shows_only_the_gifts_sent_in_it() -> None:
    _book, clock, app = tiktok()
    app.open_viewer("ann", region="US")
    app.open_creator("bob", region="US", age=30)
    app.buy_coins("ann", pack=1400, channel="web")
    app.send_gift("ann", "bob", "Rose", 10)
    clock.advance(timedelta(days=2))
    cut = clock.now()
    app.send_gift("ann", "bob", "Rose", 30)
    ex = app.explain("bob")
    before, after = gl.money_flow(ex, end=cut), gl.money_flow(ex, start=cut)
    assert before.total == ex.gifts[0].paid
    assert after.total == ex.gifts[1].paid
    assert "1 gift," in before.title
    assert f"to {cut.date().isoformat()}" in before.title
    empty = gl.money_flow(ex, start=cut + timedelta(days=1))
    assert [n.key for n in empty.nodes] == ["viewers"]
    assert empty.total == Money(0, "USD")
    assert empty.links == ()


def test_bad_arguments_are_refused_by_name() -> None:
    _book, clock, app = tiktok()
    app.open_creator("bob", region="US", age=30)
    ex = app.explain("bob")
    with pytest.raises(gl.InvalidArgument, match="Explanation or a GiftTrace, not str"):
        gl.money_flow("bob")  # type: ignore[arg-type]
    with pytest.raises(gl.InvalidArgument, match="before start"):
        gl.money_flow(ex, start=clock.now(), end=clock.now() - timedelta(days=1))
    with pytest.raises(gl.InvalidArgument, match="no gift in entry 99"):
        gl.money_flow(ex, gift=99)
    with pytest.raises(gl.InvalidArgument):
        gl.money_flow(ex, start=datetime(2026, 1, 1))  # naive
    flow = gl.money_flow(ex)
    with pytest.raises(gl.InvalidArgument, match="no node 'bank'"):
        flow.node("bank")


def test_a_flow_that_does_not_balance_is_refused() -> None:
    usd = "USD"
    a = gl.FlowNode("a", "A", gl.FlowKind.SOURCE, 0, Money("1.00", usd))
    b = gl.FlowNode("b", "B", gl.FlowKind.CREATOR, 1, Money("1.00", usd))
    ok = gl.MoneyFlow("t", usd, (a, b), (gl.FlowLink("a", "b", Money("1.00", usd)),))
    assert ok.total == Money("1.00", usd)
    with pytest.raises(
        gl.InvalidArgument, match=r"node 'a' holds 1\.00 USD but 0\.99 USD flows out"
    ):
        gl.MoneyFlow("t", usd, (a, b), (gl.FlowLink("a", "b", Money("0.99", usd)),))
    with pytest.raises(gl.InvalidArgument, match="more than zero"):
        gl.MoneyFlow("t", usd, (a, b), (gl.FlowLink("a", "b", Money("0", usd)),))
    with pytest.raises(gl.InvalidArgument, match="names no node"):
        gl.MoneyFlow("t", usd, (a, b), (gl.FlowLink("a", "c", Money("1.00", usd)),))
