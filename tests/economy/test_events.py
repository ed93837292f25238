"""Typed chain events from the feed, and the withdrawal-minimum monitor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from moneyed import Money

import giftledger as gl


@pytest.fixture
def app() -> gl.GiftEconomy:
    econ = gl.presets.load("tiktok-live")
    clock = gl.ManualClock(econ.latest.effective_from + timedelta(days=1))
    app = gl.GiftEconomy(gl.Ledger(clock=clock), econ)
    app.open_viewer("fan", region="US", age=30)
    app.open_creator("bob", region="US", age=30, verified=True)
    return app


def test_every_chain_step_is_one_typed_event(app: gl.GiftEconomy) -> None:
    refunded = app.buy_coins("fan", pack=70, channel="web")
    charged = app.buy_coins("fan", pack=70, channel="web")
    bought = [app.buy_coins("fan", pack=17500, channel="web") for _ in range(4)]
    gift = app.send_gift("fan", "bob", "Lion", 2)
    conversion = app.convert_diamonds("bob")
    paid = app.request_withdrawal("bob", "100.00")
    settled = app.complete_withdrawal(paid.id)
    failed = app.request_withdrawal("bob", "100.00")
    voided = app.fail_withdrawal(failed.id)
    refund = app.refund_purchase(refunded)
    chargeback = app.chargeback(charged)
    events = list(gl.chain_events(app.ledger.changes()))
    got = [(type(e).__name__, e.entry.id) for e in events]
    assert got == [
        ("CoinsBought", refunded.id),
        ("CoinsBought", charged.id),
        ("CoinsBought", bought[0].id),
        ("CoinsBought", bought[1].id),
        ("CoinsBought", bought[2].id),
        ("CoinsBought", bought[3].id),
        ("GiftReceived", gift.id),
        ("UnitsConverted", conversion.id),
        ("WithdrawalRequested", paid.id),
        ("WithdrawalPaid", settled.id),
        ("WithdrawalRequested", failed.id),
        ("WithdrawalFailed", voided.id),
        ("Refunded", refund.id),
        ("ChargedBack", chargeback.id),
    ]
    by_type = {type(e): e for e in events}
    gift_event = by_type[gl.GiftReceived]
    assert isinstance(gift_event, gl.GiftReceived)
    assert (gift_event.creator, gift_event.viewer, gift_event.record.gift) == ("bob", "fan", "Lion")
    assert isinstance(by_type[gl.WithdrawalPaid].record, gl.WithdrawalSettleRecord)
    assert by_type[gl.WithdrawalPaid].record.withdrawal == paid.id  # type: ignore[union-attr]
    assert by_type[gl.WithdrawalFailed].record.withdrawal == failed.id  # type: ignore[union-attr]
    assert events[8].withdrawal == paid.id  # type: ignore[attr-defined]
    assert events[0].cursor == gl.FeedCursor.of(refunded)
    # Entries without a chain record (the rules, parties, plain ledger entries) are no event.
    assert all(gl.event_of(e) is None for e in app.ledger.transactions() if e.id < refunded.id)


def test_event_of_refuses_what_is_not_an_entry() -> None:
    with pytest.raises(gl.InvalidArgument, match=r"not a giftledger\.Transaction"):
        gl.event_of("entry 3")  # type: ignore[arg-type]


def test_withdrawal_monitor_fires_when_cash_reaches_the_minimum(app: gl.GiftEconomy) -> None:
    minimum = app.economy.latest.withdrawal.minimum
    assert minimum == Money("100", "USD")
    monitor = gl.withdrawal_monitor(app)
    app.buy_coins("fan", pack=17500, channel="web")
    app.buy_coins("fan", pack=17500, channel="web")
    app.send_gift("fan", "bob", "Lion", 1)
    conversion = app.convert_diamonds("bob")  # $149.99 of cash: crosses
    crossings = list(monitor.crossings())
    assert [(c.account, c.entry.id) for c in crossings] == [("creators:bob:cash", conversion.id)]
    w = app.request_withdrawal("bob", "all")
    app.complete_withdrawal(w.id)  # posted cash back to 0
    assert list(monitor.crossings(after=monitor.cursor)) == []
    assert monitor.balance("creators:bob:cash") == Money("0.00", "USD")
    with pytest.raises(gl.InvalidArgument, match="GiftEconomy"):
        gl.withdrawal_monitor(app.ledger)  # type: ignore[arg-type]


def test_entries_that_move_nothing_are_no_event_and_leave_a_monitor_where_it_was(
    app: gl.GiftEconomy,
) -> None:
    # The journal holds, besides the chain's posts: the accounts opened (ACCOUNT entries),
    # the chain aliases and a refused keyed request's failure (KEY entries). None of them is
    # a chain event, and a monitor steps over them without a crossing or a balance change.
    app.buy_coins("fan", pack=17500, channel="web")
    with pytest.raises(gl.InsufficientFunds):
        app.request_withdrawal("bob", "100.00", key="w-early")
    app.buy_coins("fan", pack=17500, channel="web")
    app.send_gift("fan", "bob", "Lion", 1)
    conversion = app.convert_diamonds("bob")
    entries = list(app.ledger.changes())
    moving_nothing = [e for e in entries if e.kind in _DEFINING]
    assert {e.kind for e in moving_nothing} == {gl.EntryKind.ACCOUNT, gl.EntryKind.KEY}
    assert any(e.meta.get("gl.error") == "InsufficientFunds" for e in moving_nothing)
    assert all(not e.postings for e in moving_nothing)
    assert [gl.event_of(e) for e in moving_nothing] == [None] * len(moving_nothing)
    assert all(e.entry.kind not in _DEFINING for e in gl.chain_events(entries))
    monitor = gl.withdrawal_monitor(app)
    for entry in entries:
        before = monitor.balance("creators:bob:cash")
        found = monitor.observe(entry)
        assert monitor.cursor == gl.FeedCursor.of(entry)
        if entry.kind in _DEFINING:
            assert found == ()
            assert monitor.balance("creators:bob:cash") == before
    fresh = gl.withdrawal_monitor(app)
    assert [c.entry.id for c in fresh.crossings()] == [conversion.id]
    assert fresh.balance("creators:bob:cash") == monitor.balance("creators:bob:cash")


_DEFINING = frozenset({gl.EntryKind.ACCOUNT, gl.EntryKind.KEY, gl.EntryKind.DEFINITIONS})
