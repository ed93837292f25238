"""Shared fixtures: the virtual units most tests use, a manual clock, a fresh ledger."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings

import giftledger as gl

# The suite runs on 2 shared cores, often beside other work: a slow example is not a
# failure. Tests that set their own settings keep them; this only changes the defaults
# (the doctests' examples included).
settings.register_profile("giftledger", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("giftledger")

gl.register_unit("COIN", 0, singular="coin")
gl.register_unit("DIAMOND", 0, singular="diamond")


@pytest.fixture
def clock() -> gl.ManualClock:
    return gl.ManualClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def book(clock: gl.ManualClock) -> gl.Ledger:
    return gl.Ledger(clock=clock)
