"""Acceptance 3: generated chain sequences run on every store with no error but the
rules' own refusals, and every invariant holds; the operations are ones a real
user could perform, and a run prints as a script that replays it exactly."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import giftledger as gl
import giftledger.testing as glt

PRESETS = [gl.presets.load(p.name) for p in gl.presets.list()]
# Runs per store: a SQLite file or a PostgreSQL schema per run costs more than memory.
EXAMPLES = {"memory:": 60, "sqlite:": 20}
POSTGRES_EXAMPLES = 12
SCALE = int(os.environ.get("GIFTLEDGER_KIT_EXAMPLES_SCALE", "1"))


def _examples(store: str) -> int:
    return EXAMPLES.get(store, POSTGRES_EXAMPLES) * SCALE


def _run(store: str, body: Callable[[st.DataObject], None]) -> None:
    @settings(
        max_examples=_examples(store),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=glt.FAST_PHASES,
    )
    @given(st.data())
    def test(data: st.DataObject) -> None:
        body(data)

    test()


def test_generated_sequences_run_on_every_store_and_every_invariant_holds(
    kit_store: str,
) -> None:
    def body(data: st.DataObject) -> None:
        econ = data.draw(st.sampled_from(PRESETS) | glt.economies(), label="economy")
        scenario = data.draw(glt.chain_scenarios(econ, max_operations=25), label="scenario")
        # run_chain raises on anything but a refusal in glt.REFUSALS (and checks that a
        # refusal changed nothing).
        with glt.run_chain(econ, scenario, store=kit_store) as run:
            glt.check_all(run.app)
            if econ in PRESETS:
                glt.check_creator_share(run.app)  # no real platform is a money machine

    _run(kit_store, body)


@settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), phases=glt.FAST_PHASES
)
@given(st.data())
def test_a_viewer_only_gifts_coins_they_hold(data: st.DataObject) -> None:
    econ = data.draw(st.sampled_from(PRESETS))
    scenario = data.draw(glt.chain_scenarios(econ))
    with glt.run_chain(econ, scenario) as run:
        for step in run.steps:
            if isinstance(step.operation, glt.SendGift):
                assert step.refused is None, step
            if isinstance(step.operation, glt.SendPaidGift) and step.refused is not None:
                assert isinstance(step.refused, gl.NotEligible)  # too young to pay


@settings(
    max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), phases=glt.FAST_PHASES
)
@given(st.data())
def test_the_printed_script_replays_the_run_to_the_same_hash(data: st.DataObject) -> None:
    econ = data.draw(st.sampled_from(PRESETS) | glt.economies(currencies=("USD", "GBP")))
    scenario = data.draw(glt.chain_scenarios(econ, max_operations=15))
    with glt.run_chain(econ, scenario) as run:
        namespace: dict[str, object] = {"economy": econ, "rates": scenario.rates}
        exec(compile(run.script(), "<chain script>", "exec"), namespace)
        replayed = namespace["book"]
        assert isinstance(replayed, gl.Ledger)
        assert replayed.head == run.book.head


def test_a_scenario_prints_as_the_code_it_runs() -> None:
    econ = gl.presets.load("tiktok-live")
    scenario = glt.ChainScenario(
        econ.latest.effective_from,
        (glt.Viewer("ann", "US", 30),),
        (glt.Creator("cat", "US", 30, True),),
        (
            glt.BuyCoins("ann", 70, "ios"),
            glt.SendGift("ann", "cat", "Rose", 3),
            glt.ConvertDiamonds("cat"),
            glt.RequestWithdrawal("cat"),
            glt.CompleteWithdrawal(0),
            glt.RefundPurchase(0),
            glt.AdvanceClock(24),
        ),
    )
    text = str(scenario)
    assert "purchases.append(app.buy_coins('ann', pack=70, channel='ios'))" in text
    assert "app.send_gift('ann', 'cat', 'Rose', 3)" in text
    assert "app.refund_purchase(purchases[0])" in text
    assert "clock.advance(timedelta(hours=24))" in text
    with glt.run_chain(econ, scenario) as run:
        lines = run.script().splitlines()
        # Withdrawing 3 Diamonds' worth is below the minimum: refused, commented out.
        assert any(
            line.startswith("# withdrawals.append") and "BelowWithdrawalThreshold" in line
            for line in lines
        )
        assert "# app.complete_withdrawal(withdrawals[0])  (skipped" in run.script()


def test_a_refusal_that_changes_the_books_is_an_error() -> None:
    econ = gl.presets.load("twitch-bits")
    scenario = glt.ChainScenario(
        econ.latest.effective_from,
        (glt.Viewer("ann", "US", 30),),
        (glt.Creator("cat", "US", 30, True),),
        (),
    )

    class Sneaky(glt.ConvertDiamonds):
        def run(self, run: glt.ChainRun) -> gl.Transaction:
            run.book.open_account("sneaky", "USD")
            run.book.transfer("sneaky", "revenue:gifts", 1)
            raise gl.InsufficientFunds("nothing to convert")

    with glt.run_chain(econ, scenario) as run, pytest.raises(AssertionError, match="changed"):
        run.apply(Sneaky("cat"))


def test_a_failing_check_lists_the_operations_that_led_there() -> None:
    econ = gl.presets.load("tiktok-live")
    scenario = glt.ChainScenario(
        econ.latest.effective_from,
        (glt.Viewer("ann", "US", 30),),
        (glt.Creator("cat", "US", 30),),
        (glt.BuyCoins("ann", 70, "ios"), glt.SendGift("ann", "cat", "Rose", 5)),
    )

    def platform_keeps_nothing(app: gl.GiftEconomy) -> None:
        glt.check_creator_share(app, at_most=0)

    with glt.run_chain(econ, scenario) as run, pytest.raises(glt.ChainCheckFailed) as info:
        run.check(glt.check_all, platform_keeps_nothing)
    failure = info.value
    assert failure.check == "platform_keeps_nothing"
    assert failure.operations == scenario.operations
    assert "after 2 operation(s)" in str(failure)
    assert "    app.send_gift('ann', 'cat', 'Rose', 5)" in str(failure)
    assert isinstance(failure, AssertionError)


@pytest.mark.parametrize("kind", [glt.BuyCoins, glt.RequestWithdrawal, glt.AdvanceClock])
def test_scenarios_can_be_limited_to_some_kinds(kind: type[glt.ChainOperation]) -> None:
    econ = gl.presets.load("youtube-super-chat")

    @settings(
        max_examples=10,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=glt.FAST_PHASES,
    )
    @given(glt.chain_scenarios(econ, kinds=[kind], min_operations=1, max_operations=5))
    def check(scenario: glt.ChainScenario) -> None:
        assert {type(op) for op in scenario.operations} == {kind}

    check()


@pytest.mark.parametrize(
    "options",
    [
        {"min_operations": 5, "max_operations": 2},
        {"min_operations": -1},
        {"max_operations": 2.5},
        {"kinds": []},
        {"kinds": [int]},
    ],
)
def test_scenario_options_that_cannot_be_met_are_refused(options: dict[str, object]) -> None:
    econ = gl.presets.load("twitch-bits")
    with pytest.raises(gl.InvalidArgument, match=r"min_operations|kinds"):
        glt.chain_scenarios(econ, **options)  # type: ignore[arg-type]


def test_a_machine_needs_an_economy() -> None:
    with pytest.raises(gl.InvalidArgument, match=r"must be a giftledger.Economy"):
        glt.ChainMachine.for_economy("tiktok-live")  # type: ignore[arg-type]


def test_a_refusal_may_journal_its_failure_under_its_key_and_nothing_else() -> None:
    econ = gl.presets.load("twitch-bits")
    scenario = glt.ChainScenario(
        econ.latest.effective_from,
        (glt.Viewer("ann", "US", 30),),
        (glt.Creator("cat", "US", 30, True),),
        (),
    )

    class Remembered(glt.ConvertDiamonds):
        def run(self, run: glt.ChainRun) -> gl.Transaction:
            # A keyed request the rules refuse: its failure is remembered under the
            # key, in a KEY entry that moves nothing (as fail_withdrawal's on a
            # withdrawal already completed).
            wallet = run.book.account("viewers:ann:coins")
            other = next(
                a.name
                for a in run.book.accounts()
                if a.unit == wallet.unit and a.name != wallet.name
            )
            return run.book.transfer(wallet.name, other, 10**6, key="k")

    with glt.run_chain(econ, scenario) as run:
        head = run.book.head[0]
        step = run.apply(Remembered("cat"))
        assert isinstance(step.refused, gl.InsufficientFunds)
        (journaled,) = run.book.transactions(head + 1)
        assert (journaled.kind, journaled.meta["gl.key"]) == (gl.EntryKind.KEY, "k")
