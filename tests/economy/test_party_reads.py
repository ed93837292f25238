"""Party-level reads: Money and profiles, not account names to spell."""

from __future__ import annotations

import pytest
from moneyed import Money

import giftledger as gl


@pytest.fixture
def app() -> gl.GiftEconomy:
    econ = gl.presets.load("tiktok-live")
    book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from))
    app = gl.GiftEconomy(book, econ, rates={("USD", "EUR"): "0.92"})
    app.open_viewer("alice", region="US", age=30)
    app.open_creator("bob", region="DE", payout_currency="EUR", age=31, verified=True)
    app.open_creator("ann", region="US", age=17)
    return app


def test_reads_equal_the_ledgers_balances_through_the_chain(app: gl.GiftEconomy) -> None:
    book = app.ledger
    app.buy_coins("alice", pack=17500, channel="web", key="o1")
    app.send_gift("alice", "bob", "Interstellar", key="g1")
    assert app.coins("alice") == book.balance("viewers:alice:coins") == Money(7500, "COIN")
    assert app.diamonds("bob") == book.balance("creators:bob:diamonds")
    assert app.diamonds("bob") > Money(0, "DIAMOND")
    assert app.payable("bob") == book.balance("liabilities:creators-payable:bob")
    assert app.cash("bob") == Money("0.00", "EUR")
    app.convert_diamonds("bob", key="c1")
    assert app.diamonds("bob") == Money(0, "DIAMOND")
    assert app.payable("bob") == Money("0.00", "USD")
    assert app.cash("bob") == book.balance("creators:bob:cash")
    assert app.cash("bob").currency.code == "EUR"
    assert app.cash("bob") > Money("0", "EUR")


def test_reads_as_of_a_time(app: gl.GiftEconomy) -> None:
    start = app.ledger.clock.now()
    app.buy_coins("alice", pack=1400, channel="web")
    assert app.coins("alice", at=start.replace(year=start.year - 1)) == Money(0, "COIN")
    assert app.coins("alice") == Money(1400, "COIN")


@pytest.mark.parametrize(
    ("read", "role"),
    [("cash", "creator"), ("diamonds", "creator"), ("payable", "creator"), ("coins", "viewer")],
)
def test_an_unknown_party_is_named(app: gl.GiftEconomy, read: str, role: str) -> None:
    with pytest.raises(gl.UnknownParty) as err:
        getattr(app, read)("zoe")
    assert (err.value.role, err.value.name) == (role, "zoe")
    assert isinstance(err.value, gl.UnknownAccount)
    assert f"unknown {role} 'zoe'" in str(err.value)
    # a viewer is no creator, and the other way round
    with pytest.raises(gl.UnknownParty):
        getattr(app, read)("alice" if role == "creator" else "bob")


def test_creators_and_viewers_are_profiles_sorted_by_name(app: gl.GiftEconomy) -> None:
    # an account opened by hand under the prefix is no party
    app.ledger.open_account("creators:mallory:diamonds", "DIAMOND", normal="credit")
    app.update_creator("ann", age=18)
    creators = app.creators()
    assert [c.name for c in creators] == ["ann", "bob"]
    assert all(isinstance(c, gl.PartyRecord) for c in creators)
    assert creators[0].age == 18
    assert creators[1].payout_currency == "EUR"
    assert [v.name for v in app.viewers()] == ["alice"]


def test_can_withdraw_is_a_dry_run_that_names_its_reason(app: gl.GiftEconomy) -> None:
    head = app.ledger.head
    refused = app.can_withdraw("bob")
    assert not refused
    assert refused.refusal is gl.BelowWithdrawalThreshold
    assert refused.amount == Money("0.00", "EUR")
    assert "nothing available" in (refused.reason or "")
    young = app.can_withdraw("ann")
    assert young.refusal is gl.NotEligible
    assert app.ledger.head == head  # nothing written
    for n in range(4):
        app.buy_coins("alice", pack=17500, channel="web", key=f"o{n}")
        app.send_gift("alice", "bob", "Interstellar", key=f"g{n}")
    app.convert_diamonds("bob", key="c")
    head = app.ledger.head
    ok = app.can_withdraw("bob")
    assert ok
    assert ok.reason is None
    assert ok.amount == app.cash("bob")
    assert ok.net + ok.fee == ok.amount
    assert app.ledger.head == head
    w = app.request_withdrawal("bob", "all")
    assert (w.amount, w.fee) == (ok.amount, ok.fee)
    with pytest.raises(gl.UnknownParty):
        app.can_withdraw("zoe")
