"""Chain operations as values, sequences of them a real user could perform, and a
runner that plays them against any store.

An operation is a frozen record (:class:`BuyCoins`, :class:`SendGift` …) that
prints as the line of code it runs (``app.buy_coins('ann', pack=100,
channel='ios')``), so a shrunk failure reads as a script. Operations that act
on an earlier result name it by position: ``RefundPurchase(0)`` refunds the
first purchase, ``CompleteWithdrawal(1)`` the second withdrawal placed.

:func:`chain_scenarios` draws whole scenarios for one economy — the parties,
when it starts, exchange rates, and the operations — from a model of what each
party holds at each moment, so a viewer only gifts coins they hold, packs are
those on sale in the viewer's region at that time, and a gift paid in money is
within its range. :class:`ChainRun` plays operations on a fresh ledger; the
rules' own refusals (:data:`REFUSALS`) are allowed, and each must leave the
books exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Literal

import attrs
import hypothesis.strategies as st
from moneyed import Money

from .._economy.base import check_region
from .._economy.chain import GiftEconomy
from .._economy.fx import RateSource
from .._economy.rules import Economy, RuleSet
from .._economy.withdraw import Withdrawal
from .._errors import (
    AlreadyReversed,
    GiftLedgerError,
    HoldNotPending,
    InsufficientFunds,
    InvalidArgument,
    LimitExceeded,
    NotEligible,
)
from .._ledger.clock import ManualClock
from .._ledger.ledger import Ledger
from .._ledger.model import Transaction
from .._money.amounts import from_minor, to_minor
from .._money.units import get_unit
from .rules import REGION_CURRENCIES, rate_tables
from .stores import FreshLedgers, StoreSpec

__all__ = [
    "OPERATIONS",
    "REFUSALS",
    "AdvanceClock",
    "BuyCoins",
    "ChainCheckFailed",
    "ChainOperation",
    "ChainRun",
    "ChainScenario",
    "Chargeback",
    "CompleteWithdrawal",
    "ConvertDiamonds",
    "Creator",
    "FailWithdrawal",
    "PayViews",
    "RefundPurchase",
    "RequestWithdrawal",
    "SendGift",
    "SendPaidGift",
    "Step",
    "UpdateCreator",
    "UpdateViewer",
    "Viewer",
    "chain_scenarios",
    "run_chain",
]

#: The refusals the rules (and the ledger's balance rules) answer a request
#: with: not enough coins, Diamonds or cash (a withdrawal below the minimum
#: included), a cap reached, an ineligible party, something already refunded or
#: settled. A refused operation changes nothing.
REFUSALS: tuple[type[GiftLedgerError], ...] = (
    InsufficientFunds,
    LimitExceeded,
    NotEligible,
    AlreadyReversed,
    HoldNotPending,
)


class ChainCheckFailed(AssertionError):
    """An invariant failed after a sequence of chain operations.

    The message names the check, its evidence, and the operations that led
    there as a script; the original ``AssertionError`` is the ``__cause__``.

    Attributes:
        operations: the operations run before the check failed, in order.
        check: the name of the check that failed.
    """

    def __init__(self, message: str, operations: Sequence[object], check: str) -> None:
        super().__init__(message)
        self.operations: tuple[object, ...] = tuple(operations)
        self.check = check


# -- parties ----------------------------------------------------------------------------


@attrs.frozen(slots=True)
class Viewer:
    """A viewer a scenario opens: ``app.open_viewer(name, region=, age=)``."""

    name: str
    region: str | None = None
    age: int | None = None

    def __str__(self) -> str:
        return f"app.open_viewer({self.name!r}, region={self.region!r}, age={self.age!r})"


@attrs.frozen(slots=True)
class Creator:
    """A creator a scenario opens: ``app.open_creator(name, region=, age=, verified=,
    payout_currency=)``."""

    name: str
    region: str | None = None
    age: int | None = None
    verified: bool = False
    payout_currency: str | None = None

    def __str__(self) -> str:
        return (
            f"app.open_creator({self.name!r}, region={self.region!r}, age={self.age!r}, "
            f"verified={self.verified!r}, payout_currency={self.payout_currency!r})"
        )


# -- operations -------------------------------------------------------------------------


def _money_text(m: Money) -> str:
    return f"Money({str(m.amount)!r}, {m.currency.code!r})"


@attrs.frozen(slots=True)
class BuyCoins:
    """``app.buy_coins(viewer, pack=, channel=)``."""

    kind: ClassVar[str] = "buy"
    viewer: str
    pack: int
    channel: str

    def run(self, run: ChainRun) -> Transaction:
        tx = run.app.buy_coins(self.viewer, pack=self.pack, channel=self.channel)
        run.purchases.append(tx)
        return tx

    def __str__(self) -> str:
        return (
            f"purchases.append(app.buy_coins({self.viewer!r}, pack={self.pack}, "
            f"channel={self.channel!r}))"
        )


@attrs.frozen(slots=True)
class SendGift:
    """``app.send_gift(viewer, creator, gift, quantity)``: a gift priced in coins."""

    kind: ClassVar[str] = "gift"
    viewer: str
    creator: str
    gift: str
    quantity: int = 1

    def run(self, run: ChainRun) -> Transaction:
        return run.app.send_gift(self.viewer, self.creator, self.gift, self.quantity)

    def __str__(self) -> str:
        return f"app.send_gift({self.viewer!r}, {self.creator!r}, {self.gift!r}, {self.quantity})"


@attrs.frozen(slots=True)
class SendPaidGift:
    """``app.send_gift(viewer, creator, gift, amount=, channel=)``: a gift priced in money."""

    kind: ClassVar[str] = "paid_gift"
    viewer: str
    creator: str
    gift: str
    amount: Money
    channel: str

    def run(self, run: ChainRun) -> Transaction:
        return run.app.send_gift(
            self.viewer, self.creator, self.gift, amount=self.amount, channel=self.channel
        )

    def __str__(self) -> str:
        return (
            f"app.send_gift({self.viewer!r}, {self.creator!r}, {self.gift!r}, "
            f"amount={_money_text(self.amount)}, channel={self.channel!r})"
        )


@attrs.frozen(slots=True)
class ConvertDiamonds:
    """``app.convert_diamonds(creator, diamonds)`` (None: all)."""

    kind: ClassVar[str] = "convert"
    creator: str
    diamonds: int | None = None

    def run(self, run: ChainRun) -> Transaction:
        return run.app.convert_diamonds(self.creator, self.diamonds)

    def __str__(self) -> str:
        more = "" if self.diamonds is None else f", {self.diamonds}"
        return f"app.convert_diamonds({self.creator!r}{more})"


@attrs.frozen(slots=True)
class RequestWithdrawal:
    """``app.request_withdrawal(creator, amount)`` (``"all"`` or Money)."""

    kind: ClassVar[str] = "withdraw"
    creator: str
    amount: Money | Literal["all"] = "all"

    def run(self, run: ChainRun) -> Withdrawal:
        w = run.app.request_withdrawal(self.creator, self.amount)
        run.withdrawals.append(w)
        return w

    def __str__(self) -> str:
        amount = "'all'" if isinstance(self.amount, str) else _money_text(self.amount)
        return f"withdrawals.append(app.request_withdrawal({self.creator!r}, {amount}))"


@attrs.frozen(slots=True)
class CompleteWithdrawal:
    """``app.complete_withdrawal(withdrawals[i])``: the i-th withdrawal placed (counted
    modulo those placed; skipped when none was)."""

    kind: ClassVar[str] = "settle"
    withdrawal: int

    def run(self, run: ChainRun) -> Transaction | None:
        w = run.placed(self.withdrawal)
        return None if w is None else run.app.complete_withdrawal(w)

    def __str__(self) -> str:
        return f"app.complete_withdrawal(withdrawals[{self.withdrawal}])"


@attrs.frozen(slots=True)
class FailWithdrawal:
    """``app.fail_withdrawal(withdrawals[i])`` (see :class:`CompleteWithdrawal`)."""

    kind: ClassVar[str] = "settle"
    withdrawal: int

    def run(self, run: ChainRun) -> Transaction | None:
        w = run.placed(self.withdrawal)
        return None if w is None else run.app.fail_withdrawal(w)

    def __str__(self) -> str:
        return f"app.fail_withdrawal(withdrawals[{self.withdrawal}])"


@attrs.frozen(slots=True)
class RefundPurchase:
    """``app.refund_purchase(purchases[i])``: the i-th coin purchase of the run."""

    kind: ClassVar[str] = "refund"
    purchase: int

    def run(self, run: ChainRun) -> Transaction:
        return run.app.refund_purchase(run.purchases[self.purchase])

    def __str__(self) -> str:
        return f"app.refund_purchase(purchases[{self.purchase}])"


@attrs.frozen(slots=True)
class Chargeback:
    """``app.chargeback(purchases[i])``."""

    kind: ClassVar[str] = "refund"
    purchase: int

    def run(self, run: ChainRun) -> Transaction:
        return run.app.chargeback(run.purchases[self.purchase])

    def __str__(self) -> str:
        return f"app.chargeback(purchases[{self.purchase}])"


@attrs.frozen(slots=True)
class PayViews:
    """``app.pay_views(creator, period, views, followers=, views_30d=, video_seconds=,
    engagement=, program=)``."""

    kind: ClassVar[str] = "views"
    creator: str
    period: str
    views: tuple[tuple[str, int], ...]
    followers: int
    views_30d: int
    video_seconds: int
    program: str
    engagement: str | None = None

    def run(self, run: ChainRun) -> Transaction:
        return run.app.pay_views(
            self.creator,
            self.period,
            dict(self.views),
            engagement=self.engagement,
            followers=self.followers,
            views_30d=self.views_30d,
            video_seconds=self.video_seconds,
            program=self.program,
        )

    def __str__(self) -> str:
        return (
            f"app.pay_views({self.creator!r}, {self.period!r}, {dict(self.views)!r}, "
            f"followers={self.followers}, views_30d={self.views_30d}, "
            f"video_seconds={self.video_seconds}, engagement={self.engagement!r}, "
            f"program={self.program!r})"
        )


@attrs.frozen(slots=True)
class UpdateViewer:
    """``app.update_viewer(viewer, region=, age=)``: only the fields given (not None)."""

    kind: ClassVar[str] = "update"
    viewer: str
    region: str | None = None
    age: int | None = None

    def _changes(self) -> dict[str, object]:
        return {k: v for k, v in (("region", self.region), ("age", self.age)) if v is not None}

    def run(self, run: ChainRun) -> Transaction:
        return run.app.update_viewer(self.viewer, **self._changes())  # type: ignore[arg-type]

    def __str__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self._changes().items())
        return f"app.update_viewer({self.viewer!r}{args})"


@attrs.frozen(slots=True)
class UpdateCreator:
    """``app.update_creator(creator, region=, age=, verified=)``: only the fields given."""

    kind: ClassVar[str] = "update"
    creator: str
    region: str | None = None
    age: int | None = None
    verified: bool | None = None

    def _changes(self) -> dict[str, object]:
        pairs = (("region", self.region), ("age", self.age), ("verified", self.verified))
        return {k: v for k, v in pairs if v is not None}

    def run(self, run: ChainRun) -> Transaction:
        return run.app.update_creator(self.creator, **self._changes())  # type: ignore[arg-type]

    def __str__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self._changes().items())
        return f"app.update_creator({self.creator!r}{args})"


@attrs.frozen(slots=True)
class AdvanceClock:
    """``clock.advance(timedelta(hours=n))``: time passes (days, weeks, a new version
    of the rules)."""

    kind: ClassVar[str] = "time"
    hours: int

    def run(self, run: ChainRun) -> None:
        run.clock.advance(timedelta(hours=self.hours))

    def __str__(self) -> str:
        return f"clock.advance(timedelta(hours={self.hours}))"


ChainOperation = (
    BuyCoins
    | SendGift
    | SendPaidGift
    | ConvertDiamonds
    | RequestWithdrawal
    | CompleteWithdrawal
    | FailWithdrawal
    | RefundPurchase
    | Chargeback
    | PayViews
    | UpdateViewer
    | UpdateCreator
    | AdvanceClock
)

#: Every kind of operation :func:`chain_scenarios` draws.
OPERATIONS: tuple[type[ChainOperation], ...] = (
    BuyCoins,
    SendGift,
    SendPaidGift,
    ConvertDiamonds,
    RequestWithdrawal,
    CompleteWithdrawal,
    FailWithdrawal,
    RefundPurchase,
    Chargeback,
    PayViews,
    UpdateViewer,
    UpdateCreator,
    AdvanceClock,
)


# -- scenarios --------------------------------------------------------------------------


@attrs.frozen(slots=True)
class ChainScenario:
    """Everything one run needs: when it starts, the exchange rates, the parties and
    the operations. ``str()`` prints it as a script.

    Attributes:
        start: the ManualClock's start.
        viewers: opened first, in order.
        creators: opened next.
        operations: then run in order.
        rates: the GiftEconomy's rate source (None: one currency only).
    """

    start: datetime
    viewers: tuple[Viewer, ...]
    creators: tuple[Creator, ...]
    operations: tuple[ChainOperation, ...]
    rates: RateSource | None = attrs.field(default=None, eq=False)

    def __str__(self) -> str:
        return "\n".join(
            [*_header(self.start, self.viewers, self.creators), *map(str, self.operations)]
        )


def _header(start: datetime, viewers: Sequence[Viewer], creators: Sequence[Creator]) -> list[str]:
    """The lines that set a run up: imports, clock, ledger, app, parties. ``economy``
    and ``rates`` are the script's only free names."""
    return [
        "import datetime",
        "from datetime import timedelta",
        "from moneyed import Money",
        "import giftledger as gl",
        f"clock = gl.ManualClock({start!r})",
        "book = gl.Ledger(clock=clock)",
        "app = gl.GiftEconomy(book, economy, rates=rates)",
        "purchases, withdrawals = [], []",
        *map(str, viewers),
        *map(str, creators),
    ]


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
    return frozenset(k.kind for k in (OPERATIONS if kinds is None else kinds))


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
        viewers, creators: how many of each (up to 6).
        min_operations, max_operations: how many operations.
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


# -- running ----------------------------------------------------------------------------


@attrs.frozen(slots=True)
class Step:
    """One operation played, and what came of it.

    Attributes:
        operation: the operation.
        result: what it returned (a Transaction, a Withdrawal, or None when it
            was skipped or refused).
        refused: the rules' refusal, when it was refused.
    """

    operation: ChainOperation
    result: object = None
    refused: GiftLedgerError | None = None
    code: str = ""

    @property
    def line(self) -> str:
        """The step as a line of a replayable script: the code it ran, or, for a
        refused or skipped step (which changed nothing), that code commented out."""
        code = self.code or str(self.operation)
        if self.refused is not None:
            return f"# {code}  (refused: {type(self.refused).__name__})"
        if self.result is None and isinstance(self.operation, CompleteWithdrawal | FailWithdrawal):
            return f"# {code}  (skipped: no withdrawal was placed)"
        return code


def _snapshot(book: Ledger) -> tuple[object, ...]:
    """Everything a refused request must leave unchanged: head, balances, holds."""
    balances = {k: v for k, v in book.balances().items() if v.amount}
    return book.head, balances, len(book.holds())


class ChainRun:
    """Operations played on a fresh ledger for one economy.

    Use :func:`run_chain` to play a whole :class:`ChainScenario`, or
    :meth:`start` and :meth:`apply` to play step by step (the state machine does).
    A ``ChainRun`` is a context manager: leaving it closes the ledger and drops
    what a throwaway store made.

    Attributes:
        economy: the rules.
        app: the :class:`~giftledger.GiftEconomy`.
        book: its ledger.
        clock: the ManualClock it runs on.
        started: when the run started.
        viewers, creators: the parties opened.
        steps: every operation played so far, with its outcome.
        purchases: the coin purchases made, in order (``RefundPurchase(i)`` names one).
        withdrawals: the withdrawals placed, in order.
    """

    def __init__(
        self,
        economy: Economy,
        app: GiftEconomy,
        clock: ManualClock,
        stores: FreshLedgers,
        viewers: Sequence[Viewer] = (),
        creators: Sequence[Creator] = (),
    ) -> None:
        self.economy = economy
        self.app = app
        self.book = app.ledger
        self.clock = clock
        self.started = clock.now()
        self.viewers = tuple(viewers)
        self.creators = tuple(creators)
        self.steps: list[Step] = []
        self.purchases: list[Transaction] = []
        self.withdrawals: list[Withdrawal] = []
        self._stores = stores

    @classmethod
    def start(
        cls,
        economy: Economy,
        *,
        viewers: Sequence[Viewer],
        creators: Sequence[Creator],
        start: datetime,
        rates: RateSource | None = None,
        store: StoreSpec = "memory:",
    ) -> ChainRun:
        """Open a fresh ledger on ``store`` (see :class:`~giftledger.testing.FreshLedgers`),
        the economy on it, and the parties."""
        stores = FreshLedgers(store)
        clock = ManualClock(start)
        try:
            app = GiftEconomy(stores.open(clock), economy, rates=rates)
            for v in viewers:
                app.open_viewer(v.name, region=v.region, age=v.age)
            for c in creators:
                app.open_creator(
                    c.name,
                    region=c.region,
                    age=c.age,
                    verified=c.verified,
                    payout_currency=c.payout_currency,
                )
        except BaseException:
            stores.close()
            raise
        return cls(economy, app, clock, stores, viewers, creators)

    def placed(self, index: int) -> Withdrawal | None:
        """The withdrawal ``index`` names (modulo those placed), or None."""
        if not self.withdrawals:
            return None
        return self.withdrawals[index % len(self.withdrawals)]

    def apply(self, operation: ChainOperation) -> Step:
        """Play one operation. A refusal in :data:`REFUSALS` is recorded (and must
        change nothing); any other error propagates.

        Raises:
            AssertionError: a refused operation changed the books, or the chain
                refused a gift the viewer's wallet could pay for, or a purchase by a
                viewer old enough to buy.
        """
        code = str(operation)
        if isinstance(operation, CompleteWithdrawal | FailWithdrawal) and self.withdrawals:
            # The index counts the withdrawals placed, modulo their number.
            resolved = operation.withdrawal % len(self.withdrawals)
            code = code.replace(f"[{operation.withdrawal}]", f"[{resolved}]")
        before = _snapshot(self.book)
        try:
            result = operation.run(self)
        except REFUSALS as exc:
            after = _snapshot(self.book)
            if after != before:
                raise AssertionError(
                    f"{operation} was refused ({type(exc).__name__}: {exc}) but the books "
                    f"changed: head {before[0]} -> {after[0]}"
                ) from exc
            self._check_refusal(operation, exc)
            step = Step(operation, None, exc, code)
        else:
            step = Step(operation, result, None, code)
        self.steps.append(step)
        return step

    def _check_refusal(self, op: ChainOperation, exc: GiftLedgerError) -> None:
        rules = self.economy.rules_at(self.clock.now())
        if isinstance(op, SendGift) and isinstance(exc, InsufficientFunds):
            cost = rules.gift(op.gift).coins * op.quantity
            held = to_minor(self.book.available(f"viewers:{op.viewer}:coins"), self.app.coin)
            if held >= cost:
                raise AssertionError(
                    f"{op} was refused ({exc}) though {op.viewer!r} holds {held} coins and "
                    f"it costs {cost}"
                ) from exc
        if isinstance(op, BuyCoins) and isinstance(exc, NotEligible):
            age = self.app.viewer(op.viewer).age
            if age is None or age >= rules.min_buyer_age:
                raise AssertionError(
                    f"{op} was refused ({exc}) though {op.viewer!r} is {age} and the rules "
                    f"sell from age {rules.min_buyer_age}"
                ) from exc

    def run(self, operations: Sequence[ChainOperation]) -> ChainRun:
        """Play each operation in turn (see :meth:`apply`); return this run."""
        for op in operations:
            self.apply(op)
        return self

    def check(self, *checks: Callable[[GiftEconomy], object]) -> None:
        """Run each check on the app; a failing one raises :class:`ChainCheckFailed`
        naming the check, its evidence and the operations played so far."""
        for check in checks:
            try:
                check(self.app)
            except AssertionError as exc:
                raise self.failure(check, exc) from exc

    def failure(self, check: Callable[..., object], exc: AssertionError) -> ChainCheckFailed:
        """The :class:`ChainCheckFailed` for ``check`` failing with ``exc`` now: its
        message is the check's and, indented, the script that got here."""
        name = getattr(check, "__name__", repr(check))
        played = [s.operation for s in self.steps]
        lines = [
            f"{name} failed: {exc}",
            f"after {len(played)} operation(s); replay with economy and rates set:",
            *(f"    {line}" for line in self.script().splitlines()),
        ]
        return ChainCheckFailed("\n".join(lines), played, name)

    def script(self) -> str:
        """Everything played so far as a Python script that replays it (refused and
        skipped steps commented out); it needs ``economy`` and ``rates`` defined.

        Replaying it on a fresh in-memory ledger writes the same journal, to the hash.
        """
        lines = _header(self.started, self.viewers, self.creators)
        return "\n".join([*lines, *(step.line for step in self.steps)])

    def close(self) -> None:
        """Close the ledger and drop what a throwaway store made."""
        self._stores.close()

    def __enter__(self) -> ChainRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)


def run_chain(
    economy: Economy, scenario: ChainScenario, *, store: StoreSpec = "memory:"
) -> ChainRun:
    """Play a whole scenario on a fresh ledger; return the run (close it, or use it
    in a ``with`` block).

    Args:
        economy: the rules.
        scenario: from :func:`chain_scenarios`, or built by hand.
        store: where the ledger lives (see :class:`~giftledger.testing.FreshLedgers`):
            ``"memory:"``, ``"sqlite:"`` (a temporary file), a PostgreSQL URL (a
            throwaway schema), or a callable that opens one.

    Example:
        >>> import giftledger as gl
        >>> from datetime import datetime, UTC
        >>> from giftledger.testing import (BuyCoins, ChainScenario, SendGift, Viewer,
        ...     Creator, check_all, run_chain)
        >>> econ = gl.presets.load("tiktok-live")
        >>> scenario = ChainScenario(
        ...     econ.latest.effective_from,
        ...     (Viewer("ann", "US", 30),), (Creator("cat", "US", 30),),
        ...     (BuyCoins("ann", 70, "ios"), SendGift("ann", "cat", "Rose", 3)))
        >>> with run_chain(econ, scenario) as run:
        ...     check_all(run.app)
        ...     run.book.balance("creators:cat:diamonds")
        Money('3', 'DIAMOND')
    """
    run = ChainRun.start(
        economy,
        viewers=scenario.viewers,
        creators=scenario.creators,
        start=scenario.start,
        rates=scenario.rates,
        store=store,
    )
    try:
        return run.run(scenario.operations)
    except BaseException:
        run.close()
        raise
