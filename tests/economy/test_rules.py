"""The rules records check themselves, and an Economy answers which rules were in force."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import pytest
from moneyed import Money

import giftledger as gl
from giftledger import (
    CoinPack,
    Confidence,
    CreatorPay,
    Economy,
    Gift,
    PayoutModel,
    RewardsProgram,
    RuleSet,
    Source,
    StoreFee,
    TaxRule,
    WithdrawalPolicy,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 7, 1, tzinfo=UTC)
SRC = Source("test fixture", date(2024, 1, 1), Confidence.OFFICIAL)


def rules(at: datetime = T0, **changes: Any) -> RuleSet:
    values: dict[str, Any] = {
        "effective_from": at,
        "coin_packs": (
            CoinPack(70, Money("0.99", "USD"), "ios"),
            CoinPack(1400, Money("19.99", "USD"), "ios"),
            CoinPack(1400, Money("18.99", "USD"), "ios", "DE"),
            CoinPack(70, Money("0.74", "USD"), "web"),
        ),
        "store_fees": (StoreFee("ios", Fraction(3, 10), account="apple"), StoreFee("web", 0)),
        "gifts": (Gift("Rose", 1), Gift("Galaxy", 1000)),
        "creator_pay": CreatorPay(
            PayoutModel.DIAMOND_VALUE, value_per_unit=Fraction(1, 200), value_currency="USD"
        ),
        "taxes": (TaxRule("DE", Fraction(19, 100)), TaxRule("*", 0, inclusive=False)),
        "withdrawal": WithdrawalPolicy(minimum=Money("100", "USD")),
    }
    values.update(changes)
    return RuleSet(**values)


def economy(*versions: RuleSet, **changes: Any) -> Economy:
    values: dict[str, Any] = {
        "name": "test",
        "title": "Test",
        "books_currency": "USD",
        "coin_unit": "COIN",
        "creator_unit": "DIAMOND",
        "versions": versions or (rules(),),
    }
    values.update(changes)
    return Economy(**values)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: StoreFee("ios", Fraction(13, 10)), r"^rate: 1\.3 must be between 0 and 1$"),
        (lambda: StoreFee("ios", Fraction(-1, 10)), r"^rate: -0\.1 must be between 0 and 1$"),
        (lambda: StoreFee("ios", "abc"), r"^rate: 'abc' is not an exact ratio"),
        (lambda: StoreFee("", Fraction(0)), r"^channel: '' must not be empty"),
        (lambda: StoreFee("ios", 0, fixed=Money("-1", "USD")), r"^fixed: -1 USD must be at"),
        (lambda: TaxRule("Germany", Fraction(1, 5)), r"^region: 'Germany' must be an ISO 3166"),
        (lambda: TaxRule("DE", 2), r"^rate: 2 must be between 0 and 1"),
        (lambda: Gift("Rose", 0), r"^coins: 0 must be at least 1$"),
        (lambda: Gift("Rose", "1"), r"^coins: '1' of type str must be an int"),
        (lambda: Gift("", 1), r"^name: '' must not be empty"),
        (lambda: CoinPack(70, Money("0", "USD"), "ios"), r"^price: 0 USD must be greater than 0"),
        (
            lambda: CoinPack(70, Money("0.999", "USD"), "ios"),
            r"^price: 0\.999 USD is not an exact amount",
        ),
        (lambda: CoinPack(0, Money("1", "USD"), "ios"), r"^coins: 0 must be at least 1"),
        (lambda: CoinPack(70, "0.99", "ios"), r"^price: '0\.99' must be moneyed\.Money"),
        (lambda: CoinPack(70, Money("1", "USD"), "ios", "usa"), r"^region: 'usa'"),
        (
            lambda: CreatorPay(PayoutModel.DIAMOND_VALUE),
            r"^value_per_unit: 0 must be greater than 0 for model diamond_value",
        ),
        (
            lambda: CreatorPay(PayoutModel.SHARE_OF_PRICE),
            r"^share: 0 must be greater than 0 for model share_of_price",
        ),
        (
            lambda: CreatorPay("bogus"),
            r"^model: 'bogus' must be one of 'diamond_value', 'share_of_price'",
        ),
        (
            lambda: CreatorPay(PayoutModel.DIAMOND_VALUE, value_per_unit=1, value_currency="XYZ"),
            r"^value_currency: 'XYZ' is not a known currency",
        ),
        (
            lambda: WithdrawalPolicy(minimum=Money("100", "USD"), daily_cap=Money("50", "USD")),
            r"^daily_cap: 50 USD is below minimum 100 USD",
        ),
        (lambda: WithdrawalPolicy(review_days=-1), r"^review_days: -1 must be at least 0"),
        (lambda: WithdrawalPolicy(regions={"us"}), r"^regions: 'us' must be an ISO 3166"),
        (lambda: WithdrawalPolicy(withdrawals_per_week=0), r"^withdrawals_per_week: 0 must be"),
        (
            lambda: RewardsProgram("fund", {"US": Money("1", "EUR")}),
            r"^rpm\.US: 1 EUR is not in the program's currency USD",
        ),
        (
            lambda: RewardsProgram(
                "fund", {"US": Money("1", "USD")}, rpm_high={"US": Money("0.5", "USD")}
            ),
            r"^rpm_high\.US: 0\.5 USD is below rpm 1 USD",
        ),
        (lambda: RewardsProgram("fund", {}), r"^rpm: \{\} must name at least one region"),
        (
            lambda: RewardsProgram("fund", {"US": "0.45"}),
            r"^rpm\.US: '0\.45' must be moneyed\.Money",
        ),
        (lambda: RewardsProgram("fund", {"US": 0.45}), r"^rpm\.US: 0\.45 is a float"),
        (lambda: Source("", None, Confidence.CODE), r"^citation: '' must not be empty"),
        (lambda: Source("x", None, "sure"), r"^confidence: 'sure' must be one of"),
    ],
)
def test_bad_field_is_invalid_economy_naming_field_and_value(build: Any, message: str) -> None:
    with pytest.raises(gl.InvalidEconomy, match=message):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: StoreFee("ios", 0.3),
        lambda: TaxRule("DE", 0.19),
        lambda: CreatorPay(PayoutModel.DIAMOND_VALUE, value_per_unit=0.005),
        lambda: CreatorPay(PayoutModel.SHARE_OF_PRICE, share=0.7),
        lambda: WithdrawalPolicy(fee_rate=0.01),
        lambda: WithdrawalPolicy(min_age=18.0),
        lambda: Gift("Rose", 1.0),
        lambda: RewardsProgram("x", {"*": Money("1", "USD")}, engagement_weights={"high": 1.5}),
    ],
)
def test_a_float_is_both_float_not_allowed_and_invalid_economy(build: Any) -> None:
    with pytest.raises(gl.FloatNotAllowed, match="float") as caught:
        build()
    assert isinstance(caught.value, gl.InvalidEconomy)


def test_exact_inputs_are_normalised_to_fractions() -> None:
    assert StoreFee("ios", "30%").rate == Fraction(3, 10)
    assert StoreFee("ios", "3/10").rate == Fraction(3, 10)
    assert StoreFee("ios", Decimal("0.3")).rate == Fraction(3, 10)
    assert TaxRule("DE", "0.19").rate == Fraction(19, 100)
    assert StoreFee("ios", 0).account == "ios"  # the account segment defaults to the channel
    assert WithdrawalPolicy(regions=["US"], methods=["paypal"]).methods == ("paypal",)
    assert WithdrawalPolicy(regions=["US"]).regions == frozenset({"US"})
    weights = RewardsProgram("x", {"*": Money("1", "USD")}, engagement_weights={"hi": "3/2"})
    assert weights.engagement_weights == {"hi": Fraction(3, 2)}


def test_source_accepts_confidence_by_name_or_value() -> None:
    assert Source("x", None, "third-party").confidence is Confidence.THIRD_PARTY
    assert Source("x", None, "OFFICIAL_PRESS").confidence is Confidence.OFFICIAL_PRESS
    assert "undated" in str(Source("x", None, Confidence.CODE))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"coin_packs": (CoinPack(70, Money("0.99", "USD"), "ipad"),)},
            r"^coin_packs\[0\]\.channel: 'ipad' has no store fee; store fees exist for ios, web",
        ),
        ({"coin_packs": ()}, r"^coin_packs: \(\) must list at least one pack"),
        ({"gifts": ()}, r"^gifts: \(\) must list at least one gift"),
        (
            {"gifts": (Gift("Rose", 1), Gift("Rose", 2))},
            r"^gifts\[1\]\.name: 'Rose' is already gifts\[0\]",
        ),
        (
            {"store_fees": (StoreFee("ios", 0), StoreFee("ios", 0), StoreFee("web", 0))},
            r"^store_fees\[1\]\.channel: 'ios' already has a fee \(store_fees\[0\]\)",
        ),
        (
            {"taxes": (TaxRule("DE", 0), TaxRule("DE", 0))},
            r"^taxes\[1\]\.region: 'DE' already has a tax rule",
        ),
        (
            {
                "coin_packs": (
                    CoinPack(70, Money("0.99", "USD"), "ios"),
                    CoinPack(70, Money("1.09", "USD"), "ios"),
                )
            },
            r"^coin_packs\[1\]: a 70-coin pack on 'ios' in region '\*' is already coin_packs\[0\]",
        ),
        ({"payout_currencies": ("USD", "ZZZ")}, r"^payout_currencies\[1\]: 'ZZZ' is not a known"),
        ({"payout_currencies": ("COIN",)}, r"^payout_currencies\[0\]: 'COIN' is a virtual unit"),
        ({"payout_currencies": ()}, r"^payout_currencies: \(\) must name at least one"),
        ({"effective_from": datetime(2024, 1, 1)}, r"^effective_from: .* timezone-aware"),
        ({"gifts": (Gift("Rose", 1), "Galaxy")}, r"^gifts\[1\]: 'Galaxy' of type str must be"),
        ({"min_buyer_age": -1}, r"^min_buyer_age: -1 must be at least 0"),
    ],
)
def test_ruleset_cross_checks_name_the_path(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(gl.InvalidEconomy, match=message):
        rules(**changes)


def test_ruleset_takes_lists_and_keeps_tuples() -> None:
    r = rules(gifts=[Gift("Rose", 1)])
    assert r.gifts == (Gift("Rose", 1),)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"versions": ()}, r"^versions: \(\) must hold at least one RuleSet"),
        (
            {"versions": (rules(T1), rules(T0))},
            r"^versions\[1\]\.effective_from: 2024-01-01T00:00:00\+00:00 is not after "
            r"versions\[0\]\.effective_from 2024-07-01",
        ),
        ({"versions": (rules(T0), rules(T0))}, r"^versions\[1\]\.effective_from: .* not after"),
        ({"books_currency": "COIN"}, r"^books_currency: 'COIN' is a virtual unit"),
        ({"books_currency": "ZZZ"}, r"^books_currency: 'ZZZ' is not a known currency"),
        ({"coin_unit": "USD"}, r"^coin_unit: 'USD' is a currency"),
        ({"creator_unit": "COIN"}, r"^creator_unit: 'COIN' is also the coin_unit"),
        ({"coin_unit": "coin"}, r"^coin_unit: 'coin' cannot be registered"),
        ({"sources": {"versions[3].gifts": SRC}}, r"^sources\['versions\[3\]\.gifts'\]: no figure"),
        ({"sources": {"versions[0].gifts": "x"}}, r"must be a Source"),
        ({"unit_names": {"BEAN": ("bean", "beans")}}, r"^unit_names\.BEAN: not one of"),
        ({"assumptions": ("",)}, r"^assumptions\[0\]: '' must not be empty"),
    ],
)
def test_economy_checks_name_the_path(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(gl.InvalidEconomy, match=message):
        economy(**changes)


def test_economy_registers_its_units() -> None:
    econ = economy(
        coin_unit="TESTCOIN_R", creator_unit="TESTGEM_R", unit_names={"TESTGEM_R": ("gem", "gems")}
    )
    assert gl.get_unit("TESTCOIN_R").kind is gl.UnitKind.VIRTUAL
    assert gl.get_unit("TESTGEM_R").plural == "gems"
    assert econ.unit_names == {"TESTGEM_R": ("gem", "gems")}


def test_a_unit_registered_with_another_exponent_is_refused() -> None:
    gl.register_unit("TESTCENTS_R", 2)
    with pytest.raises(gl.InvalidEconomy, match="coin_unit: 'TESTCENTS_R' cannot be registered"):
        economy(coin_unit="TESTCENTS_R")


# --------------------------------------------------------------------------- time


def test_rules_at_picks_the_version_in_force_at_the_boundary() -> None:
    later = rules(T1, withdrawal=WithdrawalPolicy(minimum=Money("50", "USD")))
    econ = economy(rules(T0), later)
    just_before = T1 - timedelta(microseconds=1)
    assert econ.rules_at(just_before).withdrawal.minimum == Money("100", "USD")
    assert econ.rules_at(T1).withdrawal.minimum == Money("50", "USD")
    assert econ.rules_at(T0) is econ.versions[0]
    assert econ.version_index(T1 + timedelta(days=400)) == 1
    # Another time zone names the same instant.
    from datetime import timezone

    berlin = timezone(timedelta(hours=2))
    assert econ.rules_at(datetime(2024, 7, 1, 2, 0, tzinfo=berlin)) is later


def test_rules_before_the_first_version_is_a_clear_error() -> None:
    econ = economy(rules(T0))
    with pytest.raises(gl.UnknownRule, match=r"first version takes effect at 2024-01-01"):
        econ.rules_at(T0 - timedelta(seconds=1))
    with pytest.raises(gl.InvalidEconomy, match="timezone-aware"):
        econ.rules_at(datetime(2024, 2, 1))


def test_with_change_adds_a_dated_version_and_leaves_the_original() -> None:
    econ = economy(rules(T0), sources={"versions[0].gifts": SRC, "versions[0].withdrawal": SRC})
    new_src = Source("new terms", date(2024, 7, 1), Confidence.OFFICIAL)
    changed = econ.with_change(
        T1,
        withdrawal=WithdrawalPolicy(minimum=Money("25", "USD")),
        sources={"withdrawal.minimum": new_src},
    )
    assert len(econ.versions) == 1
    assert len(changed.versions) == 2
    assert changed.rules_at(T1).withdrawal.minimum == Money("25", "USD")
    assert changed.rules_at(T0).withdrawal.minimum == Money("100", "USD")
    assert changed.rules_at(T1).gifts == econ.latest.gifts
    # Unchanged fields keep their sources; changed ones take the new.
    assert changed.source_of("versions[1].gifts[0].coins") == SRC
    assert changed.source_of("versions[1].withdrawal.minimum") == new_src
    assert "versions[1].withdrawal" not in changed.sources


def test_with_change_refuses_bad_changes_with_the_new_versions_path() -> None:
    econ = economy(rules(T0))
    with pytest.raises(gl.InvalidEconomy, match=r"not after"):
        econ.with_change(T0, min_buyer_age=21)
    with pytest.raises(gl.InvalidEconomy, match=r"^bogus: not a RuleSet field"):
        econ.with_change(T1, bogus=1)
    with pytest.raises(gl.InvalidEconomy, match=r"^versions\[1\]\.gifts: \(\) must list"):
        econ.with_change(T1, gifts=())
    with pytest.raises(gl.InvalidEconomy, match=r"^versions\[1\]\.coin_packs\[0\]\.channel"):
        econ.with_change(T1, coin_packs=(CoinPack(5, Money("1", "USD"), "android"),))


# --------------------------------------------------------------------------- lookups


def test_pack_prefers_the_region_then_star() -> None:
    econ = economy()
    assert econ.pack(1400, "ios", "DE").price == Money("18.99", "USD")
    assert econ.pack(1400, "ios", "US").price == Money("19.99", "USD")
    assert econ.pack(1400, "ios").price == Money("19.99", "USD")
    assert econ.pack(70, "web", at=T1).price == Money("0.74", "USD")
    assert [p.coins for p in econ.latest.packs("ios", "DE")] == [70, 1400]


def test_lookups_name_the_value_and_list_what_exists() -> None:
    econ = economy()
    with pytest.raises(
        gl.UnknownRule, match=r"no 1500-coin pack on 'ios' .* packs there: 70, 1400"
    ):
        econ.pack(1500, "ios")
    with pytest.raises(gl.UnknownRule, match=r"unknown sales channel 'ipad'; channels: ios, web"):
        econ.pack(70, "ipad")
    with pytest.raises(gl.UnknownRule, match=r"unknown gift 'Lion'; the catalog has: Rose, Galaxy"):
        econ.gift("Lion")
    with pytest.raises(gl.UnknownRule, match=r"unknown sales channel 'android'"):
        econ.store_fee("android")
    with pytest.raises(gl.UnknownRule, match=r"no rules of 'test' are in force"):
        econ.gift("Rose", at=T0 - timedelta(days=1))
    no_star = economy(rules(taxes=(TaxRule("DE", Fraction(19, 100)),)))
    with pytest.raises(gl.UnknownRule, match=r"no tax rule for region 'US'.*regions: DE"):
        no_star.tax("US")
    with pytest.raises(LookupError):  # UnknownRule is a LookupError
        econ.gift("Lion")


def test_tax_falls_back_to_star() -> None:
    econ = economy()
    assert econ.tax("DE").rate == Fraction(19, 100)
    assert econ.tax("FR").region == "*"
    assert econ.store_fee("ios").account == "apple"
    assert econ.gift("Galaxy").coins == 1000


def test_rewards_program_lookup() -> None:
    program = RewardsProgram("fund", {"*": Money("0.02", "USD")})
    econ = economy(rules(rewards=(program,)))
    assert econ.latest.rewards_program() is program
    assert econ.latest.rewards_program("fund") is program
    with pytest.raises(gl.UnknownRule, match="programs: fund"):
        econ.latest.rewards_program("pulse")


# --------------------------------------------------------------------------- provenance


def test_source_of_walks_up_to_the_enclosing_record() -> None:
    own = Source("own", None, Confidence.ASSUMPTION, "a guess")
    econ = economy(sources={"versions.0.store_fees.0": SRC, "versions[0].store_fees[0].rate": own})
    assert econ.source_of("versions[0].store_fees[0].rate") == own
    assert econ.source_of("versions.0.store_fees.0.rate") == own
    assert econ.source_of("versions[0].store_fees[0].fixed") == SRC
    assert "versions[0].store_fees[0]" in econ.sources  # normalised to the bracket form


def test_missing_provenance_is_a_clear_error() -> None:
    econ = economy(sources={"versions[0].gifts": SRC})
    with pytest.raises(gl.UnknownRule, match=r"no source is recorded for 'versions\[0\]\.taxes"):
        econ.source_of("versions[0].taxes[0].rate")
    with pytest.raises(gl.UnknownRule, match=r"no figure at 'versions\[0\]\.nothing'"):
        econ.source_of("versions[0].nothing")
    with pytest.raises(gl.UnknownRule, match=r"no figure at"):
        econ.source_of("versions[9].gifts")
    missing = econ.missing_sources()
    assert "versions[0].taxes[0].rate" in missing
    assert "versions[0].gifts[0].coins" not in missing
    assert "NO SOURCE RECORDED" in econ.explain_sources()


def test_figures_list_every_number_once_with_its_value() -> None:
    econ = economy(sources={"versions[0]": SRC})
    figures = {f.path: f.value for f in econ.figures()}
    assert figures["versions[0].coin_packs[1].price"] == Money("19.99", "USD")
    assert figures["versions[0].store_fees[0].rate"] == Fraction(3, 10)
    assert figures["versions[0].creator_pay.value_per_unit"] == Fraction(1, 200)
    assert "versions[0].creator_pay.share" not in figures  # not used by this model
    assert figures["versions[0].withdrawal.minimum"] == Money("100", "USD")
    assert "versions[0].withdrawal.daily_cap" not in figures  # None is not a figure
    assert econ.missing_sources() == ()
    assert all(f.source == SRC for f in econ.figures())


def test_records_are_frozen() -> None:
    fee = StoreFee("ios", Fraction(3, 10))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fee.rate = Fraction(1, 2)  # type: ignore[misc]


def test_an_economy_is_immutable_hashable_and_picklable() -> None:
    import copy
    import pickle

    econ = economy(sources={"versions[0]": SRC}, variant={"model": "A"})
    assert hash(econ) == hash(economy(sources={"versions[0]": SRC}, variant={"model": "A"}))
    assert pickle.loads(pickle.dumps(econ)) == econ
    assert copy.deepcopy(econ) == econ
    assert econ.sources == {"versions[0]": SRC}  # compares equal to a plain dict
    with pytest.raises(TypeError):
        econ.sources["versions[0].gifts"] = SRC  # type: ignore[index]
    program = RewardsProgram("fund", {"*": Money("1", "USD")})
    assert hash(program) == hash(RewardsProgram("fund", {"*": Money("1", "USD")}))
    assert repr(econ) == "Economy(name='test', versions=[2024-01-01], variant={'model': 'A'})"


def test_a_preset_load_is_shared_and_checks_option_types() -> None:
    assert gl.presets.load("tiktok-live") is gl.presets.load("tiktok-live")
    assert gl.presets.load("tiktok-live") == gl.presets.load("tiktok-live", model="A")
    with pytest.raises(gl.UnknownRule, match="an option is a name"):
        gl.presets.load("tiktok-live", model=1)  # type: ignore[arg-type]
