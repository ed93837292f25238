"""Shared fixtures: the virtual units most tests use, a manual clock, a fresh ledger."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import giftledger as gl

gl.register_unit("COIN", 0, singular="coin")
gl.register_unit("DIAMOND", 0, singular="diamond")


@pytest.fixture
def clock() -> gl.ManualClock:
    return gl.ManualClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def book(clock: gl.ManualClock) -> gl.Ledger:
    return gl.Ledger(clock=clock)
