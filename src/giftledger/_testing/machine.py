"""``ChainMachine``: a Hypothesis state machine that plays random chain operations on
your economy and checks every invariant after each one."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, ClassVar

import hypothesis.strategies as st
from hypothesis import HealthCheck, Phase
from hypothesis import settings as Settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from .._economy.chain import GiftEconomy
from .._economy.fx import RateSource
from .._economy.rules import Economy
from .._errors import InvalidArgument
from .checks import check_all
from .operations import ChainOperation
from .run import ChainRun
from .scenarios import _Model, _model, _parties, _rates_for
from .stores import StoreSpec

__all__ = ["FAST_PHASES", "ChainMachine"]

Check = Callable[[GiftEconomy], object]

#: Every phase but ``explain``: after shrinking, Hypothesis's explain phase traces
#: each line of a few hundred more runs, which takes a minute for a chain failure
#: that shrank in two seconds. Pass ``phases=FAST_PHASES`` in your own settings.
FAST_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)


def _can(kind: str) -> Callable[[ChainMachine], bool]:
    def ready(self: ChainMachine) -> bool:
        return self.model is not None and getattr(self.model, kind)() is not None

    ready.__name__ = f"can_{kind}"
    return ready


class ChainMachine(RuleBasedStateMachine):
    """A state machine that plays random operations on a fresh ledger under your
    economy, as a real user could (the model behind :func:`chain_scenarios`), and
    after every step runs :func:`check_all` and your own ``checks``.

    Build one with :meth:`for_economy` (or subclass it, setting ``economy`` and
    the other class attributes, and add your own ``@rule`` or ``@invariant``).
    Its ``TestCase`` is a test pytest or unittest collects. A failing check
    raises :class:`ChainCheckFailed`, whose message lists the operations of the
    shrunk failing run as a script.

    Attributes:
        economy: the rules to run under.
        store: where each run's fresh ledger lives (see :class:`FreshLedgers`).
        rates: the exchange rates (None: drawn with :func:`rate_tables` when the
            rules name more than one currency).
        checks: your own checks, each called with the
            :class:`~giftledger.GiftEconomy` after every step.
        viewers, creators: how many parties to open.

    Example:
        >>> import giftledger as gl
        >>> from hypothesis import settings
        >>> from hypothesis.stateful import run_state_machine_as_test
        >>> from giftledger.testing import ChainMachine
        >>> Machine = ChainMachine.for_economy(gl.presets.load("twitch-bits"))
        >>> run_state_machine_as_test(
        ...     Machine, settings=settings(max_examples=5, stateful_step_count=10, deadline=None))

        In a test module, ``TestTwitch = Machine.TestCase`` is collected by pytest.
    """

    economy: ClassVar[Economy | None] = None
    store: ClassVar[StoreSpec] = "memory:"
    rates: ClassVar[RateSource | None] = None
    checks: ClassVar[tuple[Check, ...]] = ()
    viewers: ClassVar[int] = 2
    creators: ClassVar[int] = 2

    def __init__(self) -> None:
        super().__init__()
        if type(self).economy is None:
            raise InvalidArgument(
                "ChainMachine needs an economy: use ChainMachine.for_economy(economy) or set "
                "economy on a subclass"
            )
        self.run: ChainRun | None = None
        self.model: _Model | None = None

    @classmethod
    def for_economy(
        cls,
        economy: Economy,
        *,
        store: StoreSpec = "memory:",
        rates: RateSource | None = None,
        checks: Iterable[Check] = (),
        viewers: int = 2,
        creators: int = 2,
        settings: Settings | None = None,
    ) -> type[ChainMachine]:
        """A machine class for ``economy``; its ``TestCase`` runs it.

        Args:
            economy: the rules.
            store: ``"memory:"``, ``"sqlite:"`` (a temporary file per run),
                ``"sqlite:///dir/name.db"`` (new files beside it), a PostgreSQL URL
                (a throwaway schema per run), or a callable ``(clock) -> Ledger``.
            rates: the exchange rates (None: drawn when needed).
            checks: more checks, each called with the app after every step (for
                example ``lambda app: check_creator_share(app, at_most=...)``).
            viewers: how many viewers (1 to 6).
            creators: how many creators (1 to 6).
            settings: the TestCase's Hypothesis settings (default: 50 runs of up
                to 20 steps, no deadline, no explain phase: see :data:`FAST_PHASES`).
        """
        if not isinstance(economy, Economy):
            raise InvalidArgument(f"economy {economy!r} must be a giftledger.Economy")
        if not (1 <= viewers <= 6 and 1 <= creators <= 6):
            raise InvalidArgument(f"viewers {viewers} and creators {creators} must each be 1 to 6")
        name = re.sub(r"\W+", "_", economy.name).strip("_") or "economy"
        machine: type[ChainMachine] = type(
            f"{cls.__name__}_{name}",
            (cls,),
            {
                "economy": economy,
                "store": staticmethod(store) if callable(store) else store,
                "rates": rates,
                "checks": tuple(checks),
                "viewers": viewers,
                "creators": creators,
            },
        )
        machine.TestCase.settings = settings or Settings(
            max_examples=50,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=FAST_PHASES,
        )
        return machine

    def _store(self) -> StoreSpec:
        found: Any = inspect.getattr_static(type(self), "store")
        return found.__func__ if isinstance(found, staticmethod) else found

    @initialize(data=st.data())
    def open_books(self, data: st.DataObject) -> None:
        """Open the ledger, the economy and the parties, an hour into a version."""
        econ = type(self).economy
        assert econ is not None
        version = data.draw(st.sampled_from(econ.versions), label="version")
        start = version.effective_from + timedelta(hours=1)
        rates = self.rates if self.rates is not None else data.draw(_rates_for(econ), label="rates")
        vs, cs = data.draw(_parties(econ, start, self.viewers, self.creators), label="parties")
        self.model = _model(econ, start, vs, cs)
        self.run = ChainRun.start(
            econ, viewers=vs, creators=cs, start=start, rates=rates, store=self._store()
        )

    def _play(self, data: st.DataObject, kind: str) -> None:
        assert self.model is not None
        assert self.run is not None
        strategy: st.SearchStrategy[ChainOperation] | None = getattr(self.model, kind)()
        assert strategy is not None
        op = data.draw(strategy, label=kind)
        self.model.apply(op)
        self.run.apply(op)

    @precondition(_can("buy"))
    @rule(data=st.data())
    def buy_coins(self, data: st.DataObject) -> None:
        self._play(data, "buy")

    @precondition(_can("gift"))
    @rule(data=st.data())
    def send_gift(self, data: st.DataObject) -> None:
        self._play(data, "gift")

    @precondition(_can("paid_gift"))
    @rule(data=st.data())
    def send_paid_gift(self, data: st.DataObject) -> None:
        self._play(data, "paid_gift")

    @precondition(_can("convert"))
    @rule(data=st.data())
    def convert_diamonds(self, data: st.DataObject) -> None:
        self._play(data, "convert")

    @precondition(_can("withdraw"))
    @rule(data=st.data())
    def request_withdrawal(self, data: st.DataObject) -> None:
        self._play(data, "withdraw")

    @precondition(_can("settle"))
    @rule(data=st.data())
    def settle_withdrawal(self, data: st.DataObject) -> None:
        self._play(data, "settle")

    @precondition(_can("refund"))
    @rule(data=st.data())
    def refund_purchase(self, data: st.DataObject) -> None:
        self._play(data, "refund")

    @precondition(_can("views"))
    @rule(data=st.data())
    def pay_views(self, data: st.DataObject) -> None:
        self._play(data, "views")

    @precondition(_can("update"))
    @rule(data=st.data())
    def update_party(self, data: st.DataObject) -> None:
        self._play(data, "update")

    @precondition(_can("time"))
    @rule(data=st.data())
    def advance_clock(self, data: st.DataObject) -> None:
        self._play(data, "time")

    @invariant()
    def the_books_hold(self) -> None:
        """Every invariant, and your checks, after every step."""
        if self.run is not None:
            self.run.check(check_all, *self.checks)

    def teardown(self) -> None:
        if self.run is not None:
            self.run.close()
