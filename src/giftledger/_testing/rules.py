"""Strategies for economy rules: rule sets, whole economies (valid, or broken the
ways a user might break them), gift catalogs, coin ladders and rate tables.

Every economy drawn here validates, and every one can run the chain: each pack
and each gift paid in money costs more than its store keeps, a ``DIAMOND_VALUE``
Diamond is valued in the books' currency, and channel names are storable
account-name segments. Users import these from :mod:`giftledger.testing`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any, Literal, overload

import attrs
import hypothesis.strategies as st
from moneyed import Money

from .._economy.fx import RateTable
from .._economy.rules import (
    AmountRange,
    CoinPack,
    Confidence,
    CreatorPay,
    Economy,
    Gift,
    PayoutModel,
    RefundPolicy,
    RewardsProgram,
    RuleSet,
    Source,
    SpentCoinPolicy,
    StoreFee,
    TaxRule,
    WithdrawalPolicy,
)
from .._errors import InvalidArgument
from .._ledger.text import check_text
from .._money.amounts import Rounding, from_minor, to_minor
from .._money.units import get_unit
from .values import account_names

__all__ = [
    "ECONOMY_START",
    "MIN_PRICE",
    "MISTAKES",
    "REGION_CURRENCIES",
    "ROUGH_USD_VALUES",
    "BrokenEconomy",
    "coin_ladders",
    "economies",
    "gift_catalogs",
    "rate_tables",
    "rule_sets",
]

#: When the first version of an economy drawn by :func:`economies` takes effect.
ECONOMY_START = datetime(2020, 1, 1, tzinfo=UTC)

#: The regions the economy strategies price in, and each one's local currency.
#: A region whose currency is not among an economy's currencies pays in the
#: books' currency.
REGION_CURRENCIES: Mapping[str, str] = {
    "US": "USD",
    "DE": "EUR",
    "FR": "EUR",
    "GB": "GBP",
    "JP": "JPY",
    "BR": "BRL",
}

# Names: any text that does not start with whitespace (a blank name is invalid).
_texts = st.builds(
    str.__add__,
    st.characters(exclude_categories=("Zs", "Zl", "Zp", "Cc", "Cs")),
    st.text(max_size=19),
)


def _storable(text: str) -> bool:
    try:
        check_text(text, "name")
    except InvalidArgument:
        return False
    return True


# Gift names are shown in statements: no control, separator or bidi characters.
_gift_names = _texts.filter(_storable)
# Channel and store names become account-name segments (assets:stores:<name>).
_channel_names = st.sampled_from(["ios", "android", "web", "apple", "google"]) | account_names(
    max_depth=1, nasty=False
)


def _fractions(low: int = 0, high: Fraction = Fraction(1)) -> st.SearchStrategy[Fraction]:
    # Between low/d and high, exact; denominators such as 3 or 7 make non-terminating values.
    return st.integers(1, 1000).flatmap(
        lambda d: st.integers(low, int(d * high)).map(lambda n: Fraction(n, d))
    )


def _at_least(low: Fraction) -> st.SearchStrategy[Fraction]:
    # From low to 1, exact.
    return st.integers(1, 1000).flatmap(
        lambda d: st.integers(-(-low.numerator * d // low.denominator), d).map(
            lambda n: Fraction(n, d)
        )
    )


_positive_fractions = _fractions(1)
# VAT and sales tax up to 50%: a price must be worth something once its tax is out.
_tax_rates = _fractions(0, Fraction(1, 2))
# At least a twentieth of a Diamond per minor unit paid: a gift paid in money of the
# cheapest amount (100 minor units) then reaches its creator, as the chain requires.
_paid_units = _at_least(Fraction(1, 20))
# A store keeps at most 90% of a price, so every price above ten times its fixed
# part (plus a minor unit of rounding) leaves something for the platform.
_store_rates = _fractions(0, Fraction(9, 10))
_sources = st.builds(
    Source,
    citation=_texts,
    as_of=st.none() | st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    confidence=st.sampled_from(Confidence),
    note=st.text(max_size=30),
)


def _money(minor: int, currency: str) -> Money:
    return from_minor(minor, currency)


def _local(region: str, currencies: Sequence[str], books: str) -> str:
    local = REGION_CURRENCIES.get(region, books)
    return local if local in currencies else books


#: The cheapest price the economy strategies draw, in minor units of its currency:
#: with taxes up to 50% and a currency worth half a US cent a unit (the yen), a
#: sale is still worth a minor unit of the books' currency, as the chain requires.
MIN_PRICE = 100


def _floor(fee: StoreFee) -> int:
    """The cheapest price (minor units) a store with ``fee`` leaves something of
    (it keeps at most 90% plus its fixed part, plus a minor unit of rounding), and
    at least :data:`MIN_PRICE`."""
    fixed = 0 if fee.fixed is None else to_minor(fee.fixed, fee.fixed.currency.code)
    return max(MIN_PRICE, 10 * (fixed + 1) + 1)


@st.composite
def _ladder(
    draw: st.DrawFn,
    fees: Sequence[StoreFee],
    regions: Sequence[str],
    currencies: Sequence[str],
    books: str,
    min_size: int,
    max_size: int,
) -> tuple[CoinPack, ...]:
    by_channel = {f.channel: f for f in fees}
    keys = draw(
        st.lists(
            st.tuples(
                st.integers(1, 10**6),
                st.sampled_from(sorted(by_channel)),
                st.sampled_from(list(regions)),
            ),
            min_size=min_size,
            max_size=max_size,
            unique=True,
        )
    )
    packs = []
    for coins, channel, region in keys:
        fee = by_channel[channel]
        # A fixed fee is charged in the purchase's currency: its channel sells in it only.
        ccy = (
            fee.fixed.currency.code if fee.fixed is not None else _local(region, currencies, books)
        )
        scale = get_unit(ccy).scale
        price = draw(st.integers(_floor(fee), max(_floor(fee), 10_000 * scale)))
        packs.append(CoinPack(coins, _money(price, ccy), channel, region))
    return tuple(packs)


def coin_ladders(
    *,
    channels: Sequence[str] = ("ios", "web"),
    regions: Sequence[str] = ("*", "US", "GB"),
    currencies: Sequence[str] = ("USD", "GBP"),
    books_currency: str = "USD",
    min_size: int = 1,
    max_size: int = 8,
) -> st.SearchStrategy[tuple[CoinPack, ...]]:
    """Coin ladders: packs of 1 to 10^6 coins per channel and region, each priced in
    its region's currency (:data:`REGION_CURRENCIES`, when that currency is in
    ``currencies``; else the books' currency), at least :data:`MIN_PRICE` minor
    units, no two packs of one size on one channel in one region.

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger.testing import coin_ladders
        >>> @settings(max_examples=10)
        ... @given(coin_ladders(regions=("*", "GB")))
        ... def test_uk_packs_in_pounds(packs):
        ...     assert all(p.price.currency.code == "GBP" for p in packs if p.region == "GB")
        >>> test_uk_packs_in_pounds()
    """
    fees = [StoreFee(c, Fraction(0)) for c in channels]
    if not fees or not regions:
        raise InvalidArgument("coin_ladders needs at least one channel and one region")
    return _ladder(fees, tuple(regions), tuple(currencies), books_currency, min_size, max_size)


@st.composite
def _catalog(
    draw: st.DrawFn,
    currencies: Sequence[str],
    coin_gifts: bool,
    money_gifts: bool,
    min_size: int,
    max_size: int,
    floors: Mapping[str, int],
) -> tuple[Gift, ...]:
    names = draw(st.lists(_gift_names, min_size=min_size, max_size=max_size, unique=True))
    gifts = []
    for i, name in enumerate(names):
        priced_in_money = money_gifts and (not coin_gifts or (i > 0 and draw(st.booleans())))
        if not priced_in_money:
            gifts.append(Gift(name, draw(st.integers(1, 10**5) | st.sampled_from([1, 5, 99]))))
            continue
        chosen = draw(st.lists(st.sampled_from(list(currencies)), min_size=1, unique=True))
        ranges = []
        for ccy in chosen:
            scale = get_unit(ccy).scale
            low = draw(st.integers(floors.get(ccy, MIN_PRICE), max(MIN_PRICE, 500 * scale)))
            high = draw(st.integers(low, max(low, 50_000 * scale)))
            ranges.append(AmountRange(_money(low, ccy), _money(high, ccy)))
        gifts.append(Gift(name, amounts=tuple(ranges)))
    return tuple(gifts)


def gift_catalogs(
    *,
    currencies: Sequence[str] = ("USD",),
    coin_gifts: bool = True,
    money_gifts: bool = True,
    min_size: int = 1,
    max_size: int = 5,
) -> st.SearchStrategy[tuple[Gift, ...]]:
    """Gift catalogs with unique, storable names: gifts priced in coins (1 to 10^5
    coins) and, with ``money_gifts``, gifts priced in money (Super Chats, tips):
    one :class:`~giftledger.AmountRange` in each of some of ``currencies``.

    With both kinds the first gift is priced in coins. A catalog with gifts priced
    in money needs ``CreatorPay(PayoutModel.SHARE_OF_PRICE, ...)``.

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger.testing import gift_catalogs
        >>> @settings(max_examples=10)
        ... @given(gift_catalogs(currencies=("USD", "GBP"), coin_gifts=False))
        ... def test_all_in_money(gifts):
        ...     assert all(g.priced_in_money for g in gifts)
        >>> test_all_in_money()
    """
    if not (coin_gifts or money_gifts):
        raise InvalidArgument("gift_catalogs needs coin_gifts or money_gifts")
    return _catalog(tuple(currencies), coin_gifts, money_gifts, min_size, max_size, {})


@st.composite
def _withdrawal(draw: st.DrawFn, books: str, regions: Sequence[str]) -> WithdrawalPolicy:
    scale = get_unit(books).scale
    own = [r for r in regions if r != "*"]
    minimum = draw(st.none() | st.integers(0, 100 * scale))

    def cap() -> Money | None:
        low = max(1, minimum or 0)
        found = draw(st.none() | st.integers(low, max(low, 10_000 * scale)))
        return None if found is None else _money(found, books)

    return WithdrawalPolicy(
        minimum=None if minimum is None else _money(minimum, books),
        daily_cap=cap(),
        fee_fixed=draw(st.none() | st.integers(0, 5 * scale).map(lambda m: _money(m, books))),
        fee_rate=draw(_fractions(0, Fraction(1, 5))),
        min_age=draw(st.integers(0, 21)),
        requires_verification=draw(st.booleans()),
        regions=frozenset(draw(st.lists(st.sampled_from(own)))) if own else frozenset(),
        review_days=draw(st.integers(0, 30)),
        holding_days=draw(st.integers(0, 10)),
        methods=tuple(draw(st.lists(_texts, max_size=2))),
        weekly_cap=cap(),
        withdrawals_per_week=draw(st.none() | st.integers(1, 5)),
    )


@st.composite
def _rewards(draw: st.DrawFn, currencies: Sequence[str]) -> RewardsProgram:
    ccy = draw(st.sampled_from(list(currencies)))
    scale = get_unit(ccy).scale
    rates = st.integers(1, 2 * scale).map(lambda m: _money(m, ccy))
    regions = draw(st.lists(st.sampled_from(sorted(REGION_CURRENCIES)), unique=True, max_size=3))
    rpm = {"*": draw(rates), **{r: draw(rates) for r in regions}}
    return RewardsProgram(
        name=draw(_gift_names),
        rpm=rpm,
        engagement_weights={t: draw(_fractions(1, Fraction(2))) for t in ("low", "high")},
        min_followers=draw(st.integers(0, 10_000)),
        min_views_30d=draw(st.integers(0, 100_000)),
        min_video_seconds=draw(st.integers(0, 60)),
        min_qualified_views_per_video=draw(st.integers(0, 1000)),
        currency=ccy,
        rpm_high={r: m + draw(rates) for r, m in rpm.items() if draw(st.booleans())},
    )


@st.composite
def rule_sets(
    draw: st.DrawFn,
    *,
    at: datetime = ECONOMY_START,
    books_currency: str = "USD",
    currencies: Sequence[str] = ("USD",),
    money_gifts: bool | None = None,
) -> RuleSet:
    """Valid :class:`~giftledger.RuleSet` records in force from ``at``: store fees
    on one to three channels (some with a fixed part), a coin ladder per channel
    and region, taxes (included or added), a gift catalog, either payout model,
    withdrawal, refund and view-rewards policies and payout currencies, every
    figure exact.

    Args:
        at: when the rules take effect.
        books_currency: the books' currency: fixed fees, Diamond values and
            withdrawal limits are in it.
        currencies: the currencies viewers pay in (regions with one of them as
            their own currency pay in it; see :data:`REGION_CURRENCIES`) and
            creators may be paid in.
        money_gifts: whether the catalog has gifts priced in money (they need
            the share-of-price model); None: either.

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger.testing import rule_sets
        >>> @settings(max_examples=5)
        ... @given(rule_sets())
        ... def test_a_gift_is_found(rules):
        ...     assert rules.gift(rules.gifts[0].name) == rules.gifts[0]
        >>> test_a_gift_is_found()
    """
    books = books_currency
    currencies = tuple(dict.fromkeys((books, *currencies)))
    channels = draw(st.lists(_channel_names, min_size=1, max_size=3, unique=True))
    fees = []
    for c in channels:
        fixed = None
        if draw(st.integers(0, 3)) == 0:
            fixed = _money(draw(st.integers(1, 50)), books)
        fees.append(
            StoreFee(
                c,
                draw(_store_rates),
                fixed=fixed,
                account=draw(st.sampled_from(["", "apple", c])),
                rounding=draw(st.sampled_from(Rounding)),
            )
        )
    regions = ("*", *draw(st.lists(st.sampled_from(sorted(REGION_CURRENCIES)), unique=True)))
    packs = draw(_ladder(fees, regions, currencies, books, 1, 8))
    if money_gifts is None:
        money_gifts = draw(st.booleans())
    # The cheapest gift paid in money must leave something after any store's cut.
    floors = {
        ccy: max(_floor(f) for f in fees) if ccy == books else MIN_PRICE for ccy in currencies
    }
    gifts = draw(_catalog(currencies, True, money_gifts, 1, 5, floors))
    if not money_gifts and draw(st.booleans()):
        pay = CreatorPay(
            PayoutModel.DIAMOND_VALUE,
            creator_units_per_coin=draw(_positive_fractions),
            unit_rounding=draw(st.sampled_from(Rounding)),
            value_per_unit=draw(_positive_fractions),
            value_currency=books,
            cash_rounding=draw(st.sampled_from(Rounding)),
        )
    else:
        pay = CreatorPay(
            PayoutModel.SHARE_OF_PRICE,
            creator_units_per_coin=draw(_paid_units if money_gifts else _positive_fractions),
            unit_rounding=draw(st.sampled_from(Rounding)),
            share=draw(_positive_fractions),
            share_after_fees=draw(st.booleans()),
            cash_rounding=draw(st.sampled_from(Rounding)),
        )
    taxes = tuple(
        TaxRule(region, draw(_tax_rates), draw(st.booleans()), draw(st.sampled_from(Rounding)))
        for region in draw(st.lists(st.sampled_from(["*", *REGION_CURRENCIES]), unique=True))
    )
    names = draw(st.lists(_gift_names, max_size=2, unique=True))
    rewards = tuple(attrs.evolve(draw(_rewards(currencies)), name=n) for n in names)
    payout = draw(st.lists(st.sampled_from(currencies), min_size=1, unique=True))
    return RuleSet(
        effective_from=at,
        coin_packs=packs,
        store_fees=tuple(fees),
        gifts=gifts,
        creator_pay=pay,
        withdrawal=draw(_withdrawal(books, regions)),
        refunds=RefundPolicy(draw(st.sampled_from(SpentCoinPolicy)), draw(st.booleans())),
        taxes=taxes,
        rewards=rewards,
        min_buyer_age=draw(st.integers(0, 21)),
        payout_currencies=tuple(payout),
    )


@st.composite
def _economies(
    draw: st.DrawFn,
    books: str,
    currencies: Sequence[str] | None,
    money_gifts: bool | None,
    max_versions: int,
) -> Economy:
    if currencies is None:
        extra = draw(st.lists(st.sampled_from(["EUR", "GBP", "JPY"]), unique=True, max_size=2))
        currencies = (books, *extra)
    offsets = sorted(
        set(draw(st.lists(st.integers(0, 10**6), min_size=1, max_size=max(1, max_versions))))
    )
    versions = tuple(
        draw(
            rule_sets(
                at=ECONOMY_START + timedelta(minutes=m),
                books_currency=books,
                currencies=currencies,
                money_gifts=money_gifts,
            )
        )
        for m in offsets
    )
    econ = Economy(
        # Storable: the chain writes the name into the journal (a NUL would be refused).
        name=draw(_gift_names),
        title=draw(st.text(max_size=20)),
        books_currency=books,
        coin_unit="COIN",
        creator_unit="DIAMOND",
        versions=versions,
        assumptions=tuple(draw(st.lists(_texts, max_size=3))),
    )
    paths = [f.path for f in econ.figures()]
    chosen = draw(st.lists(st.sampled_from(paths), max_size=5, unique=True))
    return attrs.evolve(econ, sources={p: draw(_sources) for p in chosen})


@attrs.frozen(slots=True)
class BrokenEconomy:
    """Rules with one mistake a user might make, drawn by ``economies(invalid=True)``.

    Attributes:
        mistake: what is wrong, in words (``"a store fee over 100%"``).
        build: builds the economy in code as the user would have; it raises a
            :class:`~giftledger.GiftLedgerError` (an
            :class:`~giftledger.InvalidEconomy`).
        mentions: a word the error message names (the field at fault).
    """

    mistake: str
    build: Callable[[], Economy] = attrs.field(eq=False, repr=False)
    mentions: str = ""


def _raw(value: object) -> Any:
    """A value of the wrong type, as a user might pass it (the rules must refuse it)."""
    return value


def _rebuilt(econ: Economy, **changes: Any) -> Economy:
    """``econ`` with its first version changed, rebuilt (and so checked) in code."""
    v = attrs.evolve(econ.versions[0], **changes)
    return attrs.evolve(econ, versions=(v, *econ.versions[1:]))


def _fee(econ: Economy, **changes: Any) -> Economy:
    fees = econ.versions[0].store_fees
    return _rebuilt(econ, store_fees=(attrs.evolve(fees[0], **changes), *fees[1:]))


def _pack(econ: Economy, **changes: Any) -> Economy:
    packs = econ.versions[0].coin_packs
    return _rebuilt(econ, coin_packs=(attrs.evolve(packs[0], **changes), *packs[1:]))


def _foreign_fixed_fee(econ: Economy) -> Economy:
    """The first pack's store charges a fixed part in another currency than the pack's."""
    v0 = econ.versions[0]
    pack = v0.coin_packs[0]
    fixed = Money("30", "JPY") if pack.price.currency.code != "JPY" else Money("0.30", "USD")
    fees = tuple(
        attrs.evolve(f, fixed=fixed) if f.channel == pack.channel else f for f in v0.store_fees
    )
    return _rebuilt(econ, store_fees=fees)


def _share(share: object) -> CreatorPay:
    return CreatorPay(PayoutModel.SHARE_OF_PRICE, share=_raw(share))


def _tip(low: Money, high: Money) -> Gift:
    return Gift("Tip", amounts=(AmountRange(low, high),))


_USD = ("1", "USD")


#: The mistakes ``economies(invalid=True)`` makes: what is wrong, a word the error
#: names, and how to make the mistake in a valid economy (in code, as a user would).
MISTAKES: tuple[tuple[str, str, Callable[[Economy], Economy]], ...] = (
    ("a float store-fee rate", "rate", lambda e: _fee(e, rate=_raw(0.3))),
    ("a store fee over 100%", "rate", lambda e: _fee(e, rate=_raw("130%"))),
    (
        "a price with more decimals than its currency has",
        "price",
        lambda e: _pack(e, price=Money("1.999", "USD")),
    ),
    ("a free coin pack", "price", lambda e: _pack(e, price=Money(0, "USD"))),
    ("a pack on a channel with no store fee", "channel", lambda e: _pack(e, channel="nowhere")),
    (
        "the same pack listed twice",
        "coin_packs",
        lambda e: _rebuilt(e, coin_packs=(*e.versions[0].coin_packs, e.versions[0].coin_packs[0])),
    ),
    ("no coin packs", "coin_packs", lambda e: _rebuilt(e, coin_packs=())),
    ("a pack of 0 coins", "coins", lambda e: _pack(e, coins=0)),
    (
        "a fixed store fee in another currency than its channel's packs",
        "currency",
        _foreign_fixed_fee,
    ),
    ("a gift that costs nothing", "coins", lambda e: _rebuilt(e, gifts=(Gift("Free", 0),))),
    (
        "a gift priced in coins and in money",
        "coins",
        lambda e: _rebuilt(
            e,
            gifts=(Gift("Both", 5, amounts=_tip(Money(*_USD), Money("5", "USD")).amounts),),
            creator_pay=_share(Fraction(7, 10)),
        ),
    ),
    (
        "a gift priced in money under the Diamond-value model",
        "share_of_price",
        lambda e: _rebuilt(
            e,
            gifts=(Gift("Rose", 1), _tip(Money(*_USD), Money("500", "USD"))),
            creator_pay=CreatorPay(PayoutModel.DIAMOND_VALUE, value_per_unit=Fraction(1, 200)),
        ),
    ),
    (
        "two gifts with one name",
        "name",
        lambda e: _rebuilt(e, gifts=(*e.versions[0].gifts, e.versions[0].gifts[0])),
    ),
    ("an empty gift catalog", "gifts", lambda e: _rebuilt(e, gifts=())),
    (
        "an amount range upside down",
        "maximum",
        lambda e: _rebuilt(
            e,
            gifts=(_tip(Money("5", "USD"), Money(*_USD)),),
            creator_pay=_share(Fraction(7, 10)),
        ),
    ),
    (
        "an amount range in two currencies",
        "maximum",
        lambda e: _rebuilt(
            e,
            gifts=(_tip(Money(*_USD), Money("5", "EUR")),),
            creator_pay=_share(Fraction(7, 10)),
        ),
    ),
    ("a creator share of nothing", "share", lambda e: _rebuilt(e, creator_pay=_share(0))),
    (
        "a creator share over 100%",
        "share",
        lambda e: _rebuilt(e, creator_pay=_share(Fraction(3, 2))),
    ),
    (
        "a creator share written as a float",
        "share",
        lambda e: _rebuilt(e, creator_pay=_share(0.95)),
    ),
    (
        "a Diamond worth nothing",
        "value_per_unit",
        lambda e: _rebuilt(e, creator_pay=CreatorPay(PayoutModel.DIAMOND_VALUE)),
    ),
    (
        "a daily cap below the minimum withdrawal",
        "daily_cap",
        lambda e: _rebuilt(
            e,
            withdrawal=WithdrawalPolicy(minimum=Money("10", "USD"), daily_cap=Money("5", "USD")),
        ),
    ),
    (
        "a withdrawal fee rate written as a float",
        "fee_rate",
        lambda e: _rebuilt(
            e, withdrawal=attrs.evolve(e.versions[0].withdrawal, fee_rate=_raw(0.02))
        ),
    ),
    (
        "a region in lower case",
        "region",
        lambda e: _rebuilt(e, taxes=(TaxRule("us", Fraction(0)),)),
    ),
    (
        "a tax rate of 19 meaning 19%",
        "rate",
        lambda e: _rebuilt(e, taxes=(TaxRule("DE", _raw(19)),)),
    ),
    (
        "two tax rules for one region",
        "taxes",
        lambda e: _rebuilt(e, taxes=(TaxRule("DE", Fraction(19, 100)),) * 2),
    ),
    (
        "a version without a time zone",
        "effective_from",
        lambda e: _rebuilt(e, effective_from=e.versions[0].effective_from.replace(tzinfo=None)),
    ),
    ("a negative minimum buyer age", "min_buyer_age", lambda e: _rebuilt(e, min_buyer_age=-1)),
    (
        "a payout currency that does not exist",
        "payout_currencies",
        lambda e: _rebuilt(e, payout_currencies=(e.books_currency, "ZZZ")),
    ),
    ("no payout currency", "payout_currencies", lambda e: _rebuilt(e, payout_currencies=())),
    (
        "versions listed newest first",
        "effective_from",
        lambda e: attrs.evolve(
            e,
            versions=(
                e.versions[0],
                attrs.evolve(
                    e.versions[0], effective_from=e.versions[0].effective_from - timedelta(1)
                ),
            ),
            sources={},
        ),
    ),
    (
        "one unit for coins and Diamonds",
        "creator_unit",
        lambda e: attrs.evolve(e, creator_unit=e.coin_unit),
    ),
    (
        "a currency as the coin unit",
        "coin_unit",
        lambda e: attrs.evolve(e, coin_unit=e.books_currency),
    ),
    (
        "books kept in a virtual unit",
        "books_currency",
        lambda e: attrs.evolve(e, books_currency="DIAMOND"),
    ),
    (
        "a source for a figure that does not exist",
        "sources",
        lambda e: attrs.evolve(
            e,
            sources={
                f"versions[{len(e.versions)}].gifts[0].coins": Source(
                    "a blog", None, Confidence.THIRD_PARTY
                )
            },
        ),
    ),
)


@st.composite
def _broken(draw: st.DrawFn, base: st.SearchStrategy[Economy]) -> BrokenEconomy:
    econ = draw(base)
    mistake, mentions, make = draw(st.sampled_from(MISTAKES))
    return BrokenEconomy(mistake, lambda: make(econ), mentions)


@overload
def economies(
    *,
    invalid: Literal[False] = False,
    books_currency: str = ...,
    currencies: Sequence[str] | None = ...,
    money_gifts: bool | None = ...,
    max_versions: int = ...,
) -> st.SearchStrategy[Economy]: ...


@overload
def economies(
    *,
    invalid: Literal[True],
    books_currency: str = ...,
    currencies: Sequence[str] | None = ...,
    money_gifts: bool | None = ...,
    max_versions: int = ...,
) -> st.SearchStrategy[BrokenEconomy]: ...


def economies(
    *,
    invalid: bool = False,
    books_currency: str = "USD",
    currencies: Sequence[str] | None = None,
    money_gifts: bool | None = None,
    max_versions: int = 3,
) -> st.SearchStrategy[Economy] | st.SearchStrategy[BrokenEconomy]:
    """Valid :class:`~giftledger.Economy` values with COIN and DIAMOND: one to
    ``max_versions`` dated versions from :data:`ECONOMY_START` (see
    :func:`rule_sets`), sources on some of their figures. Every one validates,
    round-trips through TOML and can run the chain (see :func:`chain_scenarios`).

    With ``invalid=True`` it draws :class:`BrokenEconomy` values instead: a valid
    economy with one mistake a user might make (a float rate, a fee over 100%, a
    pack on a channel with no store fee, a gift priced in coins and money,
    versions out of order, a region in lower case …); building each raises a
    :class:`~giftledger.GiftLedgerError`.

    Args:
        invalid: draw broken rules instead of valid ones.
        books_currency: the books' currency.
        currencies: the currencies viewers pay in and creators are paid in
            (None: the books' and up to two of EUR, GBP, JPY).
        money_gifts: gifts priced in money in the catalog (None: either).
        max_versions: the most versions.

    Example:
        >>> from hypothesis import given, settings
        >>> import giftledger as gl
        >>> from giftledger.testing import economies
        >>> @settings(max_examples=5)
        ... @given(economies())
        ... def test_toml_round_trips(econ):
        ...     assert gl.Economy.from_toml(econ.to_toml()) == econ
        >>> test_toml_round_trips()
        >>> @settings(max_examples=20)
        ... @given(economies(invalid=True))
        ... def test_each_mistake_is_refused(broken):
        ...     try:
        ...         broken.build()
        ...     except gl.InvalidEconomy as exc:
        ...         assert broken.mentions in str(exc)
        ...     else:
        ...         raise AssertionError(f"{broken.mistake} was accepted")
        >>> test_each_mistake_is_refused()
    """
    base = _economies(books_currency, currencies, money_gifts, max_versions)
    if invalid:
        return _broken(base)
    return base


def _currencies_of(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


#: Rough values of currencies in US dollars, the centre of the rates
#: :func:`rate_tables` draws, so that a pack priced in pounds costs about what it
#: does in dollars (a rate a thousand times off would make any rules a money machine).
ROUGH_USD_VALUES: Mapping[str, Fraction] = {
    code: Fraction(text)
    for code, text in {
        "USD": "1",
        "EUR": "1.08",
        "GBP": "1.27",
        "JPY": "0.0067",
        "KRW": "0.00073",
        "CLP": "0.00105",
        "BRL": "0.18",
        "MXN": "0.055",
        "CAD": "0.73",
        "AUD": "0.66",
        "INR": "0.012",
        "KWD": "3.25",
        "BHD": "2.65",
        "TND": "0.32",
    }.items()
}


@st.composite
def rate_tables(
    draw: st.DrawFn,
    *,
    currencies: Sequence[str] = ("USD", "EUR", "GBP", "JPY"),
    books_currency: str = "USD",
    valid_from: datetime = datetime(2000, 1, 1, tzinfo=UTC),
    spread: int = 20,
) -> RateTable:
    """A :class:`~giftledger.RateTable` with a rate for every pair of ``currencies``,
    open-ended from ``valid_from``, consistent with one another (each currency has
    one value and every rate is the ratio of two values, so no triangle of
    conversions makes money), each within ``spread`` percent of its rough real
    value against the books' currency (:data:`ROUGH_USD_VALUES`; a currency not
    listed there: 0.005 to 2 of the books' currency's unit).

    Example:
        >>> from hypothesis import given, settings
        >>> from giftledger.testing import rate_tables
        >>> from datetime import datetime, UTC
        >>> @settings(max_examples=10)
        ... @given(rate_tables(currencies=("USD", "EUR", "GBP")))
        ... def test_triangles_agree(table):
        ...     at = datetime(2026, 1, 1, tzinfo=UTC)
        ...     assert table.rate("EUR", "GBP", at) == (
        ...         table.rate("EUR", "USD", at) * table.rate("USD", "GBP", at))
        >>> test_triangles_agree()
    """
    codes = _currencies_of((books_currency, *currencies))
    value: dict[str, Fraction] = {}
    for code in codes:
        rough = ROUGH_USD_VALUES.get(code)
        if code == books_currency:
            value[code] = rough or Fraction(1)  # the anchor: other values move around it
        elif rough is None:
            value[code] = Fraction(draw(st.integers(50, 20_000)), 10_000)
        else:
            value[code] = rough * Fraction(100 + draw(st.integers(-spread, spread)), 100)
    # Exact: each rate is the Fraction of two values, not a rounded decimal.
    return RateTable.of(
        *(
            (a, b, value[a] / value[b], valid_from, None)
            for i, a in enumerate(codes)
            for b in codes[i + 1 :]
        )
    )
