"""Acceptance 2: what the kit's strategies draw is what they promise.

Every amount has its unit's exponent of fraction digits; every transaction
balances; every economy validates (and runs the chain); each broken economy is
refused with a GiftLedgerError naming the field at fault.
"""

from __future__ import annotations

from fractions import Fraction

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt
from giftledger._testing.rules import MISTAKES

RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _exact(m: Money) -> None:
    unit = gl.get_unit(m.currency.code)
    assert m.amount.as_tuple().exponent == -unit.exponent, m


@given(st.one_of(glt.money(), glt.amounts("JPY"), glt.amounts("KWD"), st.from_type(Money)))
def test_every_drawn_amount_has_its_units_exponent(m: Money) -> None:
    _exact(m)


def test_the_edges_come_up() -> None:
    seen: set[int] = set()

    @settings(max_examples=300, database=None)
    @given(glt.minor_amounts(min_value=-5, max_value=gl.MAX_MINOR))
    def draw(minor: int) -> None:
        seen.add(minor)

    draw()
    assert {0, 1, -1, -5, gl.MAX_MINOR} <= seen


@RELAXED
@given(glt.economies())
def test_every_figure_of_a_drawn_economy_is_exact_and_the_economy_validates(
    econ: gl.Economy,
) -> None:
    for figure in econ.figures():
        if isinstance(figure.value, Money):
            _exact(figure.value)
    for version in econ.versions:
        for gift in version.gifts:
            for r in gift.amounts:
                _exact(r.minimum)
                _exact(r.maximum)
    # Built again from its parts, every check runs again and passes.
    again = attrs.evolve(econ, versions=tuple(attrs.evolve(v) for v in econ.versions))
    assert again == econ
    book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from))
    gl.GiftEconomy(book, econ)  # the chain accepts it


@given(glt.gift_catalogs(currencies=("USD", "JPY", "KWD")), glt.coin_ladders())
def test_catalogs_and_ladders_are_exact(
    gifts: tuple[gl.Gift, ...], packs: tuple[gl.CoinPack, ...]
) -> None:
    assert len({g.name for g in gifts}) == len(gifts)
    for g in gifts:
        for r in g.amounts:
            _exact(r.minimum)
            _exact(r.maximum)
    for p in packs:
        _exact(p.price)


@given(st.one_of(glt.transactions(), st.from_type(gl.Transaction)))
def test_every_drawn_transaction_balances(tx: gl.Transaction) -> None:
    for unit in {p.unit for p in tx.postings}:
        assert sum(p.signed for p in tx.postings if p.unit == unit) == 0


@settings(max_examples=25, deadline=None)
@given(glt.ledgers(unit_codes=("USD", "JPY", "COIN")))
def test_every_drawn_ledger_conserves_every_unit(book: gl.Ledger) -> None:
    glt.check_conservation(book)
    glt.check_no_forbidden_negative(book)


@given(glt.split_specs())
def test_split_specs_split_without_losing_a_unit(spec: tuple[int, list[gl.Portion]]) -> None:
    total, portions = spec
    glt.check_split(total, gl.split(total, portions))


@RELAXED
@given(glt.economies(invalid=True))
def test_each_broken_economy_is_refused_with_a_giftledger_error(
    broken: glt.BrokenEconomy,
) -> None:
    with pytest.raises(gl.GiftLedgerError) as info:
        broken.build()
    assert isinstance(info.value, gl.InvalidEconomy)
    assert broken.mentions in str(info.value), (broken.mistake, str(info.value))


@pytest.mark.parametrize(("mistake", "mentions", "make"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_every_mistake_is_refused_in_any_valid_economy(
    mistake: str, mentions: str, make: object
) -> None:
    @settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(glt.economies())
    def check(econ: gl.Economy) -> None:
        with pytest.raises(gl.InvalidEconomy, match=mentions):
            make(econ)  # type: ignore[operator]

    check()


@given(glt.rate_tables())
def test_rate_tables_have_every_pair_and_no_round_trip_gains(table: gl.RateTable) -> None:
    at = glt.ECONOMY_START
    codes = ("USD", "EUR", "GBP", "JPY")
    for a in codes:
        for b in codes:
            if a != b:
                assert table.rate(a, b, at) * table.rate(b, a, at) == 1
                assert isinstance(table.rate(a, b, at), Fraction)  # exact, never a float


@given(glt.rate_tables(currencies=("USD", "GBP", "JPY", "KWD")))
def test_drawn_rates_stay_near_real_ones(table: gl.RateTable) -> None:
    # A pound is worth about 1.27 dollars, within 20% either way: a rate a thousand
    # times off would make a UK coin ladder a money machine.
    at = glt.ECONOMY_START
    for code in ("GBP", "JPY", "KWD"):
        rough = glt.ROUGH_USD_VALUES[code]
        assert rough * Fraction(4, 5) <= table.rate(code, "USD", at) <= rough * Fraction(6, 5)
