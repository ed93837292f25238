"""Each invariant check passes on sound books and, on books broken one way, fails
naming the account, the entry or the creator at fault."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import attrs
import pytest
from moneyed import Money

import giftledger as gl
from giftledger.testing import (
    check_all,
    check_conservation,
    check_creator_share,
    check_every_cent,
    check_explanations,
    check_no_arbitrage,
    check_no_forbidden_negative,
    check_parts_sum,
    check_split,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def app() -> gl.GiftEconomy:
    """TikTok's rules: ann buys 70 coins on iOS and sends cat 5 Roses."""
    econ = gl.presets.load("tiktok-live")
    book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from))
    app = gl.GiftEconomy(book, econ)
    app.open_viewer("ann", region="US", age=30)
    app.open_creator("cat", region="US", age=30)
    app.buy_coins("ann", pack=70, channel="ios")
    app.send_gift("ann", "cat", "Rose", 5)
    return app


def test_sound_books_pass_every_check(app: gl.GiftEconomy) -> None:
    check_all(app)
    check_creator_share(app)


def test_coins_moved_around_the_chain_break_conservation_of_coins(app: gl.GiftEconomy) -> None:
    app.ledger.open_account("elsewhere:coins", "COIN", normal="credit")
    app.ledger.transfer("viewers:ann:coins", "elsewhere:coins", 1)
    check_conservation(app.ledger)  # every unit still balances
    with pytest.raises(AssertionError, match=r"viewers hold 64 COIN but platform:coin-supply"):
        check_conservation(app)


def test_money_taken_from_a_store_breaks_every_cent_naming_the_currency(
    app: gl.GiftEconomy,
) -> None:
    app.ledger.open_account("mine", "USD")
    app.ledger.transfer("mine", "assets:stores:apple", "0.01")
    with pytest.raises(AssertionError, match=r"USD: viewers paid 0.99 USD but the stores hold"):
        check_every_cent(app)


def test_a_store_fee_a_cent_off_the_rules_breaks_every_cent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A chain that charges the store's fee one cent too high keeps every identity (the
    # cent moves from the platform to the store), so only the rules can catch it.
    from giftledger._economy.chain import GiftEconomy, _Sale

    real = GiftEconomy._sale

    def off_by_a_cent(self: GiftEconomy, *args: object) -> _Sale:
        sale = real(self, *args)  # type: ignore[arg-type]
        return attrs.evolve(sale, fee=sale.fee + 1, fee_books=sale.fee_books + 1)

    monkeypatch.setattr(GiftEconomy, "_sale", off_by_a_cent)
    econ = gl.presets.load("tiktok-live")
    app = gl.GiftEconomy(gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from)), econ)
    app.open_viewer("ann", region="US", age=30)
    app.buy_coins("ann", pack=70, channel="ios")
    check_conservation(app)
    check_parts_sum(app)
    with pytest.raises(
        AssertionError,
        match=r"records a tax of 0.00 USD and a store fee of 0.31 USD, but the rules in "
        r"force at .* make them 0.00 USD and 0.30 USD",
    ):
        check_every_cent(app)


def test_a_change_of_rules_keeps_earlier_sales_under_their_own_rules() -> None:
    econ = gl.presets.load("tiktok-live")
    book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from))
    first = gl.GiftEconomy(book, econ)
    first.open_viewer("ann", region="US", age=30)
    first.buy_coins("ann", pack=70, channel="ios")
    fees = econ.latest.store_fees
    cheaper = attrs.evolve(fees[0], rate=fees[0].rate / 2)
    latest = attrs.evolve(econ.latest, store_fees=(cheaper, *fees[1:]))
    changed = attrs.evolve(econ, name="cheaper", versions=(*econ.versions[:-1], latest))
    second = gl.GiftEconomy(book, changed, rules_change=True)
    second.buy_coins("ann", pack=70, channel=cheaper.channel)
    check_every_cent(second)


def test_every_cent_takes_what_your_own_model_says_was_paid(app: gl.GiftEconomy) -> None:
    check_every_cent(app, paid={"USD": 99})
    with pytest.raises(AssertionError, match=r"viewers paid 1.00 USD"):
        check_every_cent(app, paid={"USD": 100})


def test_deferred_revenue_released_outside_the_lots_breaks_the_parts(
    app: gl.GiftEconomy,
) -> None:
    app.ledger.transfer("liabilities:deferred-revenue", "revenue:gifts", "0.01")
    with pytest.raises(AssertionError, match=r"deferred revenue is 0.91 USD but the lots"):
        check_parts_sum(app)


def test_a_payable_moved_by_hand_breaks_the_creators_explanation(app: gl.GiftEconomy) -> None:
    app.ledger.transfer("liabilities:creators-payable:cat", "revenue:gifts", "0.01")
    with pytest.raises(AssertionError, match=r"'cat' earned 0.02 USD from gifts but is owed"):
        check_explanations(app)


class _Overdrawn(gl.Ledger):
    """A ledger whose store lost a balance rule: one account reads below its floor."""

    def account_balance(self, name: str, **kw: object) -> gl.AccountBalance:
        b = super().account_balance(name, **kw)  # type: ignore[arg-type]
        if name != "wallet":
            return b
        minus = Money("-0.01", b.posted.currency.code)
        return gl.AccountBalance(name, minus, b.pending_debits, b.pending_credits, minus)


def test_an_account_below_its_floor_is_named() -> None:
    book = _Overdrawn(clock=gl.ManualClock(T0))
    book.open_account("wallet", "USD", normal="credit")
    book.open_account("world", "USD", rule=gl.BalanceRule.unrestricted())
    with pytest.raises(AssertionError, match=r"'wallet' is below its floor 0.00 USD"):
        check_no_forbidden_negative(book)


def _fx_book() -> gl.Ledger:
    book = gl.Ledger(clock=gl.ManualClock(T0))
    free = gl.BalanceRule.unrestricted()
    for name, unit in (("usd", "USD"), ("eur", "EUR")):
        book.open_account(name, unit, rule=free)
        book.open_trading_account(unit)
    return book


def test_a_conversion_whose_legs_disagree_with_its_rate_is_named() -> None:
    book = _fx_book()
    book.convert("usd", "eur", "10.00", rate="0.92")
    check_no_arbitrage(book)
    tx = book.post(
        [
            gl.debit("usd", "1.00"),
            gl.credit("trading:USD", "1.00"),
            gl.debit("trading:EUR", Money("0.95", "EUR")),
            gl.credit("eur", Money("0.95", "EUR")),
        ],
        rates=[gl.Rate("USD", "EUR", "0.92")],
        memo="by hand",
    )
    with pytest.raises(AssertionError, match=rf"entry {tx.id} .*the rate gives 0.92 EUR"):
        check_no_arbitrage(book)


def test_a_round_trip_that_makes_money_at_one_moment_is_named() -> None:
    book = _fx_book()
    there = book.convert("usd", "eur", "10.00", rate="0.92")
    back = book.convert("eur", "usd", Money("9.20", "EUR"), rate="1.2")
    with pytest.raises(AssertionError, match=rf"entry {there.id} .* entry {back.id}"):
        check_no_arbitrage(book)


def test_check_split_names_the_missing_minor_unit() -> None:
    check_split(Money("10.00", "USD"), gl.allocate(Money("10.00", "USD"), [1, 1, 1]))
    with pytest.raises(AssertionError, match=r"sum to 9.99 USD: 0.01 USD short"):
        check_split(Money("10.00", "USD"), [Money("3.33", "USD")] * 3)
    with pytest.raises(AssertionError, match=r"1 too much"):
        check_split(10, [5, 6], what="the pot")
    with pytest.raises(AssertionError, match="not all Money in USD"):
        check_split(Money("1", "USD"), [Money("1", "EUR")])


def test_creator_share_names_the_gift_that_first_went_over(app: gl.GiftEconomy) -> None:
    check_creator_share(app, at_most=Fraction(1, 2))
    with pytest.raises(AssertionError, match=r"'cat' is owed 0.02 USD .* entry \d+: 'ann' sent 5"):
        check_creator_share(app, at_most=Fraction(1, 100))
