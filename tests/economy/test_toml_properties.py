"""Property tests: any valid economy survives TOML, and rules_at picks the right version."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from giftledger import Economy
from giftledger.testing import ECONOMY_START as START
from giftledger.testing import economies


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(economies())
def test_any_economy_round_trips_through_toml(econ: Economy) -> None:
    text = econ.to_toml()
    again = Economy.from_toml(text)
    assert again == econ
    assert again.to_toml() == text


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(economies(), st.integers(-10, 2 * 10**6))
def test_rules_at_is_the_last_version_started(econ: Economy, minutes: int) -> None:
    when = START + timedelta(minutes=minutes)
    started = [v for v in econ.versions if v.effective_from <= when]
    if not started:
        return
    assert econ.rules_at(when) is started[-1]
