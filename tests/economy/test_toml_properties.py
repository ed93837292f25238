"""Property tests: any valid economy survives TOML, and rules_at picks the right version."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
from giftledger import (
    CoinPack,
    Confidence,
    CreatorPay,
    Economy,
    Gift,
    PayoutModel,
    RuleSet,
    Source,
    StoreFee,
    TaxRule,
    WithdrawalPolicy,
)

START = datetime(2020, 1, 1, tzinfo=UTC)

# Names: any text that does not start with whitespace (a blank name is invalid).
texts = st.builds(
    str.__add__,
    st.characters(exclude_categories=("Zs", "Zl", "Zp", "Cc", "Cs")),
    st.text(max_size=19),
)



def _storable(text: str) -> bool:
    try:
        gl.check_text(text, "name")
    except gl.InvalidArgument:
        return False
    return True


# Gift names are shown in statements: no control, separator or bidi characters.
gift_names = texts.filter(_storable)


def _fractions(low: int = 0) -> st.SearchStrategy[Fraction]:
    # Between low/d and 1, exact; denominators such as 3 or 7 make non-terminating values.
    return st.integers(1, 1000).flatmap(lambda d: st.integers(low, d).map(lambda n: Fraction(n, d)))


fractions = _fractions()
positive_fractions = _fractions(1)
sources = st.builds(
    Source,
    citation=texts,
    as_of=st.none() | st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    confidence=st.sampled_from(Confidence),
    note=st.text(max_size=30),
)


def _money(cents: int) -> Money:
    return Money(Decimal(cents).scaleb(-2), "USD")


@st.composite
def rule_sets(draw: st.DrawFn, at: datetime) -> RuleSet:
    channels = draw(st.lists(texts, min_size=1, max_size=3, unique=True))
    fees = tuple(
        StoreFee(c, draw(fractions), account=draw(st.sampled_from(["", "apple", c])))
        for c in channels
    )
    packs = tuple(
        CoinPack(coins, _money(draw(st.integers(1, 10**6))), channel, region)
        for (coins, channel, region) in draw(
            st.lists(
                st.tuples(
                    st.integers(1, 10**6),
                    st.sampled_from(channels),
                    st.sampled_from(["*", "US", "DE"]),
                ),
                min_size=1,
                max_size=6,
                unique=True,
            )
        )
    )
    gifts = tuple(
        Gift(name, draw(st.integers(1, 10**5)))
        for name in draw(st.lists(gift_names, min_size=1, max_size=5, unique=True))
    )
    if draw(st.booleans()):
        pay = CreatorPay(
            PayoutModel.DIAMOND_VALUE,
            creator_units_per_coin=draw(positive_fractions),
            value_per_unit=draw(positive_fractions),
        )
    else:
        pay = CreatorPay(
            PayoutModel.SHARE_OF_PRICE,
            share=draw(positive_fractions),
            share_after_fees=draw(st.booleans()),
        )
    taxes = tuple(
        TaxRule(region, draw(fractions), draw(st.booleans()))
        for region in draw(st.lists(st.sampled_from(["*", "US", "DE", "FR"]), unique=True))
    )
    minimum = draw(st.none() | st.integers(0, 10**5).map(_money))
    withdrawal = WithdrawalPolicy(
        minimum=minimum,
        fee_rate=draw(fractions),
        review_days=draw(st.integers(0, 30)),
        methods=tuple(draw(st.lists(texts, max_size=2))),
        regions=frozenset(draw(st.lists(st.sampled_from(["US", "DE"])))),
    )
    return RuleSet(
        effective_from=at,
        coin_packs=packs,
        store_fees=fees,
        gifts=gifts,
        creator_pay=pay,
        taxes=taxes,
        withdrawal=withdrawal,
        min_buyer_age=draw(st.integers(0, 21)),
    )


@st.composite
def economies(draw: st.DrawFn) -> Economy:
    offsets = sorted(set(draw(st.lists(st.integers(0, 10**6), min_size=1, max_size=3))))
    versions = tuple(draw(rule_sets(START + timedelta(minutes=m))) for m in offsets)
    econ = Economy(
        name=draw(texts),
        title=draw(st.text(max_size=20)),
        books_currency="USD",
        coin_unit="COIN",
        creator_unit="DIAMOND",
        versions=versions,
        assumptions=tuple(draw(st.lists(texts, max_size=3))),
    )
    paths = [f.path for f in econ.figures()]
    chosen = draw(st.lists(st.sampled_from(paths), max_size=5, unique=True))
    return Economy(
        name=econ.name,
        title=econ.title,
        books_currency="USD",
        coin_unit="COIN",
        creator_unit="DIAMOND",
        versions=versions,
        assumptions=econ.assumptions,
        sources={p: draw(sources) for p in chosen},
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(economies())
def test_any_economy_round_trips_through_toml(econ: Economy) -> None:
    text = econ.to_toml()
    again = Economy.from_toml(text)
    assert again == econ
    assert again.to_toml() == text


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(economies(), st.integers(-10, 2 * 10**6))
def test_rules_at_is_the_last_version_started(econ: Economy, minutes: int) -> None:
    when = START + timedelta(minutes=minutes)
    started = [v for v in econ.versions if v.effective_from <= when]
    if not started:
        return
    assert econ.rules_at(when) is started[-1]
