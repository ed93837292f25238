"""The presets hold the fact sheet's numbers, dated and with the stated confidence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl
from giftledger import Confidence, PayoutModel


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def prices(econ: gl.Economy, channel: str, when: datetime | None = None) -> dict[int, str]:
    rules = econ.latest if when is None else econ.rules_at(when)
    return {p.coins: str(p.price.amount) for p in rules.packs(channel)}


# --------------------------------------------------------------------------- all presets


def test_list_gives_names_titles_dates_and_variants() -> None:
    infos = {p.name: p for p in gl.presets.list()}
    assert sorted(infos) == [
        "bigo-live",
        "facebook-stars",
        "tiktok-live",
        "twitch-bits",
        "youtube-super-chat",
    ]
    for info in infos.values():
        assert info.title
        assert isinstance(info.as_of, date)
        assert info.description
    assert infos["tiktok-live"].variants == {
        "ladder": ("70-coin-2021", "65-coin-2023", "100-coin-2019"),
        "model": ("A", "B", "D"),
        "web_fee": ("3pct", "2.9pct+0.30"),
        "withdrawal": ("kb-2019", "wallet-current"),
    }


@pytest.mark.parametrize("name", [p.name for p in gl.presets.list()])
def test_every_assumption_is_named_and_explained(name: str) -> None:
    econ = gl.presets.load(name)
    assert econ.assumptions, "a preset with no assumptions claims every figure is published"
    for figure in econ.figures():
        assert figure.source is not None
        if figure.source.confidence is Confidence.ASSUMPTION:
            assert figure.source.note, f"{figure.path}: an assumption must say why"
        if figure.source.confidence is Confidence.DERIVED:
            assert figure.source.note, f"{figure.path}: a derived figure must say how"


@pytest.mark.parametrize("name", [p.name for p in gl.presets.list()])
def test_every_preset_takes_vat_from_the_digital_vat_table_and_has_a_fallback(name: str) -> None:
    econ = gl.presets.load(name)
    vat = gl.presets.tax_table("digital-vat")
    rules = econ.latest
    de = rules.tax("DE")
    assert (de.rate, de.inclusive) == (Fraction(19, 100), True)
    assert rules.tax("DE", date(2020, 8, 1)).rate == Fraction(16, 100)
    # JP was a '*' region (0%) before the table; it now has its 10% consumption tax.
    assert rules.tax("JP").rate == Fraction(10, 100)
    assert rules.tax("BR").region == "*"
    for i, version in enumerate(econ.versions):
        for k, rule in enumerate(version.taxes):
            if rule in vat.rules:
                assert econ.source_of(f"versions[{i}].taxes[{k}].rate") == vat.source_for(rule)
        assert set(vat.rules) <= set(version.taxes)
    for text in vat.assumptions:
        assert text in econ.assumptions


def test_virtual_units_never_collide_across_presets() -> None:
    units = {}
    for info in gl.presets.list():
        econ = gl.presets.load(info.name)
        for code in (econ.coin_unit, econ.creator_unit):
            assert code not in units, f"{code} used by {units.get(code)} and {info.name}"
            units[code] = info.name
            assert gl.get_unit(code).kind is gl.UnitKind.VIRTUAL
    assert units["BIGO_DIAMOND"] == "bigo-live"
    assert units["DIAMOND"] == "tiktok-live"


# --------------------------------------------------------------------------- TikTok LIVE


def test_tiktok_ladders() -> None:
    default = gl.presets.load("tiktok-live")
    assert prices(default, "ios") == {
        70: "0.99",
        350: "4.99",
        700: "9.99",
        1400: "19.99",
        3500: "49.99",
        7000: "99.99",
        17500: "249.99",
    }
    assert prices(default, "android") == prices(default, "ios")
    assert prices(default, "web") == {
        70: "0.74",
        350: "3.70",
        700: "7.40",
        1400: "14.80",
        3500: "37.00",
        7000: "74.00",
        17500: "185.00",
    }
    new = gl.presets.load("tiktok-live", ladder="65-coin-2023")
    assert prices(new, "ios") == {
        65: "0.99",
        330: "4.99",
        660: "9.99",
        1321: "19.99",
        3303: "49.99",
        6607: "99.99",
        16500: "249.99",
    }
    early = gl.presets.load("tiktok-live", ladder="100-coin-2019")
    assert prices(early, "android") == {
        100: "1.39",
        500: "6.99",
        1000: "13.99",
        5000: "69.99",
        10000: "139.99",
    }


def test_tiktok_web_prices_are_derived_except_the_sourced_70() -> None:
    econ = gl.presets.load("tiktok-live")
    by_price = {
        str(f.value.amount): f.source
        for f in econ.figures()
        if f.path.startswith("versions[0].coin_packs") and isinstance(f.value, Money)
    }
    assert by_price["0.74"] is not None
    assert by_price["14.80"] is not None
    assert by_price["0.74"].confidence is Confidence.THIRD_PARTY
    assert by_price["0.74"].as_of == date(2022, 3, 16)
    assert by_price["14.80"].confidence is Confidence.DERIVED
    assert by_price["19.99"] is not None
    assert by_price["19.99"].confidence is Confidence.THIRD_PARTY


def test_tiktok_store_fees_and_the_web_assumption() -> None:
    econ = gl.presets.load("tiktok-live")
    assert econ.store_fee("ios").rate == Fraction(3, 10)
    assert econ.store_fee("ios").account == "apple"
    assert econ.store_fee("android").rate == Fraction(3, 10)
    assert econ.store_fee("android").account == "google"
    web = econ.store_fee("web")
    assert web.rate == Fraction(3, 100)
    source = econ.source_of("versions[0].store_fees[2].rate")
    assert source.confidence is Confidence.ASSUMPTION
    assert "25%" in source.note


@pytest.mark.parametrize(
    ("gift", "coins"),
    [
        ("Rose", 1),
        ("Finger Heart", 5),
        ("Hat and Mustache", 99),
        ("Money Gun", 500),
        ("Galaxy", 1000),
        ("Fireworks", 1088),
        ("Concert", 2888),
        ("Lion", 29999),
        ("TikTok Universe+", 34999),
        ("TikTok Universe", 44999),
    ],
)
def test_tiktok_gift_catalog_from_tntcoin(gift: str, coins: int) -> None:
    econ = gl.presets.load("tiktok-live")
    assert econ.gift(gift).coins == coins
    index = [g.name for g in econ.latest.gifts].index(gift)
    source = econ.source_of(f"versions[3].gifts[{index}].coins")
    assert source.confidence is Confidence.CODE
    assert source.as_of == date(2024, 7, 23)
    assert "TNTCoin" in source.citation


def test_tiktok_conversion_models() -> None:
    a = gl.presets.load("tiktok-live").latest.creator_pay
    assert (a.model, a.creator_units_per_coin, a.value_per_unit) == (
        PayoutModel.DIAMOND_VALUE,
        1,
        Fraction(1, 200),
    )
    b = gl.presets.load("tiktok-live", model="B").latest.creator_pay
    assert (b.creator_units_per_coin, b.value_per_unit) == (Fraction(1, 2), Fraction(1, 200))
    d = gl.presets.load("tiktok-live", model="D").latest.creator_pay
    assert (d.model, d.share, d.share_after_fees) == (
        PayoutModel.SHARE_OF_PRICE,
        Fraction(1, 2),
        False,
    )
    b_source = gl.presets.load("tiktok-live", model="B").source_of(
        "versions[0].creator_pay.creator_units_per_coin"
    )
    assert b_source.as_of == date(2021, 9, 3)


def test_tiktok_versions_and_withdrawal_2019() -> None:
    econ = gl.presets.load("tiktok-live")
    assert [v.effective_from.date() for v in econ.versions] == [
        date(2019, 2, 19),
        date(2020, 7, 23),
        date(2021, 3, 25),
        date(2024, 3, 19),
        date(2025, 8, 15),
    ]
    w = econ.rules_at(at(2019, 2, 19)).withdrawal
    assert w.minimum == Money("100", "USD")
    assert w.daily_cap == Money("1000", "USD")
    assert w.fee_rate == 0
    assert (w.review_days, w.holding_days, w.methods) == (15, 21, ("paypal",))
    later = econ.rules_at(at(2025, 8, 15)).withdrawal
    assert later.methods == ("bank", "paypal")
    assert econ.source_of("versions[4].withdrawal.minimum").confidence is Confidence.ASSUMPTION
    assert econ.source_of("versions[4].withdrawal.daily_cap").confidence is Confidence.OFFICIAL
    with pytest.raises(gl.UnknownRule):
        econ.rules_at(at(2019, 2, 19) - timedelta(seconds=1))


def test_tiktok_rewards_programs_over_time() -> None:
    econ = gl.presets.load("tiktok-live")
    assert econ.rules_at(at(2020, 7, 22)).rewards == ()
    fund = econ.rules_at(at(2021, 1, 1)).rewards_program()
    assert fund.name == "creator-fund"
    assert (fund.rpm["*"], fund.rpm_high["*"]) == (Money("0.02", "USD"), Money("0.04", "USD"))
    rewards = econ.rules_at(at(2024, 3, 19)).rewards_program()
    assert rewards.name == "creator-rewards"
    assert rewards.rpm["US"] == Money("0.45", "USD")
    assert rewards.rpm_high["US"] == Money("1.10", "USD")
    assert rewards.rpm["*"] == Money("0.40", "USD")
    assert (rewards.min_followers, rewards.min_views_30d) == (10000, 100000)
    assert (rewards.min_video_seconds, rewards.min_qualified_views_per_video) == (60, 1000)
    note = econ.source_of("versions[3].rewards[0].rpm.US").note
    assert "Conflicting" in note
    assert "2026-02-20" in note
    assert econ.source_of("versions[3].rewards[0].rpm.*").citation == "napolify.com"
    assert econ.rules_at(at(2026, 1, 1)).rewards_program().name == "creator-rewards"


def test_tiktok_design_example_numbers() -> None:
    # DESIGN §4: 1,400 coins for 19.99 USD on iOS, the store keeps 30% (6.00 rounded half up).
    econ = gl.presets.load("tiktok-live")
    pack = econ.pack(1400, "ios", "US", at=at(2026, 1, 1))
    fee = econ.store_fee("ios", at=at(2026, 1, 1))
    assert pack.price == Money("19.99", "USD")
    cents = int(pack.price.amount * 100) * fee.rate
    assert gl.round_fraction(cents, fee.rounding) == 600
    assert econ.tax("US").inclusive is False
    assert econ.tax("US").rate == 0
    assert "EUR" in econ.latest.payout_currencies


# --------------------------------------------------------------------------- peers


def test_twitch_bits() -> None:
    econ = gl.presets.load("twitch-bits")
    assert prices(econ, "web") == {
        100: "1.40",
        500: "7.00",
        1500: "19.95",
        5000: "64.40",
        10000: "126.00",
        25000: "308.00",
    }
    assert prices(econ, "ios") == {
        95: "1.99",
        245: "4.99",
        510: "9.99",
        1050: "19.99",
        2750: "49.99",
        5550: "99.99",
        11500: "199.99",
    }
    pay = econ.latest.creator_pay
    assert (pay.model, pay.value_per_unit) == (PayoutModel.DIAMOND_VALUE, Fraction(1, 100))
    before = econ.rules_at(at(2022, 7, 15) - timedelta(microseconds=1)).withdrawal
    after = econ.rules_at(at(2022, 7, 15)).withdrawal
    assert before.minimum == Money("100", "USD")
    assert before.holding_days == 45
    assert after.minimum == Money("50", "USD")
    assert econ.source_of("versions[0].withdrawal.minimum").as_of == date(2018, 6, 8)
    assert econ.source_of("versions[1].withdrawal.minimum").confidence is Confidence.OFFICIAL_PRESS


def test_youtube_super_chat() -> None:
    econ = gl.presets.load("youtube-super-chat")
    rules = econ.latest
    pay = rules.creator_pay
    assert (pay.model, pay.share, pay.share_after_fees) == (
        PayoutModel.SHARE_OF_PRICE,
        Fraction(7, 10),
        True,
    )
    assert econ.source_of("versions[1].creator_pay.share").confidence is Confidence.OFFICIAL
    assert rules.store_fee("ios").rate == Fraction(3, 10)
    assert rules.store_fee("web").rate == 0
    assert min(prices(econ, "web")) == 100
    assert prices(econ, "web")[100] == "1.00"
    assert prices(econ, "web")[50000] == "500.00"
    assert rules.gift("Super Chat $500").coins == 50000
    assert rules.withdrawal.minimum == Money("100", "USD")
    with pytest.raises(gl.UnknownRule, match="Super Thanks"):
        econ.gift("Super Thanks $5", at=at(2021, 7, 19))
    assert econ.gift("Super Thanks $5", at=at(2021, 7, 20)).coins == 500
    assert econ.tax("US").inclusive is False


def test_facebook_stars() -> None:
    econ = gl.presets.load("facebook-stars")
    assert prices(econ, "ios") == {45: "0.99", 530: "9.99", 6400: "99.99"}
    assert econ.latest.creator_pay.value_per_unit == Fraction(1, 100)
    assert econ.source_of("versions[0].creator_pay.value_per_unit").confidence is (
        Confidence.OFFICIAL
    )
    assert econ.rules_at(at(2022, 12, 8)).withdrawal.minimum == Money("100", "USD")
    assert econ.rules_at(at(2022, 12, 9)).withdrawal.minimum == Money("25", "USD")
    with pytest.raises(gl.UnknownRule, match="web"):
        econ.pack(45, "web")


def test_bigo_live() -> None:
    econ = gl.presets.load("bigo-live")
    assert (econ.coin_unit, econ.creator_unit) == ("BIGO_DIAMOND", "BEAN")
    pay = econ.latest.creator_pay
    assert pay.value_per_unit == Fraction(1, 210)
    assert pay.creator_units_per_coin == 1
    unit_source = econ.source_of("versions[0].creator_pay.creator_units_per_coin")
    assert unit_source.confidence is Confidence.ASSUMPTION
    assert "1,000 Diamonds = 500 Beans" in unit_source.note
    w = econ.latest.withdrawal
    assert w.minimum == Money("31.90", "USD")
    assert w.weekly_cap == Money("5000", "USD")
    assert w.withdrawals_per_week == 1
    assert w.holding_days == 2
    # 6,700 beans at 210 per dollar, rounded down to the cent, is the stated minimum.
    assert Fraction(6700, 210) * 100 // 1 == Decimal("3190")
    assert econ.source_of("versions[0].withdrawal.minimum").confidence is Confidence.DERIVED
    assert prices(econ, "android") == {100: "1.96", 1000: "19.61", 10000: "196.06"}


def test_tiktok_withdrawal_variant_uses_the_later_wallet_page() -> None:
    econ = gl.presets.load("tiktok-live", withdrawal="wallet-current")
    for rules in econ.versions:
        assert rules.withdrawal.minimum is None
        assert rules.withdrawal.methods == ("bank", "paypal")
        assert rules.withdrawal.daily_cap == Money("1000", "USD")
    source = econ.source_of("versions[0].withdrawal.daily_cap")
    assert "live-gifts-wallet/wallet" in source.citation
    assert source.confidence is Confidence.OFFICIAL
