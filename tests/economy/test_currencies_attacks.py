"""Regressions from a hostile review of issue 9 (money in every currency).

Each test names what an attacker or a careless caller could do before the fix.
The economy here is small and built in code: a tip of any amount in USD, GBP,
JPY and KWD (exponents 2, 2, 0 and 3), the iOS store's 30%, GB VAT of 20%
included in the price, 70% of what is left to the creator.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl

T0 = datetime(2025, 1, 1, tzinfo=UTC)
RATES = {
    ("GBP", "USD"): Decimal("1.27"),
    ("KWD", "USD"): Decimal("3.25"),
    ("JPY", "USD"): Decimal("0.0067"),
}


def _economy(*, taxes: tuple[gl.TaxRule, ...] | None = None) -> gl.Economy:
    tip = gl.Gift(
        "Tip",
        amounts=(
            gl.AmountRange(Money("0.01", "USD"), Money("500.00", "USD")),
            gl.AmountRange(Money("0.01", "GBP"), Money("400.00", "GBP")),
            gl.AmountRange(Money("1", "JPY"), Money("100000", "JPY")),
            gl.AmountRange(Money("0.001", "KWD"), Money("150.000", "KWD")),
        ),
    )
    rules = gl.RuleSet(
        effective_from=T0,
        coin_packs=(gl.CoinPack(100, Money("1.40", "USD"), "ios"),),
        store_fees=(
            gl.StoreFee("ios", Fraction(3, 10), account="apple"),
            gl.StoreFee("web", Fraction(0)),
        ),
        gifts=(gl.Gift("Rose", 1), tip),
        creator_pay=gl.CreatorPay(
            gl.PayoutModel.SHARE_OF_PRICE, share=Fraction(7, 10), share_after_fees=True
        ),
        taxes=taxes
        if taxes is not None
        else (gl.TaxRule("GB", Fraction(1, 5)), gl.TaxRule("*", Fraction(0))),
        payout_currencies=("USD", "GBP", "JPY", "KWD"),
    )
    return gl.Economy("attack-9", "Issue 9 attacks", "USD", "COIN", "DIAMOND", (rules,))


def _chain(rates: object = RATES, **kw: object) -> tuple[gl.Ledger, gl.GiftEconomy, gl.ManualClock]:
    clock = gl.ManualClock(T0 + timedelta(hours=1))
    book = gl.Ledger(clock=clock)
    app = gl.GiftEconomy(book, _economy(**kw), rates=rates)  # type: ignore[arg-type]
    app.open_viewer("v", region="GB", age=30)
    app.open_viewer("us", region="US", age=30)
    app.open_creator("c", region="GB", age=30)
    return book, app, clock


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    "key", ["gl:rules:1", "gl:refund:7", "gl:party:viewer:w:0", "gl:views:c:fund:2025-01"]
)
def test_a_paid_gift_refuses_a_key_in_the_chains_namespace(key: str) -> None:
    # Before: send_gift checked the key only on the coin path, so a paid gift could
    # take "gl:rules:1" and every later operation on the ledger failed with "the
    # ledger's rules changed" (or squat a party's, a refund's or a period's key).
    book, app, _ = _chain()
    head = book.head
    with pytest.raises(gl.InvalidArgument, match=r"starts with 'gl:'.*reserved"):
        app.send_gift("v", "c", "Tip", amount=Money("5.00", "GBP"), channel="web", key=key)
    assert book.head == head
    assert book.find(key) is None
    # The chain still works, and from_ledger still reads its rules.
    app.send_gift("v", "c", "Tip", amount=Money("5.00", "GBP"), channel="web", key="mine")
    assert gl.GiftEconomy.from_ledger(book, rates=RATES).economy == app.economy


# --------------------------------------------------------------------------- worth nothing


@pytest.mark.parametrize(
    ("amount", "rate"),
    [
        (Money("1", "JPY"), ("JPY", "USD", Decimal("0.0000001"))),  # a rate at its extreme
        (Money("0.001", "KWD"), ("KWD", "USD", Decimal("3.25"))),  # 0.325 cents
    ],
)
def test_a_paid_gift_worth_nothing_in_the_books_is_refused(
    amount: Money, rate: tuple[str, str, Decimal]
) -> None:
    # Before: the viewer was charged, the creator got no Diamonds and no pay, and the
    # entry touched none of the creator's accounts: explain() and the statement never
    # showed it, so "every cent reconciles" missed the viewer's money.
    base, quote, value = rate
    book, app, _ = _chain(rates={(base, quote): value})
    head = book.head
    with pytest.raises(gl.InvalidArgument, match=r"is worth 0\.00 USD after tax at .*one minor"):
        app.send_gift("us", "c", "Tip", amount=amount, channel="web")
    with pytest.raises(gl.InvalidArgument, match=r"worth 0\.00 USD"):
        app.send_gift("us", "c", "Tip", amount=amount, channel="web", dry_run=True)
    assert book.head == head


def test_a_paid_gift_that_reaches_the_creator_as_nothing_is_refused() -> None:
    # 70% after a store fee that takes everything but a cent, and a Diamond per 1,000
    # cents rounded down: neither pay nor a Diamond reaches the creator.
    rules = _economy().latest
    thin = gl.CreatorPay(
        gl.PayoutModel.SHARE_OF_PRICE,
        share=Fraction(7, 10),
        share_after_fees=True,
        creator_units_per_coin=Fraction(1, 1000),
        unit_rounding=gl.Rounding.FLOOR,
    )
    fees = (gl.StoreFee("ios", Fraction(3, 10)), gl.StoreFee("web", 0, fixed=Money("0.99", "USD")))
    econ = gl.Economy(
        "thin",
        "thin",
        "USD",
        "COIN",
        "DIAMOND",
        (gl.RuleSet(**{**_fields(rules), "creator_pay": thin, "store_fees": fees}),),
    )
    book = gl.Ledger(clock=gl.ManualClock(T0 + timedelta(hours=1)))
    app = gl.GiftEconomy(book, econ)
    app.open_viewer("us", region="US", age=30)
    app.open_creator("c", region="US", age=30)
    head = book.head
    with pytest.raises(gl.InvalidArgument, match=r"earns 'c' no DIAMOND and no pay"):
        app.send_gift("us", "c", "Tip", amount=Money("1.00", "USD"), channel="web")
    assert book.head == head
    app.send_gift("us", "c", "Tip", amount=Money("100.00", "USD"), channel="web")
    assert len(app.explain("c").gifts) == 1


def _fields(rules: gl.RuleSet) -> dict[str, object]:
    import attrs

    return {f.name: getattr(rules, f.name) for f in attrs.fields(gl.RuleSet)}


# --------------------------------------------------------------------------- reversals


def test_after_reversing_a_gift_whose_carry_was_paid_a_conversion_takes_back_no_more() -> None:
    # Two tips leave carries of 0.7 cent each; a conversion pays the whole cent they
    # make (carry 0.4 left). A third tip (owed exactly 70 cents, 143 Diamonds) comes
    # in, then the first is reversed: its 0.7 goes back, the carries add up to -0.3,
    # so the next conversion owes a cent back. Before: it credited the creator's cash
    # with -1 cent and failed with "amount -1 minor units must be greater than zero",
    # and the creator's 42 Diamonds could not be converted.
    book, app, _ = _chain(taxes=(gl.TaxRule("*", 0),))
    first = app.send_gift("us", "c", "Tip", amount=Money("1.01", "USD"), channel="web")
    app.send_gift("us", "c", "Tip", amount=Money("1.01", "USD"), channel="web")
    conv = gl.record_of(app.convert_diamonds("c"))
    assert isinstance(conv, gl.ConversionRecord)
    assert (conv.value, conv.settled, conv.carry) == (141, 1, Fraction(2, 5))
    third = gl.record_of(
        app.send_gift("us", "c", "Tip", amount=Money("1.43", "USD"), channel="ios")
    )
    assert isinstance(third, gl.PaidGiftRecord)
    assert (third.owed, third.carry, third.units) == (70, 0, 143)
    app.reverse_gift(first)
    assert book.balance("creators:c:diamonds") == Money(42, "DIAMOND")
    assert book.balance("liabilities:creators-payable:c") == Money("0.00", "USD")

    tx = app.convert_diamonds("c")  # the 42 Diamonds release nothing: no cent to take back
    rec = gl.record_of(tx)
    assert isinstance(rec, gl.ConversionRecord)
    assert (rec.units, rec.value, rec.paid, rec.settled) == (42, 0, 0, 0)
    assert rec.carry == Fraction(-3, 10)  # owed back, from a later conversion
    assert book.balance("creators:c:cash") == Money("1.41", "USD")

    # The next tip's 0.7 cent of carry makes up for it (-0.3 + 0.7): in all, the
    # creator is paid exactly 70% of the three tips that stand, rounded down once.
    app.send_gift("us", "c", "Tip", amount=Money("1.01", "USD"), channel="web")
    last = gl.record_of(app.convert_diamonds("c"))
    assert isinstance(last, gl.ConversionRecord)
    assert (last.value, last.settled, last.carry) == (70, 0, Fraction(2, 5))
    kept = Fraction(7, 10) * (101 + 101) + 70  # the second and last web tips, the iOS one
    assert int(kept) == 141 + 70
    assert book.balance("creators:c:cash") == Money(int(kept), "USD") / 100
    app.verify()
    assert book.trial_balance().is_balanced
