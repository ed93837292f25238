from __future__ import annotations

import pytest
from hypothesis import given
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt


@pytest.mark.parametrize(("code", "exponent"), [("USD", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3)])
def test_fiat_units_take_their_exponent_from_iso_4217(code: str, exponent: int) -> None:
    unit = gl.get_unit(code)
    assert (unit.code, unit.exponent, unit.kind) == (code, exponent, gl.UnitKind.FIAT)
    assert unit.scale == 10**exponent


def test_register_unit_is_idempotent() -> None:
    first = gl.register_unit("TESTSTAR", 0, singular="star")
    again = gl.register_unit("TESTSTAR", 0, singular="ignored the second time")
    assert again is first
    assert first.kind is gl.UnitKind.VIRTUAL
    assert (first.singular, first.plural) == ("star", "stars")
    assert gl.get_unit("TESTSTAR") is first
    assert Money(3, "TESTSTAR").currency.code == "TESTSTAR"


def test_registering_a_code_again_with_another_exponent_is_a_unit_conflict() -> None:
    gl.register_unit("TESTBEAN", 0)
    with pytest.raises(gl.UnitConflict, match="TESTBEAN"):
        gl.register_unit("TESTBEAN", 2)
    assert gl.get_unit("TESTBEAN").exponent == 0


@pytest.mark.parametrize("code", ["USD", "JPY", "KWD"])
def test_an_iso_code_cannot_be_registered_as_virtual(code: str) -> None:
    with pytest.raises(gl.UnitConflict, match=code):
        gl.register_unit(code, gl.get_unit(code).exponent)
    assert gl.get_unit(code).kind is gl.UnitKind.FIAT


@pytest.mark.parametrize(
    ("code", "exponent"),
    [("coin", 0), ("C", 0), ("CO IN", 0), ("", 0), ("X" * 17, 0), ("TESTOK", -1), ("TESTOK", 19)],
)
def test_malformed_codes_and_exponents_are_refused(code: str, exponent: int) -> None:
    with pytest.raises(gl.InvalidArgument, match="unit"):
        gl.register_unit(code, exponent)


def test_unknown_units_are_a_lookup_error_naming_the_code() -> None:
    with pytest.raises(gl.UnknownUnit, match="'NOPE'") as info:
        gl.get_unit("NOPE")
    assert isinstance(info.value, LookupError)


def test_unit_conflict_is_a_value_error() -> None:
    assert issubclass(gl.UnitConflict, ValueError)
    assert issubclass(gl.UnitConflict, gl.GiftLedgerError)


@given(glt.units())
def test_every_drawn_unit_is_registered_and_round_trips(unit: gl.Unit) -> None:
    assert gl.get_unit(unit.code) == unit
    assert str(unit) == unit.code


@pytest.mark.parametrize("code", [["USD"], {"USD": 1}, {"USD"}, 5, None])
def test_a_code_that_is_not_a_string_is_an_unknown_unit_naming_it(code: object) -> None:
    with pytest.raises(gl.UnknownUnit) as info:
        gl.get_unit(code)  # type: ignore[arg-type]
    assert repr(code) in str(info.value)
    with pytest.raises(gl.UnknownUnit):
        gl.from_minor(5, code)  # type: ignore[arg-type]
    with pytest.raises(gl.UnknownUnit):
        gl.to_minor(5, code)  # type: ignore[arg-type]
