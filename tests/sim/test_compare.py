"""``compare``: one population under several economies, checked against a case by hand."""

from __future__ import annotations

from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl

# One viewer in the US buying in the iOS app, one creator: one $19.99 budget,
# spent as two gifts of half the budget each, no refund, every day active.
TINY = gl.Population(
    regions=(("US", 1),),
    channels=(("ios", 1),),
    budgets=((1999, 1),),
    gift_shares=((Fraction(1, 2), 1),),
    active_share=Fraction(1),
    refund_rate=Fraction(0),
)


def usd(text: str) -> Money:
    return Money(text, "USD")


def test_two_tiktok_models_and_twitch_match_the_hand_computed_case() -> None:
    cmp = gl.compare(
        [("tiktok-live", {"model": "A"}), ("tiktok-live", {"model": "B"}), "twitch-bits"],
        viewers=1,
        creators=1,
        days=1,
        seed=0,
        population=TINY,
    )
    a, b, twitch = (r.figures for r in cmp.results)
    # TikTok (ladder 70-coin-2021): $19.99 buys the 1,400-coin iOS pack; Apple keeps
    # 30% of it, 5.997 -> $6.00 (half up); US tax 0%. Half the budget is 700 coins:
    # the largest gift within 700 is the Money Gun (500), sent twice: 1,000 coins,
    # releasing 19.99 x 1000/1400 = 14.2785... -> $14.28; $5.71 stays deferred.
    for f in (a, b):
        assert (f.purchases, f.gifts) == (1, 2)
        assert (f.fiat_in, f.store_fees, f.taxes) == (usd("19.99"), usd("6.00"), usd("0"))
        assert f.deferred == usd("5.71")
    # Model A: 1 Diamond a coin at $0.005: 1,000 Diamonds = $5.00; the platform keeps
    # 14.28 - 5.00 - 6.00 (the store's fee) = $3.28.
    assert (a.to_creators, a.platform) == (usd("5.00"), usd("3.28"))
    # Model B: 2 coins a Diamond: 500 Diamonds = $2.50; the platform keeps $5.78.
    assert (b.to_creators, b.platform) == (usd("2.50"), usd("5.78"))
    # Twitch: $19.99 buys 1,050 Bits on iOS; half is 525 Bits: 5 x Cheer 100, twice:
    # 1,000 Bits at 1 cent = $10.00; released 19.99 x 1000/1050 = 19.038 -> $19.04;
    # deferred $0.95; platform 19.04 - 10.00 - 6.00 = $3.04.
    assert (twitch.gifts, twitch.fiat_in, twitch.store_fees) == (2, usd("19.99"), usd("6.00"))
    assert (twitch.to_creators, twitch.platform, twitch.deferred) == (
        usd("10.00"),
        usd("3.04"),
        usd("0.95"),
    )
    # Every creator is under the minimum ($100 TikTok, $50 Twitch): all blocked.
    assert (a.blocked_share, b.blocked_share, twitch.blocked_share) == (1, 1, 1)
    assert a.creator_share == Fraction(500, 1999)
    assert b.creator_share == Fraction(250, 1999)
    assert a.pay_per_gift == usd("2.5000")
    assert b.pay_per_gift == usd("1.2500")
    # The side-by-side differences say the same, baseline first.
    diffs = {label: (values, deltas) for label, values, deltas in cmp.differences()}
    assert diffs["to creators"][1] == (usd("-2.50"), usd("5.00"))
    assert diffs["platform"][1] == (usd("2.50"), usd("-0.24"))
    assert diffs["fiat in"][1] == (usd("0"), usd("0"))
    assert cmp.labels == ("tiktok-live", "tiktok-live[model=B]", "twitch-bits")
    rows = {row[0]: row for row in cmp.rows()}
    assert rows["to creators"] == (
        "to creators",
        "5.00 USD",
        "2.50 USD",
        "10.00 USD",
        "-2.50 USD",
        "+5.00 USD",
    )
    cmp.close()


def test_model_d_pays_half_of_what_the_viewer_paid_for_the_spent_coins() -> None:
    cmp = gl.compare(
        ["tiktok-live", ("tiktok-live", {"model": "D"})],
        viewers=1,
        creators=1,
        days=1,
        population=TINY,
    )
    d = cmp.results[1].figures
    # 50% of what each gift released before store fees (no tax in the US): the lot's
    # value is cut cumulatively, 19.99 x 500/1400 = 7.138... -> 7.14, then 14.28 - 7.14
    # = 7.14: each pays 3.57, $7.14 in all; the platform keeps 14.28 - 7.14 - 6.00.
    assert (d.to_creators, d.platform) == (usd("7.14"), usd("1.14"))
    assert d.reconciles


def test_the_population_is_the_same_under_every_economy() -> None:
    cmp = gl.compare(
        ["tiktok-live", ("tiktok-live", {"model": "B"}), ("tiktok-live", {"model": "D"})],
        viewers=80,
        creators=8,
        days=2,
        seed=4,
    )
    first = cmp.results[0].figures
    for r in cmp.results[1:]:
        f = r.figures
        # Same packs and gifts: only the creator's pay (and so the platform's) differs.
        assert (f.purchases, f.gifts, f.refunds) == (first.purchases, first.gifts, first.refunds)
        assert f.revenue_by_region == first.revenue_by_region
        assert f.fiat_in == first.fiat_in
        assert f.deferred == first.deferred
        assert f.to_creators + f.platform == first.to_creators + first.platform
    cmp.close()


def test_compare_needs_two_economies_and_a_ledger_each() -> None:
    with pytest.raises(gl.InvalidArgument, match="two or more"):
        gl.compare(["tiktok-live"], viewers=1, creators=1, days=1)
    with pytest.raises(gl.InvalidArgument, match="index"):
        gl.compare(
            ["tiktok-live", "twitch-bits"], viewers=1, creators=1, days=1, store="sqlite:///x.db"
        )


def test_compare_on_sqlite_writes_one_ledger_per_economy(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/cmp-{{index}}.db"
    cmp = gl.compare(["tiktok-live", "bigo-live"], viewers=10, creators=2, days=1, store=url)
    try:
        assert [r.ledger.store.url for r in cmp.results] == [
            url.replace("{index}", "0"),
            url.replace("{index}", "1"),
        ]
        assert all(r.figures.reconciles for r in cmp.results)
    finally:
        cmp.close()
