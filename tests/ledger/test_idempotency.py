"""Acceptance 5: the idempotency matrix, for every writing operation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from moneyed import Money

import giftledger as gl
from giftledger._ledger.idempotency import _fingerprint

from .helpers import OPENED, fund, only_a_failure_journaled, open_books, snapshot

ALICE = "viewers:alice:coins"
ESCROW = "platform:escrow"

Call = Callable[[gl.Ledger, str], object]
HOLD = OPENED + 3  # the id of the hold _prepare() places


def _prepare(book: gl.Ledger) -> None:
    fund(book, ALICE, 1000)
    book.transfer("platform:diamond-supply", "creators:bob:diamonds", 1000)
    assert book.hold(ALICE, ESCROW, 10).id == HOLD


# Each operation: (name, the call under a key, the same call with other content).
OPERATIONS: list[tuple[str, Call, Call]] = [
    (
        "post",
        lambda b, k: b.post([gl.debit(ALICE, 10), gl.credit(ESCROW, 10)], key=k),
        lambda b, k: b.post([gl.debit(ALICE, 11), gl.credit(ESCROW, 11)], key=k),
    ),
    (
        "transfer",
        lambda b, k: b.transfer(ALICE, ESCROW, 10, key=k, memo="gift"),
        lambda b, k: b.transfer(ALICE, ESCROW, 10, key=k, memo="another gift"),
    ),
    (
        "convert",
        lambda b, k: b.convert(
            "creators:bob:diamonds", "creators:bob:cash", 200, rate="0.005", key=k
        ),
        lambda b, k: b.convert(
            "creators:bob:diamonds", "creators:bob:cash", 200, rate="0.006", key=k
        ),
    ),
    (
        "hold",
        lambda b, k: b.hold(ALICE, ESCROW, 10, key=k),
        lambda b, k: b.hold(ALICE, ESCROW, 12, key=k),
    ),
    (
        "post_hold",
        lambda b, k: b.post_hold(HOLD, 5, key=k),
        lambda b, k: b.post_hold(HOLD, 6, key=k),
    ),
    (
        "void_hold",
        lambda b, k: b.void_hold(HOLD, key=k),
        lambda b, k: b.void_hold(HOLD, key=k, memo="changed"),
    ),
    (
        "reverse",
        lambda b, k: b.reverse(OPENED + 2, key=k),
        lambda b, k: b.reverse(2, key=k, memo="changed"),
    ),
]
IDS = [op[0] for op in OPERATIONS]


def _prepared(book: gl.Ledger) -> gl.Ledger:
    books = open_books(book)
    _prepare(books)
    return books


@pytest.mark.parametrize(("name", "call", "other"), OPERATIONS, ids=IDS)
def test_same_key_and_content_returns_the_original_and_changes_nothing(
    book: gl.Ledger, name: str, call: Call, other: Call
) -> None:
    prepared = _prepared(book)
    first = call(prepared, "key-1")
    after_first = snapshot(prepared)
    again = call(prepared, "key-1")
    assert again == first
    assert snapshot(prepared) == after_first


@pytest.mark.parametrize(("name", "call", "other"), OPERATIONS, ids=IDS)
def test_same_key_with_other_content_is_a_duplicate_key_conflict(
    book: gl.Ledger, name: str, call: Call, other: Call
) -> None:
    prepared = _prepared(book)
    call(prepared, "key-1")
    before = snapshot(prepared)
    with pytest.raises(gl.DuplicateKeyConflict, match="key-1"):
        other(prepared, "key-1")
    assert snapshot(prepared) == before


def test_a_key_is_shared_across_operations(book: gl.Ledger) -> None:
    prepared = _prepared(book)
    prepared.hold(ALICE, ESCROW, 10, key="order-1")
    before = snapshot(prepared)
    with pytest.raises(gl.DuplicateKeyConflict, match="order-1"):
        prepared.transfer(ALICE, ESCROW, 10, key="order-1")
    assert snapshot(prepared) == before


def test_a_key_whose_first_attempt_failed_fails_the_same_way_again(book: gl.Ledger) -> None:
    books = open_books(book)
    fund(books, ALICE, 5)
    before = snapshot(books)
    with pytest.raises(gl.InsufficientFunds) as first:
        books.transfer(ALICE, ESCROW, 10, key="gift-1")
    assert only_a_failure_journaled(before, snapshot(books), "gift-1")
    fund(books, ALICE, 100)  # now it would succeed without the key...
    before = snapshot(books)
    with pytest.raises(gl.InsufficientFunds) as again:
        books.transfer(ALICE, ESCROW, 10, key="gift-1")
    assert str(first.value) in str(again.value)
    assert "gift-1" in str(again.value)
    assert snapshot(books) == before
    # ...and other content under that key is still a conflict.
    with pytest.raises(gl.DuplicateKeyConflict):
        books.transfer(ALICE, ESCROW, 11, key="gift-1")
    # open_books, two funds and the failure's KEY entry come before it
    assert books.transfer(ALICE, ESCROW, 10, key="gift-2").id == OPENED + 4


def test_a_key_that_failed_on_an_unknown_account_keeps_failing(book: gl.Ledger) -> None:
    books = open_books(book)
    with pytest.raises(gl.UnknownAccount, match="viewers:dave:coins"):
        books.transfer("platform:coin-supply", "viewers:dave:coins", 10, key="k")
    books.open_account("viewers:dave:coins", "COIN", normal="credit")
    before = snapshot(books)
    with pytest.raises(gl.UnknownAccount, match="viewers:dave:coins"):
        books.transfer("platform:coin-supply", "viewers:dave:coins", 10, key="k")
    assert snapshot(books) == before


def test_a_dry_run_does_not_use_up_its_key(book: gl.Ledger) -> None:
    books = open_books(book)
    fund(books, ALICE, 50)
    preview = books.transfer(ALICE, ESCROW, 10, key="k", dry_run=True)
    real = books.transfer(ALICE, ESCROW, 10, key="k")
    assert (real.id, real.postings) == (preview.id, preview.postings)
    assert books.find("k") == real


def test_find_returns_the_entry_made_under_a_key(book: gl.Ledger) -> None:
    books = open_books(book)
    tx = fund(books, ALICE, 50)
    assert books.find("nope") is None
    keyed = books.transfer(ALICE, ESCROW, 10, key="k")
    assert books.find("k") == keyed != tx
    assert books.balance(ALICE) == Money(40, "COIN")


def test_the_same_content_spelled_differently_replays(book: gl.Ledger) -> None:
    books = open_books(book)
    fund(books, ALICE, 50)
    first = books.transfer(ALICE, ESCROW, 10, key="k", metadata={"a": "1", "b": "2"})
    assert books.transfer(ALICE, ESCROW, 10, key="k", metadata={"b": "2", "a": "1"}) == first
    specs = [gl.debit(ALICE, 5), gl.credit(ESCROW, 5)]
    posted = books.post(specs, key="k2")
    before = snapshot(books)
    assert books.post(tuple(specs), key="k2") == posted
    assert books.post(iter(specs), key="k2") == posted
    assert snapshot(books) == before


def test_a_conversion_that_failed_for_a_missing_trading_account_keeps_failing(
    book: gl.Ledger,
) -> None:
    book.open_account("mint", "DIAMOND", rule=gl.BalanceRule.unrestricted())
    book.open_account("bob:diamonds", "DIAMOND", normal="credit")
    book.open_account("bob:cash", "USD", normal="credit")
    book.open_trading_account("DIAMOND")
    book.transfer("mint", "bob:diamonds", 100)

    def convert(rate: str = "0.01") -> object:
        return book.convert("bob:diamonds", "bob:cash", 100, rate=rate, key="cash-out-1")

    with pytest.raises(gl.UnknownAccount, match="trading:USD"):
        convert()  # remembered: one KEY entry (6), then trading:USD's ACCOUNT entry (7)
    book.open_trading_account("USD")
    before = snapshot(book)
    with pytest.raises(gl.UnknownAccount, match="cash-out-1"):
        convert()
    with pytest.raises(gl.DuplicateKeyConflict):
        convert(rate="0.02")
    assert snapshot(book) == before
    assert book.convert("bob:diamonds", "bob:cash", 100, rate="0.01", key="cash-out-2").id == 8


# -- fingerprints are a stored format ------------------------------------------------------
#
# SQL stores keep each key's fingerprint. If the encoding changed between versions, a retry
# after an upgrade would be refused as DuplicateKeyConflict instead of replayed, so these
# requests pin it: a change here needs a migration, not a new expected value.

_WHEN = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PINNED_FINGERPRINTS = {
    "24c534ed891003b48e2b80de5306651e57d4553a56a805fccbbf8bd68be1bd10": (
        "post",
        [gl.debit("viewers:v1:coins", 10), gl.credit("platform:coin-supply", 10)],
        "",
        None,
        None,
        (),
    ),
    "27b0c52c974e37eaeeb202dbead562f70032a377c288c9fbe04f896b6f2990a6": (
        "post",
        (
            gl.Posting("a:b", gl.Side.DEBIT, 1999, "USD"),
            gl.Posting("c", gl.Side.CREDIT, 1999, "USD"),
        ),
        "memo",
        {"z": 1, "a": True, "n": None, "s": "x"},
        _WHEN,
        (gl.Rate("USD", "EUR", Fraction(9, 10)),),
    ),
    # Changed once, before any release (2026-11-25), when amount spellings and empty
    # metadata were normalised (see test_a_retry_may_spell_an_amount_another_way).
    "9d3fd6e837681d527c613d63544cb073679273cbc829ee96ee7726517e6848a7": (
        "post",
        [
            gl.debit("x", "19.99"),
            gl.credit("y", Decimal("19.99")),
            gl.debit("z", Money("1", "USD")),
        ],
        "",
        {},
        None,
        (),
    ),
    "c43c2abc7bd28dd3530b975a23e957ea2de3ff5e5b7fe9f94092306907835a90": (
        "hold",
        "a",
        "b",
        "5.00",
        _WHEN,
        None,
        "",
        None,
    ),
    "372f1cf9e6c3642d6c46287036428866ae023d1c8c319f3837a0a7541f2bf21c": (
        "send_gift",
        "v",
        "c",
        "rose",
        3,
        [[1, "a"], ("b", None)],
        {"k": [1, 2]},
    ),
}


@pytest.mark.parametrize("expected", sorted(PINNED_FINGERPRINTS))
def test_request_fingerprints_do_not_change_between_versions(expected: str) -> None:
    assert _fingerprint(PINNED_FINGERPRINTS[expected]) == expected


def test_fingerprints_ignore_spelling_but_not_content() -> None:
    specs = [gl.debit("a", 1), gl.credit("b", 1)]
    assert _fingerprint(("post", specs, {"x": 1, "y": 2})) == _fingerprint(
        ("post", tuple(specs), {"y": 2, "x": 1})
    )
    assert _fingerprint(("post", specs)) != _fingerprint(("post", [gl.debit("a", 1)]))
    assert _fingerprint(("s", "ab", "c")) != _fingerprint(("s", "a", "bc"))
    assert _fingerprint(("post", [1])) != _fingerprint(("post", ["1"]))


# -- a retry may spell the same request another way ---------------------------------------


@pytest.mark.parametrize("spelling", [1, "1", "1.00", " 1.0 ", Decimal("1"), Decimal("1.000")])
def test_a_retry_may_spell_an_amount_another_way(book: gl.Ledger, spelling: object) -> None:
    books = open_books(book)
    first = books.transfer("assets:bank", "revenue:sales", 1, key="sale")
    before = snapshot(books)
    again = books.transfer("assets:bank", "revenue:sales", spelling, key="sale", metadata={})  # type: ignore[arg-type]
    assert again == first
    assert snapshot(books) == before


def test_an_amount_the_ledger_refuses_never_matches_a_valid_spelling(book: gl.Ledger) -> None:
    books = open_books(book)
    with pytest.raises(gl.InvalidAmount):
        books.transfer("assets:bank", "revenue:sales", "1e2", key="sale")
    # 100 is not how the refused "1e2" was read: a new request, not a replayed failure.
    with pytest.raises(gl.DuplicateKeyConflict):
        books.transfer("assets:bank", "revenue:sales", 100, key="sale")
    with pytest.raises(gl.InvalidAmount, match="replayed"):
        books.transfer("assets:bank", "revenue:sales", "1e2", key="sale")


def test_holds_and_conversions_replay_under_another_spelling(book: gl.Ledger) -> None:
    books = open_books(book)
    fund(books, ALICE, 1000)
    hold = books.hold(ALICE, ESCROW, "10", key="h")
    assert books.hold(ALICE, ESCROW, Decimal("10.0"), key="h") == hold
    books.transfer("platform:diamond-supply", "creators:bob:diamonds", 1000)
    tx = books.convert("creators:bob:diamonds", "creators:bob:cash", 1000, rate="0.005", key="c")
    before = snapshot(books)
    for rate in ("1/200", Decimal("0.0050"), "0.5%"):
        assert (
            books.convert("creators:bob:diamonds", "creators:bob:cash", "1000", rate=rate, key="c")
            == tx
        )
    assert snapshot(books) == before


def test_a_store_failure_is_never_remembered_as_a_keyed_conversions_outcome(
    book: gl.Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that fails under a keyed convert() is not the request's outcome: the
    key stays free, and the same request succeeds once the store works again."""
    books = open_books(book)
    books.transfer("platform:diamond-supply", "creators:bob:diamonds", 1000)
    head = books.head
    real = type(books)._convert_once

    def failing(self: gl.Ledger, *args: object) -> gl.Transaction:
        raise gl.StoreError("the disk is full")

    monkeypatch.setattr(type(books), "_convert_once", failing)
    with pytest.raises(gl.StoreError):
        books.convert("creators:bob:diamonds", "creators:bob:cash", 1000, rate="0.005", key="c-1")
    assert books.head == head  # nothing journaled, no failure remembered
    monkeypatch.setattr(type(books), "_convert_once", real)
    tx = books.convert("creators:bob:diamonds", "creators:bob:cash", 1000, rate="0.005", key="c-1")
    assert books.balance("creators:bob:cash") == Money("5.00", "USD")
    assert books.find("c-1") == tx
