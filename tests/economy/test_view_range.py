"""View pay as a range that says where it comes from: low, typical and high, per region,
with the eligibility for the creator and the program's own payout terms."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import attrs
import pytest
from moneyed import Money

import giftledger as gl
from giftledger import Confidence

from .chainkit import simple_economy

FUND_RAN = datetime(2021, 6, 1, tzinfo=UTC)  # the Creator Fund, after its 2021-03-25 update
REWARDS = datetime(2024, 6, 1, tzinfo=UTC)  # Creator Rewards
ELIGIBLE = {"followers": 10_000, "views_30d": 100_000, "video_seconds": 61}


def usd(text: str) -> Money:
    return Money(text, "USD")


@pytest.fixture(scope="module")
def econ() -> gl.Economy:
    return gl.presets.load("tiktok-live")


def test_creator_fund_comes_back_as_its_published_range_with_sources(econ: gl.Economy) -> None:
    # Acceptance 3, first half: the seed's "$0.02 to $0.03" per 1,000 views lies within the
    # published $0.02–$0.04, and Hank Green's $0.025 is the typical figure.
    fund = gl.estimate_view_range(econ, {"US": 1_000_000}, at=FUND_RAN)
    assert fund.program.name == "creator-fund"
    assert (fund.low.rpm, fund.typical.rpm, fund.high.rpm) == (
        Fraction(2, 100),
        Fraction(25, 1000),
        Fraction(4, 100),
    )
    assert fund.low.rpm <= Fraction(2, 100) <= Fraction(3, 100) <= fund.high.rpm
    assert (fund.low.amount, fund.typical.amount, fund.high.amount) == (
        usd("20.00"),
        usd("25.00"),
        usd("40.00"),
    )
    for figure in (fund.low, fund.high):
        (source,) = figure.sources
        assert "Mashable" in source.citation
        assert "smwcda.com" in source.citation
        assert source.confidence is Confidence.THIRD_PARTY
    (typical,) = fund.typical.sources
    assert "Hank Green" in typical.citation
    assert "disclosure" in typical.note
    assert (fund.low.basis, fund.typical.basis, fund.high.basis) == (
        "low end",
        "typical figure",
        "high end",
    )
    assert fund.notes == (
        "creator region not given: creator-fund runs in DE, ES, FR, GB, IT, US only",
        "creator region not given: creator-fund ended in DE on 2023-12-16, FR on 2023-12-16, "
        "GB on 2023-12-16, US on 2023-12-16",
    )


def test_a_region_mix_gives_figures_per_region_from_the_rewards_tiers(econ: gl.Economy) -> None:
    # Acceptance 3, second half: US and DE have rows of their own, ID falls in the
    # Southeast Asia tier of calculatecreator's table.
    views = {"US": 100_000, "DE": 50_000, "ID": 200_000}
    pay = gl.estimate_view_range(econ, views, at=REWARDS, **ELIGIBLE)
    assert pay.program.name == "creator-rewards"
    rows = {r.region: r for r in pay.regions}
    assert list(rows) == ["US", "DE", "ID"]
    assert [rows[r].rate_key for r in rows] == ["US", "DE", "southeast-asia"]
    expected = {
        "US": ("45.00", "77.50", "110.00"),
        "DE": ("15.00", "27.50", "40.00"),
        "ID": ("16.00", "43.00", "70.00"),
    }
    for region, (low, typical, high) in expected.items():
        row = pay.region(region)
        assert (row.low.amount, row.typical.amount, row.high.amount) == (
            usd(low),
            usd(typical),
            usd(high),
        )
        assert row.views == views[region]
        for figure in (row.low, row.typical, row.high):
            assert [s.citation for s in figure.sources] == [
                "calculatecreator.com 'creator-fund-rates-by-country'"
            ]
        assert row.typical.basis == "midpoint of low and high (derived)"
    assert pay.region("ID").low.rpm == Fraction(8, 100)
    assert (pay.low.amount, pay.typical.amount, pay.high.amount) == (
        usd("76.00"),
        usd("148.00"),
        usd("220.00"),
    )
    assert pay.views == 350_000
    assert any("midpoint" in note and "southeast-asia" in note for note in pay.notes)
    with pytest.raises(gl.UnknownRule, match="'JP'"):
        pay.region("JP")


def test_views_without_a_row_of_their_own_use_the_rest_of_the_world_rate(
    econ: gl.Economy,
) -> None:
    pay = gl.estimate_view_range(econ, {"JP": 10_000}, at=REWARDS)
    (row,) = pay.regions
    assert row.rate_key == "*"
    assert (row.low.amount, row.high.amount) == (usd("4.00"), usd("10.00"))
    assert [s.citation for s in row.low.sources] == ["napolify.com"]


def test_engagement_high_works_on_the_preset_and_names_its_assumption(econ: gl.Economy) -> None:
    views = {"US": 100_000}
    plain = gl.estimate_view_range(econ, views, at=REWARDS)
    high = gl.estimate_view_range(econ, views, at=REWARDS, engagement="high")
    assert high.weight == Fraction(6, 5)
    assert (high.low.amount, high.typical.amount, high.high.amount) == (
        usd("54.00"),
        usd("93.00"),
        usd("132.00"),
    )
    assert high.low.exact == plain.low.exact * Fraction(6, 5)
    weight_source = high.low.sources[-1]
    assert weight_source.confidence is Confidence.ASSUMPTION
    assert weight_source not in plain.low.sources
    assert any("1.2" in note for note in high.notes)
    assert gl.estimate_view_earnings(econ, views, engagement="high") == usd("54.00")
    with pytest.raises(gl.UnknownRule, match="average, high, low"):
        gl.estimate_view_range(econ, views, engagement="viral")


def test_creator_fund_in_the_us_is_refused_after_it_ended_while_italy_goes_on(
    econ: gl.Economy,
) -> None:
    views = {"US": 200_000}
    before = datetime(2023, 12, 15, 23, 59, tzinfo=UTC)
    assert gl.estimate_view_earnings(econ, views, creator_region="US", at=before) == usd("4.00")
    for when in (datetime(2023, 12, 16, tzinfo=UTC), datetime(2023, 12, 20, tzinfo=UTC)):
        with pytest.raises(
            gl.NotEligible,
            match=r"creator-fund ended in US on 2023-12-16; it still runs in ES, IT",
        ):
            gl.estimate_view_range(econ, views, creator_region="US", at=when)
        for region in ("IT", "ES"):
            it = gl.estimate_view_range(econ, views, creator_region=region, at=when)
            assert (it.low.amount, it.high.amount) == (usd("4.00"), usd("8.00"))
            assert it.eligibility.ends["US"].isoformat() == "2023-12-16"
    with pytest.raises(gl.NotEligible, match="ended in GB"):
        gl.estimate_view_earnings(
            econ, views, creator_region="GB", at=datetime(2024, 1, 1, tzinfo=UTC)
        )
    with pytest.raises(gl.NotEligible, match="does not run in IT; it runs in US"):
        gl.estimate_view_range(
            econ, views, creator_region="IT", at=datetime(2020, 9, 1, tzinfo=UTC)
        )


@pytest.mark.parametrize(("seconds", "earns"), [(59, False), (60, False), (61, True)])
def test_over_one_minute_means_a_60_second_video_does_not_earn(
    econ: gl.Economy, seconds: int, earns: bool
) -> None:
    kw: dict[str, Any] = {**ELIGIBLE, "video_seconds": seconds}
    if earns:
        assert gl.estimate_view_earnings(econ, {"US": 10_000}, **kw) == usd("4.50")
        return
    with pytest.raises(gl.NotEligible, match=rf"longer than 60 seconds.*got {seconds}"):
        gl.estimate_view_earnings(econ, {"US": 10_000}, **kw)


def test_an_at_least_minimum_still_lets_a_video_of_exactly_that_length_earn() -> None:
    program = gl.RewardsProgram("fund", {"*": usd("1.00")}, min_video_seconds=60)
    econ = simple_economy()
    econ = attrs.evolve(econ, versions=(attrs.evolve(econ.latest, rewards=(program,)),))
    assert gl.estimate_view_earnings(econ, {"US": 1000}, video_seconds=60) == usd("1.00")
    with pytest.raises(gl.NotEligible, match="videos of at least 60 seconds; got 59"):
        gl.estimate_view_earnings(econ, {"US": 1000}, video_seconds=59)
    fund = gl.presets.load("tiktok-live")  # the Creator Fund set no length at all
    assert gl.estimate_view_earnings(fund, {"US": 1000}, video_seconds=0, at=FUND_RAN) == usd(
        "0.02"
    )


def test_eligibility_follows_the_creators_country(econ: gl.Economy) -> None:
    views = {"US": 10_000}
    kw: dict[str, Any] = {**ELIGIBLE, "followers": 20_000}
    assert gl.estimate_view_earnings(econ, views, creator_region="US", **kw) == usd("4.50")
    with pytest.raises(gl.NotEligible, match="at least 50000 followers in JP; got 20000"):
        gl.estimate_view_earnings(econ, views, creator_region="JP", **kw)
    with pytest.raises(gl.NotEligible, match="aged 19 or more in KR; got 18"):
        gl.estimate_view_earnings(econ, views, creator_region="KR", age=18, followers=60_000)
    assert gl.estimate_view_earnings(econ, views, creator_region="US", age=18) == usd("4.50")
    with pytest.raises(gl.NotEligible, match="does not run in ID"):
        gl.estimate_view_earnings(econ, views, creator_region="ID")
    with pytest.raises(gl.UnknownRule, match="creator region 'XX'"):
        gl.estimate_view_earnings(econ, views, creator_region="XX")
    japan = gl.estimate_view_range(econ, views, creator_region="JP", followers=50_000).eligibility
    assert (japan.region, japan.min_followers, japan.min_age) == ("JP", 50_000, 18)
    assert japan.sources["min_followers"].citation == "hithanh"
    assert (japan.min_video_seconds, japan.video_must_be_longer) == (60, True)
    assert "JP" in japan.runs_in
    korea = gl.estimate_view_range(econ, views, creator_region="KR").eligibility
    assert (korea.min_followers, korea.min_age) == (50_000, 19)
    general = gl.estimate_view_range(econ, views).eligibility
    assert (general.region, general.min_followers, general.min_age) == (None, 10_000, 18)
    assert general.sources["min_views_30d"].confidence is Confidence.OFFICIAL


def test_the_programs_own_payout_terms_come_with_the_estimate(econ: gl.Economy) -> None:
    small = gl.estimate_view_range(econ, {"US": 100_000})
    big = gl.estimate_view_range(econ, {"US": 200_000})
    assert (small.payout_minimum, small.payout_day) == (usd("50"), 15)
    assert small.reaches_payout_minimum is False  # $45.00 at the low end
    assert big.reaches_payout_minimum is True  # $90.00
    assert "unverified" in small.payout_sources["payout_minimum"].note
    text = str(small)
    assert "50.00 USD minimum" in text or "50 USD minimum" in text
    assert "around day 15" in text
    fund = gl.estimate_view_range(econ, {"US": 100_000}, at=FUND_RAN)
    assert fund.payout_minimum is None
    assert fund.reaches_payout_minimum is None
    assert fund.payout_sources == {}


def test_each_region_is_rounded_alone_and_the_total_once_on_the_exact_sum(
    econ: gl.Economy,
) -> None:
    pay = gl.estimate_view_range(econ, {"US": 1_999, "DE": 1_999})
    us, de = pay.regions
    assert (us.low.exact, de.low.exact) == (Fraction(89955, 100000), Fraction(5997, 10000))
    assert (us.low.amount, de.low.amount) == (usd("0.89"), usd("0.59"))
    assert pay.low.exact == us.low.exact + de.low.exact
    assert pay.low.amount == usd("1.49")  # not 0.89 + 0.59
    assert pay.rounding is gl.Rounding.FLOOR
    assert gl.estimate_view_earnings(econ, {"US": 1_999, "DE": 1_999}) == pay.low.amount


def test_views_under_the_per_video_threshold_earn_nothing_across_the_range(
    econ: gl.Economy,
) -> None:
    pay = gl.estimate_view_range(econ, {"US": 999})
    assert (pay.low.amount, pay.typical.amount, pay.high.amount) == (usd("0.00"),) * 3
    assert pay.region("US").high.exact == 0
    assert any("under the threshold of 1,000 per video" in note for note in pay.notes)
    with pytest.raises(gl.NotEligible, match="threshold of 1000 per video"):
        gl.estimate_view_range(econ, {"US": 999}, strict=True, **ELIGIBLE)


@pytest.mark.parametrize(
    "views",
    [{"US": 0}, {"US": 1001}, {"US": 120_000, "DE": 30_000, "JP": 50_000}, {"*": 5000}, {}],
)
def test_the_old_estimate_is_the_low_end_of_the_range(
    econ: gl.Economy, views: dict[str, int]
) -> None:
    assert gl.estimate_view_earnings(econ, views) == gl.estimate_view_range(econ, views).low.amount


def test_an_economy_built_in_code_without_sources_still_estimates() -> None:
    program = gl.RewardsProgram(
        "fund", {"US": usd("1.00"), "*": usd("0.10")}, rpm_high={"US": usd("3.00")}
    )
    econ = simple_economy()
    econ = attrs.evolve(econ, versions=(attrs.evolve(econ.latest, rewards=(program,)),))
    pay = gl.estimate_view_range(econ, {"US": 1000, "BR": 1000})
    assert (pay.low.amount, pay.typical.amount, pay.high.amount) == (
        usd("1.10"),
        usd("2.10"),
        usd("3.10"),
    )
    assert pay.low.sources == ()
    brazil = pay.region("BR")  # no range: the one rate is low, typical and high
    assert {brazil.low.basis, brazil.typical.basis, brazil.high.basis} == {"the one rate stated"}
    assert pay.typical.basis == "midpoint of low and high (derived); the one rate stated"
    assert pay.high.basis == "high end; the one rate stated"
    assert pay.eligibility.sources == {}


@pytest.mark.parametrize(
    ("views", "error"),
    [
        ({"US": 1.5}, gl.InvalidArgument),
        ({"US": -1}, gl.InvalidArgument),
        ({"US": True}, gl.InvalidArgument),
        ({"us": 10}, gl.UnknownRule),
        ([("US", 10)], gl.InvalidArgument),
    ],
)
def test_bad_views_are_refused(econ: gl.Economy, views: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        gl.estimate_view_range(econ, views)


def test_the_range_reads_as_text(econ: gl.Economy) -> None:
    text = str(gl.estimate_view_range(econ, {"US": 100_000, "ID": 100_000}, at=REWARDS))
    assert text.splitlines()[0] == (
        "creator-rewards: 200,000 views earn 53.00 USD … 145.00 USD "
        "(typical 99.00 USD; midpoint of low and high (derived))"
    )
    assert "  ID (southeast-asia): 100,000 views, 8.00 USD … 35.00 USD (typical 21.50 USD)" in text
