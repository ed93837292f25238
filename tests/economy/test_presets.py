"""Every shipped preset loads, validates, and can say where each of its numbers came from."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

import giftledger as gl

PRESETS = [p.name for p in gl.presets.list()]


def _variants() -> list[tuple[str, dict[str, str]]]:
    cases = []
    for info in gl.presets.list():
        cases.append((info.name, {}))
        for axis, options in info.variants.items():
            cases.extend((info.name, {axis: option}) for option in options)
    return cases


@pytest.mark.parametrize(("name", "variant"), _variants())
def test_every_preset_and_variant_loads_with_a_source_for_every_figure(
    name: str, variant: dict[str, str]
) -> None:
    econ = gl.presets.load(name, **variant)
    assert econ.name == name
    assert econ.missing_sources() == ()
    for figure in econ.figures():
        assert figure.source is not None
        assert figure.source.citation
        assert econ.source_of(figure.path) == figure.source


def test_tiktok_default_is_model_a_and_the_70_coin_ladder() -> None:
    econ = gl.presets.load("tiktok-live")
    assert econ.variant == {
        "ladder": "70-coin-2021",
        "model": "A",
        "web_fee": "3pct",
        "withdrawal": "kb-2019",
    }
    pay = econ.latest.creator_pay
    assert pay.model is gl.PayoutModel.DIAMOND_VALUE
    assert pay.creator_units_per_coin == 1
    assert str(pay.value_per_unit) == "1/200"
    assert econ.pack(1400, "ios").price == econ.pack(1400, "android").price
    assert str(econ.pack(1400, "ios").price.amount) == "19.99"


def test_tiktok_variants_select_ladder_and_model() -> None:
    econ = gl.presets.load("tiktok-live", model="B", ladder="65-coin-2023")
    assert econ.latest.creator_pay.creator_units_per_coin == Fraction(1, 2)
    assert str(econ.pack(1321, "ios").price.amount) == "19.99"
    with pytest.raises(gl.UnknownRule, match="1400"):
        econ.pack(1400, "ios")
    assert econ.pack(1400, "web").price.amount == Decimal("14.80")  # the web ladder stays


def test_unknown_preset_variant_or_option_names_what_exists() -> None:
    with pytest.raises(gl.UnknownRule, match="tiktok-live"):
        gl.presets.load("tiktok")
    with pytest.raises(gl.UnknownRule, match="model"):
        gl.presets.load("tiktok-live", modle="A")
    with pytest.raises(gl.UnknownRule, match="A, B, D"):
        gl.presets.load("tiktok-live", model="C")


def test_tiktok_withdrawal_2019_is_official() -> None:
    econ = gl.presets.load("tiktok-live")
    rules = econ.rules_at(datetime(2019, 3, 1, tzinfo=UTC))
    assert str(rules.withdrawal.minimum.amount) == "100"
    source = econ.source_of("versions[0].withdrawal.minimum")
    assert source.confidence is gl.Confidence.OFFICIAL
    assert "withdrawal-instructions" in source.citation
