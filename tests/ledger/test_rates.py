"""Rates stored on entries are exact fractions between two unit codes."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

import giftledger as gl

from .helpers import snapshot


@pytest.mark.parametrize("value", [Fraction(9, 10), Decimal("0.9"), "0.9", "9/10", "90%"])
def test_a_rate_keeps_any_exact_spelling_as_the_same_fraction(value: object) -> None:
    rate = gl.Rate("USD", "EUR", value)  # type: ignore[arg-type]
    assert rate.value == Fraction(9, 10)
    assert type(rate.value) is Fraction
    assert rate == gl.Rate("USD", "EUR", Fraction(9, 10))
    assert str(rate) == "USD/EUR=9/10"


def test_a_dry_run_with_a_decimal_rate_changes_nothing(book: gl.Ledger) -> None:
    book.open_account("assets:mint", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("income:a", "USD", normal="credit")
    head = book.transfer("assets:mint", "income:a", 1).id
    before = snapshot(book)
    request = gl.TransactionRequest(
        [gl.debit("assets:mint", 1), gl.credit("income:a", 1)],
        rates=[gl.Rate("USD", "EUR", Decimal("0.9"))],
    )
    (would,) = book.post_many([request], dry_run=True)
    assert would.rates == (gl.Rate("USD", "EUR", Fraction(9, 10)),)
    assert snapshot(book) == before
    assert book.verify() == head
    (posted,) = book.post_many([request])
    assert book.transaction(posted.id).rates == would.rates
    assert posted.hash == would.hash


def test_a_stored_rate_reads_back_unchecked_but_only_a_valid_one_can_be_posted(
    book: gl.Ledger,
) -> None:
    # Stores rebuild rates with the constructor: an entry written before the codes
    # were checked must still read back and verify, so construction does not check.
    odd = gl.Rate("usd", "EUR", 0)
    assert odd.value == 0
    book.open_account("assets:mint", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("income:a", "USD", normal="credit")
    before = snapshot(book)
    with pytest.raises(gl.InvalidArgument, match="'usd'"):
        book.post([gl.debit("assets:mint", 1), gl.credit("income:a", 1)], rates=[odd])
    assert snapshot(book) == before
