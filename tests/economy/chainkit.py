"""Shared helpers for the chain's tests: small economies built in code, snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from moneyed import Money

import giftledger as gl

T0 = datetime(2025, 9, 1, tzinfo=UTC)


def tiktok(start: datetime = T0, **kw: object) -> tuple[gl.Ledger, gl.ManualClock, gl.GiftEconomy]:
    """A TikTok LIVE economy (the preset's default model A) on a fresh memory ledger."""
    econ = gl.presets.load("tiktok-live")
    clock = gl.ManualClock(start)
    book = gl.Ledger(clock=clock)
    return book, clock, gl.GiftEconomy(book, econ, **kw)  # type: ignore[arg-type]


def simple_economy(
    *,
    withdrawal: gl.WithdrawalPolicy | None = None,
    refunds: gl.RefundPolicy | None = None,
    taxes: tuple[gl.TaxRule, ...] = (),
    creator_pay: gl.CreatorPay | None = None,
    payout_currencies: tuple[str, ...] = ("USD", "EUR"),
    start: datetime = datetime(2020, 1, 1, tzinfo=UTC),
) -> gl.Economy:
    """A small coin economy in USD, built from the rules records directly."""
    return gl.Economy(
        name="test-economy",
        title="Test economy",
        books_currency="USD",
        coin_unit="COIN",
        creator_unit="DIAMOND",
        versions=(
            gl.RuleSet(
                effective_from=start,
                coin_packs=(
                    gl.CoinPack(100, Money("1.00", "USD"), "web"),
                    gl.CoinPack(1400, Money("19.99", "USD"), "ios"),
                    gl.CoinPack(1400, Money("19.99", "EUR"), "ios", "DE"),
                    gl.CoinPack(10000, Money("100.00", "USD"), "web"),
                ),
                store_fees=(
                    gl.StoreFee("ios", Fraction(3, 10), account="apple"),
                    gl.StoreFee("web", Fraction(0)),
                ),
                gifts=(gl.Gift("Rose", 1), gl.Gift("Galaxy", 1000), gl.Gift("Lion", 29999)),
                creator_pay=creator_pay
                or gl.CreatorPay(
                    gl.PayoutModel.DIAMOND_VALUE,
                    value_per_unit=Fraction(1, 200),
                ),
                withdrawal=withdrawal or gl.WithdrawalPolicy(),
                refunds=refunds or gl.RefundPolicy(),
                taxes=taxes,
                payout_currencies=payout_currencies,
            ),
        ),
    )


def app_for(
    econ: gl.Economy, start: datetime = T0, **kw: object
) -> tuple[gl.Ledger, gl.ManualClock, gl.GiftEconomy]:
    clock = gl.ManualClock(start)
    book = gl.Ledger(clock=clock)
    return book, clock, gl.GiftEconomy(book, econ, **kw)  # type: ignore[arg-type]


def snapshot(book: gl.Ledger) -> tuple[tuple[int, str], dict[str, Money], int]:
    """Everything a failed call must leave unchanged: head, non-zero balances, holds."""
    balances = {k: v for k, v in book.balances().items() if v.amount}
    return book.head, balances, len(book.holds())


def usd(text: str) -> Money:
    return Money(text, "USD")
