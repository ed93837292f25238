"""Playing operations on a fresh ledger: :class:`ChainRun` and :func:`run_chain`.

The rules' own refusals (:data:`REFUSALS`) are allowed, and each must leave the
books exactly as they were; any other error propagates. A run prints as a
script that replays it to the same hash, and a failing check raises
:class:`ChainCheckFailed` with that script.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import attrs

from .._economy.chain import GiftEconomy
from .._economy.fx import RateSource
from .._economy.rules import Economy
from .._economy.withdraw import Withdrawal
from .._errors import (
    AlreadyReversed,
    GiftLedgerError,
    HoldNotPending,
    InsufficientFunds,
    LimitExceeded,
    NotEligible,
)
from .._ledger.clock import ManualClock
from .._ledger.ledger import Ledger
from .._ledger.model import EntryKind, Transaction
from .._money.amounts import to_minor
from .operations import (
    BuyCoins,
    ChainOperation,
    ChainScenario,
    CompleteWithdrawal,
    Creator,
    FailWithdrawal,
    SendGift,
    Viewer,
    script_header,
)
from .stores import FreshLedgers, StoreSpec

__all__ = ["REFUSALS", "ChainCheckFailed", "ChainRun", "Step", "run_chain"]

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


def _only_failures_journaled(book: Ledger, before: tuple[object, ...]) -> bool:
    """Whether the entries written since ``before`` are only the records of failures
    remembered under their keys (``KEY`` entries, which move nothing): what a refused
    keyed request may write. Balances and holds must be as they were."""
    head = before[0]
    assert isinstance(head, tuple)
    after = _snapshot(book)
    if after[1:] != before[1:]:
        return False
    return all(
        tx.kind is EntryKind.KEY and not tx.postings and tx.meta.get("gl.error") is not None
        for tx in book.transactions(head[0] + 1)
    )


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
            if after != before and not _only_failures_journaled(self.book, before):
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
        lines = script_header(self.started, self.viewers, self.creators)
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
