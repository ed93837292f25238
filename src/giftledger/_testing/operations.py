"""Chain operations as values: each a frozen record that prints as the line of code
it runs (``app.buy_coins('ann', pack=100, channel='ios')``), so a shrunk failure
reads as a script.

Operations that act on an earlier result name it by position:
``RefundPurchase(0)`` refunds the first purchase of the run, ``CompleteWithdrawal(1)``
the second withdrawal placed. :class:`ChainScenario` bundles the parties, the
start and the exchange rates with the operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Literal

import attrs
from moneyed import Money

from .._economy.fx import RateSource
from .._economy.withdraw import Withdrawal
from .._ledger.model import Transaction

if TYPE_CHECKING:
    from .run import ChainRun

__all__ = [
    "OPERATIONS",
    "AdvanceClock",
    "BuyCoins",
    "ChainOperation",
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
    "UpdateCreator",
    "UpdateViewer",
    "Viewer",
    "script_header",
]


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


# -- scenarios ---------------------------------------------------------------------------


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
            [*script_header(self.start, self.viewers, self.creators), *map(str, self.operations)]
        )


def script_header(
    start: datetime, viewers: Sequence[Viewer], creators: Sequence[Creator]
) -> list[str]:
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
