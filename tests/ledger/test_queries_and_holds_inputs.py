"""Queries and holds: a hold key's replay, a journal read that never blocks writers,
and bad argument types refused with a GiftLedgerError that names the value."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from moneyed import Money

import giftledger as gl

from .helpers import fund, open_books, snapshot

ALICE = "viewers:alice:coins"
ESCROW = "platform:escrow"

Call = Callable[[gl.Ledger], object]


@pytest.fixture(params=["memory", "sqlite"])
def any_book(
    request: pytest.FixtureRequest, tmp_path: Path, clock: gl.ManualClock
) -> Iterator[gl.Ledger]:
    """A ledger on the memory store, then on a SQLite file: both lock their readers."""
    url = "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'book.db'}"
    book = gl.Ledger.open(url, clock=clock)
    yield book
    book.close()


# -- a hold key's replay ------------------------------------------------------------


def test_replaying_a_hold_key_after_the_hold_was_posted_returns_the_hold_as_placed(
    book: gl.Ledger,
) -> None:
    open_books(book)
    fund(book, ALICE, 50)
    placed = book.hold(ALICE, ESCROW, 10, key="h1")
    book.post_hold(placed, 4)
    before = snapshot(book)

    again = book.hold(ALICE, ESCROW, 10, key="h1")

    assert again == placed
    assert again.status is gl.HoldStatus.PENDING
    assert (again.posted_minor, again.resolved_by) == (0, None)
    assert book.get_hold(placed.id).status is gl.HoldStatus.POSTED
    assert snapshot(book) == before


def test_replaying_a_hold_key_after_the_hold_was_voided_returns_the_hold_as_placed(
    book: gl.Ledger,
) -> None:
    open_books(book)
    fund(book, ALICE, 50)
    placed = book.hold(ALICE, ESCROW, 10, key="h1")
    book.void_hold(placed)

    assert book.hold(ALICE, ESCROW, 10, key="h1") == placed
    assert book.get_hold(placed.id).status is gl.HoldStatus.VOIDED


def test_replaying_a_hold_key_after_the_hold_expired_returns_the_hold_as_placed(
    book: gl.Ledger, clock: gl.ManualClock
) -> None:
    open_books(book)
    fund(book, ALICE, 50)
    placed = book.hold(ALICE, ESCROW, 10, timeout=timedelta(hours=1), key="h1")
    clock.advance(timedelta(hours=2))

    assert book.hold(ALICE, ESCROW, 10, timeout=timedelta(hours=1), key="h1") == placed
    book.expire_holds()  # now the journal records the expiry too
    before = snapshot(book)
    assert book.hold(ALICE, ESCROW, 10, timeout=timedelta(hours=1), key="h1") == placed
    assert book.get_hold(placed.id).status is gl.HoldStatus.EXPIRED
    assert snapshot(book) == before


# -- reading the journal without blocking writers ------------------------------------


#: The entries ``_mint`` starts with: the definitions of its two accounts.
M = 2


def _mint(book: gl.Ledger, entries: int) -> None:
    book.open_account("mint", "USD", rule=gl.BalanceRule.unrestricted())
    book.open_account("alice", "USD", normal="credit")
    if entries:
        book.post_many([[gl.debit("mint", 1), gl.credit("alice", 1)]] * entries)


def test_a_half_read_journal_does_not_block_writers_in_other_threads(any_book: gl.Ledger) -> None:
    _mint(any_book, 5)
    entries = any_book.transactions()
    first = next(entries)
    writer = threading.Thread(target=any_book.transfer, args=("mint", "alice", 1), daemon=True)
    try:
        writer.start()
        writer.join(timeout=5)
        assert not writer.is_alive(), "a writer waited for a reader that was not reading"
    finally:
        entries.close()  # before the fix, this releases the lock the writer waits for
        writer.join(timeout=5)
    rest = list(any_book.transactions(2))
    assert [tx.id for tx in [first, *rest]] == list(range(1, M + 7))


def test_a_lazily_read_journal_yields_the_rest_after_another_thread_wrote(
    any_book: gl.Ledger,
) -> None:
    _mint(any_book, 5)
    entries = any_book.transactions()
    first = next(entries)
    writer = threading.Thread(target=any_book.transfer, args=("mint", "alice", 1), daemon=True)
    writer.start()
    writer.join(timeout=5)
    assert not writer.is_alive()
    ids = [tx.id for tx in [first, *entries]]
    # the end is the head when iteration began: the new entry is not included
    assert ids == list(range(1, M + 6))
    assert [tx.id for tx in any_book.transactions()] == list(range(1, M + 7))


def test_a_journal_read_across_chunks_while_writing_never_repeats_or_skips_an_entry(
    book: gl.Ledger,
) -> None:
    _mint(book, 2_500)
    read: list[int] = []
    for tx in book.transactions(3):
        read.append(tx.id)
        if tx.id % 700 == 0:  # write between and inside chunks
            book.transfer("mint", "alice", 1)
    assert read == list(range(3, M + 2_501))  # to the head when iteration began
    assert list(book.transactions(3)) == list(book.transactions())[2:]


def test_a_loop_that_writes_for_each_entry_it_reads_ends_at_the_head_it_started_from(
    book: gl.Ledger,
) -> None:
    _mint(book, 2_100)  # past two read chunks
    read = [tx.id for tx in book.transactions() if book.transfer("mint", "alice", 1)]
    assert read == list(range(1, M + 2_101))
    assert book.head[0] == 2 * (M + 2_100)


def test_a_bounded_journal_read_while_writing_yields_exactly_its_range(book: gl.Ledger) -> None:
    _mint(book, 2_500)
    read: list[int] = []
    for tx in book.transactions(999, 2_002):
        read.append(tx.id)
        if len(read) % 400 == 0:
            book.transfer("mint", "alice", 1)
    assert read == list(range(999, 2_002))
    assert [tx.id for tx in book.transactions(-5, 4)] == [1, 2, 3]
    assert list(book.transactions(2_600)) == []
    assert list(book.transactions(5, 5)) == []


def test_bounds_past_any_entry_id_count_every_entry(any_book: gl.Ledger) -> None:
    _mint(any_book, 3)
    assert any_book.balance("alice", recorded_through=10**30) == Money(3, "USD")
    assert any_book.history("alice", after=10**30).items == ()
    assert [tx.id for tx in any_book.transactions(1, 10**30)] == list(range(1, M + 4))


# -- bad argument types -------------------------------------------------------------

NAIVE = datetime(2026, 1, 1)  # a naive datetime: the bad input

# (id, the call, the error, text the message must contain)
BAD: list[tuple[str, Call, type[gl.GiftLedgerError], str]] = [
    ("balance-name-list", lambda b: b.balance(["a"]), gl.UnknownAccount, "['a']"),  # type: ignore[arg-type]
    ("balance-name-none", lambda b: b.balance(None), gl.UnknownAccount, "None"),  # type: ignore[arg-type]
    (
        "balance-through-text",
        lambda b: b.balance(ALICE, recorded_through="3"),  # type: ignore[arg-type]
        gl.InvalidArgument,
        "recorded_through '3'",
    ),
    (
        "balance-through-bool",
        lambda b: b.balance(ALICE, recorded_through=True),
        gl.InvalidArgument,
        "recorded_through True",
    ),
    (
        "balance-through-negative",
        lambda b: b.balance(ALICE, recorded_through=-1),
        gl.InvalidArgument,
        "recorded_through -1",
    ),
    ("balance-at-naive", lambda b: b.balance(ALICE, at=NAIVE), gl.InvalidArgument, "2026-01-01"),
    ("balance-at-text", lambda b: b.balance(ALICE, at="2026"), gl.InvalidArgument, "'2026'"),  # type: ignore[arg-type]
    ("account-balance-list", lambda b: b.account_balance(["a"]), gl.UnknownAccount, "['a']"),  # type: ignore[arg-type]
    ("available-list", lambda b: b.available(["a"]), gl.UnknownAccount, "['a']"),  # type: ignore[arg-type]
    ("history-list", lambda b: b.history(["a"]), gl.UnknownAccount, "['a']"),  # type: ignore[arg-type]
    ("get-hold-list", lambda b: b.get_hold([1]), gl.UnknownHold, "[1]"),  # type: ignore[arg-type]
    ("get-hold-bool", lambda b: b.get_hold(True), gl.UnknownHold, "True"),
    ("find-list", lambda b: b.find([1]), gl.InvalidArgument, "[1]"),  # type: ignore[arg-type]
    ("find-int", lambda b: b.find(1), gl.InvalidArgument, "1"),  # type: ignore[arg-type]
    ("transactions-start-text", lambda b: list(b.transactions("1")), gl.InvalidArgument, "'1'"),  # type: ignore[arg-type]
    (
        "transactions-stop-text",
        lambda b: list(b.transactions(1, "3")),  # type: ignore[arg-type]
        gl.InvalidArgument,
        "'3'",
    ),
    ("transactions-start-bool", lambda b: list(b.transactions(True)), gl.InvalidArgument, "True"),
    ("holds-account-list", lambda b: b.holds(["a"]), gl.InvalidArgument, "['a']"),  # type: ignore[arg-type]
    ("holds-pending-text", lambda b: b.holds(pending_only="no"), gl.InvalidArgument, "'no'"),  # type: ignore[arg-type]
    ("hold-debit-list", lambda b: b.hold(["a"], ESCROW, 1), gl.UnknownAccount, "['a']"),  # type: ignore[arg-type]
    (
        "hold-credit-list-with-key",
        lambda b: b.hold(ALICE, ["e"], 1, key="k"),  # type: ignore[arg-type]
        gl.UnknownAccount,
        "['e']",
    ),
    ("post-hold-list", lambda b: b.post_hold([1]), gl.UnknownHold, "[1]"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("call", "error", "text"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_a_wrong_argument_type_raises_naming_the_value_and_changes_nothing(
    book: gl.Ledger, call: Call, error: type[gl.GiftLedgerError], text: str
) -> None:
    open_books(book)
    fund(book, ALICE, 50)
    book.hold(ALICE, ESCROW, 10)
    before = snapshot(book)
    with pytest.raises(error) as caught:
        call(book)
    assert text in str(caught.value)
    assert snapshot(book) == before


def test_transactions_refuses_a_bad_bound_when_called_not_when_iterated(book: gl.Ledger) -> None:
    with pytest.raises(gl.InvalidArgument, match="start '1' must be an int"):
        book.transactions("1")  # type: ignore[arg-type]
