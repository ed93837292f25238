"""Run a :class:`~giftledger.Population` through one economy's real chain.

:func:`simulate` opens a ledger on the chosen store with a
:class:`~giftledger.ManualClock` at the start, and plays the population's plan
day by day through :class:`~giftledger.GiftEconomy`: purchases, gifts, refunds,
view pay, conversions, withdrawal requests and completions. Each decision of the
plan (a budget and gift shares in money) is mapped onto the economy here, and
only here:

- **the pack**: of the packs the viewer sees on their channel in their region,
  the one whose price (in the population's currency, through ``rates`` when the
  pack is priced in another) is nearest the session's budget, the cheaper on a
  tie; a channel the economy does not sell on falls back to the first of the
  population's channels that it sells on;
- **each gift**: a share ``s`` of the budget ``B`` is ``s·B`` of money, so
  ``floor(s·B·coins/price)`` coins at the pack's price; the catalog's largest
  coin gift that fits is sent, ``quantity = target // its price`` (the first
  gift of that price in catalog order); a target above the wallet is cut to the
  wallet, one below the cheapest gift sends the cheapest if the wallet affords
  it, and a wallet that affords nothing ends the session;
- **refunds** of the day's flagged purchases run at the day's end
  (``refund_purchase``); **view pay** runs once, at the end of the last day, from
  the rules' first rewards program; every creator who earned that day converts
  their Diamonds and asks to withdraw ``"all"``; withdrawals complete on the first
  day's end at or after their ``due_by``.

Nothing here draws a random number: the run is a function of the plan, the
rules and the store, so a seed gives the same figures on every store.
"""

from __future__ import annotations

import bisect
import decimal
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import attrs

from .._economy.chain import GiftEconomy
from .._economy.records import PurchaseRecord, RefundRecord, ViewPayRecord, record_of
from .._economy.rules import CoinPack, Economy, RuleSet
from .._economy.withdraw import Withdrawal
from .._errors import (
    BelowWithdrawalThreshold,
    InsufficientFunds,
    InvalidArgument,
    LimitExceeded,
    NotEligible,
)
from .._ledger.clock import ManualClock
from .._ledger.ledger import Ledger
from .._money.amounts import to_minor
from .figures import Figures, Tally, figures_of
from .population import Population, check_sizes

__all__ = ["SimulationResult", "simulate"]

#: ``progress(days_done, days, gifts_so_far)``, called after each simulated day.
ProgressCallback = Callable[[int, int, int], None]


@attrs.frozen(slots=True)
class SimulationResult:
    """What :func:`simulate` returns.

    Attributes:
        label: the economy's name and variant (``"tiktok-live[model=B]"``).
        economy: the rules the population ran under.
        figures: the summary (:class:`~giftledger.Figures`).
        app: the :class:`~giftledger.GiftEconomy` on the ledger it wrote.
        population: the population's behaviour.
        seed: the seed of its plan.
    """

    label: str
    economy: Economy
    figures: Figures
    app: GiftEconomy
    population: Population
    seed: int

    @property
    def ledger(self) -> Ledger:
        """The ledger the run wrote (still open; close it when done)."""
        return self.app.ledger


def economy_label(economy: Economy) -> str:
    """``name[axis=option,…]`` of an economy, for tables and charts: the options
    that differ from a shipped preset's defaults (all of them for another economy).

    Example:
        >>> import giftledger as gl
        >>> economy_label(gl.presets.load("tiktok-live", model="B"))
        'tiktok-live[model=B]'
    """
    from .. import presets

    defaults: dict[str, str] = {}
    for info in presets.list():
        if info.name == economy.name:
            defaults = {axis: options[0] for axis, options in info.variants.items()}
    opts = ",".join(f"{k}={v}" for k, v in sorted(economy.variant.items()) if defaults.get(k) != v)
    return f"{economy.name}[{opts}]" if opts else economy.name


def resolve_economy(economy: Economy | str, variants: Mapping[str, str] | None) -> Economy:
    """A preset's name (with ``variants``) or an :class:`Economy` as given."""
    from .. import presets

    if isinstance(economy, str):
        return presets.load(economy, **dict(variants or {}))
    if not isinstance(economy, Economy):
        raise InvalidArgument(f"economy {economy!r} must be a giftledger.Economy or a preset name")
    if variants:
        raise InvalidArgument("variants= applies to a preset name, not to an Economy value")
    return economy


def _rate(rates: object, base: str, quote: str, at: datetime) -> Fraction:
    if base == quote:
        return Fraction(1)
    rate = getattr(rates, "rate", None)
    if callable(rate):
        return _exact_rate(rate(base, quote, at), base, quote)
    if isinstance(rates, Mapping):
        if (base, quote) in rates:
            return _exact_rate(rates[(base, quote)], base, quote)
        if (quote, base) in rates:
            return 1 / _exact_rate(rates[(quote, base)], quote, base)
    raise InvalidArgument(
        f"a pack is priced in {base} but the population budgets in {quote}: pass rates= "
        f"with a {base}/{quote} rate"
    )


def _exact_rate(value: object, base: str, quote: str) -> Fraction:
    """A rate as an exact Fraction; a float (or anything not a number) is refused."""
    if isinstance(value, bool) or not isinstance(value, int | Fraction | decimal.Decimal):
        raise InvalidArgument(
            f"the {base}/{quote} rate {value!r} must be exact (int, Fraction or Decimal), "
            f"not {type(value).__name__}"
        )
    result = Fraction(value)
    if result <= 0:
        raise InvalidArgument(f"the {base}/{quote} rate {value!r} must be more than 0")
    return result


def preflight(
    econ: Economy,
    pop: Population,
    rates: object,
    start: datetime | None,
    *,
    viewers: int,
    creators: int,
    days: int,
) -> datetime:
    """Check a run before a store is opened, and return when it starts.

    The sizes are checked against their caps, and the population is mapped onto
    every version of the rules the run will meet: a missing rate, a region or
    channel without packs, or rules not yet in force at ``start`` are refused
    with nothing written.
    """
    check_sizes(viewers, creators, days)
    first = econ.latest.effective_from if start is None else start
    if not isinstance(first, datetime) or first.utcoffset() is None:
        raise InvalidArgument(f"start {first!r} must be a timezone-aware datetime")
    end = first + timedelta(days=days)
    econ.rules_at(first)  # UnknownRule before the first version
    for rules in econ.versions:
        if rules.effective_from >= end:
            continue
        at = max(first, rules.effective_from)
        if econ.rules_at(at) is not rules:
            continue  # superseded before the run starts
        m = _Mapper(rules, pop, rates, at)
        for wanted, _ in pop.channels:
            for region, _ in pop.regions:
                m.pack(m.channel(wanted), region, 1)
    return first


@attrs.frozen(slots=True)
class _Choice:
    pack: CoinPack
    price: Fraction  # in minor units of the population's currency


class _Mapper:
    """Maps the population's money decisions onto one version of the rules."""

    def __init__(self, rules: RuleSet, pop: Population, rates: object, at: datetime) -> None:
        self.rules, self.pop, self.rates, self.at = rules, pop, rates, at
        self._ladders: dict[tuple[str, str], list[_Choice]] = {}
        gifts = sorted(
            ((g.coins, i, g.name) for i, g in enumerate(rules.gifts) if g.coins > 0),
        )
        coins: list[int] = []
        names: list[str] = []
        for c, _, name in gifts:
            if not coins or coins[-1] != c:
                coins.append(c)
                names.append(name)
        if not coins:
            raise InvalidArgument(f"the economy {rules!r} has no gift priced in coins to send")
        self.gift_coins, self.gift_names = coins, names
        sold = rules.channels
        self._fallback = next((c for c, _ in pop.channels if c in sold), sold[0] if sold else "")

    def channel(self, wanted: str) -> str:
        return wanted if wanted in self.rules.channels else self._fallback

    def pack(self, channel: str, region: str, budget: int) -> _Choice:
        ladder = self._ladders.get((channel, region))
        if ladder is None:
            ladder = []
            for p in self.rules.packs(channel, region):
                ccy = p.price.currency.code
                rate = _rate(self.rates, ccy, self.pop.currency, self.at)
                minor = to_minor(p.price, ccy)
                # Price in minor units of the population's currency, exactly.
                scale = Fraction(10) ** (_exponent(self.pop.currency) - _exponent(ccy))
                ladder.append(_Choice(p, minor * rate * scale))
            if not ladder:
                raise InvalidArgument(f"no pack is sold on {channel!r} in region {region!r}")
            self._ladders[(channel, region)] = ladder
        return min(ladder, key=lambda c: (abs(c.price - budget), c.price))

    def gift(self, target: int, wallet: int) -> tuple[str, int, int] | None:
        """``(gift, quantity, coins)`` for a target in coins, or None if nothing fits."""
        target = min(target, wallet)
        i = bisect.bisect_right(self.gift_coins, target) - 1
        if i < 0:
            if self.gift_coins[0] > wallet:
                return None
            i = 0
            target = self.gift_coins[0]
        per = self.gift_coins[i]
        quantity = target // per
        return self.gift_names[i], quantity, quantity * per


def _exponent(code: str) -> int:
    from .._money.units import get_unit

    return get_unit(code).exponent


def simulate(
    economy: Economy | str,
    *,
    viewers: int,
    creators: int,
    days: int,
    seed: int = 0,
    store: str = "memory:",
    variants: Mapping[str, str] | None = None,
    population: Population | None = None,
    rates: object = None,
    start: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> SimulationResult:
    """Run a synthetic population through an economy's real chain, on a store.

    Args:
        economy: an :class:`~giftledger.Economy`, or a preset's name.
        viewers: how many viewers (opened at their first visit).
        creators: how many creators (all opened at the start).
        days: how many days to simulate.
        seed: the seed of the population's plan.
        store: where the books go (``"memory:"``, ``"sqlite:///sim.db"``,
            ``"postgresql://…"``); the store must be empty.
        variants: options of a preset's variant axes (``{"model": "B"}``).
        population: the behaviour (default: ``Population()``).
        rates: exchange rates (a :class:`~giftledger.RateTable`, any rate
            source, or ``{(base, quote): rate}``), needed when a region's packs
            are priced in another currency than the population's or the books'.
        start: when the first day starts (aware); default the start of the
            latest version of the rules.
        progress: called as ``progress(days_done, days, gifts)`` after each day.

    Returns:
        A :class:`SimulationResult`: the figures, and the chain on its ledger.

    Raises:
        InvalidArgument: a size below 1 or above its cap (``MAX_VIEWERS``,
            ``MAX_CREATORS``, ``MAX_DAYS`` of :mod:`giftledger._simulate.population`),
            a store that already holds entries, a pack priced in a currency with
            no rate to the population's (or a float rate), a region or channel
            without packs, a naive ``start``.
        UnknownRule: no such preset or variant, no rules in force at ``start``.

    Every check but the store's is made before the store is opened.

    Example:
        >>> import giftledger as gl
        >>> res = gl.simulate("twitch-bits", viewers=30, creators=5, days=2, seed=1)
        >>> f = res.figures
        >>> f.fiat_in == f.store_fees + f.taxes + f.platform + f.to_creators + f.deferred
        True
        >>> res.ledger.verify() > 0
        True
    """
    econ = resolve_economy(economy, variants)
    pop = population if population is not None else Population()
    if not isinstance(pop, Population):
        raise InvalidArgument(f"population {pop!r} must be a giftledger.Population")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidArgument(f"seed {seed!r} must be an int")
    first = preflight(econ, pop, rates, start, viewers=viewers, creators=creators, days=days)
    plan = pop.plan(viewers=viewers, creators=creators, days=days, seed=seed)
    people, regions = pop.people(viewers=viewers, creators=creators, seed=seed)
    clock = ManualClock(first)
    book = Ledger.open(store, clock=clock)
    try:
        if book.head[0] != 0 or book.accounts():
            raise InvalidArgument(
                f"the store {book.store.url!r} already holds entries; a simulation needs an "
                f"empty one"
            )
        app = GiftEconomy(book, econ, rates=rates)  # type: ignore[arg-type]
        run = _Run(app, econ, pop, rates, clock, people, regions, first)
        tally = run.play(plan, days, progress)
        figures = figures_of(app, tally)
    except BaseException:
        book.close()
        raise
    return SimulationResult(economy_label(econ), econ, figures, app, pop, seed)


class _Run:
    """The state of one run: small per viewer and per creator, nothing per entry."""

    def __init__(
        self,
        app: GiftEconomy,
        econ: Economy,
        pop: Population,
        rates: object,
        clock: ManualClock,
        people: Sequence[tuple[str, str]],
        regions: Sequence[str],
        start: datetime,
    ) -> None:
        self.app, self.econ, self.pop, self.rates, self.clock = app, econ, pop, rates, clock
        self.people, self.regions, self.start = people, regions, start
        self.tally = Tally(
            currency=econ.books_currency,
            viewers=len(people),
            creators=len(regions),
            live_hours=pop.live_hours_per_day * len(regions),
        )
        self.wallet = [0] * len(people)
        self.opened = bytearray(len(people))
        self.mappers: dict[int, _Mapper] = {}
        self.pending: list[Withdrawal] = []
        self.completed = [0] * len(regions)
        self.requested = bytearray(len(regions))
        self.refused = bytearray(len(regions))  # last refusal was the threshold
        for c, region in enumerate(regions):
            app.open_creator(_creator(c), region=region, age=30, verified=True)

    def mapper(self, now: datetime) -> _Mapper:
        i = self.econ.version_index(now)
        m = self.mappers.get(i)
        if m is None:
            m = self.mappers[i] = _Mapper(self.econ.versions[i], self.pop, self.rates, now)
        return m

    def play(self, plan: Iterator[Any], days: int, progress: ProgressCallback | None) -> Tally:
        t = self.tally
        for day_plan in plan:
            midnight = self.start + timedelta(days=day_plan.day)
            refunds = []
            earned_today: set[int] = set()
            for s in day_plan.sessions:
                self.clock.set(midnight + timedelta(seconds=s.second))
                purchase = self.session(s, earned_today)
                if s.refund and purchase is not None:
                    refunds.append(purchase)
            self.clock.set(midnight + timedelta(days=1) - timedelta(seconds=1))
            for tx in refunds:
                self.refund(tx)
            if day_plan.day == days - 1:
                earned_today |= self.view_pay(days)
            self.pay_out(earned_today)
            if progress is not None:
                progress(day_plan.day + 1, days, t.gifts)
        t.completed_by_creator = tuple(self.completed)
        t.blocked = sum(
            1 for c in range(len(self.regions)) if self.refused[c] and not self.requested[c]
        )
        t.threshold_refused = bytes(self.refused)
        t.requested = bytes(self.requested)
        t.days = days
        t.in_flight = len(self.pending)
        return t

    def session(self, s: Any, earned_today: set[int]) -> Any:
        app, t = self.app, self.tally
        region, wanted = self.people[s.viewer]
        viewer = _viewer(s.viewer)
        if not self.opened[s.viewer]:
            app.open_viewer(viewer, region=region, age=30)
            self.opened[s.viewer] = 1
        m = self.mapper(self.clock.now())
        channel = m.channel(wanted)
        choice = m.pack(channel, region, s.budget)
        tx = app.buy_coins(viewer, pack=choice.pack.coins, channel=channel)
        rec = record_of(tx)
        assert isinstance(rec, PurchaseRecord)
        t.purchase(rec, +1)
        self.wallet[s.viewer] += rec.coins
        creator = _creator(s.creator)
        for share in s.shares:
            target = int(share * s.budget * choice.pack.coins / choice.price)
            pick = m.gift(target, self.wallet[s.viewer])
            if pick is None:
                break
            name, quantity, coins = pick
            app.send_gift(viewer, creator, name, quantity)
            self.wallet[s.viewer] -= coins
            t.gifts += 1
            t.gift_units += quantity
            earned_today.add(s.creator)
        return tx

    def refund(self, tx: Any) -> None:
        rec = record_of(tx)
        assert isinstance(rec, PurchaseRecord)
        done = self.app.refund_purchase(tx)
        ref = record_of(done)
        assert isinstance(ref, RefundRecord)
        viewer = int(rec.viewer.rsplit("-", 1)[1])
        self.wallet[viewer] -= ref.coins
        t = self.tally
        t.purchase(rec, -1)
        t.refunds += 1
        if ref.store_keeps_fee:
            t.store_fees += rec.fee_books  # the store kept it: still a fee
        if ref.policy == "viewer_debt":
            t.viewer_debt += ref.spent_value

    def view_pay(self, days: int) -> set[int]:
        """Pay each eligible creator for the period's views, once, from the first program."""
        rules = self.econ.rules_at(self.clock.now())
        if not rules.rewards:
            return set()
        program = rules.rewards[0]
        pop, t = self.pop, self.tally
        weights = self.pop.popularity(len(self.regions))
        total_views = len(self.people) * pop.views_per_viewer_day * days
        region_w = [w for _, w in pop.regions]
        t.views = 0
        t.has_view_program = True
        paid: set[int] = set()
        views_each = _apportion(total_views, weights)
        period = f"{self.start:%Y-%m-%d}+{days}d"
        for c, views in enumerate(views_each):
            t.views += views
            if views == 0:
                continue
            split = _apportion(views, region_w)
            by_region = {r: v for (r, _), v in zip(pop.regions, split, strict=True) if v}
            try:
                tx = self.app.pay_views(
                    _creator(c),
                    period,
                    by_region,
                    followers=views // pop.views_per_follower,
                    views_30d=views * min(30, days) // days,
                    video_seconds=pop.video_seconds,
                    program=program.name,
                )
            except NotEligible:
                continue
            rec = record_of(tx)
            assert isinstance(rec, ViewPayRecord)
            t.view_pay += rec.earned
            t.view_paid_creators += 1
            paid.add(c)
        return paid

    def pay_out(self, creators: set[int]) -> None:
        app, book = self.app, self.app.ledger
        for c in sorted(creators):
            name = _creator(c)
            if book.balance(f"creators:{name}:diamonds").amount > 0:
                try:
                    app.convert_diamonds(name)
                except (InsufficientFunds, BelowWithdrawalThreshold):
                    pass  # worth less than a cent, or under a minimum in creator units
            try:
                w = app.request_withdrawal(name, "all")
            except BelowWithdrawalThreshold:
                self.refused[c] = 1
                continue
            except (LimitExceeded, NotEligible, InsufficientFunds):
                continue
            self.refused[c] = 0
            self.requested[c] = 1
            self.tally.withdrawals += 1
            self.pending.append(w)
        now = self.clock.now()
        due = [w for w in self.pending if w.due_by <= now]
        if due:
            self.pending = [w for w in self.pending if w.due_by > now]
            for w in due:
                app.complete_withdrawal(w)
                c = int(w.creator.rsplit("-", 1)[1])
                self.completed[c] += to_minor(w.amount, w.amount.currency.code)
                self.tally.completed += 1


def _viewer(i: int) -> str:
    return f"viewer-{i}"


def _creator(i: int) -> str:
    return f"creator-{i}"


def _apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights``: floors, then the largest
    remainders (the earlier index on a tie) get one more each; parts sum to ``total``."""
    w_sum = sum(weights)
    parts = [total * w // w_sum for w in weights]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % w_sum), i))
    for i in order[:left]:
        parts[i] += 1
    return parts
