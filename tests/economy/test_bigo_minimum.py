"""Bigo's withdrawal minimum is 6,700 Beans. In cash it cannot be told from 6,699 Beans
(6,699 / 210 = $31.90 exactly; 6,700 / 210 = $31.9047…, which pays $31.90), so it is
checked in Beans, on the Beans a creator cashes out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from moneyed import Money

import giftledger as gl
from giftledger import WithdrawalPolicy

from .chainkit import app_for, simple_economy, snapshot


def bigo(beans: int) -> tuple[gl.Ledger, gl.GiftEconomy]:
    """A Bigo book where creator bob holds ``beans`` Beans."""
    econ = gl.presets.load("bigo-live")
    book, _, app = app_for(econ, datetime(2025, 9, 1, tzinfo=UTC))
    app.open_viewer("ann", region="US", age=30)
    app.open_creator("bob", region="US", age=30, verified=True)
    for _ in range(2):
        app.buy_coins("ann", pack=10000, channel="web")
    app.send_gift("ann", "bob", "Gift 1", beans)
    return book, app


def test_the_preset_states_the_minimum_in_beans_with_its_source() -> None:
    econ = gl.presets.load("bigo-live")
    w = econ.latest.withdrawal
    assert w.minimum_units == 6700
    assert w.minimum == Money("31.90", "USD")
    source = econ.source_of("versions[0].withdrawal.minimum_units")
    assert source.confidence is gl.Confidence.THIRD_PARTY
    assert "6,700 Beans" in source.note


def test_6699_beans_are_refused_and_change_nothing() -> None:
    book, app = bigo(6699)
    assert book.balance("creators:bob:diamonds") == Money(6699, "BEAN")
    before = snapshot(book)
    with pytest.raises(gl.BelowWithdrawalThreshold, match=r"6699 BEAN.*minimum is 6700 BEAN"):
        app.convert_diamonds("bob")
    with pytest.raises(gl.BelowWithdrawalThreshold):
        app.convert_diamonds("bob", 6699, dry_run=True)
    assert snapshot(book) == before
    with pytest.raises(gl.BelowWithdrawalThreshold):
        app.request_withdrawal("bob")  # no cash: nothing to withdraw


def test_6700_beans_pass_and_withdraw_31_90() -> None:
    book, app = bigo(6700)
    app.convert_diamonds("bob")
    # Whole cents only: 6,699 Beans make $31.90; the last Bean waits in the wallet.
    assert book.balance("creators:bob:cash") == Money("31.90", "USD")
    assert book.balance("creators:bob:diamonds") == Money(1, "BEAN")
    w = app.request_withdrawal("bob")
    assert w.amount == Money("31.90", "USD")
    app.complete_withdrawal(w)
    assert book.verify() > 0


def test_the_minimum_applies_to_each_cash_out_not_to_the_balance() -> None:
    book, app = bigo(13_400)
    with pytest.raises(gl.BelowWithdrawalThreshold, match="minimum is 6700"):
        app.convert_diamonds("bob", 6699)
    app.convert_diamonds("bob", 6700)
    app.convert_diamonds("bob")  # the rest: 6,701 Beans, with the one left over before
    assert book.balance("creators:bob:cash") == Money("63.80", "USD")  # 2 x 6,699 Beans
    assert book.balance("creators:bob:diamonds") == Money(2, "BEAN")


def test_other_economies_have_no_minimum_in_units() -> None:
    assert gl.presets.load("tiktok-live").latest.withdrawal.minimum_units is None
    book, _, app = app_for(simple_economy())
    app.open_viewer("ann")
    app.open_creator("bob")
    app.buy_coins("ann", pack=100, channel="web")
    app.send_gift("ann", "bob", "Rose", 2)
    app.convert_diamonds("bob")
    assert book.balance("creators:bob:cash") == Money("0.01", "USD")


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (0, gl.InvalidEconomy, r"^minimum_units: 0 must be at least 1"),
        (6700.0, gl.FloatNotAllowed, r"^minimum_units: 6700\.0 is a float"),
        ("6700", gl.InvalidEconomy, r"^minimum_units: '6700' of type str must be an int"),
    ],
)
def test_a_bad_minimum_in_units_is_refused(
    value: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        WithdrawalPolicy(minimum_units=value)


def test_the_minimum_in_units_round_trips_through_toml() -> None:
    econ = gl.presets.load("bigo-live")
    text = econ.to_toml()
    assert "minimum_units = 6700" in text
    assert gl.Economy.from_toml(text).latest.withdrawal.minimum_units == 6700
