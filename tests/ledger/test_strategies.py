"""The public strategies of giftledger.testing draw what they promise."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

import giftledger as gl
import giftledger.testing as glt
from giftledger._ledger.model import check_account_name

ACCOUNTS = {"a:usd": "USD", "b:usd": "USD", "c:usd": "USD", "a:coin": "COIN", "b:coin": "COIN"}


@given(glt.account_names())
def test_every_drawn_name_is_a_valid_account_name(name: str) -> None:
    assert check_account_name(name) == name
    assert name.encode("utf-8")


def test_nasty_segments_are_valid_names_on_their_own_and_joined() -> None:
    for segment in glt.NASTY_SEGMENTS:
        assert check_account_name(segment) == segment
    assert check_account_name(":".join(glt.NASTY_SEGMENTS))


@given(glt.balanced_postings(ACCOUNTS))
def test_balanced_postings_balance_in_every_unit(specs: list[gl.PostingSpec]) -> None:
    sums: dict[str, int] = {}
    for spec in specs:
        unit = ACCOUNTS[spec.account]
        minor = gl.to_minor(spec.amount, unit)
        assert minor > 0
        sums[unit] = sums.get(unit, 0) + spec.side.sign * minor
    assert set(sums.values()) == {0}
    assert len(specs) >= 2


@given(glt.balanced_postings(ACCOUNTS))
def test_no_account_is_both_debited_and_credited(specs: list[gl.PostingSpec]) -> None:
    sides: dict[str, set[gl.Side]] = {}
    for spec in specs:
        sides.setdefault(spec.account, set()).add(spec.side)
    assert all(len(s) == 1 for s in sides.values())


@settings(max_examples=50)
@given(glt.balanced_postings(ACCOUNTS))
def test_balanced_postings_post_between_unrestricted_accounts(
    specs: list[gl.PostingSpec],
) -> None:
    book = gl.Ledger(clock=gl.ManualClock())
    for name, unit in ACCOUNTS.items():
        book.open_account(name, unit, rule=gl.BalanceRule.unrestricted())
    tx = book.post(specs)
    assert len(tx.postings) == len(specs)
    assert book.trial_balance().is_balanced


@given(glt.postings(ACCOUNTS, max_size=5))
def test_postings_draw_specs_over_the_given_accounts(specs: list[gl.PostingSpec]) -> None:
    assert len(specs) <= 5
    assert all(spec.account in ACCOUNTS for spec in specs)


def test_strategies_refuse_accounts_they_cannot_use() -> None:
    with pytest.raises(gl.InvalidArgument, match="two accounts"):
        glt.balanced_postings({"a": "USD", "b": "COIN"})
    with pytest.raises(gl.InvalidArgument, match="at least one account"):
        glt.postings({})


@settings(max_examples=25, deadline=None)
@given(glt.ledgers(unit_codes=("JPY", "KWD", "STAR")))
def test_ledgers_open_world_accounts_in_every_unit_and_verify(book: gl.Ledger) -> None:
    assert {a.unit for a in book.accounts("world:")} == {"JPY", "KWD", "STAR"}
    assert isinstance(book.clock, gl.ManualClock)
    assert book.verify() == book.head[0]
    for account in book.accounts():
        if not account.name.startswith("world:"):
            assert book.available(account.name).amount >= 0


@given(glt.amounts("JPY", min_value=-5, max_value=5))
def test_amounts_respect_their_bounds(money: Money) -> None:
    assert isinstance(money, Money)
    assert money.currency.code == "JPY"
    minor = gl.to_minor(money, "JPY")
    assert -5 <= minor <= 5


@given(glt.ratios(min_size=2, max_size=4))
def test_ratios_are_exact_non_negative_and_not_all_zero(
    ratios: list[int | Decimal | Fraction],
) -> None:
    assert 2 <= len(ratios) <= 4
    assert all(not isinstance(r, float) and r >= 0 for r in ratios)
    assert any(ratios)


@given(glt.rates(), st.sampled_from(glt.FIAT_CODES))
def test_rates_are_positive_fractions(rate: Fraction, code: str) -> None:
    assert isinstance(rate, Fraction)
    assert rate > 0
    assert gl.get_unit(code).kind is gl.UnitKind.FIAT
