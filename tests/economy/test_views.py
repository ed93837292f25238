"""View-based pay: estimates without a ledger, and paying a period from the rewards pool."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl

from .chainkit import app_for, simple_economy, snapshot, tiktok, usd

ELIGIBLE = {"followers": 10_000, "views_30d": 100_000, "video_seconds": 61}


def test_estimate_answers_how_much_a_platform_pays_per_stream() -> None:
    econ = gl.presets.load("tiktok-live")
    # Creator Rewards rates (low end): US $0.45, DE $0.30, everywhere else $0.40 per 1,000.
    views = {"US": 120_000, "DE": 30_000, "JP": 50_000}
    expected = usd("54.00") + usd("9.00") + usd("20.00")
    assert gl.estimate_view_earnings(econ, views) == expected
    assert gl.estimate_view_earnings(econ, views, **ELIGIBLE) == expected


def test_estimate_rounds_down_once_on_the_exact_total() -> None:
    econ = gl.presets.load("tiktok-live")
    # 1,001 US views at $0.45/1000 = 0.45045 → 0.45; 3 x 1,001 = 1.35135 → 1.35.
    assert gl.estimate_view_earnings(econ, {"US": 1001}) == usd("0.45")
    assert gl.estimate_view_earnings(econ, {"US": 3003}) == usd("1.35")


def test_a_video_under_the_per_video_threshold_earns_nothing() -> None:
    econ = gl.presets.load("tiktok-live")
    assert gl.estimate_view_earnings(econ, {"US": 999}) == usd("0.00")


@pytest.mark.parametrize(
    ("field", "value"),
    [("followers", 9_999), ("views_30d", 99_999), ("video_seconds", 59)],
)
def test_thresholds_make_a_creator_not_eligible(field: str, value: int) -> None:
    econ = gl.presets.load("tiktok-live")
    with pytest.raises(gl.NotEligible, match=str(value)):
        gl.estimate_view_earnings(econ, {"US": 10_000}, **{**ELIGIBLE, field: value})


def _weighted_economy() -> gl.Economy:
    econ = simple_economy()
    program = gl.RewardsProgram(
        "fund",
        {"US": usd("1.00"), "*": usd("0.10")},
        engagement_weights={"low": Fraction(1, 2), "high": Fraction(3, 2)},
        min_followers=100,
    )
    import attrs

    return attrs.evolve(econ, versions=(attrs.evolve(econ.latest, rewards=(program,)),))


def test_engagement_weights_scale_the_pay() -> None:
    econ = _weighted_economy()
    views = {"US": 10_000, "BR": 10_000}  # 10.00 + 1.00
    assert gl.estimate_view_earnings(econ, views, engagement="high") == usd("16.50")
    assert gl.estimate_view_earnings(econ, views, engagement="low") == usd("5.50")
    with pytest.raises(gl.UnknownRule, match="'viral'"):
        gl.estimate_view_earnings(econ, views, engagement="viral")


def test_pay_views_posts_from_the_rewards_pool_once_per_period() -> None:
    book, _, app = tiktok()
    app.open_creator("bob", region="US", age=30)
    tx = app.pay_views("bob", "2025-08", {"US": 200_000}, **ELIGIBLE)
    assert book.balance("creators:bob:cash") == usd("90.00")
    assert book.balance("platform:rewards-pool") == usd("90.00")
    assert tx.meta["gl.period"] == "2025-08"
    again = app.pay_views("bob", "2025-08", {"US": 200_000}, **ELIGIBLE)
    assert again.id == tx.id
    with pytest.raises(gl.DuplicateKeyConflict):
        app.pay_views("bob", "2025-08", {"US": 300_000}, **ELIGIBLE)
    app.pay_views("bob", "2025-09", {"US": 100_000}, **ELIGIBLE)
    assert book.balance("creators:bob:cash") == usd("135.00")


def test_pay_views_refuses_an_ineligible_creator_and_writes_nothing() -> None:
    book, _, app = tiktok()
    app.open_creator("bob", region="US")
    before = snapshot(book)
    with pytest.raises(gl.NotEligible, match="followers"):
        app.pay_views("bob", "2025-08", {"US": 200_000}, **{**ELIGIBLE, "followers": 5})
    with pytest.raises(gl.NotEligible, match="threshold"):
        app.pay_views("bob", "2025-08", {"US": 500}, **ELIGIBLE)
    assert snapshot(book) == before


def test_view_pay_to_a_creator_paid_in_euros_goes_through_fx() -> None:
    econ = _weighted_economy()
    book, _, app = app_for(econ, rates={("USD", "EUR"): "0.9"})
    app.open_creator("eva", region="DE", payout_currency="EUR")
    tx = app.pay_views("eva", "w1", {"US": 1000}, followers=100, views_30d=0, video_seconds=0)
    assert book.balance("creators:eva:cash") == Money("0.90", "EUR")
    assert [str(r) for r in tx.rates] == ["USD/EUR=9/10"]
    assert app.explain("eva").views == Money("0.90", "EUR")


def test_pay_views_refuses_the_creator_fund_in_the_us_after_it_ended_but_pays_italy() -> None:
    fund = {"followers": 10_000, "views_30d": 100_000, "video_seconds": 0}
    book, clock, app = tiktok(datetime(2023, 12, 15, tzinfo=UTC))
    app.open_creator("us", region="US", age=30)
    app.open_creator("it", region="IT", age=30)
    app.pay_views("us", "2023-12a", {"US": 200_000}, **fund)  # the day before it ended
    assert book.balance("creators:us:cash") == usd("4.00")
    clock.set(datetime(2023, 12, 20, tzinfo=UTC))
    before = snapshot(book)
    with pytest.raises(gl.NotEligible, match="creator-fund ended in US on 2023-12-16"):
        app.pay_views("us", "2023-12b", {"US": 200_000}, **fund)
    assert snapshot(book) == before
    app.pay_views("it", "2023-12b", {"US": 200_000}, **fund)
    assert book.balance("creators:it:cash") == usd("4.00")


def test_pay_views_applies_the_rules_of_the_creators_country() -> None:
    book, _, app = tiktok()
    app.open_creator("jp", region="JP", age=30)
    app.open_creator("kr", region="KR", age=18)
    app.open_creator("id", region="ID", age=30)
    app.open_creator("anon")  # no region or age declared: neither is checked
    before = snapshot(book)
    with pytest.raises(gl.NotEligible, match="at least 50000 followers in JP; got 20000"):
        app.pay_views("jp", "2025-08", {"JP": 200_000}, **{**ELIGIBLE, "followers": 20_000})
    with pytest.raises(gl.NotEligible, match="aged 19 or more in KR; got 18"):
        app.pay_views("kr", "2025-08", {"KR": 200_000}, **{**ELIGIBLE, "followers": 60_000})
    with pytest.raises(gl.NotEligible, match="does not run in ID"):
        app.pay_views("id", "2025-08", {"ID": 200_000}, **ELIGIBLE)
    with pytest.raises(gl.NotEligible, match="longer than 60 seconds; got 60"):
        app.pay_views("anon", "2025-08", {"US": 200_000}, **{**ELIGIBLE, "video_seconds": 60})
    assert snapshot(book) == before
    app.pay_views("jp", "2025-08", {"JP": 200_000}, **{**ELIGIBLE, "followers": 50_000})
    app.pay_views("anon", "2025-08", {"US": 200_000}, **ELIGIBLE)
    assert book.balance("creators:jp:cash") == usd("80.00")  # JP views: the '*' rate, $0.40
    assert book.balance("creators:anon:cash") == usd("90.00")
