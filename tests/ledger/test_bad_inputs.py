"""Acceptance 9: a catalogue of bad inputs.

Each raises a GiftLedgerError subclass whose message names the offending value,
and leaves the ledger exactly as it was: every balance, the journal and its
head hash, the trial balance and the holds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from moneyed import Money

import giftledger as gl

from .helpers import OPENED, fund, open_books, snapshot

ALICE = "viewers:alice:coins"
HOLD = OPENED + 3  # the hold _busy() places
ESCROW = "platform:escrow"
BANK = "assets:bank"
SALES = "revenue:sales"

Call = Callable[[gl.Ledger], object]


def _usd(book: gl.Ledger, amount: object) -> object:
    return book.transfer(BANK, SALES, amount)  # type: ignore[arg-type]


def _post(*specs: gl.PostingSpec) -> Call:
    return lambda b: b.post(list(specs))


def _rated(book: gl.Ledger, rates: object) -> object:
    """A valid post with ``rates`` stored on it."""
    return book.post([gl.debit(BANK, 1), gl.credit(SALES, 1)], rates=rates)  # type: ignore[arg-type]


class _NaiveClock:
    def now(self) -> datetime:
        return datetime(2026, 1, 1)  # no tzinfo: the point of the test


# (id, the call, the error, text the message must contain)
CATALOGUE: list[tuple[str, Call, type[gl.GiftLedgerError], str]] = [
    # -- amounts --------------------------------------------------------------------
    ("float", lambda b: _usd(b, 19.99), gl.FloatNotAllowed, "19.99"),
    ("float-nan", lambda b: _usd(b, float("nan")), gl.FloatNotAllowed, "nan"),
    ("float-inf", lambda b: _usd(b, float("inf")), gl.FloatNotAllowed, "inf"),
    ("float-minus-inf", lambda b: _usd(b, float("-inf")), gl.FloatNotAllowed, "-inf"),
    ("decimal-nan", lambda b: _usd(b, Decimal("NaN")), gl.InvalidAmount, "NaN"),
    ("decimal-infinity", lambda b: _usd(b, Decimal("Infinity")), gl.InvalidAmount, "Infinity"),
    ("text-infinity", lambda b: _usd(b, "-Infinity"), gl.InvalidAmount, "-Infinity"),
    ("text-nan", lambda b: _usd(b, "nan"), gl.InvalidAmount, "nan"),
    ("bool", lambda b: _usd(b, True), gl.FloatNotAllowed, "True"),
    ("excess-decimals", lambda b: _usd(b, "19.999"), gl.ExcessPrecision, "19.999"),
    ("excess-decimals-coin", lambda b: fund(b, ALICE, "1.5"), gl.ExcessPrecision, "1.5"),  # type: ignore[arg-type]
    ("ten-to-the-40", lambda b: _usd(b, 10**40), gl.AmountOutOfRange, str(10**40)),
    ("decimal-ten-to-the-40", lambda b: _usd(b, Decimal("1E+40")), gl.AmountOutOfRange, "1E+40"),
    ("not-a-number", lambda b: _usd(b, "12abc"), gl.InvalidAmount, "12abc"),
    ("none-amount", lambda b: _usd(b, None), gl.InvalidAmount, "None"),
    ("list-amount", lambda b: _usd(b, [5]), gl.InvalidAmount, "[5]"),
    ("zero", lambda b: _usd(b, 0), gl.InvalidTransaction, "0"),
    ("negative", lambda b: _usd(b, "-5.00"), gl.InvalidTransaction, "-5.00"),
    ("money-in-other-unit", lambda b: _usd(b, Money("5", "EUR")), gl.CurrencyMismatch, "EUR"),
    ("coin-money-to-usd", lambda b: _usd(b, Money(5, "COIN")), gl.CurrencyMismatch, "COIN"),
    # -- units ----------------------------------------------------------------------
    ("unknown-unit", lambda b: b.open_account("x:y", "XYZ"), gl.UnknownUnit, "XYZ"),
    ("unit-not-a-string", lambda b: b.open_account("x:y", 840), gl.UnknownUnit, "840"),  # type: ignore[arg-type]
    # -- postings -------------------------------------------------------------------
    ("empty-postings", lambda b: b.post([]), gl.InvalidTransaction, "0"),
    ("one-posting", _post(gl.debit(BANK, 5)), gl.InvalidTransaction, "1"),
    ("zero-postings", _post(gl.debit(BANK, 0), gl.credit(SALES, 0)), gl.InvalidTransaction, "0"),
    (
        "unbalanced",
        _post(gl.debit(BANK, "99.9"), gl.credit(SALES, "99.8")),
        gl.UnbalancedTransaction,
        "99.80",
    ),
    (
        "across-units",
        _post(gl.debit(ALICE, 5), gl.credit("creators:bob:diamonds", 5)),
        gl.UnbalancedTransaction,
        "COIN",
    ),
    ("postings-a-string", lambda b: b.post("debit bank 5"), gl.InvalidTransaction, "debit bank 5"),  # type: ignore[arg-type]
    (
        "posting-a-tuple",
        lambda b: b.post([(BANK, 5), (SALES, 5)]),  # type: ignore[list-item]
        gl.InvalidTransaction,
        "('assets:bank', 5)",
    ),
    ("postings-none", lambda b: b.post(None), gl.InvalidTransaction, "None"),  # type: ignore[arg-type]
    # -- accounts -------------------------------------------------------------------
    (
        "unknown-account",
        _post(gl.debit("nobody:home", 5), gl.credit(SALES, 5)),
        gl.UnknownAccount,
        "nobody:home",
    ),
    ("closed-account", lambda b: _closed(b), gl.AccountClosed, "old:account"),
    (
        "duplicate-account",
        lambda b: b.open_account(BANK, "EUR"),
        gl.AccountExists,
        BANK,
    ),
    (
        "duplicate-account-other-side",
        lambda b: b.open_account(BANK, "USD", normal="credit"),
        gl.AccountExists,
        BANK,
    ),
    ("transfer-across-units", lambda b: b.transfer(BANK, ALICE, 5), gl.CurrencyMismatch, ALICE),
    ("same-account", lambda b: b.transfer(BANK, BANK, 5), gl.InvalidTransaction, BANK),
    ("empty-name", lambda b: b.open_account("", "USD"), gl.InvalidArgument, "''"),
    ("empty-segment", lambda b: b.open_account("a::b", "USD"), gl.InvalidArgument, "a::b"),
    ("leading-space", lambda b: b.open_account(" a", "USD"), gl.InvalidArgument, "' a'"),
    ("control-char", lambda b: b.open_account("a\x00b", "USD"), gl.InvalidArgument, "\\x00"),
    ("lone-surrogate", lambda b: b.open_account("a\udc80", "USD"), gl.InvalidArgument, "\\udc80"),
    ("name-not-a-string", lambda b: b.open_account(42, "USD"), gl.InvalidArgument, "42"),  # type: ignore[arg-type]
    (
        "bad-normal-side",
        lambda b: b.open_account("x", "USD", normal="up"),
        gl.InvalidArgument,
        "up",
    ),  # type: ignore[arg-type]
    (
        "bad-overdraft",
        lambda b: b.open_account("x", "USD", overdraft=1.5),  # type: ignore[arg-type]
        gl.FloatNotAllowed,
        "1.5",
    ),
    ("close-with-balance", lambda b: b.close_account(ALICE), gl.InvalidArgument, ALICE),
    ("close-unknown", lambda b: b.close_account("nobody"), gl.UnknownAccount, "nobody"),
    # -- rules ----------------------------------------------------------------------
    (
        "insufficient-funds",
        lambda b: b.transfer(ALICE, ESCROW, 1001),
        gl.InsufficientFunds,
        ALICE,
    ),
    ("hold-beyond-available", lambda b: b.hold(ALICE, ESCROW, 901), gl.InsufficientFunds, ALICE),
    # -- options --------------------------------------------------------------------
    (
        "naive-effective-at",
        lambda b: b.transfer(BANK, SALES, 1, effective_at=datetime(2026, 1, 1)),
        gl.InvalidArgument,
        "2026-01-01T00:00:00",
    ),
    (
        "effective-at-text",
        lambda b: b.transfer(BANK, SALES, 1, effective_at="yesterday"),  # type: ignore[arg-type]
        gl.InvalidArgument,
        "yesterday",
    ),
    (
        "float-metadata",
        lambda b: b.transfer(BANK, SALES, 1, metadata={"fx": 1.08}),  # type: ignore[dict-item]
        gl.InvalidArgument,
        "1.08",
    ),
    (
        "metadata-key-not-text",
        lambda b: b.transfer(BANK, SALES, 1, metadata={7: "x"}),  # type: ignore[dict-item]
        gl.InvalidArgument,
        "7",
    ),
    ("key-not-text", lambda b: b.transfer(BANK, SALES, 1, key=123), gl.InvalidArgument, "123"),  # type: ignore[arg-type]
    ("key-empty", lambda b: b.transfer(BANK, SALES, 1, key=""), gl.InvalidArgument, "''"),
    (
        "key-too-long",
        lambda b: b.transfer(BANK, SALES, 1, key="k" * 300),
        gl.InvalidArgument,
        "k" * 300,
    ),
    ("memo-not-text", lambda b: b.transfer(BANK, SALES, 1, memo=5), gl.InvalidArgument, "5"),  # type: ignore[arg-type]
    (
        "memo-surrogate",
        lambda b: b.transfer(BANK, SALES, 1, memo="\ud800"),
        gl.InvalidArgument,
        "\\ud800",
    ),
    (
        "float-rate",
        lambda b: b.convert("creators:bob:diamonds", "creators:bob:cash", 5, rate=0.005),  # type: ignore[arg-type]
        gl.FloatNotAllowed,
        "0.005",
    ),
    (
        "absurd-rate",
        lambda b: b.convert(
            "creators:bob:diamonds", "creators:bob:cash", 5, rate=Decimal("1E+999999999")
        ),
        gl.InvalidAmount,
        "1E+999999999",
    ),
    (
        "huge-exponent-amount",
        lambda b: _usd(b, Decimal("1E+999999999")),
        gl.AmountOutOfRange,
        "1E+999999999",
    ),
    (
        "zero-rate",
        lambda b: b.convert("creators:bob:diamonds", "creators:bob:cash", 5, rate="0"),
        gl.InvalidArgument,
        "'0'",
    ),
    (
        "convert-within-one-unit",
        lambda b: b.convert(BANK, SALES, 5, rate="1"),
        gl.InvalidArgument,
        "USD",
    ),
    (
        "negative-timeout",
        lambda b: b.hold(ALICE, ESCROW, 1, timeout=timedelta(hours=-1)),
        gl.InvalidArgument,
        repr(timedelta(hours=-1)),
    ),
    ("unknown-hold", lambda b: b.post_hold(999), gl.UnknownHold, "999"),
    ("hold-id-text", lambda b: b.void_hold("3"), gl.UnknownHold, "'3'"),  # type: ignore[arg-type]
    ("post-more-than-held", lambda b: b.post_hold(HOLD, 101), gl.InvalidTransaction, "101"),
    ("unknown-transaction", lambda b: b.reverse(999), gl.UnknownTransaction, "999"),
    ("reverse-a-hold", lambda b: b.reverse(HOLD), gl.NotReversible, str(HOLD)),
    ("history-limit", lambda b: b.history(BANK, limit=0), gl.InvalidArgument, "0"),
    ("history-cursor-text", lambda b: b.history(BANK, after="2"), gl.InvalidArgument, "'2'"),  # type: ignore[arg-type]
    ("transaction-id-none", lambda b: b.transaction(None), gl.UnknownTransaction, "None"),  # type: ignore[arg-type]
    ("prefix-none", lambda b: b.balances(None), gl.InvalidArgument, "None"),  # type: ignore[arg-type]
    ("accounts-prefix-none", lambda b: b.accounts(None), gl.InvalidArgument, "None"),  # type: ignore[arg-type]
    (
        "bad-locale",
        lambda b: gl.format_money(b.balance(BANK), "xx_YY"),
        gl.InvalidArgument,
        "xx_YY",
    ),
    (
        "balance-naive-at",
        lambda b: b.balance(BANK, at=datetime(2026, 1, 1)),
        gl.InvalidArgument,
        "2026-01-01",
    ),
    # -- found by a review of the foundation ------------------------------------------
    (
        "posting-minor-ten-to-the-40",
        lambda b: b.post(
            [
                gl.Posting(BANK, gl.Side.DEBIT, 10**40, "USD"),
                gl.Posting(SALES, gl.Side.CREDIT, 10**40, "USD"),
            ]
        ),
        gl.AmountOutOfRange,
        str(10**40),
    ),
    (
        "convert-beyond-range",
        lambda b: b.convert(ALICE, "creators:bob:cash", 1000, rate=10**18),
        gl.AmountOutOfRange,
        "1000 COIN",
    ),
    ("rate-float", lambda b: _rated(b, [gl.Rate("USD", "EUR", 0.9)]), gl.FloatNotAllowed, "0.9"),
    (
        "rate-code-not-a-unit",
        lambda b: _rated(b, [gl.Rate("COIN", "USD=1/100,USD/EUR", 1)]),
        gl.InvalidArgument,
        "USD=1/100,USD/EUR",
    ),
    ("rate-zero", lambda b: _rated(b, [gl.Rate("USD", "EUR", 0)]), gl.InvalidArgument, "0"),
    ("rates-not-a-list", lambda b: _rated(b, 5), gl.InvalidArgument, "5"),
    (
        "account-name-a-list",
        _post(gl.debit([BANK], 1), gl.credit(SALES, 1)),  # type: ignore[arg-type]
        gl.InvalidTransaction,
        "['assets:bank']",
    ),
    (
        "balance-rule-float",
        lambda b: b.open_account("assets:new", "USD", rule=gl.BalanceRule(0.5)),  # type: ignore[arg-type]
        gl.InvalidArgument,
        "0.5",
    ),
    ("account-a-list", lambda b: b.account([BANK]), gl.UnknownAccount, "['assets:bank']"),  # type: ignore[arg-type]
    ("close-a-list", lambda b: b.close_account([BANK]), gl.UnknownAccount, "['assets:bank']"),  # type: ignore[arg-type]
    (
        "transfer-from-a-list",
        lambda b: b.transfer([BANK], SALES, 1),
        gl.UnknownAccount,
        "['assets:bank']",
    ),  # type: ignore[arg-type]
    ("clock-advance-int", lambda b: gl.ManualClock().advance(5), gl.InvalidArgument, "5"),  # type: ignore[arg-type]
    (
        "clock-without-timezone",
        lambda b: gl.Ledger(b.store, clock=_NaiveClock()).transfer(BANK, SALES, 1),
        gl.InvalidArgument,
        "2026-01-01",
    ),
]


def _closed(book: gl.Ledger) -> object:
    return book.post([gl.debit("old:account", 1), gl.credit(SALES, 1)])


def _busy(book: gl.Ledger, clock: gl.ManualClock) -> gl.Ledger:
    """A ledger with balances, a pending hold, a keyed entry and a closed account."""
    books = open_books(book)
    fund(books, ALICE, 1000)  # OPENED + 1
    books.transfer(BANK, SALES, "10.00", key="sale-1")  # OPENED + 2
    assert books.hold(ALICE, ESCROW, 100).id == HOLD
    books.open_account("old:account", "USD")
    books.close_account("old:account")
    books.transfer("platform:diamond-supply", "creators:bob:diamonds", 50)  # 4
    clock.advance(timedelta(hours=1))
    return books


def test_the_catalogue_has_at_least_25_distinct_bad_inputs() -> None:
    assert len({case[0] for case in CATALOGUE}) == len(CATALOGUE) >= 25


@pytest.mark.parametrize(
    ("call", "error", "shown"), [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE]
)
def test_a_bad_input_raises_naming_the_value_and_changes_nothing(
    book: gl.Ledger, clock: gl.ManualClock, call: Call, error: type[gl.GiftLedgerError], shown: str
) -> None:
    busy = _busy(book, clock)
    before = snapshot(busy)
    with pytest.raises(error) as info:
        call(busy)
    assert isinstance(info.value, gl.GiftLedgerError)
    assert shown in str(info.value), str(info.value)
    assert snapshot(busy) == before
    assert busy.verify() == OPENED + 6  # and old:account opened and closed


@pytest.mark.parametrize(
    ("call", "error", "shown"), [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE]
)
def test_a_bad_input_fails_the_same_way_twice(
    book: gl.Ledger, clock: gl.ManualClock, call: Call, error: type[gl.GiftLedgerError], shown: str
) -> None:
    busy = _busy(book, clock)
    # The same input a second time fails the same way: the first failure left no trace
    # that could change the outcome.
    before = snapshot(busy)
    for _ in range(2):
        with pytest.raises(error):
            call(busy)
    assert snapshot(busy) == before
