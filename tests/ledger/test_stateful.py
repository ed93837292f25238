"""Acceptance 1: random sequences of every ledger operation match a reference model."""

from __future__ import annotations

from hypothesis.stateful import run_state_machine_as_test

import giftledger as gl

from .machine import machine_settings, make_ledger_machine

MemoryLedgerMachine = make_ledger_machine(lambda clock: gl.Ledger(gl.MemoryStore(), clock=clock))


def test_memory_ledger_matches_reference_model_after_every_step() -> None:
    run_state_machine_as_test(MemoryLedgerMachine, settings=machine_settings())
