"""ChainMachine: random operations on an economy and a store, every invariant after
every step; a TestCase pytest collects; your own checks and rules on top."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import invariant, run_state_machine_as_test

import giftledger as gl
import giftledger.testing as glt

QUICK = settings(
    max_examples=10,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=glt.FAST_PHASES,
)

# Collected by pytest as a unittest TestCase, as a user's test module would have it.
TestTwitchBits = glt.ChainMachine.for_economy(
    gl.presets.load("twitch-bits"), settings=QUICK
).TestCase


@pytest.mark.parametrize("preset", [p.name for p in gl.presets.list()])
def test_the_machine_runs_every_preset(preset: str) -> None:
    machine = glt.ChainMachine.for_economy(gl.presets.load(preset))
    run_state_machine_as_test(machine, settings=settings(QUICK, max_examples=15))


def test_the_machine_runs_on_every_store(kit_store: str) -> None:
    econ = gl.presets.load("youtube-super-chat")
    machine = glt.ChainMachine.for_economy(econ, store=kit_store)
    budget = 10 if kit_store == "memory:" else 4
    run_state_machine_as_test(machine, settings=settings(QUICK, max_examples=budget))


def test_the_machine_runs_drawn_economies_in_several_currencies() -> None:
    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
    @given(glt.economies(currencies=("USD", "EUR", "JPY")))
    def run(econ: gl.Economy) -> None:
        run_state_machine_as_test(glt.ChainMachine.for_economy(econ), settings=QUICK)

    run()


def test_a_store_callable_opens_each_runs_ledger() -> None:
    opened: list[gl.Ledger] = []

    def open_book(clock: gl.Clock) -> gl.Ledger:
        opened.append(gl.Ledger(clock=clock))
        return opened[-1]

    machine = glt.ChainMachine.for_economy(gl.presets.load("bigo-live"), store=open_book)
    run_state_machine_as_test(machine, settings=settings(QUICK, max_examples=3))
    assert len(opened) >= 3


def test_your_own_checks_run_after_every_step_and_fail_with_the_operations() -> None:
    def the_platform_keeps_everything(app: gl.GiftEconomy) -> None:
        glt.check_creator_share(app, at_most=0)

    machine = glt.ChainMachine.for_economy(
        gl.presets.load("twitch-bits"), checks=[the_platform_keeps_everything]
    )
    with pytest.raises(glt.ChainCheckFailed) as info:
        run_state_machine_as_test(
            machine,
            settings=settings(
                QUICK,
                max_examples=100,
                stateful_step_count=6,
                database=None,
                derandomize=True,
                report_multiple_bugs=False,
            ),
        )
    failure = info.value
    assert failure.check == "the_platform_keeps_everything"
    # Shrunk to a purchase and one gift.
    assert [type(op) for op in failure.operations] == [glt.BuyCoins, glt.SendGift]


class CreatorsNeverOweTheBank(glt.ChainMachine):
    """A subclass with an economy of its own and an invariant of its own."""

    economy = gl.presets.load("tiktok-live", model="B")

    @invariant()
    def no_creator_is_in_the_red(self) -> None:
        if self.run is not None:
            for name, cash in self.run.book.balances("creators:").items():
                assert cash.amount >= 0, name


def test_a_subclass_adds_its_own_invariants() -> None:
    run_state_machine_as_test(CreatorsNeverOweTheBank, settings=QUICK)


def test_the_machine_needs_an_economy() -> None:
    with pytest.raises(gl.InvalidArgument, match="for_economy"):
        glt.ChainMachine()


def test_creator_share_at_most_one_holds_for_every_preset_machine() -> None:
    for p in gl.presets.list():
        machine = glt.ChainMachine.for_economy(
            gl.presets.load(p.name), checks=[lambda app: glt.check_creator_share(app, at_most=1)]
        )
        run_state_machine_as_test(machine, settings=settings(QUICK, max_examples=5))


def test_the_machine_opens_one_to_six_of_each_party() -> None:
    with pytest.raises(gl.InvalidArgument, match="1 to 6"):
        glt.ChainMachine.for_economy(gl.presets.load("twitch-bits"), viewers=7)
