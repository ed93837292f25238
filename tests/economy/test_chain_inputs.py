"""Bad input changes nothing and names the value; dated rule changes apply from their date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import attrs
import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import T0, app_for, simple_economy, snapshot, tiktok, usd


@pytest.fixture
def world() -> tuple[gl.Ledger, gl.GiftEconomy]:
    book, _, app = tiktok()
    app.open_viewer("alice", region="US", age=30)
    app.open_viewer("kid", region="US", age=15)
    app.open_creator("bob", region="US", age=30)
    app.open_creator("teen", region="US", age=16)
    app.open_creator("eva", payout_currency="EUR")
    app.buy_coins("alice", pack=1400, channel="ios")
    app.send_gift("alice", "bob", "Galaxy")
    app.convert_diamonds("bob")
    return book, app


BAD: list[tuple[str, Callable[[gl.GiftEconomy], object], type[Exception], str]] = [
    ("unknown gift", lambda a: a.send_gift("alice", "bob", "Unicorn"), gl.UnknownRule, "Unicorn"),
    (
        "gift not a string",
        lambda a: a.send_gift("alice", "bob", 7),  # type: ignore[arg-type]
        gl.UnknownRule,
        "7",
    ),
    (
        "unknown pack",
        lambda a: a.buy_coins("alice", pack=1234, channel="ios"),
        gl.UnknownRule,
        "1234",
    ),
    ("zero pack", lambda a: a.buy_coins("alice", pack=0, channel="ios"), gl.InvalidArgument, "0"),
    (
        "unknown channel",
        lambda a: a.buy_coins("alice", pack=1400, channel="blackberry"),
        gl.UnknownRule,
        "blackberry",
    ),
    (
        "unknown region",
        lambda a: a.buy_coins("alice", pack=1400, channel="ios", region="XX"),
        gl.UnknownRule,
        "XX",
    ),
    (
        "unknown viewer region",
        lambda a: a.open_viewer("zed", region="Narnia"),
        gl.UnknownRule,
        "Narnia",
    ),
    (
        "unknown currency",
        lambda a: a.open_creator("zed", payout_currency="XYZ"),
        gl.UnknownUnit,
        "XYZ",
    ),
    (
        "currency not offered",
        lambda a: a.open_creator("zed", payout_currency="JPY"),
        gl.UnknownRule,
        "JPY",
    ),
    ("zero quantity", lambda a: a.send_gift("alice", "bob", "Rose", 0), gl.InvalidArgument, "0"),
    (
        "negative quantity",
        lambda a: a.send_gift("alice", "bob", "Rose", -2),
        gl.InvalidArgument,
        "-2",
    ),
    (
        "bool quantity",
        lambda a: a.send_gift("alice", "bob", "Rose", True),
        gl.InvalidArgument,
        "True",
    ),
    (
        "unknown viewer",
        lambda a: a.send_gift("mallory", "bob", "Rose"),
        gl.UnknownAccount,
        "mallory",
    ),
    (
        "unknown creator",
        lambda a: a.send_gift("alice", "nobody", "Rose"),
        gl.UnknownAccount,
        "nobody",
    ),
    ("too few coins", lambda a: a.send_gift("alice", "bob", "Lion"), gl.InsufficientFunds, "29999"),
    ("underage buyer", lambda a: a.buy_coins("kid", pack=70, channel="web"), gl.NotEligible, "15"),
    ("underage creator", lambda a: a.request_withdrawal("teen", "all"), gl.NotEligible, "16"),
    ("no Diamonds", lambda a: a.convert_diamonds("bob"), gl.InsufficientFunds, "0"),
    ("negative Diamonds", lambda a: a.convert_diamonds("bob", -5), gl.InvalidArgument, "-5"),
    (
        "negative withdrawal",
        lambda a: a.request_withdrawal("bob", usd("-1")),
        gl.InvalidArgument,
        "-1",
    ),
    (
        "withdrawal in another currency",
        lambda a: a.request_withdrawal("bob", Money("100", "EUR")),
        gl.CurrencyMismatch,
        "EUR",
    ),
    ("bad name", lambda a: a.open_viewer("a:b"), gl.InvalidArgument, "a:b"),
    (
        "creator a list",
        lambda a: a.convert_diamonds(["bob"]),  # type: ignore[arg-type]
        gl.UnknownParty,
        "['bob']",
    ),
    ("bad age", lambda a: a.open_viewer("old", age=-3), gl.InvalidArgument, "-3"),
    (
        "no rate source",
        lambda a: a.convert_diamonds("eva"),
        gl.InsufficientFunds,
        "eva",
    ),
]


@pytest.mark.parametrize(("what", "call", "error", "named"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_value_and_changes_nothing(
    world: tuple[gl.Ledger, gl.GiftEconomy],
    what: str,
    call: Callable[[gl.GiftEconomy], object],
    error: type[Exception],
    named: str,
) -> None:
    book, app = world
    before = snapshot(book)
    with pytest.raises(error) as info:
        call(app)
    assert isinstance(info.value, gl.GiftLedgerError)
    assert named in str(info.value)
    assert snapshot(book) == before


def test_a_rate_table_with_a_gap_is_rate_unavailable_and_changes_nothing() -> None:
    jan, feb, mar = (datetime(2025, m, 1, tzinfo=UTC) for m in (1, 2, 3))
    table = gl.RateTable.of(("USD", "EUR", "0.92", jan, feb), ("USD", "EUR", "0.95", mar, None))
    econ = simple_economy()
    book, clock, app = app_for(econ, start=jan + timedelta(days=10), rates=table)
    app.open_viewer("v", region="US")
    app.open_creator("eva", region="DE", payout_currency="EUR")
    app.buy_coins("v", pack=10000, channel="web")
    app.send_gift("v", "eva", "Galaxy")
    app.convert_diamonds("eva", 500)
    assert book.balance("creators:eva:cash") == Money("2.30", "EUR")  # 2.50 USD x 0.92
    clock.set(datetime(2025, 2, 15, tzinfo=UTC))
    before = snapshot(book)
    with pytest.raises(gl.RateUnavailable, match=r"USD/EUR.*2025-02-15"):
        app.convert_diamonds("eva")
    assert snapshot(book) == before
    clock.set(mar)
    app.convert_diamonds("eva")
    assert book.balance("creators:eva:cash") == Money("4.68", "EUR")  # + 2.375, half even


def test_a_purchase_in_another_currency_needs_a_rate() -> None:
    econ = simple_economy()
    book, _, app = app_for(econ)
    app.open_viewer("max", region="DE")
    before = snapshot(book)
    with pytest.raises(gl.RateUnavailable, match="EUR/USD"):
        app.buy_coins("max", pack=1400, channel="ios")
    assert snapshot(book) == before
    book2, _, app2 = app_for(econ, rates={("EUR", "USD"): "1.1"})
    app2.open_viewer("max", region="DE")
    tx = app2.buy_coins("max", pack=1400, channel="ios")
    assert book2.balance("assets:stores:apple:EUR") == Money("13.99", "EUR")
    assert book2.balance("liabilities:deferred-revenue") == usd("21.99")  # 19.99 x 1.1 = 21.989
    assert [str(r) for r in tx.rates] == ["EUR/USD=11/10"]
    assert book2.trial_balance().is_balanced


MID = T0 + timedelta(days=10)


def test_a_rule_change_mid_period_applies_only_after_its_date() -> None:
    base = gl.presets.load("tiktok-live")
    latest = base.latest
    changed = base.with_change(
        MID,
        creator_pay=attrs.evolve(latest.creator_pay, value_per_unit=Fraction(1, 100)),
        store_fees=tuple(
            attrs.evolve(f, rate=Fraction(15, 100)) if f.channel == "ios" else f
            for f in latest.store_fees
        ),
        withdrawal=attrs.evolve(latest.withdrawal, minimum=usd("50")),
    )
    book, clock, app = app_for(changed, start=T0)
    app.open_viewer("alice", region="US")
    app.open_creator("bob", region="US", age=30)
    before = app.buy_coins("alice", pack=1400, channel="ios")
    early = app.send_gift("alice", "bob", "Galaxy")
    clock.set(MID - timedelta(microseconds=1))
    assert app.buy_coins("alice", pack=70, channel="ios").meta["gl.fee"] == 30  # 30% of 0.99
    clock.set(MID)
    after = app.buy_coins("alice", pack=1400, channel="ios")
    late = app.send_gift("alice", "bob", "Galaxy")
    assert before.meta["gl.fee"] == 600  # 30% of 19.99
    assert after.meta["gl.fee"] == 300  # 15% of 19.99 = 2.9985 → 3.00
    assert early.meta["gl.owed"] == 500  # 1,000 x $0.005
    assert late.meta["gl.owed"] == 1000  # 1,000 x $0.01: the old Diamonds keep their $5.00
    # The earlier entries are unchanged: the books still show what they were made under.
    assert book.transaction(early.id).meta["gl.owed"] == 500
    assert book.balance("liabilities:creators-payable:bob") == usd("15.00")
    # Converting after the change pays today's value; the difference is an explicit
    # platform expense, never a silent change to an old entry.
    app.convert_diamonds("bob")
    assert book.balance("creators:bob:cash") == usd("20.00")
    assert book.balance("expenses:creator-pay-adjustments") == usd("5.00")
    # The minimum in force now is the new $50 one.
    with pytest.raises(gl.BelowWithdrawalThreshold, match="minimum of 50"):
        app.request_withdrawal("bob", "all")


def test_a_withdrawal_minimum_change_applies_from_its_date() -> None:
    econ = simple_economy(withdrawal=gl.WithdrawalPolicy(minimum=usd("100")))
    changed = econ.with_change(MID, withdrawal=gl.WithdrawalPolicy(minimum=usd("40")))
    _book, clock, app = app_for(changed, start=T0)
    app.open_viewer("v", region="US")
    app.open_creator("bob", region="US")
    app.buy_coins("v", pack=10000, channel="web")
    app.send_gift("v", "bob", "Galaxy", 10)
    app.convert_diamonds("bob")  # $50.00
    with pytest.raises(gl.BelowWithdrawalThreshold, match="minimum of 100"):
        app.request_withdrawal("bob", "all")
    clock.set(MID)
    assert app.request_withdrawal("bob", "all").amount == usd("50.00")
