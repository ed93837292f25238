"""The tiktok-live preset's view-pay programs, figure by figure, against the fact sheet
(shared/facts/gift-economy.md §3.4 and §4)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from moneyed import Money

import giftledger as gl
from giftledger import Confidence

SEA = {"BN", "ID", "KH", "LA", "MM", "MY", "PH", "SG", "TH", "TL", "VN"}


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def usd(text: str) -> Money:
    return Money(text, "USD")


def test_creator_fund_thresholds_of_100k_views_date_from_2021_03_25() -> None:
    econ = gl.presets.load("tiktok-live")
    launch = econ.rules_at(at(2021, 3, 24, 23, 59)).rewards_program()
    update = econ.rules_at(at(2021, 3, 25)).rewards_program()
    assert (launch.min_followers, launch.min_views_30d, launch.min_age) == (10_000, 10_000, 18)
    assert (update.min_followers, update.min_views_30d, update.min_age) == (10_000, 100_000, 18)
    first = econ.source_of("versions[1].rewards[0].min_views_30d")
    assert "support.tiktok.com" in first.citation
    assert first.as_of is None  # undated: applied from the launch, and the note says so
    assert "2021-03-25" in first.note
    for field in ("min_followers", "min_views_30d", "min_age"):
        source = econ.source_of(f"versions[2].rewards[0].{field}")
        assert source.as_of == date(2021, 3, 25)
        assert source.confidence is Confidence.OFFICIAL
    announced = econ.source_of("versions[1].rewards[0].regions")
    assert announced.as_of == date(2020, 7, 23)


def test_creator_fund_range_and_hank_greens_typical_figure() -> None:
    econ = gl.presets.load("tiktok-live")
    for when in (at(2020, 8, 1), at(2022, 1, 1)):
        fund = econ.rules_at(when).rewards_program("creator-fund")
        assert (fund.rpm["*"], fund.rpm_typical["*"], fund.rpm_high["*"]) == (
            usd("0.02"),
            usd("0.025"),
            usd("0.04"),
        )
    rate = econ.source_of("versions[2].rewards[0].rpm.*")
    assert "Mashable" in rate.citation
    assert "smwcda.com" in rate.citation
    assert rate.confidence is Confidence.THIRD_PARTY
    typical = econ.source_of("versions[2].rewards[0].rpm_typical.*")
    assert "Hank Green" in typical.citation
    assert "disclosure" in typical.note
    assert typical.as_of == date(2023, 11, 8)


def test_creator_fund_ends_in_us_uk_fr_de_and_runs_on_in_it_and_es() -> None:
    econ = gl.presets.load("tiktok-live")
    launch = econ.rules_at(at(2020, 8, 1)).rewards_program()
    assert launch.regions == frozenset({"US"})
    fund = econ.rules_at(at(2023, 12, 20)).rewards_program()
    assert fund.regions == frozenset({"US", "GB", "FR", "DE", "IT", "ES"})
    assert fund.ends == dict.fromkeys(("US", "GB", "FR", "DE"), date(2023, 12, 16))
    assert [r for r in sorted(fund.regions) if fund.runs_in(r, at(2023, 12, 16))] == ["ES", "IT"]
    assert all(fund.runs_in(r, at(2023, 12, 15)) for r in fund.regions)
    source = econ.source_of("versions[2].rewards[0].ends.US")
    assert source.confidence is Confidence.OFFICIAL_PRESS
    assert "Italy and Spain" in source.note
    assert econ.rules_at(at(2024, 3, 19)).rewards_program().name == "creator-rewards"


def test_creator_rewards_region_tiers_from_one_source_column() -> None:
    econ = gl.presets.load("tiktok-live")
    rewards = econ.rules_at(at(2024, 6, 1)).rewards_program()
    assert rewards.region_tiers == {"southeast-asia": frozenset(SEA)}
    expected = {
        "US": ("0.45", "1.10"),
        "GB": ("0.35", "0.90"),
        "DE": ("0.30", "0.80"),
        "FR": ("0.30", "0.80"),
        "CA": ("0.30", "0.85"),
        "AU": ("0.30", "0.85"),
        "BR": ("0.12", "0.45"),
        "MX": ("0.12", "0.45"),
        "ID": ("0.08", "0.35"),
        "VN": ("0.08", "0.35"),
        "JP": ("0.40", "1.00"),  # no row of its own: napolify's "typical" range
    }
    for region, (low, high) in expected.items():
        key = rewards.rate_key(region)
        assert key is not None
        assert (rewards.rpm[key], rewards.rpm_high[key]) == (usd(low), usd(high)), region
        source = econ.source_of(f"versions[3].rewards[0].rpm.{key}")
        column = (
            "napolify.com" if key == "*" else "calculatecreator.com 'creator-fund-rates-by-country'"
        )
        assert source.citation == column
    mapping = econ.source_of("versions[3].rewards[0].region_tiers.southeast-asia")
    assert mapping.confidence is Confidence.ASSUMPTION
    assert "ID" in mapping.note
    assert any("Southeast Asia" in a and "ID" in a for a in econ.assumptions)
    assert any("one source column" in a for a in econ.assumptions)


def test_creator_rewards_eligibility_by_region() -> None:
    econ = gl.presets.load("tiktok-live")
    rewards = econ.latest.rewards_program()
    assert [rewards.followers_needed(r) for r in ("US", "DE", "JP", "KR")] == [
        10_000,
        10_000,
        50_000,
        50_000,
    ]
    assert [rewards.age_needed(r) for r in ("US", "JP", "KR")] == [18, 18, 19]
    assert rewards.regions >= {"US", "GB", "DE", "FR", "JP", "KR", "BR"}
    assert "ID" not in rewards.regions
    followers = econ.source_of("versions[4].rewards[0].min_followers_by_region.JP")
    assert (followers.citation, followers.confidence) == ("hithanh", Confidence.THIRD_PARTY)
    age = econ.source_of("versions[4].rewards[0].min_age_by_region.KR")
    assert age.confidence is Confidence.OFFICIAL
    assert (rewards.min_video_seconds, rewards.min_video_seconds_exclusive) == (60, True)
    assert "over 1 minute" in econ.source_of("versions[4].rewards[0].min_video_seconds").note


def test_creator_rewards_payout_terms_are_third_party_and_unverified() -> None:
    econ = gl.presets.load("tiktok-live")
    rewards = econ.latest.rewards_program()
    assert (rewards.payout_minimum, rewards.payout_day) == (usd("50"), 15)
    for field in ("payout_minimum", "payout_day"):
        source = econ.source_of(f"versions[4].rewards[0].{field}")
        assert source.citation == "napolify.com"
        assert source.confidence is Confidence.THIRD_PARTY
        assert "unverified" in source.note


def test_engagement_weights_are_a_labelled_assumption() -> None:
    econ = gl.presets.load("tiktok-live")
    rewards = econ.latest.rewards_program()
    assert set(rewards.engagement_weights) == {"low", "average", "high"}
    assert rewards.engagement_weights["average"] == 1
    for tier in rewards.engagement_weights:
        source = econ.source_of(f"versions[4].rewards[0].engagement_weights.{tier}")
        assert source.confidence is Confidence.ASSUMPTION
        assert "publishes no weights" in source.note
