"""Scenarios a real user could play: :func:`chain_scenarios` draws the parties, when
the run starts, exchange rates and the operations for one economy, from a model of
what each party holds at each moment.

A viewer buys a pack on sale in their region that day, gifts only coins they hold
(spent first in, first out, as the chain spends them; refunded coins are gone),
sends a gift paid in money within its range on a channel whose fixed fee is in that
currency. Conversions, withdrawals, settlements, refunds, view pay, profile changes
and time passing come as a user would try them, so the rules' own refusals happen
too. :class:`~giftledger.testing.ChainMachine` draws its steps from the same model.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta

import attrs
import hypothesis.strategies as st

from .._economy.base import check_region
from .._economy.fx import RateSource
from .._economy.rules import Economy, RuleSet
from .._errors import GiftLedgerError, InvalidArgument
from .._money.amounts import from_minor, to_minor
from .._money.units import get_unit
from .operations import (
    OPERATIONS,
    AdvanceClock,
    BuyCoins,
    ChainOperation,
    ChainScenario,
    Chargeback,
    CompleteWithdrawal,
    ConvertDiamonds,
    Creator,
    FailWithdrawal,
    PayViews,
    RefundPurchase,
    RequestWithdrawal,
    SendGift,
    SendPaidGift,
    UpdateCreator,
    UpdateViewer,
    Viewer,
)
from .rules import REGION_CURRENCIES, rate_tables

__all__ = ["chain_scenarios", "currencies_of"]

_VIEWER_NAMES = ("ann", "ben", "eve", "gus", "ida", "kim")
_CREATOR_NAMES = ("cat", "dan", "fay", "hal", "jo", "lou")
_AGES = (None, 13, 17, 18, 19, 25, 40, 70)


def _regions(economy: Economy) -> tuple[str, ...]:
    """The regions worth visiting: the economy's own, and those the kit prices in."""
    found: set[str] = set(REGION_CURRENCIES)
    for rules in economy.versions:
        found.update(p.region for p in rules.coin_packs)
        found.update(t.region for t in rules.taxes)
        found.update(rules.withdrawal.regions)
        for program in rules.rewards:
            found.update(program.rpm)
    usable = []
    for region in sorted(found - {"*"}):
        try:
            usable.append(check_region(region))
        except GiftLedgerError:
            continue
    return tuple(usable)


def currencies_of(economy: Economy) -> tuple[str, ...]:
    """Every currency an economy's rules name (the books' first)."""
    found = {economy.books_currency}
    for rules in economy.versions:
        found.update(p.price.currency.code for p in rules.coin_packs)
        found.update(r.currency for g in rules.gifts for r in g.amounts)
        found.update(rules.payout_currencies)
        found.update(f.fixed.currency.code for f in rules.store_fees if f.fixed is not None)
        w = rules.withdrawal
        for m in (w.minimum, w.daily_cap, w.weekly_cap, w.fee_fixed):
            if m is not None:
                found.add(m.currency.code)
        found.update(p.currency for p in rules.rewards)
    return (economy.books_currency, *sorted(found - {economy.books_currency}))


@attrs.define
class _Lot:
    viewer: str
    coins: int
    refunded: bool = False


@attrs.define
class _Model:
    """What the scenario knows happened: the time, the parties' profiles, every
    lot's coins left (spent first in, first out, as the chain does)."""

    economy: Economy
    now: datetime
    regions: tuple[str, ...]
    viewers: dict[str, list[object]]  # name -> [region, age]
    creators: dict[str, list[object]]  # name -> [region, age, verified, payout]
    lots: list[_Lot] = attrs.field(factory=list)
    requests: int = 0
    periods: int = 0

    @property
    def rules(self) -> RuleSet:
        return self.economy.rules_at(self.now)

    def held(self, viewer: str) -> int:
        return sum(lot.coins for lot in self.lots if lot.viewer == viewer and not lot.refunded)

    def apply(self, op: ChainOperation) -> None:
        if isinstance(op, BuyCoins):
            age = self.viewers[op.viewer][1]
            if age is None or age >= self.rules.min_buyer_age:  # type: ignore[operator]
                self.lots.append(_Lot(op.viewer, op.pack))
        elif isinstance(op, SendGift):
            cost = self.rules.gift(op.gift).coins * op.quantity
            for lot in self.lots:
                if lot.viewer == op.viewer and not lot.refunded and cost:
                    taken = min(cost, lot.coins)
                    lot.coins -= taken
                    cost -= taken
        elif isinstance(op, RefundPurchase | Chargeback):
            self.lots[op.purchase].refunded = True
        elif isinstance(op, RequestWithdrawal):
            self.requests += 1
        elif isinstance(op, PayViews):
            self.periods += 1
        elif isinstance(op, UpdateViewer):
            profile = self.viewers[op.viewer]
            if op.region is not None:
                profile[0] = op.region
            if op.age is not None:
                profile[1] = op.age
        elif isinstance(op, UpdateCreator):
            profile = self.creators[op.creator]
            for i, value in enumerate((op.region, op.age, op.verified)):
                if value is not None:
                    profile[i] = value
        elif isinstance(op, AdvanceClock):
            self.now += timedelta(hours=op.hours)

    # -- what can happen next --------------------------------------------------------

    def creator(self) -> st.SearchStrategy[str]:
        """Any creator; the first one half the time, so that one creator earns enough
        to convert and withdraw."""
        names = sorted(self.creators)
        return st.booleans().flatmap(lambda b: st.sampled_from(names) if b else st.just(names[0]))

    def _ladders(self, viewer: str) -> list[tuple[str, int]]:
        region = self.viewers[viewer][0]
        where = region if isinstance(region, str) else "*"
        rules = self.rules
        return [(ch, p.coins) for ch in rules.channels for p in rules.packs(ch, where)]

    def buy(self) -> st.SearchStrategy[ChainOperation] | None:
        choices = [(v, ch, coins) for v in self.viewers for ch, coins in self._ladders(v)]
        if not choices:
            return None
        # Now and then a big spender: the biggest pack, so that creators reach the
        # withdrawal minimum.
        biggest = max(choices, key=lambda c: c[2])
        pick = st.integers(0, 3).flatmap(
            lambda n: st.sampled_from(choices) if n else st.just(biggest)
        )
        return pick.map(lambda c: BuyCoins(c[0], c[2], c[1]))

    def gift(self) -> st.SearchStrategy[ChainOperation] | None:
        gifts = [g for g in self.rules.gifts if not g.priced_in_money]
        choices = [
            (v, g.name, min(3, self.held(v) // g.coins))
            for v in self.viewers
            for g in gifts
            if g.coins <= self.held(v)
        ]
        if not choices:
            return None

        @st.composite
        def draw_gift(draw: st.DrawFn) -> ChainOperation:
            if draw(st.integers(0, 3)):
                viewer, gift, most = draw(st.sampled_from(choices))
            else:  # a big gift: the most coins one gift can spend
                viewer, gift, most = max(choices, key=lambda c: self.rules.gift(c[1]).coins)
            return SendGift(viewer, draw(self.creator()), gift, draw(st.integers(1, most)))

        return draw_gift()

    def paid_gift(self) -> st.SearchStrategy[ChainOperation] | None:
        rules = self.rules
        choices = []
        for g in rules.gifts:
            for r in g.amounts:
                channels = [
                    f.channel
                    for f in rules.store_fees
                    if f.fixed is None or f.fixed.currency.code == r.currency
                ]
                if channels:
                    choices.append((g.name, r.minimum, r.maximum, tuple(channels)))
        if not choices:
            return None

        @st.composite
        def draw_paid(draw: st.DrawFn) -> ChainOperation:
            name, low, high, channels = draw(st.sampled_from(choices))
            ccy = low.currency.code
            lo, hi = to_minor(low, ccy), to_minor(high, ccy)
            minor = draw(st.integers(lo, hi) | st.sampled_from((lo, hi)))
            return SendPaidGift(
                draw(st.sampled_from(sorted(self.viewers))),
                draw(self.creator()),
                name,
                from_minor(minor, ccy),
                draw(st.sampled_from(channels)),
            )

        return draw_paid()

    def convert(self) -> st.SearchStrategy[ChainOperation]:
        # Mostly all of them; now and then a part (perhaps more than the creator holds).
        part = st.integers(0, 3).flatmap(lambda n: st.none() if n else st.integers(1, 10_000))
        return st.builds(ConvertDiamonds, self.creator(), part)

    def withdraw(self) -> st.SearchStrategy[ChainOperation]:
        @st.composite
        def draw_withdrawal(draw: st.DrawFn) -> ChainOperation:
            creator = draw(self.creator())
            ccy = self.creators[creator][3]
            assert isinstance(ccy, str)
            scale = get_unit(ccy).scale
            if draw(st.booleans()):
                return RequestWithdrawal(creator, "all")
            return RequestWithdrawal(creator, from_minor(draw(st.integers(1, 200 * scale)), ccy))

        return draw_withdrawal()

    def settle(self) -> st.SearchStrategy[ChainOperation] | None:
        if not self.requests:
            return None
        index = st.integers(0, self.requests - 1)
        return st.builds(CompleteWithdrawal, index) | st.builds(FailWithdrawal, index)

    def refund(self) -> st.SearchStrategy[ChainOperation] | None:
        if not self.lots:
            return None
        index = st.integers(0, len(self.lots) - 1)
        return st.builds(RefundPurchase, index) | st.builds(Chargeback, index)

    def views(self) -> st.SearchStrategy[ChainOperation] | None:
        programs = self.rules.rewards
        if not programs:
            return None
        period = f"p{self.periods}"

        @st.composite
        def draw_views(draw: st.DrawFn) -> ChainOperation:
            p = draw(st.sampled_from(programs))
            creator = draw(self.creator())
            where = self.creators[creator][0]
            # Views from regions that earn: the program's own, its tiers' countries,
            # and (with a "*" rate) any region at all.
            earning = {r for r in p.rpm if r != "*"} | {
                c for members in p.region_tiers.values() for c in members
            }
            if "*" in p.rpm:
                earning |= set(self.regions)
            regions = sorted(r for r in earning if r in self.regions) or ["US"]
            chosen = draw(st.lists(st.sampled_from(regions), min_size=1, max_size=2, unique=True))
            views = tuple((r, draw(st.integers(0, 2_000_000))) for r in sorted(chosen))
            # Mostly eligible; now and then one threshold short (NotEligible).
            short = draw(st.sampled_from([None, None, None, "followers", "views_30d"]))
            followers = p.followers_needed(where if isinstance(where, str) else None)
            return PayViews(
                creator,
                period,
                views,
                followers - (short == "followers" and followers > 0),
                p.min_views_30d - (short == "views_30d" and p.min_views_30d > 0),
                p.min_video_seconds + p.min_video_seconds_exclusive,
                p.name,
                draw(st.none() | st.sampled_from(sorted(p.engagement_weights)))
                if p.engagement_weights
                else None,
            )

        return draw_views()

    def update(self) -> st.SearchStrategy[ChainOperation]:
        regions = st.none() | st.sampled_from(self.regions)
        ages = st.none() | st.sampled_from([a for a in _AGES if a is not None])
        return st.builds(UpdateViewer, st.sampled_from(sorted(self.viewers)), regions, ages).filter(
            lambda op: op.region is not None or op.age is not None
        ) | st.builds(
            UpdateCreator, st.sampled_from(sorted(self.creators)), regions, ages, st.just(True)
        )

    def time(self) -> st.SearchStrategy[ChainOperation]:
        hours = st.integers(1, 72) | st.sampled_from([24, 24 * 7, 24 * 31])
        later = [v.effective_from for v in self.economy.versions if v.effective_from > self.now]
        if later:
            # Now and then, into the next version of the rules.
            gap = later[0] - self.now
            hours |= st.just(max(1, -(-int(gap.total_seconds()) // 3600)))
        return hours.map(AdvanceClock)

    def choices(
        self, kinds: Collection[str]
    ) -> list[tuple[int, st.SearchStrategy[ChainOperation]]]:
        """(weight, strategy) of each kind that can happen now."""
        table: list[tuple[str, int, Callable[[], st.SearchStrategy[ChainOperation] | None]]] = [
            ("buy", 4, self.buy),
            ("gift", 6, self.gift),
            ("paid_gift", 2, self.paid_gift),
            ("convert", 2, self.convert),
            ("withdraw", 2, self.withdraw),
            ("settle", 1, self.settle),
            ("refund", 1, self.refund),
            ("views", 1, self.views),
            ("update", 1, self.update),
            ("time", 1, self.time),
        ]
        out = []
        for kind, weight, make in table:
            if kind in kinds:
                strategy = make()
                if strategy is not None:
                    out.append((weight, strategy))
        return out


def _kinds(kinds: Collection[type[ChainOperation]] | None) -> frozenset[str]:
    if kinds is None:
        return frozenset(k.kind for k in OPERATIONS)
    chosen = list(kinds)
    wrong = [k for k in chosen if k not in OPERATIONS]
    if wrong or not chosen:
        raise InvalidArgument(
            f"kinds {chosen!r} must name at least one of the operation classes "
            f"{', '.join(k.__name__ for k in OPERATIONS)}"
        )
    return frozenset(k.kind for k in chosen)


@st.composite
def _next_operation(draw: st.DrawFn, model: _Model, kinds: frozenset[str]) -> ChainOperation | None:
    choices = model.choices(kinds)
    if not choices:
        return None
    # Weighted: each kind takes as many numbers as its weight; shrinking goes to 0 (a buy).
    pick = draw(st.integers(0, sum(w for w, _ in choices) - 1))
    for weight, strategy in choices:
        if pick < weight:
            return draw(strategy)
        pick -= weight
    raise AssertionError("unreachable")  # pragma: no cover


@st.composite
def _parties(
    draw: st.DrawFn, economy: Economy, start: datetime, viewers: int, creators: int
) -> tuple[tuple[Viewer, ...], tuple[Creator, ...]]:
    regions = _regions(economy)
    rules = economy.rules_at(start)
    payout = sorted({economy.books_currency, *rules.payout_currencies})
    # Mostly adults (and verified creators), so that purchases and withdrawals go
    # through; now and then anyone, so that the age and KYC rules refuse some.
    ages = st.integers(0, 3).flatmap(lambda n: st.sampled_from(_AGES) if n == 0 else st.just(30))
    verified = st.integers(0, 3).map(bool)
    vs = tuple(
        Viewer(name, draw(st.sampled_from(regions)), draw(ages)) for name in _VIEWER_NAMES[:viewers]
    )
    cs = tuple(
        Creator(
            name,
            draw(st.sampled_from(regions)),
            draw(ages),
            draw(verified),
            draw(st.sampled_from(payout)),
        )
        for name in _CREATOR_NAMES[:creators]
    )
    return vs, cs


def _model(
    economy: Economy, start: datetime, vs: Sequence[Viewer], cs: Sequence[Creator]
) -> _Model:
    return _Model(
        economy,
        start,
        _regions(economy),
        {v.name: [v.region, v.age] for v in vs},
        {
            c.name: [c.region, c.age, c.verified, c.payout_currency or economy.books_currency]
            for c in cs
        },
    )


def _rates_for(economy: Economy) -> st.SearchStrategy[RateSource | None]:
    codes = currencies_of(economy)
    if len(codes) == 1:
        return st.none()
    return rate_tables(
        currencies=codes,
        books_currency=economy.books_currency,
        valid_from=min(economy.versions[0].effective_from, datetime(2000, 1, 1, tzinfo=UTC)),
    )


@st.composite
def _scenarios(
    draw: st.DrawFn,
    economy: Economy,
    rates: RateSource | None,
    start: datetime | None,
    viewers: int,
    creators: int,
    min_operations: int,
    max_operations: int,
    kinds: frozenset[str],
) -> ChainScenario:
    if start is None:
        # Any version of the rules: start an hour into one of them.
        version = draw(st.sampled_from(economy.versions))
        start = version.effective_from + timedelta(hours=1)
    if rates is None:
        rates = draw(_rates_for(economy))
    vs, cs = draw(_parties(economy, start, viewers, creators))
    model = _model(economy, start, vs, cs)
    ops: list[ChainOperation] = []
    # A "stop" flag before each operation, as Hypothesis's own lists do, so that a
    # failing scenario shrinks by deleting operations anywhere in it.
    while len(ops) < max_operations and (
        len(ops) < min_operations or draw(st.integers(0, 15)) != 0
    ):
        op = draw(_next_operation(model, kinds))
        if op is None:
            break
        model.apply(op)
        ops.append(op)
    return ChainScenario(start, vs, cs, tuple(ops), rates)


def chain_scenarios(
    economy: Economy,
    *,
    rates: RateSource | None = None,
    start: datetime | None = None,
    viewers: int = 2,
    creators: int = 2,
    min_operations: int = 0,
    max_operations: int = 30,
    kinds: Collection[type[ChainOperation]] | None = None,
) -> st.SearchStrategy[ChainScenario]:
    """Whole scenarios for ``economy``, as a real user could play them.

    Parties come with regions and ages (some too young to buy or withdraw),
    creators with a payout currency the rules offer. Operations follow what
    each party holds at that moment: a viewer buys a pack on sale in their
    region on that day, gifts only coins they hold (spent first in, first out;
    refunded coins are gone), sends a gift paid in money within its range on a
    channel whose fixed fee is in that currency. Conversions, withdrawals (all or
    an amount), settlements, refunds and chargebacks of earlier purchases, view
    pay, profile changes and time passing (into the next version of the rules,
    too) come as a user would try them, so the rules' own refusals
    (:data:`REFUSALS`) happen too.

    Args:
        economy: the rules.
        rates: the exchange rates (None: drawn with :func:`rate_tables` when the
            rules name more than one currency).
        start: when the run starts (None: an hour into a drawn version).
        viewers: how many viewers (up to 6).
        creators: how many creators (up to 6).
        min_operations: the fewest operations.
        max_operations: the most operations.
        kinds: only these operation classes (None: all of :data:`OPERATIONS`).

    Example:
        >>> from hypothesis import given, settings
        >>> import giftledger as gl
        >>> from giftledger.testing import chain_scenarios, check_all, run_chain
        >>> econ = gl.presets.load("twitch-bits")
        >>> @settings(max_examples=10, deadline=None)
        ... @given(chain_scenarios(econ, max_operations=10))
        ... def test_the_books_hold(scenario):
        ...     with run_chain(econ, scenario) as run:
        ...         check_all(run.app)
        >>> test_the_books_hold()
    """
    if not (1 <= viewers <= len(_VIEWER_NAMES) and 1 <= creators <= len(_CREATOR_NAMES)):
        raise InvalidArgument(
            f"viewers {viewers} and creators {creators} must each be 1 to {len(_VIEWER_NAMES)}"
        )
    counts = (min_operations, max_operations)
    if (
        any(isinstance(n, bool) or not isinstance(n, int) for n in counts)
        or not 0 <= min_operations <= max_operations
    ):
        raise InvalidArgument(
            f"min_operations {min_operations!r} and max_operations {max_operations!r} must "
            f"be integers with 0 <= min_operations <= max_operations"
        )
    return _scenarios(
        economy,
        rates,
        start,
        viewers,
        creators,
        min_operations,
        max_operations,
        _kinds(kinds),
    )
