"""Tax rules are dated: a region's rate is the one in force on the day of the purchase."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl
from giftledger import CoinPack, CreatorPay, Economy, Gift, PayoutModel, RuleSet, StoreFee, TaxRule

T0 = datetime(2015, 1, 1, tzinfo=UTC)

DE_2020 = (
    TaxRule("DE", Fraction(19, 100), valid_from=date(2015, 1, 1), valid_to=date(2020, 7, 1)),
    TaxRule("DE", Fraction(16, 100), valid_from=date(2020, 7, 1), valid_to=date(2021, 1, 1)),
    TaxRule("DE", Fraction(19, 100), valid_from=date(2021, 1, 1)),
)


def rules(taxes: tuple[TaxRule, ...], at: datetime = T0, currency: str = "USD") -> RuleSet:
    return RuleSet(
        effective_from=at,
        coin_packs=(CoinPack(100, Money("10.00", currency), "web"),),
        store_fees=(StoreFee("web", 0),),
        gifts=(Gift("Rose", 1),),
        creator_pay=CreatorPay(
            PayoutModel.DIAMOND_VALUE, value_per_unit=Fraction(1, 200), value_currency=currency
        ),
        taxes=taxes,
        payout_currencies=(currency,),
    )


def economy(*versions: RuleSet, currency: str = "USD") -> Economy:
    return Economy(
        name="taxes",
        title="Taxes",
        books_currency=currency,
        coin_unit="COIN",
        creator_unit="DIAMOND",
        versions=versions,
    )


# --------------------------------------------------------------------------- one rule


def test_a_rule_is_in_force_from_its_first_day_until_the_day_before_valid_to() -> None:
    cut = DE_2020[1]
    assert not cut.in_force(date(2020, 6, 30))
    assert cut.in_force(date(2020, 7, 1))
    assert cut.in_force(date(2020, 12, 31))
    assert not cut.in_force(date(2021, 1, 1))
    assert cut.period == "2020-07-01 to 2021-01-01"
    assert DE_2020[2].period == "from 2021-01-01"
    assert TaxRule("DE", 0).period == "all dates"
    assert TaxRule("DE", 0, valid_to=date(2020, 1, 1)).period == "until 2020-01-01"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"valid_from": date(2021, 1, 1), "valid_to": date(2021, 1, 1)},
            r"^valid_to: 2021-01-01 must be after valid_from 2021-01-01",
        ),
        (
            {"valid_from": date(2021, 1, 2), "valid_to": date(2021, 1, 1)},
            r"^valid_to: 2021-01-01 must be after valid_from 2021-01-02",
        ),
        ({"valid_from": datetime(2021, 1, 1, tzinfo=UTC)}, r"^valid_from: .* must be a date"),
        ({"valid_to": "2021-01-01"}, r"^valid_to: '2021-01-01' must be a date"),
    ],
)
def test_a_rule_refuses_a_period_that_ends_before_it_starts(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(gl.InvalidEconomy, match=message):
        TaxRule("DE", Fraction(19, 100), **fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- selection


@pytest.mark.parametrize(
    ("day", "rate"),
    [
        (date(2020, 6, 30), Fraction(19, 100)),
        (date(2020, 7, 1), Fraction(16, 100)),
        (date(2020, 12, 31), Fraction(16, 100)),
        (date(2021, 1, 1), Fraction(19, 100)),
        (datetime(2020, 7, 1, 0, 0, tzinfo=UTC), Fraction(16, 100)),
        (datetime(2020, 6, 30, 23, 59, 59, tzinfo=UTC), Fraction(19, 100)),
    ],
)
def test_the_rule_in_force_on_the_day_is_picked(day: date, rate: Fraction) -> None:
    assert rules(DE_2020).tax("DE", day).rate == rate


def test_a_datetime_counts_on_its_utc_day() -> None:
    # 01:00 in Berlin on 1 July 2020 is still 30 June in UTC: the model's days are UTC days.
    berlin = timezone(timedelta(hours=2))
    assert rules(DE_2020).tax("DE", datetime(2020, 7, 1, 1, 0, tzinfo=berlin)).rate == Fraction(
        19, 100
    )


def test_no_date_means_the_open_ended_rule() -> None:
    assert rules(DE_2020).tax("DE") is DE_2020[2]
    # With every rule ended, the one that ended last.
    ended = rules(DE_2020[:2])
    assert ended.tax("DE") is DE_2020[1]
    # Undated rules behave as they always did.
    plain = rules((TaxRule("DE", Fraction(19, 100)), TaxRule("*", 0)))
    assert plain.tax("DE").rate == Fraction(19, 100)
    assert plain.tax("FR").region == "*"
    assert plain.tax("DE", date(1999, 1, 1)).rate == Fraction(19, 100)


def test_a_region_without_a_rule_in_force_falls_back_to_the_star_rule_then() -> None:
    star = TaxRule("*", Fraction(5, 100), valid_from=date(2016, 1, 1))
    ruleset = rules((*DE_2020, star))
    assert ruleset.tax("FR", date(2020, 8, 1)) is star
    # DE before its first period, and "*" not yet in force either.
    with pytest.raises(gl.UnknownRule, match=r"no tax rule for region 'DE' in force on 2014-12-31"):
        ruleset.tax("DE", date(2014, 12, 31))
    # DE before its first period with an undated "*": the fallback.
    assert rules((*DE_2020, TaxRule("*", 0))).tax("DE", date(2014, 12, 31)).region == "*"


def test_an_unknown_region_with_no_star_rule_names_the_region_and_the_day() -> None:
    ruleset = rules(DE_2020)
    with pytest.raises(
        gl.UnknownRule, match=r"no tax rule for region 'US' in force on 2020-08-01 .*regions: DE"
    ) as info:
        ruleset.tax("US", date(2020, 8, 1))
    assert isinstance(info.value, LookupError)
    with pytest.raises(gl.UnknownRule, match=r"no tax rule for region 'US' and no '\*' rule"):
        ruleset.tax("US")


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(gl.InvalidEconomy, match=r"at: .* must be a date or a timezone-aware"):
        rules(DE_2020).tax("DE", datetime(2020, 8, 1))


# --------------------------------------------------------------------------- overlap


def test_overlapping_periods_of_one_region_are_refused_naming_both_rules() -> None:
    overlapping = (
        DE_2020[0],
        TaxRule("FR", Fraction(20, 100)),
        TaxRule("DE", Fraction(16, 100), valid_from=date(2020, 6, 1), valid_to=date(2021, 1, 1)),
    )
    with pytest.raises(
        gl.InvalidEconomy,
        match=(
            r"^taxes\[2\]\.region: 'DE' already has a tax rule for some of the same days: "
            r"taxes\[0\] \(2015-01-01 to 2020-07-01\) overlaps taxes\[2\] "
            r"\(2020-06-01 to 2021-01-01\)"
        ),
    ):
        rules(overlapping)


@pytest.mark.parametrize(
    "pair",
    [
        (TaxRule("DE", 0), TaxRule("DE", 0, valid_from=date(2020, 1, 1))),
        (
            TaxRule("DE", 0, valid_to=date(2020, 1, 2)),
            TaxRule("DE", 0, valid_from=date(2020, 1, 1)),
        ),
        (
            TaxRule("DE", 0, valid_from=date(2020, 1, 1)),
            TaxRule("DE", 0, valid_from=date(2021, 1, 1)),
        ),
    ],
)
def test_every_kind_of_overlap_is_refused(pair: tuple[TaxRule, TaxRule]) -> None:
    with pytest.raises(gl.InvalidEconomy, match=r"already has a tax rule"):
        rules(pair)
    with pytest.raises(gl.InvalidEconomy, match=r"already has a tax rule"):
        rules(pair[::-1])


def test_periods_that_touch_do_not_overlap_and_other_regions_never_clash() -> None:
    ruleset = rules((*DE_2020, TaxRule("FR", Fraction(20, 100)), TaxRule("*", 0)))
    assert len(ruleset.taxes) == 5


# --------------------------------------------------------------------------- economy


def test_economy_tax_uses_the_version_and_the_period_in_force() -> None:
    later = rules((TaxRule("DE", Fraction(7, 100)),), at=datetime(2021, 6, 1, tzinfo=UTC))
    econ = economy(rules(DE_2020), later)
    assert econ.tax("DE", date(2020, 8, 1)).rate == Fraction(16, 100)
    assert econ.tax("DE", datetime(2021, 2, 1, tzinfo=UTC)).rate == Fraction(19, 100)
    assert econ.tax("DE", date(2021, 6, 1)).rate == Fraction(7, 100)
    assert econ.tax("DE").rate == Fraction(7, 100)
    with pytest.raises(gl.UnknownRule, match=r"no rules of 'taxes' are in force"):
        econ.tax("DE", date(2014, 1, 1))


# --------------------------------------------------------------------------- the chain


def test_a_purchase_books_the_rate_in_force_when_it_is_made() -> None:
    econ = economy(rules((*DE_2020, TaxRule("*", 0))))
    clock = gl.ManualClock(datetime(2020, 6, 30, 23, 59, tzinfo=UTC))
    book = gl.Ledger(clock=clock)
    app = gl.GiftEconomy(book, econ)
    app.open_viewer("ada", region="DE")
    taxes = []
    for when in (
        datetime(2020, 6, 30, 23, 59, tzinfo=UTC),  # 10.00 x 19/119 = 1.596… -> 1.60
        datetime(2020, 7, 1, tzinfo=UTC),  # 10.00 x 16/116 = 1.379… -> 1.38
        datetime(2021, 1, 1, tzinfo=UTC),  # 19% again
    ):
        clock.set(when)
        record = gl.record_of(app.buy_coins("ada", pack=100, channel="web"))
        assert isinstance(record, gl.PurchaseRecord)
        taxes.append(record.tax)
    assert taxes == [160, 138, 160]
    assert book.balance("liabilities:tax-payable:DE") == Money("4.58", "USD")
