"""A seeded population: the same summary on every store, a ledger that verifies,
totals that reconcile to the cent."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
from giftledger._simulate.figures import gini
from giftledger.testing import check_conservation, check_every_cent

SMALL = {"viewers": 40, "creators": 6, "days": 3, "seed": 11}


def _summary(result: gl.SimulationResult) -> dict[str, object]:
    return dict(result.figures.items()) | {"earnings": result.figures.creator_earnings}


def test_same_seed_gives_the_same_summary_on_every_store(store_url: str) -> None:
    on_memory = gl.simulate("tiktok-live", **SMALL)
    again = gl.simulate("tiktok-live", store=store_url, **SMALL)
    try:
        assert _summary(again) == _summary(on_memory)
        assert again.ledger.head == on_memory.ledger.head  # the very same entries
        assert again.ledger.verify() == on_memory.ledger.verify()
    finally:
        on_memory.ledger.close()
        again.ledger.close()


def test_another_seed_gives_another_population() -> None:
    a = gl.simulate("tiktok-live", **SMALL)
    b = gl.simulate("tiktok-live", **(SMALL | {"seed": 12}))
    assert a.figures.creator_earnings != b.figures.creator_earnings


@pytest.mark.parametrize(
    ("preset", "variant"),
    [
        ("tiktok-live", {}),
        ("tiktok-live", {"model": "D"}),
        ("twitch-bits", {}),
        ("facebook-stars", {}),
        ("bigo-live", {}),
        ("youtube-super-chat", {}),
    ],
)
def test_the_books_verify_and_every_cent_is_accounted_for(
    preset: str, variant: dict[str, str]
) -> None:
    pop = gl.Population(refund_rate=Fraction(1, 10))  # refunds on every run
    res = gl.simulate(preset, variants=variant, population=pop, **SMALL)
    f = res.figures
    assert f.refunds > 0
    assert f.gifts > 0
    assert res.app.verify() > 0
    check_conservation(res.app)
    check_every_cent(res.app)
    left = f.fiat_in + f.viewer_debt
    assert left == f.store_fees + f.taxes + f.platform + f.to_creators + f.deferred
    assert f.reconciles
    assert sum((m for _, m in f.revenue_by_channel), Money(0, f.currency)) == f.fiat_in
    assert sum((m for _, m in f.revenue_by_region), Money(0, f.currency)) == f.fiat_in
    # Still deferred is exactly the value of the coins left in wallets (lots unspent).
    assert f.deferred == res.ledger.balance("liabilities:deferred-revenue")


def test_figures_agree_with_the_creators_accounts() -> None:
    res = gl.simulate("twitch-bits", **SMALL)
    f = res.figures
    book = res.ledger
    for c, earned in enumerate(f.creator_earnings):
        owed = book.balance(f"liabilities:creators-payable:creator-{c}")
        cash = book.balance(f"creators:creator-{c}:cash")
        assert gl.to_minor(owed + cash, "USD") <= earned  # the rest was withdrawn
    ranked = sorted(f.creator_earnings)
    assert f.creator_top1 == gl.from_minor(ranked[-1], "USD")  # 6 creators: the top one
    assert f.creator_top1_share == Fraction(ranked[-1], sum(ranked))
    assert f.gini == gini(list(ranked))
    assert f.earners == sum(1 for e in ranked if e)
    assert f.live_hours == 6 * 3 * 2


def test_popularity_is_skewed_towards_the_first_creators() -> None:
    res = gl.simulate("tiktok-live", viewers=300, creators=50, days=2, seed=5)
    earned = res.figures.creator_earnings
    top5, rest = sum(earned[:5]), sum(earned[5:])
    assert top5 > rest / 3  # Zipf s=1: the top 10% draw ~50% of sessions
    assert res.figures.gini > Fraction(1, 2)


def test_view_pay_reaches_creators_over_the_programs_thresholds() -> None:
    pop = gl.Population(views_per_viewer_day=2_000)
    res = gl.simulate("tiktok-live", viewers=60, creators=5, days=2, seed=2, population=pop)
    f = res.figures
    assert f.views == 60 * 2_000 * 2
    assert f.view_pay > Money(0, "USD")
    assert f.pay_per_1000_views is not None
    assert f.pay_per_1000_views > Money(0, "USD")
    check_every_cent(res.app)
    assert f.reconciles


def test_an_economy_without_a_rewards_program_has_no_pay_per_view() -> None:
    assert gl.simulate("twitch-bits", **SMALL).figures.pay_per_1000_views is None


def test_withdrawals_complete_when_due() -> None:
    pop = gl.Population(budgets=((24999, 1),), active_share=Fraction(1))
    res = gl.simulate("facebook-stars", viewers=20, creators=2, days=3, seed=1, population=pop)
    f = res.figures
    assert f.withdrawals_completed > 0  # Facebook: no review or holding days
    assert res.ledger.balance("assets:bank") < Money(0, "USD")
    assert f.blocked == 0


def test_a_store_that_holds_entries_is_refused(tmp_path: object) -> None:
    book = gl.Ledger()
    book.open_account("assets:x", "USD")
    url = f"sqlite:///{tmp_path}/used.db"  # type: ignore[str-bytes-safe]
    with gl.Ledger.open(url) as used:
        used.open_account("assets:x", "USD")
    with pytest.raises(gl.InvalidArgument, match="already holds entries"):
        gl.simulate("tiktok-live", store=url, **SMALL)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"viewers": 0}, "viewers 0"),
        ({"days": True}, "days True"),
        ({"seed": "x"}, "seed 'x'"),
        ({"variants": {"model": "Z"}}, "'Z'"),
        ({"population": "big"}, "population"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], words: str) -> None:
    args: dict[str, object] = {**SMALL, **kwargs}
    with pytest.raises(gl.GiftLedgerError, match=words):
        gl.simulate("tiktok-live", **args)  # type: ignore[arg-type]


def test_a_population_refuses_floats_and_bad_weights() -> None:
    with pytest.raises(gl.InvalidArgument, match="float"):
        gl.Population(active_share=0.5)  # type: ignore[arg-type]
    with pytest.raises(gl.InvalidArgument, match="weights must add up"):
        gl.Population(channels=(("ios", 0),))
    with pytest.raises(gl.InvalidArgument, match="ISO 3166"):
        gl.Population(regions=(("usa", 1),))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), viewers=st.integers(1, 50), creators=st.integers(1, 10))
def test_a_plan_is_a_function_of_its_seed(seed: int, viewers: int, creators: int) -> None:
    pop = gl.Population()
    a = list(pop.plan(viewers=viewers, creators=creators, days=2, seed=seed))
    b = list(pop.plan(viewers=viewers, creators=creators, days=2, seed=seed))
    assert a == b
    for day in a:
        assert all(0 <= s.creator < creators and 0 <= s.viewer < viewers for s in day.sessions)
        assert all(sum(s.shares) >= 1 or len(s.shares) == 50 for s in day.sessions)


def test_gini_bounds() -> None:
    assert gini([0, 0, 0, 0]) == 0
    assert gini([7, 7, 7]) == 0
    assert gini([0, 0, 0, 9]) == Fraction(3, 4)  # (n - 1) / n
    assert gini([1, 2, 3, 4]) == Fraction(1, 4)


# Regressions of the review of issue 14 (hatk14).


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"viewers": 10**9}, "viewers 1,000,000,000 is more than"),
        ({"creators": 10**9}, "creators 1,000,000,000 is more than"),
        ({"days": 10**6}, "days 1,000,000 is more than"),
    ],
)
def test_huge_sizes_are_refused_before_anything_is_allocated(
    kwargs: dict[str, object], words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before the caps, viewers=10**9 drew a billion people (2 GB and climbing after
    # two minutes) and creators=10**9 computed a billion Zipf weights. Drawing or
    # opening a store now fails the test: the refusal comes first.
    def boom(*_: object, **__: object) -> None:
        raise AssertionError("allocated or opened before refusing")

    monkeypatch.setattr(gl.Population, "people", boom)
    monkeypatch.setattr(gl.Ledger, "open", boom)
    args: dict[str, object] = {**SMALL, **kwargs}
    with pytest.raises(gl.InvalidArgument, match=words):
        gl.simulate("tiktok-live", **args)  # type: ignore[arg-type]
    with pytest.raises(gl.InvalidArgument, match=words):
        gl.compare(["tiktok-live", "twitch-bits"], **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        # The packs are in USD, the budgets in EUR: found mid-run, after writing.
        ({"population": gl.Population(currency="EUR")}, "USD/EUR rate"),
        # The GBP ladder of the 65-coin variant without a rate.
        (
            {
                "population": gl.Population(regions=(("GB", 1),)),
                "variants": {"ladder": "65-coin-2023"},
            },
            "GBP/USD rate",
        ),
        # A float rate was taken as Fraction(1.25): a float touching a price.
        (
            {
                "population": gl.Population(regions=(("GB", 1),)),
                "variants": {"ladder": "65-coin-2023"},
                "rates": {("GBP", "USD"): 1.25},
            },
            "must be exact",
        ),
        ({"start": datetime(2001, 1, 1, tzinfo=UTC)}, "no rules of 'tiktok-live'"),
        ({"start": "2024-01-01"}, "start '2024-01-01'"),
        ({"days": 0}, "days 0"),
    ],
)
def test_a_run_that_cannot_map_is_refused_with_nothing_written(
    tmp_path: Path, kwargs: dict[str, object], words: str
) -> None:
    args: dict[str, object] = {**SMALL, **kwargs}
    with pytest.raises(gl.GiftLedgerError, match=words):
        gl.simulate("tiktok-live", store=f"sqlite:///{tmp_path}/sim.db", **args)  # type: ignore[arg-type]
    variants = args.pop("variants", None)
    first = ("tiktok-live", variants) if variants else "tiktok-live"
    with pytest.raises(gl.GiftLedgerError, match=words):
        gl.compare(
            [first, first],  # type: ignore[list-item]
            store=f"sqlite:///{tmp_path}/cmp-{{index}}.db",
            **args,  # type: ignore[arg-type]
        )
    assert list(tmp_path.iterdir()) == []


def test_an_exact_rate_maps_a_foreign_ladder_and_reconciles() -> None:
    pop = gl.Population(regions=(("GB", 1), ("US", 1)))
    res = gl.simulate(
        "tiktok-live",
        variants={"ladder": "65-coin-2023"},
        population=pop,
        rates={("GBP", "USD"): Fraction(5, 4)},
        **SMALL,
    )
    try:
        assert dict(res.figures.revenue_by_region)["GB"] > Money(0, "USD")
        assert res.figures.reconciles
    finally:
        res.ledger.close()


def test_the_identity_parts_agree_with_the_ledger_accounts() -> None:
    # fiat in, store fees and taxes come from the purchases' records and cancel
    # out of the identity; check them against the ledger's own accounts (one
    # currency, so every account is in the books' currency).
    res = gl.simulate(
        "tiktok-live",
        population=gl.Population(refund_rate=Fraction(1, 4)),
        **SMALL,
    )
    try:
        f, book = res.figures, res.ledger

        def total(prefix: str) -> Money:
            return sum(
                (m for n, m in book.balances().items() if n.startswith(prefix)), Money(0, "USD")
            )

        assert f.refunds > 0
        assert total("expenses:store-fees:") == f.store_fees
        assert total("liabilities:tax-payable:") == f.taxes
        assert total("assets:stores:") + f.store_fees == f.fiat_in
    finally:
        res.ledger.close()
