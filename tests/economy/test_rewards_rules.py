"""A rewards program's rules: rate tiers, a typical rate, where and until when it runs,
regional thresholds and its own payout terms; each checked, listed with its source, and
written to TOML and read back unchanged."""

# The tables of bad fields read best with one case per line, path and message in full.
# ruff: noqa: E501

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

import attrs
import pytest
from moneyed import Money

import giftledger as gl
from giftledger import Economy, RewardsProgram

from .chainkit import simple_economy


def usd(text: str) -> Money:
    return Money(text, "USD")


SEA = {"ID", "TH", "VN"}


def program(**kw: Any) -> RewardsProgram:
    values: dict[str, Any] = {
        "name": "fund",
        "rpm": {"US": usd("0.45"), "southeast-asia": usd("0.08"), "*": usd("0.02")},
        "rpm_high": {"US": usd("1.10"), "southeast-asia": usd("0.35"), "*": usd("0.04")},
        "rpm_typical": {"*": usd("0.025")},
        "region_tiers": {"southeast-asia": SEA},
        "regions": {"US", "JP", "KR", "IT"},
        "ends": {"US": date(2023, 12, 16)},
        "min_followers": 10_000,
        "min_followers_by_region": {"JP": 50_000, "KR": 50_000},
        "min_age": 18,
        "min_age_by_region": {"KR": 19},
        "min_video_seconds": 60,
        "min_video_seconds_exclusive": True,
        "payout_minimum": usd("50"),
        "payout_day": 15,
    }
    values.update(kw)
    return RewardsProgram(**values)


def test_a_rate_may_be_finer_than_a_cent_but_never_a_float() -> None:
    assert program().rpm_typical["*"] == usd("0.025")
    with pytest.raises(gl.FloatNotAllowed, match=r"^rpm_typical\.\*: 0\.025 is a float"):
        program(rpm_typical={"*": 0.025})


def test_views_earn_their_own_rate_else_their_tier_else_the_rest() -> None:
    fund = program()
    assert [fund.rate_key(r) for r in ("US", "ID", "TH", "DE")] == [
        "US",
        "southeast-asia",
        "southeast-asia",
        "*",
    ]
    assert fund.region_tiers == {"southeast-asia": frozenset(SEA)}
    assert (
        program(rpm={"US": usd("1")}, rpm_high={}, rpm_typical={}, region_tiers={}).rate_key("DE")
        is None
    )


def test_thresholds_and_ages_by_the_creator_region() -> None:
    fund = program()
    assert [fund.followers_needed(r) for r in (None, "US", "JP", "KR")] == [
        10_000,
        10_000,
        50_000,
        50_000,
    ]
    assert [fund.age_needed(r) for r in (None, "US", "KR")] == [18, 18, 19]


def test_a_program_runs_in_its_regions_until_it_ends_there() -> None:
    fund = program()
    before = datetime(2023, 12, 15, 23, 59, tzinfo=UTC)
    ended = datetime(2023, 12, 16, tzinfo=UTC)
    assert fund.runs_in("US", before)
    assert not fund.runs_in("US", ended)
    assert not fund.runs_in("US")  # no time given: the recorded end has passed
    assert fund.runs_in("IT", ended)
    assert fund.runs_in("IT")
    assert not fund.runs_in("DE", before)  # not one of its regions
    assert program(regions=set(), ends={}).runs_in("DE")  # no regions: anywhere


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rpm_typical": {"*": usd("0.05")}}, r"^rpm_typical\.\*: 0\.05 USD is outside the range 0\.02 USD … 0\.04 USD"),
        ({"rpm_typical": {"DE": usd("0.05")}}, r"^rpm_typical\.DE: no rpm for region 'DE'"),
        ({"region_tiers": {"SEA": SEA}}, r"^region_tiers: 'SEA' must be a lower-case name"),
        ({"region_tiers": {"southeast-asia": SEA, "asia": {"ID"}}}, r"^region_tiers\.asia: 'ID' is already in tier 'southeast-asia'"),
        ({"region_tiers": {"southeast-asia": SEA, "nordics": {"SE"}}}, r"^region_tiers\.nordics: the tier has no rpm"),
        ({"region_tiers": {"southeast-asia": set()}}, r"^region_tiers\.southeast-asia: must list at least one country"),
        ({"region_tiers": {"southeast-asia": {"id"}}}, r"^region_tiers\.southeast-asia: 'id' must be an ISO 3166"),
        ({"region_tiers": {}}, r"^rpm\.southeast-asia: region must be a country code, a tier of region_tiers"),
        ({"regions": "US"}, r"^regions: 'US' must be a set of country codes"),
        ({"ends": {"DE": date(2023, 12, 16)}}, r"^ends\.DE: the program does not run in 'DE'"),
        ({"ends": {"US": datetime(2023, 12, 16, tzinfo=UTC)}}, r"^ends\.US: .* must be a date"),
        ({"min_followers_by_region": {"jp": 1}}, r"^min_followers_by_region\.jp: 'jp' must be an ISO 3166"),
        ({"min_age_by_region": {"KR": -1}}, r"^min_age_by_region\.KR: -1 must be at least 0"),
        ({"min_age_by_region": {"KR": 19.0}}, r"^min_age_by_region\.KR: 19\.0 is a float"),
        ({"min_video_seconds_exclusive": 1}, r"^min_video_seconds_exclusive: 1 must be true or false"),
        ({"payout_minimum": Money("50", "EUR")}, r"^payout_minimum: 50 EUR is not in the program's currency USD"),
        ({"payout_minimum": usd("0.005")}, r"^payout_minimum: 0\.005 USD is not an exact amount"),
        ({"payout_day": 0}, r"^payout_day: 0 must be at least 1"),
        ({"payout_day": 32}, r"^payout_day: 32 must be a day of the month"),
    ],
)  # fmt: skip
def test_bad_program_fields_name_the_field_and_value(change: dict[str, Any], message: str) -> None:
    with pytest.raises(gl.InvalidEconomy, match=message):
        program(**change)


def test_a_program_stays_a_hashable_frozen_value() -> None:
    assert hash(program()) == hash(program())
    assert program() == program()
    assert program() != program(ends={})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        program().min_age = 16  # type: ignore[misc]


def _economy(fund: RewardsProgram) -> Economy:
    econ = simple_economy()
    return attrs.evolve(econ, versions=(attrs.evolve(econ.latest, rewards=(fund,)),))


def test_figures_list_every_new_number_of_a_program() -> None:
    figures = {f.path: f.value for f in _economy(program()).figures()}
    base = "versions[0].rewards[0]"
    assert figures[f"{base}.rpm_typical.*"] == usd("0.025")
    assert figures[f"{base}.rpm.southeast-asia"] == usd("0.08")
    assert figures[f"{base}.min_followers_by_region.JP"] == 50_000
    assert figures[f"{base}.min_age"] == 18
    assert figures[f"{base}.min_age_by_region.KR"] == 19
    assert figures[f"{base}.ends.US"] == date(2023, 12, 16)
    assert figures[f"{base}.payout_minimum"] == usd("50")
    assert figures[f"{base}.payout_day"] == 15
    none = {f.path for f in _economy(program(payout_minimum=None, payout_day=None)).figures()}
    assert f"{base}.payout_minimum" not in none
    assert f"{base}.payout_day" not in none


def test_sources_can_name_a_tier_a_region_threshold_or_an_end() -> None:
    src = gl.Source("guide", None, gl.Confidence.THIRD_PARTY, "a note")
    base = "versions[0].rewards[0]"
    econ = attrs.evolve(
        _economy(program()),
        sources={
            f"{base}.rpm.southeast-asia": src,
            f"{base}.region_tiers.southeast-asia": src,
            f"{base}.ends.US": src,
            f"{base}.regions": src,
        },
    )
    assert econ.source_of(f"{base}.rpm.southeast-asia") == src
    assert econ.source_of(f"{base}.ends.US") == src
    with pytest.raises(gl.InvalidEconomy, match="no figure or record at that path"):
        attrs.evolve(econ, sources={f"{base}.ends.DE": src})


def test_every_field_round_trips_through_toml() -> None:
    econ = _economy(program())
    text = econ.to_toml()
    assert 'region_tiers = { southeast-asia = ["ID", "TH", "VN"] }' in text
    assert "ends = { US = 2023-12-16 }" in text
    again = Economy.from_toml(text)
    assert again == econ
    assert again.to_toml() == text
    plain = _economy(RewardsProgram("plain", {"*": usd("0.40")}))
    assert "min_video_seconds_exclusive" not in plain.to_toml()
    assert Economy.from_toml(plain.to_toml()) == plain


REWARDS = """
name = "views"
books_currency = "USD"
coin_unit = "COIN"
creator_unit = "DIAMOND"

[[versions]]
effective_from = 2024-01-01
gifts = { Rose = 1 }
ladders.app = { channels = ["web"], currency = "USD", packs = { 100 = "1.00" } }
store_fees = [{ channel = "web", rate = "0" }]
creator_pay = { model = "diamond_value", value_per_unit = "0.005 USD" }

[[versions.rewards]]
name = "fund"
rpm = { US = "0.45", southeast-asia = "0.08", "*" = "0.02" }
rpm_high = { US = "1.10", southeast-asia = "0.35", "*" = "0.04" }
rpm_typical = { "*" = "0.025" }
region_tiers = { southeast-asia = ["ID", "TH", "VN"] }
regions = ["US", "IT"]
ends = { US = 2023-12-16 }
min_followers = 10000
min_followers_by_region = { IT = 20000 }
min_age = 18
min_age_by_region = { IT = 19 }
min_video_seconds = 60
min_video_seconds_exclusive = true
payout_minimum = "50 USD"
payout_day = 15
source = { citation = "guide", confidence = "third-party" }
sources = { "rpm_typical.*" = { citation = "a creator", as_of = 2023-11-08, confidence = "third-party" }, "ends.US" = { citation = "press", confidence = "official-press" } }
"""


def test_the_loader_reads_every_field_of_a_program_with_its_sources() -> None:
    econ = Economy.from_toml(REWARDS)
    fund = econ.latest.rewards_program()
    assert fund.rpm_typical == {"*": usd("0.025")}
    assert fund.rate_key("VN") == "southeast-asia"
    assert fund.regions == frozenset({"US", "IT"})
    assert fund.ends == {"US": date(2023, 12, 16)}
    assert (fund.followers_needed("IT"), fund.age_needed("IT")) == (20_000, 19)
    assert fund.min_video_seconds_exclusive is True
    assert (fund.payout_minimum, fund.payout_day) == (usd("50"), 15)
    base = "versions[0].rewards[0]"
    assert econ.source_of(f"{base}.rpm_typical.*").as_of == date(2023, 11, 8)
    assert econ.source_of(f"{base}.ends.US").confidence is gl.Confidence.OFFICIAL_PRESS
    assert econ.source_of(f"{base}.payout_day").citation == "guide"
    assert Economy.from_toml(econ.to_toml()) == econ


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('rpm_typical = { "*" = "0.025" }', 'rpm_typical = { "*" = 0.025 }', r"rewards\[0\]\.rpm_typical\.\*: 0\.025 is a TOML float"),
        ("ends = { US = 2023-12-16 }", 'ends = { US = "2023-12-16" }', r"rewards\[0\]\.ends\.US: '2023-12-16' must be a TOML date"),
        ('regions = ["US", "IT"]', 'regions = "US"', r"rewards\[0\]\.regions: 'US' is a string; expected an array"),
        ("payout_day = 15", "payout_day = 15.0", r"rewards\[0\]\.payout_day: 15\.0 is a TOML float"),
        ('region_tiers = { southeast-asia = ["ID", "TH", "VN"] }', "region_tiers = { southeast-asia = 1 }", r"rewards\[0\]\.region_tiers\.southeast-asia: 1 is an integer"),
        ("min_followers_by_region = { IT = 20000 }", 'min_followers_by_region = { IT = "20000" }', r"rewards\[0\]\.min_followers_by_region\.IT: '20000' is a string; expected an integer"),
    ],
)  # fmt: skip
def test_loader_errors_name_the_path(old: str, new: str, message: str) -> None:
    assert old in REWARDS
    with pytest.raises(gl.InvalidEconomy, match=message):
        Economy.from_toml(REWARDS.replace(old, new))


def test_an_old_program_keeps_its_defaults() -> None:
    plain = RewardsProgram("fund", {"*": usd("0.40")}, min_video_seconds=60)
    assert plain.min_video_seconds_exclusive is False
    assert (plain.regions, plain.ends, plain.min_age) == (frozenset(), {}, 0)
    assert plain.followers_needed("JP") == 0
    assert plain.runs_in("JP", datetime(2030, 1, 1, tzinfo=UTC))
    assert plain.rpm_typical == {}
    assert plain.region_tiers == {}
    assert Fraction(plain.rpm["*"].amount) == Fraction(2, 5)


def test_a_program_without_the_new_fields_writes_the_toml_it_wrote_before() -> None:
    # A ledger records its economy's fingerprint (SHA-256 of this text): unchanged rules
    # must keep it across the upgrade.
    plain = _economy(
        RewardsProgram(
            "fund",
            {"US": usd("1.00"), "*": usd("0.10")},
            engagement_weights={"high": Fraction(3, 2)},
            min_followers=100,
            rpm_high={"US": usd("2.00")},
        )
    )
    line = next(x for x in plain.to_toml().splitlines() if x.lstrip().startswith('{ name = "fund"'))
    assert line == (
        '    { name = "fund", currency = "USD", rpm = { US = "1.00 USD", "*" = "0.10 USD" }, '
        'rpm_high = { US = "2.00 USD" }, engagement_weights = { high = "1.5" }, '
        "min_followers = 100, min_views_30d = 0, min_video_seconds = 0, "
        "min_qualified_views_per_video = 0 },"
    )


def test_a_program_without_the_new_fields_lists_the_figures_it_listed_before() -> None:
    figures = [f.path for f in _economy(RewardsProgram("fund", {"*": usd("0.40")})).figures()]
    assert [p for p in figures if ".rewards[" in p] == [
        "versions[0].rewards[0].rpm.*",
        "versions[0].rewards[0].min_followers",
        "versions[0].rewards[0].min_views_30d",
        "versions[0].rewards[0].min_video_seconds",
        "versions[0].rewards[0].min_qualified_views_per_video",
    ]
