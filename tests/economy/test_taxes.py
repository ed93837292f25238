"""Tax rules are dated: a region's rate is the one in force on the day of the purchase."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
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


# --------------------------------------------------------------------------- the shipped table

# The 27 member states, by ISO 3166 code (the Commission writes Greece as EL).
# fmt: off
EU = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)
# fmt: on


def test_the_digital_vat_table_holds_every_eu_member_state_with_a_source() -> None:
    vat = gl.presets.tax_table("digital-vat")
    assert len(EU) == 27
    assert set(EU) <= set(vat.regions)
    assert set(vat.regions) - set(EU) == {"GB", "AU", "JP"}
    for region in EU:
        rule = vat.rule(region, date(2015, 1, 1))  # every state from the place-of-supply rule
        assert rule.inclusive is True
        assert rule.valid_from == date(2015, 1, 1)
        assert Fraction(15, 100) <= rule.rate <= Fraction(27, 100)
        vat.rule(region)  # and one open-ended rule today
    for rule, source in zip(vat.rules, vat.sources, strict=True):
        assert source.citation, rule
        assert source.note, f"{rule.region} {rule.period}: a tax row must say what it covers"
        assert vat.source_for(rule) is source


@pytest.mark.parametrize(
    ("region", "day", "percent"),
    [
        ("DE", date(2020, 6, 30), "19"),
        ("DE", date(2020, 7, 1), "16"),
        ("DE", date(2021, 1, 1), "19"),
        ("GB", date(2015, 1, 1), "20"),
        ("GB", date(2025, 1, 1), "20"),
        ("AU", date(2017, 7, 1), "10"),
        ("JP", date(2015, 10, 1), "8"),
        ("JP", date(2019, 9, 30), "8"),
        ("JP", date(2019, 10, 1), "10"),
        ("EE", date(2023, 12, 31), "20"),
        ("EE", date(2024, 1, 1), "22"),
        ("EE", date(2025, 7, 1), "24"),
        ("RO", date(2016, 6, 1), "20"),
        ("RO", date(2025, 7, 31), "19"),
        ("RO", date(2025, 8, 1), "21"),
        ("FI", date(2024, 9, 1), "25.5"),
        ("GR", date(2016, 6, 1), "24"),
        ("IE", date(2020, 9, 1), "21"),
        ("IE", date(2021, 3, 1), "23"),
        ("LU", date(2023, 6, 1), "16"),
        ("SK", date(2025, 1, 1), "23"),
    ],
)
def test_the_table_gives_the_rate_in_force(region: str, day: date, percent: str) -> None:
    rule = gl.presets.tax_table("digital-vat").rule(region, day)
    assert rule.rate == Fraction(percent) / 100


def test_no_table_rule_before_a_country_taxed_foreign_digital_services() -> None:
    vat = gl.presets.tax_table("digital-vat")
    for region, first in (("AU", date(2017, 7, 1)), ("JP", date(2015, 10, 1))):
        with pytest.raises(gl.UnknownRule, match=rf"no rule for region '{region}' in force on"):
            vat.rule(region, first - timedelta(days=1))
    with pytest.raises(gl.UnknownRule, match=r"no rule for region 'US'; regions: AT, AU, BE"):
        vat.rule("US")
    assert vat.source_for(vat.rule("AU")).confidence is gl.Confidence.OFFICIAL


def test_gb_vat_of_20_percent_inside_10_pounds_is_1_67_rounded_half_up() -> None:
    vat = gl.presets.tax_table("digital-vat")
    econ = economy(
        rules(vat.with_overrides([TaxRule("*", 0)]), currency="GBP"),
        currency="GBP",
    )
    book = gl.Ledger(clock=gl.ManualClock(datetime(2024, 5, 1, tzinfo=UTC)))
    app = gl.GiftEconomy(book, econ)
    app.open_viewer("ann", region="GB")
    record = gl.record_of(app.buy_coins("ann", pack=100, channel="web"))
    assert isinstance(record, gl.PurchaseRecord)
    # 10.00 x 20/120 = 1.6666…: half-up gives 1.67; the viewer pays the 10.00 shown.
    assert (record.gross, record.tax) == (1000, 167)
    assert book.balance("liabilities:tax-payable:GB") == Money("1.67", "GBP")
    assert book.balance("liabilities:deferred-revenue") == Money("8.33", "GBP")


def test_own_rules_replace_the_table_for_their_region_only() -> None:
    vat = gl.presets.tax_table("digital-vat")
    own = [TaxRule("DE", 0, inclusive=False), TaxRule("*", 0)]
    merged = vat.with_overrides(own)
    assert merged[:2] == tuple(own)
    assert [r for r in merged if r.region == "DE"] == own[:1]
    assert len(merged) == 2 + len(vat.rules) - 3  # the table's three DE periods are gone
    assert rules(merged).tax("DE", date(2020, 8, 1)).inclusive is False


def test_the_table_round_trips_through_toml() -> None:
    from giftledger._economy.loading import tax_table_from_toml, tax_table_to_toml

    vat = gl.presets.tax_table("digital-vat")
    text = tax_table_to_toml(vat)
    again = tax_table_from_toml(text)
    assert again == vat
    assert tax_table_to_toml(again) == text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rules": (TaxRule("*", 0),)}, r"^rules\[0\]\.region: '\*' has no place"),
        ({"sources": ()}, r"^sources: 0 sources for 1 rules"),
        (
            {"rules": (TaxRule("DE", 0), TaxRule("DE", 0)), "sources": ()},
            r"^sources: 0 sources for 2 rules",
        ),
        ({"name": " "}, r"^name: ' ' must not be empty"),
        ({"assumptions": ("",)}, r"^assumptions\[0\]: '' must not be empty"),
    ],
)
def test_a_table_checks_itself(kwargs: dict[str, object], message: str) -> None:
    source = gl.Source("test", None, gl.Confidence.ASSUMPTION, "a test")
    values: dict[str, object] = {
        "name": "t",
        "title": "T",
        "rules": (TaxRule("DE", 0),),
        "sources": (source,),
    }
    values.update(kwargs)
    with pytest.raises(gl.InvalidEconomy, match=message):
        gl.TaxTable(**values)  # type: ignore[arg-type]


def test_a_table_refuses_overlapping_rows() -> None:
    source = gl.Source("test", None, gl.Confidence.ASSUMPTION, "a test")
    with pytest.raises(gl.InvalidEconomy, match=r"^rules\[1\]\.region: 'DE' already has"):
        gl.TaxTable("t", "T", (TaxRule("DE", 0), TaxRule("DE", 0)), (source, source))


def test_an_unknown_table_lists_the_shipped_ones() -> None:
    assert gl.presets.tax_tables() == ("digital-vat",)
    with pytest.raises(gl.UnknownRule, match=r"unknown tax table 'vat'; tables: digital-vat"):
        gl.presets.tax_table("vat")


# --------------------------------------------------------------------------- in TOML

TOML = """
name = "with-vat"
books_currency = "USD"
coin_unit = "COIN"
creator_unit = "DIAMOND"
assumptions = ["Its own."]

[[versions]]
effective_from = 2019-01-01
tax_table = "digital-vat"
store_fees = [{ channel = "web", rate = "0%" }]
coin_packs = [{ coins = 100, price = "10.00 USD", channel = "web" }]
gifts = { Rose = 1 }
creator_pay = { model = "diamond_value", value_per_unit = "0.005 USD" }

[[versions.taxes]]
region = "US"
rate = "0%"
inclusive = false
source = { citation = "preset", confidence = "assumption", note = "US sales tax not modelled." }

[[versions.taxes]]
region = "DE"
rate = "7%"
valid_from = 2019-01-01
valid_to = 2022-01-01
source = { citation = "a test", confidence = "assumption", note = "Overrides the table." }

[[versions.taxes]]
region = "*"
rate = "0%"
source = { citation = "preset", confidence = "assumption", note = "Elsewhere not modelled." }

[[versions]]
effective_from = 2021-01-01
creator_pay = { model = "diamond_value", value_per_unit = "0.004 USD" }
"""


def test_a_version_names_a_table_and_its_own_rules_override_it() -> None:
    econ = Economy.from_toml(TOML)
    first = econ.versions[0]
    assert [t.region for t in first.taxes[:3]] == ["US", "DE", "*"]
    assert first.tax("DE", date(2020, 8, 1)).rate == Fraction(7, 100)  # own, not the table's 16%
    with pytest.raises(gl.UnknownRule, match=r"'DE' in force on 2022-01-01 and no '\*' rule"):
        rules(first.taxes[1:2]).tax("DE", date(2022, 1, 1))
    assert first.tax("FR", date(2020, 8, 1)).rate == Fraction(20, 100)
    assert first.tax("BR", date(2020, 8, 1)).region == "*"
    fr = next(i for i, t in enumerate(first.taxes) if t.region == "FR")
    assert econ.source_of(f"versions[0].taxes[{fr}].rate").citation.startswith("seemuapps.com")
    assert econ.source_of("versions[0].taxes[1].rate").citation == "a test"
    # A later version that leaves taxes alone keeps them, sources included.
    assert econ.versions[1].taxes == first.taxes
    assert econ.source_of(f"versions[1].taxes[{fr}]") == econ.source_of(f"versions[0].taxes[{fr}]")
    assert [path for path in econ.missing_sources() if ".taxes[" in path] == []
    # The table's assumptions become the economy's.
    assert econ.assumptions[0] == "Its own."
    assert econ.assumptions[1:] == gl.presets.tax_table("digital-vat").assumptions


def test_an_economy_using_the_table_round_trips_through_toml() -> None:
    econ = Economy.from_toml(TOML)
    text = econ.to_toml()
    assert "tax_table" not in text  # written out in full, each rule with its dates
    assert "valid_from = 2020-09-01, valid_to = 2021-03-01" in text  # Ireland's 21%
    again = Economy.from_toml(text)
    assert again == econ
    assert again.sources == econ.sources
    assert again.to_toml() == text


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'tax_table = "digital-vat"',
            'tax_table = "vat"',
            r"^versions\[0\]\.tax_table: unknown tax table 'vat'; tables: digital-vat",
        ),
        ('tax_table = "digital-vat"', "tax_table = 1", r"^versions\[0\]\.tax_table: 1 is an"),
        (
            "valid_to = 2022-01-01",
            "valid_to = 2018-01-01",
            r"^versions\[0\]\.taxes\[1\]\.valid_to: 2018-01-01 must be after valid_from",
        ),
        (
            "valid_to = 2022-01-01",
            'valid_to = "2022"',
            r"^versions\[0\]\.taxes\[1\]\.valid_to: '2022' must be a TOML date",
        ),
        (
            'region = "DE"\nrate = "7%"\nvalid_from = 2019-01-01',
            'region = "US"\nrate = "7%"\nvalid_from = 2019-01-01',
            r"^versions\[0\]\.taxes\[1\]\.region: 'US' already has a tax rule for some of the "
            r"same days: taxes\[0\] \(all dates\) overlaps taxes\[1\]",
        ),
    ],
)
def test_a_bad_tax_field_names_its_path(old: str, new: str, message: str) -> None:
    assert old in TOML
    with pytest.raises(gl.InvalidEconomy, match=message):
        Economy.from_toml(TOML.replace(old, new, 1))


TABLE = """
name = "mine"
title = "Mine"

[sources.office]
citation = "my tax office"
confidence = "official"

[[taxes]]
region = "DE"
rate = "19%"
source = "office"
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('source = "office"', 'source = "bureau"', r"^taxes\[0\]\.source: 'bureau' is not in"),
        ('source = "office"', "", r"^taxes\[0\]\.source: missing \(required\)"),
        ('rate = "19%"', "rate = 0.19", r"^taxes\[0\]\.rate: 0\.19 is a TOML float"),
        ('name = "mine"', 'name = "mine"\nfoo = 1', r"^foo: unknown field"),
    ],
)
def test_a_bad_table_file_names_its_path(old: str, new: str, message: str) -> None:
    from giftledger._economy.loading import tax_table_from_toml

    assert tax_table_from_toml(TABLE).rule("DE").rate == Fraction(19, 100)
    with pytest.raises(gl.InvalidEconomy, match=message):
        tax_table_from_toml(TABLE.replace(old, new, 1))


# --------------------------------------------------------------------------- the presets


@pytest.mark.parametrize(
    ("when", "tax", "creator"),
    [
        # 10.00 x 16/116 = 1.379… -> 1.38 VAT; YouTube pays 70% of the rest: 0.7 x 8.62 = 6.034.
        (datetime(2020, 8, 1, 12, tzinfo=UTC), "1.38", "6.03"),
        # 10.00 x 19/119 = 1.596… -> 1.60 VAT; 0.7 x 8.40 = 5.88.
        (datetime(2021, 2, 1, 12, tzinfo=UTC), "1.60", "5.88"),
    ],
)
def test_a_german_super_chat_books_the_vat_of_its_day_before_the_creator_share(
    when: datetime, tax: str, creator: str
) -> None:
    clock = gl.ManualClock(when)
    book = gl.Ledger(clock=clock)
    app = gl.GiftEconomy(book, gl.presets.load("youtube-super-chat"))
    app.open_viewer("fan", region="DE")
    app.open_creator("host", region="US", age=30)
    record = gl.record_of(app.buy_coins("fan", pack=1000, channel="web"))
    assert isinstance(record, gl.PurchaseRecord)
    assert record.tax == int(Decimal(tax) * 100)  # minor units
    assert book.balance("liabilities:tax-payable:DE") == Money(tax, "USD")
    app.send_gift("fan", "host", "Super Chat $10")
    assert book.balance("liabilities:creators-payable:host") == Money(creator, "USD")


def test_one_ledger_books_16_percent_in_2020_and_19_percent_in_2021() -> None:
    clock = gl.ManualClock(datetime(2020, 8, 1, tzinfo=UTC))
    book = gl.Ledger(clock=clock)
    app = gl.GiftEconomy(book, gl.presets.load("tiktok-live"))
    app.open_viewer("ada", region="DE")
    first = gl.record_of(app.buy_coins("ada", pack=1400, channel="web"))
    clock.set(datetime(2021, 2, 1, tzinfo=UTC))
    second = gl.record_of(app.buy_coins("ada", pack=1400, channel="web"))
    assert isinstance(first, gl.PurchaseRecord)
    assert isinstance(second, gl.PurchaseRecord)
    # The web pack costs 14.80: 14.80 x 16/116 = 2.041… -> 2.04; 14.80 x 19/119 = 2.363… -> 2.36.
    assert (first.gross, first.tax) == (1480, 204)
    assert (second.gross, second.tax) == (1480, 236)


def test_a_later_version_that_sets_taxes_states_them_in_full() -> None:
    later = """
[[versions]]
effective_from = 2022-01-01

[[versions.taxes]]
region = "*"
rate = "5%"
source = { citation = "a test", confidence = "assumption", note = "No table from here on." }
"""
    econ = Economy.from_toml(TOML + later)
    assert econ.versions[2].taxes == (TaxRule("*", Fraction(5, 100)),)
    assert econ.tax("FR", date(2022, 1, 1)).rate == Fraction(5, 100)
    assert econ.tax("FR", date(2021, 12, 31)).rate == Fraction(20, 100)
    assert econ.source_of("versions[2].taxes[0].rate").citation == "a test"
    with pytest.raises(gl.UnknownRule, match=r"no figure at 'versions\[2\]\.taxes\[1\]"):
        econ.source_of("versions[2].taxes[1]")
